"""The soldiers' answers: /answer links a scan and its transcription to handed-over bundles."""

from __future__ import annotations

import re
from datetime import date

from telegram import CallbackQuery, Update
from telegram.ext import CommandHandler

from bot.handlers.access import requires, still_may
from bot.handlers.buttons import AnswerCancel, AnswerPublish
from bot.handlers.compose import START_AGAIN, BilingualComposer, Draft
from bot.handlers.context import Context, Handler
from bot.handlers.flows import FlowRouter
from bot.handlers.posts import approval_requested_text
from bot.handlers.presses import on_press
from bot.handlers.replies import answer_and_close, keyboard, reply
from bot.i18n import Html, Texts
from bot.models import Flow
from bot.runtime import Runtime
from bot.services.answers import AnswerOutcome, AnswerResult
from bot.services.broadcasts import LANGUAGES, MAX_CAPTION_TEXT
from bot.services.letters import format_day
from bot.services.roles import Permission

FLOW = "answer"
_NUMBER = re.compile(r"\d{1,9}")


class Answers:
    """Posting an answer: which bundles, the transcription(s), the scan, a preview, publish."""

    def __init__(self, runtime: Runtime, router: FlowRouter) -> None:
        self.runtime = runtime
        self.composer = BilingualComposer(
            runtime,
            FLOW,
            with_photo=True,
            finish=self.preview,
            permission=Permission.PUBLISH_POSTS,
        )
        router.register(FLOW, self._on_step)

    def handlers(self) -> list[Handler]:
        guard = requires(self.runtime, Permission.PUBLISH_POSTS)
        return [
            CommandHandler("answer", guard(self.begin)),
            on_press(AnswerPublish, self.on_publish, guard=guard, expired=START_AGAIN),
            on_press(AnswerCancel, self.on_cancel, guard=guard, expired=START_AGAIN),
        ]

    async def begin(self, update: Update, context: Context) -> None:
        """/answer: list the handed-over bundles and ask which ones the answer is about."""
        user = update.effective_user
        if user is None:
            return
        texts = context.texts
        bundles = await self.runtime.answers.delivered_bundles()
        if not bundles:
            await reply(update, texts("No bundle has been handed over yet."))
            return
        await self.runtime.flows.enter(user.id, FLOW, "bundles")
        lines = [
            texts(
                "Which bundles does the soldiers' answer reply to? Send their numbers, for "
                "example <code>{example}</code>. Handed over:",
                example=bundles[0].id,
            )
        ]
        lines += [
            texts.ngettext(
                "Bundle {number}: {count} letter, handed over on {date}",
                "Bundle {number}: {count} letters, handed over on {date}",
                b.letter_count,
                number=b.id,
                date=_day(texts, b.delivered_on),
            )
            for b in bundles
        ]
        await reply(update, Html("\n".join(lines)))

    async def _on_step(self, update: Update, context: Context, flow: Flow) -> None:
        if flow.step == "bundles":
            # Every typed step checks the role again (the composer's steps do it themselves).
            if await still_may(update, context, Permission.PUBLISH_POSTS):
                await self._take_bundles(update, context)
        else:
            await self.composer.on_step(update, context, flow)

    async def _take_bundles(self, update: Update, context: Context) -> None:
        user, message = update.effective_user, update.effective_message
        if user is None or message is None:
            return
        texts = context.texts
        delivered = {b.id for b in await self.runtime.answers.delivered_bundles()}
        chosen = sorted({int(n) for n in _NUMBER.findall(message.text or "")})
        if not chosen or any(n not in delivered for n in chosen):
            await reply(
                update,
                texts("Please send numbers of bundles from the list above, or /cancel."),
            )
            return
        await self.runtime.flows.enter(user.id, FLOW, "ko", {"bundles": chosen})
        await reply(
            update,
            texts(
                "Now the Korean transcription of the answer (up to {limit} characters), or /skip.",
                limit=MAX_CAPTION_TEXT,
            ),
        )

    async def preview(self, update: Update, context: Context, draft: Draft) -> None:
        """What the writers will get, in each language, and how many; then Publish or Cancel."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None:
            return
        texts = context.texts
        bundles = _bundles_of(await self.runtime.flows.current(user.id))
        delivered = {b.id: b.delivered_on for b in await self.runtime.answers.delivered_bundles()}
        day = max((delivered.get(n, "") for n in bundles), default="")
        await reply(update, texts("<b>Preview.</b> This is what the writers will get:"))
        for language in LANGUAGES:
            text = self.runtime.answers.writer_text(draft.text_ko, draft.text_en, language, day)
            if draft.photo_file_id:
                await chat.send_photo(draft.photo_file_id, caption=text)
            else:
                await chat.send_message(text)
        writers = await self.runtime.answers.writer_count(bundles)
        await reply(
            update,
            texts.ngettext(
                "Publish it? It goes to {count} writer of these bundles; every other "
                "subscriber gets it as an update.",
                "Publish it? It goes to {count} writers of these bundles; every other "
                "subscriber gets it as an update.",
                writers,
            ),
            keyboard(
                [
                    [
                        (texts.plain("Publish"), AnswerPublish(draft.token).pack()),
                        (texts.plain("Cancel"), AnswerCancel(draft.token).pack()),
                    ]
                ]
            ),
        )

    async def on_publish(
        self, update: Update, context: Context, query: CallbackQuery, button: AnswerPublish
    ) -> None:
        """Publish under the preview (the role is checked again by the guard)."""
        draft = await self.composer.pressed_draft(context, query, button.draft)
        if draft is None:
            return
        user_id = query.from_user.id
        bundles = _bundles_of(await self.runtime.flows.current(user_id))
        await self.runtime.flows.leave(user_id)
        result = await self.runtime.answers.post(
            user_id, bundles, draft.text_ko, draft.text_en, draft.photo_file_id
        )
        await reply(update, answer_result_text(context.texts, result))
        await answer_and_close(query)

    async def on_cancel(
        self, update: Update, context: Context, query: CallbackQuery, button: AnswerCancel
    ) -> None:
        """Cancel under the preview: nothing is published."""
        said = context.texts("Cancelled. Nothing was published.")
        await self.composer.cancel(update, context, query, button.draft, said)


def answer_result_text(texts: Texts, result: AnswerResult) -> Html:
    if result.outcome is AnswerOutcome.WAITS_FOR_APPROVAL:
        return approval_requested_text(texts, result.approvers_asked)
    if result.outcome is AnswerOutcome.GONE:
        return texts("This answer was already published or refused.")
    return Html(
        texts.ngettext(
            "Published. {count} writer gets the answer",
            "Published. {count} writers get the answer",
            result.writers,
        )
        + texts.ngettext(
            "; {count} other subscriber gets it as an update.",
            "; {count} other subscribers get it as an update.",
            result.subscribers,
        )
    )


def _bundles_of(flow: Flow | None) -> list[int]:
    value = flow.draft.get("bundles") if flow is not None else None
    return [n for n in value if isinstance(n, int)] if isinstance(value, list) else []


def _day(texts: Texts, iso: str) -> str:
    try:
        return format_day(texts, date.fromisoformat(iso))
    except ValueError:
        return iso
