"""Broadcast throughput of the outbox sender against the sandbox Bot API in another process.

    .venv/bin/python -m benchmarks.broadcast            # full run (about 7 minutes)
    .venv/bin/python -m benchmarks.broadcast --quick    # smaller numbers, same shape

Measures, in one run: (1) 10,000 subscribers with the server limiting at 30 messages/s like
Telegram: sustained rate and 429s at steady state; (2) paid-broadcast mode against a 1000/s
limit, beside a bare python-telegram-bot loop with the same concurrency, the two run
interleaved (A B A B A B) so that background load lands on both; (3) enqueueing
100,000 outbox rows; (4) replies during a broadcast: the same 30/s limit while members send
commands at 2/s to the running bot (polling), so replies and the outbox share one budget:
429s, reply latency and the broadcast's rate; and the peak memory of this process.

    .venv/bin/python -m benchmarks.broadcast --replies-only    # only scenario 4
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
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


def _command_update(message_id: int, user_id: int, text: str) -> dict[str, object]:
    """A private message as Telegram delivers it (the sandbox opens the chat on demand)."""
    person = {"id": user_id, "is_bot": False, "first_name": "Member", "language_code": "en"}
    return {
        "message": {
            "message_id": message_id,
            "from": person,
            "chat": {"id": user_id, "type": "private", "first_name": "Member"},
            "date": int(time.time()),
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        }
    }


def percentile(values: list[float], share: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(share * 100) - 1]


async def replies_during_broadcast(
    sandbox: Sandbox, folder: Path, count: int, command_rate: float = 2.0, limit: int = 30
) -> dict[str, float]:
    """A `count`-recipient broadcast at the `limit`/s server limit while members send /help.

    The bot runs whole (polling, handlers, the shared budget); commands are injected into the
    sandbox at `command_rate` per second, each by one of 20 members who are also recipients.
    A reply's latency runs from its injection to Telegram's answer to the reply.
    """
    sandbox.control("rate_limit", {"per_second": limit})
    config = load_config(
        {
            "BOT_TOKEN": SANDBOX_TOKEN,
            "BOT_API_URL": sandbox.base_url,
            "BOT_API_FILE_URL": sandbox.root + "/file/bot",
            "DATABASE_PATH": str(folder / f"replies-{time.monotonic_ns()}.sqlite3"),
            "SEND_RATE": str(limit),
            "LOG_LEVEL": "WARNING",
        },
        dotenv_path=folder / "none.env",
    )
    application = build_application(config)
    runtime: Runtime = application.bot_data[RUNTIME_KEY]
    members = [FIRST_USER + i * (count // 20) for i in range(20)]
    injected: dict[int, list[float]] = {member: [] for member in members}
    answered: dict[int, list[float]] = {member: [] for member in members}
    limiter = application.bot.rate_limiter
    assert limiter is not None
    process_request = limiter.process_request

    async def timed(*args: object, **kwargs: object) -> object:
        result = await process_request(*args, **kwargs)  # type: ignore[arg-type]
        data = kwargs.get("data")
        if kwargs.get("endpoint") == "sendMessage" and isinstance(data, dict):
            chat = data.get("chat_id")
            if chat in answered:
                answered[chat].append(time.monotonic())
        return result

    limiter.process_request = timed  # type: ignore[method-assign]
    await application.initialize()
    assert application.post_init is not None
    await application.post_init(application)
    await seed_subscribers(runtime.db, range(FIRST_USER, FIRST_USER + count))
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    sandbox.control("reset_stats")
    started = time.monotonic()
    await runtime.broadcasts.start_announcement(1, Audience.ALL, None, "Benchmark announcement")
    message_ids = itertools.count(1)

    async def members_typing() -> None:
        for turn in itertools.count():
            due = started + turn / command_rate
            if (wait := due - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            member = members[turn % len(members)]
            injected[member].append(time.monotonic())
            await asyncio.to_thread(
                sandbox.control, "updates", _command_update(next(message_ids), member, "/help")
            )

    typing = asyncio.create_task(members_typing())
    samples: list[tuple[float, int]] = []
    while runtime.sender.stats.sent < count:
        await asyncio.sleep(0.5)
        samples.append((time.monotonic() - started, runtime.sender.stats.sent))
    elapsed = time.monotonic() - started
    typing.cancel()
    stats = await asyncio.to_thread(sandbox.stats)
    await application.updater.stop()
    await application.stop()
    assert application.post_stop is not None
    await application.post_stop(application)
    await application.shutdown()
    assert application.post_shutdown is not None
    await application.post_shutdown(application)
    latencies = [
        answer - sent
        for member in members
        for sent, answer in zip(injected[member], answered[member], strict=False)
    ]
    replies = sum(len(times) for times in answered.values())
    steady = [s for s in samples if s[0] >= 2.0]
    first, last = steady[0], steady[-2] if len(steady) > 2 else steady[-1]
    reply_rate = replies / elapsed
    return {
        "elapsed": elapsed,
        "limited": stats["limited"],
        "replies": replies,
        "commands": sum(len(times) for times in injected.values()),
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
        "broadcast_rate": (last[1] - first[1]) / (last[0] - first[0]),
        "left_by_replies": limit - reply_rate,
    }


def replies_rows(result: dict[str, float]) -> list[tuple[str, str]]:
    share = result["broadcast_rate"] / result["left_by_replies"]
    return [
        ("429 answers (goal 0)", f"{result['limited']:.0f}"),
        (
            "commands answered during the broadcast",
            f"{result['replies']:.0f} of {result['commands']:.0f}",
        ),
        (
            "reply latency p50 / p99 (goal p99 < 1.5 s)",
            f"{result['p50'] * 1000:.0f} / {result['p99'] * 1000:.0f} ms",
        ),
        (
            "broadcast rate, steady state (goal >= 95% of what replies leave)",
            f"{result['broadcast_rate']:.2f} msg/s ({share:.1%} of "
            f"{result['left_by_replies']:.2f})",
        ),
        ("time to send the broadcast", f"{result['elapsed']:.1f} s"),
    ]


async def replies_only(count: int) -> None:
    """Only scenario 4."""
    sandbox = Sandbox()
    try:
        with tempfile.TemporaryDirectory() as folder_name:
            result = await replies_during_broadcast(sandbox, Path(folder_name), count)
    finally:
        sandbox.close()
    print(f"machine: {describe_machine()}")
    print_table(
        f"4. Replies during a broadcast: {count:,} recipients, server limit 30 messages/s, "
        "members send /help at 2/s",
        replies_rows(result),
    )


async def main(quick: bool, pairs: int) -> None:
    limited_count = 600 if quick else 10_000
    paid_count = 3_000 if quick else 10_000
    enqueue_count = 100_000
    replies_count = 600 if quick else 10_000
    sandbox = Sandbox()
    try:
        with tempfile.TemporaryDirectory() as folder_name:
            folder = Path(folder_name)
            sandbox.control("rate_limit", {"per_second": 30})
            limited = await sender_run(sandbox, folder, limited_count, SEND_RATE="30")
            paid = await paid_comparison(sandbox, folder, paid_count, pairs)
            enqueue_seconds = await enqueue_run(folder, enqueue_count)
            replies = await replies_during_broadcast(sandbox, folder, replies_count)
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
    print_table(
        f"4. Replies during a broadcast: {replies_count:,} recipients, server limit 30 "
        "messages/s, members send /help at 2/s",
        replies_rows(replies),
    )
    print(
        json.dumps(
            {
                "limited": limited,
                "paid_sender_rates": paid.a,
                "paid_bare_rates": paid.b,
                "enqueue_seconds": enqueue_seconds,
                "replies_during_broadcast": replies,
                "peak_rss_mib": peak_rss_mib(),
            }
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller numbers, about a minute")
    parser.add_argument("--paid-only", action="store_true", help="only the paid scenario")
    parser.add_argument(
        "--replies-only", action="store_true", help="only replies during a broadcast"
    )
    parser.add_argument("--pairs", type=int, default=3, help="interleaved pairs (at least 3)")
    arguments = parser.parse_args()
    if arguments.replies_only:
        asyncio.run(replies_only(600 if arguments.quick else 10_000))
    elif arguments.paid_only:
        asyncio.run(paid_only(3_000 if arguments.quick else 10_000, arguments.pairs))
    else:
        asyncio.run(main(arguments.quick, arguments.pairs))
