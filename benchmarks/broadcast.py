"""Broadcast throughput of the outbox sender against the sandbox Bot API in another process.

    .venv/bin/python -m benchmarks.broadcast            # full run (about 7 minutes)
    .venv/bin/python -m benchmarks.broadcast --quick    # smaller numbers, same shape

Measures, in one run: (1) 10,000 subscribers with the server limiting at 30 messages/s like
Telegram: sustained rate and 429s at steady state; (2) paid-broadcast mode against a 1000/s
limit, beside a bare python-telegram-bot loop with the same concurrency, the two run
interleaved (A B A B A B) so that background load lands on both; (3) enqueueing
100,000 outbox rows; and the peak memory of this process, which runs the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from telegram import Bot
from telegram.error import RetryAfter
from telegram.request import HTTPXRequest

from benchmarks.machine import (
    Comparison,
    describe_machine,
    interleaved,
    peak_rss_mib,
    print_table,
)
from bot.app import RUNTIME_KEY, build_application
from bot.clock import SystemClock
from bot.config import load_config
from bot.delivery.sender import MAX_IN_FLIGHT
from bot.i18n import Translator
from bot.runtime import Runtime
from bot.services.broadcasts import Audience, BroadcastService
from bot.storage.broadcasts import BroadcastRepository
from bot.storage.database import Database
from fakebotapi.server import SANDBOX_TOKEN
from tests.support.seeding import seed_subscribers

FIRST_USER = 1_000_000


class Sandbox:
    """The fake Bot API in its own process, so it does not share the bot's CPU time slices."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fakebotapi.server",
                "--port",
                "0",
                "--open-chats",
                "--no-record",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()
        self.root = self.base_url.removesuffix("/bot")
        self.client = httpx.Client(base_url=self.root, trust_env=False)

    def control(self, action: str, body: dict[str, object] | None = None) -> None:
        self.client.post(f"/sandbox/{action}", json=body or {}).raise_for_status()

    def stats(self) -> dict[str, int]:
        result = self.client.get("/sandbox/stats").json()["result"]
        return {"sent": int(result["messages_sent"]), "limited": int(result["rate_limited"])}

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


async def sender_run(
    sandbox: Sandbox, folder: Path, count: int, **settings: str
) -> dict[str, float]:
    """Queue one announcement to `count` subscribers and follow the sandbox's counters."""
    config = load_config(
        {
            "BOT_TOKEN": SANDBOX_TOKEN,
            "BOT_API_URL": sandbox.base_url,
            "BOT_API_FILE_URL": sandbox.root + "/file/bot",
            "DATABASE_PATH": str(folder / f"bot-{time.monotonic_ns()}.sqlite3"),
            **settings,
        },
        dotenv_path=folder / "none.env",
    )
    application = build_application(config)
    await application.initialize()
    assert application.post_init is not None
    await application.post_init(application)
    runtime: Runtime = application.bot_data[RUNTIME_KEY]
    await seed_subscribers(runtime.db, range(FIRST_USER, FIRST_USER + count))
    sandbox.control("reset_stats")
    started = time.monotonic()
    await runtime.broadcasts.start_announcement(1, Audience.ALL, None, "Benchmark announcement")
    samples: list[tuple[float, int, int]] = []
    while True:
        await asyncio.sleep(0.5)
        stats = sandbox.stats()
        samples.append((time.monotonic() - started, stats["sent"], stats["limited"]))
        if stats["sent"] >= count:
            break
    elapsed = samples[-1][0]
    sender_stats = runtime.sender.stats
    await runtime.sender.stop()
    await application.shutdown()
    assert application.post_shutdown is not None
    await application.post_shutdown(application)
    # Steady state: leave out the first two seconds (start-up) and the last sample.
    steady = [s for s in samples if s[0] >= 2.0]
    first, last = steady[0], steady[-2] if len(steady) > 2 else steady[-1]
    return {
        "elapsed": elapsed,
        "rate": count / elapsed,
        "steady_rate": (last[1] - first[1]) / (last[0] - first[0]),
        "limited_total": samples[-1][2],
        "limited_steady": last[2] - first[2],
        "retried": sender_stats.retried,
        "failed": sender_stats.failed,
    }


async def bare_loop(sandbox: Sandbox, count: int, concurrency: int) -> dict[str, float]:
    """The same number of messages through python-telegram-bot alone, `concurrency` at once."""
    bot = Bot(
        SANDBOX_TOKEN,
        base_url=sandbox.base_url,
        request=HTTPXRequest(connection_pool_size=concurrency + 4, pool_timeout=30.0),
    )
    await bot.initialize()
    slots = asyncio.Semaphore(concurrency)
    limited = 0

    async def send(chat_id: int) -> None:
        nonlocal limited
        async with slots:
            try:
                await bot.send_message(
                    chat_id, "Benchmark announcement", allow_paid_broadcast=True
                )
            except RetryAfter:
                limited += 1

    sandbox.control("reset_stats")
    started = time.monotonic()
    await asyncio.gather(*(send(FIRST_USER + i) for i in range(count)))
    elapsed = time.monotonic() - started
    await bot.shutdown()
    return {"elapsed": elapsed, "rate": (count - limited) / elapsed, "limited": limited}


async def enqueue_run(folder: Path, count: int) -> float:
    """Seconds to queue one announcement to `count` subscribers (one transaction)."""
    database = Database(folder / "enqueue.sqlite3")
    await database.open()
    await seed_subscribers(database, range(FIRST_USER, FIRST_USER + count))
    service = BroadcastService(
        BroadcastRepository(database), Translator(), SystemClock(), "Asia/Seoul", lambda: None
    )
    started = time.monotonic()
    _, queued = await service.start_announcement(1, Audience.ALL, "공지", "Announcement")
    elapsed = time.monotonic() - started
    await database.close()
    assert queued == count
    return elapsed


async def paid_comparison(sandbox: Sandbox, folder: Path, count: int, pairs: int) -> Comparison:
    """Paid-mode sender against the bare loop, interleaved (A B A B ...): rates in msg/s."""
    sandbox.control("rate_limit", {"per_second": 1000})

    async def sender() -> float:
        return (await sender_run(sandbox, folder, count, PAID_BROADCAST="true"))["rate"]

    async def bare() -> float:
        return (await bare_loop(sandbox, count, concurrency=MAX_IN_FLIGHT))["rate"]

    return await interleaved(sender, bare, pairs)


def paid_rows(paid: Comparison) -> list[tuple[str, str]]:
    return [
        ("outbox sender rate, median", f"{statistics.median(paid.a):.0f} msg/s"),
        (
            f"bare PTB loop rate ({MAX_IN_FLIGHT} concurrent), median",
            f"{statistics.median(paid.b):.0f} msg/s",
        ),
        ("sender / bare loop, median of pairs", paid.describe()),
    ]


async def paid_only(count: int, pairs: int) -> None:
    """Only scenario 2, for measuring changes to the paid path."""
    sandbox = Sandbox()
    try:
        with tempfile.TemporaryDirectory() as folder_name:
            paid = await paid_comparison(sandbox, Path(folder_name), count, pairs)
    finally:
        sandbox.close()
    print(f"machine: {describe_machine()}")
    print_table(
        f"{count:,} messages, paid broadcast, server limit 1000 messages/s, interleaved",
        paid_rows(paid),
    )


async def main(quick: bool, pairs: int) -> None:
    limited_count = 600 if quick else 10_000
    paid_count = 3_000 if quick else 10_000
    enqueue_count = 100_000
    sandbox = Sandbox()
    try:
        with tempfile.TemporaryDirectory() as folder_name:
            folder = Path(folder_name)
            sandbox.control("rate_limit", {"per_second": 30})
            limited = await sender_run(sandbox, folder, limited_count, SEND_RATE="30")
            paid = await paid_comparison(sandbox, folder, paid_count, pairs)
            enqueue_seconds = await enqueue_run(folder, enqueue_count)
    finally:
        sandbox.close()

    print(f"machine: {describe_machine()}")
    print_table(
        f"1. {limited_count:,} subscribers, server limit 30 messages/s",
        [
            ("time to send all", f"{limited['elapsed']:.1f} s"),
            (
                "sustained rate (steady state)",
                f"{limited['steady_rate']:.2f} msg/s "
                f"({limited['steady_rate'] / 30:.1%} of the limit)",
            ),
            ("429 answers at steady state", f"{limited['limited_steady']:.0f}"),
            ("429 answers in all", f"{limited['limited_total']:.0f}"),
        ],
    )
    print_table(
        f"2. {paid_count:,} messages, paid broadcast, server limit 1000 messages/s, interleaved",
        paid_rows(paid),
    )
    print_table(
        "3. Enqueueing and memory",
        [
            (f"enqueue {enqueue_count:,} outbox rows", f"{enqueue_seconds:.2f} s"),
            ("peak RSS of the bot process", f"{peak_rss_mib():.0f} MiB"),
        ],
    )
    print(
        json.dumps(
            {
                "limited": limited,
                "paid_sender_rates": paid.a,
                "paid_bare_rates": paid.b,
                "enqueue_seconds": enqueue_seconds,
                "peak_rss_mib": peak_rss_mib(),
            }
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller numbers, about a minute")
    parser.add_argument("--paid-only", action="store_true", help="only the paid scenario")
    parser.add_argument("--pairs", type=int, default=3, help="interleaved pairs (at least 3)")
    arguments = parser.parse_args()
    if arguments.paid_only:
        asyncio.run(paid_only(3_000 if arguments.quick else 10_000, arguments.pairs))
    else:
        asyncio.run(main(arguments.quick, arguments.pairs))
