"""SQL for scheduled digests: due members through their index, and the batch that queues them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.models import DeliveryMode, StoredPost
from bot.storage.database import Database, Row
from bot.storage.outbox import Payload, insert_payload

DIGEST_MODES = (DeliveryMode.DAILY.value, DeliveryMode.WEEKLY.value)
# Modes in which a member's unread posts are held for a summary (paused ones are kept for
# when they resume); in any other state the starting point is cleared.
HOLDING_MODES = (*DIGEST_MODES, DeliveryMode.PAUSED.value)

_SCHEDULE_COLUMNS = (
    "user_id, language, subscribed, delivery_mode, digest_hour, digest_weekday, timezone,"
    " next_digest_at, digest_last_update_id,"
    " (subscribed = 1 AND active = 1 AND blocked = 0 AND consented_at IS NOT NULL) AS eligible"
)


@dataclass(frozen=True)
class DigestSchedule:
    """A member's digest settings and where their digests stand, as read at one moment."""

    user_id: int
    language: str
    subscribed: bool
    mode: DeliveryMode
    hour: int
    weekday: int
    timezone: str
    next_at: int | None
    last_post_id: int | None
    eligible: bool  # subscribed, consented, not blocked either way


@dataclass(frozen=True)
class PendingPosts:
    """What members who have read up to one post id still have to read."""

    total: int
    newest: list[StoredPost]  # newest first, at most the limit asked for
    newest_id: int | None

    @property
    def oldest_first(self) -> list[StoredPost]:
        """The posts in the order a story reads."""
        return list(reversed(self.newest))


@dataclass(frozen=True)
class DigestDecision:
    """What one tick decided for one member: the schedule it read, the new one, the message."""

    user_id: int
    seen_next_at: int
    seen_last_post_id: int | None
    next_at: int | None  # None: no more digests (no longer a digest subscriber)
    last_post_id: int | None
    text: str | None  # None: nothing to send, only advance the schedule
    photos: tuple[Payload, ...] = ()  # the posts' photos, sent after the text


@dataclass(frozen=True)
class BatchResult:
    advanced: int  # members whose schedule this batch moved on
    queued: int  # digests queued


def _schedule(row: Row) -> DigestSchedule:
    return DigestSchedule(
        user_id=row["user_id"],
        language=row["language"],
        subscribed=bool(row["subscribed"]),
        mode=DeliveryMode(row["delivery_mode"]),
        hour=row["digest_hour"],
        weekday=row["digest_weekday"],
        timezone=row["timezone"],
        next_at=row["next_digest_at"],
        last_post_id=row["digest_last_update_id"],
        eligible=bool(row["eligible"]),
    )


class DigestRepository:
    """Reads due members and writes each batch of digests in one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def due(self, now: int, limit: int) -> list[DigestSchedule]:
        """Up to `limit` members whose digest is due, earliest first (index members_digest_due)."""
        rows = await self._db.fetch_all(
            f"SELECT {_SCHEDULE_COLUMNS} FROM members"  # noqa: S608 - constant columns
            " WHERE next_digest_at <= ? ORDER BY next_digest_at LIMIT ?",
            (now, limit),
        )
        return [_schedule(row) for row in rows]

    async def schedule_of(self, user_id: int) -> DigestSchedule | None:
        row = await self._db.fetch_one(
            f"SELECT {_SCHEDULE_COLUMNS} FROM members WHERE user_id = ?",  # noqa: S608
            (user_id,),
        )
        return None if row is None else _schedule(row)

    async def unscheduled(self, limit: int) -> list[DigestSchedule]:
        """Digest subscribers without a next digest (from before digests existed)."""
        rows = await self._db.fetch_all(
            f"SELECT {_SCHEDULE_COLUMNS} FROM members"  # noqa: S608 - constant columns
            " WHERE subscribed = 1 AND delivery_mode IN (?, ?) AND next_digest_at IS NULL"
            " LIMIT ?",
            (*DIGEST_MODES, limit),
        )
        return [_schedule(row) for row in rows]

    async def set_schedule(
        self,
        seen: DigestSchedule,
        next_at: int | None,
        catch_up: Sequence[Payload] = (),
        now: int = 0,
    ) -> bool:
        """Store `next_at` if the member's settings are still those in `seen`; False if not.

        A member who starts getting digests starts after the newest update that exists now; a
        paused one keeps their starting point for when they resume. `catch_up` (what a member
        leaving digests had not yet had) is queued in the same transaction, so it is queued
        once: a tick that read the old schedule finds it moved and queues nothing.
        """
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE members SET digest_last_update_id = CASE"
                "  WHEN subscribed = 1 AND delivery_mode IN (:daily, :weekly, :paused)"
                "   THEN COALESCE(digest_last_update_id,"
                "    (SELECT COALESCE(MAX(id), 0) FROM updates))"
                "  ELSE NULL END,"
                " next_digest_at = :next"
                " WHERE user_id = :user AND subscribed = :subscribed AND delivery_mode = :mode"
                " AND digest_hour = :hour AND digest_weekday = :weekday AND timezone = :zone"
                " AND next_digest_at IS :seen_next AND digest_last_update_id IS :seen_last",
                {
                    "daily": HOLDING_MODES[0],
                    "weekly": HOLDING_MODES[1],
                    "paused": HOLDING_MODES[2],
                    "next": next_at,
                    "user": seen.user_id,
                    "subscribed": int(seen.subscribed),
                    "mode": seen.mode.value,
                    "hour": seen.hour,
                    "weekday": seen.weekday,
                    "zone": seen.timezone,
                    "seen_next": seen.next_at,
                    "seen_last": seen.last_post_id,
                },
            )
            if cursor.rowcount == 0:
                return False
            for payload in catch_up:
                payload_id = await insert_payload(connection, payload)
                await connection.execute(
                    "INSERT INTO outbox (user_id, chat_id, payload_id, kind, created_at)"
                    " SELECT user_id, chat_id, ?, 'digest', ? FROM members WHERE user_id = ?",
                    (payload_id, now, seen.user_id),
                )
        return True

    async def newest_post_id(self) -> int:
        row = await self._db.fetch_one("SELECT COALESCE(MAX(id), 0) AS id FROM updates")
        return 0 if row is None else int(row["id"])

    async def posts_after(self, post_id: int, limit: int) -> PendingPosts:
        """How many posts came after `post_id`, and the newest `limit` of them."""
        count = await self._db.fetch_one(
            "SELECT COUNT(*) AS n FROM updates WHERE id > ?", (post_id,)
        )
        rows = await self._db.fetch_all(
            "SELECT id, text_ko, text_en, photo_file_id, published_at FROM updates"
            " WHERE id > ? ORDER BY id DESC LIMIT ?",
            (post_id, limit),
        )
        newest = [
            StoredPost(r["id"], r["text_ko"], r["text_en"], r["photo_file_id"], r["published_at"])
            for r in rows
        ]
        total = 0 if count is None else int(count["n"])
        return PendingPosts(total, newest, newest[0].id if newest else None)

    async def commit(self, decisions: Sequence[DigestDecision], now: int) -> BatchResult:
        """Advance every schedule still as it was read, and queue its digest, atomically.

        The conditional UPDATE is what makes a tick idempotent: a member whose schedule
        another tick (or a settings change) moved since it was read is left alone, and
        nothing is queued for them. A constant number of statements per batch, whatever
        its size; members with the same digest text share one stored payload.
        """
        async with self._db.transaction() as connection:
            await connection.execute(
                "CREATE TEMP TABLE IF NOT EXISTS digest_batch (user_id INTEGER PRIMARY KEY,"
                " seen_next INTEGER NOT NULL, seen_last INTEGER, next_at INTEGER,"
                " last_id INTEGER)"
            )
            await connection.execute("DELETE FROM temp.digest_batch")
            await connection.executemany(
                "INSERT INTO temp.digest_batch VALUES (?, ?, ?, ?, ?)",
                [
                    (d.user_id, d.seen_next_at, d.seen_last_post_id, d.next_at, d.last_post_id)
                    for d in decisions
                ],
            )
            async with connection.execute(
                "UPDATE members SET next_digest_at = b.next_at, digest_last_update_id = b.last_id"
                " FROM temp.digest_batch b"
                # The IN makes SQLite drive the update from the batch (rowid lookups) instead
                # of walking every digest member for each batch.
                " WHERE members.user_id IN (SELECT user_id FROM temp.digest_batch)"
                " AND members.user_id = b.user_id"
                " AND members.next_digest_at = b.seen_next"
                " AND members.digest_last_update_id IS b.seen_last"
                " RETURNING members.user_id"
            ) as cursor:
                advanced = {row[0] for row in await cursor.fetchall()}
            payload_ids: dict[Payload, int] = {}
            rows: list[tuple[int, int, int]] = []
            for decision in decisions:
                if decision.text is None or decision.user_id not in advanced:
                    continue
                for payload in (Payload(decision.text), *decision.photos):
                    if payload not in payload_ids:
                        payload_ids[payload] = await insert_payload(connection, payload)
                    rows.append((payload_ids[payload], now, decision.user_id))
            await connection.executemany(
                "INSERT INTO outbox (user_id, chat_id, payload_id, kind, created_at)"
                " SELECT user_id, chat_id, ?, 'digest', ? FROM members WHERE user_id = ?",
                rows,
            )
            await connection.execute("DELETE FROM temp.digest_batch")
        queued = sum(1 for d in decisions if d.text is not None and d.user_id in advanced)
        return BatchResult(len(advanced), queued)
