"""Digests: the job that queues each member's scheduled summary when it falls due."""

from __future__ import annotations

from telegram.ext import Application

from bot.handlers.context import Context, Handler
from bot.runtime import Runtime
from bot.supervision import run_repeating

TICK_INTERVAL = 60.0  # seconds; digests are due on the hour, so a minute late at most
FIRST_TICK = 5.0  # soon after start: a catch-up after downtime should not wait a minute


class Digests:
    """No commands of its own (members choose digests in /settings): one repeating job."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def handlers(self) -> list[Handler]:
        return []

    def schedule(self, application: Application) -> None:  # type: ignore[type-arg]
        """Tick every minute on the job queue; each tick is safe to repeat or to run twice."""
        assert application.job_queue is not None
        run_repeating(
            application.job_queue,
            self.runtime.supervisor,
            "digests",
            self.on_tick,
            interval=TICK_INTERVAL,
            first=FIRST_TICK,
        )

    async def on_tick(self, context: Context) -> None:
        """Queue every digest due now (the injected clock, so tests can move time)."""
        await self.runtime.digests.tick(self.runtime.clock.now())
