"""One bot per database, a second poller, and tools that say what is wrong and break nothing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from telegram import Bot
from telegram.error import Conflict

from bot.storage.database import Database
from fakebotapi.server import SANDBOX_TOKEN, FakeBotApi
from tests.support.harness import sandbox_config
from tests.test_operations import ROOT, TOKEN_SECRET, bot_environment, cli, free_port

ONE_BOT = "is already running on the database"
CONFLICT = "pyeonji: Telegram says another bot is using this BOT_TOKEN at the same time"


async def start_cli(
    *args: str, env: dict[str, str], stderr: int | None = asyncio.subprocess.PIPE
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
    )


async def finished(process: asyncio.subprocess.Process) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of a process that ends by itself within 60 s."""
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), (err or b"").decode()


async def migrated(path: Path) -> Path:
    database = Database(path)
    await database.open()
    await database.close()
    return path


def polls(sandbox: FakeBotApi) -> int:
    return sandbox.stats.by_method.get("getUpdates", 0)


# -- one bot per database ---------------------------------------------------------------------


async def test_a_second_bot_on_the_same_database_refuses_and_tools_still_work(
    sandbox: FakeBotApi, tmp_path: Path
) -> None:
    database = await migrated(tmp_path / "bot.sqlite3")
    environment = bot_environment(sandbox, database)
    first = await start_cli("bot", "run", env=environment, stderr=subprocess.DEVNULL)
    try:
        await sandbox.wait_until(lambda: polls(sandbox) >= 1, timeout=60)  # it runs
        code, _, err = await finished(await start_cli("bot", "run", env=environment))
        assert code == 1
        assert err.splitlines() == [
            f"pyeonji: Another Pyeonji bot (process {first.pid}) {ONE_BOT} {database}: "
            "only one bot may run per database, so this one stops."
        ]
        # The tools work beside the running bot: they never take its lock.
        for args in (["migrate"], ["health"], ["backup", str(tmp_path / "copy.sqlite3")]):
            code, _, err = await finished(await start_cli("bot", *args, env=environment))
            assert (code, "pyeonji:" in err) == (0, False), args
        assert (tmp_path / "copy.sqlite3").is_file()
    finally:
        first.kill()  # kill -9: no clean-up runs, yet the kernel drops the lock
        await first.wait()
    seen = polls(sandbox)
    again = await start_cli("bot", "run", env=environment, stderr=subprocess.DEVNULL)
    try:
        await sandbox.wait_until(lambda: polls(sandbox) > seen, timeout=60)
        assert again.returncode is None  # running, not refused
    finally:
        again.send_signal(signal.SIGTERM)
        assert (await finished(again))[0] == 0


# -- a second poller with the same token: Telegram's 409 -------------------------------------


async def test_the_sandbox_ends_a_waiting_long_poll_with_409_when_another_arrives(
    sandbox: FakeBotApi,
) -> None:
    first_bot = Bot(SANDBOX_TOKEN, base_url=sandbox.base_url)
    second_bot = Bot(SANDBOX_TOKEN, base_url=sandbox.base_url)
    async with first_bot, second_bot:
        waiting = asyncio.create_task(first_bot.get_updates(timeout=30))
        await sandbox.wait_until(lambda: polls(sandbox) == 1)
        second = asyncio.create_task(second_bot.get_updates(timeout=0))
        with pytest.raises(Conflict) as raised:
            await asyncio.wait_for(waiting, timeout=5)  # far below the poll's 30 s
        assert raised.value.message == (
            "Conflict: terminated by other getUpdates request; "
            "make sure that only one bot instance is running"
        )
        assert await second == ()
        # One poller after another is no conflict.
        assert await first_bot.get_updates(timeout=0) == ()


async def poll_against(sandbox: FakeBotApi, process: asyncio.subprocess.Process) -> None:
    """Another bot with the same token, long-polling until `process` gives up."""
    url = f"{sandbox.base_url}{SANDBOX_TOKEN}/getUpdates"
    async with httpx.AsyncClient(trust_env=False, timeout=30) as client:
        while process.returncode is None:
            await client.post(url, json={"timeout": 2})


async def test_a_409_stops_the_bot_with_one_sentence_instead_of_retrying(
    sandbox: FakeBotApi, tmp_path: Path
) -> None:
    environment = bot_environment(sandbox, tmp_path / "bot.sqlite3")
    log = tmp_path / "bot.log"
    with log.open("w") as stderr_file:
        process = await start_cli("bot", "run", env=environment, stderr=stderr_file)
        await sandbox.wait_until(lambda: polls(sandbox) >= 1, timeout=60)
        other = asyncio.create_task(poll_against(sandbox, process))
        code = await asyncio.wait_for(process.wait(), timeout=60)
        await other
    lines = log.read_text().splitlines()
    assert code == 1
    assert lines[-1] == (
        f"{CONFLICT} (409 Conflict): stop the other one, since only one bot may run per "
        "token; this one stops."
    )
    assert sum("event=polling_conflict" in line for line in lines) == 1
    assert TOKEN_SECRET not in log.read_text() and "Traceback" not in log.read_text()


# -- a database that cannot be used -----------------------------------------------------------


@contextlib.contextmanager
def read_only_folder(folder: Path) -> Iterator[str]:
    """Make `folder` read-only: a read-only mount as root (which ignores file modes)."""
    if os.geteuid() != 0:
        for path in folder.iterdir():
            path.chmod(0o444)
        folder.chmod(0o555)
        try:
            yield "read-only for this user"
        finally:
            folder.chmod(0o755)
        return
    mount = subprocess.run(
        ["mount", "--bind", "-o", "ro", str(folder), str(folder)], capture_output=True
    )
    if mount.returncode != 0:
        pytest.skip("cannot mount a read-only folder here")
    try:
        yield "on a read-only filesystem"
    finally:
        subprocess.run(["umount", str(folder)], check=True)


async def test_a_damaged_database_stops_the_bot_with_one_sentence(
    sandbox: FakeBotApi, tmp_path: Path
) -> None:
    database = tmp_path / "bot.sqlite3"
    database.write_bytes(b"this is not a database, it was overwritten by mistake\n" * 200)
    environment = bot_environment(sandbox, database)
    sentence = (
        f"pyeonji: The database {database} is damaged or is not an SQLite database "
        "(file is not a database): restore your last backup, or set DATABASE_PATH to the "
        "right file."
    )
    for command in ("run", "migrate"):
        code, _, err = await finished(await start_cli("bot", command, env=environment))
        assert (code, err.splitlines()[-1]) == (1, sentence), command
        assert "event=crashed" not in err and "Traceback" not in err


async def test_a_read_only_database_stops_the_bot_with_one_sentence(
    sandbox: FakeBotApi, tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    database = await migrated(folder / "bot.sqlite3")
    environment = bot_environment(sandbox, database)
    with read_only_folder(folder) as why:
        code, _, err = await finished(await start_cli("bot", "run", env=environment))
        health = cli("health", database=database)
    assert code == 1
    last = err.splitlines()[-1]
    assert last.startswith(f"pyeonji: The database {database} ") and why in last, last
    assert "event=crashed" not in err and "Traceback" not in err
    assert health.returncode == 1
    assert str(database) in health.stdout and "read-only" in health.stdout, health.stdout


def test_health_says_a_directory_is_a_directory(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    health = cli("health", database=folder)
    assert health.returncode == 1
    assert health.stdout == (
        f"database unusable: DATABASE_PATH {folder} is a directory, not a database file: "
        f"set DATABASE_PATH to a file, e.g. {folder / 'pyeonji.sqlite3'}.\n"
    )


def test_migrate_and_health_do_not_need_a_token_or_webhook_settings(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    environment = {
        **os.environ,
        "BOT_TOKEN": "pasted-half-a-token",
        "WEBHOOK_URL": "http://not-https.example.org",
        "DATABASE_PATH": str(database),
        "PYTHONPATH": str(ROOT),
    }

    def run(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", command],
            env=environment,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )

    migrate = run("migrate")
    assert (migrate.returncode, migrate.stdout.startswith("applied ")) == (0, True), migrate
    health = run("health")
    assert (health.returncode, health.stdout.startswith("ok: ")) == (0, True), health.stdout
    refused = run("run")  # the command that does use them still checks them
    assert refused.returncode == 2 and "BOT_TOKEN" in refused.stderr
    assert "pasted-half-a-token" not in refused.stderr


# -- backup --force replaces only an old backup -----------------------------------------------


async def test_backup_force_replaces_only_an_sqlite_file(tmp_path: Path) -> None:
    database = await migrated(tmp_path / "bot.sqlite3")
    old_backup = tmp_path / "old-backup.sqlite3"
    with sqlite3.connect(old_backup) as connection:
        connection.execute("CREATE TABLE older (x)")
    old_bytes = old_backup.read_bytes()
    notes = tmp_path / "notes.txt"
    notes.write_text("an operator's notes, not a backup\n")
    folder = tmp_path / "folder"
    (folder / "inside").mkdir(parents=True)
    link = tmp_path / "link.sqlite3"
    link.symlink_to(old_backup)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    refusals = {
        folder: "is a directory",
        link: "is a symbolic link",
        fifo: "is not a regular file (a device, a pipe or a socket)",
        notes: "is not an SQLite database",
        database: "is the database itself",
    }
    for target, what in refusals.items():
        result = cli("backup", "--force", str(target), database=database)
        assert result.returncode == 1, target
        assert result.stderr == (
            f"pyeonji: {target} {what}, so backup --force leaves it alone: "
            "choose a new file or an old backup to replace.\n"
        )
    assert (folder / "inside").is_dir() and link.is_symlink() and fifo.is_fifo()
    assert notes.read_text() == "an operator's notes, not a backup\n"
    assert old_backup.read_bytes() == old_bytes  # not through the link either
    assert not [path for path in os.listdir(tmp_path) if path.endswith(".partial")]

    replaced = cli("backup", "--force", str(old_backup), database=database)
    assert replaced.returncode == 0, replaced.stderr
    with sqlite3.connect(old_backup) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert "schema_migrations" in tables and "older" not in tables


# -- webhook: the secret before the body -----------------------------------------------------


@contextlib.asynccontextmanager
async def webhook_bot(sandbox: FakeBotApi, tmp_path: Path, secret: str) -> AsyncIterator[str]:
    """The bot serving its webhook on a free port; yields the URL."""
    from bot.app import build_application

    config = sandbox_config(
        sandbox,
        tmp_path / "bot.sqlite3",
        WEBHOOK_URL="https://bot.example.org/updates",
        WEBHOOK_SECRET=secret,
    )
    application = build_application(config)
    await application.initialize()
    assert application.post_init is not None and application.updater is not None
    await application.post_init(application)
    await application.start()
    port = free_port()
    await application.updater.start_webhook(
        listen="127.0.0.1",
        port=port,
        url_path=config.webhook_path,
        secret_token=secret,
        webhook_url=f"http://127.0.0.1:{port}/updates",
    )
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await application.updater.stop()
        await application.stop()
        if application.post_stop is not None:
            await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


async def headers_only(address: str, secret: str, length: int) -> str:
    """POST headers announcing `length` bytes, send none of them, return the status line."""
    host, port = address.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        (
            "POST /updates HTTP/1.1\r\n"
            f"Host: {address}\r\nContent-Type: application/json\r\n"
            f"X-Telegram-Bot-Api-Secret-Token: {secret}\r\nContent-Length: {length}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    try:
        # The server answers without waiting for the body it was promised.
        return (await asyncio.wait_for(reader.readline(), timeout=10)).decode().strip()
    finally:
        writer.close()


async def test_a_wrong_webhook_secret_is_refused_before_the_body_is_read(
    sandbox: FakeBotApi, tmp_path: Path
) -> None:
    secret = "s3cret-token-for-tests-only"
    async with webhook_bot(sandbox, tmp_path, secret) as address:
        wrong = await headers_only(address, "wrong", 95 * 1024 * 1024)
        assert wrong == "HTTP/1.1 403 Request had the wrong secret token"
        too_big = await headers_only(address, secret, 95 * 1024 * 1024)
        assert too_big == "HTTP/1.1 413 Request Entity Too Large"
        async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
            url = f"http://{address}/updates"
            right = await client.post(
                url,
                json={"update_id": 1},
                headers={"X-Telegram-Bot-Api-Secret-Token": secret},
            )
            assert right.status_code == 200  # an update within the cap is still taken


# -- make demo ---------------------------------------------------------------------------------


async def test_the_demo_with_its_port_taken_says_so_in_one_sentence(tmp_path: Path) -> None:
    database = await migrated(tmp_path / "demo.sqlite3")  # from an earlier demo
    with contextlib.closing(socket.socket()) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        environment = {**os.environ, "DEMO_PORT": str(port), "PYTHONPATH": str(ROOT)}
        process = await start_cli("bot.demo", "--database", str(database), env=environment)
        code, out, err = await finished(process)
    assert code == 1 and out == ""
    assert err == (
        f"pyeonji demo: port {port} on 127.0.0.1 cannot be used (Address already in use; "
        f"another demo?): set DEMO_PORT to a free port, e.g. DEMO_PORT={port + 1} make demo.\n"
    )


async def test_sigterm_stops_the_demo_and_a_second_demo_on_its_database_refuses(
    tmp_path: Path,
) -> None:
    database = await migrated(tmp_path / "demo.sqlite3")
    environment = {**os.environ, "DEMO_PORT": "0", "PYTHONPATH": str(ROOT)}
    demo = await start_cli("bot.demo", "--database", str(database), env=environment)
    assert demo.stdout is not None
    try:
        while b"in a browser" not in await asyncio.wait_for(demo.stdout.readline(), 60):
            pass
        code, _, err = await finished(
            await start_cli("bot.demo", "--database", str(database), env=environment)
        )
        assert code == 1 and ONE_BOT in err and "Traceback" not in err
    finally:
        demo.send_signal(signal.SIGTERM)
        code, out, err = await finished(demo)
    assert (code, out.splitlines()[-1]) == (0, "Stopped.")
    assert "Traceback" not in err
