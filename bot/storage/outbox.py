"""SQL for the outbox: enqueue inside the caller's transaction, claim, finish, count."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.storage.database import Database


@dataclass(frozen=True)
class Payload:
    """What one message says: HTML text, maybe a photo, maybe inline buttons."""

    text: str
    photo_file_id: str | None = None
    buttons: Sequence[Sequence[tuple[str, str]]] | None = None  # rows of (label, callback data)


@dataclass(frozen=True)
class OutboxItem:
    """A claimed row, ready to be sent."""

    id: int
    user_id: int
    chat_id: int
    attempts: int
    broadcast_id: int | None
    payload: Payload


@dataclass(frozen=True)
class Outcome:
    """How one send ended, to be written back in a batch."""

    id: int
    state: str  # sent, failed, blocked
    error: str | None = None


@dataclass(frozen=True)
class Requeue:
    """A row going back to the queue, due at `not_before`; `refund` undoes its attempt."""

    id: int
    not_before: float
    refund: bool


@dataclass(frozen=True)
class Backlog:
    pending: int
    oldest_created_at: int | None
    last_sent_at: int | None


async def insert_payload(connection: aiosqlite.Connection, payload: Payload) -> int:
    """Store a message text once; outbox rows point at it."""
    buttons = None if payload.buttons is None else json.dumps(payload.buttons, ensure_ascii=False)
    cursor = await connection.execute(
        "INSERT INTO outbox_payloads (text, photo_file_id, reply_markup) VALUES (?, ?, ?)",
        (payload.text, payload.photo_file_id, buttons),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def enqueue_to_member(
    connection: aiosqlite.Connection, user_id: int, payload: Payload, kind: str, now: int
) -> bool:
    """Queue one message to one member, in the caller's transaction; False if unknown."""
    payload_id = await insert_payload(connection, payload)
    cursor = await connection.execute(
        "INSERT INTO outbox (user_id, chat_id, payload_id, kind, created_at)"
        " SELECT user_id, chat_id, ?, ?, ? FROM members WHERE user_id = ?",
        (payload_id, kind, now, user_id),
    )
    return cursor.rowcount > 0


async def enqueue_to_subscribers(
    connection: aiosqlite.Connection,
    payloads: Mapping[str, Payload],
    *,
    kind: str,
    broadcast_id: int,
    now: int,
    modes: Iterable[str] | None = None,
    writers_only: bool = False,
    writers_bundle: int | None = None,
) -> int:
    """Queue one message per active subscriber whose language has a payload; return the count.

    `writers_only`: only those with a letter handed over (the "letter writers" audience), in
    bundle `writers_bundle` if given.

    One INSERT ... SELECT per language: 100,000 rows take a fraction of a second.
    """
    # json_each keeps the statement fully parameterized whatever the list of modes.
    mode_list = None if modes is None else json.dumps(list(modes))
    total = 0
    for language, payload in payloads.items():
        payload_id = await insert_payload(connection, payload)
        cursor = await connection.execute(
            "INSERT INTO outbox (user_id, chat_id, payload_id, broadcast_id, kind, created_at)"
            " SELECT user_id, chat_id, ?, ?, ?, ? FROM members"
            " WHERE subscribed = 1 AND active = 1 AND blocked = 0 AND consented_at IS NOT NULL"
            " AND language = ?"
            " AND (? IS NULL OR delivery_mode IN (SELECT value FROM json_each(?)))"
            " AND (? = 0 OR user_id IN (SELECT user_id FROM letters WHERE state = 'delivered'"
            " AND (? IS NULL OR bundle_id = ?)))"
            " ORDER BY user_id",
            (
                payload_id,
                broadcast_id,
                kind,
                now,
                language,
                mode_list,
                mode_list,
                writers_only,
                writers_bundle,
                writers_bundle,
            ),
        )
        total += cursor.rowcount
    return total


class OutboxRepository:
    """The sender's side of the outbox."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def put_back_in_flight(self) -> int:
        """At start-up: rows a crash left in 'sending' go out again (maybe twice, never zero)."""
        return await self._db.execute(
            "UPDATE outbox SET state = 'pending' WHERE state = 'sending'"
        )

    async def claim(self, limit: int, now: float) -> list[OutboxItem]:
        """Take up to `limit` due rows, oldest first, and mark them in flight."""
        async with self._db.transaction() as connection:
            async with connection.execute(
                "SELECT o.id, o.user_id, o.chat_id, o.attempts, o.broadcast_id,"
                " p.text, p.photo_file_id, p.reply_markup"
                " FROM outbox o JOIN outbox_payloads p ON p.id = o.payload_id"
                " WHERE o.state = 'pending' AND o.not_before <= ?"
                " ORDER BY o.not_before, o.id LIMIT ?",
                (now, limit),
            ) as cursor:
                rows = list(await cursor.fetchall())
            if rows:
                await connection.executemany(
                    "UPDATE outbox SET state = 'sending', attempts = attempts + 1 WHERE id = ?",
                    [(row["id"],) for row in rows],
                )
        return [_item(row) for row in rows]

    async def settle(
        self, outcomes: Sequence[Outcome], requeues: Sequence[Requeue], now: int
    ) -> None:
        """Write back a batch of finished sends and of rows going back to the queue.

        Blocked members become inactive in the same transaction.
        """
        async with self._db.transaction() as connection:
            await connection.executemany(
                "UPDATE outbox SET state = 'pending', not_before = ?, attempts = attempts - ?"
                " WHERE id = ? AND state = 'sending'",
                [(r.not_before, 1 if r.refund else 0, r.id) for r in requeues],
            )
            await connection.executemany(
                "UPDATE outbox SET state = ?, error = ?, finished_at = ? WHERE id = ?",
                [(o.state, o.error, now, o.id) for o in outcomes],
            )
            blocked = [(o.id,) for o in outcomes if o.state == "blocked"]
            if blocked:
                await connection.executemany(
                    "UPDATE members SET active = 0"
                    " WHERE user_id = (SELECT user_id FROM outbox WHERE id = ?)",
                    blocked,
                )

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its id changed everywhere we keep it."""
        async with self._db.transaction() as connection:
            await connection.execute(
                "UPDATE members SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id)
            )
            await connection.execute(
                "UPDATE outbox SET chat_id = ? WHERE chat_id = ? AND state IN"
                " ('pending', 'sending')",
                (new_chat_id, old_chat_id),
            )

    async def cancel_broadcast(self, broadcast_id: int) -> int:
        """Stop what has not left yet; return how many rows were cancelled."""
        return await self._db.execute(
            "UPDATE outbox SET state = 'cancelled' WHERE broadcast_id = ? AND state = 'pending'",
            (broadcast_id,),
        )

    async def counts_for_broadcast(self, broadcast_id: int) -> dict[str, int]:
        rows = await self._db.fetch_all(
            "SELECT state, COUNT(*) AS n FROM outbox WHERE broadcast_id = ? GROUP BY state",
            (broadcast_id,),
        )
        return {row["state"]: row["n"] for row in rows}

    async def next_due(self) -> float | None:
        """When the earliest pending row becomes due (None when the queue is empty)."""
        row = await self._db.fetch_one(
            "SELECT MIN(not_before) AS due FROM outbox WHERE state = 'pending'"
        )
        return None if row is None or row["due"] is None else float(row["due"])

    async def backlog(self) -> Backlog:
        pending = await self._db.fetch_one(
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox"
            " WHERE state IN ('pending', 'sending')"
        )
        sent = await self._db.fetch_one(
            "SELECT MAX(finished_at) AS at FROM outbox WHERE state = 'sent'"
        )
        assert pending is not None and sent is not None
        return Backlog(pending["n"], pending["oldest"], sent["at"])

    async def forget_sent_payloads(self) -> int:
        """Delete message texts nothing still needs to send (they may quote letters)."""
        return await self._db.execute(
            "DELETE FROM outbox_payloads WHERE NOT EXISTS (SELECT 1 FROM outbox o"
            " WHERE o.payload_id = outbox_payloads.id AND o.state IN ('pending', 'sending'))"
        )


def _item(row: Any) -> OutboxItem:
    buttons = json.loads(row["reply_markup"]) if row["reply_markup"] else None
    return OutboxItem(
        id=row["id"],
        user_id=row["user_id"],
        chat_id=row["chat_id"],
        attempts=row["attempts"] + 1,
        broadcast_id=row["broadcast_id"],
        payload=Payload(row["text"], row["photo_file_id"], buttons),
    )
