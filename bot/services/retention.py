"""Keeping data no longer than needed: the daily purge and what it promises in /privacy."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.clock import Clock, to_epoch
from bot.storage.privacy import PrivacyRepository
from bot.storage.retention import NewsBounds, Purged, RetentionRepository

log = logging.getLogger(__name__)
# A sent message's text is kept a week for /stats and troubleshooting, then only its counts.
SENT_MESSAGE_DAYS = 7
# News items (public text, not personal data): a dismissed or drafted one is kept a month after
# the decision, one nobody decided on three months after it was found.
NEWS_DECIDED_DAYS = 30
NEWS_WAITING_DAYS = 90
# An item's dedup keys outlive it, so a feed that still lists it never brings it back as new:
# a key goes only when no feed has listed it for half a year (feeds list an item for days or
# weeks; each check that lists it again resets this).
NEWS_SEEN_DAYS = 180


class RetentionService:
    """Purges what is past its retention period, then rewrites the database file."""

    def __init__(
        self,
        retention: RetentionRepository,
        privacy: PrivacyRepository,
        clock: Clock,
        letter_days: int,
        member_days: int,
    ) -> None:
        self._retention = retention
        self._privacy = privacy
        self._clock = clock
        self._letter_days = letter_days
        self._member_days = member_days

    async def purge(self) -> Purged:
        now = self._clock.now()
        purged = await self._retention.purge(
            letters_before=to_epoch(now - timedelta(days=self._letter_days)),
            members_before=to_epoch(now - timedelta(days=self._member_days)),
            messages_before=to_epoch(now - timedelta(days=SENT_MESSAGE_DAYS)),
            news=NewsBounds(
                decided_before=to_epoch(now - timedelta(days=NEWS_DECIDED_DAYS)),
                waiting_before=to_epoch(now - timedelta(days=NEWS_WAITING_DAYS)),
                keys_before=to_epoch(now - timedelta(days=NEWS_SEEN_DAYS)),
            ),
        )
        if purged.anything:  # personal data only: old news alone rewrites nothing
            # secure_delete zeroed the rows; VACUUM and the checkpoint leave no copy anywhere.
            await self._privacy.compact()
        log.info(
            "event=retention_purge letters=%d members=%d messages=%d news_items=%d news_keys=%d",
            purged.letters,
            purged.members,
            purged.messages,
            purged.news_items,
            purged.news_keys,
        )
        return purged
