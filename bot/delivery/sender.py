"""The one sender task that drains the outbox: rate, per-chat spacing, retries, crash safety."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBUserWarning

from bot.delivery.budget import PER_CHAT_INTERVAL, Priority, SendBudget, Slot, retry_after_seconds
from bot.storage.outbox import OutboxItem, OutboxRepository, Outcome, Requeue
from bot.supervision import Supervisor

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # network errors and 5xx, then the row is recorded as failed
FLUSH_INTERVAL = 0.2  # seconds between batched write-backs of outcomes
# Requests under way at once: enough for 1000/s at Telegram's ~60 ms round trips; more only
# adds connection-pool contention (250 measured 20% slower than 64 in benchmarks/).
MAX_IN_FLIGHT = 64
# A send waits this long for Telegram's answer (PTB's default is 5 s). A send that times out
# after leaving may have been delivered and is not sent again, so the wait is long enough
# that only a real outage ends one: a slow answer is then a late answer, not a duplicate.
SEND_READ_TIMEOUT = 30.0
DRAIN, FLUSH = "outbox-drain", "outbox-flush"  # the supervised tasks' names (health shows them)
STOP_FLUSH_ATTEMPTS = 2  # at stop, a database that refuses writes is not waited for long
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# _deliver calls the raw API on purpose (see there); PTB suggests the typed method instead.
warnings.filterwarnings(
    "ignore", "Please use 'Bot.send", PTBUserWarning, __name__
)  # Telegram fetching URLs leaks interest


@dataclass
class SenderStats:
    """Counters since start, for logs, health and benchmarks."""

    sent: int = 0
    failed: int = 0
    blocked: int = 0
    retried: int = 0
    rate_limited: int = 0
    unknown: int = 0  # timed out after the request left: maybe delivered, not sent again
    last_sent_monotonic: float | None = None
    by_error: dict[str, int] = field(default_factory=dict)


class OutboxSender:
    """Claims due rows, sends them as the shared budget allows, and writes back how each ended.

    The budget (bot/delivery/budget.py) is the one the Application's bot uses for replies:
    rows take the slots that replies leave, and a 429 met by either pauses both.

    A row is 'sending' from claim until its outcome is written; after a crash those rows are
    sent again, so a message may arrive twice (at most `max_in_flight` plus one unflushed
    batch) but never zero times.
    """

    def __init__(
        self,
        outbox: OutboxRepository,
        bot: Bot,
        supervisor: Supervisor,
        budget: SendBudget,
        *,
        paid_broadcast: bool = False,
        max_in_flight: int | None = None,
        backoff: Callable[[int], float] | None = None,
    ) -> None:
        self._outbox = outbox
        self._bot = bot
        self._supervisor = supervisor
        # Seconds before retry n after a network error or 5xx, and between two messages to one
        # chat: tests that are not about them set shorter ones rather than wait real seconds.
        self.backoff = backoff or _backoff
        self.per_chat_interval = PER_CHAT_INTERVAL
        # Seconds an outcome may wait to be written with the ones that end after it.
        self.flush_interval = FLUSH_INTERVAL
        self._budget = budget
        self._paid = paid_broadcast
        rate = budget.rate
        self._claim_size = int(min(500, max(5, rate / 2)))
        self._slots = asyncio.Semaphore(max_in_flight or int(min(MAX_IN_FLIGHT, max(4, rate / 4))))
        self._wake = asyncio.Event()
        self._stopping = False
        self._outcomes: list[Outcome] = []
        self._requeues: list[Requeue] = []
        self._unwritten = asyncio.Event()  # outcomes or requeues wait for the write-back
        self._in_flight: set[asyncio.Task[None]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self.stats = SenderStats()

    async def recover(self) -> None:
        """Put back what a crash left in flight (before `start`; it writes to the database)."""
        recovered = await self._outbox.put_back_in_flight()
        if recovered:
            log.warning("event=outbox_recovered rows=%d", recovered)

    async def start(self) -> None:
        """Start draining."""
        await self._bot.initialize()
        self._stopping = False
        # Supervised: a locked or full database delays them; nothing ends them but stop().
        self._tasks = [
            self._supervisor.spawn(DRAIN, self._drain_once, until=lambda: self._stopping),
            self._supervisor.spawn(FLUSH, self._flush_later, until=lambda: False),
        ]

    def wake(self) -> None:
        """Something was enqueued: look at the queue now rather than at the next poll."""
        self._wake.set()

    async def stop(self, grace: float = 10.0) -> None:
        """Stop claiming, let in-flight sends finish (or put them back), write everything."""
        self._stopping = True
        self._wake.set()
        if self._tasks:
            # It may be backing off from a failure: do not wait out the backoff.
            _, waiting = await asyncio.wait(self._tasks[:1], timeout=grace)
            for task in waiting:
                task.cancel()
            await asyncio.wait(self._tasks[:1])
        if self._in_flight:
            _, late = await asyncio.wait(self._in_flight, timeout=grace)
            for task in late:
                task.cancel()  # its row goes back to the queue: maybe sent twice, never lost
            if late:
                await asyncio.wait(late)
        if len(self._tasks) > 1:
            self._tasks[1].cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tasks[1]
        # The database may still refuse writes: try briefly, never raise. Rows whose outcome
        # stays unwritten are 'sending' and go out again at the next start (maybe twice).
        if not await self._supervisor.retry(FLUSH, self._flush, attempts=STOP_FLUSH_ATTEMPTS):
            log.warning(
                "event=outbox_unsettled rows=%d", len(self._outcomes) + len(self._requeues)
            )
        self._tasks = []
        await self._bot.shutdown()

    async def drained(self, timeout: float) -> bool:
        """Wait until nothing is pending or in flight (tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            backlog = await self._outbox.backlog()
            if backlog.pending == 0 and not self._outcomes and not self._requeues:
                return True
            await asyncio.sleep(0.01)
        return False

    async def _drain_once(self) -> None:
        """One turn of the drain loop (the supervisor repeats it, and retries it on failure)."""
        if self._budget.paused_for() > 0:
            self._supervisor.progress(DRAIN)  # waiting as Telegram asked is not a stall
            await self._wait_out_pause()
            return
        items = await self._outbox.claim(self._claim_size, time.time())
        self._supervisor.progress(DRAIN)
        if not items:
            await self._idle()
            return
        await self._dispatch(items)

    async def _dispatch(self, items: list[OutboxItem]) -> None:
        index = 0
        try:
            for index, item in enumerate(items):
                if self._stopping or self._budget.paused_for() > 0:
                    self._requeue(items[index:], delay=0.0, refund=True)
                    return
                since_last = self._budget.since_last(item.chat_id)
                if since_last < self.per_chat_interval:
                    self._requeue([item], delay=self.per_chat_interval - since_last, refund=True)
                    continue
                await self._slots.acquire()
                try:
                    slot = await self._budget.acquire(Priority.OUTBOX, item.chat_id)
                except BaseException:
                    self._slots.release()
                    raise
                # No await between the slot and the task: the task always answers the slot.
                task = asyncio.create_task(self._send(item, slot))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
        except asyncio.CancelledError:
            # Stopped while waiting for a slot (a long pause): these rows were never sent.
            self._requeue(items[index:], delay=0.0, refund=True)
            raise

    async def _send(self, item: OutboxItem, slot: Slot) -> None:
        try:
            await self._deliver(item)
        except RetryAfter as error:
            seconds = retry_after_seconds(error)
            self.stats.rate_limited += 1
            self._budget.pause(seconds)  # replies too: Telegram counts them all
            self._requeue([item], delay=seconds, refund=True)
        except ChatMigrated as error:
            with contextlib.suppress(sqlite3.Error):  # not written: migrated again next time
                await self._outbox.move_chat(item.chat_id, error.new_chat_id)
            self._requeue([item], delay=0.0, refund=True)
        except Forbidden:
            self._finish(item, "blocked", "forbidden")
        except BadRequest as error:
            self._finish(item, "failed", _bad_request_reason(error))
        except TimedOut as error:
            if _never_left(error):
                self.stats.retried += 1
                self._requeue([item], delay=_backoff(item.attempts), refund=True)
            else:
                # Written but not answered: Telegram may have delivered it. Sending it again
                # would risk a second copy, so it is recorded as unknown and not retried.
                self.stats.unknown += 1
                self._finish(item, "unknown", "timed_out")
        except NetworkError as error:  # 5xx answers, refused connections
            if item.attempts >= MAX_ATTEMPTS:
                self._finish(item, "failed", f"network:{type(error).__name__}")
            else:
                self.stats.retried += 1
                self._requeue([item], delay=self.backoff(item.attempts), refund=False)
        except TelegramError as error:
            self._finish(item, "failed", type(error).__name__)
        except asyncio.CancelledError:
            # Stopping and Telegram did not answer in time: send it again after the restart.
            self._requeue([item], delay=0.0, refund=False)
            raise
        else:
            self._finish(item, "sent", None)
        finally:
            slot.answered()
            self._slots.release()

    async def _deliver(self, item: OutboxItem) -> None:
        """One Bot API call. The raw request skips building a Message object from the answer,
        which nothing here reads: that is a third of the CPU time of a send."""
        payload = item.payload
        request: dict[str, object] = {"chat_id": item.chat_id, "parse_mode": ParseMode.HTML}
        if payload.buttons:
            request["reply_markup"] = InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(label, callback_data=data) for label, data in row]
                    for row in payload.buttons
                ]
            )
        if self._paid:
            request["allow_paid_broadcast"] = True
        if payload.photo_file_id:
            request.update(photo=payload.photo_file_id, caption=payload.text)
            await self._bot.do_api_request("sendPhoto", api_kwargs=request)
        else:
            request.update(text=payload.text, link_preview_options=_NO_PREVIEW)
            await self._bot.do_api_request("sendMessage", api_kwargs=request)

    def _finish(self, item: OutboxItem, state: str, error: str | None) -> None:
        self._outcomes.append(Outcome(item.id, state, error))
        self._unwritten.set()
        if state == "sent":
            self.stats.sent += 1
            self.stats.last_sent_monotonic = time.monotonic()
        elif state == "blocked":
            self.stats.blocked += 1
        else:
            self.stats.failed += 1
            if error:
                self.stats.by_error[error] = self.stats.by_error.get(error, 0) + 1

    def _requeue(self, items: list[OutboxItem], *, delay: float, refund: bool) -> None:
        due = time.time() + delay
        self._requeues.extend(Requeue(item.id, due, refund) for item in items)
        self._unwritten.set()

    async def _flush_later(self) -> None:
        """Once something ended, wait `flush_interval` for others to end too, write them all."""
        await self._unwritten.wait()
        await asyncio.sleep(self.flush_interval)
        await self._flush()  # on failure the supervisor backs off and comes back here
        if not self._outcomes and not self._requeues:
            self._unwritten.clear()

    async def _flush(self) -> None:
        """Write back outcomes and requeues; they stay in memory until the database takes them."""
        outcomes, requeues = self._outcomes[:], self._requeues[:]
        if outcomes or requeues:
            await self._outbox.settle(outcomes, requeues, int(time.time()))
            # Only now: sends that ended during the write were appended after these.
            del self._outcomes[: len(outcomes)]
            del self._requeues[: len(requeues)]
            if requeues:
                self._wake.set()

    async def _idle(self) -> None:
        due = await self._outbox.next_due()
        wait = 1.0 if due is None else min(1.0, max(0.01, due - time.time()))
        await self._sleep_or_wake(wait)

    async def _sleep_or_wake(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    async def _wait_out_pause(self) -> None:
        """Until the pause ends, stop() is called, or a second passed (to report progress)."""
        resumed = asyncio.ensure_future(self._budget.resumed())
        self._wake.clear()
        woken = asyncio.ensure_future(self._wake.wait())
        await asyncio.wait({resumed, woken}, timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
        for waiting in (resumed, woken):
            waiting.cancel()
        await asyncio.gather(resumed, woken, return_exceptions=True)


def _backoff(attempts: int) -> float:
    """1, 2, 4, 8 ... seconds with jitter, so retries from many rows do not arrive together."""
    return float(min(300, 2 ** (attempts - 1))) * random.uniform(0.8, 1.2)  # noqa: S311


def _never_left(error: TimedOut) -> bool:
    """A connect or pool timeout: the request never reached Telegram, so a retry is safe."""
    return isinstance(error.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout)


def _bad_request_reason(error: BadRequest) -> str:
    # Keep Telegram's reason but only its first clause: later parts can quote our text.
    reason = error.message.split(":")[0].strip().lower().replace(" ", "_")
    return f"bad_request:{reason[:40]}"
