"""Campaign posts and announcements: rendering per language and fanning out to the outbox."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.clock import Clock, from_epoch, to_epoch
from bot.i18n import Html, Translator, escape
from bot.models import BroadcastSummary, StoredPost
from bot.services.letter_rules import clean_text
from bot.storage.broadcasts import (
    ANNOUNCEMENT_MODES,
    SUMMARY_MODES,
    UPDATE_MODES,
    BroadcastRepository,
    WithinPublish,
)
from bot.storage.outbox import Payload

LANGUAGES = ("ko", "en")
# Limits chosen so the rendered message (header and language note included) stays within
# Telegram's 4096 characters, or its 1024-character caption when a photo goes with it.
MAX_TEXT = 3500
MAX_CAPTION_TEXT = 850
LATEST_COUNT = 5
LATEST_EXCERPT = 600


class Audience(StrEnum):
    """Who an announcement goes to."""

    ALL = "all"
    KOREAN = "ko"
    ENGLISH = "en"
    WRITERS = "writers"  # members with a letter handed over (nothing new is stored for it)

    @property
    def languages(self) -> list[str]:
        return list(LANGUAGES) if self in {Audience.ALL, Audience.WRITERS} else [self.value]

    @property
    def writers_only(self) -> bool:
        return self is Audience.WRITERS


class TextProblem(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"


@dataclass(frozen=True)
class Published:
    post_id: int
    broadcast_id: int
    recipients: int  # at once
    digest_recipients: int  # in their next summary


def clean_broadcast_text(text: str | None) -> str | None:
    """A coordinator's text cleaned as letters are (NFC, no invisible or direction controls).

    A hijacked coordinator account must not reach every member with text that reads
    differently from what reviewers saw; None when nothing visible is left.
    """
    return (clean_text(text) or None) if text is not None else None


def check_text(text: str, *, with_photo: bool) -> TextProblem | None:
    """Why a coordinator's text cannot be used, or None."""
    if not text.strip():
        return TextProblem.EMPTY
    if len(text) > (MAX_CAPTION_TEXT if with_photo else MAX_TEXT):
        return TextProblem.TOO_LONG
    return None


def text_limit(*, with_photo: bool) -> int:
    return MAX_CAPTION_TEXT if with_photo else MAX_TEXT


class BroadcastService:
    """Publishes posts, starts and stops announcements, and reports their progress."""

    def __init__(
        self,
        broadcasts: BroadcastRepository,
        translator: Translator,
        clock: Clock,
        default_timezone: str,
        wake_sender: Callable[[], None],
    ) -> None:
        self._broadcasts = broadcasts
        self._translator = translator
        self._clock = clock
        self._timezone = default_timezone
        self._wake_sender = wake_sender

    async def publish_post(
        self,
        author_id: int,
        text_ko: str | None,
        text_en: str | None,
        photo_file_id: str | None,
        within: WithinPublish | None = None,
    ) -> Published:
        """Store the post and send it to instant subscribers in their language."""
        text_ko, text_en = clean_broadcast_text(text_ko), clean_broadcast_text(text_en)
        now = self._clock.now()
        draft = StoredPost(0, text_ko, text_en, photo_file_id, to_epoch(now))
        payloads = {
            language: Payload(self.render_post(draft, language), photo_file_id)
            for language in LANGUAGES
        }
        post_id, broadcast_id, count, later = await self._broadcasts.publish_post(
            author_id, text_ko, text_en, photo_file_id, payloads, to_epoch(now), within
        )
        self._wake_sender()
        return Published(post_id, broadcast_id, count, later)

    def render_post(self, post: StoredPost, language: str) -> Html:
        """A post as a member reads it: header with the date, text, a note if translated."""
        texts = self._translator.texts(language)
        date = texts.date_in(from_epoch(post.published_at), self._timezone)
        header = texts("<b>Update on the case</b> · {date}", date=date)
        return Html(f"{header}\n\n{self._body(post.text_ko, post.text_en, language)}")

    def render_post_text(self, text_ko: str | None, text_en: str | None, language: str) -> Html:
        """A post not yet published, as it will read (dated today)."""
        draft = StoredPost(0, text_ko, text_en, None, to_epoch(self._clock.now()))
        return self.render_post(draft, language)

    def render_announcement(self, text_ko: str | None, text_en: str | None, language: str) -> Html:
        texts = self._translator.texts(language)
        header = texts("<b>Announcement from the organizers</b>")
        return Html(f"{header}\n\n{self._body(text_ko, text_en, language)}")

    def _body(self, text_ko: str | None, text_en: str | None, language: str) -> Html:
        """The text in `language`, or the other one with a short note saying so."""
        texts = self._translator.texts(language)
        own, other = (text_ko, text_en) if language == "ko" else (text_en, text_ko)
        if own:
            return escape(own)
        note = (
            texts("<i>Not yet available in Korean; here it is in English.</i>")
            if language == "ko"
            else texts("<i>Not yet available in English; here it is in Korean.</i>")
        )
        return Html(f"{escape(other or '')}\n\n{note}")

    async def audience_size(self, audience: Audience, bundle: int | None = None) -> int:
        """How many people an announcement to `audience` (writers: of `bundle`) would reach."""
        return await self._broadcasts.audience_size(
            audience.languages,
            ANNOUNCEMENT_MODES,
            writers_only=audience.writers_only,
            writers_bundle=bundle if audience.writers_only else None,
        )

    async def instant_subscribers(self) -> int:
        """How many people get a new post at once."""
        return await self._broadcasts.audience_size(list(LANGUAGES), UPDATE_MODES)

    async def summary_readers(self) -> int:
        """How many people get a new post in their next daily or weekly summary."""
        return await self._broadcasts.audience_size(list(LANGUAGES), SUMMARY_MODES)

    async def start_announcement(
        self,
        author_id: int,
        audience: Audience,
        text_ko: str | None,
        text_en: str | None,
        bundle: int | None = None,
    ) -> tuple[int, int]:
        """Queue the announcement for every subscriber in the audience: (broadcast, count)."""
        text_ko, text_en = clean_broadcast_text(text_ko), clean_broadcast_text(text_en)
        payloads = {
            language: Payload(self.render_announcement(text_ko, text_en, language))
            for language in audience.languages
        }
        now = to_epoch(self._clock.now())
        broadcast_id, count = await self._broadcasts.start_announcement(
            author_id, audience.value, payloads, now, bundle
        )
        self._wake_sender()
        return broadcast_id, count

    async def start_scheduled(
        self,
        schedule_id: int,
        actor_id: int,
        audience: Audience,
        text_ko: str | None,
        text_en: str | None,
        notice: Callable[[str, int], Payload],
    ) -> tuple[int, int] | None:
        """Queue a scheduled announcement unless it was sent or cancelled already."""
        payloads = {
            language: Payload(self.render_announcement(text_ko, text_en, language))
            for language in audience.languages
        }
        started = await self._broadcasts.start_scheduled(
            schedule_id, actor_id, payloads, notice, to_epoch(self._clock.now())
        )
        if started is not None:
            self._wake_sender()
        return started

    async def set_progress_message(self, broadcast_id: int, chat_id: int, message_id: int) -> None:
        await self._broadcasts.set_progress_message(broadcast_id, chat_id, message_id)

    async def cancel(self, broadcast_id: int) -> int:
        return await self._broadcasts.cancel(broadcast_id, to_epoch(self._clock.now()))

    async def summary(self, broadcast_id: int) -> BroadcastSummary | None:
        return await self._broadcasts.summary(broadcast_id)

    async def settle_unfinished(self) -> list[BroadcastSummary]:
        """Mark finished broadcasts done; return every broadcast that was still going."""
        going = await self._broadcasts.unfinished()
        now = to_epoch(self._clock.now())
        for broadcast in going:
            await self._broadcasts.finish_if_done(broadcast.id, now)
        return [
            summary
            for broadcast in going
            if (summary := await self._broadcasts.summary(broadcast.id)) is not None
        ]

    async def recent(self, limit: int = 5) -> list[BroadcastSummary]:
        return await self._broadcasts.recent(limit)

    async def subscriber_counts(self) -> list[tuple[str, str, int]]:
        return await self._broadcasts.subscriber_counts()

    async def latest(self, language: str) -> list[tuple[Html, str | None]]:
        """The last few posts for /latest, newest first, long ones shortened, each with its
        photo (sent with the text as its caption: captions are short enough, see MAX_CAPTION)."""
        posts = await self._broadcasts.latest_posts(LATEST_COUNT)
        texts = self._translator.texts(language)
        shown = []
        for post in posts:
            text_ko, text_en = (
                _excerpt(post.text_ko, texts("…")),
                _excerpt(post.text_en, texts("…")),
            )
            shown.append(
                (
                    self.render_post(
                        StoredPost(post.id, text_ko, text_en, None, post.published_at),
                        language,
                    ),
                    post.photo_file_id,
                )
            )
        return shown


def _excerpt(text: str | None, ellipsis: str) -> str | None:
    if text is None or len(text) <= LATEST_EXCERPT:
        return text
    return text[:LATEST_EXCERPT].rstrip() + ellipsis
