"""`python -m bot health`: is the database there, current, and is the outbox moving?"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from bot.storage.maintenance import inspect
from bot.storage.migrations import MIGRATIONS_DIR, load_migrations

# A row waiting longer than this means the sender is stuck (or Telegram unreachable): even
# 100,000 recipients at 30 messages/s take under an hour, and they are sent oldest first.
STUCK_AFTER_SECONDS = 15 * 60


@dataclass(frozen=True)
class Health:
    ok: bool
    line: str


def check(database: Path, now: float | None = None) -> Health:
    """One line saying whether the bot's database is healthy, and why not."""
    now = time.time() if now is None else now
    if not database.is_file():
        return Health(False, f"database missing: {database} does not exist")
    try:
        state = inspect(database)
    except sqlite3.DatabaseError as error:
        return Health(False, f"database unreadable: {type(error).__name__}")
    expected = len(load_migrations(MIGRATIONS_DIR))
    if state.schema_version < expected:
        return Health(
            False,
            f"schema behind: version {state.schema_version}, code needs "
            f"{expected} (start the bot or run python -m bot migrate)",
        )
    if state.schema_version > expected:
        return Health(
            False,
            f"schema ahead: version {state.schema_version} is newer than this code ({expected})",
        )
    age = None if state.oldest_pending_at is None else now - state.oldest_pending_at
    last = "never" if state.last_sent_at is None else f"{now - state.last_sent_at:.0f}s ago"
    if age is not None and age > STUCK_AFTER_SECONDS:
        return Health(
            False,
            f"outbox stuck: {state.pending} waiting, oldest {age:.0f}s old, last sent {last}",
        )
    return Health(
        True,
        f"ok: schema {state.schema_version}, outbox {state.pending} waiting, last sent {last}",
    )
