"""Announcements: /announce (compose, audience, preview, confirm), live progress, /stats."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Chat, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, CommandHandler

from bot.clock import from_epoch
from bot.handlers.access import requires
from bot.handlers.buttons import (
    AnnounceAudience,
    AnnounceCancel,
    AnnounceSend,
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
from bot.i18n import N_, Html, Texts
from bot.models import BroadcastSummary
from bot.runtime import Runtime
from bot.services.approvals import KIND_ANNOUNCEMENT
from bot.services.broadcasts import Audience
from bot.services.roles import Permission
from bot.supervision import run_repeating

log = logging.getLogger(__name__)
FLOW = "announce"
PROGRESS_INTERVAL = 3.0  # seconds between edits of a progress message
_AUDIENCE_LABELS = {
    Audience.ALL: N_("Everyone"),
    Audience.KOREAN: N_("Members reading Korean"),
    Audience.ENGLISH: N_("Members reading English"),
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
        self.composer = BilingualComposer(
            runtime, FLOW, with_photo=False, finish=self.ask_audience
        )
        router.register(FLOW, self.composer.on_step)

    def handlers(self) -> list[Handler]:
        guard = requires(self.runtime, Permission.ANNOUNCE)
        return [
            CommandHandler("announce", guard(self.composer.begin)),
            CommandHandler("stats", requires(self.runtime, Permission.SEE_STATS)(self.stats)),
            on_press(StopBroadcast, self.on_stop, guard=guard, expired=START_AGAIN),
            on_press(AnnounceAudience, self.on_audience, guard=guard, expired=START_AGAIN),
            on_press(AnnounceSend, self.on_send, guard=guard, expired=START_AGAIN),
            on_press(AnnounceCancel, self.on_cancel, guard=guard, expired=START_AGAIN),
        ]

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
        await reply(
            update,
            texts("Who should receive this announcement?"),
            keyboard(
                [
                    [(texts.plain(label), AnnounceAudience(draft.token, audience).pack())]
                    for audience, label in _AUDIENCE_LABELS.items()
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

    async def _confirm(
        self, update: Update, texts: Texts, draft: Draft, audience: Audience
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
        count = await self.runtime.broadcasts.audience_size(audience)
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
                        (texts.plain("Send"), AnnounceSend(draft.token, audience).pack()),
                        (texts.plain("Cancel"), AnnounceCancel(draft.token).pack()),
                    ]
                ]
            ),
        )

    async def _send(
        self, update: Update, context: Context, texts: Texts, draft: Draft, audience: Audience
    ) -> None:
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        await self.runtime.flows.leave(user.id)
        if self.runtime.approvals.needs_second_person:
            asked = await self.runtime.approvals.request(
                KIND_ANNOUNCEMENT, user.id, draft.text_ko, draft.text_en, audience=audience
            )
            await reply(update, approval_requested_text(texts, asked))
            return
        broadcast_id, _ = await self.runtime.broadcasts.start_announcement(
            user.id, audience, draft.text_ko, draft.text_en
        )
        await self.show_progress(chat, texts, broadcast_id)

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
            try:
                await context.bot.edit_message_text(
                    self._progress_text(texts, summary),
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
