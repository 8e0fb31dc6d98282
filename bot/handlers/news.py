"""News watch for coordinators: /feeds (add, keywords, pause, remove, notices) and /news."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler

from bot.clock import from_epoch
from bot.handlers.access import requires, still_may
from bot.handlers.buttons import (
    ButtonData,
    NewsAdd,
    NewsDismiss,
    NewsDraft,
    NewsKeywords,
    NewsLater,
    NewsNotifyOff,
    NewsNotifyOn,
    NewsPause,
    NewsRemove,
    NewsResume,
)
from bot.handlers.compose import BilingualComposer
from bot.handlers.context import Context, Handler
from bot.handlers.flows import FlowRouter
from bot.handlers.presses import EXPIRED, on_press
from bot.handlers.replies import Button, answer, close_buttons, keyboard, reply
from bot.i18n import Html, Texts, escape
from bot.models import Flow
from bot.runtime import Runtime
from bot.services.news import DRAFT_ITEM_KEY, FetchError, display_domain
from bot.services.roles import Permission
from bot.storage.feeds import StoredFeed, StoredItem

log = logging.getLogger(__name__)

FLOW = "news"
_PLAIN_ACTIONS = frozenset({"add", "notify-on", "notify-off"})
_ID_ACTIONS = frozenset({"pause", "resume", "keywords", "remove", "draft", "dismiss", "later"})
# /feeds in several messages when long: three buttons a feed (Telegram takes 100 a message), and
# text well within Telegram's 4096 characters (a feed with 20 long keywords is ~1,500).
FEEDS_PER_MESSAGE = 30
LISTING_MAX_CHARS = 3500
_BUTTON = re.compile(r"news:([a-z-]{3,10})(?::([1-9][0-9]{0,15}))?")


@dataclass(frozen=True)
class NewsButton:
    """A decoded `news:` button: an action and, for most, the feed or item it is about."""

    action: str
    target: int | None = None

    def encode(self) -> str:
        return f"news:{self.action}" + (f":{self.target}" if self.target is not None else "")

    @classmethod
    def decode(cls, data: str | None) -> NewsButton | None:
        """Strict: anything not exactly as `encode` writes it is refused (None)."""
        match = _BUTTON.fullmatch(data or "")
        if match is None:
            return None
        action, target = match.group(1), match.group(2)
        if action in _PLAIN_ACTIONS and target is None:
            return cls(action)
        if action in _ID_ACTIONS and target is not None:
            return cls(action, int(target))
        return None


_KINDS: tuple[type[ButtonData], ...] = (
    NewsAdd,
    NewsNotifyOn,
    NewsNotifyOff,
    NewsPause,
    NewsResume,
    NewsKeywords,
    NewsRemove,
    NewsDraft,
    NewsDismiss,
    NewsLater,
)


def _button(label: str, action: str, target: int | None = None) -> Button:
    return (label, NewsButton(action, target).encode())


class News:
    """Feeds coordinators follow and the queue of items found in them."""

    def __init__(self, runtime: Runtime, router: FlowRouter, composer: BilingualComposer) -> None:
        self.runtime = runtime
        self.news = runtime.news
        # "Draft update" hands the item over to /post's own composer: same steps, preview,
        # second approval where configured. Nothing is published from here.
        self.composer = composer
        router.register(FLOW, self.on_typed)

    def handlers(self) -> list[Handler]:
        guard = requires(self.runtime, Permission.PUBLISH_POSTS)
        return [
            CommandHandler("feeds", guard(self.feeds)),
            CommandHandler("news", guard(self.show_next)),
        ] + [on_press(kind, self.on_button, guard=guard) for kind in _KINDS]

    async def feeds(self, update: Update, context: Context) -> None:
        """/feeds: every feed, how its checks go, and buttons to manage them."""
        user = update.effective_user
        if user is None:
            return
        texts, zone = context.texts, context.timezone
        feeds = await self.news.feeds()
        watching = await self.news.is_watching(user.id)
        now = self.runtime.clock.now().timestamp()
        pages = _listing_pages([(feed, _feed_text(texts, feed, zone, now)) for feed in feeds])
        for number, page in enumerate(pages):
            lines = [texts("<b>News feeds</b>")] if number == 0 else []
            if not feeds:
                lines.append(texts("No feeds yet. Add one with the button below."))
            lines += [text for _feed, text in page]
            last = number == len(pages) - 1
            markup = _feeds_keyboard(texts, [feed for feed, _text in page], watching, last)
            await reply(update, Html("\n\n".join(lines)), markup)

    async def show_next(self, update: Update, context: Context) -> None:
        """/news: the next item waiting, with Draft update, Dismiss and Later."""
        user = update.effective_user
        if user is None:
            return
        texts = context.texts
        item = await self.news.next_item()
        if item is None:
            await reply(update, texts("No news items are waiting. Feeds are checked regularly."))
            return
        zone = context.timezone
        waiting = await self.news.waiting()
        await reply(update, _item_text(texts, item, zone, waiting), _item_keyboard(texts, item))

    async def on_button(
        self, update: Update, context: Context, query: CallbackQuery, kind: ButtonData
    ) -> None:
        """A `news:` button (each kind has its handler); the guard has checked the role again."""
        user, texts = query.from_user, context.texts
        button = NewsButton.decode(query.data)  # as strict as the buttons are written
        if button is None:
            await answer(query, texts.plain(EXPIRED))
            return
        if button.target is None:
            await self._plain_action(update, query, texts, user.id, button.action)
        elif button.action in {"draft", "dismiss", "later"}:
            await self._item_action(update, context, query, texts, button.action, button.target)
        else:
            await self._feed_action(update, query, texts, user.id, button.action, button.target)

    async def _plain_action(
        self, update: Update, query: CallbackQuery, texts: Texts, user_id: int, action: str
    ) -> None:
        await answer(query)
        if action == "add":
            await self.runtime.flows.enter(user_id, FLOW, "url")
            await reply(
                update,
                texts(
                    "Send the address of an RSS, Atom or JSON feed (it starts with https://), "
                    "or /cancel."
                ),
            )
            return
        watching = action == "notify-on"
        await self.news.set_watching(user_id, watching)
        await close_buttons(query)
        if watching:
            await reply(
                update,
                texts("We will tell you when new items arrive in /news, at most once an hour."),
            )
        else:
            await reply(update, texts("No more notices about new items."))

    async def _feed_action(
        self,
        update: Update,
        query: CallbackQuery,
        texts: Texts,
        user_id: int,
        action: str,
        feed_id: int,
    ) -> None:
        feed = await self.news.feed(feed_id)
        if feed is None:
            await answer(query, texts.plain("That feed is no longer followed."))
            return
        await answer(query)
        name = _feed_name(feed)
        if action == "keywords":
            await self.runtime.flows.enter(user_id, FLOW, "keywords", {"feed": feed_id})
            await reply(
                update,
                texts(
                    "Send the keywords for {feed}, separated by commas, for example: "
                    "북한군 포로, North Korean POW, Kursk. Only items with one of them will "
                    "count. Send /skip to count every item.",
                    feed=name,
                ),
            )
            return
        await close_buttons(query)
        if action == "remove":
            await self.news.remove(feed_id, user_id)
            await reply(update, texts("Removed {feed}. Send /feeds to see the list.", feed=name))
        else:
            await self.news.set_paused(feed_id, action == "pause")
            if action == "pause":
                await reply(update, texts("Paused {feed}.", feed=name))
            else:
                await reply(update, texts("Resumed {feed}. It is checked again soon.", feed=name))

    async def _item_action(
        self,
        update: Update,
        context: Context,
        query: CallbackQuery,
        texts: Texts,
        action: str,
        item_id: int,
    ) -> None:
        if action == "draft":
            await self._start_draft(update, query, texts, item_id)
            return
        state = {"dismiss": "dismissed", "later": "later"}[action]
        if await self.news.decide(item_id, state) is None:
            await self._already_dealt_with(query, texts)
            return
        await answer(query)
        await close_buttons(query)
        await self.show_next(update, context)

    async def _already_dealt_with(self, query: CallbackQuery, texts: Texts) -> None:
        await answer(query, texts.plain("Someone has already dealt with this item."))
        await close_buttons(query)

    async def _start_draft(
        self, update: Update, query: CallbackQuery, texts: Texts, item_id: int
    ) -> None:
        """Open /post with the item's title and link ready to copy into the texts.

        The /post draft carries the item: while it is open the item is out of /news; once it
        ends unpublished (/cancel, expiry, another command) the item is back.
        """
        user_id = query.from_user.id
        waiting = await self.news.item(item_id)
        if waiting is None or waiting.state not in {"new", "later"}:
            await self._already_dealt_with(query, texts)
            return
        # The draft holds the item before the item leaves /news, so that a /news read in
        # between never takes it for a draft that has already ended.
        await self.composer.enter(user_id, {DRAFT_ITEM_KEY: item_id})
        item = await self.news.decide(item_id, "drafted")
        if item is None:  # another coordinator was a moment faster
            await self.runtime.flows.leave(user_id)
            await self._already_dealt_with(query, texts)
            return
        await answer(query)
        await close_buttons(query)
        suggestion = item.title + (f"\n{item.link}" if item.link else "")
        await reply(
            update,
            texts(
                "A draft update from this item. Tap the text below to copy it, then write or "
                "edit the Korean and the English text.\n\n<code>{suggestion}</code>",
                suggestion=suggestion,
            ),
        )
        await reply(update, self.composer.first_question(texts))

    async def on_typed(self, update: Update, context: Context, flow: Flow) -> None:
        """A feed address or keywords typed after pressing Add or Keywords."""
        user, message = update.effective_user, update.effective_message
        if user is None or message is None:
            return
        texts = context.texts
        # The role may be gone since: refused, audited and the flow left, as in every flow.
        if not await still_may(update, context, Permission.PUBLISH_POSTS):
            return
        text = (message.text or "").strip()
        if flow.step == "url":
            await self._take_url(update, texts, user.id, text)
        else:
            feed_id = flow.draft.get("feed")
            await self._take_keywords(update, texts, user.id, feed_id, text)

    async def _take_url(self, update: Update, texts: Texts, user_id: int, text: str) -> None:
        try:
            url = await self.news.check_url(text)
        except FetchError:
            await reply(
                update,
                texts(
                    "We cannot follow that address: it must be a public https:// or http:// "
                    "address. Please send another one, or /cancel."
                ),
            )
            return
        await self.runtime.flows.leave(user_id)
        added = await self.news.add(url, user_id)
        if added is None:
            await reply(update, texts("That feed is already on the list. Send /feeds to see it."))
            return
        await reply(
            update,
            texts(
                "Added {domain}. It is checked within a few minutes; send /feeds to see how it "
                "goes.",
                domain=display_domain(url),
            ),
        )

    async def _take_keywords(
        self, update: Update, texts: Texts, user_id: int, feed_id: object, text: str
    ) -> None:
        await self.runtime.flows.leave(user_id)
        raw = "" if text.lower().startswith("/skip") else text
        words = await self.news.set_keywords(feed_id, raw) if isinstance(feed_id, int) else None
        if words is None:
            await reply(update, texts("That feed is no longer followed."))
        elif words:
            await reply(update, texts("Keywords saved: {keywords}", keywords=", ".join(words)))
        else:
            await reply(update, texts("No keywords: every item of this feed counts."))


def schedule_news_watch(application: Application, runtime: Runtime) -> None:  # type: ignore[type-arg]
    """Every minute, check the feeds that are due (each has its own jittered interval)."""

    async def poll(context: Context) -> None:
        """One polling cycle; a failing feed is recorded on its row and never stops it."""
        try:
            await runtime.news.poll_due()
        except Exception as error:  # the database is busy or closing: try again next minute
            log.error("event=news_cycle_failed error=%s", type(error).__name__)

    assert application.job_queue is not None
    application.job_queue.run_repeating(
        poll, interval=timedelta(minutes=1), first=timedelta(seconds=30), name="news"
    )


def _feed_name(feed: StoredFeed) -> str:
    return feed.title or display_domain(feed.url)


def _when(texts: Texts, epoch: int | None, zone: str) -> str:
    return texts.datetime_in(from_epoch(epoch), zone) if epoch else texts.plain("never")


def _feed_text(texts: Texts, feed: StoredFeed, zone: str, now: float) -> Html:
    lines = [
        texts(
            "<b>{number}. {feed}</b> ({domain})",
            number=feed.id,
            feed=_feed_name(feed),
            domain=display_domain(feed.url),
        ),
        texts("Last checked: {when}", when=_when(texts, feed.last_checked_at, zone)),
        texts("Last new item: {when}", when=_when(texts, feed.last_new_at, zone)),
    ]
    if feed.keywords:
        lines.append(texts("Keywords: {keywords}", keywords=", ".join(feed.keywords)))
    if feed.paused:
        lines.append(texts("Paused."))
    elif feed.last_error:
        next_try = _when(texts, feed.next_check_at, zone)
        lines.append(
            texts.ngettext(
                "Failing ({error}), {count} time in a row; next try: {when}",
                "Failing ({error}), {count} times in a row; next try: {when}",
                feed.failures,
                error=feed.last_error,
                when=next_try,
            )
        )
    return Html("\n".join(lines))


def _listing_pages(
    entries: list[tuple[StoredFeed, Html]],
) -> list[list[tuple[StoredFeed, Html]]]:
    """The /feeds listing cut into messages Telegram takes: text within its 4096 characters
    (keywords and titles make a feed long), three buttons a feed within its 100 buttons."""
    pages: list[list[tuple[StoredFeed, Html]]] = [[]]
    size = 0
    for entry in entries:
        if pages[-1] and (
            len(pages[-1]) == FEEDS_PER_MESSAGE or size + len(entry[1]) > LISTING_MAX_CHARS
        ):
            pages.append([])
            size = 0
        pages[-1].append(entry)
        size += len(entry[1]) + 2
    return pages


def _feeds_keyboard(
    texts: Texts, feeds: list[StoredFeed], watching: bool, footer: bool = True
) -> InlineKeyboardMarkup:
    rows: list[list[Button]] = []
    for feed in feeds:
        toggle = (
            _button(texts.plain("Resume {number}").format(number=feed.id), "resume", feed.id)
            if feed.paused
            else _button(texts.plain("Pause {number}").format(number=feed.id), "pause", feed.id)
        )
        rows.append(
            [
                toggle,
                _button(
                    texts.plain("Keywords {number}").format(number=feed.id), "keywords", feed.id
                ),
                _button(texts.plain("Remove {number}").format(number=feed.id), "remove", feed.id),
            ]
        )
    if footer:
        rows.append([_button(texts.plain("Add a feed"), "add")])
        rows.append(
            [_button(texts.plain("Stop notices"), "notify-off")]
            if watching
            else [_button(texts.plain("Notify me of new items"), "notify-on")]
        )
    return keyboard(rows)


def _item_text(texts: Texts, item: StoredItem, zone: str, waiting: int) -> Html:
    lines = [
        texts.ngettext("{count} item waiting.", "{count} items waiting.", waiting),
        texts("<b>{title}</b>", title=item.title),
        texts("Source: {source}", source=item.source),
    ]
    if item.published_at:
        lines.append(texts("Published: {when}", when=_when(texts, item.published_at, zone)))
    if item.link:
        # The link as text, led by the host it really goes to: no hidden target behind a title.
        lines.append(
            texts(
                "Link to {domain}: <code>{link}</code>",
                domain=display_domain(item.link),
                link=item.link,
            )
        )
    if item.summary:
        lines.append(escape(item.summary))
    return Html("\n".join(lines))


def _item_keyboard(texts: Texts, item: StoredItem) -> InlineKeyboardMarkup:
    return keyboard(
        [
            [_button(texts.plain("Draft update"), "draft", item.id)],
            [
                _button(texts.plain("Dismiss"), "dismiss", item.id),
                _button(texts.plain("Later"), "later", item.id),
            ],
        ]
    )
