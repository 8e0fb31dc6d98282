"""Always within reach: /cancel, blocking the bot, and polite answers to anything unexpected."""

from __future__ import annotations

import logging

from telegram import ChatMemberUpdated, Update
from telegram.constants import ChatMemberStatus
from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.handlers.context import Context, Handler
from bot.handlers.flows import FlowRouter, draft_expired
from bot.handlers.letters import WRITE
from bot.handlers.replies import answer, reply
from bot.runtime import Runtime
from bot.services.flows import EXPIRED

log = logging.getLogger(__name__)
_GONE = {ChatMemberStatus.BANNED, ChatMemberStatus.LEFT}  # "kicked" is BANNED in PTB


class Fallbacks:
    """Leaving a flow, the member blocking the bot, and whatever no feature takes."""

    def __init__(self, runtime: Runtime, router: FlowRouter) -> None:
        self.runtime = runtime
        self.router = router

    def handlers(self) -> list[Handler]:
        """Command handlers first; the catch-alls must be registered after every feature."""
        return [
            CommandHandler("cancel", self.cancel),
            ChatMemberHandler(self.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
        ]

    def fallbacks(self) -> list[Handler]:
        """Every other private message: to the member's current flow, or a polite pointer."""
        private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        return [
            MessageHandler(private, self.on_message),
            CallbackQueryHandler(self.unknown_button),
        ]

    async def cancel(self, update: Update, context: Context) -> None:
        """/cancel: leave whatever flow the member is in; what was already saved stays."""
        user = update.effective_user
        if user is None:
            return
        texts = context.texts
        current = await self.runtime.flows.current(user.id)
        if await self.runtime.flows.leave(user.id):
            if current is not None and current.name == WRITE:
                # Someone who stops mid-letter must not wonder whether it went out.
                await reply(update, texts("Cancelled. Your letter was not sent."))
                return
            await reply(update, texts("Stopped. Nothing else was changed."))
        else:
            await reply(
                update, texts("There is nothing to stop. Send /help to see what this bot can do.")
            )

    async def on_message(self, update: Update, context: Context) -> None:
        """A message no command took: the member's flow decides (text, /skip, a photo ...)."""
        user, message = update.effective_user, update.effective_message
        if user is None or message is None:
            return
        flow = await context.current_flow(user.id)
        step = self.router.step_for(flow.name) if flow is not None else None
        if flow is not None and step is not None:
            await step(update, context, flow)
        elif flow is not None and flow.name == EXPIRED:
            texts = context.texts
            await reply(update, draft_expired(texts, self.runtime.flows.draft_expiry))
        elif message.text is None:
            await self.not_text(update, context)
        elif message.text.startswith("/"):
            await self.unknown_command(update, context)
        else:
            texts = context.texts
            await reply(
                update,
                texts("We are not sure what you mean. Send /help to see what this bot can do."),
            )

    async def unknown_button(self, update: Update, context: Context) -> None:
        """A button no feature knows (an old message, or forged data): answer, change nothing."""
        query = update.callback_query
        if query is not None:
            texts = context.texts
            await answer(query, texts.plain("This button has expired. Please try again."))

    async def unknown_command(self, update: Update, context: Context) -> None:
        """A command no feature handles."""
        texts = context.texts
        await reply(
            update, texts("We don't know that command. Send /help to see what this bot can do.")
        )

    async def not_text(self, update: Update, context: Context) -> None:
        """Photos, files, voice, stickers: refused politely; nothing is downloaded or kept."""
        texts = context.texts
        await reply(
            update,
            texts(
                "We can only read text messages. For your safety, please do not "
                "send photos, files or voice messages here."
            ),
        )

    async def on_my_chat_member(self, update: Update, context: Context) -> None:
        """The member blocked or unblocked the bot: stop or resume sending to them."""
        change: ChatMemberUpdated | None = update.my_chat_member
        if change is None or change.chat.type != "private":
            return
        blocked = change.new_chat_member.status in _GONE
        await self.runtime.members.bot_blocked(change.from_user.id, blocked=blocked)
        log.info("event=bot_%s", "blocked" if blocked else "unblocked")
