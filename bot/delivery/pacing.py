"""An even pace of N events per second, without bursts after idle time."""

from __future__ import annotations

import asyncio
import time


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
