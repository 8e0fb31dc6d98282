"""Keeping data no longer than needed: the daily purge and what it promises in /privacy."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.clock import Clock, to_epoch
from bot.storage.privacy import PrivacyRepository
from bot.storage.retention import Purged, RetentionRepository

log = logging.getLogger(__name__)
# A sent message's text is kept a week for /stats and troubleshooting, then only its counts.
SENT_MESSAGE_DAYS = 7


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
        )
        if purged.anything:
            # secure_delete zeroed the rows; VACUUM and the checkpoint leave no copy anywhere.
            await self._privacy.compact()
        log.info(
            "event=retention_purge letters=%d members=%d messages=%d",
            purged.letters,
            purged.members,
            purged.messages,
        )
        return purged
