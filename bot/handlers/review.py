"""Screening letters: /review shows one pending letter at a time, never who wrote it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.clock import from_epoch
from bot.handlers.access import has_consented, requires, still_may
from bot.handlers.buttons import (
    ReviewApprove,
    ReviewBack,
    ReviewOther,
    ReviewReason,
    ReviewReject,
    ReviewSkip,
)
from bot.handlers.context import Context, Handler
from bot.handlers.flows import FlowDraft, FlowRouter, enter_flow
from bot.handlers.presses import on_press
from bot.handlers.problems import problem_report
from bot.handlers.replies import Button, answer, close_buttons, keyboard, reply, swap_buttons
from bot.handlers.translations import to_translate_line
from bot.i18n import N_, Html, Texts, escape, unescape
from bot.models import Flow
from bot.runtime import Runtime
from bot.services.letters import (
    REJECT_NOTE_MAX_CHARS,
    Decision,
    LetterState,
    RejectReason,
    ReviewItem,
    check_reject_note,
)
from bot.services.roles import Permission

REVIEW_NOTE = "review-note"


class ReviewStep(StrEnum):
    NOTE = "note"  # typing a reason for rejecting


@dataclass(frozen=True)
class ReviewNoteDraft(FlowDraft):
    letter: int  # the letter the typed reason rejects


_SEND_REVIEW = N_("This button has expired. Please send /review.")
_REASON_LABELS = {
    RejectReason.IDENTIFYING: N_("Names or places"),
    RejectReason.MILITARY: N_("Military matters"),
    RejectReason.NOT_ENCOURAGING: N_("Not encouragement"),
    RejectReason.UNREADABLE: N_("Hard to read"),
}


class Review:
    """Coordinators approve or reject pending letters; every button checks the role again."""

    def __init__(self, runtime: Runtime, router: FlowRouter) -> None:
        self.runtime = runtime
        self.letters = runtime.letters
        router.register(REVIEW_NOTE, self.on_typed_note)

    def handlers(self) -> list[Handler]:
        guard = requires(self.runtime, Permission.REVIEW_LETTERS)
        return [
            CommandHandler("review", guard(self.review)),
            on_press(ReviewApprove, self.on_approve, guard=guard, expired=_SEND_REVIEW),
            on_press(ReviewReason, self.on_reason, guard=guard, expired=_SEND_REVIEW),
            on_press(ReviewReject, self.on_reject, guard=guard, expired=_SEND_REVIEW),
            on_press(ReviewBack, self.on_back, guard=guard, expired=_SEND_REVIEW),
            on_press(ReviewOther, self.on_other, guard=guard, expired=_SEND_REVIEW),
            on_press(ReviewSkip, self.on_skip, guard=guard, expired=_SEND_REVIEW),
        ]

    async def review(self, update: Update, context: Context) -> None:
        """/review: the oldest pending letter, without anything that tells who wrote it."""
        await self._show_next(update, context, None)

    async def _show_next(
        self, update: Update, context: Context, after_letter_id: int | None
    ) -> None:
        texts = context.texts
        item = await self.letters.next_for_review(after_letter_id)
        if item is None and after_letter_id is not None:
            await reply(
                update,
                texts(
                    "No more letters after this one. Send /review to start again from the oldest."
                ),
            )
        elif item is None:
            await reply(update, texts("No letters are waiting for review."))
        else:
            zone = context.timezone
            await reply(update, _review_text(texts, item, zone), _review_keyboard(texts, item))
        if after_letter_id is None:
            await self._tell_to_translate(update, texts)

    async def _tell_to_translate(self, update: Update, texts: Texts) -> None:
        """Approved letters not in Korean wait for a translation before they can be printed."""
        count = await self.letters.to_translate_count()
        if count:
            await reply(update, to_translate_line(texts, count))

    async def on_approve(
        self, update: Update, context: Context, query: CallbackQuery, button: ReviewApprove
    ) -> None:
        """Approve; the guard has checked the role again."""
        decision = await self.letters.approve(query.from_user.id, button.letter)
        await self._after_decision(update, context, query, decision, approve=True)

    async def on_reason(
        self, update: Update, context: Context, query: CallbackQuery, button: ReviewReason
    ) -> None:
        """A reason for rejecting: the letter is rejected with it."""
        if button.reason not in _REASON_LABELS:
            await answer(query, context.texts.plain(_SEND_REVIEW))
            return
        decision = await self.letters.reject(query.from_user.id, button.letter, button.reason)
        await self._after_decision(update, context, query, decision, approve=False)

    async def on_reject(
        self, update: Update, context: Context, query: CallbackQuery, button: ReviewReject
    ) -> None:
        """Reject: the reasons take the place of the decision buttons."""
        await swap_buttons(query, _reasons_keyboard(context.texts, button.letter))
        await answer(query)

    async def on_back(
        self, update: Update, context: Context, query: CallbackQuery, button: ReviewBack
    ) -> None:
        """Back from the reasons to the decision buttons."""
        await swap_buttons(query, _decision_keyboard(context.texts, button.letter))
        await answer(query)

    async def on_other(
        self, update: Update, context: Context, query: CallbackQuery, button: ReviewOther
    ) -> None:
        """Another reason: the reviewer types it."""
        await self._ask_note(update, context, query, button.letter)

    async def on_skip(
        self, update: Update, context: Context, query: CallbackQuery, button: ReviewSkip
    ) -> None:
        """Skip: the next pending letter after this one."""
        await close_buttons(query)
        await self._show_next(update, context, button.letter)
        await answer(query)

    async def _after_decision(
        self,
        update: Update,
        context: Context,
        query: CallbackQuery,
        decision: Decision,
        *,
        approve: bool,
    ) -> None:
        """Only the press that decided brings the next card: a double press decides nothing."""
        texts = context.texts
        if decision is not Decision.DONE:
            await answer(query, unescape(_not_decided(texts, decision)), alert=True)
            await close_buttons(query)
            return
        done = (
            texts("Approved. The writer will be told.")
            if approve
            else texts("Rejected. The writer will be told why.")
        )
        await reply(update, done)
        await self._show_next(update, context, None)
        await answer(query, texts.plain("Approved.") if approve else texts.plain("Rejected."))
        await close_buttons(query)

    async def _ask_note(
        self, update: Update, context: Context, query: CallbackQuery, letter_id: int
    ) -> None:
        texts = context.texts
        # The typed reason waits in the flow table, which only members have.
        if not await has_consented(update, context):
            return
        letter = await self.letters.get(letter_id)
        if letter is None or letter.state != LetterState.PENDING:
            gone = letter is None or letter.state == LetterState.WITHDRAWN
            decision = Decision.GONE if gone else Decision.ALREADY_DECIDED
            await answer(query, unescape(_not_decided(texts, decision)), alert=True)
            return
        await enter_flow(
            self.runtime, update, REVIEW_NOTE, ReviewStep.NOTE, ReviewNoteDraft(letter_id)
        )
        # The writer reads the bot in their own language, whatever the letter is written in.
        writer_reads = await self.letters.writer_language(letter_id)
        await answer(query)
        await close_buttons(query)
        await reply(
            update,
            texts(
                "Type the reason for the writer in a sentence or two (at most {limit} "
                "characters, no links or contact details), in {language}: the language the "
                "writer reads. They will read your words as you write them. Send /cancel to stop.",
                limit=REJECT_NOTE_MAX_CHARS,
                language=texts.language_name(writer_reads or "ko"),
            ),
        )

    async def on_typed_note(self, update: Update, context: Context, flow: Flow) -> None:
        """The coordinator's own reason after "Other"; the role is checked again."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        if not await still_may(update, context, Permission.REVIEW_LETTERS):
            return
        texts = context.texts
        if message.text is None or message.text.startswith("/"):
            await reply(update, texts("Please type the reason as text, or /cancel."))
            return
        check = check_reject_note(message.text)
        draft = ReviewNoteDraft.of(flow)
        if check.text is None:
            await reply(
                update,
                problem_report(
                    texts,
                    texts("We cannot send this reason to the writer:"),
                    check.problems,
                    texts("Please type it again, or /cancel."),
                ),
            )
            return
        await self.runtime.flows.leave(user.id)
        if draft is None:
            return
        decision = await self.letters.reject(user.id, draft.letter, RejectReason.OTHER, check.text)
        if decision is Decision.DONE:
            await reply(update, texts("Rejected. The writer will be told why."))
        else:
            await reply(update, _not_decided(texts, decision))
        await self._show_next(update, context, None)


def _not_decided(texts: Texts, decision: Decision) -> Html:
    if decision is Decision.GONE:
        return texts("This letter is no longer waiting: its writer withdrew it.")
    return texts("Another coordinator has already decided on this letter.")


def _review_text(texts: Texts, item: ReviewItem, zone: str) -> Html:
    letter = item.letter
    header = [
        texts("<b>Letter waiting for review</b>"),
        texts.ngettext(
            "{count} letter is waiting in all.",
            "{count} letters are waiting in all.",
            item.waiting,
        ),
        texts("Pen name: {pen_name}", pen_name=letter.pen_name),
        texts("Written in: {language}", language=texts.language_name(letter.language)),
        texts("Written on: {date}", date=texts.date_in(from_epoch(letter.created_at), zone)),
    ]
    return Html("\n".join(header) + "\n\n" + escape(letter.text))


def _review_keyboard(texts: Texts, item: ReviewItem) -> InlineKeyboardMarkup:
    rows = _decision_rows(texts, item.letter.id)
    rows.append([(texts.plain("Skip"), ReviewSkip(item.letter.id).pack())])
    return keyboard(rows)


def _decision_rows(texts: Texts, letter_id: int) -> list[list[Button]]:
    return [
        [
            (texts.plain("Approve"), ReviewApprove(letter_id).pack()),
            (texts.plain("Reject…"), ReviewReject(letter_id).pack()),
        ]
    ]


def _decision_keyboard(texts: Texts, letter_id: int) -> InlineKeyboardMarkup:
    rows = _decision_rows(texts, letter_id)
    rows.append([(texts.plain("Skip"), ReviewSkip(letter_id).pack())])
    return keyboard(rows)


def _reasons_keyboard(texts: Texts, letter_id: int) -> InlineKeyboardMarkup:
    rows: list[list[Button]] = [
        [(texts.plain(label), ReviewReason(letter_id, reason).pack())]
        for reason, label in _REASON_LABELS.items()
    ]
    rows.append([(texts.plain("Other: type a reason"), ReviewOther(letter_id).pack())])
    rows.append([(texts.plain("« Back"), ReviewBack(letter_id).pack())])
    return keyboard(rows)
