"""One send budget for replies and the outbox: one window, one pause, replies first.

The budget runs on a virtual timer (tests/support/timer.py): no test waits for real time or
asserts one. Who went first is read from the order of the sandbox's recorded calls.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from typing import Any

import pytest

from bot.delivery.budget import (
    ANSWERS_IN_FLIGHT,
    CALLS_IN_FLIGHT,
    BudgetRateLimiter,
    Lanes,
    Priority,
    SendBudget,
)
from fakebotapi.faults import Fault
from fakebotapi.server import FakeBotApi
from tests.conftest import StartBot
from tests.support.harness import RunningBot
from tests.support.people import member_who_joined
from tests.support.seeding import seed_announcement, seed_subscribers
from tests.support.timer import VirtualTimer, eventually

MEMBER = 8100
SUBSCRIBERS = range(8200, 8220)
ANNOUNCEMENT = "Announcement for everyone"
HELP = "What this bot can do"


@pytest.fixture
def timer(make_bot: StartBot) -> Iterator[VirtualTimer]:
    """The budget's clock; released before the bots stop (a held pause would hold them)."""
    virtual = VirtualTimer()
    yield virtual
    virtual.release()


def sent(sandbox: FakeBotApi, text: str) -> list[int]:
    """Positions, among all recorded calls, of accepted sendMessage calls containing `text`."""
    return [
        index
        for index, call in enumerate(sandbox.calls)
        if call.method == "sendMessage" and call.ok and text in str(call.params.get("text", ""))
    ]


async def settled(sandbox: FakeBotApi) -> None:
    """The end of joining: after the last answer, the offer's buttons are closed."""

    def closed() -> bool:
        calls = sandbox.calls
        last_answer = sent(sandbox, "/subscribe")[-1]
        return any(c.method == "editMessageReplyMarkup" for c in calls[last_answer:])

    await eventually(closed, "offer closed")


async def queue_announcement(bot: RunningBot, sandbox: FakeBotApi) -> None:
    for user_id in SUBSCRIBERS:
        sandbox.user(user_id, language_code="en")
    await seed_subscribers(bot.runtime.db, SUBSCRIBERS)
    await seed_announcement(bot.runtime.db, ANNOUNCEMENT)
    bot.runtime.sender.wake()


async def test_a_429_met_by_a_reply_pauses_the_outbox_too(
    make_bot: StartBot, sandbox: FakeBotApi, timer: VirtualTimer
) -> None:
    bot = await make_bot(send_timer=timer)
    member = await member_who_joined(sandbox, MEMBER, subscribe=False)
    sandbox.add_fault(Fault.retry_after(5), "sendMessage", chat_id=MEMBER, times=1)
    timer.hold(longer_than=1.0)  # the pace and the window run; Telegram's 5 s wait is held
    await member.send("/help")
    budget = bot.runtime.budget
    # The answer met the 429: all sending is paused, and the answer waits to be sent again.
    await eventually(lambda: budget.paused_for() > 0 and budget.waiting == 1, "reply waits")
    await queue_announcement(bot, sandbox)
    await eventually(lambda: bot.runtime.sender.stats.rate_limited == 0, "sender looked")
    timer.release()  # the 5 seconds Telegram asked for pass
    await member.expect(HELP)
    assert await bot.runtime.sender.drained(timeout=30)
    announcements = sent(sandbox, ANNOUNCEMENT)
    assert len(announcements) == len(SUBSCRIBERS)
    # Nothing of the broadcast left during the pause that the reply's 429 started.
    assert min(announcements) > sent(sandbox, HELP)[0]
    assert budget.pauses == 1


async def test_a_members_command_is_answered_before_the_broadcast_rows_queued_before_it(
    make_bot: StartBot, sandbox: FakeBotApi, timer: VirtualTimer
) -> None:
    bot = await make_bot(send_timer=timer, SEND_RATE="5")
    member = await member_who_joined(sandbox, MEMBER, subscribe=False)
    await settled(sandbox)
    budget = bot.runtime.budget
    timer.hold()  # the budget is saturated: the broadcast's next row waits for its slot
    await queue_announcement(bot, sandbox)
    await eventually(lambda: budget.waiting == 1 and timer.sleeping == 1, "broadcast waits")
    already = len(sent(sandbox, ANNOUNCEMENT))
    await member.send("/help")
    await eventually(lambda: budget.waiting == 2, "reply waits behind the broadcast's row")
    timer.release()
    await member.expect(HELP)
    assert await bot.runtime.sender.drained(timeout=30)
    announcements = sent(sandbox, ANNOUNCEMENT)
    assert len(announcements) == len(SUBSCRIBERS)
    # The row that was waiting first, and every one after it, went after the answer.
    assert sent(sandbox, HELP)[0] < announcements[already]


async def test_replies_and_the_outbox_together_never_pass_the_limit_in_any_second(
    make_bot: StartBot, sandbox: FakeBotApi, timer: VirtualTimer
) -> None:
    sandbox.state.clock = timer.now  # Telegram counts seconds on the budget's clock
    sandbox.set_rate_limit(5)
    bot = await make_bot(send_timer=timer, SEND_RATE="5")
    member = await member_who_joined(sandbox, MEMBER, subscribe=False)
    await queue_announcement(bot, sandbox)
    for _ in range(6):  # commands during the broadcast: one answer each
        await member.send("/help")
        await member.expect(HELP)
    assert await bot.runtime.sender.drained(timeout=30)
    assert len(sent(sandbox, ANNOUNCEMENT)) == len(SUBSCRIBERS)
    assert len(sent(sandbox, HELP)) == 6
    assert sandbox.stats.rate_limited == 0  # no 429: both paths drew on one window
    assert bot.runtime.budget.pauses == 0


async def test_no_second_holds_more_than_the_limit_however_answers_are_delayed() -> None:
    timer = VirtualTimer()
    budget = SendBudget(5, timer=timer)
    arrivals: list[float] = []

    async def send(priority: Priority) -> None:
        slot = await budget.acquire(priority)
        for _ in range(random.randint(0, 3)):  # the request on its way: jitter
            await asyncio.sleep(0)
        timer.moment += random.uniform(0, 0.05)
        arrivals.append(timer.now())  # the server counts it here
        timer.moment += random.uniform(0, 0.05)  # the answer on its way back
        slot.answered()

    await asyncio.gather(*(send(random.choice(list(Priority))) for _ in range(40)))
    arrivals.sort()
    for first, later in zip(arrivals, arrivals[5:], strict=False):
        assert later - first >= 1.0  # the 6th message after any message is a second later
    budget.close()


async def test_replies_are_granted_before_outbox_rows_waiting_at_the_same_time() -> None:
    timer = VirtualTimer()
    budget = SendBudget(5, timer=timer)
    order: list[str] = []
    timer.hold()
    first = await budget.acquire(Priority.OUTBOX)  # the next grant must wait for the pace
    first.answered()

    async def send(name: str, priority: Priority) -> None:
        slot = await budget.acquire(priority)
        order.append(name)
        slot.answered()

    rows = [asyncio.create_task(send(f"row {n}", Priority.OUTBOX)) for n in range(3)]
    await eventually(lambda: budget.waiting == 3, "rows wait")
    reply = asyncio.create_task(send("reply", Priority.REPLY))
    await eventually(lambda: budget.waiting == 4, "reply waits")
    timer.release()
    await asyncio.gather(reply, *rows)
    assert order == ["reply", "row 0", "row 1", "row 2"]
    budget.close()


async def test_only_a_few_calls_of_the_bot_are_on_their_way_at_once_and_all_go() -> None:
    """Replies and button answers beyond their caps wait their turn (the connection pool stays
    small, see CALLS_IN_FLIGHT); each one is still made, once. Button answers have lanes of
    their own (ANSWERS_IN_FLIGHT): none waits behind a reply a slow Telegram holds."""
    budget = SendBudget(1000, timer=VirtualTimer())
    limiter = BudgetRateLimiter(budget)
    answer = asyncio.Event()  # Telegram answers when the test says so
    on_their_way = 0
    most = 0

    async def request(number: int) -> dict[str, Any]:
        nonlocal on_their_way, most
        on_their_way += 1
        most = max(most, on_their_way)
        await answer.wait()
        on_their_way -= 1
        return {"number": number}

    endpoints = ["sendMessage", "answerCallbackQuery", "editMessageText"] * CALLS_IN_FLIGHT
    calls = [
        asyncio.create_task(limiter.process_request(request, (n,), {}, endpoint, {}, None))
        for n, endpoint in enumerate(endpoints)
    ]
    await eventually(
        lambda: on_their_way == CALLS_IN_FLIGHT + ANSWERS_IN_FLIGHT and budget.waiting == 0,
        "the first on their way",
    )
    for _ in range(50):  # every other call gets its turn to run (no time passes)
        await asyncio.sleep(0)
    assert on_their_way == CALLS_IN_FLIGHT + ANSWERS_IN_FLIGHT
    answer.set()
    assert await asyncio.gather(*calls) == [{"number": n} for n in range(len(endpoints))]
    assert most == CALLS_IN_FLIGHT + ANSWERS_IN_FLIGHT
    budget.close()


async def test_a_call_cancelled_while_waiting_for_a_lane_never_loses_the_lane() -> None:
    """Cancelled while waiting, or just as a lane was handed to it: the lane passes on, and
    after `open()` (the bot stops) nothing waits any more."""
    lanes = Lanes(1)
    first_done = asyncio.Event()

    async def hold_until(done: asyncio.Event) -> None:
        async with lanes.one():
            await done.wait()

    first = asyncio.create_task(hold_until(first_done))
    await asyncio.sleep(0)
    cancelled_waiting = asyncio.create_task(hold_until(asyncio.Event()))
    handed_then_cancelled = asyncio.create_task(hold_until(asyncio.Event()))
    await asyncio.sleep(0)
    cancelled_waiting.cancel()
    first_done.set()  # the lane is handed to the next in line...
    await asyncio.sleep(0)
    handed_then_cancelled.cancel()  # ...which is cancelled before it runs
    await asyncio.gather(first, cancelled_waiting, handed_then_cancelled, return_exceptions=True)
    later_done = asyncio.Event()
    later_done.set()
    await asyncio.wait_for(hold_until(later_done), timeout=1)  # the one lane is free again

    blocker_done = asyncio.Event()
    blocker = asyncio.create_task(hold_until(blocker_done))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(hold_until(later_done))
    await asyncio.sleep(0)
    assert not waiting.done()
    lanes.open()
    await asyncio.wait_for(waiting, timeout=1)  # went without a lane
    await asyncio.wait_for(hold_until(later_done), timeout=1)
    blocker_done.set()
    await blocker
