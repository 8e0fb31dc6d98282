"""Translating letters: /translate shows an approved letter not in Korean; its translation is
typed, previewed and saved, and the writer is told."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from telegram import CallbackQuery, Update
from telegram.ext import CommandHandler

from bot.clock import from_epoch
from bot.handlers.access import has_consented, requires, still_may
from bot.handlers.buttons import TranslateCancel, TranslateSave, TranslateSkip
from bot.handlers.context import Context, Handler
from bot.handlers.flows import FlowDraft, FlowRouter, enter_flow, leave_flow
from bot.handlers.presses import on_press
from bot.handlers.problems import problem_report
from bot.handlers.replies import answer, answer_and_close, keyboard, reply
from bot.i18n import N_, Html, Texts, escape
from bot.models import Flow, StoredLetter
from bot.runtime import Runtime
from bot.services.letters import Translation, check_translation
from bot.services.roles import Permission

TRANSLATE = "translate"


class TranslateStep(StrEnum):
    TEXT = "text"
    PREVIEW = "preview"


@dataclass(frozen=True)
class TranslationDraft(FlowDraft):
    letter: int
    text: str | None = None  # the typed Korean text, once it passed the checks


_SEND_TRANSLATE = N_("This button has expired. Please send /translate.")


class Translations:
    """Translators and coordinators attach a Korean translation; every step checks the role."""

    def __init__(self, runtime: Runtime, router: FlowRouter) -> None:
        self.runtime = runtime
        self.letters = runtime.letters
        router.register(TRANSLATE, self.on_typed_translation)

    def handlers(self) -> list[Handler]:
        guard = requires(self.runtime, Permission.TRANSLATE_LETTERS)
        return [
            CommandHandler("translate", guard(self.translate)),
            on_press(TranslateSave, self.on_save, guard=guard, expired=_SEND_TRANSLATE),
            on_press(TranslateSkip, self.on_skip, guard=guard, expired=_SEND_TRANSLATE),
            on_press(TranslateCancel, self.on_cancel, guard=guard, expired=_SEND_TRANSLATE),
        ]

    async def translate(self, update: Update, context: Context) -> None:
        """/translate: the oldest approved letter waiting for its Korean translation."""
        await self._show_next(update, context, None)

    async def _show_next(
        self, update: Update, context: Context, after_letter_id: int | None
    ) -> None:
        texts = context.texts
        letter = await self.letters.next_to_translate(after_letter_id)
        if letter is None:
            await leave_flow(self.runtime, update)
            await reply(update, texts("No letters are waiting for a translation."))
            return
        # The typed translation waits in the flow table, which only members have.
        if not await has_consented(update, context):
            return
        waiting = await self.letters.to_translate_count()
        zone = context.timezone
        await enter_flow(
            self.runtime, update, TRANSLATE, TranslateStep.TEXT, TranslationDraft(letter.id)
        )
        await reply(
            update,
            _letter_text(texts, letter, waiting, zone),
            keyboard([[(texts.plain("Skip"), TranslateSkip(letter.id).pack())]]),
        )

    async def on_typed_translation(self, update: Update, context: Context, flow: Flow) -> None:
        """The typed Korean text: checked like a letter, then shown back to confirm."""
        message = update.effective_message
        if message is None:
            return
        if not await still_may(update, context, Permission.TRANSLATE_LETTERS):
            return
        texts = context.texts
        draft = TranslationDraft.of(flow)
        if message.text is None or message.text.startswith("/") or flow.step != TranslateStep.TEXT:
            await reply(update, texts("Please type the Korean translation as text, or /cancel."))
            return
        check = check_translation(message.text)
        if check.text is None or draft is None:
            await reply(
                update,
                problem_report(
                    texts,
                    texts("We cannot take this translation:"),
                    check.problems,
                    texts("Please correct it and send the whole translation again, or /cancel."),
                ),
            )
            return
        typed = TranslationDraft(draft.letter, check.text)
        token = await enter_flow(self.runtime, update, TRANSLATE, TranslateStep.PREVIEW, typed)
        await reply(
            update,
            Html(
                "\n\n".join(
                    [
                        texts("<b>Korean translation</b>"),
                        escape(check.text),
                        texts(
                            "Save it? It will be printed above the original, and the writer "
                            "will be told."
                        ),
                    ]
                )
            ),
            keyboard(
                [
                    [(texts.plain("Save"), TranslateSave(token, draft.letter).pack())],
                    [(texts.plain("Cancel"), TranslateCancel().pack())],
                ]
            ),
        )

    async def on_cancel(
        self, update: Update, context: Context, query: CallbackQuery, button: TranslateCancel
    ) -> None:
        """Cancel: nothing is saved."""
        await answer_and_close(query)
        await leave_flow(self.runtime, update)
        await reply(update, context.texts("Cancelled. Nothing was saved."))

    async def on_skip(
        self, update: Update, context: Context, query: CallbackQuery, button: TranslateSkip
    ) -> None:
        """Skip: the next letter waiting for a translation."""
        await answer_and_close(query)
        await self._show_next(update, context, button.letter)

    async def on_save(
        self, update: Update, context: Context, query: CallbackQuery, button: TranslateSave
    ) -> None:
        """Save the previewed translation, if the preview is still the current one."""
        flow = await self.runtime.flows.current(query.from_user.id)
        draft = TranslationDraft.of(flow) if flow and flow.name == TRANSLATE else None
        # Only the preview now shown saves: an older one's text is not what it showed.
        if (
            flow is None
            or draft is None
            or (draft.letter, flow.token) != (button.letter, button.draft)
        ):
            await answer(query, context.texts.plain(_SEND_TRANSLATE))
            return
        await self._save(update, context, query, button.letter, draft.text)

    async def _save(
        self, update: Update, context: Context, query: CallbackQuery, letter_id: int, text: object
    ) -> None:
        user, texts = update.effective_user, context.texts
        if user is None or not isinstance(text, str):
            return
        await answer_and_close(query)
        await leave_flow(self.runtime, update)
        outcome = await self.letters.translate(user.id, letter_id, text)
        if outcome is Translation.DONE:
            await reply(update, texts("Saved. The writer will be told that it was translated."))
        else:
            await reply(
                update,
                texts("This letter no longer needs a translation: someone else saved one first."),
            )
        await self._show_next(update, context, None)


def _letter_text(texts: Texts, letter: StoredLetter, waiting: int, zone: str) -> Html:
    header = [
        texts("<b>Letter waiting for a Korean translation</b>"),
        texts.ngettext(
            "{count} letter is waiting in all.", "{count} letters are waiting in all.", waiting
        ),
        texts("Pen name: {pen_name}", pen_name=letter.pen_name),
        texts("Written on: {date}", date=texts.date_in(from_epoch(letter.created_at), zone)),
    ]
    ask = texts(
        "Type its Korean translation as one message: the soldiers read only Korean. Keep its "
        "meaning and tone, and add nothing. /cancel stops."
    )
    return Html("\n".join(header) + "\n\n" + escape(letter.text) + "\n\n" + ask)


def to_translate_line(texts: Texts, count: int) -> Html:
    """How many approved letters cannot be printed yet: they wait for a Korean translation."""
    return texts.ngettext(
        "{count} approved letter is waiting for a Korean translation (/translate).",
        "{count} approved letters are waiting for a Korean translation (/translate).",
        count,
    )
