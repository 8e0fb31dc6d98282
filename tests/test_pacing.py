"""The sliding window: no rolling second ever holds more messages than the limit."""

from __future__ import annotations

import asyncio
import random

from bot.delivery.pacing import SlidingWindow


async def test_no_second_holds_more_than_the_limit_however_answers_are_delayed() -> None:
    window = SlidingWindow(limit=5)
    arrivals: list[float] = []
    loop = asyncio.get_running_loop()

    async def send(slot: asyncio.Future[float]) -> None:
        await asyncio.sleep(random.uniform(0, 0.05))  # the request on its way: jitter
        arrivals.append(loop.time())  # the server counts it here
        await asyncio.sleep(random.uniform(0, 0.05))  # the answer on its way back
        SlidingWindow.answered(slot)

    tasks = []
    for _ in range(16):  # one dispatcher, as in the sender, as fast as the window allows
        slot = await window.acquire()
        tasks.append(asyncio.create_task(send(slot)))
    await asyncio.gather(*tasks)
    arrivals.sort()
    for first, later in zip(arrivals, arrivals[5:], strict=False):
        assert later - first >= 1.0  # the 6th message after any message is a second later
