"""Which multi-step flow a member is in, kept across restarts."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import Clock, to_epoch
from bot.models import Conversation
from bot.storage.conversations import ConversationRepository

# The flow of a draft that expired: the member is told nothing was sent, once.
EXPIRED = "expired"


class ConversationService:
    """Start, advance, read and leave a member's current flow."""

    def __init__(
        self, conversations: ConversationRepository, clock: Clock, draft_expiry: timedelta
    ) -> None:
        self._conversations = conversations
        self._clock = clock
        self.draft_expiry = draft_expiry

    async def current(self, user_id: int) -> Conversation | None:
        """The member's flow; an abandoned draft comes back once as `EXPIRED`, then is gone."""
        conversation = await self._conversations.get(user_id)
        if conversation is None:
            return None
        if conversation.flow == EXPIRED or conversation.updated_at < self._cutoff():
            await self._conversations.clear(user_id)
            return Conversation(EXPIRED, "", {})
        return conversation

    async def expire_drafts(self) -> int:
        """Empty every draft left longer than the expiry (the background job); return how many."""
        return await self._conversations.expire(self._cutoff(), EXPIRED)

    def _cutoff(self) -> int:
        # The one place that decides when a draft has expired.
        return to_epoch(self._clock.now() - self.draft_expiry)

    async def enter(
        self, user_id: int, flow: str, step: str, data: dict[str, object] | None = None
    ) -> None:
        now = to_epoch(self._clock.now())
        await self._conversations.set(user_id, flow, step, data or {}, now)

    async def leave(self, user_id: int) -> bool:
        """Leave the current flow; return True when there was one."""
        return await self._conversations.clear(user_id)
