"""Update handling: Pyeonji beside a bare python-telegram-bot echo bot, each bot's own ceiling.

    .venv/bin/python -m benchmarks.updates            # 1,000 members, about 4 minutes
    .venv/bin/python -m benchmarks.updates --quick    # 200 members, about 40 seconds

Three kinds of process: this one only measures; each bot runs as its own process
(`python -m bot run`, `python -m benchmarks.echo_bot`); and each bot has its own driver
process (benchmarks/update_driver.py) holding the sandbox Bot API and the members who send the
updates, so an update's arrival and the bot's answer are read on one clock.

Per run of a bot: (1) throughput, every update queued at once, both as wall-clock updates per
second and as updates per CPU-second of the bot's process (its utime + stime from /proc): the
second is the bot's own ceiling on one core, whatever the driver does (other jobs on a shared
machine still inflate CPU time somewhat, hence the interleaved ratio); the driver's CPU share
tells whether the wall-clock figure was the driver's limit instead. (2) latency, p50 and p99
from an update's arrival at the sandbox to the bot's answer, at a steady 100 and then 300
updates per second. The two bots run interleaved (A B A B A B, both processes started once
and warmed up), and the table gives the median ratio Pyeonji / echo with its spread. Members
are registered and have consented, so Pyeonji takes its full path (flood guard, member lookup,
roles, catalogs, SQLite).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.machine import Comparison, cpu_seconds, describe_machine, interleaved, print_table
from bot.storage.database import Database
from fakebotapi.server import SANDBOX_TOKEN
from tests.support.seeding import seed_subscribers

FIRST_USER = 2_000_000
RATES = (100, 300)


@dataclass
class Run:
    """One run of one bot: the burst, then each steady rate."""

    throughput: float  # updates per second, wall clock
    ceiling: float  # updates per CPU-second of the bot's process
    bot_share: float  # the bot's CPU time over the burst's wall time (1.0: one full core)
    driver_share: float  # the same for the driver process
    latencies: dict[int, list[float]]  # rate -> ms
    sent_rate: dict[int, float]  # rate -> the rate the driver actually kept
    steady_share: dict[int, float]  # rate -> the bot's CPU share while that rate lasted


@dataclass
class Side:
    """A bot and its driver, each its own process, alive across all of that bot's runs."""

    module: str
    driver: asyncio.subprocess.Process
    bot: asyncio.subprocess.Process
    runs: list[Run] = field(default_factory=list)

    async def ask(self, do: str, **arguments: Any) -> dict[str, Any]:
        assert self.driver.stdin is not None and self.driver.stdout is not None
        self.driver.stdin.write(json.dumps({"do": do, **arguments}).encode() + b"\n")
        await self.driver.stdin.drain()
        line = await self.driver.stdout.readline()
        if not line:
            raise RuntimeError(f"the driver for {self.module} stopped")
        result: dict[str, Any] = json.loads(line)
        return result

    def cpu(self) -> tuple[float, float]:
        return cpu_seconds(self.bot.pid), cpu_seconds(self.driver.pid)

    async def stop(self) -> None:
        for process in (self.bot, self.driver):
            if process.returncode is None:
                process.terminate()
                await process.wait()


async def start_side(module: str, members: list[int], folder: Path) -> Side:
    database = folder / f"{module.replace('.', '-')}.sqlite3"
    if module == "bot":
        seeded = Database(database)
        await seeded.open()
        await seed_subscribers(seeded, members)
        await seeded.close()
    driver = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.update_driver",
        "--first-user",
        str(members[0]),
        "--members",
        str(len(members)),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert driver.stdout is not None
    urls = json.loads(await driver.stdout.readline())
    environment = {
        **os.environ,
        "BOT_TOKEN": SANDBOX_TOKEN,
        "BOT_API_URL": urls["base_url"],
        "BOT_API_FILE_URL": urls["base_file_url"],
        "DATABASE_PATH": str(database),
        "LOG_LEVEL": "WARNING",
        "SEND_RATE": "1000",
    }
    bot = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *(["run"] if module == "bot" else []),
        env=environment,
        stderr=asyncio.subprocess.DEVNULL,
    )
    side = Side(module, driver, bot)
    try:
        await side.ask("ready")
    except BaseException:
        await side.stop()
        raise
    return side


async def measure(side: Side, count: int, seconds: float) -> Run:
    bot_before, driver_before = side.cpu()
    burst = await side.ask("burst", count=count)
    bot_after, driver_after = side.cpu()
    wall = burst["seconds"]
    latencies: dict[int, list[float]] = {}
    sent_rate: dict[int, float] = {}
    steady_share: dict[int, float] = {}
    for rate in RATES:
        cpu_before, started = side.cpu()[0], time.monotonic()
        steady = await side.ask("steady", rate=rate, seconds=seconds)
        steady_share[rate] = (side.cpu()[0] - cpu_before) / (time.monotonic() - started)
        latencies[rate] = steady["latencies"]
        sent_rate[rate] = len(steady["latencies"]) / steady["sent_in"]
    return Run(
        throughput=count / wall,
        ceiling=count / (bot_after - bot_before),
        bot_share=(bot_after - bot_before) / wall,
        driver_share=(driver_after - driver_before) / wall,
        latencies=latencies,
        sent_rate=sent_rate,
        steady_share=steady_share,
    )


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100)[int(share * 100) - 1]


async def main(quick: bool, pairs: int) -> None:
    member_count, update_count, seconds = (200, 400, 1.5) if quick else (1_000, 5_000, 10.0)
    members = list(range(FIRST_USER, FIRST_USER + member_count))
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        started_sides = await asyncio.gather(
            *(start_side(m, members, Path(folder)) for m in ("bot", "benchmarks.echo_bot")),
            return_exceptions=True,
        )
        sides = [side for side in started_sides if isinstance(side, Side)]
        try:
            for failure in started_sides:
                if isinstance(failure, BaseException):
                    raise failure
            for side in sides:  # first-use costs (imports, caches) before anything counts
                await side.ask("burst", count=min(update_count, 2 * member_count))

            def run(side: Side) -> Callable[[], Awaitable[float]]:
                async def one() -> float:
                    side.runs.append(await measure(side, update_count, seconds))
                    return side.runs[-1].throughput

                return one

            throughput = await interleaved(run(sides[0]), run(sides[1]), pairs)
        finally:
            for side in sides:
                await side.stop()
    ours, echo = sides[0].runs, sides[1].runs
    ceiling = Comparison([r.ceiling for r in ours], [r.ceiling for r in echo])

    def median(runs: list[Run], figure: Callable[[Run], float]) -> float:
        return statistics.median(figure(r) for r in runs)

    def both(figure: Callable[[Run], float], form: str) -> tuple[str, str]:
        return form.format(median(ours, figure)), form.format(median(echo, figure))

    def share_at(rate: int) -> Callable[[Run], float]:
        return lambda run: run.steady_share[rate]

    def latency(runs: list[Run], rate: int) -> str:
        pooled = [ms for r in runs for ms in r.latencies[rate]]
        return f"{percentile(pooled, 0.50):.1f} / {percentile(pooled, 0.99):.1f} ms"

    rows: list[tuple[str, ...]] = [
        (
            f"throughput, {update_count:,} queued at once (wall clock)",
            *both(lambda r: r.throughput, "{:.0f} updates/s"),
        ),
        ("  Pyeonji / echo, median of pairs", throughput.describe(), ""),
        (
            "ceiling on one core: updates per CPU-second of the bot process",
            *both(lambda r: r.ceiling, "{:.0f} updates/s"),
        ),
        ("  Pyeonji / echo, median of pairs", ceiling.describe(), ""),
        (
            "CPU share in the burst: the bot (1.00 = one core)",
            *both(lambda r: r.bot_share, "{:.2f}"),
        ),
        ("CPU share in the burst: its driver", *both(lambda r: r.driver_share, "{:.2f}")),
    ]
    for rate in RATES:
        rows.append(
            (f"latency at a steady {rate}/s, p50 / p99", latency(ours, rate), latency(echo, rate))
        )
        rows.append(
            (
                f"  CPU share of the bot at {rate}/s",
                *both(share_at(rate), "{:.2f}"),
            )
        )
        kept = min(r.sent_rate[rate] for r in ours + echo)
        if kept < rate * 0.95:
            rows.append((f"  (the driver kept only {kept:.0f}/s at worst)", "", ""))
    print(f"machine: {describe_machine()}; load average {os.getloadavg()[0]:.2f} at the end")
    print_table(
        f"{member_count:,} members; {update_count:,} updates at once, then {seconds:g} s at "
        f"each steady rate; medians of {pairs} interleaved runs each (latencies: all runs "
        f"pooled); {time.monotonic() - started:.0f} s in all",
        rows,
        header=("measure", "Pyeonji", "bare echo bot"),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller numbers")
    parser.add_argument("--pairs", type=int, default=3, help="interleaved pairs (at least 3)")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.quick, arguments.pairs))
