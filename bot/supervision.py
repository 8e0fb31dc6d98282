"""Keeps every background loop and job alive, and tells `python -m bot health` how they fare.

One mechanism for all of them: a step that raises is logged once with the *kind* of failure
(never its message: SQLite and httpx messages can quote data), retried after an injectable
backoff, and never ends its loop. Each task's state and the sender's last progress are written
every few seconds to a small JSON file beside the database (`<database>.heartbeat.json`).

Why a file and not a table: the failures this watches for are the database refusing writes
(another process holding the lock, a full disk), exactly when a heartbeat row could not be
written; and a row written every few seconds would keep the write lock busy and the WAL
growing for nothing. The file is replaced atomically, so `health` never reads half of one.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import sqlite3
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from telegram.error import NetworkError, TelegramError
from telegram.ext import JobQueue

from bot.storage.problems import DatabaseUnusable

log = logging.getLogger(__name__)

Backoff = Callable[[int], float]
Step = Callable[[], Awaitable[None]]
T = TypeVar("T")
# What start-up waits out rather than fails on: another program holds the database (a backup,
# an sqlite3 shell), or its disk is full. Both pass without the bot; exiting would only make
# the service manager restart it into the same wall.
WAITED_OUT_AT_START = frozenset({"database_locked", "database_full", "disk_full"})
HEARTBEAT_INTERVAL = 5.0  # seconds between heartbeat writes
# Failures that come and go: the loop retries them quietly after the first log line.
TRANSIENT_KINDS = frozenset(
    {
        "database_locked",
        "database_full",
        "database_error",
        "disk_full",
        "disk_error",
        "network",
        "telegram",
    }
)


def default_backoff(failures: int) -> float:
    """0.5, 1, 2, 4 ... seconds, at most 10: quick after a blip, gentle during an outage, and
    sending resumes within seconds of the database accepting writes again."""
    return float(min(10.0, 0.5 * 2 ** min(failures - 1, 10)))


def failure_kind(error: BaseException) -> str:
    """What went wrong, in one word safe to log."""
    if isinstance(error, DatabaseUnusable) and error.__cause__ is not None:
        return failure_kind(error.__cause__)  # the sentence for operators; the kind from SQLite
    if isinstance(error, sqlite3.OperationalError):
        text = str(error).lower()
        if "locked" in text or "busy" in text:
            return "database_locked"
        if "full" in text:
            return "database_full"
        if "disk i/o" in text:
            return "disk_error"
        return "database_error"
    if isinstance(error, sqlite3.Error):
        return "database_error"
    if isinstance(error, NetworkError):
        return "network"
    if isinstance(error, TelegramError):
        return "telegram"
    if isinstance(error, OSError):
        return "disk_full" if error.errno == errno.ENOSPC else "disk_error"
    return "crash"  # a bug: still retried, but health reports it at once


def heartbeat_path(database: Path) -> Path:
    return database.with_name(f"{database.name}.heartbeat.json")


@dataclass
class TaskState:
    """One supervised task as health sees it."""

    state: str = "running"  # running, failing, dead
    kind: str | None = None  # the failure kind while failing
    failures: int = 0  # in a row
    failing_since: float | None = None


class Supervisor:
    """Runs loops and job steps so that no failure ends them; records their state."""

    def __init__(
        self, database: Path, *, backoff: Backoff = default_backoff, heartbeat: bool = True
    ) -> None:
        self._path = heartbeat_path(database) if heartbeat else None
        self.backoff = backoff
        self.tasks: dict[str, TaskState] = {}
        self._progress: dict[str, float] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._stopping = False

    async def attempt(self, name: str, step: Step) -> bool:
        """Run one step; on failure log it (once per streak) and return False."""
        task = self.tasks.setdefault(name, TaskState())
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # that is the point: nothing ends the loop
            self._failed(name, task, error)
            return False
        if task.failures:
            self._recovered(name, task)
        return True

    async def retry(self, name: str, step: Step, *, attempts: int | None = None) -> bool:
        """Run a step until it succeeds (or `attempts` ran out), backing off in between."""
        tries = 0
        while not await self.attempt(name, step):
            tries += 1
            if attempts is not None and tries >= attempts:
                return False
            await asyncio.sleep(self.backoff(self.tasks[name].failures))
        return True

    async def wait_out(
        self, name: str, step: Callable[[], Awaitable[T]], *, kinds: frozenset[str]
    ) -> T:
        """Run `step` until it succeeds, backing off while it fails with one of `kinds`.

        Any other failure is raised at once. The wait is one log line and shows in the
        heartbeat (health names it once it lasts a minute), like a failing loop's.
        """
        task = self.tasks.setdefault(name, TaskState())
        while True:
            try:
                result = await step()
            except Exception as error:
                if failure_kind(error) not in kinds:
                    raise
                self._failed(name, task, error)
                await asyncio.sleep(self.backoff(task.failures))
                continue
            if task.failures:
                self._recovered(name, task)
            return result

    def spawn(self, name: str, step: Step, *, until: Callable[[], bool]) -> asyncio.Task[None]:
        """Run `step` again and again until `until()` holds; a failure only delays it."""

        async def keep() -> None:
            while not until():
                if not await self.attempt(name, step):
                    await asyncio.sleep(self.backoff(self.tasks[name].failures))

        task = asyncio.create_task(keep(), name=name)
        self.tasks[name] = TaskState()
        self._running.add(task)
        task.add_done_callback(lambda done: self._ended(name, done))
        return task

    def progress(self, name: str) -> None:
        """The loop `name` did useful work (or had none to do) just now."""
        self._progress[name] = time.time()

    async def start(self) -> None:
        """Begin writing the heartbeat file."""
        self._stopping = False
        if self._path is not None:
            self.spawn("heartbeat", self._beat, until=lambda: self._stopping)

    async def stop(self) -> None:
        """Stop the heartbeat and remove its file: a stopped bot is not a dead one."""
        self._stopping = True
        for task in list(self._running):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._running, return_exceptions=True)
        if self._path is not None:
            with contextlib.suppress(OSError):
                self._path.unlink(missing_ok=True)

    def snapshot(self) -> dict[str, object]:
        return {
            "pid": os.getpid(),
            "written_at": time.time(),
            "interval": HEARTBEAT_INTERVAL,
            "tasks": {name: asdict(task) for name, task in self.tasks.items()},
            "progress": dict(self._progress),
        }

    def write_heartbeat(self) -> None:
        """Replace the heartbeat file atomically (health may read it at any moment)."""
        if self._path is None:
            return
        partial = self._path.with_name(f".{self._path.name}.partial")
        partial.write_text(json.dumps(self.snapshot()), encoding="utf-8")
        os.replace(partial, self._path)

    async def _beat(self) -> None:
        await asyncio.to_thread(self.write_heartbeat)
        await asyncio.sleep(HEARTBEAT_INTERVAL)

    def _failed(self, name: str, task: TaskState, error: Exception) -> None:
        kind = failure_kind(error)
        task.failures += 1
        if task.state != "failing" or task.kind != kind:
            # Once per streak (and again if the kind changes): an outage is one line, not
            # one a second. The exception's type and place, never its message.
            frames = traceback.extract_tb(error.__traceback__)
            where = (
                f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else "?"
            )
            level = logging.WARNING if kind in TRANSIENT_KINDS else logging.ERROR
            log.log(
                level,
                "event=task_failing task=%s kind=%s error=%s where=%s",
                name,
                kind,
                type(error).__name__,
                where,
            )
            task.failing_since = task.failing_since or time.time()
            task.state, task.kind = "failing", kind
            self._touch()

    def _recovered(self, name: str, task: TaskState) -> None:
        log.warning("event=task_recovered task=%s failures=%d", name, task.failures)
        task.state, task.kind, task.failures, task.failing_since = "running", None, 0, None
        self._touch()

    def _ended(self, name: str, done: asyncio.Task[None]) -> None:
        self._running.discard(done)
        error = None if done.cancelled() else done.exception()
        if error is not None:  # only a BaseException gets past attempt(): the loop is gone
            self.tasks[name].state = "dead"
            log.error("event=task_dead task=%s error=%s", name, type(error).__name__)
            self._touch()

    def _touch(self) -> None:
        """Tell health about a change of state now rather than at the next beat."""
        with contextlib.suppress(OSError):
            self.write_heartbeat()


def run_repeating(
    job_queue: JobQueue[Any],
    supervisor: Supervisor,
    name: str,
    callback: Callable[[Any], Awaitable[None]],
    *,
    interval: float,
    first: float,
) -> None:
    """A job-queue job under supervision: a failed run is retried after the backoff (when
    that comes before the next regular run), and a failure never reaches the error handler."""
    retry_name = f"{name}-retry"

    async def run(context: Any) -> None:
        if await supervisor.attempt(name, lambda: callback(context)):
            return
        delay = supervisor.backoff(supervisor.tasks[name].failures)
        if delay < interval and not job_queue.get_jobs_by_name(retry_name):
            job_queue.run_once(run, delay, name=retry_name)

    job_queue.run_repeating(run, interval=interval, first=first, name=name)
