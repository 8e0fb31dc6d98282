"""A member's rights under Korea's PIPA: a copy of their data, and erasure."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.clock import Clock, to_epoch
from bot.storage.privacy import Erasure, PrivacyRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckpointRetry:
    """How long an erase waits for a reader (a backup, an open shell) to let go of the log."""

    attempts: int = 5
    pause: float = 0.2  # seconds between attempts: at most about a second in all


# A burst of erases (or one attacker's accounts erasing in turn) costs one rewrite per interval.
REWRITE_INTERVAL = timedelta(minutes=5)


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

    async def export_json(self, user_id: int) -> bytes:
        """Everything stored about the member, as a readable UTF-8 JSON document."""
        document = {
            "exported_at": self._clock.now().isoformat(timespec="seconds"),
            "about": "Everything the Pyeonji bot stores about you. Times are Unix seconds, UTC.",
            **await self._privacy.export(user_id),
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
