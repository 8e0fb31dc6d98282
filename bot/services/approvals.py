"""The two-person rule: with BROADCAST_APPROVALS=2 a second coordinator approves every
post and announcement before anything reaches subscribers (a hijacked account alone can't)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

from bot.clock import Clock, to_epoch
from bot.i18n import Html, Translator
from bot.services.broadcasts import Audience, BroadcastService, clean_broadcast_text
from bot.storage.approvals import ApprovalRepository, ApprovalRequest
from bot.storage.outbox import Payload

KIND_POST = "update"
KIND_ANNOUNCEMENT = "announcement"


class DecisionOutcome(StrEnum):
    SENT = "sent"  # approved: published or started
    REJECTED = "rejected"
    UNAVAILABLE = "unavailable"  # already decided, unknown, or the approver's own request


@dataclass(frozen=True)
class Decision:
    outcome: DecisionOutcome
    request: ApprovalRequest | None = None
    broadcast_id: int | None = None
    recipients: int = 0
    summary_readers: int = 0  # a post's readers who get it in their next summary


# The request's two buttons, (label, callback data) rows: the handler layer owns the button
# data (bot/handlers/buttons.py, approval_buttons), the composition root passes it in.
ApprovalButtons: TypeAlias = Callable[[int, str, str], list[list[tuple[str, str]]]]


class ApprovalService:
    """Creates approval requests and carries out the decision on them."""

    def __init__(
        self,
        approvals: ApprovalRepository,
        broadcasts: BroadcastService,
        translator: Translator,
        clock: Clock,
        admin_ids: frozenset[int],
        required: int,
        wake_sender: Callable[[], None],
        buttons: ApprovalButtons,
    ) -> None:
        self._approvals = approvals
        self._broadcasts = broadcasts
        self._translator = translator
        self._clock = clock
        self._admin_ids = admin_ids
        self.required = required
        self._wake_sender = wake_sender
        self._buttons = buttons

    @property
    def needs_second_person(self) -> bool:
        return self.required > 1

    async def request(
        self,
        kind: str,
        author_id: int,
        text_ko: str | None,
        text_en: str | None,
        photo_file_id: str | None = None,
        audience: Audience = Audience.ALL,
    ) -> int:
        """Store the request and ask every other coordinator; return how many were asked."""
        text_ko, text_en = clean_broadcast_text(text_ko), clean_broadcast_text(text_en)
        draft = ApprovalRequest(
            0, kind, author_id, audience.value, text_ko, text_en, photo_file_id, "pending"
        )
        _, asked = await self._approvals.create(
            draft,
            self._admin_ids,
            lambda request_id, language: self._notice(draft, request_id, language),
            to_epoch(self._clock.now()),
        )
        self._wake_sender()
        return asked

    async def decide(self, request_id: int, approver_id: int, *, approve: bool) -> Decision:
        """Approve (and send) or reject; exactly one decision counts."""
        now = to_epoch(self._clock.now())
        request = await self._approvals.decide(request_id, approver_id, approve=approve, now=now)
        if request is None:
            return Decision(DecisionOutcome.UNAVAILABLE)
        if not approve:
            return Decision(DecisionOutcome.REJECTED, request)
        if request.kind == KIND_POST:
            published = await self._broadcasts.publish_post(
                request.author_id, request.text_ko, request.text_en, request.photo_file_id
            )
            return Decision(
                DecisionOutcome.SENT,
                request,
                published.broadcast_id,
                published.recipients,
                published.digest_recipients,
            )
        broadcast_id, count = await self._broadcasts.start_announcement(
            request.author_id, Audience(request.audience), request.text_ko, request.text_en
        )
        return Decision(DecisionOutcome.SENT, request, broadcast_id, count)

    def _notice(self, draft: ApprovalRequest, request_id: int, language: str) -> Payload:
        """What another coordinator sees: the message as members would, and two buttons."""
        texts = self._translator.texts(language)
        if draft.kind == KIND_POST:
            title = texts(
                "<b>Approval needed.</b> A coordinator wants to publish this update. "
                "Nothing is sent until a second coordinator approves it."
            )
            preview = self._broadcasts.render_post_text(draft.text_ko, draft.text_en, language)
        else:
            title = texts(
                "<b>Approval needed.</b> A coordinator wants to send this "
                "announcement. Nothing is sent until a second coordinator approves it."
            )
            preview = self._broadcasts.render_announcement(draft.text_ko, draft.text_en, language)
        photo = texts("(A photo goes with it.)") if draft.photo_file_id else ""
        text = Html("\n\n".join(part for part in (title, preview, photo) if part))
        buttons = self._buttons(request_id, texts.plain("Approve and send"), texts.plain("Reject"))
        return Payload(text, buttons=buttons)
