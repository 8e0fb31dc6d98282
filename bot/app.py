"""The composition root: builds the Application and registers every feature's handlers."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import Conflict, Forbidden, TelegramError
from telegram.ext import Application, ApplicationBuilder, Defaults

from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.delivery.budget import BudgetRateLimiter, Timer
from bot.delivery.sender import SEND_READ_TIMEOUT
from bot.handlers.admin import Admin
from bot.handlers.alerts import Alerts
from bot.handlers.announcements import Announcements
from bot.handlers.answers import Answers
from bot.handlers.approvals import Approvals
from bot.handlers.bundles import Bundles
from bot.handlers.context import CONTEXT_TYPES, Context, Feature
from bot.handlers.context import RUNTIME_KEY as RUNTIME_KEY  # harness, demo, benchmarks
from bot.handlers.digests import Digests
from bot.handlers.fallbacks import Fallbacks
from bot.handlers.flows import DeepLinks, FlowRouter
from bot.handlers.gatekeeper import Gatekeeper, PerMemberOrder
from bot.handlers.help import Help
from bot.handlers.letters import Letters
from bot.handlers.menus import set_default_menus
from bot.handlers.news import News, schedule_news_watch
from bot.handlers.posts import Posts
from bot.handlers.privacy import Privacy
from bot.handlers.replies import cosmetic
from bot.handlers.review import Review
from bot.handlers.settings import Settings
from bot.handlers.subscriptions import Subscriptions
from bot.handlers.translations import Translations
from bot.i18n import Translator
from bot.intake import ReadableUpdatesRequest
from bot.runtime import Runtime, build_runtime
from bot.services.fonts import installed_coverage
from bot.supervision import WAITED_OUT_AT_START, Backoff, default_backoff, run_repeating
from bot.webhook import GuardedUpdater

log = logging.getLogger(__name__)

# Set in bot_data when Telegram answered 409 Conflict: another process polls with our token.
CONFLICT_KEY = "stopped_by_conflict"
CONFLICT_SENTENCE = (
    "Telegram says another bot is using this BOT_TOKEN at the same time (409 Conflict): "
    "stop the other one, since only one bot may run per token; this one stops."
)
# Admins hear of a privileged action within about this long (an indexed read when idle).
ALERT_INTERVAL = timedelta(seconds=1)
START_UP = "start-up"  # the supervised name of what post_init does before updates are read
# A scheduled announcement goes out within this long after its minute begins.
SCHEDULE_INTERVAL = timedelta(seconds=15)


def build_application(
    config: Config,
    *,
    clock: Clock | None = None,
    translator: Translator | None = None,
    backoff: Backoff = default_backoff,
    busy_timeout_ms: int | None = None,
    send_read_timeout: float = SEND_READ_TIMEOUT,
    send_timer: Timer | None = None,
) -> Application:  # type: ignore[type-arg]
    """The bot, ready for run_polling/run_webhook (or initialize/start in tests).

    `backoff`, `busy_timeout_ms`, `send_read_timeout` and `send_timer` are for tests: how
    long a failing background task waits before its next try, how long SQLite waits for
    another connection's lock, how long an outbox send waits for Telegram's answer, and the
    clock of the send budget's window and pauses.
    """
    runtime = build_runtime(
        config,
        clock or SystemClock(),
        translator or Translator(default_language=config.default_language),
        backoff=backoff,
        busy_timeout_ms=busy_timeout_ms,
        send_read_timeout=send_read_timeout,
        send_timer=send_timer,
    )

    async def post_init(application: Application) -> None:  # type: ignore[type-arg]
        try:
            # A lock another program holds, or a full disk, is waited out (one log line, and
            # health names it): exiting would only have the service manager restart us into it.
            await runtime.supervisor.wait_out(START_UP, start_up, kinds=WAITED_OUT_AT_START)
        except BaseException:
            await runtime.supervisor.stop()  # no heartbeat left behind by a start that failed
            raise
        await set_default_menus(application.bot, runtime.translator)
        # Every letter is checked against the fonts' coverage; reading their cmaps takes about
        # a second, done here in a thread rather than in the first writer's update.
        await asyncio.to_thread(installed_coverage)
        await runtime.supervisor.start()
        await runtime.sender.start()

    async def start_up() -> None:
        """Open and migrate the database, then what is due since the bot was last up."""
        if not runtime.db.is_open:  # a later step waited: the database is open already
            applied = await runtime.db.open()
            log.info("event=database_open migrations_applied=%d", len(applied))
        # Announcements due while the bot was down: sent if less than an hour late, else
        # their authors are asked (see ScheduleService).
        await runtime.schedules.run_due()
        # Digest members from before digests existed get their first time.
        await runtime.digests.schedule_unscheduled()
        await runtime.sender.recover()

    async def post_stop(application: Application) -> None:  # type: ignore[type-arg]
        # Updates have stopped arriving: let the sender finish or put back what is in flight.
        await runtime.sender.stop()
        await runtime.supervisor.stop()

    async def post_shutdown(application: Application) -> None:  # type: ignore[type-arg]
        await runtime.db.close()

    application = (
        ApplicationBuilder()
        .application_class(StoppingApplication)
        .token(config.bot_token)
        .base_url(config.bot_api_url)
        .base_file_url(config.bot_api_file_url)
        .context_types(CONTEXT_TYPES)  # context.member and context.texts, read once per update
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                # No previews: a preview makes Telegram fetch a URL that a member never chose.
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .get_updates_request(ReadableUpdatesRequest())  # an unreadable update cannot jam polling
        # Replies, edits and documents draw on the outbox's budget, first in line.
        .rate_limiter(BudgetRateLimiter(runtime.budget, max_retries=2))
        .concurrent_updates(PerMemberOrder(max_concurrent_updates=64))
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
        .build()
    )
    # Webhook mode checks the secret before it reads a body, and caps bodies (bot/webhook.py).
    application.updater = GuardedUpdater(application.bot, application.update_queue)
    application.bot_data[RUNTIME_KEY] = runtime
    register_features(application, runtime)
    return application


class StoppingApplication(Application):  # type: ignore[type-arg]
    """PTB's Application, telling the rate limiter first when it stops (see `stopping`)."""

    async def stop(self) -> None:
        limiter = self.bot.rate_limiter
        if isinstance(limiter, BudgetRateLimiter):
            limiter.stopping()
        await super().stop()


def register_features(application: Application, runtime: Runtime) -> None:  # type: ignore[type-arg]
    """Every feature, in the order a member meets them; the catch-alls come last."""
    router, deep_links = FlowRouter(), DeepLinks()
    # /start /language /subscribe /unsubscribe, and typing at the consent step
    subscriptions = Subscriptions(runtime, deep_links, router)
    settings = Settings(runtime, router)  # /settings, and typing a time zone
    announcements = Announcements(runtime, router)  # /announce /stats, progress messages
    fallbacks = Fallbacks(runtime, router)  # /cancel, blocking the bot, the catch-alls
    letters = Letters(runtime, router)  # /write /letters, and the writing steps
    posts = Posts(runtime, router)  # /post /latest
    features: list[Feature] = [
        subscriptions,
        settings,
        posts,
        News(runtime, router, posts.composer),  # /feeds /news; "Draft update" opens /post
        announcements,
        Approvals(runtime, announcements),  # the second coordinator's buttons
        letters,
        Review(runtime, router),  # /review, and typing a reason
        Translations(runtime, router),  # /translate, and typing a Korean translation
        Bundles(runtime, router),  # /bundle /bundles, and typing a hand-over day
        Answers(runtime, router),  # /answer: the soldiers' answer reaches the writers
        Privacy(runtime),  # /privacy /mydata /forget
        Admin(runtime),  # /grant /revoke /roles /audit /block /unblock
        Alerts(runtime),  # /alerts: which privileged actions admins are told of
        Help(runtime),  # /help /whoami
        fallbacks,
    ]
    application.add_handlers(Gatekeeper(runtime).handlers(), group=-1)  # floods, blocks
    for feature in features:
        application.add_handlers(feature.handlers())
    application.add_handlers(fallbacks.fallbacks())  # free text, unknown commands, photos, ...
    deep_links.register("subscribe", subscriptions.subscribe)
    deep_links.register("settings", settings.open)
    deep_links.register("write", letters.start_writing)
    announcements.schedule_progress(application)
    Digests(runtime).schedule(application)  # each member's summary, ticking every minute
    schedule_news_watch(application, runtime)  # each feed at its own jittered interval
    assert application.job_queue is not None
    run_repeating(
        application.job_queue,
        runtime.supervisor,
        "retention",
        _purge(runtime),
        interval=timedelta(days=1).total_seconds(),
        first=timedelta(minutes=5).total_seconds(),
    )
    run_repeating(
        application.job_queue, runtime.supervisor, "tidy", _tidy(runtime), interval=30, first=30
    )
    run_repeating(
        application.job_queue,
        runtime.supervisor,
        "alerts",
        _alert_admins(runtime),
        interval=ALERT_INTERVAL.total_seconds(),
        first=ALERT_INTERVAL.total_seconds(),
    )
    run_repeating(
        application.job_queue,
        runtime.supervisor,
        "scheduled-announcements",
        _send_scheduled(runtime),
        interval=SCHEDULE_INTERVAL.total_seconds(),
        first=SCHEDULE_INTERVAL.total_seconds(),
    )
    application.add_error_handler(_make_error_handler(runtime))


def _send_scheduled(runtime: Runtime) -> Callable[[Context], Coroutine[Any, Any, None]]:
    async def send_scheduled(context: Context) -> None:
        """A few times a minute: send the scheduled announcements that are due (once each)."""
        await runtime.schedules.run_due()

    return send_scheduled


def _alert_admins(runtime: Runtime) -> Callable[[Context], Coroutine[Any, Any, None]]:
    async def alert_admins(context: Context) -> None:
        """Every second: queue the alerts of new privileged actions to the admins."""
        await runtime.alerts.flush()

    return alert_admins


def _purge(runtime: Runtime) -> Callable[[Context], Coroutine[Any, Any, None]]:
    async def purge(context: Context) -> None:
        """Daily: delete what is past its retention period (see /privacy)."""
        await runtime.retention.purge()

    return purge


def _tidy(runtime: Runtime) -> Callable[[Context], Coroutine[Any, Any, None]]:
    async def tidy(context: Context) -> None:
        """Every half minute: finish erasures a reader held up; expire abandoned drafts."""
        await runtime.privacy.finish_erasures()
        await runtime.flows.expire_drafts()

    return tidy


async def _stop_polling_on_conflict(context: Context) -> None:
    """Another bot polls with our token: fighting it for every update helps no one; stop."""
    if context.bot_data.get(CONFLICT_KEY):
        return
    context.bot_data[CONFLICT_KEY] = True
    log.critical("event=polling_conflict status=409")
    # Only run_polling hands polling errors to the error handlers, so this ends run_polling,
    # which stops everything in order (`python -m bot run` then exits with the sentence).
    context.application.stop_running()


def _make_error_handler(
    runtime: Runtime,
) -> Callable[[object, Context], Coroutine[Any, Any, None]]:
    async def on_error(update: object, context: Context) -> None:
        """Log where it failed (never the message: it may quote user text) and say sorry."""
        error = context.error
        if isinstance(error, Conflict):
            await _stop_polling_on_conflict(context)
            return
        user = update.effective_user if isinstance(update, Update) else None
        chat = update.effective_chat if isinstance(update, Update) else None
        private = chat is not None and chat.type == ChatType.PRIVATE
        if isinstance(error, Forbidden):
            # The member blocked the bot while we were answering: they left, nothing broke.
            # (Only their private chat says so: a group that removed the bot is not them.)
            if user is not None and private:
                await runtime.members.bot_blocked(user.id, blocked=True)
            log.info("event=reply_forbidden")
            return
        frames = traceback.extract_tb(error.__traceback__) if error is not None else []
        where = f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else "?"
        log.error("event=handler_error error=%s where=%s", type(error).__name__, where)
        if not isinstance(update, Update) or update.effective_chat is None or not private:
            return
        try:
            if update.callback_query is not None:
                # Stop the button's spinner (the handler failed before it could); a press it
                # had answered already is refused by Telegram, harmlessly.
                await cosmetic(update.callback_query.answer())
            await context.load(update)  # a new context: the update's own was not kept
            texts = context.texts
            await update.effective_chat.send_message(
                texts("Sorry, something went wrong on our side. Please try again in a moment.")
            )
        except (TelegramError, RuntimeError, OSError):
            log.warning("event=error_reply_failed")

    return on_error
