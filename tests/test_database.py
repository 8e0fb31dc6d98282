"""The one shared connection stays usable whatever happens to the task that was using it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.storage.database import Database


async def opened(tmp_path: Path) -> Database:
    database = Database(tmp_path / "pyeonji.sqlite3")
    await database.open()
    await database.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    return database


@pytest.mark.parametrize("turns", [0, 1, 2, 3, 5, 8])
async def test_a_task_cancelled_anywhere_in_a_transaction_leaves_none_open(
    tmp_path: Path, turns: int
) -> None:
    """A stopping bot cancels its tasks; one may be anywhere between BEGIN and COMMIT (the
    statement already queued in aiosqlite's thread runs anyway). The next transaction must
    still begin, and nothing half-written may stay."""
    database = await opened(tmp_path)

    async def write_two() -> None:
        async with database.transaction() as connection:
            await connection.execute("INSERT INTO notes (body) VALUES ('first')")
            await connection.execute("INSERT INTO notes (body) VALUES ('second')")

    task = asyncio.create_task(write_two())
    for _ in range(turns):  # cancelled at a different await each time
        await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    inserted = database.execute("INSERT INTO notes (body) VALUES ('after')")
    assert await asyncio.wait_for(inserted, timeout=10) == 1
    rows = await database.fetch_all("SELECT body FROM notes ORDER BY id")
    bodies = [row["body"] for row in rows]
    assert bodies in (["after"], ["first", "second", "after"])  # all of it or none
    assert not database.connection.in_transaction
    await database.close()
