"""One running bot per database: an OS file lock beside it, held for the process's life."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from bot.storage.problems import unusable


class AlreadyRunning(Exception):
    """Another bot holds the database's lock; the message is one sentence saying so."""


class InstanceLock:
    """An exclusive flock on `<database>.lock`.

    The kernel releases it when the process ends, however it ends (kill -9, a crash, a
    power cut), so a stale lock never keeps the bot from starting. `migrate`, `health` and
    `backup` do not take it: SQLite's own locking keeps them safe beside a running bot.
    """

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(f"{database.name}.lock")
        self._database = database
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise AlreadyRunning (never waits)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise unusable(self._database, error) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            by = f" (process {holder})" if holder.isdigit() else ""
            raise AlreadyRunning(
                f"Another Pyeonji bot{by} is already running on the database "
                f"{self._database}: only one bot may run per database, so this one stops."
            ) from None
        # Who holds it, for the sentence above; the lock itself is the flock, not this text.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Let another bot start (idempotent); the end of the process does it too."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
