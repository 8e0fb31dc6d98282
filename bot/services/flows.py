"""Which multi-step flow a member is in, kept across restarts."""

from __future__ import annotations

import secrets
from datetime import timedelta

from bot.clock import Clock, to_epoch
from bot.models import TOKEN_KEY, Flow
from bot.storage.flows import FlowRepository

# The flow of a draft that expired: the member is told nothing was sent, once.
EXPIRED = "expired"

_TOKEN_RANGE = 1 << 40  # fits callback data; a chance collision is one in a trillion


class FlowService:
    """Start, advance, read and leave a member's current flow."""

    def __init__(self, flows: FlowRepository, clock: Clock, draft_expiry: timedelta) -> None:
        self._flows = flows
        self._clock = clock
        self.draft_expiry = draft_expiry

    async def current(self, user_id: int) -> Flow | None:
        """The member's flow; an abandoned draft comes back once as `EXPIRED`, then is gone."""
        return await self.resume(user_id, await self._flows.get(user_id))

    async def resume(self, user_id: int, flow: Flow | None) -> Flow | None:
        """`current`, for the flow row already read (with the member, when the update arrived)."""
        if flow is None:
            return None
        if flow.name == EXPIRED or flow.updated_at < self._cutoff():
            await self._flows.clear(user_id)
            return Flow(EXPIRED, "", {})
        return flow

    async def expire_drafts(self) -> int:
        """Empty every draft left longer than the expiry (the background job); return how many."""
        return await self._flows.expire(self._cutoff(), EXPIRED)

    def _cutoff(self) -> int:
        # The one place that decides when a draft has expired.
        return to_epoch(self._clock.now() - self.draft_expiry)

    async def enter(
        self, user_id: int, name: str, step: str, draft: dict[str, object] | None = None
    ) -> int:
        """Move to `step` with `draft`; return the step's fresh draft token.

        Every step gets a new random token, so a button shown for an earlier step, an earlier
        draft or a draft since left carries a token that no longer matches (and a token is
        never reused the way a counter restarting after /cancel would be).
        """
        now = to_epoch(self._clock.now())
        token = secrets.randbelow(_TOKEN_RANGE)
        await self._flows.set(user_id, name, step, {**(draft or {}), TOKEN_KEY: token}, now)
        return token

    async def note(self, user_id: int, draft: int, key: str, value: int | str) -> bool:
        """Add `key` to the draft of step `draft` without starting a new step.

        Its buttons keep their token and its age is unchanged; a draft since moved on, left
        or expired is not touched. Returns whether it was noted.
        """
        return await self._flows.note(user_id, TOKEN_KEY, draft, key, value)

    async def leave(self, user_id: int) -> bool:
        """Leave the current flow; return True when there was one."""
        return await self._flows.clear(user_id)
