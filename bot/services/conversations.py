"""Which multi-step flow a member is in, kept across restarts."""

from __future__ import annotations

import secrets

from bot.clock import Clock, to_epoch
from bot.models import DRAFT_KEY, Conversation
from bot.storage.conversations import ConversationRepository

_TOKEN_RANGE = 1 << 40  # fits callback data; a chance collision is one in a trillion


class ConversationService:
    """Start, advance, read and leave a member's current flow."""

    def __init__(self, conversations: ConversationRepository, clock: Clock) -> None:
        self._conversations = conversations
        self._clock = clock

    async def current(self, user_id: int) -> Conversation | None:
        return await self._conversations.get(user_id)

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

    async def leave(self, user_id: int) -> bool:
        """Leave the current flow; return True when there was one."""
        return await self._conversations.clear(user_id)
