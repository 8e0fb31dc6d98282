"""SQL for a member's rights: everything stored about them, and erasing it for good."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.storage.database import Database

# What erasing a person does to each column that can hold their Telegram user or chat id.
# Every such column is listed: tests/test_privacy.py fails when a migration adds one that is
# missing here. Where a row is about someone else too (a post, a decision), the id becomes
# the anonymous marker 0, as the audit log has always done.
DELETE, ANONYMIZE, CLEAR = "delete", "anonymize", "clear"
# Deleted with its row, found by the user id beside it (a member's chat is their private
# chat): no scan of a large table for it.
WITH_ROW = "with its row"
PERSON_COLUMNS: dict[tuple[str, str], str] = {
    ("outbox", "user_id"): DELETE,
    ("outbox", "chat_id"): WITH_ROW,
    ("roles", "user_id"): DELETE,
    ("roles", "granted_by"): ANONYMIZE,
    ("audit_log", "actor_id"): ANONYMIZE,
    ("audit_log", "target_id"): CLEAR,
    ("updates", "author_id"): ANONYMIZE,
    ("broadcasts", "author_id"): ANONYMIZE,
    ("broadcasts", "progress_chat_id"): CLEAR,
    ("approval_requests", "author_id"): ANONYMIZE,
    ("approval_requests", "decided_by"): ANONYMIZE,
    ("bundles", "created_by"): ANONYMIZE,
    ("bundles", "delivered_by"): ANONYMIZE,
    ("letters", "decided_by"): ANONYMIZE,
    ("letters", "translated_by"): ANONYMIZE,
    ("conversations", "user_id"): DELETE,
    ("alert_mutes", "user_id"): DELETE,
    ("scheduled_announcements", "author_id"): ANONYMIZE,
    ("answers", "author_id"): ANONYMIZE,
    ("scheduled_announcements", "decided_by"): ANONYMIZE,
    ("letters", "user_id"): DELETE,
    ("members", "chat_id"): WITH_ROW,
    ("members", "user_id"): DELETE,
    ("news_watchers", "user_id"): DELETE,
}
_ERASE_SQL = {
    DELETE: "DELETE FROM {t} WHERE {c} = ?",
    ANONYMIZE: "UPDATE {t} SET {c} = 0 WHERE {c} = ?",
    CLEAR: "UPDATE {t} SET {c} = NULL WHERE {c} = ?",
}


@dataclass(frozen=True)
class Erasure:
    """What erasing a member removed."""

    letters: int
    printed_letters: int  # already in a bundle the courier printed: a paper copy may exist
    complete: bool = True  # False: rows are gone, a copy waits in the log or a page fragment


class PrivacyRepository:
    """Export and erasure across every table that mentions a member."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def export(self, user_id: int) -> dict[str, Any]:
        """Every row that is about the member, as plain JSON-ready values."""
        queries = {
            "member": "SELECT * FROM members WHERE user_id = ?",
            "roles": "SELECT role, granted_at FROM roles WHERE user_id = ?",
            "flow": "SELECT flow, step, data, updated_at FROM conversations WHERE user_id = ?",
            "letters": "SELECT id, language, pen_name, text, translation, state, reject_reason,"
            " reject_note, created_at, decided_at, delivered_at FROM letters WHERE user_id = ?"
            " ORDER BY id",
            "messages_waiting_to_be_sent": "SELECT o.kind, o.state, o.created_at, p.text"
            " FROM outbox o LEFT JOIN outbox_payloads p ON p.id = o.payload_id"
            " WHERE o.user_id = ? AND o.state IN ('pending', 'sending') ORDER BY o.id",
            # A coordinator's opt-in to news notices (feeds themselves are not personal).
            "news_notices": "SELECT since, last_notice_at FROM news_watchers WHERE user_id = ?",
            "audit_log": "SELECT at, action, detail FROM audit_log"
            " WHERE actor_id = ?1 OR target_id = ?1 ORDER BY id",
        }
        document: dict[str, Any] = {}
        for name, sql in queries.items():
            rows = await self._db.fetch_all(sql, (user_id,))
            document[name] = [dict(row) for row in rows]
        document["member"] = document["member"][0] if document["member"] else None
        return document

    async def erase(self, user_id: int, now: int) -> Erasure | None:
        """Delete the person's rows and put a marker where their id was; queue a rewrite.

        Returns None when nothing was stored about them: then nothing changed and nothing is
        queued, so a forged "erase" button cannot make the bot rewrite its file.
        secure_delete zeroes the deleted content in the pages this writes; the copies left in
        the write-ahead log and in stale page fragments go with the checkpoint and the queued
        rewrite (see `checkpoint` and `compact`).
        """
        async with self._db.transaction() as connection:
            async with connection.execute(
                "SELECT COUNT(*), COALESCE(SUM(state IN ('bundled', 'delivered')"
                " OR bundle_id IS NOT NULL), 0) FROM letters WHERE user_id = ?",
                (user_id,),
            ) as cursor:
                row = await cursor.fetchone()
            letters, printed = (int(row[0]), int(row[1])) if row else (0, 0)
            # Notices to the person, sent or not, with their texts: a rejection note or a pen
            # name lives there. Payloads shared with other people (a broadcast) stay.
            await connection.execute(
                "DELETE FROM outbox_payloads WHERE id IN (SELECT payload_id FROM outbox"
                " WHERE user_id = ?1) AND NOT EXISTS (SELECT 1 FROM outbox o"
                " WHERE o.payload_id = outbox_payloads.id AND o.user_id != ?1)",
                (user_id,),
            )
            # The progress message lived in the person's chat: its id goes with the chat's.
            await connection.execute(
                "UPDATE broadcasts SET progress_message_id = NULL WHERE progress_chat_id = ?",
                (user_id,),
            )
            changed = 0
            for (table, column), action in PERSON_COLUMNS.items():
                if action == WITH_ROW:
                    continue
                sql = _ERASE_SQL[action].format(t=table, c=column)  # names from the table above
                async with connection.execute(sql, (user_id,)) as cursor:
                    changed += max(cursor.rowcount, 0)
            if changed == 0:
                return None  # nothing was written: the transaction commits nothing
            await connection.execute(
                "INSERT INTO compaction_queue (id, requested_at) VALUES (1, ?)"
                " ON CONFLICT (id) DO NOTHING",
                (now,),
            )
        return Erasure(letters, printed)

    async def checkpoint(self) -> bool:
        """Copy the write-ahead log into the file and empty it; False if a reader blocks it.

        A reader's snapshot (a backup, an open shell) keeps old frames alive; waiting on it
        here would hold every member's request, so the caller retries within its own bound.
        """
        async with self._db.exclusive() as connection:
            await connection.execute("PRAGMA busy_timeout = 0")
            try:
                async with connection.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor:
                    row = await cursor.fetchone()
            finally:
                await connection.execute(f"PRAGMA busy_timeout = {self._db.busy_timeout_ms}")
        return row is not None and int(row[0]) == 0

    async def compaction_requested(self) -> bool:
        """Whether an erase or a purge is waiting for the file to be rewritten."""
        return await self._db.fetch_one("SELECT 1 FROM compaction_queue LIMIT 1") is not None

    async def rewrite(self) -> None:
        """Rewrite every page (VACUUM): no stale fragment of a deleted row survives it.

        The request is dropped only once VACUUM succeeded; no request can arrive in between,
        as the lock keeps every other write out until both are done.
        """
        async with self._db.exclusive() as connection:
            await connection.execute("VACUUM")
            await connection.execute("DELETE FROM compaction_queue")

    async def request_compaction(self, now: int) -> None:
        """Queue a rewrite (after a retention purge); requests coalesce into one."""
        await self._db.execute(
            "INSERT INTO compaction_queue (id, requested_at) VALUES (1, ?)"
            " ON CONFLICT (id) DO NOTHING",
            (now,),
        )

    async def compact(self) -> bool:
        """Rewrite the file and empty the log now (the daily purge); False if a reader blocks
        the log, which the queued request then retries."""
        await self.request_compaction(0)
        await self.rewrite()
        return await self.checkpoint()
