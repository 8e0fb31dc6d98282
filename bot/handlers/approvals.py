"""The second coordinator's Approve / Reject buttons under an approval request."""

from __future__ import annotations

from telegram import CallbackQuery, Update

from bot.clock import from_epoch
from bot.handlers.access import requires
from bot.handlers.announcements import Announcements
from bot.handlers.answers import answer_result_text
from bot.handlers.buttons import ApprovalApprove, ApprovalReject
from bot.handlers.context import Context, Handler
from bot.handlers.posts import summary_readers_text
from bot.handlers.presses import on_press
from bot.handlers.replies import answer, close_buttons, reply
from bot.i18n import Html
from bot.runtime import Runtime
from bot.services.approvals import KIND_ANNOUNCEMENT, DecisionOutcome
from bot.services.roles import Permission


class Approvals:
    """Carries out a second coordinator's decision on a held-back post or announcement."""

    def __init__(self, runtime: Runtime, announcements: Announcements) -> None:
        self.runtime = runtime
        self.announcements = announcements

    def handlers(self) -> list[Handler]:
        guard = requires(self.runtime, Permission.ANNOUNCE)
        return [
            on_press(ApprovalApprove, self.on_approve, guard=guard),
            on_press(ApprovalReject, self.on_reject, guard=guard),
        ]

    async def on_approve(
        self, update: Update, context: Context, query: CallbackQuery, button: ApprovalApprove
    ) -> None:
        """Approve a held-back post or announcement; the role is checked again by the guard."""
        await self._decide(update, context, query, button.request, approve=True)

    async def on_reject(
        self, update: Update, context: Context, query: CallbackQuery, button: ApprovalReject
    ) -> None:
        """Reject a held-back post or announcement; the role is checked again by the guard."""
        await self._decide(update, context, query, button.request, approve=False)

    async def _decide(
        self,
        update: Update,
        context: Context,
        query: CallbackQuery,
        request_id: int,
        *,
        approve: bool,
    ) -> None:
        user, chat, texts = query.from_user, update.effective_chat, context.texts
        if chat is None:
            return
        decision = await self.runtime.approvals.decide(request_id, user.id, approve=approve)
        if decision.outcome is DecisionOutcome.UNAVAILABLE:
            await answer(
                query,
                texts.plain("This request was already decided, or it is your own."),
                alert=True,
            )
            return
        await answer(query)
        await close_buttons(query)
        if decision.outcome is DecisionOutcome.REJECTED:
            await reply(update, texts("Rejected. Nothing was sent."))
            return
        if decision.outcome is DecisionOutcome.ANSWER and decision.answer_id is not None:
            result = await self.runtime.answers.publish(decision.answer_id)
            await reply(update, answer_result_text(texts, result))
            return
        if decision.outcome is DecisionOutcome.CANCELLED:
            await reply(
                update, texts("Approved, but its author had cancelled it: nothing is sent.")
            )
            return
        if decision.outcome is DecisionOutcome.SCHEDULED and decision.send_at is not None:
            await reply(
                update,
                texts(
                    "Approved. It goes out as scheduled, on {when} (Seoul time).",
                    when=texts.datetime_in(from_epoch(decision.send_at), "Asia/Seoul"),
                ),
            )
            return
        request = decision.request
        if request is not None and request.kind == KIND_ANNOUNCEMENT and decision.broadcast_id:
            await self.announcements.show_progress(chat, texts, decision.broadcast_id)
            return
        sent = texts.ngettext(
            "Approved and published. It is on its way to {count} subscriber.",
            "Approved and published. It is on its way to {count} subscribers.",
            decision.recipients,
        )
        later = summary_readers_text(texts, decision.summary_readers)
        await reply(update, Html(f"{sent} {later}".rstrip()))
