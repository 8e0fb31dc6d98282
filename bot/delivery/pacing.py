"""An even pace of N messages per second, and a hard cap on any rolling second."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable


class Pacer:
    """Hands out one slot every 1/rate seconds on an absolute schedule.

    The schedule is absolute so that a late wake-up (the event loop was busy) is caught up
    on the next slot instead of slowing the whole run down; idle time is not banked, so the
    first messages after a pause do not burst past the rate.
    """

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self._next = 0.0

    async def acquire(self) -> None:
        now = time.monotonic()
        if self._next < now:
            self._next = now
        wait = self._next - now
        self._next += self.interval
        if wait > 0:
            await asyncio.sleep(wait)

    def hold(self, seconds: float) -> None:
        """Push the schedule back (Telegram asked us to wait)."""
        self._next = max(self._next, time.monotonic() + seconds)


class SlidingWindow:
    """At most `limit` messages in any second *as the server counts them*, whatever the jitter.

    Telegram counts a message when it arrives, somewhere between our dispatch and its answer.
    Dispatching message k+limit only after message k was answered and one more second passed
    guarantees that no rolling second at the server ever holds limit+1 arrivals, even when a
    stall in our event loop (a GC pause, say) delays some requests and bunches them up.
    """

    def __init__(
        self,
        limit: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limit = max(1, limit)
        self._clock = clock  # injected, so a test checks a minute of sending in no time
        self._sleep = sleep
        self._answered: deque[asyncio.Future[float]] = deque()

    async def acquire(self) -> asyncio.Future[float]:
        """Wait for room; return the future to complete with the time of the answer."""
        if len(self._answered) >= self.limit:
            oldest = await self._answered.popleft()
            wait = oldest + 1.0 - self._clock()
            if wait > 0:
                await self._sleep(wait)
        answered: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._answered.append(answered)
        return answered

    def answered(self, slot: asyncio.Future[float]) -> None:
        """The request got its answer (any answer: even a refused one was counted)."""
        if not slot.done():
            slot.set_result(self._clock())
