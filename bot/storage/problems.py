"""One sentence for an operator saying what is wrong with a database file and what to do."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

# SQLite's result codes (extended ones, e.g. SQLITE_READONLY_DBMOVED, start with these).
_DAMAGED = ("SQLITE_NOTADB", "SQLITE_CORRUPT")
_READ_ONLY = ("SQLITE_READONLY", "SQLITE_PERM")
_LOCKED = ("SQLITE_BUSY", "SQLITE_LOCKED")
_FULL = ("SQLITE_FULL",)


class DatabaseUnusable(Exception):
    """The database file cannot be used; the message is one sentence naming the file."""


def _filesystem(path: Path) -> os.statvfs_result | None:
    """The filesystem holding `path`, or the folder it would be created in (None: unknown)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            try:
                return os.statvfs(candidate)
            except OSError:
                return None
    return None


def on_read_only_filesystem(path: Path) -> bool:
    """True when the file (or the folder it would be created in) is on a read-only mount."""
    stats = _filesystem(path)
    return stats is not None and bool(stats.f_flag & os.ST_RDONLY)


def free_bytes(path: Path) -> float:
    """Bytes the bot's user may still write on the filesystem holding `path` (inf: unknown)."""
    stats = _filesystem(path)
    return float("inf") if stats is None else float(stats.f_bavail * stats.f_frsize)


def free_space(path: Path) -> str:
    """Space left for the bot's user on the filesystem holding `path`, e.g. "12.5 MB"."""
    free = free_bytes(path)
    return "unknown space" if free == float("inf") else f"{free / 1_000_000:.1f} MB"


def describe(path: Path, error: BaseException) -> str:
    """What is wrong with `path`, given the error opening or writing it raised."""
    name = getattr(error, "sqlite_errorname", "") or ""
    if path.is_dir():
        return (
            f"DATABASE_PATH {path} is a directory, not a database file: "
            f"set DATABASE_PATH to a file, e.g. {path / 'pyeonji.sqlite3'}."
        )
    if path.exists() and not path.is_file():
        return (
            f"DATABASE_PATH {path} is not a regular file (a device, a pipe or a socket): "
            "set DATABASE_PATH to the database file."
        )
    if name.startswith(_READ_ONLY) or isinstance(error, PermissionError):
        where = (
            "it is on a read-only filesystem"
            if on_read_only_filesystem(path)
            else "the file or its folder is read-only for this user"
        )
        return (
            f"The database {path} cannot be written ({where}): make the file and its folder "
            "writable by the bot's user, or set DATABASE_PATH to a writable place."
        )
    if name.startswith(_LOCKED):
        return (
            f"The database {path} is locked by another program (an sqlite3 shell, a copy or "
            "a backup in progress): end that program; the bot waits for it."
        )
    if name.startswith(_FULL) or getattr(error, "errno", None) == errno.ENOSPC:
        return (
            f"The disk holding the database {path} is full ({free_space(path)} free): free "
            "some space; the bot waits for it."
        )
    if name.startswith(_DAMAGED):
        return (
            f"The database {path} is damaged or is not an SQLite database ({error}): "
            "restore your last backup, or set DATABASE_PATH to the right file."
        )
    if on_read_only_filesystem(path):
        return (
            f"The database {path} is on a read-only filesystem: mount it read-write, or set "
            "DATABASE_PATH to a writable place."
        )
    kind = name or type(error).__name__
    return (
        f"The database {path} cannot be opened ({kind}: {error}): check that its folder "
        "exists and that the bot's user may read and write it."
    )


def unusable(path: Path, error: sqlite3.Error | OSError) -> DatabaseUnusable:
    """The exception to raise instead of `error`, with its sentence."""
    return DatabaseUnusable(describe(path, error))
