"""Screening letters: /review shows one pending letter at a time, never who wrote it."""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.clock import from_epoch
from bot.handlers.common import (
    Button,
    Context,
    Flows,
    Handler,
    close_buttons,
    consented_member,
    keyboard,
    reply,
    requires,
    texts_for,
)
from bot.handlers.letters import (
    enter_flow,
    member_timezone,
    plain_label,
    problem_report,
    still_may,
    swap_buttons,
)
from bot.i18n import N_, Html, Texts, escape
from bot.models import Conversation
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
_REASON_LABELS = {
    RejectReason.IDENTIFYING: N_("Names or places"),
    RejectReason.MILITARY: N_("Military matters"),
    RejectReason.NOT_ENCOURAGING: N_("Not encouragement"),
    RejectReason.UNREADABLE: N_("Hard to read"),
}


class Review:
    """Coordinators approve or reject pending letters; every button checks the role again."""

    def __init__(self, runtime: Runtime, flows: Flows) -> None:
        self.runtime = runtime
        self.letters = runtime.letters
        flows.register(REVIEW_NOTE, self.on_typed_note)

    def handlers(self) -> list[Handler]:
        guard = requires(self.runtime, Permission.REVIEW_LETTERS)
        return [
            CommandHandler("review", guard(self.review)),
            CallbackQueryHandler(guard(self.on_review_button), pattern=r"^rev:"),
        ]

    async def review(self, update: Update, context: Context) -> None:
        """/review: the oldest pending letter, without anything that tells who wrote it."""
        await self._show_next(update, None)

    async def _show_next(self, update: Update, after_letter_id: int | None) -> None:
        texts = await texts_for(self.runtime, update)
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
            zone = await member_timezone(self.runtime, update)
            await reply(update, _review_text(texts, item, zone), _review_keyboard(texts, item))

    async def on_review_button(self, update: Update, context: Context) -> None:
        """Approve, Reject (then a reason), Skip; the guard has checked the role again."""
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        texts = await texts_for(self.runtime, update)
        parts = (query.data or "").split(":")
        action = parts[1] if len(parts) > 1 else ""
        letter_id = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0
        reason = parts[3] if len(parts) > 3 else ""
        if action == "ok":
            decision = await self.letters.approve(user.id, letter_id)
            await self._after_decision(update, query, texts, letter_id, decision, approve=True)
        elif action == "why" and reason in _REASON_LABELS:
            decision = await self.letters.reject(user.id, letter_id, RejectReason(reason))
            await self._after_decision(update, query, texts, letter_id, decision, approve=False)
        elif action == "no":
            await query.answer()
            await swap_buttons(query, _reasons_keyboard(texts, letter_id))
        elif action == "back":
            await query.answer()
            await swap_buttons(query, _decision_keyboard(texts, letter_id))
        elif action == "other":
            await self._ask_note(update, query, texts, letter_id)
        elif action == "skip":
            await query.answer()
            await close_buttons(query)
            await self._show_next(update, letter_id)
        else:
            await query.answer(texts.plain("This button has expired. Please send /review."))

    async def _after_decision(
        self,
        update: Update,
        query: CallbackQuery,
        texts: Texts,
        letter_id: int,
        decision: Decision,
        *,
        approve: bool,
    ) -> None:
        if decision is Decision.DONE:
            await query.answer(texts.plain("Approved.") if approve else texts.plain("Rejected."))
            await close_buttons(query)
            done = (
                texts("Approved. The writer will be told.")
                if approve
                else texts("Rejected. The writer will be told why.")
            )
            await reply(update, done)
        else:
            await query.answer(plain_label(_not_decided(texts, decision)), show_alert=True)
            await close_buttons(query)
        await self._show_next(update, None)

    async def _ask_note(
        self, update: Update, query: CallbackQuery, texts: Texts, letter_id: int
    ) -> None:
        # The typed reason waits in the conversation table, which only members have.
        if await consented_member(self.runtime, update, texts) is None:
            return
        letter = await self.letters.get(letter_id)
        if letter is None or letter.state != LetterState.PENDING:
            gone = letter is None or letter.state == LetterState.WITHDRAWN
            decision = Decision.GONE if gone else Decision.ALREADY_DECIDED
            await query.answer(plain_label(_not_decided(texts, decision)), show_alert=True)
            return
        await query.answer()
        await close_buttons(query)
        await enter_flow(self.runtime, update, REVIEW_NOTE, "note", {"letter": letter_id})
        await reply(
            update,
            texts(
                "Type the reason for the writer in a sentence or two (at most {limit} "
                "characters, no links or contact details). They will read your words as you "
                "write them. Send /cancel to stop.",
                limit=REJECT_NOTE_MAX_CHARS,
            ),
        )

    async def on_typed_note(
        self, update: Update, context: Context, conversation: Conversation
    ) -> None:
        """The coordinator's own reason after "Other"; the role is checked again."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        if not await still_may(self.runtime, update, Permission.REVIEW_LETTERS):
            return
        texts = await texts_for(self.runtime, update)
        if message.text is None or message.text.startswith("/"):
            await reply(update, texts("Please type the reason as text, or /cancel."))
            return
        check = check_reject_note(message.text)
        letter_id = conversation.data.get("letter")
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
        await self.runtime.conversations.leave(user.id)
        if not isinstance(letter_id, int):
            return
        decision = await self.letters.reject(user.id, letter_id, RejectReason.OTHER, check.text)
        if decision is Decision.DONE:
            await reply(update, texts("Rejected. The writer will be told why."))
        else:
            await reply(update, _not_decided(texts, decision))
        await self._show_next(update, None)


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
    rows.append([(texts.plain("Skip"), f"rev:skip:{item.letter.id}")])
    return keyboard(rows)


def _decision_rows(texts: Texts, letter_id: int) -> list[list[Button]]:
    return [
        [
            (texts.plain("Approve"), f"rev:ok:{letter_id}"),
            (texts.plain("Reject…"), f"rev:no:{letter_id}"),
        ]
    ]


def _decision_keyboard(texts: Texts, letter_id: int) -> InlineKeyboardMarkup:
    rows = _decision_rows(texts, letter_id)
    rows.append([(texts.plain("Skip"), f"rev:skip:{letter_id}")])
    return keyboard(rows)


def _reasons_keyboard(texts: Texts, letter_id: int) -> InlineKeyboardMarkup:
    rows: list[list[Button]] = [
        [(texts.plain(label), f"rev:why:{letter_id}:{reason.value}")]
        for reason, label in _REASON_LABELS.items()
    ]
    rows.append([(texts.plain("Other: type a reason"), f"rev:other:{letter_id}")])
    rows.append([(texts.plain("« Back"), f"rev:back:{letter_id}")])
    return keyboard(rows)
