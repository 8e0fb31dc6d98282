"""/settings: delivery mode, digest hour and weekday, time zone, in one message edited in place."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.handlers.access import consented
from bot.handlers.buttons import (
    SettingsDay,
    SettingsHour,
    SettingsMode,
    SettingsOpen,
    SettingsScreen,
    SettingsZone,
)
from bot.handlers.context import Context, Handler
from bot.handlers.flows import FlowRouter
from bot.handlers.presses import on_member_press
from bot.handlers.replies import Button, answer, keyboard, reply, show
from bot.i18n import N_, Html, Texts
from bot.models import DeliveryMode, Flow, Member
from bot.runtime import Runtime
from bot.services.letter_rules import clean_text
from bot.services.members import COMMON_TIMEZONES, SettingResult
from bot.services.zones import zone_label

FLOW = "settings"


class SettingsStep(StrEnum):
    TIMEZONE = "timezone"  # typing a city


_SEND_SETTINGS = N_("This button has expired. Please send /settings.")
_MODE_LABELS = {
    DeliveryMode.INSTANT: N_("At once"),
    DeliveryMode.DAILY: N_("Daily summary"),
    DeliveryMode.WEEKLY: N_("Weekly summary"),
    DeliveryMode.PAUSED: N_("Paused"),
}


class Settings:
    """Shows the member's settings and changes one value per button press."""

    def __init__(self, runtime: Runtime, router: FlowRouter) -> None:
        self.runtime = runtime
        router.register(FLOW, self.on_typed_timezone)

    def handlers(self) -> list[Handler]:
        return [
            CommandHandler("settings", self.open),
            on_member_press(SettingsOpen, self.on_open, expired=_SEND_SETTINGS),
            on_member_press(SettingsMode, self.on_change, expired=_SEND_SETTINGS),
            on_member_press(SettingsHour, self.on_change, expired=_SEND_SETTINGS),
            on_member_press(SettingsDay, self.on_change, expired=_SEND_SETTINGS),
            on_member_press(SettingsZone, self.on_change, expired=_SEND_SETTINGS),
        ]

    @consented
    async def open(self, update: Update, context: Context, member: Member) -> None:
        """/settings: the settings screen as a new message; older settings messages expire."""
        await self._show_new(update, member, context.texts)

    async def _show_new(self, update: Update, member: Member, texts: Texts) -> None:
        view = await self.runtime.members.new_settings_view(member.user_id)
        await reply(update, self.summary(member, texts), self.main_keyboard(member, texts, view))

    async def on_open(
        self,
        update: Update,
        context: Context,
        query: CallbackQuery,
        button: SettingsOpen,
        member: Member,
    ) -> None:
        """Pickers, Back, Done and "type a time zone", on the settings message it was shown on."""
        if await self._current_view(context, query, member, button.view):
            await self._navigate(update, query, member, context.texts, button)

    async def on_change(
        self,
        update: Update,
        context: Context,
        query: CallbackQuery,
        button: SettingsMode | SettingsHour | SettingsDay | SettingsZone,
        member: Member,
    ) -> None:
        """A mode, hour, weekday or time zone: saved, then shown on the same message."""
        texts = context.texts
        if not await self._current_view(context, query, member, button.view):
            return
        result = await self._apply(member.user_id, button)
        if result is None or result.member is None:
            await answer(query, texts.plain(_SEND_SETTINGS))
            return
        # Saved: now show it. Both calls only tidy the screen and cannot undo the change.
        await show(
            query,
            self.summary(result.member, texts),
            self.main_keyboard(result.member, texts, button.view),
        )
        await answer(query, texts.plain("Saved."))

    async def _current_view(
        self, context: Context, query: CallbackQuery, member: Member, view: int
    ) -> bool:
        """Each button carries the number of the message it was shown on: only the newest works."""
        if await self.runtime.members.is_current_settings_view(member.user_id, view):
            return True
        await answer(query, context.texts.plain(_SEND_SETTINGS))
        return False

    async def _navigate(
        self,
        update: Update,
        query: CallbackQuery,
        member: Member,
        texts: Texts,
        button: SettingsOpen,
    ) -> None:
        """Pickers, Back, Done and "type a time zone": nothing is saved here."""
        screen, view = button.screen, button.view
        if screen is SettingsScreen.TYPE_ZONE:
            await self.runtime.flows.enter(member.user_id, FLOW, SettingsStep.TIMEZONE)
            await reply(
                update,
                texts(
                    "Type a city in the time zone you want, for example Seoul, London or "
                    "New York. Send /cancel to stop."
                ),
            )
        elif screen is SettingsScreen.BACK:
            await show(query, self.summary(member, texts), self.main_keyboard(member, texts, view))
        elif screen is SettingsScreen.DONE:
            await show(query, self.summary(member, texts))
        else:
            await show(
                query, self.summary(member, texts), self._picker(screen, member, texts, view)
            )
        await answer(query)

    async def on_typed_timezone(self, update: Update, context: Context, flow: Flow) -> None:
        """The member typed a time zone name after pressing 'Other'."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or message.text is None:
            return
        texts = context.texts
        # Cleaned first: a direction control echoed in our sentence would turn it around, and
        # an invisible one would make "Seoul" unknown.
        typed = " ".join(clean_text(message.text).split())
        result = await self.runtime.members.set_timezone(user.id, typed)
        if result.member is None:
            await reply(
                update,
                texts(
                    "We don't know a time zone for “{name}”. Please type a city such as Seoul "
                    "or London, or send /cancel.",
                    name=typed[:64],
                ),
            )
            return
        await self.runtime.flows.leave(user.id)
        await self._show_new(update, result.member, texts)

    async def _apply(
        self, user_id: int, button: SettingsMode | SettingsHour | SettingsDay | SettingsZone
    ) -> SettingResult | None:
        """Turn a button into a service call; None for a value no button of ours sends."""
        members = self.runtime.members
        if isinstance(button, SettingsMode):
            return await members.set_mode(user_id, button.mode)
        if isinstance(button, SettingsHour):
            return await members.set_hour(user_id, button.hour)
        if isinstance(button, SettingsDay):
            return await members.set_weekday(user_id, button.weekday)
        if isinstance(button, SettingsZone) and button.zone in COMMON_TIMEZONES:
            return await members.set_timezone(user_id, button.zone)
        return None

    def summary(self, member: Member, texts: Texts) -> Html:
        """The settings in words, e.g. 'Updates: a daily summary at 08:00'."""
        lines = [texts("<b>Your settings</b>"), self._delivery_line(member, texts)]
        next_digest = self.runtime.digests.next_digest(member)
        if next_digest is not None:
            when = texts.datetime_in(next_digest, member.timezone)
            lines.append(texts("Next summary: {when}", when=when))
        lines.append(texts("Time zone: {zone}", zone=zone_label(member.timezone, texts.language)))
        lines.append(texts("Language: {language}", language=texts.language_name(member.language)))
        if not member.subscribed:
            lines.append(texts("You are not subscribed: send /subscribe to get updates."))
        return Html("\n".join(lines))

    def _delivery_line(self, member: Member, texts: Texts) -> Html:
        time = _hour_label(member.digest_hour, texts)
        if member.delivery_mode is DeliveryMode.DAILY:
            return texts("Updates: a daily summary at {time}", time=time)
        if member.delivery_mode is DeliveryMode.WEEKLY:
            return texts(
                "Updates: a weekly summary on {weekday} at {time}",
                weekday=_weekday_label(member.digest_weekday, texts),
                time=time,
            )
        if member.delivery_mode is DeliveryMode.PAUSED:
            return texts("Updates: paused")
        return texts("Updates: each one as soon as it is published")

    def main_keyboard(self, member: Member, texts: Texts, view: int) -> InlineKeyboardMarkup:
        def mode_button(mode: DeliveryMode) -> Button:
            mark = "✓ " if member.delivery_mode is mode else ""
            return (mark + texts.plain(_MODE_LABELS[mode]), SettingsMode(view, mode).pack())

        def screen(name: SettingsScreen) -> str:
            return SettingsOpen(view, name).pack()

        return keyboard(
            [
                [mode_button(DeliveryMode.INSTANT), mode_button(DeliveryMode.DAILY)],
                [mode_button(DeliveryMode.WEEKLY), mode_button(DeliveryMode.PAUSED)],
                self._schedule_row(member, texts, view),
                [
                    (
                        texts.plain("Time zone")
                        + ": "
                        + zone_label(member.timezone, texts.language),
                        screen(SettingsScreen.ZONES),
                    )
                ],
                [(texts.plain("Done"), screen(SettingsScreen.DONE))],
            ]
        )

    @staticmethod
    def _schedule_row(member: Member, texts: Texts, view: int) -> list[Button]:
        """The hour, and the weekday only for weekly summaries (daily ones have none)."""
        hour = _hour_label(member.digest_hour, texts)
        row: list[Button] = [
            (texts.plain("Hour") + ": " + hour, SettingsOpen(view, SettingsScreen.HOURS).pack())
        ]
        if member.delivery_mode is DeliveryMode.WEEKLY:
            day = _weekday_label(member.digest_weekday, texts)
            row.append(
                (texts.plain("Day") + ": " + day, SettingsOpen(view, SettingsScreen.DAYS).pack())
            )
        return row

    def _picker(
        self, screen: SettingsScreen, member: Member, texts: Texts, view: int
    ) -> InlineKeyboardMarkup:
        back: list[Button] = [
            (texts.plain("« Back"), SettingsOpen(view, SettingsScreen.BACK).pack())
        ]
        if screen is SettingsScreen.HOURS:
            hours = [(_hour_label(h, texts), SettingsHour(view, h).pack()) for h in range(24)]
            return keyboard([*(hours[i : i + 4] for i in range(0, 24, 4)), back])
        if screen is SettingsScreen.DAYS:
            days = [(_weekday_label(d, texts), SettingsDay(view, d).pack()) for d in range(7)]
            return keyboard([days[0:4], days[4:7], back])
        zones = [
            (zone_label(zone, texts.language), SettingsZone(view, zone).pack())
            for zone in COMMON_TIMEZONES
        ]
        rows = [zones[i : i + 2] for i in range(0, len(zones), 2)]
        other = SettingsOpen(view, SettingsScreen.TYPE_ZONE).pack()
        return keyboard([*rows, [(texts.plain("Other: type it"), other)], back])


def _hour_label(hour: int, texts: Texts) -> str:
    return texts.clock(datetime(2000, 1, 3, hour))


def _weekday_label(weekday: int, texts: Texts) -> str:
    return str(texts.locale.days["format"]["wide"][weekday])
