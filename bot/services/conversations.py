"""Which multi-step flow a member is in, kept across restarts."""

from __future__ import annotations

import secrets
from datetime import timedelta

from bot.clock import Clock, to_epoch
from bot.models import DRAFT_KEY, Conversation
from bot.storage.conversations import ConversationRepository

# The flow of a draft that expired: the member is told nothing was sent, once.
EXPIRED = "expired"

_TOKEN_RANGE = 1 << 40  # fits callback data; a chance collision is one in a trillion


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
    ) -> int:
        """Move to `step` with `data`; return the step's fresh draft token.

        Every step gets a new random token, so a button shown for an earlier step, an earlier
        draft or a draft since left carries a token that no longer matches (and a token is
        never reused the way a counter restarting after /cancel would be).
        """
        now = to_epoch(self._clock.now())
        token = secrets.randbelow(_TOKEN_RANGE)
        await self._conversations.set(user_id, flow, step, {**(data or {}), DRAFT_KEY: token}, now)
        return token

    async def note(self, user_id: int, draft: int, key: str, value: int | str) -> bool:
        """Add `key` to the draft of step `draft` without starting a new step.

        Its buttons keep their token and its age is unchanged; a draft since moved on, left
        or expired is not touched. Returns whether it was noted.
        """
        return await self._conversations.note(user_id, DRAFT_KEY, draft, key, value)

    async def leave(self, user_id: int) -> bool:
        """Leave the current flow; return True when there was one."""
        return await self._conversations.clear(user_id)
