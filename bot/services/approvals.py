"""The two-person rule: with BROADCAST_APPROVALS=2 a second coordinator approves every
post and announcement before anything reaches subscribers (a hijacked account alone can't);
a link outside LINK_DOMAINS needs that approval whatever BROADCAST_APPROVALS says."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeAlias

from bot.clock import Clock, to_epoch
from bot.i18n import Html, Translator
from bot.services.broadcasts import Audience, BroadcastService, clean_broadcast_text
from bot.services.links import LinkChecker, render_link_report
from bot.storage.answers import AnswerRepository
from bot.storage.approvals import ApprovalRepository, ApprovalRequest
from bot.storage.outbox import Payload
from bot.storage.schedules import ScheduleRepository

KIND_POST = "update"
KIND_ANNOUNCEMENT = "announcement"


class DecisionOutcome(StrEnum):
    SENT = "sent"  # approved: published or started
    SCHEDULED = "scheduled"  # approved: a scheduled announcement now goes out at its time
    CANCELLED = "cancelled"  # approved, but its scheduled announcement was cancelled meanwhile
    ANSWER = "answer"  # approved: the soldiers' answer `answer_id` is ready to publish
    REJECTED = "rejected"
    UNAVAILABLE = "unavailable"  # already decided, unknown, or the approver's own request


@dataclass(frozen=True)
class Decision:
    outcome: DecisionOutcome
    request: ApprovalRequest | None = None
    broadcast_id: int | None = None
    recipients: int = 0
    summary_readers: int = 0  # a post's readers who get it in their next summary
    send_at: int | None = None  # a scheduled announcement's time
    answer_id: int | None = None


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
        links: LinkChecker,
        schedules: ScheduleRepository,
        answers: AnswerRepository,
        buttons: ApprovalButtons,
    ) -> None:
        self._approvals = approvals
        self._broadcasts = broadcasts
        self._translator = translator
        self._clock = clock
        self._admin_ids = admin_ids
        self.required = required
        self._wake_sender = wake_sender
        self.links = links
        self._schedules = schedules
        self._answers = answers
        self._buttons = buttons

    @property
    def needs_second_person(self) -> bool:
        return self.required > 1

    def needs_approval(self, text_ko: str | None, text_en: str | None) -> bool:
        """Whether this post or announcement must wait for a second coordinator."""
        return self.needs_second_person or self.links.needs_approval(text_ko, text_en)

    async def request(
        self,
        kind: str,
        author_id: int,
        text_ko: str | None,
        text_en: str | None,
        photo_file_id: str | None = None,
        audience: Audience = Audience.ALL,
        schedule_id: int | None = None,
        send_at: datetime | None = None,
        answer_id: int | None = None,
        bundle: int | None = None,
    ) -> int:
        """Store the request and ask every other coordinator; return how many were asked.

        With `schedule_id`, the request holds that scheduled announcement (sent at `send_at`).
        """
        text_ko, text_en = clean_broadcast_text(text_ko), clean_broadcast_text(text_en)
        draft = ApprovalRequest(
            0,
            kind,
            author_id,
            audience.value,
            text_ko,
            text_en,
            photo_file_id,
            "pending",
            bundle if audience.writers_only else None,
        )
        _, asked = await self._approvals.create(
            draft,
            self._admin_ids,
            lambda request_id, language: self._notice(
                draft, request_id, language, send_at, answer=answer_id is not None
            ),
            to_epoch(self._clock.now()),
            schedule_id,
            answer_id,
        )
        self._wake_sender()
        return asked

    async def decide(self, request_id: int, approver_id: int, *, approve: bool) -> Decision:
        """Approve (and send) or reject; exactly one decision counts."""
        now = to_epoch(self._clock.now())
        request = await self._approvals.decide(request_id, approver_id, approve=approve, now=now)
        if request is None:
            return Decision(DecisionOutcome.UNAVAILABLE)
        answer_id = await self._answers.held_by(request_id)
        if answer_id is not None:
            # The soldiers' answer: published by AnswerService (writers first), never here.
            ready = await self._answers.decide(answer_id, approve)
            if not approve or not ready:
                return Decision(DecisionOutcome.REJECTED, request)
            return Decision(DecisionOutcome.ANSWER, request, answer_id=answer_id)
        if await self._schedules.held_by(request_id):
            # A scheduled announcement: approval lets it go at its time, never at once.
            return await self._decide_scheduled(request, approver_id, approve, now)
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
            request.author_id,
            Audience(request.audience),
            request.text_ko,
            request.text_en,
            request.writers_bundle,
        )
        return Decision(DecisionOutcome.SENT, request, broadcast_id, count)

    async def _decide_scheduled(
        self, request: ApprovalRequest, approver_id: int, approve: bool, now: int
    ) -> Decision:
        if not approve:
            await self._schedules.refused(request.id, approver_id, now)
            return Decision(DecisionOutcome.REJECTED, request)
        scheduled = await self._schedules.approved(request.id)
        if scheduled is None:
            return Decision(DecisionOutcome.CANCELLED, request)
        return Decision(DecisionOutcome.SCHEDULED, request, send_at=scheduled.send_at)

    def _notice(
        self,
        draft: ApprovalRequest,
        request_id: int,
        language: str,
        send_at: datetime | None,
        *,
        answer: bool = False,
    ) -> list[Payload]:
        """What another coordinator sees: the message as members would and two buttons, then
        the sites its links really open (a message of its own: it may not fit in the first)."""
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
        if answer:
            photo = Html(
                texts(
                    "This is the soldiers' answer: the writers of its bundles get it with the "
                    "scan, everyone else as this update."
                )
                + ("\n" + photo if photo else "")
            )
        if send_at is not None:
            photo = texts(
                "It is scheduled for {when} (Seoul time). Approved in time, it goes out then.",
                when=texts.datetime_in(send_at, "Asia/Seoul"),
            )
        links = render_link_report(
            texts, self.links.links(draft.text_ko, draft.text_en), gate=False
        )
        text = Html("\n\n".join(part for part in (title, preview, photo) if part))
        buttons = self._buttons(request_id, texts.plain("Approve and send"), texts.plain("Reject"))
        return ([Payload(links)] if links else []) + [Payload(text, buttons=buttons)]
