"""Answering in the chat: replies, keyboards, button answers, and tidying calls that may fail."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from typing import TypeAlias

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError

from bot.i18n import Html

log = logging.getLogger(__name__)

Button: TypeAlias = tuple[str, str]  # (label, callback data)


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


async def answer_and_close(query: CallbackQuery) -> None:
    """The press is handled: stop the spinner and take the answered question's buttons away."""
    await answer(query)
    await close_buttons(query)
