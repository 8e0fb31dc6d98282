"""Operations: health check, backups during a broadcast, webhook secrets, SIGTERM mid-send."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bot.health import check
from bot.sandbox.server import SANDBOX_TOKEN, FakeBotApi
from bot.storage.database import Database
from bot.storage.maintenance import backup
from tests.conftest import StartBot
from tests.support.harness import sandbox_config
from tests.support.seeding import seed_announcement, seed_subscribers, seeded_database

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, database: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**environment, "DATABASE_PATH": str(database), "PYTHONPATH": str(ROOT)},
        cwd=database.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_health_says_ok_on_a_current_database_and_why_not_otherwise(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    missing = cli("health", database=path)
    assert (missing.returncode, missing.stdout.startswith("database missing")) == (1, True)
    assert not path.exists()  # health never creates a database

    database = Database(path)
    await database.open()
    healthy = cli("health", database=path)
    assert healthy.returncode == 0 and healthy.stdout.startswith("ok: schema")

    await seed_subscribers(database, [1])
    await seed_announcement(database, "stuck", now=int(time.time()) - 3600)
    stuck = check(path)
    assert not stuck.ok and stuck.line.startswith("outbox stuck: 1 waiting")
    assert cli("health", database=path).returncode == 1
    await database.close()

    behind = tmp_path / "old.sqlite3"
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "0001_initial.sql").write_text(
        (ROOT / "migrations/0001_initial.sql").read_text()
    )
    old = Database(behind, migrations)
    await old.open()
    await old.close()
    assert check(behind).line.startswith("schema behind: version 1")


async def test_a_backup_taken_during_a_broadcast_is_whole_and_consistent(
    make_bot: StartBot, sandbox: FakeBotApi, tmp_path: Path
) -> None:
    sandbox.state.auto_create_chats = True
    bot = await make_bot(SEND_RATE="100")
    await seed_subscribers(bot.runtime.db, range(20_000, 20_300))
    await seed_announcement(bot.runtime.db, "Announcement during a backup")
    bot.runtime.sender.wake()
    await sandbox.wait_until(lambda: len(sandbox.calls_to("sendMessage")) >= 20, timeout=30)
    copy = tmp_path / "backup.sqlite3"
    pages = await asyncio.to_thread(backup, bot.config.database_path, copy)
    assert pages > 0
    assert len(sandbox.calls_to("sendMessage")) < 300  # it really ran mid-broadcast
    with sqlite3.connect(copy) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("SELECT COUNT(*) FROM outbox").fetchone() == (300,)
        assert connection.execute("SELECT COUNT(*) FROM members").fetchone() == (300,)

    refused = cli("backup", str(copy), database=bot.config.database_path)
    assert refused.returncode == 1 and "--force" in refused.stderr
    forced = cli("backup", str(copy), "--force", database=bot.config.database_path)
    assert forced.returncode == 0 and "integrity check ok" in forced.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_updates_need_the_secret(sandbox: FakeBotApi, tmp_path: Path) -> None:
    from bot.app import build_application

    secret = "s3cret-token-for-tests-only"
    config = sandbox_config(sandbox, tmp_path / "bot.sqlite3")
    application = build_application(config)
    await application.initialize()
    assert application.post_init is not None and application.updater is not None
    await application.post_init(application)
    await application.start()
    port = free_port()
    await application.updater.start_webhook(
        listen="127.0.0.1",
        port=port,
        url_path="telegram",
        secret_token=secret,
        webhook_url=f"http://127.0.0.1:{port}/telegram",
    )
    member = sandbox.user(7700, language_code="en")
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": 7700, "type": "private"},
            "from": member.info,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    url = f"http://127.0.0.1:{port}/telegram"
    try:
        async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
            wrong = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            )
            missing = await client.post(url, json={**update, "update_id": 2})
            assert (wrong.status_code, missing.status_code) == (403, 403)
            right = await client.post(
                url,
                json={**update, "update_id": 3},
                headers={"X-Telegram-Bot-Api-Secret-Token": secret},
            )
            assert right.status_code == 200
        await member.expect("Welcome to Pyeonji")
        welcomes = [m for m in sandbox.messages(7700) if "Welcome to Pyeonji" in m.text]
        assert len(welcomes) == 1  # only the update with the right secret was handled
    finally:
        await application.updater.stop()
        await application.stop()
        if application.post_stop is not None:
            await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


def sent_per_chat(sandbox: FakeBotApi) -> dict[int, int]:
    counts: dict[int, int] = {}
    for call in sandbox.calls_to("sendMessage"):
        if call.ok and call.chat_id is not None and "SIGTERM" in str(call.params.get("text")):
            counts[call.chat_id] = counts.get(call.chat_id, 0) + 1
    return counts


def outbox_states(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        return dict(connection.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state"))


async def test_sigterm_mid_broadcast_stops_cleanly_and_loses_nothing(
    sandbox: FakeBotApi, tmp_path: Path
) -> None:
    sandbox.state.auto_create_chats = True
    database = tmp_path / "bot.sqlite3"
    await seeded_database(database, range(30_000, 30_500), "Sent across a SIGTERM")
    environment = {
        **os.environ,
        "BOT_TOKEN": SANDBOX_TOKEN,
        "BOT_API_URL": sandbox.base_url,
        "BOT_API_FILE_URL": sandbox.base_file_url,
        "DATABASE_PATH": str(database),
        "SEND_RATE": "100",
    }
    first = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=environment, stderr=asyncio.subprocess.DEVNULL
    )
    await sandbox.wait_until(lambda: sum(sent_per_chat(sandbox).values()) >= 100, timeout=60)
    first.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(first.wait(), timeout=30) == 0
    states = outbox_states(database)
    assert "sending" not in states and states.get("pending", 0) > 0  # stopped midway, tidy

    second = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=environment, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        await sandbox.wait_until(lambda: outbox_states(database) == {"sent": 500}, timeout=60)
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), timeout=30)
    assert sent_per_chat(sandbox) == {chat: 1 for chat in range(30_000, 30_500)}
