"""One SQLite connection shared by the repositories, with our pragmas and transactions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.storage.migrations import MIGRATIONS_DIR, apply_migrations
from bot.storage.problems import unusable

log = logging.getLogger(__name__)

Row = aiosqlite.Row
Params = Sequence[Any] | dict[str, Any]

# Applied on every connection. WAL lets readers proceed during a write; secure_delete
# overwrites deleted content so erased letters do not linger in free pages.
PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA secure_delete = ON",
)


# How long a statement waits for another connection's lock before failing with "database is
# locked" (the supervisor then retries it). Tests shorten it rather than wait.
BUSY_TIMEOUT_MS = 5000


class Database:
    """Owns the connection; serializes transactions so one never sees another half-done."""

    def __init__(
        self,
        path: Path,
        migrations_dir: Path = MIGRATIONS_DIR,
        *,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    ) -> None:
        self.path = path
        self.busy_timeout_ms = int(busy_timeout_ms)
        self._migrations_dir = migrations_dir
        self._connection: aiosqlite.Connection | None = None
        # One connection means one transaction at a time: the lock keeps tasks from
        # interleaving statements inside each other's BEGIN ... COMMIT.
        self._lock = asyncio.Lock()

    async def open(self) -> list[str]:
        """Open the file, apply pragmas and pending migrations; return the names applied.

        A file that cannot be used (damaged, read-only, a directory) raises DatabaseUnusable
        with one sentence saying so.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = await aiosqlite.connect(self.path, isolation_level=None)
        except (sqlite3.Error, OSError) as error:
            raise unusable(self.path, error) from None
        connection.row_factory = aiosqlite.Row
        try:
            # First: switching to WAL and migrating wait for another program's lock too.
            await connection.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
            for pragma in PRAGMAS:
                await connection.execute(pragma)
            # A damaged file may open and even answer the pragmas: read it once to be sure.
            await connection.execute("SELECT COUNT(*) FROM sqlite_master")
            applied = await apply_migrations(connection, self._migrations_dir)
        except (sqlite3.Error, OSError) as error:
            await connection.close()
            # The cause tells the supervisor a lock or a full disk, which start-up waits out.
            raise unusable(self.path, error) from error
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        return applied

    async def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.close()

    @property
    def is_open(self) -> bool:
        return self._connection is not None

    @property
    def connection(self) -> aiosqlite.Connection:
        if self._connection is None:
            raise RuntimeError("the database is not open")
        return self._connection

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error or cancellation.

        A stopping bot cancels its tasks, and one may be anywhere in here. A statement it was
        awaiting still runs in aiosqlite's thread (BEGIN included), so the rollback waits for
        it: otherwise the shared connection would stay inside a transaction nobody owns and
        every later BEGIN would fail with "cannot start a transaction within a transaction".
        """
        async with self._lock:
            connection = self.connection
            try:
                await connection.execute("BEGIN IMMEDIATE")
                yield connection
                # Inside the try: SQLite keeps the transaction open when COMMIT itself fails
                # (a full disk, a deferred constraint), and nothing else would end it.
                await connection.execute("COMMIT")
            except BaseException:
                # Shielded: a second cancellation must not leave it half done either.
                await asyncio.shield(_roll_back(connection))
                raise

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """Run one read query that yields at most a row or two (a key, an aggregate, LIMIT 1)
        and return its first row.

        Every row is read, in one trip to aiosqlite's thread: a cursor would take three
        (execute, fetchone, close), each a hand-off between threads, and reads like these run
        on every update.
        """
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """Run one read query and return every row, in one trip to aiosqlite's thread."""
        async with self._lock:
            return list(await self.connection.execute_fetchall(sql, params))

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one write statement in its own transaction; return the rows changed."""
        async with self.transaction() as connection, connection.execute(sql, params) as cursor:
            return cursor.rowcount

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection, with no transaction open, for statements SQLite refuses inside
        one (VACUUM, checkpoints) or that span several steps of their own."""
        async with self._lock:
            yield self.connection

    async def run_outside_transaction(self, sql: str) -> None:
        """Statements SQLite refuses inside a transaction (VACUUM, checkpoints)."""
        async with self._lock:
            await self.connection.execute(sql)

    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement for many parameter sets in one transaction."""
        async with self.transaction() as connection:
            await connection.executemany(sql, rows)


async def _roll_back(connection: aiosqlite.Connection) -> None:
    """Roll back whatever transaction is open once every statement queued before has run."""
    with contextlib.suppress(sqlite3.Error):
        # aiosqlite runs calls in order on one thread: when this one answers, a cancelled
        # BEGIN or INSERT queued before it has run too, and in_transaction tells the truth.
        await connection.execute("SELECT 1")
        # SQLite itself rolls back after some errors (a full disk); a second ROLLBACK would
        # only fail.
        if connection.in_transaction:
            await connection.execute("ROLLBACK")
