"""Start the real Application against the sandbox Bot API, with a real SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from telegram import Update
from telegram.ext import Application

from bot.app import RUNTIME_KEY, build_application
from bot.clock import Clock
from bot.config import Config, load_config
from bot.delivery.budget import Timer
from bot.delivery.sender import SEND_READ_TIMEOUT
from bot.runtime import Runtime
from bot.supervision import Backoff, default_backoff
from fakebotapi.groups import FakeGroup
from fakebotapi.server import SANDBOX_TOKEN, FakeBotApi
from fakebotapi.users import FakeUser
from tests.support.timer import SkippingTimer

ADMIN_ID = 1000
COORDINATOR_ID = 2000
COURIER_ID = 3000
TEST_PER_CHAT_INTERVAL = 0.02  # seconds; the bot's own is 1.0 (bot/delivery/sender.py)
TEST_FLUSH_INTERVAL = 0.01  # seconds; the bot's own is 0.2


class FrozenClock:
    """A clock that only moves when a test moves it."""

    def __init__(self, moment: datetime | None = None) -> None:
        self.moment = moment or datetime(2026, 11, 22, 0, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)

    def set(self, moment: datetime) -> None:
        self.moment = moment


@dataclass
class RunningBot:
    """The bot as a test sees it: its Application, runtime and configuration."""

    application: Application  # type: ignore[type-arg]
    config: Config

    @property
    def runtime(self) -> Runtime:
        runtime = self.application.bot_data[RUNTIME_KEY]
        assert isinstance(runtime, Runtime)
        return runtime

    async def run_job(self, name: str) -> None:
        """Run a repeating job now, as if its interval had just passed: no test waits for it."""
        job_queue = self.application.job_queue
        assert job_queue is not None
        (job,) = job_queue.get_jobs_by_name(name)
        await job.run(self.application)

    async def stop(self) -> None:
        """Stop the way run_polling does on SIGTERM: updater, application, then hooks."""
        application = self.application
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
            if application.post_stop is not None:
                await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


def sandbox_config(server: FakeBotApi, database: Path, **settings: str) -> Config:
    """A configuration pointing at the sandbox; `settings` are environment variables."""
    environ: Mapping[str, str] = {
        "BOT_TOKEN": SANDBOX_TOKEN,
        "BOT_API_URL": server.base_url,
        "BOT_API_FILE_URL": server.base_file_url,
        "DATABASE_PATH": str(database),
        "ADMIN_IDS": str(ADMIN_ID),
        **settings,
    }
    return load_config(environ, dotenv_path=database.parent / "no.env")


async def start_bot(
    server: FakeBotApi,
    database: Path,
    clock: Clock | None = None,
    *,
    backoff: Backoff | None = None,
    busy_timeout_ms: int | None = None,
    send_read_timeout: float = SEND_READ_TIMEOUT,
    send_timer: Timer | None = None,
    **settings: str,
) -> RunningBot:
    """Initialize and start the bot exactly as run_polling would, in the running loop.

    `backoff` and `busy_timeout_ms` replace the real waits of failing background tasks.
    """
    config = sandbox_config(server, database, **settings)
    application = build_application(
        config,
        clock=clock,
        backoff=backoff or default_backoff,
        busy_timeout_ms=busy_timeout_ms,
        send_read_timeout=send_read_timeout,
        send_timer=send_timer or SkippingTimer(),
    )
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(
        poll_interval=0.0, timeout=1, allowed_updates=Update.ALL_TYPES
    )
    running = RunningBot(application, config)
    # Telegram's one message a second to a chat is the sandbox's to enforce when a test asks
    # (set_rate_limit); every other test would only wait for it, a second per extra message.
    running.runtime.sender.per_chat_interval = TEST_PER_CHAT_INTERVAL
    running.runtime.sender.flush_interval = TEST_FLUSH_INTERVAL
    return running


async def eventually(
    condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition"
) -> None:
    """For what the bot does after its last request, e.g. writing outcomes to the database.

    The sandbox's ``wait_until`` re-checks only when a request arrives, and after the last
    one that is the next long poll, a second or more away: poll instead, every 10 ms.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        await asyncio.sleep(0.01)


async def settled(bot: RunningBot, server: FakeBotApi) -> None:
    """Wait until the bot has handled every update sent so far and sent all its outbox holds.

    The bot has taken every update into its queue once the sandbox forgets them (the next poll
    confirms them), has handled each once the queue is joined (PTB marks an update done when
    its handlers finished), and has sent what they queued once the outbox is drained.
    """
    await server.wait_until(lambda: not server.state.updates, what="every update taken")
    await asyncio.wait_for(bot.application.update_queue.join(), timeout=10)
    assert await bot.runtime.sender.drained(timeout=10)


async def expect_nothing_more(bot: RunningBot, *chats: FakeUser | FakeGroup) -> None:
    """Assert the bot writes nothing more in `chats` about anything that happened so far.

    No settling time: it waits until the bot has `settled`, and whatever the bot would have
    written about it is written by then.
    """
    assert chats, "whose chat should stay quiet?"
    starts = [len(chat.chat.events) for chat in chats]
    await settled(bot, chats[0].server)
    for chat, start in zip(chats, starts, strict=True):
        new = chat.chat.events[start:]
        texts = [chat.chat.messages[message_id].text[:80] for _, message_id in new]
        assert not new, f"the bot wrote in chat {chat.id}: {texts}"
