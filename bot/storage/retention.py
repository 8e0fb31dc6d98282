"""SQL for the daily purge of what we no longer need to keep."""

from __future__ import annotations

from dataclasses import dataclass

from bot.storage.database import Database


@dataclass(frozen=True)
class Purged:
    letters: int
    members: int
    messages: int

    @property
    def anything(self) -> bool:
        return bool(self.letters or self.members or self.messages)


class RetentionRepository:
    """Deletes old letters, long-gone members and the texts of sent messages."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def purge(
        self, letters_before: int, members_before: int, messages_before: int
    ) -> Purged:
        """One transaction; the times are epoch seconds (older than them goes)."""
        async with self._db.transaction() as connection:
            letters = await connection.execute(
                "DELETE FROM letters WHERE (state = 'delivered' AND delivered_at < ?)"
                " OR (state IN ('rejected', 'withdrawn') AND decided_at < ?)",
                (letters_before, letters_before),
            )
            # Gone: blocked the bot, unsubscribed or never agreed, and not seen for the whole
            # period, with no letter still on its way. Subscribers who only read are kept.
            members = await connection.execute(
                "DELETE FROM members WHERE last_seen_at < ?"
                " AND (active = 0 OR subscribed = 0 OR consented_at IS NULL)"
                " AND NOT EXISTS (SELECT 1 FROM letters l WHERE l.user_id = members.user_id"
                " AND l.state IN ('pending', 'approved', 'bundled'))"
                " AND user_id NOT IN (SELECT user_id FROM roles)",
                (members_before,),
            )
            messages = await connection.execute(
                "DELETE FROM outbox WHERE state NOT IN ('pending', 'sending') AND created_at < ?",
                (messages_before,),
            )
            await connection.execute(
                "DELETE FROM outbox_payloads WHERE NOT EXISTS (SELECT 1 FROM outbox o"
                " WHERE o.payload_id = outbox_payloads.id AND o.state IN ('pending', 'sending'))"
            )
        return Purged(letters.rowcount, members.rowcount, messages.rowcount)
