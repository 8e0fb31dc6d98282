"""Update handling: Pyeonji beside a bare python-telegram-bot echo bot, same fake server.

    .venv/bin/python -m benchmarks.updates            # 1,000 members, 10,000 updates
    .venv/bin/python -m benchmarks.updates --quick    # 200 members, 2,000 updates

Each bot runs as its own process (`python -m bot run`), polling the sandbox Bot API that runs
here, so the time from an update's arrival to the bot's answer is read on one clock. Two
measures per bot: throughput with every update queued at once, and latency (p50, p99) with
updates arriving at a steady 100 per second. The two bots run interleaved (A B A B A B).
Members are registered and have consented, so Pyeonji takes its full path (flood guard,
member lookup, roles, catalogs, SQLite).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from benchmarks.machine import describe_machine, interleaved, print_table
from bot.storage.database import Database
from fakebotapi.server import SANDBOX_TOKEN, FakeBotApi
from tests.support.seeding import seed_subscribers

FIRST_USER = 2_000_000
MESSAGES = ["/help", "/latest", "hello there", "/whoami"]


async def start_process(
    sandbox: FakeBotApi, module: str, database: Path
) -> asyncio.subprocess.Process:
    environment = {
        **os.environ,
        "BOT_TOKEN": SANDBOX_TOKEN,
        "BOT_API_URL": sandbox.base_url,
        "BOT_API_FILE_URL": sandbox.base_file_url,
        "DATABASE_PATH": str(database),
        "LOG_LEVEL": "WARNING",
        "SEND_RATE": "1000",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *(["run"] if module == "bot" else []),
        env=environment,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await sandbox.wait_for_calls("getUpdates", 1, timeout=60)
    return process


def replies_since(sandbox: FakeBotApi, start: int) -> int:
    return sum(1 for call in sandbox.calls[start:] if call.method == "sendMessage" and call.ok)


async def burst(sandbox: FakeBotApi, members: list[int], count: int) -> float:
    """Queue `count` updates at once; updates per second until the last answer."""
    mark = len(sandbox.calls)
    started = time.monotonic()
    for index in range(count):
        await sandbox.user(members[index % len(members)]).send(MESSAGES[index % len(MESSAGES)])
    await sandbox.wait_until(lambda: replies_since(sandbox, mark) >= count, timeout=600)
    return count / (time.monotonic() - started)


async def steady(
    sandbox: FakeBotApi, members: list[int], rate: float, seconds: float
) -> list[float]:
    """Send at `rate` per second; each update's latency until its answer, in ms."""
    mark = len(sandbox.calls)
    sent_at: dict[int, list[float]] = {}
    total = int(rate * seconds)
    started = time.monotonic()
    for index in range(total):
        due = started + index / rate
        if (wait := due - time.monotonic()) > 0:
            await asyncio.sleep(wait)
        member = members[index % len(members)]
        sent_at.setdefault(member, []).append(time.monotonic())
        await sandbox.user(member).send(MESSAGES[index % len(MESSAGES)])
    await sandbox.wait_until(lambda: replies_since(sandbox, mark) >= total, timeout=120)
    answered: dict[int, list[float]] = {}
    for call in sandbox.calls[mark:]:
        if call.method == "sendMessage" and call.ok and call.chat_id is not None:
            answered.setdefault(call.chat_id, []).append(call.at)
    latencies = []
    for member, times in sent_at.items():  # each member's answers come in order
        replies = answered.get(member, [])
        latencies += [(a - s) * 1000 for s, a in zip(times, replies, strict=False)]
    return latencies


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100)[int(share * 100) - 1]


async def measure(module: str, members: list[int], count: int, folder: Path) -> dict[str, float]:
    sandbox = FakeBotApi(record_calls=True)
    await sandbox.start()
    database = folder / f"{module.replace('.', '-')}-{time.monotonic_ns()}.sqlite3"
    if module == "bot":
        seeded = Database(database)
        await seeded.open()
        await seed_subscribers(seeded, members)
        await seeded.close()
    for member in members:
        sandbox.user(member, first_name="Member", language_code="en")
    process = await start_process(sandbox, module, database)
    try:
        throughput = await burst(sandbox, members, count)
        latencies = await steady(sandbox, members, rate=100, seconds=max(10, count / 500))
    finally:
        process.terminate()
        await process.wait()
        await sandbox.stop()
    return {
        "throughput": throughput,
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
        "answered": len(latencies),
    }


async def main(quick: bool, pairs: int) -> None:
    member_count, update_count = (200, 2_000) if quick else (1_000, 10_000)
    members = list(range(FIRST_USER, FIRST_USER + member_count))
    runs: dict[str, list[dict[str, float]]] = {"bot": [], "benchmarks.echo_bot": []}
    with tempfile.TemporaryDirectory() as folder:

        def side(module: str) -> Callable[[], Awaitable[float]]:
            async def run() -> float:
                result = await measure(module, members, update_count, Path(folder))
                runs[module].append(result)
                return result["throughput"]

            return run

        comparison = await interleaved(side("bot"), side("benchmarks.echo_bot"), pairs)
    ours, echo = runs["bot"], runs["benchmarks.echo_bot"]

    def median(results: list[dict[str, float]], key: str) -> float:
        return statistics.median(result[key] for result in results)

    print(f"machine: {describe_machine()}")
    print_table(
        f"{member_count:,} members, {update_count:,} updates at once, then 100/s; "
        f"medians of {pairs} interleaved runs each",
        [
            ("Pyeonji throughput", f"{median(ours, 'throughput'):.0f} updates/s"),
            ("echo bot throughput", f"{median(echo, 'throughput'):.0f} updates/s"),
            ("Pyeonji / echo bot, median of pairs", comparison.describe()),
            (
                "Pyeonji latency at 100/s, p50 / p99",
                f"{median(ours, 'p50'):.1f} / {median(ours, 'p99'):.1f} ms",
            ),
            (
                "echo latency at 100/s, p50 / p99",
                f"{median(echo, 'p50'):.1f} / {median(echo, 'p99'):.1f} ms",
            ),
        ],
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller numbers")
    parser.add_argument("--pairs", type=int, default=3, help="interleaved pairs (at least 3)")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.quick, arguments.pairs))
