"""Small pieces every feature's handlers share: language, replies, keyboards, privilege checks."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Protocol, TypeAlias

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, ContextTypes

from bot.i18n import N_, Html, Texts, escape
from bot.models import Conversation, Member, Role
from bot.runtime import Runtime
from bot.services.roles import Permission, Standing

log = logging.getLogger(__name__)

Context: TypeAlias = ContextTypes.DEFAULT_TYPE
Callback: TypeAlias = Callable[[Update, Context], Coroutine[Any, Any, None]]
Handler: TypeAlias = BaseHandler[Update, Context, Any]
Button: TypeAlias = tuple[str, str]  # (label, callback data)


class Feature(Protocol):
    """A feature module's entry point: the handlers it adds to the Application."""

    def handlers(self) -> list[Handler]: ...


ROLE_NAMES = {Role.COORDINATOR: N_("coordinator"), Role.COURIER: N_("courier")}


async def texts_for(runtime: Runtime, update: Update) -> Texts:
    """The member's chosen language, else their Telegram language, else the default."""
    user = update.effective_user
    if user is None:
        return runtime.translator.texts(None)
    member = await runtime.members.get(user.id)
    if member is not None:
        return runtime.translator.texts(member.language)
    return runtime.translator.texts(runtime.translator.pick_language(user.language_code))


def keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup:
    """Inline keyboard from rows of (label, callback data) pairs."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


async def reply(update: Update, text: Html, markup: InlineKeyboardMarkup | None = None) -> None:
    """Answer in the chat the update came from."""
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(text, reply_markup=markup)


async def show(
    query: CallbackQuery, text: Html, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the pressed message's text and buttons (settings edit one message in place)."""
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        # A double press re-renders the same screen; Telegram refuses that as "not modified".
        if "not modified" not in error.message.lower():
            raise


async def close_buttons(query: CallbackQuery) -> None:
    """Remove the buttons of a message whose question has been answered."""
    message = query.message
    if isinstance(message, Message) and message.reply_markup is not None:
        try:
            await query.edit_message_reply_markup(reply_markup=None)
        except BadRequest as error:
            if "not modified" not in error.message.lower():
                raise


async def consented_member(runtime: Runtime, update: Update, texts: Texts) -> Member | None:
    """The member behind the update if they accepted the notice; otherwise ask them to /start."""
    user = update.effective_user
    member = await runtime.members.get(user.id) if user is not None else None
    if member is not None and member.has_consented:
        return member
    if update.callback_query is not None:
        await update.callback_query.answer(
            texts.plain("Please send /start first: we need your consent before we keep anything."),
            show_alert=True,
        )
    else:
        await reply(
            update,
            texts("Please send /start first: we need your consent before we keep anything."),
        )
    return None


def requires(runtime: Runtime, permission: Permission) -> Callable[[Callback], Callback]:
    """Check the sender's standing again on every command and button press, and refuse politely.

    Roles are looked up when the update arrives, never cached: a revoked coordinator's old
    buttons stop working at once.
    """

    def decorate(callback: Callback) -> Callback:
        @functools.wraps(callback)
        async def guarded(update: Update, context: Context) -> None:
            user = update.effective_user
            standing = await runtime.roles.standing(user.id) if user is not None else None
            if standing is not None and standing.may(permission):
                await callback(update, context)
                return
            if user is not None:
                await runtime.roles.record_refusal(user.id, permission.value)
            await refuse(runtime, update, permission)

        return guarded

    return decorate


# The refusal names the role the command needs (a coordinator trying /bundle is told that
# couriers make bundles, not that "coordinators, couriers or admins" may).
_REFUSALS = {
    Permission.MAKE_BUNDLES: N_("Sorry, only couriers can do that."),
    Permission.MANAGE_ROLES: N_("Sorry, only admins can do that."),
    Permission.BLOCK_MEMBERS: N_("Sorry, only admins can do that."),
    Permission.READ_AUDIT: N_("Sorry, only admins can do that."),
}
_COORDINATORS_ONLY = N_("Sorry, only coordinators can do that.")


async def refuse(runtime: Runtime, update: Update, permission: Permission) -> None:
    """Tell a user, in their language, that this is not theirs to do, and whose it is."""
    texts = await texts_for(runtime, update)
    refusal = texts.plain(_REFUSALS.get(permission, _COORDINATORS_ONLY))
    if update.callback_query is not None:
        await update.callback_query.answer(refusal, show_alert=True)
    else:
        await reply(update, escape(refusal))


async def timezone_of(runtime: Runtime, user_id: int) -> str:
    """The time zone to show times in for this user (theirs, or the default)."""
    member = await runtime.members.get(user_id)
    return member.timezone if member is not None else runtime.config.default_timezone


async def standing_of(runtime: Runtime, update: Update) -> Standing | None:
    user = update.effective_user
    return await runtime.roles.standing(user.id) if user is not None else None


def command_args(context: Context) -> list[str]:
    return list(context.args or [])


FlowStep: TypeAlias = Callable[[Update, Context, Conversation], Awaitable[None]]


class Flows:
    """Routes a member's free text to the feature whose multi-step flow they are in."""

    def __init__(self) -> None:
        self._steps: dict[str, FlowStep] = {}

    def register(self, flow: str, step: FlowStep) -> None:
        if flow in self._steps:
            raise ValueError(f"flow {flow!r} registered twice")
        self._steps[flow] = step

    def step_for(self, flow: str) -> FlowStep | None:
        return self._steps.get(flow)


class DeepLinks:
    """`/start <payload>` targets (t.me/bot?start=write): payload name to entry callback."""

    def __init__(self) -> None:
        self._entries: dict[str, Callback] = {}

    def register(self, payload: str, entry: Callback) -> None:
        self._entries[payload] = entry

    def entry_for(self, payload: str) -> Callback | None:
        return self._entries.get(payload)
