"""Campaign posts: coordinators' /post (compose, preview, publish) and members' /latest."""

from __future__ import annotations

from telegram import CallbackQuery, Update
from telegram.ext import CommandHandler

from bot.handlers.access import requires
from bot.handlers.buttons import PostCancel, PostPublish
from bot.handlers.compose import START_AGAIN, BilingualComposer, Draft
from bot.handlers.context import Context, Handler
from bot.handlers.flows import FlowRouter
from bot.handlers.presses import on_press
from bot.handlers.replies import answer_and_close, keyboard, reply
from bot.i18n import Html, Texts
from bot.models import StoredPost
from bot.runtime import Runtime
from bot.services.approvals import KIND_POST
from bot.services.broadcasts import LANGUAGES
from bot.services.links import render_link_report
from bot.services.roles import Permission

FLOW = "post"


class Posts:
    """Publishing posts on the case, and reading the latest ones."""

    def __init__(self, runtime: Runtime, router: FlowRouter) -> None:
        self.runtime = runtime
        self.composer = BilingualComposer(
            runtime,
            FLOW,
            with_photo=True,
            finish=self.preview,
            permission=Permission.PUBLISH_POSTS,
        )
        router.register(FLOW, self.composer.on_step)

    def handlers(self) -> list[Handler]:
        guard = requires(self.runtime, Permission.PUBLISH_POSTS)
        return [
            CommandHandler("post", guard(self.composer.begin)),
            CommandHandler("latest", self.latest),
            on_press(PostPublish, self.on_publish, guard=guard, expired=START_AGAIN),
            on_press(PostCancel, self.on_cancel, guard=guard, expired=START_AGAIN),
        ]

    async def preview(self, update: Update, context: Context, draft: Draft) -> None:
        """Show the post exactly as members will see it, in both languages, then ask."""
        chat = update.effective_chat
        if chat is None:
            return
        texts = context.texts
        await reply(update, texts("<b>Preview.</b> This is what members will see:"))
        stored = StoredPost(
            0,
            draft.text_ko,
            draft.text_en,
            draft.photo_file_id,
            int(self.runtime.clock.now().timestamp()),
        )
        for language in LANGUAGES:
            text = self.runtime.broadcasts.render_post(stored, language)
            if draft.photo_file_id:
                await chat.send_photo(draft.photo_file_id, caption=text)
            else:
                await chat.send_message(text)
        links = self.runtime.approvals.links.links(draft.text_ko, draft.text_en)
        if links:
            await reply(update, render_link_report(texts, links, gate=True))
        count = await self.runtime.broadcasts.instant_subscribers()
        later = await self.runtime.broadcasts.summary_readers()
        question = texts.ngettext(
            "Publish it? It goes at once to {count} subscriber.",
            "Publish it? It goes at once to {count} subscribers.",
            count,
        )
        await reply(
            update,
            Html(f"{question} {summary_readers_text(texts, later)}".rstrip()),
            keyboard(
                [
                    [
                        (texts.plain("Publish"), PostPublish(draft.token).pack()),
                        (texts.plain("Cancel"), PostCancel(draft.token).pack()),
                    ]
                ]
            ),
        )

    async def on_publish(
        self, update: Update, context: Context, query: CallbackQuery, button: PostPublish
    ) -> None:
        """Publish, under the preview (the role is checked again by the guard)."""
        draft = await self.composer.pressed_draft(context, query, button.draft)
        if draft is not None:
            if draft.news_item is not None:  # before leaving: its item must not come back
                await self.runtime.news.keep_drafted(draft.news_item)
            await self.runtime.flows.leave(query.from_user.id)
            await self._publish(update, context.texts, query.from_user.id, draft)
            await answer_and_close(query)

    async def on_cancel(
        self, update: Update, context: Context, query: CallbackQuery, button: PostCancel
    ) -> None:
        """Cancel, under the preview: nothing is published."""
        said = context.texts("Cancelled. Nothing was published.")
        await self.composer.cancel(update, context, query, button.draft, said)

    async def _publish(self, update: Update, texts: Texts, user_id: int, draft: Draft) -> None:
        """Publish the confirmed draft, or hold it for a second coordinator."""
        if self.runtime.approvals.needs_approval(draft.text_ko, draft.text_en):
            asked = await self.runtime.approvals.request(
                KIND_POST, user_id, draft.text_ko, draft.text_en, draft.photo_file_id
            )
            await reply(update, approval_requested_text(texts, asked))
            return
        published = await self.runtime.broadcasts.publish_post(
            user_id, draft.text_ko, draft.text_en, draft.photo_file_id
        )
        sent = texts.ngettext(
            "Published. It is on its way to {count} subscriber.",
            "Published. It is on its way to {count} subscribers.",
            published.recipients,
        )
        later = summary_readers_text(texts, published.digest_recipients)
        await reply(update, Html(f"{sent} {later}".rstrip()))

    async def latest(self, update: Update, context: Context) -> None:
        """/latest: the last few posts in the member's language."""
        texts = context.texts
        shown = await self.runtime.broadcasts.latest(texts.language)
        if not shown:
            await reply(update, texts("No updates have been published yet."))
            return
        for text, photo in reversed(shown):  # oldest first, so the newest ends up at the bottom
            if photo is None:
                await reply(update, text)
            elif update.effective_chat is not None:
                await update.effective_chat.send_photo(photo, caption=text)


def summary_readers_text(texts: Texts, count: int) -> Html:
    """When the members on daily or weekly summaries get a new post (empty if none)."""
    if count == 0:
        return Html("")
    return texts.ngettext(
        "{count} more gets it in their next summary.",
        "{count} more get it in their next summary.",
        count,
    )


def approval_requested_text(texts: Texts, asked: int) -> Html:
    """What the author is told when the two-person rule holds their message back."""
    if asked == 0:
        return texts(
            "It waits for a second coordinator's approval, but there is no other "
            "coordinator yet: ask an admin to grant the role to someone you trust."
        )
    return texts.ngettext(
        "Sent for approval to {count} other coordinator. It goes out when one approves it.",
        "Sent for approval to {count} other coordinators. It goes out when one approves it.",
        asked,
    )
