"""Asking a coordinator for a Korean and an English text (either may be skipped), maybe a photo."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from telegram import CallbackQuery, Message, MessageEntity, Update

from bot.handlers.access import still_may
from bot.handlers.context import Context
from bot.handlers.replies import answer, answer_and_close, reply
from bot.i18n import N_, Html, Texts
from bot.models import TOKEN_KEY, Flow
from bot.runtime import Runtime
from bot.services.broadcasts import TextProblem, check_text, clean_broadcast_text, text_limit
from bot.services.links import reveal_hidden_links
from bot.services.news import DRAFT_ITEM_KEY
from bot.services.roles import Permission

# What a stale or forged press under a preview is told.
START_AGAIN = N_("This button has expired. Please start again.")


class ComposeStep(StrEnum):
    """The steps of /post and /announce; the Korean and English steps name the draft's keys."""

    KO = "ko"
    EN = "en"
    PHOTO = "photo"
    READY = "ready"


@dataclass(frozen=True)
class Draft:
    """What the coordinator has given so far; `token` identifies it on its buttons."""

    text_ko: str | None
    text_en: str | None
    photo_file_id: str | None
    token: int = 0
    news_item: int | None = None  # the /news item the draft was started from

    @classmethod
    def from_data(cls, data: dict[str, object]) -> Draft:
        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        token = data.get(TOKEN_KEY)
        item = data.get(DRAFT_ITEM_KEY)
        return cls(
            text("ko"),
            text("en"),
            text("photo"),
            token if isinstance(token, int) else 0,
            item if isinstance(item, int) and not isinstance(item, bool) else None,
        )


Finish = Callable[[Update, Context, Draft], Awaitable[None]]


class BilingualComposer:
    """The steps `ko` → `en` → (`photo`) → `ready`, kept in the member's flow row."""

    def __init__(
        self,
        runtime: Runtime,
        flow: str,
        *,
        with_photo: bool,
        finish: Finish,
        permission: Permission,
    ) -> None:
        self.runtime = runtime
        self.flow = flow
        # Checked again at every typed step: the role may have been revoked since /post began.
        self.permission = permission
        self.with_photo = with_photo
        self.finish = finish

    async def begin(self, update: Update, context: Context) -> None:
        """Enter the flow and ask for the Korean text."""
        user = update.effective_user
        if user is None:
            return
        texts = context.texts
        await self.enter(user.id)
        await reply(update, self.first_question(texts))

    async def enter(self, user_id: int, draft: dict[str, object] | None = None) -> None:
        """Enter the flow at its first step with `draft` (kept through every step)."""
        await self.runtime.flows.enter(user_id, self.flow, ComposeStep.KO, draft)

    async def on_step(self, update: Update, context: Context, flow: Flow) -> None:
        """Any message while composing: text, /skip or (at the photo step) a photo."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        if not await still_may(update, context, self.permission):
            return
        texts = context.texts
        data = dict(flow.draft)
        step = flow.step
        if step in {ComposeStep.KO, ComposeStep.EN}:
            await self._take_text(update, context, texts, message, data, step)
        elif step == ComposeStep.PHOTO:
            await self._take_photo(update, context, texts, message, data)
        else:
            await reply(update, texts("Please use the buttons above, or send /cancel."))

    async def _take_text(
        self,
        update: Update,
        context: Context,
        texts: Texts,
        message: Message,
        data: dict[str, object],
        step: str,
    ) -> None:
        user_id = message.from_user.id if message.from_user else message.chat_id
        if _is_skip(message):
            data[step] = None
        elif message.text is None or message.text.startswith("/"):
            await reply(update, texts("Please send the text, or /skip."))
            return
        else:
            # Cleaned on the way in, so the preview shows what members will read. The bot
            # re-renders the text, so a link hidden behind words gets its address written out.
            hidden = [
                (entity.offset, entity.length, entity.url)
                for entity in message.entities
                if entity.type == MessageEntity.TEXT_LINK and entity.url
            ]
            text = clean_broadcast_text(reveal_hidden_links(message.text, hidden)) or ""
            problem = check_text(text, with_photo=False)
            if problem is TextProblem.TOO_LONG:
                await reply(
                    update,
                    texts.ngettext(
                        "That is {count} character; the limit is {limit}. Please shorten it and "
                        "send it again.",
                        "That is {count} characters; the limit is {limit}. Please shorten it and "
                        "send it again.",
                        len(text),
                        limit=texts.number(text_limit(with_photo=False)),
                    ),
                )
                return
            data[step] = text or None
        if step == ComposeStep.KO:
            await self.runtime.flows.enter(user_id, self.flow, ComposeStep.EN, data)
            await reply(
                update,
                texts(
                    "Now the English text (up to {limit} characters), or /skip.",
                    limit=text_limit(with_photo=False),
                ),
            )
            return
        if not data.get("ko") and not data.get("en"):
            await reply(
                update,
                texts("At least one of the two texts is needed. Please send the English text."),
            )
            return
        if self.with_photo:
            await self.runtime.flows.enter(user_id, self.flow, ComposeStep.PHOTO, data)
            await reply(
                update,
                texts(
                    "Send a photo to go with it, such as a scan of a handwritten letter, or /skip."
                ),
            )
            return
        await self._ready(update, context, data)

    async def _take_photo(
        self,
        update: Update,
        context: Context,
        texts: Texts,
        message: Message,
        data: dict[str, object],
    ) -> None:
        if _is_skip(message):
            data["photo"] = None
        elif message.photo:
            longest = max(len(str(data.get("ko") or "")), len(str(data.get("en") or "")))
            if longest > text_limit(with_photo=True):
                await reply(
                    update,
                    texts(
                        "With a photo, each text can have at most {limit} characters, and this "
                        "one is longer. Send /skip to go on without the photo.",
                        limit=text_limit(with_photo=True),
                    ),
                )
                return
            data["photo"] = message.photo[-1].file_id  # the largest size Telegram made
        else:
            await reply(update, texts("Please send a photo, or /skip."))
            return
        await self._ready(update, context, data)

    async def _ready(self, update: Update, context: Context, data: dict[str, object]) -> None:
        user = update.effective_user
        if user is None:
            return
        token = await self.runtime.flows.enter(user.id, self.flow, ComposeStep.READY, data)
        await self.finish(update, context, Draft.from_data({**data, TOKEN_KEY: token}))

    def first_question(self, texts: Texts) -> Html:
        return texts(
            "Send the Korean text (up to {limit} characters), or /skip if there is none.",
            limit=text_limit(with_photo=False),
        )

    async def draft_of(self, user_id: int, token: int) -> Draft | None:
        """The presser's own finished draft the button was shown for, or None.

        None when it expired, was sent or cancelled, or a newer draft replaced it: a button
        acts only on the draft it was shown under, never on whatever the presser has now.
        """
        flow = await self.runtime.flows.current(user_id)
        if flow is None or flow.name != self.flow:
            return None
        if flow.step != ComposeStep.READY or flow.token != token:
            return None
        return Draft.from_data(flow.draft)

    async def cancel(
        self, update: Update, context: Context, query: CallbackQuery, token: int, said: Html
    ) -> None:
        """Cancel under a preview: leave the flow and say `said` (if the button is current)."""
        if await self.pressed_draft(context, query, token) is not None:
            await self.runtime.flows.leave(query.from_user.id)
            await reply(update, said)
            await answer_and_close(query)

    async def pressed_draft(
        self, context: Context, query: CallbackQuery, token: int
    ) -> Draft | None:
        """`draft_of` for a press: None, and the presser told the button expired, if stale."""
        draft = await self.draft_of(query.from_user.id, token)
        if draft is None:
            await answer(query, context.texts.plain(START_AGAIN))
        return draft


def _is_skip(message: Message) -> bool:
    text = (message.text or "").strip().lower()
    return text == "/skip" or text.startswith("/skip@")
