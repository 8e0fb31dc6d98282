"""Numbered SQL files applied in order and recorded in `schema_migrations`; never edited."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
_FILE_PATTERN = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(Exception):
    """The database cannot be brought to the schema this code expects."""


class DatabaseTooNew(MigrationError):
    """The database was written by a newer version of the bot."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def load_migrations(directory: Path) -> list[Migration]:
    """Read `NNNN_name.sql` files, in order, refusing gaps and duplicates."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_PATTERN.match(path.name)
        if match is None:
            raise MigrationError(f"migration file {path.name} is not named NNNN_name.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"two migration files have number {version:04d}")
        found[version] = Migration(version, match.group(2), path.read_text(encoding="utf-8"))
    versions = sorted(found)
    if versions != list(range(1, len(versions) + 1)):
        raise MigrationError("migration numbers must run 0001, 0002, ... without gaps")
    return [found[version] for version in versions]


async def apply_migrations(connection: aiosqlite.Connection, directory: Path) -> list[str]:
    """Apply every pending migration, each in its own transaction; return what was applied."""
    migrations = load_migrations(directory)
    await connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " checksum TEXT NOT NULL, applied_at INTEGER NOT NULL)"
    )
    async with connection.execute("SELECT version, checksum FROM schema_migrations") as cursor:
        applied = {int(row[0]): str(row[1]) for row in await cursor.fetchall()}
    newest_known = migrations[-1].version if migrations else 0
    if applied and max(applied) > newest_known:
        raise DatabaseTooNew(
            f"the database has schema version {max(applied)} but this version of the bot only "
            f"knows up to {newest_known}: upgrade the bot or restore a matching backup"
        )
    done: list[str] = []
    for migration in migrations:
        if migration.version in applied:
            if applied[migration.version] != migration.checksum:
                # Applied files are never edited; say so loudly but keep running.
                log.warning("migration=%04d event=edited_after_apply", migration.version)
            continue
        await _apply_one(connection, migration)
        done.append(f"{migration.version:04d}_{migration.name}")
        log.info("migration=%04d_%s event=applied", migration.version, migration.name)
    return done


async def current_version(connection: aiosqlite.Connection) -> int:
    """The highest applied migration number, 0 for a new database."""
    async with connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ) as cursor:
        if await cursor.fetchone() is None:
            return 0
    async with connection.execute("SELECT MAX(version) FROM schema_migrations") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row is not None and row[0] is not None else 0


async def _apply_one(connection: aiosqlite.Connection, migration: Migration) -> None:
    # executescript commits any open transaction first, so the BEGIN goes inside the script.
    script = (
        "BEGIN IMMEDIATE;\n"
        f"{migration.sql}\n;\n"
        "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
        f"VALUES ({migration.version}, '{migration.name}', '{migration.checksum}', "
        f"{int(time.time())});\n"
        "COMMIT;"
    )
    try:
        await connection.executescript(script)
    except Exception as error:
        if connection.in_transaction:
            await connection.execute("ROLLBACK")
        raise MigrationError(
            f"migration {migration.version:04d}_{migration.name} failed: {error}"
        ) from error
