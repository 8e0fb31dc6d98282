"""The second coordinator's Approve / Reject buttons under an approval request."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.handlers.access import requires
from bot.handlers.announcements import Announcements
from bot.handlers.buttons import ApprovalApprove, ApprovalReject, unpack_any
from bot.handlers.context import Context, Handler
from bot.handlers.replies import answer, close_buttons, reply
from bot.handlers.updates import summary_readers_text
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
        return [CallbackQueryHandler(guard(self.on_button), pattern=r"^appr:")]

    async def on_button(self, update: Update, context: Context) -> None:
        """`appr:yes:<id>` or `appr:no:<id>`; the role is checked again by the guard."""
        query, user, chat = update.callback_query, update.effective_user, update.effective_chat
        if query is None or user is None or chat is None:
            return
        texts = context.texts
        button = unpack_any(query.data, ApprovalApprove, ApprovalReject)
        if not isinstance(button, ApprovalApprove | ApprovalReject):
            await answer(query, texts.plain("This button has expired. Please try again."))
            return
        approve = isinstance(button, ApprovalApprove)
        decision = await self.runtime.approvals.decide(button.request, user.id, approve)
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
