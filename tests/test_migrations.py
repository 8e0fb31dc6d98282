"""Migrations apply once, in order, and a database newer than the code is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.storage.database import Database
from bot.storage.migrations import (
    MIGRATIONS_DIR,
    DatabaseTooNew,
    MigrationError,
    load_migrations,
)


async def test_a_new_database_gets_every_migration_once(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    first = Database(path)
    applied = await first.open()
    await first.close()
    assert applied == [f"{m.version:04d}_{m.name}" for m in load_migrations(MIGRATIONS_DIR)]

    second = Database(path)
    assert await second.open() == []
    await second.close()
    with sqlite3.connect(path) as connection:
        versions = [row[0] for row in connection.execute("SELECT version FROM schema_migrations")]
    assert versions == list(range(1, len(applied) + 1))


async def test_the_connection_uses_the_designed_pragmas(tmp_path: Path) -> None:
    database = Database(tmp_path / "bot.sqlite3")
    await database.open()
    try:
        for pragma, expected in [
            ("journal_mode", "wal"),
            ("foreign_keys", 1),
            ("secure_delete", 1),
            ("busy_timeout", 5000),
        ]:
            row = await database.fetch_one(f"PRAGMA {pragma}")
            assert row is not None and row[0] == expected, pragma
    finally:
        await database.close()


async def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    database = Database(path)
    await database.open()
    await database.close()
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at)"
            " VALUES (999, 'from_the_future', '', 0)"
        )
    with pytest.raises(DatabaseTooNew, match="999"):
        await Database(path).open()


async def test_a_failing_migration_leaves_nothing_half_applied(tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "0001_good.sql").write_text("CREATE TABLE kept (id INTEGER);")
    (migrations / "0002_bad.sql").write_text(
        "CREATE TABLE half (id INTEGER);\nINSERT INTO no_such_table VALUES (1);"
    )
    path = tmp_path / "bot.sqlite3"
    with pytest.raises(MigrationError, match="0002_bad"):
        await Database(path, migrations).open()
    with sqlite3.connect(path) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        versions = [row[0] for row in connection.execute("SELECT version FROM schema_migrations")]
    assert "kept" in tables and "half" not in tables
    assert versions == [1]


def test_migration_files_are_numbered_without_gaps(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0003_c.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="gaps"):
        load_migrations(tmp_path)
