"""SQL for campaign posts and broadcasts, each fanned out to the outbox in one transaction."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping

import aiosqlite

from bot.models import BroadcastSummary, StoredPost
from bot.storage.database import Database, Row
from bot.storage.outbox import Payload, enqueue_to_subscribers
from bot.storage.roles import write_audit
from bot.storage.schedules import claim_for_sending, record_sent

# Posts are rows of the `updates` table (named before campaign news were called posts in
# code, to keep them apart from Telegram updates); the column broadcasts.update_id points there.
# Posts go at once only to instant subscribers (the others get them in digests);
# announcements go at once to everyone who has not paused.
UPDATE_MODES = ["instant"]
SUMMARY_MODES = ["daily", "weekly"]
ANNOUNCEMENT_MODES = ["instant", "daily", "weekly"]
_REACHABLE = "subscribed = 1 AND active = 1 AND blocked = 0 AND consented_at IS NOT NULL"
WRITERS = "writers"  # the letter writers' audience: stored as 'all' with writers_only = 1
# More work in a post's publishing transaction (see publish_post), opaque to services.
WithinPublish = Callable[[aiosqlite.Connection, int, int], Awaitable[int]]


def _post(row: Row) -> StoredPost:
    return StoredPost(
        row["id"], row["text_ko"], row["text_en"], row["photo_file_id"], row["published_at"]
    )


class BroadcastRepository:
    """Posts, announcements and their progress."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def publish_post(
        self,
        author_id: int,
        text_ko: str | None,
        text_en: str | None,
        photo_file_id: str | None,
        payloads: Mapping[str, Payload],
        now: int,
        within: WithinPublish | None = None,
    ) -> tuple[int, int, int, int]:
        """Store the post and queue it to instant subscribers.

        Returns (post, broadcast, queued at once, summary readers who will get it later).
        `within(connection, post_id, broadcast_id)` runs in the same transaction (an answer
        publishes with its post) and returns how many of the queued rows it took back.
        """
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "INSERT INTO updates (text_ko, text_en, photo_file_id, author_id, published_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (text_ko, text_en, photo_file_id, author_id, now),
            )
            post_id = cursor.lastrowid
            assert post_id is not None
            broadcast_id = await self._insert_broadcast(
                connection, "update", author_id, "all", now
            )
            await connection.execute(
                "UPDATE broadcasts SET update_id = ? WHERE id = ?", (post_id, broadcast_id)
            )
            count = await enqueue_to_subscribers(
                connection,
                payloads,
                kind="update",
                broadcast_id=broadcast_id,
                now=now,
                modes=UPDATE_MODES,
            )
            if within is not None:
                count -= await within(connection, post_id, broadcast_id)
            await self._set_recipients(connection, broadcast_id, count)
            async with connection.execute(
                "UPDATE broadcasts SET digest_recipients = (SELECT COUNT(*) FROM members"  # noqa: S608
                f" WHERE {_REACHABLE} AND delivery_mode IN (?, ?)) WHERE id = ?"
                " RETURNING digest_recipients",
                (*SUMMARY_MODES, broadcast_id),
            ) as cursor:
                row = await cursor.fetchone()
            later = 0 if row is None else int(row[0])
            await write_audit(
                connection,
                now,
                author_id,
                "update_published",
                None,
                f"broadcast {broadcast_id} all {count}",
            )
        return post_id, broadcast_id, count, later

    async def start_announcement(
        self,
        author_id: int,
        audience: str,
        payloads: Mapping[str, Payload],
        now: int,
        bundle: int | None = None,
    ) -> tuple[int, int]:
        """Queue an announcement to every subscriber who is not paused: (broadcast, count)."""
        async with self._db.transaction() as connection:
            return await self._start(connection, author_id, audience, payloads, now, bundle)

    async def start_scheduled(
        self,
        schedule_id: int,
        actor_id: int,
        payloads: Mapping[str, Payload],
        notice: Callable[[str, int], Payload],
        now: int,
    ) -> tuple[int, int] | None:
        """Queue a scheduled announcement if it still waits (once, however many try at once),
        and tell its author `notice(language, count)`: (broadcast, count), or None."""
        async with self._db.transaction() as connection:
            if not await claim_for_sending(connection, schedule_id, actor_id, now):
                return None
            async with connection.execute(
                "SELECT author_id, audience, writers_bundle FROM scheduled_announcements"
                " WHERE id = ?",
                (schedule_id,),
            ) as rows:
                row = await rows.fetchone()
            assert row is not None
            broadcast_id, count = await self._start(
                connection,
                row["author_id"],
                row["audience"],
                payloads,
                now,
                row["writers_bundle"],
            )
            await record_sent(
                connection,
                schedule_id,
                broadcast_id,
                lambda language: notice(language, count),
                now,
            )
        return broadcast_id, count

    async def _start(
        self,
        connection: aiosqlite.Connection,
        author_id: int,
        audience: str,
        payloads: Mapping[str, Payload],
        now: int,
        bundle: int | None = None,
    ) -> tuple[int, int]:
        broadcast_id = await self._insert_broadcast(
            connection, "announcement", author_id, audience, now, bundle
        )
        count = await enqueue_to_subscribers(
            connection,
            payloads,
            kind="announcement",
            broadcast_id=broadcast_id,
            now=now,
            modes=ANNOUNCEMENT_MODES,
            writers_only=audience == WRITERS,
            writers_bundle=bundle if audience == WRITERS else None,
        )
        await self._set_recipients(connection, broadcast_id, count)
        await write_audit(
            connection,
            now,
            author_id,
            "announcement_sent",
            None,
            f"broadcast {broadcast_id} {audience} {count}",
        )
        return broadcast_id, count

    async def audience_size(
        self,
        languages: list[str],
        modes: list[str],
        *,
        writers_only: bool = False,
        writers_bundle: int | None = None,
    ) -> int:
        """How many subscribers an enqueue_to_subscribers with these filters would reach."""
        row = await self._db.fetch_one(
            f"SELECT COUNT(*) AS n FROM members WHERE {_REACHABLE}"  # noqa: S608 - constant
            " AND language IN (SELECT value FROM json_each(?))"
            " AND delivery_mode IN (SELECT value FROM json_each(?))"
            " AND (? = 0 OR user_id IN (SELECT user_id FROM letters WHERE state = 'delivered'"
            " AND (? IS NULL OR bundle_id = ?)))",
            (
                json.dumps(languages),
                json.dumps(modes),
                writers_only,
                writers_bundle,
                writers_bundle,
            ),
        )
        return 0 if row is None else int(row["n"])

    async def latest_posts(self, limit: int) -> list[StoredPost]:
        rows = await self._db.fetch_all(
            "SELECT id, text_ko, text_en, photo_file_id, published_at FROM updates"
            " ORDER BY published_at DESC, id DESC LIMIT ?",
            (limit,),
        )
        return [_post(row) for row in rows]

    async def set_progress_message(self, broadcast_id: int, chat_id: int, message_id: int) -> None:
        await self._db.execute(
            "UPDATE broadcasts SET progress_chat_id = ?, progress_message_id = ? WHERE id = ?",
            (chat_id, message_id, broadcast_id),
        )

    async def cancel(self, broadcast_id: int, now: int) -> int:
        """Cancel what has not left; return how many messages will not be sent."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE outbox SET state = 'cancelled', finished_at = ?"
                " WHERE broadcast_id = ? AND state = 'pending'",
                (now, broadcast_id),
            )
            await connection.execute(
                "UPDATE broadcasts SET state = 'cancelled', finished_at = ?"
                " WHERE id = ? AND state = 'sending'",
                (now, broadcast_id),
            )
        return cursor.rowcount

    async def finish_if_done(self, broadcast_id: int, now: int) -> bool:
        """Mark a broadcast done once nothing of it is pending or in flight."""
        changed = await self._db.execute(
            "UPDATE broadcasts SET state = 'done', finished_at = ? WHERE id = ?"
            " AND state = 'sending' AND NOT EXISTS (SELECT 1 FROM outbox WHERE broadcast_id = ?"
            " AND state IN ('pending', 'sending'))",
            (now, broadcast_id, broadcast_id),
        )
        return changed > 0

    async def summary(self, broadcast_id: int) -> BroadcastSummary | None:
        rows = await self._summaries("WHERE b.id = ?", (broadcast_id,))
        return rows[0] if rows else None

    async def recent(self, limit: int) -> list[BroadcastSummary]:
        return await self._summaries("ORDER BY b.id DESC LIMIT ?", (limit,))

    async def unfinished(self) -> list[BroadcastSummary]:
        return await self._summaries("WHERE b.state = 'sending' ORDER BY b.id", ())

    async def subscriber_counts(self) -> list[tuple[str, str, int]]:
        """(language, delivery mode, count) of active subscribers."""
        rows = await self._db.fetch_all(
            "SELECT language, delivery_mode, COUNT(*) AS n FROM members"
            " WHERE subscribed = 1 AND active = 1 AND blocked = 0"
            " GROUP BY language, delivery_mode ORDER BY language, delivery_mode"
        )
        return [(row["language"], row["delivery_mode"], row["n"]) for row in rows]

    async def _summaries(self, tail: str, params: tuple[object, ...]) -> list[BroadcastSummary]:
        rows = await self._db.fetch_all(
            "SELECT b.id, b.kind, b.audience, b.writers_only, b.state, b.recipients,"  # noqa: S608
            " b.created_at, b.finished_at, b.progress_chat_id, b.progress_message_id,"
            " b.digest_recipients,"
            " (SELECT json_group_object(state, n) FROM (SELECT state, COUNT(*) AS n"
            "  FROM outbox WHERE broadcast_id = b.id GROUP BY state)) AS counts"
            f" FROM broadcasts b {tail}",  # tail is one of this class's constants
            params,
        )
        return [
            BroadcastSummary(
                row["id"],
                row["kind"],
                WRITERS if row["writers_only"] else row["audience"],
                row["state"],
                row["recipients"],
                row["created_at"],
                row["finished_at"],
                row["progress_chat_id"],
                row["progress_message_id"],
                json.loads(row["counts"] or "{}"),
                row["digest_recipients"],
            )
            for row in rows
        ]

    @staticmethod
    async def _insert_broadcast(
        connection: aiosqlite.Connection,
        kind: str,
        author_id: int,
        audience: str,
        now: int,
        bundle: int | None = None,
    ) -> int:
        writers = audience == WRITERS
        cursor = await connection.execute(
            "INSERT INTO broadcasts (kind, author_id, audience, writers_only, writers_bundle,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                kind,
                author_id,
                "all" if writers else audience,
                writers,
                bundle if writers else None,
                now,
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    @staticmethod
    async def _set_recipients(
        connection: aiosqlite.Connection, broadcast_id: int, count: int
    ) -> None:
        await connection.execute(
            "UPDATE broadcasts SET recipients = ? WHERE id = ?", (count, broadcast_id)
        )
