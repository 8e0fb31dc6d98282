"""Small pieces every feature's handlers share: language, replies, keyboards, privilege checks."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Any, Protocol, TypeAlias

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError
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


# Phishers write as someone members trust (a hijacked coordinator's account, a fake Pyeonji):
# the welcome and /help say what the real one never asks for.
NEVER_ASKS = N_(
    "<b>Stay safe:</b> Pyeonji and its organizers will never ask you for a password, a login "
    "code, money, or to open a file or install an app. If a message asks for any of these, "
    "even one that seems to come from us, do not answer it and report it to the organizers."
)

ROLE_NAMES = {
    Role.COORDINATOR: N_("coordinator"),
    Role.COURIER: N_("courier"),
    Role.TRANSLATOR: N_("translator"),
}


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


async def reply(
    update: Update, text: Html, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Answer in the chat the update came from; the message sent, to edit it later."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text, reply_markup=markup)


# Telegram's refusals of calls that only tidy the screen: the press was answered too late (a
# slow phone, a restart, a backlog), the message is gone, is not the bot's, or already shows
# this. None of them may decide whether the action a button asked for happens.
_COSMETIC_REFUSALS = (
    "query is too old",
    "query id is invalid",
    "message is not modified",
    "message to edit not found",
    "message can't be edited",
)


def is_cosmetic(error: TelegramError) -> bool:
    """True for a refusal that only means the screen could not be tidied (see above)."""
    message = error.message.lower()
    return isinstance(error, BadRequest) and any(part in message for part in _COSMETIC_REFUSALS)


async def cosmetic(call: Awaitable[object]) -> bool:
    """Await a call that only tidies the screen; swallow (and log) Telegram's cosmetic refusals.

    Handlers record the action first and tidy afterwards; this is the one place that decides
    which refusals of a tidying call are harmless. Returns False when Telegram refused.
    """
    try:
        await call
    except BadRequest as error:
        if not is_cosmetic(error):
            raise
        log.info("event=cosmetic_call_refused reason=%s", _reason(error))
        return False
    return True


def _reason(error: TelegramError) -> str:
    message = error.message.lower()
    reason = next((part for part in _COSMETIC_REFUSALS if part in message), "other")
    return reason.replace(" ", "_")


async def answer(query: CallbackQuery, text: str | None = None, *, alert: bool = False) -> None:
    """Answer a button press (stops the spinner, maybe a notice); too late is harmless."""
    await cosmetic(query.answer(text, show_alert=alert))


async def show(
    query: CallbackQuery, text: Html, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the pressed message's text and buttons (settings edit one message in place)."""
    await cosmetic(query.edit_message_text(text, reply_markup=markup))


async def swap_buttons(query: CallbackQuery, markup: InlineKeyboardMarkup) -> None:
    """Change only the buttons under the pressed message (its text stays)."""
    if isinstance(query.message, Message):
        await cosmetic(query.edit_message_reply_markup(reply_markup=markup))


async def close_buttons(query: CallbackQuery) -> None:
    """Remove the buttons of a message whose question has been answered."""
    message = query.message
    if isinstance(message, Message) and message.reply_markup is not None:
        await cosmetic(query.edit_message_reply_markup(reply_markup=None))


async def consented_member(runtime: Runtime, update: Update, texts: Texts) -> Member | None:
    """The member behind the update if they accepted the notice; otherwise ask them to /start."""
    user = update.effective_user
    member = await runtime.members.get(user.id) if user is not None else None
    if member is not None and member.has_consented:
        return member
    if update.callback_query is not None:
        await answer(
            update.callback_query,
            texts.plain("Please send /start first: we need your consent before we keep anything."),
            alert=True,
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
    Permission.TRANSLATE_LETTERS: N_("Sorry, only translators and coordinators can do that."),
}
_COORDINATORS_ONLY = N_("Sorry, only coordinators can do that.")


async def refuse(runtime: Runtime, update: Update, permission: Permission) -> None:
    """Tell a user, in their language, that this is not theirs to do, and whose it is."""
    texts = await texts_for(runtime, update)
    refusal = texts.plain(_REFUSALS.get(permission, _COORDINATORS_ONLY))
    if update.callback_query is not None:
        await answer(update.callback_query, refusal, alert=True)
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


def draft_expired(texts: Texts, expiry: timedelta) -> Html:
    """What a member who comes back to an abandoned draft is told."""
    hours = int(expiry.total_seconds() // 3600)
    return texts.ngettext(
        "Your unfinished draft was deleted after {count} hour without a step. Nothing was "
        "sent. You can start again at any time.",
        "Your unfinished draft was deleted after {count} hours without a step. Nothing was "
        "sent. You can start again at any time.",
        hours,
    )
