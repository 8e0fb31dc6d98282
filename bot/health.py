"""`python -m bot health`: is the database there, current, and is the outbox moving?"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.storage.maintenance import DatabaseState, inspect
from bot.storage.migrations import MIGRATIONS_DIR, load_migrations
from bot.storage.problems import describe, free_bytes, free_space
from bot.supervision import TRANSIENT_KINDS, heartbeat_path

# The outbox is stuck when a message that may be sent now has waited this long and nothing
# at all has been sent (or refused) for as long. A long broadcast keeps old rows waiting
# while it progresses (100,000 recipients at 30 messages/s take an hour), and rows held back
# by Telegram's flood control are not due yet: neither is stuck.
STUCK_AFTER_SECONDS = 15 * 60
# With a running bot's heartbeat (see bot/supervision.py) health can say more, and sooner: a
# sender that has not taken a turn for a minute while messages are due is stalled, whatever
# the reason; a task that crashed on a bug or died is reported at once; a transient failure
# (a locked or full database, the network) only once it has lasted a minute.
STALLED_AFTER_SECONDS = 60
BEATS_MISSED = 3  # heartbeats missed before the bot counts as gone
# Below this the bot cannot grow its file or write its heartbeat: health says so first.
DISK_NEARLY_FULL_BYTES = 1_000_000
FULL_KINDS = frozenset({"database_full", "disk_full"})  # health adds the space left


@dataclass(frozen=True)
class Health:
    ok: bool
    line: str


def check(database: Path, now: float | None = None) -> Health:
    """One line saying whether the bot's database is healthy, and why not."""
    now = time.time() if now is None else now
    if database.exists() and not database.is_file():  # a directory, a device, ...
        return Health(False, f"database unusable: {describe(database, OSError())}")
    if not database.is_file():
        return Health(False, f"database missing: {database} does not exist")
    if free_bytes(database) < DISK_NEARLY_FULL_BYTES:
        # Checked first: on a full disk the heartbeat cannot be written either.
        return Health(
            False,
            f"disk full: the disk holding {database} has {free_space(database)} free; the bot "
            "waits until there is room (free some space)",
        )
    try:
        state = inspect(database, now)
    except sqlite3.DatabaseError as error:
        return Health(False, f"database unreadable: {describe(database, error)}")
    # First what the running bot says: a start waiting for a lock or for space has not
    # migrated a new database yet, and the wait is what the operator must hear about.
    problem = _heartbeat_problem(heartbeat_path(database), state, now)
    if problem is not None:
        return Health(False, problem)
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
    return _outbox_health(state, now)


def _heartbeat_problem(path: Path, state: DatabaseState, now: float) -> str | None:
    """What the running bot's heartbeat says is wrong; None when fine or when there is none."""
    try:
        beat: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        tasks: dict[str, dict[str, Any]] = beat["tasks"]
        written_at, interval = float(beat["written_at"]), float(beat["interval"])
        progress = {name: float(at) for name, at in beat["progress"].items()}
    except FileNotFoundError:
        return None  # the bot is stopped (it removes the file) or never ran here
    except (OSError, ValueError, KeyError, TypeError):
        return f"heartbeat unreadable: {path}"
    for name, task in sorted(tasks.items()):
        if task["state"] == "dead":
            return f"background task {name} died: restart the bot"
    for name, task in sorted(tasks.items()):
        if task["state"] == "failing" and task["kind"] not in TRANSIENT_KINDS:
            return f"background task {name} crashed and is being restarted: see the log"
    drain = tasks.get("outbox-drain")
    last_turn = progress.get("outbox-drain", written_at)
    due = None if state.oldest_due_at is None else now - state.oldest_due_at
    if due is not None and min(due, now - last_turn) > STALLED_AFTER_SECONDS:
        why = f" ({drain['kind']})" if drain and drain["state"] == "failing" else ""
        return (
            f"sender stalled{why}: no progress for {_age(now - last_turn)} while "
            f"{state.pending} messages wait"
        )
    for name, task in sorted(tasks.items()):
        since = task.get("failing_since")
        if task["state"] == "failing" and since and now - since > STALLED_AFTER_SECONDS:
            disk = f" ({free_space(path)} free on its disk)" if task["kind"] in FULL_KINDS else ""
            return f"background task {name} failing for {_age(now - since)}: {task['kind']}{disk}"
    if now - written_at > BEATS_MISSED * interval:
        return (
            f"bot not running: its heartbeat stopped {_ago(now - written_at)} "
            "(killed, crashed or frozen; it was not stopped cleanly)"
        )
    return None


def _outbox_health(state: DatabaseState, now: float) -> Health:
    last_sent = "never" if state.last_sent_at is None else _ago(now - state.last_sent_at)
    waiting = f"{state.pending} waiting"
    if state.oldest_pending_at is not None:
        waiting += f" (oldest {_age(now - state.oldest_pending_at)})"
    waited = None if state.oldest_due_at is None else now - state.oldest_due_at
    quiet = None if state.last_finished_at is None else now - state.last_finished_at
    if (
        waited is not None
        and waited > STUCK_AFTER_SECONDS
        and (quiet is None or quiet > STUCK_AFTER_SECONDS)
    ):
        return Health(False, f"outbox stuck: {waiting}, last sent {last_sent}")
    return Health(
        True, f"ok: schema {state.schema_version}, outbox {waiting}, last sent {last_sent}"
    )


def _age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= 2 * size:
            return f"{seconds // size:.0f}{unit}"
    return f"{seconds:.0f}s"


def _ago(seconds: float) -> str:
    return f"{_age(seconds)} ago"
