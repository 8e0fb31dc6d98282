"""Runs before every feature: outside private chats, blocked members and flooders stop here."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, BaseUpdateProcessor, TypeHandler

from bot.handlers.context import Context, Handler
from bot.handlers.replies import reply
from bot.i18n import N_, Texts
from bot.runtime import Runtime
from bot.services.members import SHARED_SENDER_IDS
from bot.services.throttle import FloodGuard, Verdict

log = logging.getLogger(__name__)

# A member blocked by an admin keeps their privacy rights: these still answer them.
PRIVACY_COMMANDS = frozenset({"privacy", "mydata", "forget"})
PRIVACY_BUTTONS = ("forget:",)
_PRIVATE_ONLY = N_("I only talk in private chats: please write to me at t.me/{username}")
_JOINED = {ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.RESTRICTED}


class Gatekeeper:
    """Private chats only, flood control and admin blocks, checked on every update (group -1)."""

    def __init__(self, runtime: Runtime, guard: FloodGuard | None = None) -> None:
        self.runtime = runtime
        self.guard = guard or FloodGuard()
        # Groups get their own, small budget per chat: a few pointers a minute is plenty (Telegram
        # allows a bot 20 messages a minute in a group), and what happens there never throttles
        # a member's private chat.
        self.group_guard = FloodGuard(max_in_window=3, window=60.0, cool_down=60.0)

    def handlers(self) -> list[Handler]:
        return [TypeHandler(Update, self.check)]

    async def check(self, update: Update, context: Context) -> None:
        """Stop the update unless a person sent it in their private chat; then blocks, floods."""
        in_a_chat = update.effective_chat is not None or update.callback_query is not None
        if in_a_chat and not _from_a_person_in_private(update):
            await self._outside_private_chat(update, context)
            raise ApplicationHandlerStop
        user = update.effective_user
        if user is None:
            return
        if user.id in self.runtime.config.admin_ids:
            await context.load(update)  # the one read of the member for this update
            return
        verdict = self.guard.check(user.id, time.monotonic())
        if verdict is Verdict.THROTTLE_NOW:
            log.warning("event=member_throttled")
            await context.load(update)
            await reply(
                update,
                context.texts(
                    "You are sending messages very fast, so we will not "
                    "answer for a minute. Please wait a little."
                ),
            )
        if verdict is not Verdict.ALLOW:
            if update.callback_query is not None:
                await update.callback_query.answer()  # no spinner left turning
            raise ApplicationHandlerStop
        member = await context.load(update)  # the one read of the member for this update
        privacy_rights = _uses_privacy_rights(update, context.bot.username)
        if member is not None and member.blocked and not privacy_rights:
            # No answer at all: a blocked account learns nothing from the bot.
            if update.callback_query is not None:
                await update.callback_query.answer()
            raise ApplicationHandlerStop
        if member is not None:
            await self.runtime.members.seen(member)  # retention counts from any interaction

    async def _outside_private_chat(self, update: Update, context: Context) -> None:
        """Groups, supergroups, channels: at most one sentence pointing to a private chat.

        Nothing is read from or written to the database here, so nothing stored can leak and
        nothing changes. A group that adds the bot is told once, then the bot leaves.
        """
        chat, user = update.effective_chat, update.effective_user
        # The sender's own Telegram language, never a stored one: a member's record is not read.
        texts = self.runtime.translator.texts(
            self.runtime.translator.pick_language(user.language_code if user else None)
        )
        try:
            if update.callback_query is not None:
                await update.callback_query.answer(self._pointer(texts, context))
            elif update.my_chat_member is not None and chat is not None:
                await self._added_to(update, context, texts)
            elif (
                _is_command(update)
                and chat is not None
                and chat.type != ChatType.CHANNEL
                # Quietly: a flood in a group is never answered with more messages there.
                and self.group_guard.check(chat.id, time.monotonic()) is Verdict.ALLOW
            ):
                await chat.send_message(texts(_PRIVATE_ONLY, username=context.bot.username))
        except TelegramError as error:
            # Removed from the group meanwhile, say: nothing to do, and no member is touched.
            log.info("event=group_answer_failed error=%s", type(error).__name__)
        log.info("event=outside_private_chat chat_type=%s", chat.type if chat else "none")

    async def _added_to(self, update: Update, context: Context, texts: Texts) -> None:
        change = update.my_chat_member
        assert change is not None
        if change.new_chat_member.status not in _JOINED:
            return  # left or removed: nothing to say
        if change.chat.type != ChatType.CHANNEL:
            await change.chat.send_message(texts(_PRIVATE_ONLY, username=context.bot.username))
        await change.chat.leave()

    @staticmethod
    def _pointer(texts: Texts, context: Context) -> str:
        """The sentence as plain text, for a button's answer."""
        return texts.plain(_PRIVATE_ONLY).format(username=context.bot.username)


@dataclass
class _MemberLane:
    """One member's lock, and how many of their updates hold it or wait for it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class PerMemberOrder(BaseUpdateProcessor):
    """Handle updates concurrently, but each member's own updates one at a time, in order.

    asyncio locks are first-come first-served and PTB starts update tasks in arrival order,
    so a member's second message is handled only after their first.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._lanes: dict[int, _MemberLane] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _sender(update)
        if key is None:
            await coroutine
            return
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _MemberLane()
        lane.users += 1
        try:
            async with lane.lock:
                await coroutine
        finally:
            # Forgotten only when no update of this member holds it or waits for it. (Free is
            # not enough: a woken waiter has not taken it yet, and a newcomer given a fresh
            # lock would run beside that waiter, out of order.)
            lane.users -= 1
            if lane.users == 0:
                del self._lanes[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def _from_a_person_in_private(update: Update) -> bool:
    """A person's own update in their private chat (or one with no chat, like a poll answer)."""
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    if message is not None and message.sender_chat is not None:
        return False  # sent on behalf of a group or channel
    if user is not None and user.id in SHARED_SENDER_IDS:
        return False
    if update.callback_query is not None and chat is None:
        return False  # a button on an inline message: it may be in any chat
    return chat is None or chat.type == ChatType.PRIVATE


def _is_command(update: Update) -> bool:
    message = update.message
    return message is not None and (message.text or "").startswith("/")


def _uses_privacy_rights(update: Update, bot_username: str) -> bool:
    """/privacy, /mydata, /forget (to this bot) and the /forget buttons."""
    if update.callback_query is not None:
        return (update.callback_query.data or "").startswith(PRIVACY_BUTTONS)
    text = update.message.text if update.message is not None else None
    if not text or not text.startswith("/"):
        return False
    command, _, addressee = text.split(maxsplit=1)[0][1:].lower().partition("@")
    return command in PRIVACY_COMMANDS and addressee in ("", bot_username.lower())


def _sender(update: object) -> int | None:
    if isinstance(update, Update):
        user = update.effective_user
        if user is not None:
            return user.id
        if update.effective_chat is not None:
            return update.effective_chat.id
    return None
