"""Operations: health check, backups during a broadcast, webhook secrets, SIGTERM mid-send."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.config import ConfigError, load_config
from bot.health import check
from bot.storage.database import Database
from bot.storage.maintenance import backup
from bot.storage.migrations import MIGRATIONS_DIR
from fakebotapi.faults import Fault
from fakebotapi.server import SANDBOX_TOKEN, FakeBotApi
from tests.conftest import StartBot
from tests.support.harness import eventually, sandbox_config
from tests.support.seeding import seed_announcement, seed_subscribers, seeded_database

# The newest migration's number: what a current database reports.
SCHEMA = max(int(path.name[:4]) for path in MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql"))

ROOT = Path(__file__).resolve().parents[1]
TOKEN_SECRET = SANDBOX_TOKEN.partition(":")[2]


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


def outbox_states(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        return dict(connection.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state"))


# -- python -m bot health ---------------------------------------------------------------------


async def test_health_says_ok_on_a_current_database_and_why_not_otherwise(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    missing = cli("health", database=path)
    assert (missing.returncode, missing.stdout.startswith("database missing")) == (1, True)
    assert missing.stdout.count("\n") == 1
    assert not path.exists()  # health never creates a database

    database = Database(path)
    await database.open()
    healthy = cli("health", database=path)
    assert healthy.returncode == 0, healthy.stdout
    assert healthy.stdout == f"ok: schema {SCHEMA}, outbox 0 waiting, last sent never\n"

    await seed_subscribers(database, [1])
    await seed_announcement(database, "stuck", now=int(time.time()) - 3600)
    stuck = check(path)
    assert not stuck.ok and stuck.line.startswith("outbox stuck: 1 waiting (oldest 60m)")
    assert cli("health", database=path).returncode == 1
    await database.close()

    behind = tmp_path / "old.sqlite3"
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "0001_initial.sql").write_text(
        (ROOT / "bot/migrations/0001_initial.sql").read_text()
    )
    old = Database(behind, migrations)
    await old.open()
    await old.close()
    assert check(behind).line.startswith("schema behind: version 1")


async def test_health_knows_a_long_broadcast_or_a_flood_pause_from_a_stuck_outbox(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    database = Database(path)
    await database.open()
    now = int(time.time())
    await seed_subscribers(database, range(1, 4))
    await seed_announcement(database, "a long broadcast", now=now - 3600)
    await database.execute(
        "UPDATE outbox SET state = 'sent', finished_at = ? WHERE user_id = 1", (now - 20,)
    )
    progressing = check(path, now)
    assert progressing.ok, progressing.line
    assert progressing.line == (
        f"ok: schema {SCHEMA}, outbox 2 waiting (oldest 60m), last sent 20s ago"
    )

    # Nothing has gone out for an hour, but Telegram asked to wait: not due, so not stuck.
    await database.execute("UPDATE outbox SET finished_at = ? WHERE user_id = 1", (now - 3600,))
    await database.execute("UPDATE outbox SET not_before = ? WHERE state = 'pending'", (now + 60,))
    assert check(path, now).ok
    assert not check(path, now + 120).ok  # due now, and still nothing moves

    await database.execute(
        "INSERT INTO schema_migrations (version, name, checksum, applied_at)"
        " VALUES (99, 'future', '', 0)"
    )
    await database.close()
    ahead = check(path)
    assert (ahead.ok, ahead.line.startswith("schema ahead: version 99")) == (False, True)

    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database at all" * 100)
    assert check(garbage).line == (
        f"database unreadable: The database {garbage} is damaged or is not an SQLite database"
        " (file is not a database): restore your last backup, or set DATABASE_PATH to the"
        " right file."
    )


# -- python -m bot backup ---------------------------------------------------------------------


async def test_a_backup_taken_during_a_broadcast_is_whole_and_consistent(
    make_bot: StartBot, sandbox: FakeBotApi, tmp_path: Path
) -> None:
    sandbox.state.auto_create_chats = True
    bot = await make_bot(SEND_RATE="100")
    await seed_subscribers(bot.runtime.db, range(20_000, 20_300))
    await seed_announcement(bot.runtime.db, "Announcement during a backup", int(time.time()))
    bot.runtime.sender.wake()
    await sandbox.wait_until(lambda: len(sandbox.calls_to("sendMessage")) >= 20, timeout=30)
    copy = tmp_path / "backup.sqlite3"
    pages = await asyncio.to_thread(backup, bot.config.database_path, copy)
    assert pages > 0
    assert len(sandbox.calls_to("sendMessage")) < 300  # it really ran mid-broadcast
    with sqlite3.connect(copy) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert connection.execute("SELECT COUNT(*) FROM outbox").fetchone() == (300,)
        assert connection.execute("SELECT COUNT(*) FROM members").fetchone() == (300,)
    assert check(copy).line.startswith(f"ok: schema {SCHEMA},")
    assert not (tmp_path / ".backup.sqlite3.partial").exists()

    refused = cli("backup", str(copy), database=bot.config.database_path)
    assert refused.returncode == 1 and "--force" in refused.stderr
    forced = cli("backup", "--force", str(copy), database=bot.config.database_path)
    assert forced.returncode == 0 and "integrity check ok" in forced.stdout


async def test_a_stopped_database_backs_up_and_a_failed_backup_keeps_the_old_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    await seeded_database(path, range(1, 50), "queued while the bot was stopped")
    assert not (tmp_path / "bot.sqlite3-shm").exists()  # closed cleanly: no WAL files
    target = tmp_path / "backups" / "monday.sqlite3"
    target.parent.mkdir()
    made = cli("backup", str(target), database=path)
    assert made.returncode == 0, made.stderr
    assert outbox_states(target) == {"pending": 49}

    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database at all" * 100)
    failed = cli("backup", str(target), "--force", database=garbage)
    assert failed.returncode == 1 and "the backup failed" in failed.stderr
    assert outbox_states(target) == {"pending": 49}  # the good backup is untouched
    assert [p.name for p in target.parent.iterdir()] == ["monday.sqlite3"]  # no leftovers
    assert cli("backup", database=path).returncode == 2  # no file named


# -- webhook mode -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_updates_need_the_secret(sandbox: FakeBotApi, tmp_path: Path) -> None:
    from bot.app import build_application

    secret = "s3cret-token-for-tests-only"
    config = sandbox_config(
        sandbox,
        tmp_path / "bot.sqlite3",
        WEBHOOK_URL="https://bot.example.org/pyeonji/updates",
        WEBHOOK_SECRET=secret,
    )
    assert (config.webhook_path, config.webhook_listen) == ("pyeonji/updates", "127.0.0.1")
    application = build_application(config)
    await application.initialize()
    assert application.post_init is not None and application.updater is not None
    await application.post_init(application)
    await application.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}/{config.webhook_path}"
    # What run_webhook does in __main__, on a port of the test's and with the URL the
    # sandbox can reach (Telegram would use WEBHOOK_URL, through the TLS proxy).
    await application.updater.start_webhook(
        listen=config.webhook_listen,
        port=port,
        url_path=config.webhook_path,
        secret_token=config.webhook_secret,
        webhook_url=url,
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

        # The bot registered the webhook with its secret: "Telegram" delivers with it.
        assert sandbox.state.webhook.secret_token == secret
        other = sandbox.user(7701, language_code="en")
        await other.send("/start")
        await other.expect("Welcome to Pyeonji")
    finally:
        await application.updater.stop()
        await application.stop()
        if application.post_stop is not None:
            await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


def test_run_serves_the_webhook_where_the_readme_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from telegram.ext import Application

    from bot.__main__ import _run

    calls: list[tuple[str, dict[str, object]]] = []
    monkeypatch.setattr(
        Application, "run_webhook", lambda self, **kw: calls.append(("webhook", kw))
    )
    monkeypatch.setattr(
        Application, "run_polling", lambda self, **kw: calls.append(("polling", kw))
    )
    environ = {"BOT_TOKEN": SANDBOX_TOKEN, "DATABASE_PATH": str(tmp_path / "bot.sqlite3")}
    absent = tmp_path / "no.env"
    webhook = {
        **environ,
        "WEBHOOK_URL": "https://bot.example.org/telegram",
        "WEBHOOK_SECRET": "a" * 32,
    }
    assert _run(load_config(webhook, absent)) == 0
    assert _run(load_config({**webhook, "PORT": "9000", "WEBHOOK_LISTEN": "0.0.0.0"}, absent)) == 0
    assert _run(load_config(environ, absent)) == 0
    (_, default), (_, moved), (polling, _) = calls
    # README: a TLS proxy forwards WEBHOOK_URL's path, unchanged, to WEBHOOK_LISTEN:PORT.
    assert {key: default[key] for key in ("listen", "port", "url_path", "secret_token")} == {
        "listen": "127.0.0.1",
        "port": 8443,
        "url_path": "telegram",
        "secret_token": "a" * 32,
    }
    assert default["webhook_url"] == "https://bot.example.org/telegram"
    assert (moved["listen"], moved["port"]) == ("0.0.0.0", 9000)
    assert polling == "polling"
    readme = (ROOT / "README.md").read_text()
    assert "https://bot.example.org/telegram" in readme and "127.0.0.1:8443" in readme
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "WEBHOOK_LISTEN=0.0.0.0" in dockerfile and "EXPOSE 8443" in dockerfile


# -- stopping: SIGTERM, SIGINT, and a Telegram too slow to wait for -------------------------


def sent_per_chat(sandbox: FakeBotApi, marker: str) -> dict[int, int]:
    counts: dict[int, int] = {}
    for call in sandbox.calls_to("sendMessage"):
        if call.ok and call.chat_id is not None and marker in str(call.params.get("text")):
            counts[call.chat_id] = counts.get(call.chat_id, 0) + 1
    return counts


def bot_environment(sandbox: FakeBotApi, database: Path) -> dict[str, str]:
    return {
        **os.environ,
        "BOT_TOKEN": SANDBOX_TOKEN,
        "BOT_API_URL": sandbox.base_url,
        "BOT_API_FILE_URL": sandbox.base_file_url,
        "DATABASE_PATH": str(database),
        "SEND_RATE": "100",
        "LOG_LEVEL": "DEBUG",
        "PYTHONPATH": str(ROOT),
    }


def assert_clean_log(log: Path) -> None:
    lines = log.read_text().splitlines()
    assert lines, "the bot logged nothing"
    for line in lines:
        assert " level=" in line and " logger=" in line, line  # one event per line
    assert TOKEN_SECRET not in log.read_text()


async def test_sigterm_mid_broadcast_stops_cleanly_and_loses_nothing(
    sandbox: FakeBotApi, tmp_path: Path
) -> None:
    """200 recipients at 100 a second: at most 25 sends are in flight, so a SIGTERM after 50
    always stops the bot midway with some sent, some in flight and some still queued."""
    sandbox.state.auto_create_chats = True
    database = tmp_path / "bot.sqlite3"
    await seeded_database(database, range(30_000, 30_200), "Sent across a SIGTERM")
    environment = bot_environment(sandbox, database)
    log = tmp_path / "bot.log"
    with log.open("w") as stderr:
        first = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=environment, stderr=stderr
        )
        progress = lambda: sum(sent_per_chat(sandbox, "SIGTERM").values())  # noqa: E731
        await sandbox.wait_until(lambda: progress() >= 50, timeout=60)
        first.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(first.wait(), timeout=30) == 0
        states = outbox_states(database)
        assert "sending" not in states and states.get("pending", 0) > 0  # stopped midway, tidy

        second = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=environment, stderr=stderr
        )
        try:
            await eventually(lambda: outbox_states(database) == {"sent": 200}, timeout=60)
        finally:
            second.send_signal(signal.SIGINT)  # Ctrl-C stops it just as cleanly
            assert await asyncio.wait_for(second.wait(), timeout=30) == 0
    # Sends in flight at the SIGTERM were answered before it stopped: none went out twice.
    assert sent_per_chat(sandbox, "SIGTERM") == {chat: 1 for chat in range(30_000, 30_200)}
    assert_clean_log(log)
    text = log.read_text()
    assert "event=database_open" in text and "Traceback" not in text


async def test_stopping_while_telegram_is_slow_puts_the_sends_back(
    make_bot: StartBot, sandbox: FakeBotApi
) -> None:
    sandbox.state.auto_create_chats = True
    bot = await make_bot()
    sandbox.add_fault(Fault.slow(30), "sendMessage", times=None)
    await seed_subscribers(bot.runtime.db, range(40_000, 40_005))
    await seed_announcement(bot.runtime.db, "Held up by a slow Telegram")
    bot.runtime.sender.wake()
    await sandbox.wait_until(lambda: sandbox.stats.by_method["sendMessage"] >= 5, timeout=30)

    await bot.runtime.sender.stop(grace=0.2)
    assert outbox_states(bot.config.database_path) == {"pending": 5}  # none left 'sending'
    await bot.stop()

    sandbox.clear_faults()
    await make_bot()  # the restart sends them: maybe twice, never zero times
    await eventually(lambda: outbox_states(bot.config.database_path) == {"sent": 5}, timeout=30)
    assert set(sent_per_chat(sandbox, "slow Telegram")) == set(range(40_000, 40_005))


async def test_a_rejected_token_stops_the_bot_with_one_sentence_and_no_token(
    sandbox: FakeBotApi, tmp_path: Path
) -> None:
    environment = {
        **bot_environment(sandbox, tmp_path / "bot.sqlite3"),
        "BOT_API_URL": f"{sandbox.url}/revoked",  # the sandbox answers 401 Unauthorized
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=environment,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    text = stderr.decode()
    assert process.returncode == 1
    assert text.splitlines()[-1].startswith("pyeonji: Telegram rejected BOT_TOKEN")
    assert TOKEN_SECRET not in text and "Traceback" not in text


# -- deployment files -------------------------------------------------------------------------


def test_env_example_offers_every_setting_of_the_readme_with_a_valid_example() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n\n", 2)[1]
    documented = {
        name
        for line in table.splitlines()[2:]
        for name in re.findall(r"`([A-Z_]+)`", line.split("|")[1])
    }
    assert {"BOT_TOKEN", "WEBHOOK_SECRET", "PORT", "WEBHOOK_LISTEN"} <= documented
    example = (ROOT / ".env.example").read_text()
    offered = dict(re.findall(r"^(?:# )?([A-Z_]+)=(.*)$", example, flags=re.MULTILINE))
    assert documented == set(offered)
    for line in example.splitlines():
        if re.match(r"^(?:# )?[A-Z_]+=", line):
            assert " #" not in line, f"keep notes on their own line: {line}"

    base = {"BOT_TOKEN": SANDBOX_TOKEN, "WEBHOOK_SECRET": "a" * 32}
    absent = ROOT / "tests" / "no.env"
    for name, value in offered.items():
        if not value or (name == "BUNDLE_FONT" and not Path(value).is_file()):
            continue
        try:
            load_config({**base, name: value}, absent)
        except ConfigError as error:
            pytest.fail(f".env.example's {name}={value}: {error}")
    # As shipped (token still empty) the file parses; only `run` asks for the token.
    assert load_config({}, ROOT / ".env.example", require_token=False).bot_token == ""
