"""The sliding window: no rolling second ever holds more messages than the limit."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections.abc import Awaitable

from bot.delivery.pacing import SlidingWindow


class VirtualTime:
    """Seconds that pass only when every task waits, then straight to the next wake-up.

    Every sleep ends in order, exactly as on a real clock, but the test takes no real time.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        wake_up: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + max(0.0, seconds), next(self._order), wake_up))
        await wake_up

    async def run(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        while not task.done():
            for _ in range(20):  # every task that can run does, until it waits again
                await asyncio.sleep(0)
            if self._timers and not task.done():
                self.now, _, wake_up = heapq.heappop(self._timers)
                wake_up.set_result(None)
        await task


async def test_no_second_holds_more_than_the_limit_however_answers_are_delayed() -> None:
    time = VirtualTime()
    window = SlidingWindow(limit=5, clock=time.clock, sleep=time.sleep)
    arrivals: list[float] = []

    async def send(slot: asyncio.Future[float]) -> None:
        await time.sleep(random.uniform(0, 0.05))  # the request on its way: jitter
        arrivals.append(time.now)  # the server counts it here
        await time.sleep(random.uniform(0, 0.05))  # the answer on its way back
        window.answered(slot)

    async def dispatch() -> None:
        tasks = []
        for _ in range(60):  # one dispatcher, as in the sender, as fast as the window allows
            slot = await window.acquire()
            tasks.append(asyncio.create_task(send(slot)))
        await asyncio.gather(*tasks)

    await time.run(dispatch())
    arrivals.sort()
    assert len(arrivals) == 60
    for first, later in zip(arrivals, arrivals[5:], strict=False):
        assert later - first >= 1.0  # the 6th message after any message is a second later
