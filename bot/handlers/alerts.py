"""Admins' /alerts: which kinds of privileged action they are told of as they happen."""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.handlers.access import requires
from bot.handlers.buttons import AlertMute
from bot.handlers.context import Context, Handler
from bot.handlers.presses import on_press
from bot.handlers.replies import answer, keyboard, reply, show
from bot.i18n import Html, Texts
from bot.runtime import Runtime
from bot.services.alerts import ALERT_KIND_NAMES, AlertKind
from bot.services.roles import Permission


class Alerts:
    """The alert settings screen; the alerts themselves are queued by AlertService.flush."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def handlers(self) -> list[Handler]:
        guard = requires(self.runtime, Permission.READ_AUDIT)
        return [
            CommandHandler("alerts", guard(self.open)),
            on_press(AlertMute, self.on_mute, guard=guard),
        ]

    async def open(self, update: Update, context: Context) -> None:
        """/alerts: one button per kind, showing whether it is on."""
        user = update.effective_user
        if user is None:
            return
        texts = context.texts
        muted = await self.runtime.alerts.muted(user.id)
        await reply(update, _screen(texts), _buttons(texts, muted))

    async def on_mute(
        self, update: Update, context: Context, query: CallbackQuery, button: AlertMute
    ) -> None:
        """Mute or unmute one kind, then redraw the screen (the role is checked by the guard)."""
        user, texts = query.from_user, context.texts
        await self.runtime.alerts.set_muted(user.id, button.kind, bool(button.mute))
        await answer(query, texts.plain("Muted.") if button.mute else texts.plain("Alerts on."))
        muted = await self.runtime.alerts.muted(user.id)
        await show(query, _screen(texts), _buttons(texts, muted))


def _screen(texts: Texts) -> Html:
    return texts(
        "<b>Alerts</b>\nYou are told at once of each privileged action, so a hijacked account "
        "is noticed quickly. Tap a kind to mute it or turn it back on."
    )


def _buttons(texts: Texts, muted: set[AlertKind]) -> InlineKeyboardMarkup:
    rows = []
    for kind, name in ALERT_KIND_NAMES.items():
        mark = "🔕" if kind in muted else "🔔"
        rows.append(
            [(f"{mark} {texts.plain(name)}", AlertMute(kind, int(kind not in muted)).pack())]
        )
    return keyboard(rows)
