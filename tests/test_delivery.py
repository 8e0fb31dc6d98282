"""The outbox sender against Telegram's failures: flood control, blocks, 5xx, migration, crash."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from bot.delivery.sender import _backoff
from fakebotapi.faults import Fault
from fakebotapi.server import SANDBOX_TOKEN, FakeBotApi
from tests.conftest import StartBot, rejected_calls
from tests.support.harness import RunningBot, eventually
from tests.support.seeding import seed_announcement, seed_subscribers

TEXT = "<b>Announcement</b> from the organizers &amp; friends"


def deliveries(sandbox: FakeBotApi, text: str = "Announcement") -> dict[int, int]:
    """How many times each chat received a message containing `text`."""
    counts: dict[int, int] = {}
    for call in sandbox.calls_to("sendMessage"):
        if call.ok and text in str(call.params.get("text", "")) and call.chat_id is not None:
            counts[call.chat_id] = counts.get(call.chat_id, 0) + 1
    return counts


async def broadcast_to(bot: RunningBot, sandbox: FakeBotApi, user_ids: range) -> int:
    for user_id in user_ids:
        sandbox.user(user_id, language_code="en")
    await seed_subscribers(bot.runtime.db, user_ids)
    broadcast_id, _ = await seed_announcement(bot.runtime.db, TEXT)
    bot.runtime.sender.wake()
    return broadcast_id


def states(database: Path, broadcast_id: int) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT state, COUNT(*) FROM outbox WHERE broadcast_id = ? GROUP BY state",
            (broadcast_id,),
        ).fetchall()
    return dict(rows)


async def test_flood_control_pauses_everything_and_loses_nothing(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await make_bot(SEND_RATE="100")
    sandbox.add_fault(Fault.retry_after(1), "sendMessage", chat_id=7010, times=1)
    broadcast_id = await broadcast_to(bot, sandbox, range(7000, 7030))
    assert await bot.runtime.sender.drained(timeout=30)
    assert deliveries(sandbox) == {user_id: 1 for user_id in range(7000, 7030)}
    assert bot.runtime.sender.stats.rate_limited == 1
    assert states(database, broadcast_id) == {"sent": 30}
    assert "event=sending_paused seconds=1.0" in caplog.text  # all sending paused as asked


async def test_members_who_blocked_the_bot_are_counted_and_made_inactive(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path
) -> None:
    bot = await make_bot(SEND_RATE="100")
    for blocked in (7101, 7105):
        sandbox.add_fault(Fault.blocked(), "sendMessage", chat_id=blocked, times=None)
    broadcast_id = await broadcast_to(bot, sandbox, range(7100, 7110))
    assert await bot.runtime.sender.drained(timeout=30)
    assert states(database, broadcast_id) == {"sent": 8, "blocked": 2}
    for user_id in (7101, 7105):
        member = await bot.runtime.members.get(user_id)
        assert member is not None and not member.active
    # Blocked is final: no retry was attempted.
    assert sum(1 for c in sandbox.calls_to("sendMessage") if c.chat_id == 7101) == 1


async def test_server_errors_are_retried_until_they_pass(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path
) -> None:
    bot = await make_bot(SEND_RATE="100")
    bot.runtime.sender.backoff = lambda attempts: 0.0  # the schedule: test_retries_back_off
    sandbox.add_fault(Fault.server_error(502), "sendMessage", chat_id=7202, times=2)
    sandbox.add_fault(Fault.server_error(500), "sendMessage", chat_id=7204, times=1)
    broadcast_id = await broadcast_to(bot, sandbox, range(7200, 7206))
    assert await bot.runtime.sender.drained(timeout=30)
    assert deliveries(sandbox) == {user_id: 1 for user_id in range(7200, 7206)}
    assert states(database, broadcast_id) == {"sent": 6}
    assert bot.runtime.sender.stats.retried == 3


def test_retries_back_off_exponentially_with_jitter_up_to_five_minutes() -> None:
    for attempts, base in [(1, 1), (2, 2), (3, 4), (4, 8), (9, 256), (10, 300), (30, 300)]:
        delays = {_backoff(attempts) for _ in range(50)}
        assert all(0.8 * base <= delay <= 1.2 * base for delay in delays), attempts
        assert len(delays) > 1  # jittered: retries of many rows do not arrive together


async def test_a_migrated_chat_gets_the_message_at_its_new_id(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path
) -> None:
    bot = await make_bot(SEND_RATE="100")
    sandbox.group(-4001, "Volunteers")
    sandbox.migrate_chat(-4001, -1004001)
    await seed_subscribers(bot.runtime.db, [7300])
    await bot.runtime.db.execute("UPDATE members SET chat_id = -4001 WHERE user_id = 7300")
    await seed_announcement(bot.runtime.db, TEXT)
    bot.runtime.sender.wake()
    assert await bot.runtime.sender.drained(timeout=30)
    assert deliveries(sandbox) == {-1004001: 1}
    member = await bot.runtime.members.get(7300)
    assert member is not None and member.chat_id == -1004001


async def test_a_broadcast_survives_sigkill_midway_with_duplicates_only_in_flight(
    sandbox: FakeBotApi, database: Path
) -> None:
    """600 recipients; the bot process is killed with SIGKILL midway and started again.

    600 is enough: at most 64 sends are in flight at this rate and one flush (0.2 s) of outcomes
    is unwritten, so a kill after 200 always lands mid-broadcast with rows in flight.
    """
    from tests.support.seeding import seeded_database

    sandbox.state.auto_create_chats = True
    recipients = range(100_000, 100_600)
    broadcast_id, count = await seeded_database(database, recipients, TEXT)
    assert count == 600
    environment = {
        **os.environ,
        "BOT_TOKEN": SANDBOX_TOKEN,
        "BOT_API_URL": sandbox.base_url,
        "BOT_API_FILE_URL": sandbox.base_file_url,
        "DATABASE_PATH": str(database),
        "SEND_RATE": "400",
        "LOG_LEVEL": "INFO",
    }

    first = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=environment, stderr=asyncio.subprocess.DEVNULL
    )
    await sandbox.wait_until(lambda: sum(deliveries(sandbox).values()) >= 200, timeout=60)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    before_restart = sum(deliveries(sandbox).values())
    assert before_restart < 600

    second = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=environment, stderr=asyncio.subprocess.PIPE
    )
    try:
        await sandbox.wait_until(lambda: len(deliveries(sandbox)) == 600, timeout=60)
        await eventually(lambda: states(database, broadcast_id) == {"sent": 600}, timeout=30)
    finally:
        second.send_signal(signal.SIGTERM)
        _, errors = await second.communicate()
    recovered = re.search(r"event=outbox_recovered rows=(\d+)", errors.decode())
    in_flight_at_crash = int(recovered.group(1)) if recovered else 0

    received = deliveries(sandbox)
    assert set(received) == set(recipients)  # nobody missed
    duplicates = sum(received.values()) - 600
    print(
        f"crash: sent before kill {before_restart}, in flight {in_flight_at_crash}, "
        f"duplicates {duplicates}"
    )
    assert 0 <= duplicates <= in_flight_at_crash  # only rows in flight at the crash, at most
    assert states(database, broadcast_id) == {"sent": 600}
    assert second.returncode == 0
    assert rejected_calls(sandbox) == []
