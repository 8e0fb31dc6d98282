"""SQL for letters and bundles: writing, the review queue, claiming for a bundle, delivery.

Every row read here leaves without the writer's user id: only the transactions that queue a
notice to the writer touch it, and they hand it straight to the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import aiosqlite

from bot.models import StoredBundle, StoredLetter
from bot.storage.database import Database, Row
from bot.storage.outbox import Payload, enqueue_to_member
from bot.storage.roles import write_audit

_LETTER_COLUMNS = (
    "l.id, l.language, l.pen_name, l.text, l.state, l.created_at, l.decided_at,"
    " l.reject_reason, l.reject_note, l.bundle_id, b.sent_at AS bundled_at, b.delivered_on,"
    " l.translation"
)
_LETTER_FROM = "FROM letters l LEFT JOIN bundles b ON b.id = l.bundle_id"
# A letter not written in Korean waits for its Korean translation before it can be printed.
_READY_TO_PRINT = (
    "state = 'approved' AND bundle_id IS NULL AND (language = 'ko' OR translation IS NOT NULL)"
)
_TO_TRANSLATE = "state = 'approved' AND language != 'ko' AND translation IS NULL"
_BUNDLE_COLUMNS = "id, created_at, letter_count, sent_at, delivered_on, delivered_at"
# The letters that count toward a writer's daily limit: those still going forward.
_COUNTED = "state NOT IN ('rejected', 'withdrawn')"
# What a notice to the writer needs, from a RETURNING clause on `letters`.
_NOTICE_RETURNING = (
    "id, user_id, pen_name, created_at,"
    " (SELECT language FROM members m WHERE m.user_id = letters.user_id) AS lang,"
    " (SELECT timezone FROM members m WHERE m.user_id = letters.user_id) AS zone"
)


@dataclass(frozen=True)
class NoticeTarget:
    """What a notice to a writer may say about their letter, and the language to say it in."""

    letter_id: int
    writer_language: str
    writer_timezone: str
    pen_name: str
    created_at: int


# Renders the notice for one writer; called inside the transaction, so it must not await.
RenderNotice = Callable[[NoticeTarget], Payload]


def _letter(row: Row) -> StoredLetter:
    return StoredLetter(
        id=row["id"],
        language=row["language"],
        pen_name=row["pen_name"],
        text=row["text"],
        state=row["state"],
        created_at=row["created_at"],
        decided_at=row["decided_at"],
        reject_reason=row["reject_reason"],
        reject_note=row["reject_note"],
        bundle_id=row["bundle_id"],
        bundled_at=row["bundled_at"],
        delivered_on=row["delivered_on"],
        translation=row["translation"],
    )


def _target(row: Row) -> NoticeTarget:
    return NoticeTarget(row["id"], row["lang"], row["zone"], row["pen_name"], row["created_at"])


def _bundle(row: Row) -> StoredBundle:
    return StoredBundle(
        row["id"],
        row["created_at"],
        row["letter_count"],
        row["sent_at"],
        row["delivered_on"],
        row["delivered_at"],
    )


async def _fetch_all(
    connection: aiosqlite.Connection, sql: str, params: tuple[object, ...]
) -> list[Row]:
    async with connection.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


class LetterRepository:
    """Reads and writes `letters` and `bundles`; decisions are audited and notified atomically."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- writers -------------------------------------------------------------------------------

    async def count_since(self, user_id: int, since: int) -> int:
        """Letters the member wrote since `since` that still go forward.

        Rejected and withdrawn letters do not count: the writer is told to write a new one.
        """
        row = await self._db.fetch_one(
            f"SELECT COUNT(*) AS n FROM letters WHERE user_id = ? AND created_at >= ?"  # noqa: S608
            f" AND {_COUNTED}",
            (user_id, since),
        )
        return 0 if row is None else int(row["n"])

    async def add(
        self,
        user_id: int,
        language: str,
        pen_name: str,
        text: str,
        now: int,
        *,
        day_start: int,
        per_day: int,
    ) -> int | None:
        """Store a pending letter unless the member reached `per_day` since `day_start`.

        The count and the insert share one transaction, so two quick Send presses cannot
        both slip under the limit.
        """
        async with self._db.transaction() as connection:
            async with connection.execute(
                f"SELECT COUNT(*) FROM letters WHERE user_id = ? AND created_at >= ?"  # noqa: S608
                f" AND {_COUNTED}",
                (user_id, day_start),
            ) as cursor:
                row = await cursor.fetchone()
            if row is not None and int(row[0]) >= per_day:
                return None
            cursor = await connection.execute(
                "INSERT INTO letters (user_id, language, pen_name, text, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (user_id, language, pen_name, text, now),
            )
            return cursor.lastrowid

    async def of_member(self, user_id: int, limit: int) -> list[StoredLetter]:
        """The member's own letters, newest first."""
        rows = await self._db.fetch_all(
            f"SELECT {_LETTER_COLUMNS} {_LETTER_FROM}"
            " WHERE l.user_id = ? ORDER BY l.created_at DESC, l.id DESC LIMIT ?",
            (user_id, limit),
        )
        return [_letter(row) for row in rows]

    async def count_of_member(self, user_id: int) -> int:
        row = await self._db.fetch_one(
            "SELECT COUNT(*) AS n FROM letters WHERE user_id = ?", (user_id,)
        )
        return 0 if row is None else int(row["n"])

    async def withdraw(self, user_id: int, letter_id: int, now: int) -> bool:
        """Withdraw the member's own pending letter and erase its text; False otherwise."""
        changed = await self._db.execute(
            "UPDATE letters SET state = 'withdrawn', text = '', decided_at = ?"
            " WHERE id = ? AND user_id = ? AND state = 'pending'",
            (now, letter_id, user_id),
        )
        return changed > 0

    async def pending_of_member(self, user_id: int, letter_id: int) -> StoredLetter | None:
        """The member's own letter if it is still pending (for the withdraw question)."""
        row = await self._db.fetch_one(
            f"SELECT {_LETTER_COLUMNS} {_LETTER_FROM}"
            " WHERE l.id = ? AND l.user_id = ? AND l.state = 'pending'",
            (letter_id, user_id),
        )
        return None if row is None else _letter(row)

    # -- review --------------------------------------------------------------------------------

    async def next_pending(self, after_letter_id: int | None) -> StoredLetter | None:
        """The oldest pending letter, or the next one after `after_letter_id` in that order."""
        if after_letter_id is None:
            row = await self._db.fetch_one(
                f"SELECT {_LETTER_COLUMNS} {_LETTER_FROM}"
                " WHERE l.state = 'pending' ORDER BY l.created_at, l.id LIMIT 1"
            )
        else:
            row = await self._db.fetch_one(
                f"SELECT {_LETTER_COLUMNS} {_LETTER_FROM}"  # noqa: S608 - constants
                " WHERE l.state = 'pending' AND (l.created_at, l.id) >"
                " (SELECT created_at, id FROM letters WHERE id = ?)"
                " ORDER BY l.created_at, l.id LIMIT 1",
                (after_letter_id,),
            )
        return None if row is None else _letter(row)

    async def pending_count(self) -> int:
        row = await self._db.fetch_one("SELECT COUNT(*) AS n FROM letters WHERE state = 'pending'")
        return 0 if row is None else int(row["n"])

    async def get(self, letter_id: int) -> StoredLetter | None:
        row = await self._db.fetch_one(
            f"SELECT {_LETTER_COLUMNS} {_LETTER_FROM} WHERE l.id = ?",
            (letter_id,),
        )
        return None if row is None else _letter(row)

    async def decide(
        self,
        letter_id: int,
        actor_id: int,
        now: int,
        *,
        approve: bool,
        reason: str | None,
        note: str | None,
        notice: RenderNotice,
    ) -> bool:
        """Approve or reject a pending letter; False when someone decided it first.

        The conditional UPDATE makes exactly one of two racing coordinators win; the audit row
        and the writer's notice commit with the decision, or not at all.
        """
        async with self._db.transaction() as connection:
            rows = await _fetch_all(
                connection,
                "UPDATE letters SET state = ?, decided_at = ?, decided_by = ?,"  # noqa: S608
                " reject_reason = ?, reject_note = ? WHERE id = ? AND state = 'pending'"
                f" RETURNING {_NOTICE_RETURNING}",
                (
                    "approved" if approve else "rejected",
                    now,
                    actor_id,
                    reason,
                    note,
                    letter_id,
                ),
            )
            if not rows:
                return False
            row = rows[0]
            action = "letter_approved" if approve else "letter_rejected"
            detail = f"letter {letter_id}" + (f" {reason}" if reason else "")
            # No target id: the audit log must not tie a letter to its writer.
            await write_audit(connection, now, actor_id, action, None, detail)
            target = _target(row)
            await enqueue_to_member(connection, row["user_id"], notice(target), "notice", now)
        return True

    async def writer_language(self, letter_id: int) -> str | None:
        """The language its writer reads the bot in: a typed reason must be in it."""
        row = await self._db.fetch_one(
            "SELECT m.language FROM letters l JOIN members m ON m.user_id = l.user_id"
            " WHERE l.id = ?",
            (letter_id,),
        )
        return None if row is None else str(row["language"])

    # -- translation -----------------------------------------------------------------------------

    async def next_to_translate(self, after_letter_id: int | None) -> StoredLetter | None:
        """The oldest approved letter waiting for a Korean translation (after one, if given)."""
        after = (
            ""
            if after_letter_id is None
            else (" AND (l.created_at, l.id) > (SELECT created_at, id FROM letters WHERE id = ?)")
        )
        params: tuple[object, ...] = () if after_letter_id is None else (after_letter_id,)
        row = await self._db.fetch_one(
            f"SELECT {_LETTER_COLUMNS} {_LETTER_FROM}"  # noqa: S608 - constants
            f" WHERE l.id IN (SELECT id FROM letters WHERE {_TO_TRANSLATE}){after}"
            " ORDER BY l.created_at, l.id LIMIT 1",
            params,
        )
        return None if row is None else _letter(row)

    async def to_translate_count(self) -> int:
        row = await self._db.fetch_one(
            f"SELECT COUNT(*) AS n FROM letters WHERE {_TO_TRANSLATE}"  # noqa: S608
        )
        return 0 if row is None else int(row["n"])

    async def translate(
        self, letter_id: int, actor_id: int, translation: str, now: int, notice: RenderNotice
    ) -> bool:
        """Attach the Korean translation and tell the writer; False if not (or no longer) due.

        Only once: a second translator racing the first changes nothing.
        """
        async with self._db.transaction() as connection:
            rows = await _fetch_all(
                connection,
                "UPDATE letters SET translation = ?, translated_at = ?, translated_by = ?"  # noqa: S608
                f" WHERE id = ? AND {_TO_TRANSLATE} AND bundle_id IS NULL"
                f" RETURNING {_NOTICE_RETURNING}",
                (translation, now, actor_id, letter_id),
            )
            if not rows:
                return False
            row = rows[0]
            # No target id: the audit log must not tie a letter to its writer.
            await write_audit(
                connection, now, actor_id, "letter_translated", None, f"letter {letter_id}"
            )
            await enqueue_to_member(
                connection, row["user_id"], notice(_target(row)), "notice", now
            )
        return True

    # -- bundles -------------------------------------------------------------------------------

    async def claim_for_bundle(
        self, courier_id: int, now: int, *, stale_before: int
    ) -> tuple[int, list[StoredLetter]] | None:
        """Put every approved, unclaimed letter into a new bundle; None when there is none.

        The letters stay 'approved' until `record_sent`. Claims older than `stale_before` whose
        PDF never reached anyone (the bot stopped mid-way) are released first.
        """
        async with self._db.transaction() as connection:
            await self._release_stale(connection, stale_before)
            found = await _fetch_all(
                connection,
                f"SELECT id FROM letters WHERE {_READY_TO_PRINT}",  # noqa: S608 - constants
                (),
            )
            if not found:
                return None
            cursor = await connection.execute(
                "INSERT INTO bundles (created_by, created_at, letter_count) VALUES (?, ?, ?)",
                (courier_id, now, len(found)),
            )
            bundle_id = cursor.lastrowid
            assert bundle_id is not None
            await connection.execute(
                f"UPDATE letters SET bundle_id = ? WHERE {_READY_TO_PRINT}",  # noqa: S608
                (bundle_id,),
            )
            rows = await _fetch_all(
                connection,
                f"SELECT {_LETTER_COLUMNS} {_LETTER_FROM}"
                " WHERE l.bundle_id = ? ORDER BY l.language != 'ko', l.created_at, l.id",
                (bundle_id,),
            )
        return bundle_id, [_letter(row) for row in rows]

    async def _release_stale(self, connection: aiosqlite.Connection, stale_before: int) -> None:
        stale = "SELECT id FROM bundles WHERE sent_at IS NULL AND created_at < ?"
        await connection.execute(
            f"UPDATE letters SET bundle_id = NULL WHERE state = 'approved'"  # noqa: S608
            f" AND bundle_id IN ({stale})",
            (stale_before,),
        )
        await connection.execute(
            "DELETE FROM bundles WHERE sent_at IS NULL AND created_at < ?", (stale_before,)
        )

    async def record_sent(self, bundle_id: int, courier_id: int, now: int) -> int:
        """The PDF reached the courier: its letters are bundled now. Returns how many."""
        async with self._db.transaction() as connection:
            await connection.execute(
                "UPDATE bundles SET sent_at = ? WHERE id = ? AND sent_at IS NULL",
                (now, bundle_id),
            )
            cursor = await connection.execute(
                "UPDATE letters SET state = 'bundled' WHERE bundle_id = ? AND state = 'approved'",
                (bundle_id,),
            )
            count = cursor.rowcount
            await write_audit(
                connection, now, courier_id, "bundle_made", None, f"bundle {bundle_id} {count}"
            )
        return count

    async def unrecord(self, bundle_id: int) -> None:
        """Telegram refused the PDF (it never reached the courier): undo `record_sent`."""
        async with self._db.transaction() as connection:
            await connection.execute(
                "UPDATE letters SET state = 'approved', bundle_id = NULL"
                " WHERE bundle_id = ? AND state = 'bundled'",
                (bundle_id,),
            )
            await connection.execute(
                "DELETE FROM bundles WHERE id = ? AND delivered_on IS NULL", (bundle_id,)
            )

    async def letters_in_bundle(self, bundle_id: int) -> list[StoredLetter]:
        """A recorded bundle's letters, in print order (to send its PDF again)."""
        rows = await self._db.fetch_all(
            f"SELECT {_LETTER_COLUMNS} {_LETTER_FROM}"
            " WHERE l.bundle_id = ? AND l.state = 'bundled'"
            " ORDER BY l.language != 'ko', l.created_at, l.id",
            (bundle_id,),
        )
        return [_letter(row) for row in rows]

    async def release(self, bundle_id: int) -> None:
        """The PDF could not be made or sent: its letters wait for the next bundle."""
        async with self._db.transaction() as connection:
            await connection.execute(
                "UPDATE letters SET bundle_id = NULL WHERE bundle_id = ? AND state = 'approved'",
                (bundle_id,),
            )
            await connection.execute(
                "DELETE FROM bundles WHERE id = ? AND sent_at IS NULL", (bundle_id,)
            )

    async def bundles(self, limit: int) -> list[StoredBundle]:
        """Bundles that reached a courier, newest first."""
        rows = await self._db.fetch_all(
            f"SELECT {_BUNDLE_COLUMNS} FROM bundles"  # noqa: S608 - constants
            " WHERE sent_at IS NOT NULL ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [_bundle(row) for row in rows]

    async def get_bundle(self, bundle_id: int) -> StoredBundle | None:
        row = await self._db.fetch_one(
            f"SELECT {_BUNDLE_COLUMNS} FROM bundles"  # noqa: S608 - constants
            " WHERE id = ? AND sent_at IS NOT NULL",
            (bundle_id,),
        )
        return None if row is None else _bundle(row)

    async def mark_delivered(
        self, bundle_id: int, courier_id: int, on: str, now: int, notice: RenderNotice
    ) -> int | None:
        """Record the hand-over day and tell each writer; None if already marked (or unsent).

        Returns how many writers were told (each of their letters gets its own notice).
        """
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE bundles SET delivered_on = ?, delivered_at = ?, delivered_by = ?"
                " WHERE id = ? AND sent_at IS NOT NULL AND delivered_on IS NULL",
                (on, now, courier_id, bundle_id),
            )
            if cursor.rowcount == 0:
                return None
            rows = await _fetch_all(
                connection,
                "UPDATE letters SET state = 'delivered', delivered_at = ?"  # noqa: S608
                " WHERE bundle_id = ? AND state = 'bundled'"
                f" RETURNING {_NOTICE_RETURNING}",
                (now, bundle_id),
            )
            for row in rows:
                target = _target(row)
                await enqueue_to_member(connection, row["user_id"], notice(target), "notice", now)
            await write_audit(
                connection, now, courier_id, "bundle_delivered", None, f"bundle {bundle_id} {on}"
            )
        return len({row["user_id"] for row in rows})
