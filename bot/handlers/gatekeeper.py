"""Runs before every feature: members blocked by an admin and flooders go no further."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import ApplicationHandlerStop, BaseUpdateProcessor, TypeHandler

from bot.handlers.common import Context, Handler, reply, texts_for
from bot.runtime import Runtime
from bot.services.throttle import FloodGuard, Verdict

log = logging.getLogger(__name__)


class Gatekeeper:
    """Flood control and admin blocks, checked on every update in handler group -1."""

    def __init__(self, runtime: Runtime, guard: FloodGuard | None = None) -> None:
        self.runtime = runtime
        self.guard = guard or FloodGuard()

    def handlers(self) -> list[Handler]:
        return [TypeHandler(Update, self.check)]

    async def check(self, update: Update, context: Context) -> None:
        """Stop the update here if its sender is blocked or flooding."""
        user = update.effective_user
        if user is None or user.id in self.runtime.config.admin_ids:
            return
        verdict = self.guard.check(user.id, time.monotonic())
        if verdict is Verdict.THROTTLE_NOW:
            log.warning("event=member_throttled")
            texts = await texts_for(self.runtime, update)
            await reply(
                update,
                texts(
                    "You are sending messages very fast, so we will not "
                    "answer for a minute. Please wait a little."
                ),
            )
        if verdict is not Verdict.ALLOW:
            if update.callback_query is not None:
                await update.callback_query.answer()  # no spinner left turning
            raise ApplicationHandlerStop
        member = await self.runtime.members.get(user.id)
        if member is not None and member.blocked:
            # No answer at all: a blocked account learns nothing from the bot.
            if update.callback_query is not None:
                await update.callback_query.answer()
            raise ApplicationHandlerStop
        if member is not None:
            await self.runtime.members.seen(member)  # retention counts from any interaction


class PerMemberOrder(BaseUpdateProcessor):
    """Handle updates concurrently, but each member's own updates one at a time, in order.

    asyncio locks are first-come first-served and PTB starts update tasks in arrival order,
    so a member's second message is handled only after their first.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _sender(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                await coroutine
        finally:
            if not lock.locked() and self._locks.get(key) is lock:
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def _sender(update: object) -> int | None:
    if isinstance(update, Update):
        user = update.effective_user
        if user is not None:
            return user.id
        if update.effective_chat is not None:
            return update.effective_chat.id
    return None
