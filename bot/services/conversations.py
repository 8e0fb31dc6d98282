"""Which multi-step flow a member is in, kept across restarts."""

from __future__ import annotations

from bot.clock import Clock, to_epoch
from bot.models import Conversation
from bot.storage.conversations import ConversationRepository


class ConversationService:
    """Start, advance, read and leave a member's current flow."""

    def __init__(self, conversations: ConversationRepository, clock: Clock) -> None:
        self._conversations = conversations
        self._clock = clock

    async def current(self, user_id: int) -> Conversation | None:
        return await self._conversations.get(user_id)

    async def enter(
        self, user_id: int, flow: str, step: str, data: dict[str, object] | None = None
    ) -> None:
        now = to_epoch(self._clock.now())
        await self._conversations.set(user_id, flow, step, data or {}, now)

    async def leave(self, user_id: int) -> bool:
        """Leave the current flow; return True when there was one."""
        return await self._conversations.clear(user_id)
