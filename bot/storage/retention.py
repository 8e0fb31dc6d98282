"""SQL for the daily purge of what we no longer need to keep."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from bot.storage.database import Database


@dataclass(frozen=True)
class Purged:
    letters: int
    members: int
    messages: int
    news_items: int = 0
    news_keys: int = 0

    @property
    def anything(self) -> bool:
        """Whether personal data went, which the file must then be rewritten to erase for good.

        News items and their keys are public text, not personal data: purging them alone
        rewrites nothing (SQLite reuses their free pages for the next items).
        """
        return bool(self.letters or self.members or self.messages)


@dataclass(frozen=True)
class NewsBounds:
    """Epoch seconds: older than them goes (see RetentionService)."""

    decided_before: int
    waiting_before: int
    keys_before: int


class RetentionRepository:
    """Deletes old letters, long-gone members, the texts of sent messages and old news."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def purge(
        self, letters_before: int, members_before: int, messages_before: int, news: NewsBounds
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
            news_items, news_keys = await self._purge_news(connection, news)
        return Purged(letters.rowcount, members.rowcount, messages.rowcount, news_items, news_keys)

    async def _purge_news(
        self, connection: aiosqlite.Connection, news: NewsBounds
    ) -> tuple[int, int]:
        # Dismissed or drafted (and published) items go some time after the decision; items
        # nobody decided on (or whose draft ended unpublished) some time after they were found.
        items = await connection.execute(
            "DELETE FROM news_items WHERE (state IN ('dismissed', 'drafted')"
            " AND draft_from IS NULL AND decided_at < ?)"
            " OR ((state IN ('new', 'later') OR draft_from IS NOT NULL) AND found_at < ?)",
            (news.decided_before, news.waiting_before),
        )
        # A key outlives its item, so an item a feed still lists never comes back as new. It
        # goes once its item is gone and no feed has listed it for the whole period; a paused
        # or failing feed lists nothing, so the keys it last listed wait for it.
        keys = await connection.execute(
            "DELETE FROM news_seen WHERE seen_at < ? AND item_id IS NULL"
            " AND (feed_id IS NULL OR feed_id IN"
            " (SELECT id FROM news_feeds WHERE paused = 0 AND failures = 0))",
            (news.keys_before,),
        )
        return items.rowcount, keys.rowcount
