"""SQL for the soldiers' answers: linked to bundles, published once to those bundles' writers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import aiosqlite

from bot.storage.broadcasts import WithinPublish
from bot.storage.database import Database, Row
from bot.storage.outbox import Payload, enqueue_to_member
from bot.storage.roles import write_audit


class AlreadyPublished(Exception):
    """The answer was published (or refused) by someone else first: roll everything back."""


@dataclass(frozen=True)
class StoredAnswer:
    id: int
    author_id: int
    text_ko: str | None
    text_en: str | None
    photo_file_id: str | None
    state: str
    bundle_ids: tuple[int, ...]


@dataclass(frozen=True)
class DeliveredBundle:
    id: int
    delivered_on: str  # YYYY-MM-DD
    letter_count: int


class AnswerRepository:
    """Stores answers and publishes each once."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def delivered_bundles(self, limit: int = 20) -> list[DeliveredBundle]:
        rows = await self._db.fetch_all(
            "SELECT id, delivered_on, letter_count FROM bundles WHERE delivered_on IS NOT NULL"
            " ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [DeliveredBundle(r["id"], r["delivered_on"], r["letter_count"]) for r in rows]

    async def writer_count(self, bundle_ids: Iterable[int]) -> int:
        row = await self._db.fetch_one(
            "SELECT COUNT(DISTINCT l.user_id) AS n FROM letters l JOIN members m"
            " ON m.user_id = l.user_id WHERE m.blocked = 0"
            " AND l.bundle_id IN (SELECT value FROM json_each(?))",
            (_ids(bundle_ids),),
        )
        return 0 if row is None else int(row["n"])

    async def create(
        self,
        author_id: int,
        bundle_ids: Iterable[int],
        text_ko: str | None,
        text_en: str | None,
        photo_file_id: str | None,
        awaiting_approval: bool,
        now: int,
    ) -> int:
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "INSERT INTO answers (author_id, text_ko, text_en, photo_file_id, state,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    author_id,
                    text_ko,
                    text_en,
                    photo_file_id,
                    "awaiting_approval" if awaiting_approval else "ready",
                    now,
                ),
            )
            answer_id = cursor.lastrowid
            assert answer_id is not None
            await connection.executemany(
                "INSERT OR IGNORE INTO answer_bundles (answer_id, bundle_id) VALUES (?, ?)",
                [(answer_id, bundle_id) for bundle_id in bundle_ids],
            )
        return answer_id

    async def get(self, answer_id: int) -> StoredAnswer | None:
        row = await self._db.fetch_one("SELECT * FROM answers WHERE id = ?", (answer_id,))
        if row is None:
            return None
        bundles = await self._db.fetch_all(
            "SELECT bundle_id FROM answer_bundles WHERE answer_id = ? ORDER BY bundle_id",
            (answer_id,),
        )
        return _answer(row, tuple(b["bundle_id"] for b in bundles))

    async def held_by(self, approval_id: int) -> int | None:
        row = await self._db.fetch_one(
            "SELECT id FROM answers WHERE approval_id = ?", (approval_id,)
        )
        return None if row is None else int(row["id"])

    async def decide(self, answer_id: int, approve: bool) -> bool:
        """After the second coordinator's decision: ready to publish, or refused; once."""
        changed = await self._db.execute(
            "UPDATE answers SET state = ? WHERE id = ? AND state = 'awaiting_approval'",
            ("ready" if approve else "rejected", answer_id),
        )
        return changed > 0

    async def answered_bundles(self) -> set[int]:
        rows = await self._db.fetch_all(
            "SELECT DISTINCT ab.bundle_id FROM answer_bundles ab"
            " JOIN answers a ON a.id = ab.answer_id WHERE a.state = 'published'"
        )
        return {row["bundle_id"] for row in rows}

    def publisher(
        self,
        answer_id: int,
        notice: Callable[[str, str], Payload],
        now: int,
        told: list[int],
    ) -> WithinPublish:
        """The work done in the post's transaction: claim the answer, tell each writer
        `notice(language, delivered_on)`, and take the writers out of the post's rows (they
        get the answer itself). Appends how many writers were told to `told`."""

        async def publish(
            connection: aiosqlite.Connection, post_id: int, broadcast_id: int
        ) -> int:
            cursor = await connection.execute(
                "UPDATE answers SET state = 'published', update_id = ?, published_at = ?"
                " WHERE id = ? AND state = 'ready'",
                (post_id, now, answer_id),
            )
            if cursor.rowcount == 0:
                raise AlreadyPublished
            async with connection.execute(
                "SELECT l.user_id, m.language, MAX(b.delivered_on) AS day FROM letters l"
                " JOIN members m ON m.user_id = l.user_id JOIN bundles b ON b.id = l.bundle_id"
                " WHERE m.blocked = 0 AND l.bundle_id IN"
                " (SELECT bundle_id FROM answer_bundles WHERE answer_id = ?)"
                " GROUP BY l.user_id",
                (answer_id,),
            ) as rows:
                writers = list(await rows.fetchall())
            payloads: dict[tuple[str, str], Payload] = {}
            for writer in writers:
                key = (writer["language"], writer["day"] or "")
                payload = payloads.setdefault(key, notice(*key))
                await enqueue_to_member(connection, writer["user_id"], payload, "answer", now)
            cursor = await connection.execute(
                "DELETE FROM outbox WHERE broadcast_id = ? AND state = 'pending'"
                " AND user_id IN (SELECT value FROM json_each(?))",
                (broadcast_id, _ids(w["user_id"] for w in writers)),
            )
            async with connection.execute(
                "SELECT author_id FROM answers WHERE id = ?", (answer_id,)
            ) as rows:
                author = await rows.fetchone()
            await write_audit(
                connection,
                now,
                author["author_id"] if author else 0,
                "answer_published",
                None,
                f"answer {answer_id} {len(writers)}",
            )
            told.append(len(writers))
            return cursor.rowcount

        return publish


def _answer(row: Row, bundle_ids: tuple[int, ...]) -> StoredAnswer:
    return StoredAnswer(
        row["id"],
        row["author_id"],
        row["text_ko"],
        row["text_en"],
        row["photo_file_id"],
        row["state"],
        bundle_ids,
    )


def _ids(ids: Iterable[int]) -> str:
    return json.dumps(sorted({int(i) for i in ids}))
