"""SQL for a member's rights: everything stored about them, and erasing it for good."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.storage.database import Database


@dataclass(frozen=True)
class Erasure:
    """What erasing a member removed."""

    letters: int
    printed_letters: int  # already in a bundle the courier printed: a paper copy may exist


class PrivacyRepository:
    """Export and erasure across every table that mentions a member."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def export(self, user_id: int) -> dict[str, Any]:
        """Every row that is about the member, as plain JSON-ready values."""
        queries = {
            "member": "SELECT * FROM members WHERE user_id = ?",
            "roles": "SELECT role, granted_at FROM roles WHERE user_id = ?",
            "conversation": "SELECT flow, step, data, updated_at FROM conversations"
            " WHERE user_id = ?",
            "letters": "SELECT id, language, pen_name, text, state, reject_reason, reject_note,"
            " created_at, decided_at, delivered_at FROM letters WHERE user_id = ? ORDER BY id",
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

    async def erase(self, user_id: int) -> Erasure:
        """Delete the member and everything about them, then rebuild the file without it.

        Deleting rows is not enough: SQLite can keep a deleted key in b-tree interior pages
        and in the write-ahead log. VACUUM rewrites every page and the TRUNCATE checkpoint
        empties the log, so the id and the letters' text are gone from the bytes on disk.
        """
        async with self._db.transaction() as connection:
            async with connection.execute(
                "SELECT COUNT(*), COALESCE(SUM(state IN ('bundled', 'delivered')"
                " OR bundle_id IS NOT NULL), 0) FROM letters WHERE user_id = ?",
                (user_id,),
            ) as cursor:
                row = await cursor.fetchone()
            letters, printed = (int(row[0]), int(row[1])) if row else (0, 0)
            await connection.execute("DELETE FROM roles WHERE user_id = ?", (user_id,))
            # The audit log keeps what happened, but no longer who it happened to.
            await connection.execute(
                "UPDATE audit_log SET actor_id = 0 WHERE actor_id = ?", (user_id,)
            )
            await connection.execute(
                "UPDATE audit_log SET target_id = NULL WHERE target_id = ?", (user_id,)
            )
            # Cascades to conversations, letters and queued messages.
            await connection.execute("DELETE FROM members WHERE user_id = ?", (user_id,))
        await self.compact()
        return Erasure(letters, printed)

    async def compact(self) -> None:
        """Rewrite the database file and empty the write-ahead log (after erasures, purges)."""
        await self._db.run_outside_transaction("VACUUM")
        await self._db.run_outside_transaction("PRAGMA wal_checkpoint(TRUNCATE)")
