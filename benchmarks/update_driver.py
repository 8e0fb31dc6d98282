"""The driver for benchmarks/updates.py: the sandbox Bot API and the members, in one process.

    python -m benchmarks.update_driver --first-user 2000000 --members 1000

Run by benchmarks/updates.py, never by hand. It prints the sandbox's URLs as one JSON line, then
reads commands from stdin, one JSON object a line, and answers each with one JSON line:

    {"do": "ready"}                                  -> {} once the bot polls
    {"do": "burst", "count": 10000}                  -> {"seconds": ...}
    {"do": "steady", "rate": 100, "seconds": 10}     -> {"latencies": [ms, ...], "sent_in": s}

The sandbox sees an update arrive and the bot's answer on one clock (its own), so latencies
are read there. Injection needs no HTTP: the members act in this process, as in the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from fakebotapi.server import FakeBotApi

MESSAGES = ["/help", "/latest", "hello there", "/whoami"]
ANSWER = "sendMessage"


class Driver:
    def __init__(self, api: FakeBotApi, members: list[int]) -> None:
        self.api = api
        self.members = members
        self.sent = 0  # updates sent so far, to rotate members and texts

    def answers(self) -> list[Any]:
        return self.api.state.calls_by_method.get(ANSWER, [])

    async def send_next(self) -> int:
        member = self.members[self.sent % len(self.members)]
        await self.api.user(member).send(MESSAGES[self.sent % len(MESSAGES)])
        self.sent += 1
        return member

    async def until_answered(self, mark: int, count: int, timeout: float) -> None:
        await self.api.wait_until(
            lambda: len(self.answers()) - mark >= count, timeout, f"{count} answers"
        )
        failed = [call for call in self.answers()[mark:] if not call.ok]
        if failed:
            raise RuntimeError(f"{len(failed)} answers refused: {failed[0].description}")

    async def burst(self, count: int) -> dict[str, Any]:
        """Queue `count` updates at once; seconds from the first arrival to the last answer."""
        mark = len(self.answers())
        started = time.monotonic()
        for _ in range(count):
            await self.send_next()
        await self.until_answered(mark, count, timeout=600)
        return {"seconds": self.answers()[mark + count - 1].at - started}

    async def steady(self, rate: float, seconds: float) -> dict[str, Any]:
        """Send at `rate` per second; each update's latency until its answer, in ms."""
        mark = len(self.answers())
        sent_at: dict[int, list[float]] = {}
        total = int(rate * seconds)
        started = time.monotonic()
        for index in range(total):
            due = started + index / rate
            if (wait := due - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            arrived = time.monotonic()
            member = await self.send_next()
            sent_at.setdefault(member, []).append(arrived)
        sent_in = time.monotonic() - started
        await self.until_answered(mark, total, timeout=120)
        answered: dict[int, list[float]] = {}
        for call in self.answers()[mark:]:
            if call.chat_id is not None:
                answered.setdefault(call.chat_id, []).append(call.at)
        latencies: list[float] = []
        for member, times in sent_at.items():  # each member's answers come in order
            replies = answered.get(member, [])
            latencies += [(a - s) * 1000 for s, a in zip(times, replies, strict=True)]
        return {"latencies": latencies, "sent_in": sent_in}


async def serve(first_user: int, count: int) -> None:
    api = FakeBotApi(record_calls=True)
    await api.start()
    members = list(range(first_user, first_user + count))
    for member in members:
        api.user(member, first_name="Member", language_code="en")
    driver = Driver(api, members)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def answer(result: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()

    answer({"base_url": api.base_url, "base_file_url": api.base_file_url})
    try:
        while line := await reader.readline():
            command = json.loads(line)
            if command["do"] == "ready":
                await api.wait_for_calls("getUpdates", 1, timeout=60)
                answer({})
            elif command["do"] == "burst":
                answer(await driver.burst(int(command["count"])))
            elif command["do"] == "steady":
                answer(await driver.steady(float(command["rate"]), float(command["seconds"])))
            else:
                raise ValueError(f"unknown command {command['do']!r}")
    finally:
        await api.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--first-user", type=int, required=True)
    parser.add_argument("--members", type=int, required=True)
    arguments = parser.parse_args()
    asyncio.run(serve(arguments.first_user, arguments.members))
