"""A send-budget timer that tests move: waits pass at once, or wait until a test lets them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class SkippingTimer:
    """Real monotonic time, except that every wait passes at once and is skipped over.

    The default budget timer of tests: pacing, windows and pauses are kept on this clock, but
    no test waits for them. Unlike VirtualTimer it also moves with real time, so what the
    bot measures elsewhere in real seconds (a row due again in 20 ms) comes due on both.
    """

    def __init__(self) -> None:
        self.skipped = 0.0

    def now(self) -> float:
        return time.monotonic() + self.skipped

    async def sleep(self, seconds: float) -> None:
        self.skipped += max(0.0, seconds)
        await asyncio.sleep(0)


class VirtualTimer:
    """Monotonic seconds that move only when something waits on them, or a test moves them.

    Running (the default), `sleep(s)` moves time forward by s and returns at once, so a budget
    paced at 30/s sends as fast as the sandbox answers while the window, the pace and pauses
    are kept exactly on this clock. Held, sleepers wait until `advance` or `release` (only
    the long ones, if asked: a pause held while the pace and the window keep running).
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.moment = start
        self.held = False
        self.held_longer_than = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        return self.moment

    async def sleep(self, seconds: float) -> None:
        deadline = self.moment + max(0.0, seconds)
        if not self.held or seconds <= self.held_longer_than:
            self.moment = max(self.moment, deadline)
            await asyncio.sleep(0)
            return
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (deadline, woken)
        self._sleepers.append(entry)
        try:
            await woken
        finally:
            self._sleepers.remove(entry)

    @property
    def sleeping(self) -> int:
        """How many waits are held now."""
        return len(self._sleepers)

    def hold(self, longer_than: float = 0.0) -> None:
        """From now on, sleeps longer than `longer_than` seconds wait for the test."""
        self.held = True
        self.held_longer_than = longer_than

    def advance(self, seconds: float) -> None:
        """Move time forward and wake the sleepers whose time has come."""
        self.moment += seconds
        for deadline, woken in list(self._sleepers):
            if deadline <= self.moment and not woken.done():
                woken.set_result(None)

    def release(self) -> None:
        """Back to running: every held sleeper wakes, time moves to the latest deadline."""
        self.held = False
        if self._sleepers:
            self.moment = max(self.moment, *(deadline for deadline, _ in self._sleepers))
        self.advance(0.0)


async def eventually(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Wait (polling the event loop) until `condition` holds; fail the test after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.005)
