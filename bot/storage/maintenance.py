"""Read-only inspection and online backup of a database file, for health checks and backups.

These run from the command line next to (or instead of) the bot, so they use the standard
sqlite3 module directly and never create, migrate or write the database they inspect.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DatabaseState:
    schema_version: int
    pending: int  # outbox rows not yet sent (pending or in flight)
    oldest_pending_at: int | None
    last_sent_at: int | None


def inspect(path: Path) -> DatabaseState:
    """Open the file read-only and read its schema version and outbox backlog."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        version = 0
        if "schema_migrations" in tables:
            row = connection.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
            version = int(row[0] or 0)
        if "outbox" not in tables:
            return DatabaseState(version, 0, None, None)
        pending, oldest = connection.execute(
            "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE state IN ('pending', 'sending')"
        ).fetchone()
        (last_sent,) = connection.execute(
            "SELECT MAX(finished_at) FROM outbox WHERE state = 'sent'"
        ).fetchone()
        return DatabaseState(version, int(pending), oldest, last_sent)
    finally:
        connection.close()


def backup(source: Path, target: Path) -> int:
    """Copy a live database page by page with SQLite's online backup; return its page count.

    Safe while the bot writes: the backup API restarts on pages that change under it, and
    the copy is a consistent snapshot. The copy is checked before this returns.
    """
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    writer = sqlite3.connect(target)
    try:
        reader.backup(writer, pages=256)
        (result,) = writer.execute("PRAGMA integrity_check").fetchone()
        if result != "ok":
            raise sqlite3.DatabaseError(f"the backup failed its integrity check: {result}")
        (pages,) = writer.execute("PRAGMA page_count").fetchone()
        # A backup is a single file: leave it in rollback-journal mode, not WAL.
        writer.execute("PRAGMA journal_mode = DELETE")
        return int(pages)
    finally:
        writer.close()
        reader.close()
