"""A member's rights under Korea's PIPA: a copy of their data, and erasure."""

from __future__ import annotations

import json

from bot.clock import Clock
from bot.storage.privacy import Erasure, PrivacyRepository


class PrivacyService:
    """Export and erase a member's data."""

    def __init__(self, privacy: PrivacyRepository, clock: Clock) -> None:
        self._privacy = privacy
        self._clock = clock

    async def export_json(self, user_id: int) -> bytes:
        """Everything stored about the member, as a readable UTF-8 JSON document."""
        document = {
            "exported_at": self._clock.now().isoformat(timespec="seconds"),
            "about": "Everything the Pyeonji bot stores about you. Times are Unix seconds, UTC.",
            **await self._privacy.export(user_id),
        }
        return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")

    async def erase(self, user_id: int) -> Erasure:
        return await self._privacy.erase(user_id)
