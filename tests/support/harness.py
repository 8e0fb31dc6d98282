"""Start the real Application against the sandbox Bot API, with a real SQLite file."""

from __future__ import annotations

from collections.abc import Mapping
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
from bot.sandbox.server import SANDBOX_TOKEN, FakeBotApi
from bot.supervision import Backoff, default_backoff

ADMIN_ID = 1000
COORDINATOR_ID = 2000
COURIER_ID = 3000


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
        send_timer=send_timer,
    )
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(
        poll_interval=0.0, timeout=1, allowed_updates=Update.ALL_TYPES
    )
    return RunningBot(application, config)
