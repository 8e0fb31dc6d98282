"""One send budget for every message the bot sends or edits: replies first, an even pace, a cap.

Telegram counts every message a bot sends against one per-bot limit, whichever code sent it.
So the Application's bot (replies, edits, documents: through `BudgetRateLimiter`) and the
outbox sender draw their sends from the one `SendBudget`: one sliding window, one pace, one
pause after a 429, and one record of when each chat last got an outbox row. A reply to a person
is granted before any outbox row waiting at the same moment; a broadcast takes what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from enum import IntEnum
from typing import Any, Protocol

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

PER_CHAT_INTERVAL = 1.0  # Telegram: about one message per second to one chat
# The pace is a hair under the limit; the sliding window, not this margin, is what guarantees
# Telegram never counts one message too many in a second (margins of 1.5% and 2.5% still let
# a 429 through when an event-loop stall bunched requests up; see benchmarks/broadcast.py).
PACING_MARGIN = 0.995
WINDOW_SECONDS = 1.0
FORGET_CHATS_OVER = 10_000  # chats remembered for per-chat spacing before old ones are dropped
# Calls of the Application's bot on their way at once (replies, edits, button answers). Each
# needs its own pooled connection, and httpcore 1.0.9 walks the whole pool, checking every idle
# socket, twice per request (quadratic in its size: encode/httpcore#1000): 64 updates at once
# grew the pool to about 30 connections and that walk to a fifth of the bot's CPU. Eight keep
# the walk cheap and still carry about 40 replies a second at 200 ms per call, more than the
# 30 messages a second Telegram allows a bot; the rest wait here, in order, at no cost.
CALLS_IN_FLIGHT = 8
# Button answers have lanes of their own: Telegram refuses one 15 seconds after the press, so it
# never waits behind replies that a slow Telegram holds (the spinner would turn for nothing).
ANSWERS_IN_FLIGHT = 4
ANSWER_ENDPOINTS = frozenset({"answerCallbackQuery"})


class Timer(Protocol):
    """Monotonic seconds and a way to wait for them; tests inject one they move by hand."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicTimer:
    """The real clock: time.monotonic and asyncio.sleep."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Priority(IntEnum):
    """Who is served first when both wait for the same slot (lower first)."""

    REPLY = 0  # someone is waiting for it: answers to commands, edits, documents
    OUTBOX = 1  # broadcasts, summaries, notices: they use what replies leave


class Slot:
    """One send's place in the window, held until Telegram answered (any answer counts)."""

    __slots__ = ("_answered", "_timer")

    def __init__(self, timer: Timer, answered: asyncio.Future[float] | None) -> None:
        self._timer = timer
        self._answered = answered

    def answered(self) -> None:
        """The request got its answer: the window counts the send as arrived by now."""
        if self._answered is not None and not self._answered.done():
            self._answered.set_result(self._timer.now())


class SendBudget:
    """Hands out one send at a time: after any pause, on an even pace, inside the window.

    The window: message k+limit is dispatched only after message k was answered and one more
    second passed, so no rolling second at the server ever holds limit+1 arrivals, even when a
    stall in our event loop delays some requests and bunches them up. Paid broadcasts are about
    volume, and a rare 429 there only pauses, so they go without the window (`hard_cap=False`):
    the window costs throughput in proportion to the answers' latency (N per 1 + L seconds).

    One gate task, started when someone waits, grants the slots: at each grant it picks the
    waiter with the best priority, then the oldest, so a reply never queues behind a broadcast.
    """

    def __init__(self, rate: float, *, hard_cap: bool = True, timer: Timer | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.limit = max(1, int(rate)) if hard_cap else None
        self.timer: Timer = timer or MonotonicTimer()
        self.pauses = 0  # 429s that paused sending, for logs and benchmarks
        self._interval = 1.0 / (rate * PACING_MARGIN)
        self._next_at = -math.inf
        self._paused_until = -math.inf
        self._window: deque[asyncio.Future[float]] = deque()
        self._waiting: list[tuple[int, int, asyncio.Future[Slot]]] = []  # a heap
        self._order = itertools.count()
        self._gate: asyncio.Task[None] | None = None
        self._last_by_chat: dict[int, float] = {}

    @property
    def waiting(self) -> int:
        """Sends waiting for a slot now (tests wait for this instead of for time)."""
        return sum(1 for _, _, ticket in self._waiting if not ticket.done())

    async def acquire(self, priority: Priority, chat_id: int | None = None) -> Slot:
        """Wait for this send's turn; the caller must call `answered()` on the slot."""
        loop = asyncio.get_running_loop()
        ticket: asyncio.Future[Slot] = loop.create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), ticket))
        if self._gate is None:
            self._gate = loop.create_task(self._grant_in_turn())
        try:
            slot = await ticket
        except asyncio.CancelledError:
            if ticket.done() and not ticket.cancelled():
                ticket.result().answered()  # granted as we were cancelled: give it back
            raise
        if chat_id is not None:
            self._last_by_chat[chat_id] = self.timer.now()
        return slot

    def pause(self, seconds: float) -> None:
        """Telegram asked us to wait (a 429 on any path): no message leaves until then."""
        until = self.timer.now() + seconds
        if until > self._paused_until:
            self._paused_until = until
            self.pauses += 1
            log.warning("event=sending_paused seconds=%.1f", seconds)

    def paused_for(self) -> float:
        """Seconds left of the current pause (0 when sending may go on)."""
        return max(0.0, self._paused_until - self.timer.now())

    async def resumed(self) -> None:
        """Return when no pause holds sending back."""
        while (left := self.paused_for()) > 0:
            await self.timer.sleep(left)

    def since_last(self, chat_id: int) -> float:
        """Seconds since a slot was last given for this chat; infinite if never."""
        last = self._last_by_chat.get(chat_id)
        return math.inf if last is None else self.timer.now() - last

    def close(self) -> None:
        """Stop the gate (at shutdown); waiters still queued are cancelled."""
        if self._gate is not None:
            self._gate.cancel()
            self._gate = None
        for _, _, ticket in self._waiting:
            ticket.cancel()
        self._waiting.clear()

    async def _grant_in_turn(self) -> None:
        try:
            while self._next_waiter():
                if not await self._room_now():
                    continue
                _, _, ticket = heapq.heappop(self._waiting)
                answered: asyncio.Future[float] | None = None
                if self.limit is not None:
                    answered = asyncio.get_running_loop().create_future()
                    self._window.append(answered)
                self._next_at = max(self._next_at, self.timer.now()) + self._interval
                ticket.set_result(Slot(self.timer, answered))
                self._forget_old_chats()
        finally:
            if self._gate is asyncio.current_task():
                self._gate = None

    def _next_waiter(self) -> bool:
        while self._waiting and self._waiting[0][2].done():  # cancelled while waiting
            heapq.heappop(self._waiting)
        return bool(self._waiting)

    async def _room_now(self) -> bool:
        """True if a send may go now; otherwise waits for the next moment worth a look."""
        wait = max(self._paused_until, self._next_at) - self.timer.now()
        if wait > 0:
            await self.timer.sleep(wait)
            return False
        if self.limit is not None and len(self._window) >= self.limit:
            answered_at = await self._window[0]
            wait = answered_at + WINDOW_SECONDS - self.timer.now()
            if wait > 0:
                await self.timer.sleep(wait)
                return False
            self._window.popleft()
            return len(self._window) < self.limit
        return True

    def _forget_old_chats(self) -> None:
        if len(self._last_by_chat) > FORGET_CHATS_OVER:
            cutoff = self.timer.now() - PER_CHAT_INTERVAL
            self._last_by_chat = {c: t for c, t in self._last_by_chat.items() if t >= cutoff}


def retry_after_seconds(error: RetryAfter) -> float:
    """RetryAfter.retry_after is an int or a timedelta depending on PTB's settings."""
    value: object = error.retry_after
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]


def sends_a_message(endpoint: str) -> bool:
    """Whether Telegram counts this call against the bot's message limit."""
    if endpoint == "sendChatAction":
        return False
    return endpoint.startswith(("send", "edit")) or endpoint in (
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
    )


class BudgetRateLimiter(BaseRateLimiter[int]):
    """PTB's rate limiter for the Application's bot: its messages draw on the shared budget.

    Everything this bot sends is an answer someone waits for, so it goes first, and in
    bursts as Telegram allows (no per-chat spacing: that is for the outbox's rows). A 429 pauses
    the whole budget (the outbox too), then the call is tried again, at most `max_retries`
    times (`rate_limit_args` overrides that per call, as with PTB's AIORateLimiter).
    """

    def __init__(
        self, budget: SendBudget, max_retries: int = 2, in_flight: int = CALLS_IN_FLIGHT
    ) -> None:
        self.budget = budget
        self.max_retries = max_retries
        self._in_flight = Lanes(in_flight)
        self._answers_in_flight = Lanes(ANSWERS_IN_FLIGHT)

    async def initialize(self) -> None:
        """Nothing to open: the gate starts when the first send waits."""

    async def shutdown(self) -> None:
        self.budget.close()

    def stopping(self) -> None:
        """The bot stops: calls waiting for a lane go now, and later ones never wait.

        The stop waits for every update's handler; with a slow Telegram, calls queued behind
        the held ones would each wait out their turn and their own timeout in turn (24 held
        replies took 30 s, past a service manager's grace). A bigger pool costs nothing now.
        """
        self._in_flight.open()
        self._answers_in_flight.open()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for a slot (message calls only), call, and on a 429 pause everyone and retry."""
        retries = self.max_retries if rate_limit_args is None else rate_limit_args
        counted = sends_a_message(endpoint)
        lane = self._answers_in_flight if endpoint in ANSWER_ENDPOINTS else self._in_flight
        for attempt in itertools.count():
            slot = await self.budget.acquire(Priority.REPLY) if counted else None
            try:
                # After the slot, not before: a button's answer never waits behind a reply
                # that waits out a 429 pause. Sent later than granted is always within budget.
                async with lane.one():
                    return await callback(*args, **kwargs)
            except RetryAfter as error:
                self.budget.pause(retry_after_seconds(error))
                if attempt >= retries:
                    raise
            finally:
                if slot is not None:
                    slot.answered()
        raise AssertionError("unreachable")  # pragma: no cover


class Lanes:
    """At most `size` calls on their way at once, first come first served, until `open()`.

    asyncio.Semaphore cannot let its waiters through all at once; the stop needs that.
    """

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiting: deque[asyncio.Future[bool]] = deque()
        self._open = False

    @contextlib.asynccontextmanager
    async def one(self) -> AsyncIterator[None]:
        took = await self._take()
        try:
            yield
        finally:
            if took:
                self._give_back()

    def open(self) -> None:
        """Let every waiting call go, and every later one, without a lane."""
        self._open = True
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(False)

    async def _take(self) -> bool:
        """Wait for a lane: True when one was taken, False when the lanes were opened."""
        if self._open:
            return False
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return True
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.result():
                self._give_back()  # handed a lane just as it was cancelled: pass it on
            elif waiter in self._waiting:
                self._waiting.remove(waiter)
            raise

    def _give_back(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(True)  # the lane passes straight to the first in line
                return
        self._free += 1
