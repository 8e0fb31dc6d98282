"""Read-only inspection and online backup of a database file, for health checks and backups.

These run from the command line next to (or instead of) the bot, so they use the standard
sqlite3 module directly and never create, migrate or write the database they inspect.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DatabaseState:
    schema_version: int
    pending: int  # outbox rows not yet sent (pending or in flight)
    oldest_pending_at: int | None  # created_at of the oldest of those
    oldest_due_at: int | None  # created_at of the oldest one that may be sent now
    last_sent_at: int | None  # when a message last went out
    last_finished_at: int | None  # when any send last ended (sent, failed or blocked)


def _open_read_only(path: Path) -> sqlite3.Connection:
    """Open an existing database read-only: a missing file is an error, never created.

    The URI is built by pathlib, which escapes `?`, `#` and `%` in the file's name.
    """
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def inspect(path: Path, now: float) -> DatabaseState:
    """Open the file read-only and read its schema version and outbox backlog."""
    connection = _open_read_only(path)
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
            return DatabaseState(version, 0, None, None, None, None)
        pending, oldest, oldest_due = connection.execute(
            "SELECT COUNT(*), MIN(created_at),"
            " MIN(CASE WHEN state = 'sending' OR not_before <= ? THEN created_at END)"
            " FROM outbox WHERE state IN ('pending', 'sending')",
            (now,),
        ).fetchone()
        last_sent, last_finished = connection.execute(
            "SELECT MAX(CASE WHEN state = 'sent' THEN finished_at END), MAX(finished_at)"
            " FROM outbox WHERE state IN ('sent', 'failed', 'blocked', 'unknown')"
        ).fetchone()
        return DatabaseState(version, int(pending), oldest, oldest_due, last_sent, last_finished)
    finally:
        connection.close()


SQLITE_HEADER = b"SQLite format 3\x00"


class UnsafeTarget(Exception):
    """`--force` would replace something that is not an old backup; says what it is."""


def backup(source: Path, target: Path, *, force: bool = False) -> int:
    """Copy a live database with SQLite's online backup; return the copy's page count.

    The copy is written next to `target`, integrity-checked, then renamed into place, so a
    failed backup never leaves a half-written file, nor replaces a good one. An existing
    `target` is kept (FileExistsError) unless `force`, and even then only a regular file
    holding an SQLite database, other than `source`, is replaced (else UnsafeTarget).
    """
    _check_target(source, target, force=force)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        pages = _copy(source, partial)
        _check_target(source, target, force=force)  # it may have appeared meanwhile
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return pages


def _check_target(source: Path, target: Path, *, force: bool) -> None:
    """Refuse to replace anything but nothing or an old SQLite file (never /dev/null...)."""
    try:
        status = target.lstat()  # a symlink is judged itself, never what it points to
    except FileNotFoundError:
        return
    if not force:
        raise FileExistsError(target)
    if stat.S_ISLNK(status.st_mode):
        raise UnsafeTarget(f"{target} is a symbolic link")
    if stat.S_ISDIR(status.st_mode):
        raise UnsafeTarget(f"{target} is a directory")
    if not stat.S_ISREG(status.st_mode):
        raise UnsafeTarget(f"{target} is not a regular file (a device, a pipe or a socket)")
    if source.exists() and os.path.samefile(source, target):
        raise UnsafeTarget(f"{target} is the database itself")
    with open(target, "rb") as existing:
        if existing.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise UnsafeTarget(f"{target} is not an SQLite database")


def _copy(source: Path, target: Path) -> int:
    reader = _open_read_only(source)
    writer = sqlite3.connect(target)
    try:
        # One step: in WAL mode that reads one consistent snapshot while the bot keeps
        # writing. Copying in slices would restart at every write of the bot, and a busy
        # bot writes several times a second, so a large database might never finish.
        reader.backup(writer)
        (result,) = writer.execute("PRAGMA integrity_check").fetchone()
        if result != "ok":
            raise sqlite3.DatabaseError(f"the backup failed its integrity check: {result}")
        (pages,) = writer.execute("PRAGMA page_count").fetchone()
        # A backup is a single file: rollback-journal mode, not WAL.
        writer.execute("PRAGMA journal_mode = DELETE")
    finally:
        writer.close()
        reader.close()
    with open(target, "rb+") as written, contextlib.suppress(OSError):
        os.fsync(written.fileno())  # on disk before it replaces anything
    return int(pages)
