"""Bundles: /bundle sends the courier a printable PDF; /bundles confirms a hand-over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from telegram import CallbackQuery, Chat, Update
from telegram.error import TelegramError, TimedOut
from telegram.ext import CommandHandler

from bot.clock import from_epoch
from bot.handlers.access import has_consented, requires, still_may
from bot.handlers.buttons import (
    BundleAgain,
    BundleCancel,
    BundleDelivered,
    BundlePick,
    BundleTypeDay,
)
from bot.handlers.context import Context, Handler
from bot.handlers.flows import FlowDraft, FlowRouter, enter_flow, leave_flow
from bot.handlers.presses import on_press
from bot.handlers.replies import Button, answer, close_buttons, keyboard, reply, show
from bot.handlers.translations import to_translate_line
from bot.i18n import N_, Html, Texts, unescape
from bot.models import Flow, StoredBundle
from bot.runtime import Runtime
from bot.services.letters import (
    BundleReady,
    BundleRefusal,
    DeliveryOutcome,
    format_day,
    parse_day,
)
from bot.services.roles import Permission

DELIVERY_DAY = "delivery-day"


class BundleStep(StrEnum):
    DAY = "day"  # typing the hand-over day


@dataclass(frozen=True)
class DeliveryDayDraft(FlowDraft):
    bundle: int  # the bundle whose hand-over day is typed


BUNDLES_SHOWN = 10
_SEND_BUNDLES = N_("This button has expired. Please send /bundles.")
_ALREADY_HANDED_OVER = N_("This bundle is already marked as handed over.")


class Bundles:
    """The courier's bundles: make one, and confirm the day it was handed over."""

    def __init__(self, runtime: Runtime, router: FlowRouter) -> None:
        self.runtime = runtime
        self.letters = runtime.letters
        router.register(DELIVERY_DAY, self.on_typed_day)

    def handlers(self) -> list[Handler]:
        guard = requires(self.runtime, Permission.MAKE_BUNDLES)
        return [
            CommandHandler("bundle", guard(self.make_bundle)),
            CommandHandler("bundles", guard(self.list_bundles)),
            on_press(BundlePick, self.on_pick, guard=guard, expired=_SEND_BUNDLES),
            on_press(BundleAgain, self.on_again, guard=guard, expired=_SEND_BUNDLES),
            on_press(BundleTypeDay, self.on_type_day, guard=guard, expired=_SEND_BUNDLES),
            on_press(BundleDelivered, self.on_delivered, guard=guard, expired=_SEND_BUNDLES),
            on_press(BundleCancel, self.on_cancel, guard=guard, expired=_SEND_BUNDLES),
        ]

    async def make_bundle(self, update: Update, context: Context) -> None:
        """/bundle: a PDF of every approved letter; they count as printed once it arrived."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        texts = context.texts
        made = await self.letters.make_bundle(user.id)
        if made is BundleRefusal.NO_FONT:
            await reply(update, _no_font(texts))
            return
        if made is BundleRefusal.NOTHING:
            await reply(update, texts("No approved letters are waiting to be printed."))
            # Letters not in Korean are printed only once translated: say why they wait.
            to_translate = await self.letters.to_translate_count()
            if to_translate:
                await reply(update, to_translate_line(texts, to_translate))
            return
        # Recorded first: if the bot dies while sending, the bundle is listed in /bundles with
        # "Send again" rather than lost and its letters printed a second time in another one.
        await self.letters.bundle_sent(user.id, made.bundle_id)
        try:
            await self._send_pdf(chat, texts, made)
        except TimedOut:
            # No answer: it may well have arrived. Sending it again unasked could print the
            # letters twice, so the courier decides.
            await reply(update, _unconfirmed(texts, made.bundle_id))
        except TelegramError:
            await self.letters.bundle_refused(made.bundle_id)
            await reply(
                update,
                texts(
                    "We could not send the bundle, so no letter was marked as printed. Please "
                    "try /bundle again in a moment."
                ),
            )

    async def _send_pdf(self, chat: Chat, texts: Texts, made: BundleReady) -> None:
        caption = texts.ngettext(
            "Bundle {number}: {count} letter. Print it on A4 paper; after handing it over, "
            "confirm with /bundles.",
            "Bundle {number}: {count} letters. Print it on A4 paper; after handing it over, "
            "confirm with /bundles.",
            made.count,
            number=made.bundle_id,
        )
        await chat.send_document(made.pdf, filename=made.filename, caption=caption)

    async def _send_again(
        self, update: Update, query: CallbackQuery, texts: Texts, bundle_id: int
    ) -> None:
        """The PDF of a recorded bundle, again: its letters stay in this bundle."""
        await answer(query)
        chat = update.effective_chat
        if chat is None:
            return
        made = await self.letters.reprint(bundle_id)
        if made is BundleRefusal.NO_FONT:
            await reply(update, _no_font(texts))
            return
        if not isinstance(made, BundleReady):
            # Its letters are recorded in it; none left means their writers erased them.
            await reply(
                update,
                texts(
                    "Bundle {number} has no letters left to print: their writers erased their "
                    "data from the bot.",
                    number=bundle_id,
                ),
            )
            return
        try:
            await self._send_pdf(chat, texts, made)
        except TimedOut:
            await reply(update, _unconfirmed(texts, bundle_id))

    async def list_bundles(self, update: Update, context: Context) -> None:
        """/bundles: bundles with their hand-over day, and a button for those not handed over."""
        texts = context.texts
        bundles = await self.letters.bundles(BUNDLES_SHOWN)
        if not bundles:
            await reply(
                update, texts("There are no bundles yet. /bundle makes one from approved letters.")
            )
            return
        zone = context.timezone
        lines = [texts("<b>Bundles</b>")]
        buttons: list[list[Button]] = []
        for bundle in bundles:
            lines.append(_bundle_line(texts, bundle, zone))
            if bundle.delivered_on is None:
                label = unescape(texts("Mark bundle {number} handed over", number=bundle.id))
                buttons.append([(label, BundlePick(bundle.id).pack())])
                again = unescape(texts("Send bundle {number} again", number=bundle.id))
                buttons.append([(again, BundleAgain(bundle.id).pack())])
        await reply(update, Html("\n".join(lines)), keyboard(buttons) if buttons else None)

    async def on_cancel(
        self, update: Update, context: Context, query: CallbackQuery, button: BundleCancel
    ) -> None:
        """Cancel under the hand-over question: nothing changes."""
        await show(query, context.texts("Nothing was changed."))
        await answer(query)

    async def on_again(
        self, update: Update, context: Context, query: CallbackQuery, button: BundleAgain
    ) -> None:
        """Send bundle N again: the same letters, printed again."""
        bundle = await self._undelivered(context, query, button.bundle)
        if bundle is not None:
            await self._send_again(update, query, context.texts, bundle.id)

    async def on_pick(
        self, update: Update, context: Context, query: CallbackQuery, button: BundlePick
    ) -> None:
        """Mark delivered: ask for the day (today, yesterday, or typed)."""
        bundle = await self._undelivered(context, query, button.bundle)
        if bundle is not None:
            await self._ask_day(update, context, bundle)
            await answer(query)

    async def on_type_day(
        self, update: Update, context: Context, query: CallbackQuery, button: BundleTypeDay
    ) -> None:
        """Another day: the courier types it."""
        bundle = await self._undelivered(context, query, button.bundle)
        if bundle is not None:
            await self._ask_typed_day(update, context, query, bundle)

    async def on_delivered(
        self, update: Update, context: Context, query: CallbackQuery, button: BundleDelivered
    ) -> None:
        """The day is chosen: the bundle is marked and every writer is told."""
        bundle = await self._undelivered(context, query, button.bundle)
        if bundle is None:
            return
        day = parse_day(button.day)
        if day is None:
            await answer(query, context.texts.plain(_SEND_BUNDLES))
            return
        await self._deliver(update, context, query, bundle, day)

    async def _undelivered(
        self, context: Context, query: CallbackQuery, bundle_id: int
    ) -> StoredBundle | None:
        """The bundle a button was shown for, if it is not handed over yet (else the courier is
        told why nothing happens)."""
        texts = context.texts
        bundle = await self.letters.bundle(bundle_id)
        if bundle is None:
            await answer(query, texts.plain(_SEND_BUNDLES))
            return None
        if bundle.delivered_on is not None:
            await answer(query, texts.plain(_ALREADY_HANDED_OVER), alert=True)
            return None
        return bundle

    async def _ask_day(self, update: Update, context: Context, bundle: StoredBundle) -> None:
        texts = context.texts
        zone = context.timezone
        today = self.letters.today(zone)
        yesterday = today - timedelta(days=1)
        label = unescape(texts("Today, {date}", date=format_day(texts, today)))
        rows: list[list[Button]] = [[(label, _on(bundle, today))]]
        if self.letters.delivery_day_allowed(bundle, yesterday, zone):
            label = unescape(texts("Yesterday, {date}", date=format_day(texts, yesterday)))
            rows.append([(label, _on(bundle, yesterday))])
        rows.append([(texts.plain("Another day: type it"), BundleTypeDay(bundle.id).pack())])
        rows.append([(texts.plain("Cancel"), BundleCancel().pack())])
        await reply(
            update,
            texts.ngettext(
                "When did you hand over bundle {number} ({count} letter)? Its writer will be "
                "told.",
                "When did you hand over bundle {number} ({count} letters)? Each writer will be "
                "told.",
                bundle.letter_count,
                number=bundle.id,
            ),
            keyboard(rows),
        )

    async def _ask_typed_day(
        self, update: Update, context: Context, query: CallbackQuery, bundle: StoredBundle
    ) -> None:
        texts = context.texts
        if not await has_consented(update, context):
            return
        await enter_flow(
            self.runtime, update, DELIVERY_DAY, BundleStep.DAY, DeliveryDayDraft(bundle.id)
        )
        await answer(query)
        await close_buttons(query)
        today = self.letters.today(context.timezone)
        await reply(
            update,
            texts(
                "Type the day you handed it over as YYYY-MM-DD, for example {example}. "
                "Send /cancel to stop.",
                example=today.isoformat(),
            ),
        )

    async def on_typed_day(self, update: Update, context: Context, flow: Flow) -> None:
        """The courier typed the hand-over day; ask to confirm it with a button."""
        message = update.effective_message
        if message is None or not await still_may(update, context, Permission.MAKE_BUNDLES):
            return
        texts = context.texts
        draft = DeliveryDayDraft.of(flow)
        bundle = await self.letters.bundle(draft.bundle) if draft is not None else None
        if bundle is None or bundle.delivered_on is not None:
            await leave_flow(self.runtime, update)
            await reply(update, texts("This bundle is already marked as handed over."))
            return
        zone = context.timezone
        day = parse_day(message.text or "")
        if day is None or not self.letters.delivery_day_allowed(bundle, day, zone):
            await reply(update, self._day_range(texts, bundle, zone))
            return
        await leave_flow(self.runtime, update)
        await reply(
            update,
            texts(
                "Bundle {number} was handed over on {date}? Each writer will be told.",
                number=bundle.id,
                date=format_day(texts, day),
            ),
            keyboard(
                [
                    [(texts.plain("Yes, confirm"), _on(bundle, day))],
                    [(texts.plain("Cancel"), BundleCancel().pack())],
                ]
            ),
        )

    def _day_range(self, texts: Texts, bundle: StoredBundle, zone: str) -> Html:
        """Which days may be typed: one sentence for a range, another for a single day."""
        first, last = self.letters.delivery_days(bundle, zone)
        if first == last:
            return texts(
                "Only {date} is possible: the bundle was printed that day. Please type it as "
                "YYYY-MM-DD, or /cancel.",
                date=format_day(texts, first),
            )
        return texts(
            "Please type a day from {first} to {last} as YYYY-MM-DD, or /cancel.",
            first=format_day(texts, first),
            last=format_day(texts, last),
        )

    async def _deliver(
        self,
        update: Update,
        context: Context,
        query: CallbackQuery,
        bundle: StoredBundle,
        day: date,
    ) -> None:
        user, texts = update.effective_user, context.texts
        if user is None:
            return
        zone = context.timezone
        delivery = await self.letters.mark_delivered(user.id, bundle.id, day, zone)
        if delivery.outcome is DeliveryOutcome.BAD_DATE:
            await answer(query, texts.plain(_SEND_BUNDLES))
            return
        if delivery.outcome is not DeliveryOutcome.DONE:
            await answer(query, texts.plain(_ALREADY_HANDED_OVER), alert=True)
            return
        await answer(query)
        handed_over = format_day(texts, day)
        await show(
            query,
            texts.ngettext(
                "Bundle {number} is marked as handed over on {date}. {count} writer is being "
                "told.",
                "Bundle {number} is marked as handed over on {date}. {count} writers are being "
                "told.",
                delivery.writers_told,
                number=bundle.id,
                date=handed_over,
            ),
        )


def _bundle_line(texts: Texts, bundle: StoredBundle, zone: str) -> Html:
    printed = texts.date_in(from_epoch(bundle.sent_at or bundle.created_at), zone)
    made = texts.ngettext(
        "Bundle {number}: {count} letter, printed on {date}.",
        "Bundle {number}: {count} letters, printed on {date}.",
        bundle.letter_count,
        number=bundle.id,
        date=printed,
    )
    if bundle.delivered_on is None:
        state = texts("Not handed over yet.")
    else:
        day = format_day(texts, date.fromisoformat(bundle.delivered_on))
        state = texts("Handed over on {date}.", date=day)
    return Html(f"{made} {state}")


def _on(bundle: StoredBundle, day: date) -> str:
    return BundleDelivered(bundle.id, day.isoformat()).pack()


def _unconfirmed(texts: Texts, bundle_id: int) -> Html:
    return texts(
        "Telegram did not confirm that bundle {number} arrived. If you did not get the PDF, "
        "open /bundles and press “Send bundle {number} again”.",
        number=bundle_id,
    )


def _no_font(texts: Texts) -> Html:
    return texts(
        "We cannot make the PDF: the server has no font that can print Korean. "
        "Please ask the administrator to install fonts-nanum or set BUNDLE_FONT. "
        "No letter was marked as printed."
    )
