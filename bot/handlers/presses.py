"""Button presses: one handler per button kind, matched by its prefix and decoded in one place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeAlias, TypeVar

from telegram import CallbackQuery, Update
from telegram.ext import CallbackQueryHandler

from bot.handlers.access import consent_first
from bot.handlers.buttons import ButtonData
from bot.handlers.context import Callback, Context, Handler
from bot.handlers.replies import answer
from bot.i18n import N_
from bot.models import Member

_Button = TypeVar("_Button", bound=ButtonData)
Pressed: TypeAlias = Callable[[Update, Context, CallbackQuery, _Button], Awaitable[None]]
MemberPressed: TypeAlias = Callable[
    [Update, Context, CallbackQuery, _Button, Member], Awaitable[None]
]
Guard: TypeAlias = Callable[[Callback], Callback]

EXPIRED = N_("This button has expired. Please try again.")


def on_press(
    kind: type[_Button],
    callback: Pressed[_Button],
    *,
    guard: Guard | None = None,
    expired: str = EXPIRED,
    alert: bool = False,
) -> Handler:
    """The handler of one button kind: the guard first (the role, again on every press), then
    the data decoded; data no button of ours sends gets the `expired` notice and does nothing.
    """

    async def pressed(update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        button = kind.unpack(query.data)
        if button is None:
            await answer(query, context.texts.plain(expired), alert=alert)
            return
        await callback(update, context, query, button)

    pressed.__doc__ = callback.__doc__
    return CallbackQueryHandler(guard(pressed) if guard else pressed, pattern=kind.pattern)


def on_member_press(
    kind: type[_Button],
    callback: MemberPressed[_Button],
    *,
    expired: str = EXPIRED,
    alert: bool = False,
) -> Handler:
    """`on_press` for members who accepted the notice (checked first); the callback gets them."""

    async def with_member(
        update: Update, context: Context, query: CallbackQuery, button: _Button
    ) -> None:
        member = context.member
        assert member is not None  # consent_first let the press through
        await callback(update, context, query, button, member)

    with_member.__doc__ = callback.__doc__
    return on_press(kind, with_member, guard=consent_first, expired=expired, alert=alert)
