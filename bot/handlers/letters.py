"""Writing letters: /write (and /start write) with rules, pen name and preview; /letters."""

from __future__ import annotations

import html
from datetime import date

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
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
    refuse,
    reply,
    show,
    standing_of,
    texts_for,
)
from bot.i18n import N_, Html, Texts, escape
from bot.models import Conversation, Member
from bot.runtime import Runtime
from bot.services.letter_rules import (
    LETTER_MAX_CHARS,
    LETTER_MAX_LINES,
    LETTER_MAX_WORDS,
    LETTER_MIN_CHARS,
    PEN_NAME_MAX_CHARS,
    LetterProblem,
    Problem,
    check_letter,
    check_pen_name,
)
from bot.services.letters import (
    REJECT_REASON_TEXTS,
    LetterState,
    RejectReason,
    WriteRefusal,
    format_day,
)
from bot.services.roles import Permission
from bot.storage.letters import StoredLetter

WRITE = "write"
LETTERS_SHOWN = 10
EXCERPT_CHARS = 60

PEN_NAME_SUGGESTIONS = (
    N_("A mother in Seoul"),
    N_("Someone who misses home"),
    N_("A friend who came before you"),
)
_PROBLEMS = {
    LetterProblem.EMPTY: N_("There is no text in it."),
    LetterProblem.LINK: N_("It contains a link: “{fragment}”. Links are not allowed."),
    LetterProblem.MENTION: N_(
        "It contains a Telegram username: “{fragment}”. Usernames are not allowed."
    ),
    LetterProblem.EMAIL: N_(
        "It contains an e-mail address: “{fragment}”. Contact details are not allowed."
    ),
    LetterProblem.PHONE: N_(
        "It contains what looks like a phone number: “{fragment}”. Contact details are not "
        "allowed."
    ),
    LetterProblem.PEN_NAME_MULTILINE: N_("A pen name must fit on one line."),
}


class Letters:
    """A member writes letters, follows them and may withdraw a pending one."""

    def __init__(self, runtime: Runtime, flows: Flows) -> None:
        self.runtime = runtime
        self.letters = runtime.letters
        flows.register(WRITE, self.on_write_step)

    def handlers(self) -> list[Handler]:
        return [
            CommandHandler("write", self.start_writing),
            CommandHandler("letters", self.my_letters),
            CallbackQueryHandler(self.on_write_button, pattern=r"^write:"),
            CallbackQueryHandler(self.on_letters_button, pattern=r"^letters:"),
        ]

    # -- writing -------------------------------------------------------------------------------

    async def start_writing(self, update: Update, context: Context) -> None:
        """/write (and /start write): the rules, then wait for the letter's text."""
        texts = await texts_for(self.runtime, update)
        member = await consented_member(self.runtime, update, texts)
        if member is None or not await self._may_write(update, member, texts):
            return
        await self.runtime.conversations.enter(member.user_id, WRITE, "text")
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
                "• from {min_chars} to {max_chars} characters, at most {max_words} words and "
                "{max_lines} lines.",
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

    async def on_write_step(
        self, update: Update, context: Context, conversation: Conversation
    ) -> None:
        """A message while writing: the text, then the pen name; only text is taken."""
        message = update.effective_message
        if message is None:
            return
        texts = await texts_for(self.runtime, update)
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
        elif conversation.step == "text":
            await self._take_text(update, texts, message.text, dict(conversation.data))
        elif conversation.step == "pen":
            await self._take_pen_name(update, texts, message.text, dict(conversation.data))
        else:
            await reply(update, texts("Please use the buttons under the preview, or /cancel."))

    async def _take_text(
        self, update: Update, texts: Texts, raw: str, data: dict[str, object]
    ) -> None:
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
        data["text"] = check.text
        if isinstance(data.get("pen"), str):  # editing the text of a finished draft
            await self._preview(update, texts, data)
            return
        await enter_flow(self.runtime, update, WRITE, "pen", data)
        await reply(
            update,
            texts(
                "Thank you. Now a pen name to sign it with, like “{example}”: up to {limit} "
                "characters, nothing that tells who you are. Type one, or choose below.",
                example=texts.plain(PEN_NAME_SUGGESTIONS[0]),
                limit=PEN_NAME_MAX_CHARS,
            ),
            keyboard(
                [
                    [(texts.plain(name), f"write:pen:{i}")]
                    for i, name in enumerate(PEN_NAME_SUGGESTIONS)
                ]
            ),
        )

    async def _take_pen_name(
        self, update: Update, texts: Texts, raw: str, data: dict[str, object]
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
        data["pen"] = check.text
        await self._preview(update, texts, data)

    async def _preview(self, update: Update, texts: Texts, data: dict[str, object]) -> None:
        await enter_flow(self.runtime, update, WRITE, "preview", data)
        await reply(update, _letter_preview(texts, data), _preview_keyboard(texts))

    async def on_write_button(self, update: Update, context: Context) -> None:
        """Pen name suggestions and Send / Edit / Cancel under the preview."""
        query = update.callback_query
        if query is None:
            return
        texts = await texts_for(self.runtime, update)
        member = await consented_member(self.runtime, update, texts)
        if member is None:
            return
        conversation = await self.runtime.conversations.current(member.user_id)
        step = conversation.step if conversation and conversation.flow == WRITE else None
        data = dict(conversation.data) if conversation else {}
        action, _, value = (query.data or "").removeprefix("write:").partition(":")
        if action == "pen" and step == "pen" and value in {"0", "1", "2"}:
            await query.answer()
            await close_buttons(query)
            data["pen"] = texts.plain(PEN_NAME_SUGGESTIONS[int(value)])
            await self._preview(update, texts, data)
        elif step == "preview" and action in {"send", "edit", "back", "cancel"}:
            await self._on_preview_button(update, query, texts, member, action, value, data)
        else:
            await query.answer(texts.plain("This button has expired. Please send /write."))

    async def _on_preview_button(
        self,
        update: Update,
        query: CallbackQuery,
        texts: Texts,
        member: Member,
        action: str,
        value: str,
        data: dict[str, object],
    ) -> None:
        await query.answer()
        if action == "edit" and value in {"text", "pen"}:
            await close_buttons(query)
            await enter_flow(self.runtime, update, WRITE, value, data)
            ask = (
                texts("Send the new text of your letter.")
                if value == "text"
                else texts("Send the new pen name.")
            )
            await reply(update, ask)
        elif action == "edit":
            await swap_buttons(query, _edit_keyboard(texts))
        elif action == "back":
            await swap_buttons(query, _preview_keyboard(texts))
        elif action == "cancel":
            await close_buttons(query)
            await self.runtime.conversations.leave(member.user_id)
            await reply(update, texts("Cancelled. Your letter was not sent."))
        else:
            await close_buttons(query)
            await self._send(update, texts, member, data)

    async def _send(
        self, update: Update, texts: Texts, member: Member, data: dict[str, object]
    ) -> None:
        text, pen = data.get("text"), data.get("pen")
        await self.runtime.conversations.leave(member.user_id)
        if not isinstance(text, str) or not isinstance(pen, str):
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

    async def my_letters(self, update: Update, context: Context) -> None:
        """/letters: the member's newest letters with their status; pending ones can go."""
        texts = await texts_for(self.runtime, update)
        member = await consented_member(self.runtime, update, texts)
        if member is None:
            return
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
        for number, letter in enumerate(letters, 1):
            lines.append(_letter_line(texts, number, letter, member.timezone))
            if letter.state == LetterState.PENDING:
                label = plain_label(texts("Withdraw letter {number}", number=number))
                buttons.append([(label, f"letters:withdraw:{letter.id}")])
        await reply(update, Html("\n\n".join(lines)), keyboard(buttons) if buttons else None)

    async def on_letters_button(self, update: Update, context: Context) -> None:
        """Withdraw (asks first), then Yes / No; only the writer's own pending letter changes."""
        query = update.callback_query
        if query is None:
            return
        texts = await texts_for(self.runtime, update)
        member = await consented_member(self.runtime, update, texts)
        if member is None:
            return
        action, _, value = (query.data or "").removeprefix("letters:").partition(":")
        letter_id = int(value) if value.isdigit() else 0
        if action == "keep":
            await query.answer()
            await show(query, texts("All right: your letter stays in the queue."))
            return
        letter = await self.letters.pending_letter_of(member.user_id, letter_id)
        if letter is None or action not in {"withdraw", "confirm"}:
            await query.answer(
                texts.plain("This letter can no longer be withdrawn: it was already reviewed."),
                show_alert=True,
            )
            return
        await query.answer()
        if action == "withdraw":
            await reply(
                update,
                texts(
                    "Withdraw your letter signed “{pen_name}”? It will not be sent, and its "
                    "text will be erased.",
                    pen_name=letter.pen_name,
                ),
                keyboard(
                    [
                        [(texts.plain("Yes, withdraw it"), f"letters:confirm:{letter.id}")],
                        [(texts.plain("No, keep it"), "letters:keep")],
                    ]
                ),
            )
        elif await self.letters.withdraw(member.user_id, letter.id):
            await show(query, texts("Your letter was withdrawn and its text erased."))
        else:
            await show(
                query, texts("This letter can no longer be withdrawn: it was already reviewed.")
            )


async def member_timezone(runtime: Runtime, update: Update) -> str:
    """The user's own time zone, for the dates they read and the days they type."""
    user = update.effective_user
    member = await runtime.members.get(user.id) if user is not None else None
    return member.timezone if member is not None else runtime.config.default_timezone


async def enter_flow(
    runtime: Runtime, update: Update, flow: str, step: str, data: dict[str, object]
) -> None:
    user = update.effective_user
    if user is not None:
        await runtime.conversations.enter(user.id, flow, step, data)


async def leave_flow(runtime: Runtime, update: Update) -> None:
    user = update.effective_user
    if user is not None:
        await runtime.conversations.leave(user.id)


async def still_may(runtime: Runtime, update: Update, permission: Permission) -> bool:
    """A typed step of a privileged flow: the role may have been revoked since it began."""
    standing = await standing_of(runtime, update)
    if standing is not None and standing.may(permission):
        return True
    await leave_flow(runtime, update)
    user = update.effective_user
    if user is not None:
        await runtime.roles.record_refusal(user.id, permission.value)
    await refuse(runtime, update, permission)
    return False


# -- rendering ---------------------------------------------------------------------------------


def plain_label(text: Html) -> str:
    """Button labels are plain text: undo the escaping of the values filled in."""
    return html.unescape(text)


def problem_report(
    texts: Texts, header: Html, problems: tuple[Problem, ...], footer: Html
) -> Html:
    lines = [header]
    for problem in problems:
        reason = _counted_problem(texts, problem) or texts(
            _PROBLEMS[problem.code], fragment=problem.fragment or ""
        )
        lines.append(Html(f"• {reason}"))
    return Html("\n".join([*lines, footer]))


def _counted_problem(texts: Texts, problem: Problem) -> Html | None:
    """A problem with a count, worded for that count ("1 character", "2 characters")."""
    count, limit = problem.actual or 0, texts.number(problem.limit or 0)
    code = problem.code
    if code is LetterProblem.TOO_SHORT:
        return texts.ngettext(
            "It has {count} character; the minimum is {limit}.",
            "It has {count} characters; the minimum is {limit}.",
            count,
            limit=limit,
        )
    if code is LetterProblem.TOO_LONG:
        return texts.ngettext(
            "It has {count} character; the maximum is {limit}.",
            "It has {count} characters; the maximum is {limit}.",
            count,
            limit=limit,
        )
    if code is LetterProblem.TOO_MANY_WORDS:
        return texts.ngettext(
            "It has {count} word; the maximum is {limit}.",
            "It has {count} words; the maximum is {limit}.",
            count,
            limit=limit,
        )
    if code is LetterProblem.TOO_MANY_LINES:
        return texts.ngettext(
            "It has {count} line; the maximum is {limit}.",
            "It has {count} lines; the maximum is {limit}.",
            count,
            limit=limit,
        )
    if code is LetterProblem.PEN_NAME_TOO_SHORT:
        return texts.ngettext(
            "It has {count} character; a pen name needs at least {limit}.",
            "It has {count} characters; a pen name needs at least {limit}.",
            count,
            limit=limit,
        )
    if code is LetterProblem.PEN_NAME_TOO_LONG:
        return texts.ngettext(
            "It has {count} character; a pen name can have at most {limit}.",
            "It has {count} characters; a pen name can have at most {limit}.",
            count,
            limit=limit,
        )
    return None


def _letter_preview(texts: Texts, data: dict[str, object]) -> Html:
    return Html(
        "\n\n".join(
            [
                texts("<b>Your letter</b>, signed “{pen_name}”:", pen_name=data.get("pen", "")),
                escape(data.get("text", "")),
                texts("Send it for review?"),
            ]
        )
    )


def _preview_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    return keyboard(
        [
            [(texts.plain("Send"), "write:send")],
            [(texts.plain("Edit"), "write:edit"), (texts.plain("Cancel"), "write:cancel")],
        ]
    )


def _edit_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    return keyboard(
        [
            [(texts.plain("Change the text"), "write:edit:text")],
            [(texts.plain("Change the pen name"), "write:edit:pen")],
            [(texts.plain("« Back"), "write:back")],
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


async def swap_buttons(query: CallbackQuery, markup: InlineKeyboardMarkup) -> None:
    """Change only the buttons under the pressed message (its text stays)."""
    if not isinstance(query.message, Message):
        return
    try:
        await query.edit_message_reply_markup(reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise
