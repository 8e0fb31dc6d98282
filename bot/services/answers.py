"""The soldiers' answers: a coordinator posts the scan and transcription of an answer to the
letters of some bundles; each writer of those bundles gets it in their language, and everyone
else gets it as a post."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.clock import Clock, to_epoch
from bot.i18n import Html, Translator, escape
from bot.services.approvals import KIND_POST, ApprovalService
from bot.services.broadcasts import BroadcastService, clean_broadcast_text
from bot.services.letters import format_day
from bot.storage.answers import AlreadyPublished, AnswerRepository, DeliveredBundle
from bot.storage.outbox import Payload


class AnswerOutcome(StrEnum):
    PUBLISHED = "published"
    WAITS_FOR_APPROVAL = "waits"
    GONE = "gone"  # published or refused already


@dataclass(frozen=True)
class AnswerResult:
    outcome: AnswerOutcome
    writers: int = 0
    subscribers: int = 0
    approvers_asked: int = 0


class AnswerService:
    """Creates answers, publishes each once, and says which bundles were answered."""

    def __init__(
        self,
        answers: AnswerRepository,
        broadcasts: BroadcastService,
        approvals: ApprovalService,
        translator: Translator,
        clock: Clock,
        wake_sender: Callable[[], None],
    ) -> None:
        self._answers = answers
        self._broadcasts = broadcasts
        self._approvals = approvals
        self._translator = translator
        self._clock = clock
        self._wake_sender = wake_sender

    async def delivered_bundles(self) -> list[DeliveredBundle]:
        return await self._answers.delivered_bundles()

    async def writer_count(self, bundle_ids: list[int]) -> int:
        return await self._answers.writer_count(bundle_ids)

    async def answered_bundles(self) -> set[int]:
        return await self._answers.answered_bundles()

    async def post(
        self,
        author_id: int,
        bundle_ids: list[int],
        text_ko: str | None,
        text_en: str | None,
        photo_file_id: str | None,
    ) -> AnswerResult:
        """Publish at once, or hold it for a second coordinator as any post would be."""
        text_ko, text_en = clean_broadcast_text(text_ko), clean_broadcast_text(text_en)
        held = self._approvals.needs_approval(text_ko, text_en)
        answer_id = await self._answers.create(
            author_id,
            bundle_ids,
            text_ko,
            text_en,
            photo_file_id,
            held,
            to_epoch(self._clock.now()),
        )
        if held:
            asked = await self._approvals.request(
                KIND_POST, author_id, text_ko, text_en, photo_file_id, answer_id=answer_id
            )
            return AnswerResult(AnswerOutcome.WAITS_FOR_APPROVAL, approvers_asked=asked)
        return await self.publish(answer_id)

    async def publish(self, answer_id: int) -> AnswerResult:
        answer = await self._answers.get(answer_id)
        if answer is None or answer.state != "ready":
            return AnswerResult(AnswerOutcome.GONE)
        told: list[int] = []
        within = self._answers.publisher(
            answer_id,
            functools.partial(
                self.render_for_writer, answer.text_ko, answer.text_en, answer.photo_file_id
            ),
            to_epoch(self._clock.now()),
            told,
        )
        try:
            published = await self._broadcasts.publish_post(
                answer.author_id, answer.text_ko, answer.text_en, answer.photo_file_id, within
            )
        except AlreadyPublished:
            return AnswerResult(AnswerOutcome.GONE)
        self._wake_sender()
        return AnswerResult(AnswerOutcome.PUBLISHED, sum(told), published.recipients)

    def render_for_writer(
        self,
        text_ko: str | None,
        text_en: str | None,
        photo_file_id: str | None,
        language: str,
        delivered_on: str,
    ) -> Payload:
        """What a writer gets: the scan, and the transcription in their language if given."""
        return Payload(self.writer_text(text_ko, text_en, language, delivered_on), photo_file_id)

    def writer_text(
        self, text_ko: str | None, text_en: str | None, language: str, delivered_on: str
    ) -> Html:
        texts = self._translator.texts(language)
        try:
            day = format_day(texts, date.fromisoformat(delivered_on))
        except ValueError:
            day = delivered_on
        header = texts(
            "<b>The soldiers answered</b> the letters handed over on {date}, yours among them. "
            "Here is their answer:",
            date=day,
        )
        own, other = (text_ko, text_en) if language == "ko" else (text_en, text_ko)
        return Html(f"{header}\n\n{escape(own or other or '')}")
