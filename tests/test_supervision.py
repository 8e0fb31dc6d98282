"""Background work that survives: a locked or full database only delays it, and health sees it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from bot.app import START_UP
from bot.health import check
from bot.models import Role
from bot.storage.problems import DatabaseUnusable
from bot.supervision import heartbeat_path
from fakebotapi.faults import Fault
from fakebotapi.server import SANDBOX_TOKEN, FakeBotApi
from tests.conftest import StartBot, rejected_calls
from tests.support.harness import ADMIN_ID, COORDINATOR_ID, COURIER_ID, RunningBot
from tests.support.people import member_who_joined, staff
from tests.support.seeding import seed_announcement, seed_subscribers
from tests.test_letters import LETTER_EN, TRANSLATION_KO, needs_font, write

TEXT = "<b>Announcement</b> from the organizers"
FLUSH_AND_DRAIN = ("outbox-drain", "outbox-flush")
# No real waits: a failing task tries again at once, and SQLite gives up on a lock quickly.
FAST: dict[str, object] = {"backoff": lambda failures: 0.005, "busy_timeout_ms": 20}


def deliveries(sandbox: FakeBotApi) -> dict[int, int]:
    counts: dict[int, int] = {}
    for call in sandbox.calls_to("sendMessage"):
        if call.ok and "Announcement" in str(call.params.get("text", "")) and call.chat_id:
            counts[call.chat_id] = counts.get(call.chat_id, 0) + 1
    return counts


def states(database: Path, broadcast_id: int) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(database)) as connection:
        rows = connection.execute(
            "SELECT state, COUNT(*) FROM outbox WHERE broadcast_id = ? GROUP BY state",
            (broadcast_id,),
        ).fetchall()
    return dict(rows)


async def until(predicate: Callable[[], bool], what: str) -> None:
    """Wait for a state of the bot (polling, never asserting how long it took)."""
    for _ in range(2000):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


@contextlib.asynccontextmanager
async def holding(database: Path, begin: str) -> AsyncIterator[None]:
    """Another process's connection keeps a transaction open (in a thread: taking the lock
    must not block the event loop, or the bot could not finish the transaction it is in)."""

    def open_transaction() -> sqlite3.Connection:
        connection = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        connection.execute(begin)
        connection.execute("SELECT COUNT(*) FROM outbox").fetchone()
        return connection

    connection = await asyncio.to_thread(open_transaction)
    try:
        yield
    finally:
        connection.execute("ROLLBACK")
        connection.close()


def write_lock(database: Path) -> contextlib.AbstractAsyncContextManager[None]:
    """An operator's sqlite3 shell or a backup tool holds the write lock."""
    return holding(database, "BEGIN IMMEDIATE")


def read_snapshot(database: Path) -> contextlib.AbstractAsyncContextManager[None]:
    """A slow report or a paused backup keeps one read snapshot open."""
    return holding(database, "BEGIN")


def failing(bot: RunningBot, task: str, kind: str) -> Callable[[], bool]:
    def check_state() -> bool:
        state = bot.runtime.supervisor.tasks.get(task)
        return state is not None and state.state == "failing" and state.kind == kind

    return check_state


async def broadcast(bot: RunningBot, sandbox: FakeBotApi, user_ids: range) -> int:
    sandbox.state.auto_create_chats = True
    await seed_subscribers(bot.runtime.db, user_ids)
    broadcast_id, _ = await seed_announcement(bot.runtime.db, TEXT)
    bot.runtime.sender.wake()
    return broadcast_id


async def test_a_write_lock_held_while_idle_only_delays_the_next_broadcast(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await make_bot(SEND_RATE="100", **FAST)
    async with write_lock(database):
        await until(failing(bot, "outbox-drain", "database_locked"), "the sender noticed")
        failures = bot.runtime.supervisor.tasks["outbox-drain"].failures
        await until(
            lambda: bot.runtime.supervisor.tasks["outbox-drain"].failures > failures + 3,
            "the sender kept retrying",
        )
    broadcast_id = await broadcast(bot, sandbox, range(8000, 8010))
    assert await bot.runtime.sender.drained(timeout=20)
    assert deliveries(sandbox) == {user_id: 1 for user_id in range(8000, 8010)}
    assert states(database, broadcast_id) == {"sent": 10}
    # One line for the whole outage, with its kind and no message text; one when it ended.
    failed = [line for line in caplog.messages if "event=task_failing task=outbox-drain" in line]
    assert failed == [failed[0]] and "kind=database_locked error=OperationalError" in failed[0]
    assert "database is locked" not in caplog.text
    assert any("event=task_recovered task=outbox-drain" in line for line in caplog.messages)


async def test_a_write_lock_mid_broadcast_loses_nothing_and_sends_nothing_twice(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path
) -> None:
    bot = await make_bot(SEND_RATE="40", **FAST)
    broadcast_id = await broadcast(bot, sandbox, range(8100, 8160))
    await until(lambda: sum(deliveries(sandbox).values()) >= 10, "the broadcast started")
    async with write_lock(database):
        await until(failing(bot, "outbox-flush", "database_locked"), "outcomes wait in memory")
        await until(failing(bot, "outbox-drain", "database_locked"), "claims wait")
        # Health, looking a minute later, sees a sender that makes no progress.
        later = check(database, now=time.time() + 90)
        assert not later.ok and "sender stalled" in later.line, later.line
        assert "database_locked" in later.line
    assert await bot.runtime.sender.drained(timeout=30)
    assert deliveries(sandbox) == {user_id: 1 for user_id in range(8100, 8160)}
    assert states(database, broadcast_id) == {"sent": 60}
    assert check(database).ok
    assert rejected_calls(sandbox) == []


async def test_a_read_snapshot_held_mid_broadcast_changes_nothing(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path
) -> None:
    """WAL: a reader never blocks the bot's writes, however long it keeps its snapshot."""
    bot = await make_bot(SEND_RATE="100", **FAST)
    broadcast_id = await broadcast(bot, sandbox, range(8200, 8240))
    async with read_snapshot(database):
        assert await bot.runtime.sender.drained(timeout=30)
    assert deliveries(sandbox) == {user_id: 1 for user_id in range(8200, 8240)}
    assert states(database, broadcast_id) == {"sent": 40}


async def test_a_full_database_mid_broadcast_resumes_once_space_is_freed(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Simulated without a mount: the bot's connection may not grow the file by one page."""
    bot = await make_bot(SEND_RATE="200", **FAST)
    recipients = range(100_000, 100_600)
    await seed_subscribers(bot.runtime.db, recipients)
    broadcast_id, _ = await seed_announcement(bot.runtime.db, TEXT)
    sandbox.state.auto_create_chats = True
    db = bot.runtime.db
    await db.run_outside_transaction("PRAGMA max_page_count = 1")  # no more than it has now
    bot.runtime.sender.wake()
    await until(failing(bot, "outbox-flush", "database_full"), "the disk filled up")
    assert bot.runtime.supervisor.tasks["outbox-drain"].state != "dead"
    await db.run_outside_transaction("PRAGMA max_page_count = 1073741823")  # space freed
    assert await bot.runtime.sender.drained(timeout=30)
    assert deliveries(sandbox) == {user_id: 1 for user_id in recipients}
    assert states(database, broadcast_id) == {"sent": 600}
    assert "event=task_failing task=outbox-flush kind=database_full" in caplog.text


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs (needs root, as in the development container); skipped where not allowed."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0 or shutil.which("umount") is None:
        pytest.skip("cannot mount a small filesystem here (not root, or no mount)")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


async def test_a_full_filesystem_mid_broadcast_then_freed_sends_everything_and_stops_cleanly(
    small_filesystem: Path, make_bot: StartBot, sandbox: FakeBotApi, database: Path
) -> None:
    del database  # this test's database lives on the small filesystem
    from tests.support.harness import start_bot

    small_db = small_filesystem / "pyeonji.sqlite3"
    bot = await start_bot(sandbox, small_db, SEND_RATE="200", **FAST)  # type: ignore[arg-type]
    try:
        recipients = range(200_000, 200_300)
        await seed_subscribers(bot.runtime.db, recipients)
        broadcast_id, _ = await seed_announcement(bot.runtime.db, TEXT)
        filler = small_filesystem / "filler"
        sandbox.state.auto_create_chats = True
        bot.runtime.sender.wake()
        await until(lambda: sum(deliveries(sandbox).values()) >= 20, "the broadcast started")
        descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
        with contextlib.suppress(OSError):
            while True:
                os.write(descriptor, b"\0" * 4096)
        os.close(descriptor)
        drain, flush = (failing(bot, task, "database_full") for task in FLUSH_AND_DRAIN)
        await until(lambda: drain() or flush(), "the filesystem filled up")
        os.unlink(filler)
        assert await bot.runtime.sender.drained(timeout=30)
        assert deliveries(sandbox) == {user_id: 1 for user_id in recipients}
        assert states(small_db, broadcast_id) == {"sent": 300}
    finally:
        await bot.stop()


async def test_stopping_while_the_database_refuses_writes_does_not_raise(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await make_bot(SEND_RATE="40", **FAST)
    await broadcast(bot, sandbox, range(8300, 8340))
    await until(lambda: sum(deliveries(sandbox).values()) >= 5, "the broadcast started")
    async with write_lock(database):
        await until(failing(bot, "outbox-flush", "database_locked"), "outcomes wait")
        await bot.stop()  # must not raise
    assert "event=outbox_unsettled" in caplog.text
    # Rows whose outcome could not be written go out again at the next start: never lost.
    again = await make_bot(SEND_RATE="100", **FAST)
    assert await again.runtime.sender.drained(timeout=30)
    assert set(deliveries(sandbox)) == set(range(8300, 8340))


async def test_a_failing_job_is_logged_once_by_kind_retried_and_keeps_running(
    make_bot: StartBot, database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The daily retention job meets a lock: retried after the backoff, not a day later."""
    bot = await make_bot(**FAST)
    job_queue = bot.application.job_queue
    assert job_queue is not None
    (retention,) = job_queue.get_jobs_by_name("retention")
    async with write_lock(database):
        await retention.run(bot.application)
        await until(failing(bot, "retention", "database_locked"), "the purge failed")
        await until(
            lambda: bot.runtime.supervisor.tasks["retention"].failures >= 3, "it was retried"
        )
        lines = [m for m in caplog.messages if "task=retention" in m]
        assert len(lines) == 1 and "kind=database_locked error=OperationalError" in lines[0]
        assert "handler_error" not in caplog.text  # not passed on as a crash of a handler
    await until(lambda: bot.runtime.supervisor.tasks["retention"].state == "running", "retried")
    assert job_queue.get_jobs_by_name("retention")  # still scheduled for tomorrow


async def test_an_answer_slower_than_the_old_read_timeout_is_waited_for_not_sent_twice(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path
) -> None:
    """Telegram takes 6 s to answer three sends (PTB's default read timeout is 5 s)."""
    bot = await make_bot(SEND_RATE="100", **FAST)
    for chat in (8400, 8401, 8402):
        sandbox.add_fault(Fault.slow(6.0), "sendMessage", chat_id=chat, times=1)
    broadcast_id = await broadcast(bot, sandbox, range(8400, 8410))
    assert await bot.runtime.sender.drained(timeout=30)
    assert deliveries(sandbox) == {user_id: 1 for user_id in range(8400, 8410)}
    assert states(database, broadcast_id) == {"sent": 10}


async def test_a_send_that_times_out_is_unknown_and_never_sent_again(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path
) -> None:
    """Slower than even the long read timeout: maybe delivered, so recorded as unknown."""
    bot = await make_bot(SEND_RATE="100", send_read_timeout=0.2, **FAST)
    for chat in (8500, 8501, 8502):
        sandbox.add_fault(Fault.slow(1.0), "sendMessage", chat_id=chat, times=1)
    broadcast_id = await broadcast(bot, sandbox, range(8500, 8510))
    assert await bot.runtime.sender.drained(timeout=30)
    # The slow ones reach the sandbox's record once it answers, after the bot gave up.
    await until(lambda: len(sandbox.calls_to("sendMessage")) >= 10, "the slow sends ended")
    attempts = {
        chat: sum(1 for call in sandbox.calls_to("sendMessage") if call.chat_id == chat)
        for chat in range(8500, 8510)
    }
    assert attempts == {chat: 1 for chat in range(8500, 8510)}  # no blind retry
    assert states(database, broadcast_id) == {"sent": 7, "unknown": 3}
    assert bot.runtime.sender.stats.unknown == 3


async def test_an_update_the_library_cannot_read_is_skipped_and_later_ones_are_handled(
    bot: RunningBot, sandbox: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    member = sandbox.user(8600, language_code="en")
    await member.send("/help")
    await member.expect("/start")
    # A message without a date, in the same batch as the member's next command.
    secret = "a private text that must not reach the log"
    sandbox.add_raw_update({"message": {"message_id": 99, "text": secret}})
    await member.send("/help")
    await member.expect("/start")
    skipped = [line for line in caplog.messages if "event=update_skipped" in line]
    assert skipped == ["event=update_skipped reason=unreadable error=KeyError"]
    assert secret not in caplog.text and "8600" not in caplog.text


@needs_font
async def test_a_bundle_killed_between_sending_and_recording_is_kept_and_can_be_sent_again(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path
) -> None:
    """kill -9 while the PDF is on its way: bundle 1 survives, is sent again, never rebundled."""
    first = await make_bot()
    courier = await staff(first, sandbox, COURIER_ID, Role.COURIER)
    writer = await member_who_joined(sandbox, 8700, "en", subscribe=False)
    await write(writer, LETTER_EN)
    await first.runtime.letters.approve(COORDINATOR_ID, 1)
    await first.runtime.letters.translate(COORDINATOR_ID, 1, TRANSLATION_KO)
    await first.stop()

    # Telegram has the document but the bot is killed before the answer comes back.
    sandbox.add_fault(Fault.slow(2.0), "sendDocument", times=1)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env={
            **os.environ,
            "BOT_TOKEN": SANDBOX_TOKEN,
            "BOT_API_URL": sandbox.base_url,
            "BOT_API_FILE_URL": sandbox.base_file_url,
            "DATABASE_PATH": str(database),
            "ADMIN_IDS": str(ADMIN_ID),
        },
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await courier.send("/bundle")
        await sandbox.wait_until(lambda: sandbox.stats.by_method["sendDocument"] >= 1, timeout=30)
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
    # Health sees at once that the bot stopped beating (it did not stop cleanly).
    dead = check(database, now=time.time() + 60)
    assert not dead.ok and dead.line.startswith("bot not running"), dead.line

    again = await make_bot()
    await courier.send("/bundles")
    listed = await courier.expect("Bundles")
    await courier.click(listed, "Send bundle 1 again")
    document = await courier.expect(lambda m: m.kind == "document")
    assert document.file_name == "pyeonji-bundle-1.pdf"
    await courier.send("/bundle")  # its letter is not printed a second time in bundle 2
    await courier.expect("No approved letters are waiting to be printed.")
    assert [bundle.id for bundle in await again.runtime.letters.bundles(10)] == [1]


async def test_health_reports_a_crashed_or_dead_background_task_at_once(
    make_bot: StartBot, database: Path
) -> None:
    bot = await make_bot(**FAST)
    supervisor = bot.runtime.supervisor
    supervisor.write_heartbeat()
    assert check(database).ok

    async def buggy() -> None:
        raise ValueError("a bug, not a passing failure")

    supervisor.spawn("probe", buggy, until=lambda: False)
    await until(lambda: supervisor.tasks["probe"].state == "failing", "the bug struck")
    crashed = check(database)
    assert not crashed.ok and "probe crashed" in crashed.line

    class Fatal(BaseException):
        pass

    async def fatal() -> None:
        raise Fatal

    supervisor.spawn("probe-2", fatal, until=lambda: False)
    await until(lambda: supervisor.tasks["probe-2"].state == "dead", "it died")
    assert check(database).line == "background task probe-2 died: restart the bot"


async def test_a_database_locked_at_start_up_is_waited_out_then_the_bot_answers(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An operator's sqlite3 shell holds the write lock as the bot (re)starts: it waits, says
    so once, and starts when the shell lets go. It used to stop with a misleading sentence."""
    first = await make_bot(**FAST)
    await first.stop()
    async with write_lock(database):
        started = asyncio.create_task(make_bot(**FAST))
        await until(
            lambda: "event=task_failing task=start-up kind=database_locked" in caplog.text,
            "the start waits for the lock",
        )
        assert not started.done()
        # Health can tell: the heartbeat names the wait (and health says so after a minute).
        beat = json.loads(heartbeat_path(database).read_text(encoding="utf-8"))
        assert beat["tasks"][START_UP]["kind"] == "database_locked"
    await asyncio.wait_for(started, timeout=30)
    assert caplog.text.count("task=start-up kind=database_locked") == 1  # one line, not one a try
    assert "event=task_recovered task=start-up" in caplog.text
    member = sandbox.user(8801, language_code="en")
    await member.send("/help")
    await member.expect("/start")


async def test_a_full_disk_at_start_up_is_waited_out_and_health_names_the_disk(
    small_filesystem: Path, sandbox: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    """A new database on a disk with no room left: the start waits (migrations cannot be
    written), health names the full disk, and the bot starts once space is freed."""
    from tests.support.harness import start_bot

    small_db = small_filesystem / "pyeonji.sqlite3"
    filler = small_filesystem / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
    with contextlib.suppress(OSError):
        while True:
            os.write(descriptor, b"\0" * 4096)
    os.close(descriptor)
    started = asyncio.create_task(start_bot(sandbox, small_db, **FAST))  # type: ignore[arg-type]
    await until(lambda: "task=start-up kind=" in caplog.text, "the start waits for space")
    assert "kind=database_full" in caplog.text or "kind=disk_full" in caplog.text
    health = check(small_db)  # the heartbeat cannot be written either: health asks the disk
    assert not health.ok and health.line.startswith("disk full: "), health.line
    assert "0.0 MB free" in health.line, health.line
    os.unlink(filler)
    bot = await asyncio.wait_for(started, timeout=30)
    try:
        member = sandbox.user(8811, language_code="en")
        await member.send("/help")
        await member.expect("/start")
    finally:
        await bot.stop()


async def test_a_damaged_database_at_start_up_is_not_waited_for(
    make_bot: StartBot, database: Path
) -> None:
    """Only a lock or a full disk passes by itself: anything else still stops the start."""
    await asyncio.to_thread(database.write_bytes, b"not an SQLite database, only text" * 100)
    with pytest.raises(DatabaseUnusable, match="damaged"):
        await make_bot(**FAST)
