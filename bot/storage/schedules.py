"""SQL for scheduled announcements; each leaves its waiting states once (conditional UPDATEs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import aiosqlite

from bot.storage.database import Database, Row
from bot.storage.outbox import Payload, enqueue_to_member
from bot.storage.roles import write_audit

WAITING = ("awaiting_approval", "scheduled", "late")


@dataclass(frozen=True)
class ScheduledAnnouncement:
    id: int
    author_id: int
    audience: str
    text_ko: str | None
    text_en: str | None
    send_at: int
    state: str
    author_told: bool
    writers_bundle: int | None = None


def _scheduled(row: Row) -> ScheduledAnnouncement:
    return ScheduledAnnouncement(
        row["id"],
        row["author_id"],
        row["audience"],
        row["text_ko"],
        row["text_en"],
        row["send_at"],
        row["state"],
        bool(row["author_told"]),
        row["writers_bundle"],
    )


class ScheduleRepository:
    """Creates, lists, approves, cancels and marks scheduled announcements."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        author_id: int,
        audience: str,
        text_ko: str | None,
        text_en: str | None,
        send_at: int,
        awaiting_approval: bool,
        now: int,
        bundle: int | None = None,
    ) -> int:
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "INSERT INTO scheduled_announcements (author_id, audience, writers_bundle,"
                " text_ko, text_en, send_at, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    author_id,
                    audience,
                    bundle,
                    text_ko,
                    text_en,
                    send_at,
                    "awaiting_approval" if awaiting_approval else "scheduled",
                    now,
                ),
            )
            schedule_id = cursor.lastrowid
            assert schedule_id is not None
            await write_audit(
                connection,
                now,
                author_id,
                "announcement_scheduled",
                None,
                f"schedule {schedule_id} {audience} {send_at}",
            )
        return schedule_id

    async def get(self, schedule_id: int) -> ScheduledAnnouncement | None:
        row = await self._db.fetch_one(
            "SELECT * FROM scheduled_announcements WHERE id = ?", (schedule_id,)
        )
        return _scheduled(row) if row is not None else None

    async def waiting(self) -> list[ScheduledAnnouncement]:
        """Everything not yet sent or cancelled, soonest first."""
        rows = await self._db.fetch_all(
            "SELECT * FROM scheduled_announcements WHERE state IN (?, ?, ?)"
            " ORDER BY send_at, id LIMIT 50",
            WAITING,
        )
        return [_scheduled(row) for row in rows]

    async def due(self, now: int) -> list[ScheduledAnnouncement]:
        rows = await self._db.fetch_all(
            "SELECT * FROM scheduled_announcements WHERE state IN ('awaiting_approval',"
            " 'scheduled') AND send_at <= ? ORDER BY send_at, id",
            (now,),
        )
        return [_scheduled(row) for row in rows]

    async def approved(self, approval_id: int) -> ScheduledAnnouncement | None:
        """The announcement held by `approval_id`, now free to go at its time; else None."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE scheduled_announcements SET state = 'scheduled'"
                " WHERE approval_id = ? AND state = 'awaiting_approval'",
                (approval_id,),
            )
            if cursor.rowcount == 0:
                return None
            async with connection.execute(
                "SELECT * FROM scheduled_announcements WHERE approval_id = ?", (approval_id,)
            ) as rows:
                row = await rows.fetchone()
        return _scheduled(row) if row is not None else None

    async def refused(self, approval_id: int, actor_id: int, now: int) -> None:
        """The second coordinator refused it: it never goes out."""
        await self._db.execute(
            "UPDATE scheduled_announcements SET state = 'cancelled', decided_by = ?,"
            " decided_at = ? WHERE approval_id = ? AND state = 'awaiting_approval'",
            (actor_id, now, approval_id),
        )

    async def held_by(self, approval_id: int) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 FROM scheduled_announcements WHERE approval_id = ?", (approval_id,)
        )
        return row is not None

    async def cancel(self, schedule_id: int, actor_id: int, now: int) -> bool:
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE scheduled_announcements SET state = 'cancelled', decided_by = ?,"
                " decided_at = ? WHERE id = ? AND state IN (?, ?, ?)",
                (actor_id, now, schedule_id, *WAITING),
            )
            if cursor.rowcount == 0:
                return False
            await write_audit(
                connection,
                now,
                actor_id,
                "announcement_unscheduled",
                None,
                f"schedule {schedule_id}",
            )
        return True

    async def tell_author(
        self,
        schedule_id: int,
        from_state: str,
        to_state: str,
        notice: Callable[[str], Payload],
        now: int,
    ) -> bool:
        """Move the row from `from_state` (once) and queue `notice(language)` to its author."""
        # Staying in its state (still waiting for approval): told once, flagged.
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE scheduled_announcements SET state = ?, author_told = 1"
                " WHERE id = ? AND state = ? AND (? != state OR author_told = 0)",
                (to_state, schedule_id, from_state, to_state),
            )
            if cursor.rowcount == 0:
                return False
            await _notify_author(connection, schedule_id, notice, now)
        return True


async def claim_for_sending(
    connection: aiosqlite.Connection, schedule_id: int, actor_id: int, now: int
) -> bool:
    """Inside the transaction that queues it: mark the announcement sent, if it still waits."""
    cursor = await connection.execute(
        "UPDATE scheduled_announcements SET state = 'sent', decided_by = ?, decided_at = ?"
        " WHERE id = ? AND state IN ('scheduled', 'late')",
        (actor_id, now, schedule_id),
    )
    return cursor.rowcount > 0


async def record_sent(
    connection: aiosqlite.Connection,
    schedule_id: int,
    broadcast_id: int,
    notice: Callable[[str], Payload],
    now: int,
) -> None:
    await connection.execute(
        "UPDATE scheduled_announcements SET broadcast_id = ? WHERE id = ?",
        (broadcast_id, schedule_id),
    )
    await _notify_author(connection, schedule_id, notice, now)


async def _notify_author(
    connection: aiosqlite.Connection,
    schedule_id: int,
    notice: Callable[[str], Payload],
    now: int,
) -> None:
    async with connection.execute(
        "SELECT m.user_id, m.language FROM scheduled_announcements s"
        " JOIN members m ON m.user_id = s.author_id WHERE s.id = ?",
        (schedule_id,),
    ) as rows:
        row = await rows.fetchone()
    if row is not None:
        await enqueue_to_member(connection, row["user_id"], notice(row["language"]), "notice", now)
