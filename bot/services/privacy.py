"""A member's rights under Korea's PIPA: a copy of their data, and erasure."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.clock import Clock, to_epoch
from bot.i18n import N_, Texts
from bot.storage.privacy import Erasure, PrivacyRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckpointRetry:
    """How long an erase waits for a reader (a backup, an open shell) to let go of the log."""

    attempts: int = 5
    pause: float = 0.2  # seconds between attempts: at most about a second in all


# A burst of erases (or one attacker's accounts erasing in turn) costs one rewrite per interval.
REWRITE_INTERVAL = timedelta(minutes=5)

# What each part of the export means, in the member's language. The keys stay English and
# stable (a program can read the file); a person reads these descriptions.
FIELD_DESCRIPTIONS = {
    "exported_at": N_("When this file was made (UTC)."),
    "member": N_("Your member record:"),
    "user_id": N_(
        "Your Telegram ID: a number every Telegram account has. It is not a phone number."
    ),
    "chat_id": N_("The number of your chat with the bot, where it sends you messages."),
    "language": N_("The language you chose (ko: Korean, en: English)."),
    "consented_at": N_("When you agreed to the privacy notice."),
    "subscribed": N_("Whether you get updates on the two soldiers (1: yes, 0: no)."),
    "delivery_mode": N_("How you get updates: instant (at once), daily, weekly or paused."),
    "digest_hour": N_("The hour of your summary (0 to 23, your time)."),
    "digest_weekday": N_("The day of your weekly summary (0: Monday … 6: Sunday)."),
    "timezone": N_("Your time zone."),
    "active": N_("Whether the bot can write to you (0 after you blocked it)."),
    "blocked": N_("Whether an admin blocked your account in the bot."),
    "created_at": N_("When you first started the bot."),
    "last_seen_at": N_("When you last used the bot (recorded at most once a day)."),
    "next_digest_at": N_("When your next summary is due."),
    "settings_view": N_(
        "Which of your settings messages is the current one: only its buttons still work."
    ),
    "digest_last_update_id": N_("The last update your summaries have covered."),
    "roles": N_("Roles you were given (coordinator, courier) and when."),
    "flow": N_("A step you are in the middle of, such as a letter not yet sent."),
    "letters": N_("Your letters, their pen names, texts and what happened to them."),
    "messages_waiting_to_be_sent": N_("Messages to you that the bot has not sent yet."),
    "audit_log": N_("Privileged actions you took or that concerned you."),
    "news_notices": N_("Whether you asked to be told when news items arrive (coordinators)."),
}


class PrivacyService:
    """Export and erase a member's data, and finish erasures in the file itself."""

    def __init__(
        self,
        privacy: PrivacyRepository,
        clock: Clock,
        *,
        retry: CheckpointRetry = CheckpointRetry(),
        rewrite_interval: timedelta = REWRITE_INTERVAL,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._privacy = privacy
        self._clock = clock
        self.retry = retry
        self.rewrite_interval = rewrite_interval
        self._sleep = sleep
        self._last_rewrite: datetime | None = None
        self._log_dirty = True  # until a checkpoint after start-up succeeds
        self.rewrites = 0  # how many times the file was rewritten (tests, benchmarks)

    async def export_json(self, user_id: int, texts: Texts) -> bytes:
        """Everything stored about the member, as a readable UTF-8 JSON document, with what
        each field means in their language."""
        data = await self._privacy.export(user_id)
        present = {"exported_at", *data, *(data.get("member") or {})}
        document = {
            "about": texts.plain(
                "Everything the Pyeonji bot keeps about you. Times are in seconds since "
                "1 January 1970, UTC. What each field means is explained under "
                "“field_descriptions” at the end."
            ),
            "exported_at": self._clock.now().isoformat(timespec="seconds"),
            **data,
            "field_descriptions": {
                key: texts.plain(text)
                for key, text in FIELD_DESCRIPTIONS.items()
                if key in present
            },
        }
        return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")

    async def erase(self, user_id: int) -> Erasure | None:
        """Erase the person; None when nothing was stored (then nothing is done at all).

        `complete` is True only when no copy is left in the file or its log; otherwise the
        background job (`finish_erasures`) removes the last copies shortly.
        """
        erasure = await self._privacy.erase(user_id, to_epoch(self._clock.now()))
        if erasure is None:
            return None
        self._log_dirty = True
        return replace(erasure, complete=await self.finish_erasures())

    async def finish_erasures(self) -> bool:
        """Rewrite the file if an erase asked for it, then empty the log; True when done.

        Deleted rows are zeroed at once (secure_delete), but stale fragments of rows that
        SQLite moved between pages, and the log's old frames, are only gone after a rewrite
        and a checkpoint. The rewrite runs at most once per `rewrite_interval`, so no number
        of erases can keep members waiting; a request left waiting is run by the next call.
        """
        if await self._privacy.compaction_requested():
            now = self._clock.now()
            if self._last_rewrite is not None and now - self._last_rewrite < self.rewrite_interval:
                return False
            self._last_rewrite = now
            await self._privacy.rewrite()
            self.rewrites += 1
            self._log_dirty = True
        if self._log_dirty:
            self._log_dirty = not await self._checkpoint_within_bound()
            if self._log_dirty:
                log.warning("event=erase_checkpoint_blocked attempts=%d", self.retry.attempts)
        return not self._log_dirty

    @property
    def unfinished(self) -> bool:
        """Whether an erase still waits for its last copies to leave the file."""
        return self._log_dirty

    async def _checkpoint_within_bound(self) -> bool:
        for attempt in range(self.retry.attempts):
            if attempt:
                await self._sleep(self.retry.pause)
            if await self._privacy.checkpoint():
                return True
        return False
