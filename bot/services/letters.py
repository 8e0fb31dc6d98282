"""Letters on plain values: writing with a daily limit, screening, bundling and delivery notices.

The writer's identity never leaves this layer towards coordinators or couriers: every letter
handed out is a `StoredLetter`, which has no user id, and the PDF is built from pen names.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.clock import Clock, from_epoch, to_epoch
from bot.i18n import N_, Html, Texts, Translator, unescape
from bot.models import Member, StoredBundle, StoredLetter
from bot.services.bundle_content import BundleCover, BundleLetter
from bot.services.fonts import BundleFonts, find_bundle_fonts
from bot.services.letter_rules import (
    LetterCheck,
    LetterProblem,
    Problem,
    check_letter,
    check_pen_name,
    clean_text,
    find_contact_problems,
    written_language,
)
from bot.storage.letters import LetterRepository, NoticeTarget
from bot.storage.outbox import Payload

# A coordinator's own words for "other" go to the writer: short, and no links or contacts, so
# a hijacked coordinator account cannot send members to a phishing page in the bot's name.
REJECT_NOTE_MAX_CHARS = 200
# A claim whose PDF never reached the courier (the bot stopped while sending) is released
# after this long, so its letters go into the next bundle instead of waiting for ever.
STALE_CLAIM_SECONDS = 15 * 60


class LetterState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    BUNDLED = "bundled"
    DELIVERED = "delivered"


class RejectReason(StrEnum):
    """The common reasons a coordinator picks from; OTHER comes with their own words."""

    IDENTIFYING = "identifying"
    MILITARY = "military"
    NOT_ENCOURAGING = "not_encouraging"
    UNREADABLE = "unreadable"
    OTHER = "other"


# What the writer is told, in their language (the coordinator's buttons use short labels).
REJECT_REASON_TEXTS: dict[RejectReason, str] = {
    RejectReason.IDENTIFYING: N_(
        "It contains names, places or other details that could identify someone."
    ),
    RejectReason.MILITARY: N_("It mentions military or political matters."),
    RejectReason.NOT_ENCOURAGING: N_(
        "It does not read as a letter of encouragement and personal news."
    ),
    RejectReason.UNREADABLE: N_("It is hard to read or understand."),
    RejectReason.OTHER: N_("Another reason, explained below."),
}


class WriteRefusal(StrEnum):
    DAILY_LIMIT = "daily_limit"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Submission:
    """A stored letter's id, or why it was not stored (a refusal or the rules' problems)."""

    letter_id: int | None
    refusal: WriteRefusal | None = None
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class ReviewItem:
    letter: StoredLetter
    waiting: int  # pending letters, this one included


class Decision(StrEnum):
    DONE = "done"
    ALREADY_DECIDED = "already_decided"  # another coordinator was first
    GONE = "gone"  # withdrawn by its writer, or erased with their data


class Translation(StrEnum):
    DONE = "done"
    NOT_DUE = "not_due"  # already translated, bundled, written in Korean, or gone


# What the soldiers read is Korean whatever the courier's own language (the chat stays theirs).
PRINT_LANGUAGE = "ko"


class BundleRefusal(StrEnum):
    NOTHING = "nothing"
    NO_FONT = "no_font"


@dataclass(frozen=True)
class BundleReady:
    """A PDF to send: `bundle_sent` records it before sending, `bundle_refused` undoes that."""

    bundle_id: int
    count: int
    pdf: bytes

    @property
    def filename(self) -> str:
        return f"pyeonji-bundle-{self.bundle_id}.pdf"


class DeliveryOutcome(StrEnum):
    DONE = "done"
    ALREADY = "already"
    NOT_FOUND = "not_found"
    BAD_DATE = "bad_date"


@dataclass(frozen=True)
class Delivery:
    outcome: DeliveryOutcome
    writers_told: int = 0


def check_reject_note(raw: str) -> LetterCheck:
    """Clean a coordinator's reason for the writer: one short text with no contact details."""
    text = " ".join(clean_text(raw).split())
    if not text:
        return LetterCheck(None, (Problem(LetterProblem.EMPTY),))
    problems: list[Problem] = []
    if len(text) > REJECT_NOTE_MAX_CHARS:
        problems.append(Problem(LetterProblem.TOO_LONG, REJECT_NOTE_MAX_CHARS, len(text)))
    problems.extend(find_contact_problems(text))
    return LetterCheck(None if problems else text, tuple(problems))


def check_translation(raw: str) -> LetterCheck:
    """A Korean translation: the rules of a letter (it is printed too), and written in Korean."""
    check = check_letter(raw)
    if check.text is not None and written_language(check.text, "en") != "ko":
        return LetterCheck(None, (Problem(LetterProblem.NOT_KOREAN),))
    return check


def parse_day(raw: str) -> date | None:
    """A day typed as YYYY-MM-DD, or None."""
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


class LetterService:
    """Everything that happens to a letter, from the writer's draft to the courier's hand-over."""

    def __init__(
        self,
        letters: LetterRepository,
        translator: Translator,
        clock: Clock,
        *,
        per_day: int,
        default_timezone: str,
        bundle_font: Path | None,
        wake_sender: Callable[[], None],
    ) -> None:
        self._letters = letters
        self._translator = translator
        self._clock = clock
        self._per_day = per_day
        self._timezone = default_timezone
        self._bundle_font = bundle_font
        self._wake_sender = wake_sender

    @property
    def per_day(self) -> int:
        return self._per_day

    # -- writing -------------------------------------------------------------------------------

    async def written_today(self, member: Member) -> int:
        """Letters the member wrote since midnight in their own time zone."""
        return await self._letters.count_since(member.user_id, self._day_start(member.timezone))

    async def submit(self, member: Member, text: str, pen_name: str) -> Submission:
        """Store a pending letter after checking it (again), the member and the daily limit."""
        if member.blocked:
            return Submission(None, WriteRefusal.BLOCKED)
        letter, name = check_letter(text), check_pen_name(pen_name)
        if letter.text is None or name.text is None:
            return Submission(None, problems=letter.problems + name.problems)
        letter_id = await self._letters.add(
            member.user_id,
            # From the letter's own letters, not the interface: see written_language.
            written_language(letter.text, member.language),
            name.text,
            letter.text,
            to_epoch(self._clock.now()),
            day_start=self._day_start(member.timezone),
            per_day=self._per_day,
        )
        if letter_id is None:
            return Submission(None, WriteRefusal.DAILY_LIMIT)
        return Submission(letter_id)

    async def letters_of(self, user_id: int, limit: int) -> tuple[list[StoredLetter], int]:
        """The member's newest letters and how many they have in all."""
        shown = await self._letters.of_member(user_id, limit)
        return shown, await self._letters.count_of_member(user_id)

    async def pending_letter_of(self, user_id: int, letter_id: int) -> StoredLetter | None:
        return await self._letters.pending_of_member(user_id, letter_id)

    async def withdraw(self, user_id: int, letter_id: int) -> bool:
        """Withdraw one's own pending letter; False if it is not (or no longer) pending."""
        return await self._letters.withdraw(user_id, letter_id, to_epoch(self._clock.now()))

    def _day_start(self, timezone: str) -> int:
        zone = ZoneInfo(timezone)
        today = self._clock.now().astimezone(zone).date()
        return to_epoch(datetime.combine(today, time(), zone))

    # -- screening -----------------------------------------------------------------------------

    async def next_for_review(self, after_letter_id: int | None = None) -> ReviewItem | None:
        letter = await self._letters.next_pending(after_letter_id)
        if letter is None:
            return None
        return ReviewItem(letter, await self._letters.pending_count())

    async def get(self, letter_id: int) -> StoredLetter | None:
        return await self._letters.get(letter_id)

    async def approve(self, actor_id: int, letter_id: int) -> Decision:
        return await self._decide(actor_id, letter_id, None, None)

    async def reject(
        self, actor_id: int, letter_id: int, reason: RejectReason, note: str | None = None
    ) -> Decision:
        """Reject with a reason; an OTHER reason's note is checked like a pen name."""
        if note is not None:
            note = check_reject_note(note).text
        if reason is RejectReason.OTHER and note is None:
            raise ValueError("an 'other' reason needs a valid note")
        return await self._decide(actor_id, letter_id, reason, note)

    async def _decide(
        self, actor_id: int, letter_id: int, reason: RejectReason | None, note: str | None
    ) -> Decision:
        def notice(target: NoticeTarget) -> Payload:
            return Payload(self.render_decision(target, reason, note))

        decided = await self._letters.decide(
            letter_id,
            actor_id,
            to_epoch(self._clock.now()),
            approve=reason is None,
            reason=None if reason is None else reason.value,
            note=note,
            notice=notice,
        )
        if decided:
            self._wake_sender()
            return Decision.DONE
        letter = await self._letters.get(letter_id)
        if letter is None or letter.state == LetterState.WITHDRAWN:
            return Decision.GONE
        return Decision.ALREADY_DECIDED

    def render_decision(
        self, target: NoticeTarget, reason: RejectReason | None, note: str | None
    ) -> Html:
        """The writer's notice, in their language: approved, or not and why."""
        texts = self._translator.texts(target.writer_language)
        written = texts.date_in(from_epoch(target.created_at), target.writer_timezone)
        if reason is None:
            return texts(
                "Your letter signed “{pen_name}” ({date}) was approved. A courier will print "
                "it and hand it over to the soldiers; we will tell you when.",
                pen_name=target.pen_name,
                date=written,
            )
        lines = [
            texts(
                "Your letter signed “{pen_name}” ({date}) was not approved.",
                pen_name=target.pen_name,
                date=written,
            ),
            texts("Reason: {reason}", reason=texts.plain(REJECT_REASON_TEXTS[reason])),
        ]
        if note:
            lines.append(texts("The coordinator wrote: “{note}”", note=note))
        lines.append(texts("You are welcome to write a new letter with /write."))
        return Html("\n".join(lines))

    async def writer_language(self, letter_id: int) -> str | None:
        """The language the letter's writer reads: a coordinator's typed reason must be in it."""
        return await self._letters.writer_language(letter_id)

    # -- translation ---------------------------------------------------------------------------

    async def next_to_translate(self, after_letter_id: int | None = None) -> StoredLetter | None:
        return await self._letters.next_to_translate(after_letter_id)

    async def to_translate_count(self) -> int:
        """Approved letters not in Korean that wait for a translation before printing."""
        return await self._letters.to_translate_count()

    async def translate(self, actor_id: int, letter_id: int, raw: str) -> Translation:
        """Attach a checked Korean translation; the writer is told, in their language."""
        text = check_translation(raw).text
        if text is None:
            raise ValueError("a translation must pass check_translation")

        def notice(target: NoticeTarget) -> Payload:
            return Payload(self.render_translated(target))

        done = await self._letters.translate(
            letter_id, actor_id, text, to_epoch(self._clock.now()), notice
        )
        if not done:
            return Translation.NOT_DUE
        self._wake_sender()
        return Translation.DONE

    def render_translated(self, target: NoticeTarget) -> Html:
        texts = self._translator.texts(target.writer_language)
        return texts(
            "Your letter signed “{pen_name}” ({date}) was translated into Korean by a "
            "volunteer, so the soldiers can read it. Both the translation and your own words "
            "will be printed.",
            pen_name=target.pen_name,
            date=texts.date_in(from_epoch(target.created_at), target.writer_timezone),
        )

    # -- bundles -------------------------------------------------------------------------------

    async def make_bundle(self, courier_id: int) -> BundleReady | BundleRefusal:
        """Claim every letter ready to print and render the PDF, all of it in Korean."""
        fonts = await asyncio.to_thread(find_bundle_fonts, self._bundle_font)
        if fonts is None:
            return BundleRefusal.NO_FONT
        now = to_epoch(self._clock.now())
        claimed = await self._letters.claim_for_bundle(
            courier_id, now, stale_before=now - STALE_CLAIM_SECONDS
        )
        if claimed is None:
            return BundleRefusal.NOTHING
        bundle_id, letters = claimed
        try:
            return await self._render(bundle_id, letters, fonts)
        except BaseException:
            await self._letters.release(bundle_id)
            raise

    async def bundle_sent(self, courier_id: int, bundle_id: int) -> int:
        """Record the bundle as printed *before* its PDF is sent: a crash in between leaves a
        bundle the courier can fetch again, never letters that silently go into the next one."""
        return await self._letters.record_sent(bundle_id, courier_id, to_epoch(self._clock.now()))

    async def bundle_refused(self, bundle_id: int) -> None:
        """Telegram refused the PDF, so it never reached the courier: the letters wait again."""
        await self._letters.unrecord(bundle_id)

    async def reprint(self, bundle_id: int) -> BundleReady | BundleRefusal:
        """The PDF of a recorded bundle again (it did not arrive, or the courier lost it)."""
        fonts = await asyncio.to_thread(find_bundle_fonts, self._bundle_font)
        if fonts is None:
            return BundleRefusal.NO_FONT
        letters = await self._letters.letters_in_bundle(bundle_id)
        if not letters:
            return BundleRefusal.NOTHING
        return await self._render(bundle_id, letters, fonts)

    async def _render(
        self, bundle_id: int, letters: Sequence[StoredLetter], fonts: BundleFonts
    ) -> BundleReady:
        printed = [self._printed(number, letter) for number, letter in enumerate(letters, 1)]
        cover = self._cover(bundle_id, len(letters))
        pdf = await asyncio.to_thread(_render_pdf, printed, cover, fonts)
        return BundleReady(bundle_id, len(letters), pdf)

    def _printed(self, number: int, letter: StoredLetter) -> BundleLetter:
        # The default zone, not the writer's: a time zone in print would hint where they live.
        texts = self._translator.texts(PRINT_LANGUAGE)
        written_on = texts.date_in(from_epoch(letter.created_at), self._timezone)
        if letter.translation is None:
            return BundleLetter(number, letter.language, letter.pen_name, written_on, letter.text)
        # The translation first, for the readers; the writer's own words beneath it.
        return BundleLetter(
            number,
            letter.language,
            letter.pen_name,
            written_on,
            letter.translation,
            original=letter.text,
            translation_note=texts.plain(
                "Translated into Korean by a volunteer. The letter as its writer wrote it follows."
            ),
            original_heading=texts.plain("The original letter"),
        )

    def _cover(self, bundle_id: int, count: int) -> BundleCover:
        texts = self._translator.texts(PRINT_LANGUAGE)
        today = texts.date_in(self._clock.now(), self._timezone)
        return BundleCover(
            title=texts.plain("Letters of encouragement"),
            subtitle=unescape(texts("Bundle {number}", number=bundle_id)),
            count_line=unescape(texts.ngettext("{count} letter", "{count} letters", count)),
            date_line=unescape(texts("Printed on {date}", date=today)),
            note=texts.plain(
                "Each letter is signed with a pen name chosen by its writer and was read by "
                "volunteers before printing. The letters hold no names, addresses or contact "
                "details."
            ),
        )

    async def bundles(self, limit: int = 10) -> list[StoredBundle]:
        return await self._letters.bundles(limit)

    async def bundle(self, bundle_id: int) -> StoredBundle | None:
        return await self._letters.get_bundle(bundle_id)

    def today(self, timezone: str) -> date:
        return self._clock.now().astimezone(ZoneInfo(timezone)).date()

    def delivery_days(self, bundle: StoredBundle, timezone: str) -> tuple[date, date]:
        """The first and last possible hand-over day: from printing to today."""
        made = from_epoch(bundle.created_at).astimezone(ZoneInfo(timezone)).date()
        return made, max(made, self.today(timezone))

    def delivery_day_allowed(self, bundle: StoredBundle, day: date, timezone: str) -> bool:
        """A hand-over happens after the bundle was printed and not in the future."""
        first, last = self.delivery_days(bundle, timezone)
        return first <= day <= last and day <= self.today(timezone)

    async def mark_delivered(
        self, courier_id: int, bundle_id: int, day: date, timezone: str
    ) -> Delivery:
        """Record the hand-over day and tell every writer, in their language, in one go."""
        bundle = await self._letters.get_bundle(bundle_id)
        if bundle is None:
            return Delivery(DeliveryOutcome.NOT_FOUND)
        if bundle.delivered_on is not None:
            return Delivery(DeliveryOutcome.ALREADY)
        if not self.delivery_day_allowed(bundle, day, timezone):
            return Delivery(DeliveryOutcome.BAD_DATE)

        def notice(target: NoticeTarget) -> Payload:
            return Payload(self.render_delivery(target, day))

        told = await self._letters.mark_delivered(
            bundle_id, courier_id, day.isoformat(), to_epoch(self._clock.now()), notice
        )
        if told is None:
            return Delivery(DeliveryOutcome.ALREADY)
        self._wake_sender()
        return Delivery(DeliveryOutcome.DONE, told)

    def render_delivery(self, target: NoticeTarget, day: date) -> Html:
        texts = self._translator.texts(target.writer_language)
        return texts(
            "Your letter signed “{pen_name}” ({date}) was handed over on {delivered}. "
            "Thank you for writing to them.",
            pen_name=target.pen_name,
            date=texts.date_in(from_epoch(target.created_at), target.writer_timezone),
            delivered=format_day(texts, day),
        )


def format_day(texts: Texts, day: date) -> str:
    """A calendar day in the reader's locale, e.g. '2026년 11월 22일' or 'November 22, 2026'."""
    return format_date(day, "long", locale=texts.locale)


def _render_pdf(letters: Sequence[BundleLetter], cover: BundleCover, fonts: BundleFonts) -> bytes:
    """Run in a worker thread: fpdf2 and fontTools take a third of a second to import, which
    only a bundle pays, and on the event loop every member's reply would wait for it."""
    from bot.services.bundle_pdf import render_bundle

    return render_bundle(letters, cover, fonts)
