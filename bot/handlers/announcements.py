"""Announcements: /announce (compose, audience, preview, confirm), live progress, /stats."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import CallbackQuery, Chat, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, CommandHandler

from bot.clock import from_epoch, to_epoch
from bot.handlers.access import requires, still_may
from bot.handlers.buttons import (
    AnnounceAudience,
    AnnounceCancel,
    AnnounceSchedule,
    AnnounceScheduleConfirm,
    AnnounceSend,
    AnnounceWritersOf,
    ScheduledCancel,
    ScheduledSend,
    StopBroadcast,
)
from bot.handlers.compose import START_AGAIN, BilingualComposer, Draft
from bot.handlers.context import Context, Handler
from bot.handlers.flows import FlowRouter
from bot.handlers.posts import approval_requested_text
from bot.handlers.presses import on_press
from bot.handlers.replies import (
    answer,
    answer_and_close,
    is_cosmetic,
    keyboard,
    reply,
    show,
)
from bot.handlers.translations import to_translate_line
from bot.i18n import N_, Html, Texts, escape, unescape
from bot.models import BroadcastSummary, Flow
from bot.runtime import Runtime
from bot.services.approvals import KIND_ANNOUNCEMENT
from bot.services.broadcasts import Audience
from bot.services.links import render_link_report
from bot.services.roles import Permission
from bot.services.schedules import SEOUL, SendNow, TimeProblem, first_words, parse_send_time
from bot.storage.schedules import ScheduledAnnouncement
from bot.supervision import run_repeating

log = logging.getLogger(__name__)
FLOW = "announce"
PROGRESS_INTERVAL = 3.0  # seconds between edits of a progress message
WRITER_BUNDLES_SHOWN = 5  # the latest handed-over bundles offered as audiences
_AUDIENCE_LABELS = {
    Audience.ALL: N_("Everyone"),
    Audience.KOREAN: N_("Members reading Korean"),
    Audience.ENGLISH: N_("Members reading English"),
    Audience.WRITERS: N_("Letter writers"),
}
_MODE_NAMES = {
    "instant": N_("at once"),
    "daily": N_("daily"),
    "weekly": N_("weekly"),
    "paused": N_("paused"),
}


class Announcements:
    """Broadcasting an announcement to subscribers and following it as it goes out."""

    def __init__(self, runtime: Runtime, router: FlowRouter) -> None:
        self.runtime = runtime
        # What each progress message shows now: an unchanged report is not edited again.
        self._progress_shown: dict[int, tuple[str, str]] = {}
        self.composer = BilingualComposer(
            runtime,
            FLOW,
            with_photo=False,
            finish=self.ask_audience,
            permission=Permission.ANNOUNCE,
        )
        router.register(FLOW, self._on_step)

    def handlers(self) -> list[Handler]:
        guard = requires(self.runtime, Permission.ANNOUNCE)
        return [
            CommandHandler("announce", guard(self.composer.begin)),
            CommandHandler("stats", requires(self.runtime, Permission.SEE_STATS)(self.stats)),
            on_press(StopBroadcast, self.on_stop, guard=guard, expired=START_AGAIN),
            on_press(AnnounceAudience, self.on_audience, guard=guard, expired=START_AGAIN),
            on_press(AnnounceWritersOf, self.on_writers_of, guard=guard, expired=START_AGAIN),
            on_press(AnnounceSend, self.on_send, guard=guard, expired=START_AGAIN),
            on_press(AnnounceSchedule, self.on_schedule, guard=guard, expired=START_AGAIN),
            on_press(
                AnnounceScheduleConfirm, self.on_schedule_confirm, guard=guard, expired=START_AGAIN
            ),
            on_press(AnnounceCancel, self.on_cancel, guard=guard, expired=START_AGAIN),
            CommandHandler("scheduled", guard(self.scheduled)),
            on_press(ScheduledSend, self.on_scheduled_send, guard=guard),
            on_press(ScheduledCancel, self.on_scheduled_cancel, guard=guard),
        ]

    async def _on_step(self, update: Update, context: Context, flow: Flow) -> None:
        """Typing while composing: the texts (the composer), or the time to send at."""
        if flow.step == "when":
            # Every typed step checks the role again (the composer's steps do it themselves).
            if await still_may(update, context, Permission.ANNOUNCE):
                await self._take_time(update, context, flow)
        else:
            await self.composer.on_step(update, context, flow)

    def schedule_progress(self, application: Application) -> None:  # type: ignore[type-arg]
        """One repeating job follows every broadcast still going, including after a restart."""
        assert application.job_queue is not None
        run_repeating(
            application.job_queue,
            self.runtime.supervisor,
            "broadcast-progress",
            self.report_progress,
            interval=PROGRESS_INTERVAL,
            first=PROGRESS_INTERVAL,
        )

    async def ask_audience(self, update: Update, context: Context, draft: Draft) -> None:
        """After the texts: who should receive it?"""
        texts = context.texts
        bundles = await self.runtime.answers.delivered_bundles()
        await reply(
            update,
            texts("Who should receive this announcement?"),
            keyboard(
                [
                    [(texts.plain(label), AnnounceAudience(draft.token, audience).pack())]
                    for audience, label in _AUDIENCE_LABELS.items()
                ]
                + [
                    [
                        (
                            unescape(texts("Writers of bundle {number}", number=bundle.id)),
                            AnnounceWritersOf(draft.token, bundle.id).pack(),
                        )
                    ]
                    for bundle in bundles[:WRITER_BUNDLES_SHOWN]
                ]
                + [[(texts.plain("Cancel"), AnnounceCancel(draft.token).pack())]]
            ),
        )

    async def on_audience(
        self, update: Update, context: Context, query: CallbackQuery, button: AnnounceAudience
    ) -> None:
        """An audience button: preview for that audience and ask to confirm."""
        draft = await self.composer.pressed_draft(context, query, button.draft)
        if draft is not None:  # nothing to record: tidy first
            await answer_and_close(query)
            await self._confirm(update, context.texts, draft, button.audience)

    async def on_send(
        self, update: Update, context: Context, query: CallbackQuery, button: AnnounceSend
    ) -> None:
        """Send (or, with two approvals, ask a second coordinator); the guard checked the role."""
        draft = await self.composer.pressed_draft(context, query, button.draft)
        if draft is not None:
            await self._send(update, context, context.texts, draft, button.audience)
            await answer_and_close(query)

    async def on_cancel(
        self, update: Update, context: Context, query: CallbackQuery, button: AnnounceCancel
    ) -> None:
        """Cancel, under the audience question or the preview: nothing is sent."""
        said = context.texts("Cancelled. Nothing was sent.")
        await self.composer.cancel(update, context, query, button.draft, said)

    async def on_stop(
        self, update: Update, context: Context, query: CallbackQuery, button: StopBroadcast
    ) -> None:
        """The Stop button under a progress message: the rest is not sent."""
        texts, broadcast_id = context.texts, button.broadcast
        cancelled = await self.runtime.broadcasts.cancel(broadcast_id)
        await answer(query, texts.plain("Stopped. The rest will not be sent."))
        summary = await self.runtime.broadcasts.summary(broadcast_id)
        if summary is not None:
            await show(query, self._progress_text(texts, summary))
        log.info("event=announcement_stopped broadcast=%d cancelled=%d", broadcast_id, cancelled)

    async def on_writers_of(
        self, update: Update, context: Context, query: CallbackQuery, button: AnnounceWritersOf
    ) -> None:
        """The writers of one bundle as the audience: preview for them and ask to confirm."""
        draft = await self.composer.pressed_draft(context, query, button.draft)
        if draft is None:
            return
        # The bundle goes into the draft: its new token makes older buttons stale.
        user_id = query.from_user.id
        data = await self._data(user_id)
        token = await self.runtime.flows.enter(
            user_id, FLOW, "ready", {**data, "bundle": button.bundle}
        )
        await answer_and_close(query)
        draft = Draft(draft.text_ko, draft.text_en, draft.photo_file_id, token)
        await self._confirm(update, context.texts, draft, Audience.WRITERS, button.bundle)

    async def on_schedule(
        self, update: Update, context: Context, query: CallbackQuery, button: AnnounceSchedule
    ) -> None:
        """Schedule…: ask for the time to send the draft at."""
        draft = await self.composer.pressed_draft(context, query, button.draft)
        if draft is not None:
            await self._ask_time(update, context, draft, button.audience)
            await answer_and_close(query)

    async def on_schedule_confirm(
        self,
        update: Update,
        context: Context,
        query: CallbackQuery,
        button: AnnounceScheduleConfirm,
    ) -> None:
        """Schedule: the draft goes out at the time shown (or waits for approval first)."""
        draft = await self.composer.pressed_draft(context, query, button.draft)
        if draft is not None:
            await self._schedule(update, context, draft, button)
            await answer_and_close(query)

    async def _data(self, user_id: int) -> dict[str, object]:
        flow = await self.runtime.flows.current(user_id)
        return dict(flow.draft) if flow is not None else {}

    async def _bundle(self, user_id: int) -> int | None:
        bundle = (await self._data(user_id)).get("bundle")
        return bundle if isinstance(bundle, int) else None

    async def _confirm(
        self,
        update: Update,
        texts: Texts,
        draft: Draft,
        audience: Audience,
        bundle: int | None = None,
    ) -> None:
        """Preview in each language the audience reads, and ask for an explicit yes."""
        await reply(update, texts("<b>Preview.</b> This is what members will see:"))
        for language in audience.languages:
            await reply(
                update,
                self.runtime.broadcasts.render_announcement(
                    draft.text_ko, draft.text_en, language
                ),
            )
        links = self.runtime.approvals.links.links(draft.text_ko, draft.text_en)
        if links:
            await reply(update, render_link_report(texts, links, gate=True))
        count = await self.runtime.broadcasts.audience_size(audience, bundle)
        await reply(
            update,
            texts.ngettext(
                "Send this announcement to {count} person now?",
                "Send this announcement to {count} people now?",
                count,
            ),
            keyboard(
                [
                    [
                        (texts.plain("Send now"), AnnounceSend(draft.token, audience).pack()),
                        (
                            texts.plain("Schedule…"),
                            AnnounceSchedule(draft.token, audience).pack(),
                        ),
                    ],
                    [(texts.plain("Cancel"), AnnounceCancel(draft.token).pack())],
                ]
            ),
        )

    async def _send(
        self, update: Update, context: Context, texts: Texts, draft: Draft, audience: Audience
    ) -> None:
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        bundle = await self._bundle(user.id)
        await self.runtime.flows.leave(user.id)
        if self.runtime.approvals.needs_approval(draft.text_ko, draft.text_en):
            asked = await self.runtime.approvals.request(
                KIND_ANNOUNCEMENT,
                user.id,
                draft.text_ko,
                draft.text_en,
                audience=audience,
                bundle=bundle,
            )
            await reply(update, approval_requested_text(texts, asked))
            return
        broadcast_id, _ = await self.runtime.broadcasts.start_announcement(
            user.id, audience, draft.text_ko, draft.text_en, bundle
        )
        await self.show_progress(chat, texts, broadcast_id)

    async def _ask_time(
        self, update: Update, context: Context, draft: Draft, audience: Audience
    ) -> None:
        """Schedule…: ask for the minute, in the coordinator's own time zone."""
        user = update.effective_user
        assert user is not None
        texts, zone = context.texts, context.timezone
        data: dict[str, object] = {
            "ko": draft.text_ko,
            "en": draft.text_en,
            "audience": audience.value,
            "bundle": await self._bundle(user.id),
        }
        await self.runtime.flows.enter(user.id, FLOW, "when", data)
        now = self.runtime.clock.now()
        await reply(
            update,
            texts(
                "When should it go out? Send the date and time in your time zone ({zone}), "
                "for example {example}, or just a time such as 18:00 for the next 18:00. "
                "/cancel stops.",
                zone=zone,
                example=(now + timedelta(days=1))
                .astimezone(ZoneInfo(zone))
                .strftime("%Y-%m-%d 18:00"),
            ),
        )

    async def _take_time(self, update: Update, context: Context, flow: Flow) -> None:
        """The typed time: read it in the coordinator's zone and show it back to confirm."""
        user, message = update.effective_user, update.effective_message
        if user is None or message is None:
            return
        texts, zone = context.texts, context.timezone
        moment = parse_send_time(message.text or "", zone, self.runtime.clock.now())
        if moment is TimeProblem.PAST:
            await reply(update, texts("That time has passed. Please send a time to come."))
            return
        if moment is TimeProblem.TOO_FAR:
            await reply(update, texts("That is too far ahead: at most 90 days, please."))
            return
        if not isinstance(moment, datetime):
            await reply(
                update,
                texts(
                    "We could not read a date and time there. Please write it like "
                    "2026-12-24 18:00."
                ),
            )
            return
        data = dict(flow.draft)
        audience = Audience(str(data.get("audience", Audience.ALL.value)))
        token = await self.runtime.flows.enter(user.id, FLOW, "ready", data)
        bundle = data.get("bundle")
        count = await self.runtime.broadcasts.audience_size(
            audience, bundle if isinstance(bundle, int) else None
        )
        minute = to_epoch(moment) // 60
        await reply(
            update,
            texts.ngettext(
                "Send it on {when} ({zone}), that is {seoul} in Seoul? Today it would reach "
                "{count} person.",
                "Send it on {when} ({zone}), that is {seoul} in Seoul? Today it would reach "
                "{count} people.",
                count,
                when=texts.datetime_in(moment, zone),
                zone=zone,
                seoul=texts.datetime_in(moment, SEOUL),
            ),
            keyboard(
                [
                    [
                        (
                            texts.plain("Schedule"),
                            AnnounceScheduleConfirm(token, audience, minute).pack(),
                        ),
                        (texts.plain("Cancel"), AnnounceCancel(token).pack()),
                    ]
                ]
            ),
        )

    async def _schedule(
        self, update: Update, context: Context, draft: Draft, button: AnnounceScheduleConfirm
    ) -> None:
        user, texts = update.effective_user, context.texts
        assert user is not None
        bundle = await self._bundle(user.id)
        await self.runtime.flows.leave(user.id)
        moment = from_epoch(button.minute * 60)
        if moment <= self.runtime.clock.now():
            await reply(update, texts("That time has passed. Nothing was scheduled."))
            return
        scheduled = await self.runtime.schedules.schedule(
            user.id, button.audience, draft.text_ko, draft.text_en, moment, bundle
        )
        zone = context.timezone
        lines = [
            texts(
                "Scheduled for {when} ({seoul} in Seoul). /scheduled lists it, with Cancel.",
                when=texts.datetime_in(moment, zone),
                seoul=texts.datetime_in(moment, SEOUL),
            )
        ]
        if scheduled.approvers_asked is not None:
            lines.append(approval_requested_text(texts, scheduled.approvers_asked))
        await reply(update, Html("\n".join(lines)))

    async def scheduled(self, update: Update, context: Context) -> None:
        """/scheduled: what waits to go out, each with Send now and Cancel."""
        user = update.effective_user
        if user is None:
            return
        texts = context.texts
        waiting = await self.runtime.schedules.waiting()
        if not waiting:
            await reply(update, texts("No announcement is scheduled."))
            return
        zone = context.timezone
        await reply(update, texts("<b>Scheduled announcements</b>"))
        for item in waiting:
            await reply(
                update,
                self._scheduled_line(texts, item, zone),
                keyboard(
                    [
                        [
                            (texts.plain("Send now"), ScheduledSend(item.id).pack()),
                            (texts.plain("Cancel it"), ScheduledCancel(item.id).pack()),
                        ]
                    ]
                ),
            )

    def _scheduled_line(self, texts: Texts, item: ScheduledAnnouncement, zone: str) -> Html:
        moment = from_epoch(item.send_at)
        state = {
            "awaiting_approval": texts("waits for a second coordinator's approval"),
            "late": texts("late: it waits for you to send or cancel it"),
        }.get(item.state, texts("scheduled"))
        head = texts(
            "{when} ({seoul} in Seoul) · {audience} · {state}",
            when=texts.datetime_in(moment, zone),
            seoul=texts.datetime_in(moment, SEOUL),
            audience=(
                texts("Writers of bundle {number}", number=item.writers_bundle)
                if item.writers_bundle is not None
                else texts(_AUDIENCE_LABELS.get(Audience(item.audience), ""))
            ),
            state=state,
        )
        words = first_words(item.text_ko if texts.language == "ko" else item.text_en, 120)
        words = words or first_words(item.text_ko or item.text_en, 120) or ""
        return Html(f"{head}\n{escape(words)}")

    async def on_scheduled_send(
        self, update: Update, context: Context, query: CallbackQuery, button: ScheduledSend
    ) -> None:
        """Send now under a scheduled announcement (the guard re-checks the role)."""
        texts = context.texts
        outcome = await self.runtime.schedules.send_now(button.schedule, query.from_user.id)
        text = {
            SendNow.SENT: texts("Sent now. It is on its way."),
            SendNow.WAITS_FOR_APPROVAL: texts(
                "It still waits for a second coordinator's approval, so it cannot be sent yet."
            ),
        }.get(outcome, texts("It was already sent or cancelled."))
        await answer_and_close(query)
        await reply(update, text)

    async def on_scheduled_cancel(
        self, update: Update, context: Context, query: CallbackQuery, button: ScheduledCancel
    ) -> None:
        """Cancel under a scheduled announcement (the guard re-checks the role)."""
        texts = context.texts
        done = await self.runtime.schedules.cancel(button.schedule, query.from_user.id)
        text = (
            texts("Cancelled. It will not be sent.")
            if done
            else texts("It was already sent or cancelled.")
        )
        await answer_and_close(query)
        await reply(update, text)

    async def show_progress(self, chat: Chat, texts: Texts, broadcast_id: int) -> None:
        """Post the progress message the job then edits every few seconds."""
        summary = await self.runtime.broadcasts.summary(broadcast_id)
        if summary is None:
            return
        message = await chat.send_message(
            self._progress_text(texts, summary), reply_markup=self._stop_keyboard(texts, summary)
        )
        await self.runtime.broadcasts.set_progress_message(
            broadcast_id, chat.id, message.message_id
        )
        log.info(
            "event=announcement_started broadcast=%d recipients=%d",
            broadcast_id,
            summary.recipients,
        )

    async def report_progress(self, context: Context) -> None:
        """Every few seconds: edit each running broadcast's progress message."""
        for summary in await self.runtime.broadcasts.settle_unfinished():
            if summary.progress_chat_id is None or summary.progress_message_id is None:
                continue
            member = await self.runtime.members.get(summary.progress_chat_id)
            texts = self.runtime.translator.texts(member.language if member else None)
            markup = self._stop_keyboard(texts, summary) if summary.state == "sending" else None
            text = self._progress_text(texts, summary)
            shown = (text, summary.state)
            if self._progress_shown.get(summary.id) == shown:
                continue  # nothing new: an edit would only cost a message and draw a refusal
            self._progress_shown[summary.id] = shown  # one small entry per broadcast
            try:
                await context.bot.edit_message_text(
                    text,
                    summary.progress_chat_id,
                    summary.progress_message_id,
                    reply_markup=markup,
                )
            except (BadRequest, Forbidden) as error:
                if not is_cosmetic(error):
                    log.info("event=progress_edit_failed error=%s", type(error).__name__)

    def _progress_text(self, texts: Texts, summary: BroadcastSummary) -> Html:
        counts = summary.counts
        left = counts.get("pending", 0) + counts.get("sending", 0)
        if summary.state == "sending":
            title = texts("<b>Sending the announcement…</b>")
        elif summary.state == "cancelled":
            title = texts("<b>Announcement stopped.</b>")
        else:
            title = texts("<b>Announcement sent.</b>")
        numbers = texts(
            "Sent: {sent} · blocked the bot: {blocked} · failed: {failed} · remaining: {left} "
            "(of {total})",
            sent=texts.number(counts.get("sent", 0)),
            blocked=texts.number(counts.get("blocked", 0)),
            failed=texts.number(counts.get("failed", 0)),
            left=texts.number(left),
            total=texts.number(summary.recipients),
        )
        if counts.get("unknown"):
            numbers = Html(
                numbers
                + "\n"
                + texts(
                    "Telegram did not answer in time, so these may or may not have arrived "
                    "(they are not sent again): {count}",
                    count=texts.number(counts["unknown"]),
                )
            )
        return Html(f"{title}\n{numbers}")

    @staticmethod
    def _stop_keyboard(texts: Texts, summary: BroadcastSummary) -> InlineKeyboardMarkup:
        return keyboard([[(texts.plain("Stop sending"), StopBroadcast(summary.id).pack())]])

    async def stats(self, update: Update, context: Context) -> None:
        """/stats: subscribers by language and delivery mode, and recent broadcasts."""
        texts = context.texts
        zone = context.timezone
        lines: list[str] = [texts("<b>Subscribers</b>")]
        counts = await self.runtime.broadcasts.subscriber_counts()
        lines += [
            texts(
                "{language}, {mode}: {count}",
                language=texts.language_name(language),
                mode=texts(_MODE_NAMES[mode]),
                count=texts.number(count),
            )
            for language, mode, count in counts
        ] or [texts("No subscribers yet.")]
        lines += ["", texts("<b>Recent broadcasts</b>")]
        recent = await self.runtime.broadcasts.recent(5)
        lines += [_broadcast_line(texts, b, zone) for b in recent] or [
            texts("Nothing has been sent yet.")
        ]
        lines += [
            "",
            texts("<b>Letters</b>"),
            to_translate_line(texts, await self.runtime.letters.to_translate_count()),
        ]
        await reply(update, Html("\n".join(lines)))
        # The same in a picture, after the text (which stays the accessible summary).
        chat = update.effective_chat
        if chat is not None:
            png = await self.runtime.charts.png(texts.language, zone)
            await chat.send_photo(
                png, caption=texts("Subscribers, letters and recent broadcasts at a glance.")
            )


def _broadcast_line(texts: Texts, broadcast: BroadcastSummary, zone: str) -> Html:
    """One recent broadcast: when, what, how many got it at once and in summaries."""
    when = texts.datetime_in(from_epoch(broadcast.created_at), zone)
    sent, total = broadcast.counts.get("sent", 0), broadcast.recipients
    if broadcast.kind != "update":
        return texts(
            "{when}: announcement, sent {sent} of {total}",
            when=when,
            sent=texts.number(sent),
            total=texts.number(total),
        )
    return texts(
        "{when}: update, sent at once {sent} of {total}; in summaries: {summaries}",
        when=when,
        sent=texts.number(sent),
        total=texts.number(total),
        summaries=texts.number(broadcast.digest_recipients),
    )
