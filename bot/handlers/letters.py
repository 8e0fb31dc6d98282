"""Writing letters: /write (and /start write) with rules, pen name and preview; /letters."""

from __future__ import annotations

import dataclasses
import logging
from datetime import date
from enum import StrEnum

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.clock import from_epoch
from bot.handlers.access import consented
from bot.handlers.buttons import (
    LetterConfirm,
    LetterKeep,
    LetterWithdraw,
    PreviewAction,
    WritePenName,
    WritePreview,
)
from bot.handlers.context import Context, Handler
from bot.handlers.flows import FlowDraft, FlowRouter, draft_expired, enter_flow
from bot.handlers.presses import on_member_press
from bot.handlers.problems import problem_report
from bot.handlers.replies import (
    Button,
    answer,
    answer_and_close,
    close_buttons,
    cosmetic,
    keyboard,
    reply,
    show,
    swap_buttons,
)
from bot.i18n import N_, Html, Texts, escape, unescape
from bot.models import Flow, Member, StoredLetter
from bot.runtime import Runtime
from bot.services.flows import EXPIRED
from bot.services.letter_rules import (
    LETTER_MAX_CHARS,
    LETTER_MAX_LINES,
    LETTER_MAX_WORDS,
    LETTER_MIN_CHARS,
    PEN_NAME_MAX_CHARS,
    check_letter,
    check_pen_name,
    written_language,
)
from bot.services.letters import (
    REJECT_REASON_TEXTS,
    LetterState,
    RejectReason,
    WriteRefusal,
    format_day,
)

log = logging.getLogger(__name__)

WRITE = "write"


class WriteStep(StrEnum):
    """The steps of /write: the text, the pen name, the preview."""

    TEXT = "text"
    PEN = "pen"
    PREVIEW = "preview"


@dataclasses.dataclass(frozen=True)
class WriteDraft(FlowDraft):
    """A letter being written; its JSON keys are the ones /write always stored."""

    text: str | None = None
    lang: str | None = None  # the language its letters are in: pen names are suggested in it
    pen: str | None = None
    pen_buttons: int | None = None  # the message with the pen name suggestions (PEN_BUTTONS)


# Where the pen name suggestions were sent (a message id in the draft), to remove them.
PEN_BUTTONS = "pen_buttons"
LETTERS_SHOWN = 10
_SEND_WRITE = N_("This button has expired. Please send /write.")
_STALE_DRAFT = N_(
    "This button no longer works. /letters shows the letters you sent; /write starts a new one."
)
_NOT_WITHDRAWABLE = N_("This letter can no longer be withdrawn: it was already reviewed.")
EXCERPT_CHARS = 60

# Offered in the language the letter is written in (it is printed with it), and none names a
# place: the rules on the same screen ask for no places.
PEN_NAME_SUGGESTIONS = (
    N_("A mother who prays for you"),
    N_("Someone who misses home"),
    N_("A friend who came before you"),
)


class Letters:
    """A member writes letters, follows them and may withdraw a pending one."""

    def __init__(self, runtime: Runtime, router: FlowRouter) -> None:
        self.runtime = runtime
        self.letters = runtime.letters
        router.register(WRITE, self.on_write_step)

    def handlers(self) -> list[Handler]:
        return [
            CommandHandler("write", self.start_writing),
            CommandHandler("letters", self.my_letters),
            on_member_press(WritePenName, self.on_pen_name, expired=_SEND_WRITE),
            on_member_press(WritePreview, self.on_preview_action, expired=_SEND_WRITE),
            on_member_press(
                LetterWithdraw, self.on_withdraw, expired=_NOT_WITHDRAWABLE, alert=True
            ),
            on_member_press(
                LetterConfirm, self.on_withdraw, expired=_NOT_WITHDRAWABLE, alert=True
            ),
            on_member_press(LetterKeep, self.on_keep, expired=_NOT_WITHDRAWABLE, alert=True),
        ]

    # -- writing -------------------------------------------------------------------------------

    @consented
    async def start_writing(self, update: Update, context: Context, member: Member) -> None:
        """/write (and /start write): the rules, then wait for the letter's text."""
        texts = context.texts
        if not await self._may_write(update, member, texts):
            return
        await self.runtime.flows.enter(member.user_id, WRITE, WriteStep.TEXT)
        await reply(update, self._rules(texts))

    async def _may_write(self, update: Update, member: Member, texts: Texts) -> bool:
        if member.blocked:
            await reply(update, texts("Sorry, you cannot send letters from this account."))
            return False
        if await self.letters.written_today(member) < self.letters.per_day:
            return True
        await reply(
            update,
            texts.ngettext(
                "You have already written {count} letter today, the most one person can send "
                "in a day. Please write again tomorrow.",
                "You have already written {count} letters today, the most one person can send "
                "in a day. Please write again tomorrow.",
                self.letters.per_day,
            ),
        )
        return False

    def _rules(self, texts: Texts) -> Html:
        title = texts("<b>A letter to the two soldiers</b>")
        rules = [
            texts(
                "Coordinators read every letter before it is printed, and so do the "
                "authorities who hold the soldiers. So please write only encouragement and "
                "personal news:"
            ),
            texts("• text only: no photos, files or stickers;"),
            texts(
                "• no real names (neither yours nor theirs), no hometowns or places where anyone "
                "lives, no phone numbers, e-mail addresses, usernames or links;"
            ),
            texts("• nothing about military or political matters;"),
            texts(
                "• the soldiers read Korean: a letter in another language is translated by a "
                "volunteer, and both the translation and your words are printed;"
            ),
            texts(
                "• from {min_chars} to {max_chars} characters and at most {max_lines} lines, "
                "in Korean or in English (where it also means at most {max_words} words).",
                min_chars=texts.number(LETTER_MIN_CHARS),
                max_chars=texts.number(LETTER_MAX_CHARS),
                max_words=texts.number(LETTER_MAX_WORDS),
                max_lines=texts.number(LETTER_MAX_LINES),
            ),
        ]
        pen_name = texts.ngettext(
            "You sign with a pen name, and coordinators never see who you are. You can "
            "send {count} letter a day.",
            "You sign with a pen name, and coordinators never see who you are. You can "
            "send {count} letters a day.",
            self.letters.per_day,
        )
        ask = texts("Now send your letter as one message. Send /cancel to stop.")
        return Html("\n\n".join([title, "\n".join(rules), pen_name, ask]))

    async def on_write_step(self, update: Update, context: Context, flow: Flow) -> None:
        """A message while writing: the text, then the pen name; only text is taken."""
        message = update.effective_message
        if message is None:
            return
        texts = context.texts
        if message.text is None:
            await reply(
                update,
                texts(
                    "A letter can only be text: we do not keep photos, files or stickers. "
                    "Please type it as a message."
                ),
            )
        elif message.text.startswith("/"):
            await reply(update, texts("Please send text for your letter, or /cancel to stop."))
        elif flow.step == WriteStep.TEXT:
            await self._take_text(update, texts, message.text, WriteDraft.of(flow) or WriteDraft())
        elif flow.step == WriteStep.PEN:
            await self._take_pen_name(
                update, texts, message.text, WriteDraft.of(flow) or WriteDraft()
            )
        else:
            await reply(update, texts("Please use the buttons under the preview, or /cancel."))

    async def _take_text(self, update: Update, texts: Texts, raw: str, draft: WriteDraft) -> None:
        check = check_letter(raw)
        if check.text is None:
            await reply(
                update,
                problem_report(
                    texts,
                    texts("We cannot take this letter yet:"),
                    check.problems,
                    texts("Please correct it and send the whole letter again, or /cancel."),
                ),
            )
            return
        # Pen names are suggested in the letter's language, which its letters decide.
        language = written_language(check.text, texts.language)
        draft = dataclasses.replace(draft, text=check.text, lang=language)
        if draft.pen is not None:  # editing the text of a finished draft
            await self._preview(update, texts, draft)
            return
        suggested = self._suggestions(draft)
        await self._ask_pen_name(
            update,
            texts,
            draft,
            texts(
                "Thank you. Now a pen name to sign it with, like “{example}”: up to {limit} "
                "characters, nothing that tells who you are. Type one, or choose below.",
                example=suggested[0],
                limit=PEN_NAME_MAX_CHARS,
            ),
        )

    async def _ask_pen_name(
        self, update: Update, texts: Texts, draft: WriteDraft, ask: Html
    ) -> None:
        """Ask for a pen name with the suggestions as buttons, remembering where they are.

        The buttons work while the pen name is asked for; once one is typed they are removed,
        so no button is left on screen that only answers "expired".
        """
        token = await enter_flow(self.runtime, update, WRITE, WriteStep.PEN, draft)
        sent = await reply(
            update,
            ask,
            keyboard(
                [
                    [(name, WritePenName(token, i).pack())]
                    for i, name in enumerate(self._suggestions(draft))
                ]
            ),
        )
        if sent is not None and update.effective_user is not None:
            # Noted in the same step: the buttons just sent keep their token.
            await self.runtime.flows.note(
                update.effective_user.id, token, PEN_BUTTONS, sent.message_id
            )

    def _suggestions(self, draft: WriteDraft) -> list[str]:
        texts = self.runtime.translator.texts(draft.lang)
        return [texts.plain(name) for name in PEN_NAME_SUGGESTIONS]

    async def _take_pen_name(
        self, update: Update, texts: Texts, raw: str, draft: WriteDraft
    ) -> None:
        check = check_pen_name(raw)
        if check.text is None:
            await reply(
                update,
                problem_report(
                    texts,
                    texts("We cannot use this pen name:"),
                    check.problems,
                    texts("Please send another one, or choose one of the suggestions."),
                ),
            )
            return
        await _remove_pen_buttons(update, draft)
        draft = dataclasses.replace(draft, pen=check.text, pen_buttons=None)
        await self._preview(update, texts, draft)

    async def _preview(self, update: Update, texts: Texts, draft: WriteDraft) -> None:
        token = await enter_flow(self.runtime, update, WRITE, WriteStep.PREVIEW, draft)
        await reply(update, _letter_preview(texts, draft), _preview_keyboard(texts, token))

    async def on_pen_name(
        self,
        update: Update,
        context: Context,
        query: CallbackQuery,
        button: WritePenName,
        member: Member,
    ) -> None:
        """A pen name suggestion, for the draft it was shown under."""
        flow, step, draft = await self._write_step(member, button.draft)
        if step == WriteStep.PEN and 0 <= button.suggestion < len(PEN_NAME_SUGGESTIONS):
            pen = self._suggestions(draft)[button.suggestion]
            draft = dataclasses.replace(draft, pen=pen, pen_buttons=None)
            await self._preview(update, context.texts, draft)
            await answer_and_close(query)
            return
        await self._stale_press(update, context, query, flow)

    async def on_preview_action(
        self,
        update: Update,
        context: Context,
        query: CallbackQuery,
        button: WritePreview,
        member: Member,
    ) -> None:
        """Send / Edit / Cancel under the preview, for the draft it was shown under."""
        flow, step, draft = await self._write_step(member, button.draft)
        if step == WriteStep.PREVIEW:
            await self._on_preview_button(update, query, context.texts, member, button, draft)
            await answer(query)
            return
        await self._stale_press(update, context, query, flow)

    async def _write_step(
        self, member: Member, draft: int
    ) -> tuple[Flow | None, str | None, WriteDraft]:
        """The member's flow, and its step and draft if `draft` is their current one's token."""
        flow = await self.runtime.flows.current(member.user_id)
        if flow is None or flow.name != WRITE or flow.token != draft:
            return flow, None, WriteDraft()
        return flow, flow.step, WriteDraft.of(flow) or WriteDraft()

    async def _stale_press(
        self,
        update: Update,
        context: Context,
        query: CallbackQuery,
        flow: Flow | None,
    ) -> None:
        """A press under an old draft: say so (an expired draft in its own words)."""
        texts = context.texts
        if flow is not None and flow.name == EXPIRED:
            await reply(update, draft_expired(texts, self.runtime.flows.draft_expiry))
            await answer_and_close(query)
            return
        if flow is not None and flow.name == WRITE:  # under an older preview of this draft
            await answer(query, texts.plain(_SEND_WRITE))
            return
        # No draft: most often a second tap on Send after the letter went, and "send /write"
        # would have the writer send it again. Where their letters are says what happened.
        await answer(query, texts.plain(_STALE_DRAFT))

    async def _on_preview_button(
        self,
        update: Update,
        query: CallbackQuery,
        texts: Texts,
        member: Member,
        button: WritePreview,
        draft: WriteDraft,
    ) -> None:
        action = button.action
        if action is PreviewAction.EDIT_TEXT:
            await enter_flow(self.runtime, update, WRITE, WriteStep.TEXT, draft)
            # The current text comes back as its own message, in a block a tap copies, so
            # the writer changes it instead of typing the whole letter again.
            await reply(
                update,
                texts(
                    "Send the new text of your letter. Here is the current one: tap it to "
                    "copy it, then change it and send it back."
                ),
            )
            await reply(update, Html(f"<code>{escape(draft.text or '')}</code>"))
            await close_buttons(query)
        elif action is PreviewAction.EDIT_PEN:
            await close_buttons(query)
            await self._ask_pen_name(
                update,
                texts,
                draft,
                texts(
                    "Send the new pen name, or choose one below. Now it is “{pen_name}”.",
                    pen_name=draft.pen or "",
                ),
            )
        elif action is PreviewAction.EDIT:
            await swap_buttons(query, _edit_keyboard(texts, button.draft))
        elif action is PreviewAction.BACK:
            await swap_buttons(query, _preview_keyboard(texts, button.draft))
        elif action is PreviewAction.CANCEL:
            await self.runtime.flows.leave(member.user_id)
            await reply(update, texts("Cancelled. Your letter was not sent."))
            await close_buttons(query)
        else:
            await self._send(update, texts, member, draft)
            await close_buttons(query)

    async def _send(self, update: Update, texts: Texts, member: Member, draft: WriteDraft) -> None:
        text, pen = draft.text, draft.pen
        await self.runtime.flows.leave(member.user_id)
        if text is None or pen is None:
            await reply(update, texts("This draft has expired. Please send /write."))
            return
        submission = await self.letters.submit(member, text, pen)
        if submission.refusal is WriteRefusal.DAILY_LIMIT:
            await self._may_write(update, member, texts)  # says why, with the number
        elif submission.letter_id is None:
            await reply(update, texts("Sorry, you cannot send letters from this account."))
        else:
            await reply(
                update,
                texts(
                    "Thank you! Your letter is waiting for review. We will tell you when it is "
                    "approved and when it is handed over. /letters shows where it is."
                ),
            )

    # -- the member's letters ------------------------------------------------------------------

    @consented
    async def my_letters(self, update: Update, context: Context, member: Member) -> None:
        """/letters: the member's newest letters with their status; pending ones can go."""
        texts = context.texts
        letters, total = await self.letters.letters_of(member.user_id, LETTERS_SHOWN)
        if not letters:
            await reply(
                update, texts("You have not written any letters yet. Send /write to write one.")
            )
            return
        lines = [texts("<b>Your letters</b>")]
        if total > len(letters):
            lines.append(
                texts("The {shown} most recent of {total}:", shown=len(letters), total=total)
            )
        buttons: list[list[Button]] = []
        answered = await self.runtime.answers.answered_bundles()
        for number, letter in enumerate(letters, 1):
            line = _letter_line(texts, number, letter, member.timezone)
            if letter.bundle_id is not None and letter.bundle_id in answered:
                line = Html(line + "\n" + texts("💌 The soldiers answered these letters."))
            lines.append(line)
            if letter.state == LetterState.PENDING:
                label = unescape(texts("Withdraw letter {number}", number=number))
                buttons.append([(label, LetterWithdraw(letter.id).pack())])
        await reply(update, Html("\n\n".join(lines)), keyboard(buttons) if buttons else None)

    async def on_keep(
        self,
        update: Update,
        context: Context,
        query: CallbackQuery,
        button: LetterKeep,
        member: Member,
    ) -> None:
        """No, keep it: the letter stays in the queue."""
        await show(query, context.texts("All right: your letter stays in the queue."))
        await answer(query)

    async def on_withdraw(
        self,
        update: Update,
        context: Context,
        query: CallbackQuery,
        button: LetterWithdraw | LetterConfirm,
        member: Member,
    ) -> None:
        """Withdraw (asks first), then Yes; only the writer's own pending letter changes."""
        texts = context.texts
        # Only the presser's own pending letter: anyone else's id finds nothing.
        letter = await self.letters.pending_letter_of(member.user_id, button.letter)
        if letter is None:
            await answer(query, texts.plain(_NOT_WITHDRAWABLE), alert=True)
            return
        await self._withdraw_step(
            update, query, texts, member, letter, confirmed=isinstance(button, LetterConfirm)
        )
        await answer(query)

    async def _withdraw_step(
        self,
        update: Update,
        query: CallbackQuery,
        texts: Texts,
        member: Member,
        letter: StoredLetter,
        *,
        confirmed: bool,
    ) -> None:
        """Ask before withdrawing; once confirmed, withdraw and say so."""
        if not confirmed:
            await reply(
                update,
                texts(
                    "Withdraw your letter signed “{pen_name}”? It will not be sent, and its "
                    "text will be erased.",
                    pen_name=letter.pen_name,
                ),
                keyboard(
                    [
                        [(texts.plain("Yes, withdraw it"), LetterConfirm(letter.id).pack())],
                        [(texts.plain("No, keep it"), LetterKeep().pack())],
                    ]
                ),
            )
        elif await self.letters.withdraw(member.user_id, letter.id):
            await show(query, texts("Your letter was withdrawn and its text erased."))
        else:
            await show(query, texts(_NOT_WITHDRAWABLE))


async def _remove_pen_buttons(update: Update, draft: WriteDraft) -> None:
    """Take the suggestions away once a pen name was typed: they no longer apply."""
    message_id, chat = draft.pen_buttons, update.effective_chat
    if message_id is None or chat is None:
        return
    # Already without buttons, or too old to edit: either way nothing stale is pressable.
    await cosmetic(
        update.get_bot().edit_message_reply_markup(chat.id, message_id, reply_markup=None)
    )


def _letter_preview(texts: Texts, draft: WriteDraft) -> Html:
    return Html(
        "\n\n".join(
            [
                texts("<b>Your letter</b>, signed “{pen_name}”:", pen_name=draft.pen or ""),
                escape(draft.text or ""),
                texts("Send it for review?"),
            ]
        )
    )


def _preview_keyboard(texts: Texts, draft: int) -> InlineKeyboardMarkup:
    def data(action: PreviewAction) -> str:
        return WritePreview(draft, action).pack()

    return keyboard(
        [
            [(texts.plain("Send"), data(PreviewAction.SEND))],
            [
                (texts.plain("Edit"), data(PreviewAction.EDIT)),
                (texts.plain("Cancel"), data(PreviewAction.CANCEL)),
            ],
        ]
    )


def _edit_keyboard(texts: Texts, draft: int) -> InlineKeyboardMarkup:
    def data(action: PreviewAction) -> str:
        return WritePreview(draft, action).pack()

    return keyboard(
        [
            [(texts.plain("Change the text"), data(PreviewAction.EDIT_TEXT))],
            [(texts.plain("Change the pen name"), data(PreviewAction.EDIT_PEN))],
            [(texts.plain("« Back"), data(PreviewAction.BACK))],
        ]
    )


def _letter_line(texts: Texts, number: int, letter: StoredLetter, zone: str) -> Html:
    written = texts.date_in(from_epoch(letter.created_at), zone)
    head = texts(
        "{number}. “{pen_name}”, written on {date}",
        number=number,
        pen_name=letter.pen_name,
        date=written,
    )
    lines = [Html(f"<b>{head}</b>"), _status(texts, letter, zone)]
    if letter.text:
        excerpt = letter.text if len(letter.text) <= EXCERPT_CHARS else letter.text[:EXCERPT_CHARS]
        ellipsis = "" if excerpt == letter.text else texts.plain("…")
        lines.append(texts("<i>{excerpt}</i>", excerpt=" ".join(excerpt.split()) + ellipsis))
    return Html("\n".join(lines))


def _status(texts: Texts, letter: StoredLetter, zone: str) -> Html:
    decided = texts.date_in(from_epoch(letter.decided_at or letter.created_at), zone)
    state = letter.state
    if state == LetterState.PENDING:
        return texts("Waiting for review.")
    if state == LetterState.APPROVED and letter.language != "ko" and letter.translation is None:
        return texts(
            "Approved on {date}; a volunteer will translate it into Korean before it is printed.",
            date=decided,
        )
    if state == LetterState.APPROVED:
        return texts("Approved on {date}; waiting to be printed.", date=decided)
    if state == LetterState.WITHDRAWN:
        return texts("Withdrawn on {date}.", date=decided)
    if state == LetterState.BUNDLED:
        printed = texts.date_in(from_epoch(letter.bundled_at or letter.created_at), zone)
        return texts("Printed on {date}; waiting to be handed over.", date=printed)
    if state == LetterState.DELIVERED:
        day = date.fromisoformat(letter.delivered_on) if letter.delivered_on else None
        shown = format_day(texts, day) if day else decided
        return texts("Handed over on {date}.", date=shown)
    reason = RejectReason(letter.reject_reason or RejectReason.OTHER)
    lines = [
        texts("Not approved on {date}.", date=decided),
        texts("Reason: {reason}", reason=texts.plain(REJECT_REASON_TEXTS[reason])),
    ]
    if letter.reject_note:
        lines.append(texts("The coordinator wrote: “{note}”", note=letter.reject_note))
    return Html("\n".join(lines))
