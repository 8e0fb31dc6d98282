"""Exploratory stories after the last merges: the in-flight cap under a slow Telegram, a role
revoked mid-flow, stopping a start that waits, news drafts and erasure, a Korean newcomer.

Each test is a short story through the real Application, the fake Bot API and a real SQLite
file; none sleeps for real time (held answers, run jobs and the injected clock instead).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from bot.health import check
from bot.models import Role
from bot.supervision import heartbeat_path
from fakebotapi.faults import Fault
from fakebotapi.server import FakeBotApi
from tests.conftest import StartBot, rejected_calls
from tests.support.feed_server import FeedServer
from tests.support.harness import (
    ADMIN_ID,
    COORDINATOR_ID,
    FrozenClock,
    RunningBot,
    eventually,
    expect_nothing_more,
    settled,
)
from tests.support.people import member_who_joined, staff
from tests.support.seeding import seeded_database
from tests.test_news import (
    draft_from_news,
    drafting_bot,
    feeds,  # noqa: F401 (the fixture)
    first_in_news,
)
from tests.test_operations import assert_clean_log, bot_environment
from tests.test_supervision import write_lock

SLOW_CHATS = range(91_000, 91_010)  # more than CALLS_IN_FLIGHT
PRESSER = 91_100
MANY = range(92_000, 92_024)  # three times CALLS_IN_FLIGHT


# -- Telegram slow for some chats while others press buttons ------------------------------------


async def test_replies_held_for_slow_chats_never_hold_back_anothers_button_answer(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    """Ten members' answers hang on Telegram's side (more than the calls the bot lets be on
    their way at once); a newcomer who presses a button meanwhile still sees it answered,
    before the 15 seconds after which Telegram refuses a button's answer."""
    slow = [await member_who_joined(sandbox, user_id, subscribe=False) for user_id in SLOW_CHATS]
    newcomer = sandbox.user(PRESSER, language_code="en")
    await newcomer.send("/start")
    welcome = await newcomer.expect("Pyeonji")
    agree = welcome.button("I agree").callback_data or ""
    await newcomer.press(welcome, agree)
    await newcomer.expect("Which language")
    held = Fault.held()
    for person in slow:
        sandbox.add_fault(held, "sendMessage", chat_id=person.id, times=None)
    for person in slow:
        await person.send("/help")
    await sandbox.wait_until(lambda: sandbox.stats.faults_fired >= 8, what="answers held")
    # A second tap on the welcome's "I agree" (its buttons were still on her screen).
    query = await newcomer.press(welcome, agree)
    answer = await sandbox.wait_for_callback_answer(query, timeout=2)
    assert answer is not None
    held.release()
    for person in slow:
        await person.expect("What this bot can do")
    await expect_nothing_more(bot, newcomer, *slow)


# -- stopping a start that waits for a lock -----------------------------------------------------


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
async def test_stopping_a_start_that_waits_for_a_lock_ends_cleanly_in_one_sentence(
    sandbox: FakeBotApi, tmp_path: Path, stop: signal.Signals
) -> None:
    """An operator's sqlite3 shell holds the write lock; `python -m bot run` waits for it, and
    the operator stops it (SIGTERM from the service manager, or Ctrl-C): it ends at once with
    exit code 0, no traceback, and no heartbeat file left claiming a bot that runs."""
    database = tmp_path / "bot.sqlite3"
    await seeded_database(database, range(0), "nothing")
    environment = bot_environment(sandbox, database)
    log = tmp_path / "bot.log"
    async with write_lock(database):
        with log.open("w") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=environment, stderr=stderr
            )
            # The wait is logged, then put in the heartbeat, where health can tell.
            await eventually(
                lambda: (
                    "task=start-up kind=database_locked" in log.read_text()
                    and heartbeat_path(database).exists()
                ),
                timeout=60,
            )
            # `python -m bot health` a couple of minutes into the wait names it.
            later = check(database, now=time.time() + 120)
            assert not later.ok and "start-up" in later.line, later.line
            assert "database_locked" in later.line, later.line
            process.send_signal(stop)
            assert await asyncio.wait_for(process.wait(), timeout=30) == 0
    assert not heartbeat_path(database).exists()
    assert_clean_log(log)
    text = log.read_text()
    assert "Traceback" not in text and "event=crashed" not in text, text


async def test_stopping_while_telegram_holds_many_replies_sends_every_waiting_one_at_once(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    """Telegram holds every reply; 24 members asked for /help. The stop waits for each
    update's handler, so the replies queued behind the 8 held ones must not each wait their
    turn and then their own timeout in turn (that took 30 s, past the 30 s the service
    manager grants before it kills the bot): once stopping, they all go at once."""
    slow = [await member_who_joined(sandbox, user_id, subscribe=False) for user_id in MANY]
    held = Fault.held()
    sandbox.add_fault(held, "sendMessage", times=None)
    for person in slow:
        await person.send("/help")
    await sandbox.wait_until(lambda: sandbox.stats.faults_fired >= 8, what="replies held")
    stopping = asyncio.create_task(bot.stop())
    await sandbox.wait_until(
        lambda: sandbox.stats.faults_fired >= len(MANY), timeout=3, what="every reply on its way"
    )
    held.release()
    await asyncio.wait_for(stopping, timeout=10)
    for person in slow:
        await person.expect("What this bot can do")


# -- a role revoked between two of a coordinator's updates --------------------------------------


def refusals(database: Path, actor_id: int) -> list[str]:
    with contextlib.closing(sqlite3.connect(database)) as connection:
        rows = connection.execute(
            "SELECT detail FROM audit_log WHERE action = 'refused' AND actor_id = ?", (actor_id,)
        ).fetchall()
    return [row[0] for row in rows]


@pytest.mark.parametrize(
    ("command", "button", "prompt", "typed", "refused"),
    [
        ("/feeds", "Add a feed", "Send the address", "https://example.org/f.xml", "post_updates"),
        ("/post", None, "Korean text", "새 소식이에요", "post_updates"),
        # Steps reached after several others: the flow is set where the earlier steps leave it.
        ("announce when", None, None, "tomorrow 09:00", "announce"),
        ("answer bundles", None, None, "1", "post_updates"),
    ],
)
async def test_a_typed_step_after_the_role_was_revoked_is_refused_and_audited_alike(
    bot: RunningBot,
    sandbox: FakeBotApi,
    database: Path,
    command: str,
    button: str | None,
    prompt: str | None,
    typed: str,
    refused: str,
) -> None:
    """A coordinator is in a flow, an admin revokes the role, the coordinator types the next
    step: it is refused and (like every refused privileged step) kept in /audit, whichever
    flow and step it was."""
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    if command.startswith("/"):
        await coordinator.send(command)
        if button is not None:
            await coordinator.click(await coordinator.expect(lambda m: bool(m.buttons)), button)
        await coordinator.expect(prompt or "")
    else:
        flow, step = command.split()
        await bot.runtime.flows.enter(COORDINATOR_ID, flow, step, {"ko": "안녕하세요"})
    admin = sandbox.user(ADMIN_ID, language_code="en")
    await admin.send(f"/revoke {COORDINATOR_ID} coordinator")
    await admin.expect("coordinator")
    await coordinator.send(typed)
    await coordinator.expect("only coordinators")
    await settled(bot, sandbox)
    assert refusals(database, COORDINATOR_ID) == [refused]
    await coordinator.send(typed)  # the flow was left: plain text now, not a step
    reply = await coordinator.expect(lambda m: True)
    assert "only coordinators" not in reply.text


# -- news: the drafting coordinator erases themselves; two coordinators, one item ---------------


async def test_a_coordinator_who_drafted_from_news_and_erased_themselves_frees_the_item(
    make_bot: StartBot,
    sandbox: FakeBotApi,
    feeds: FeedServer,  # noqa: F811 (the fixture imported above)
    clock: FrozenClock,
) -> None:
    """Coordinator A presses Draft update, then /forget; coordinator B, who pressed Draft
    update on the same item under an older /news a moment later, is told it is taken; once A
    is erased the item waits in /news again for B."""
    bot, first = await drafting_bot(make_bot, sandbox, feeds, clock)
    second = await staff(bot, sandbox, COORDINATOR_ID + 1, Role.COORDINATOR)
    pows = "North Korean POWs ask to go to Seoul"
    await second.send("/news")
    seen_by_second = await second.expect(pows)
    await draft_from_news(first, pows)
    query = await second.click(seen_by_second, "Draft update")
    answer = await sandbox.wait_for_callback_answer(query)
    assert "already dealt with" in str(answer.get("text")), answer
    await first.send("/forget")
    await first.click(await first.expect("Erase everything?"), "Erase everything")
    await first.expect("is erased")
    shown = await first_in_news(second)
    assert "2 items waiting." in shown.text and pows in shown.text
    await second.click(shown, "Draft update")
    await second.expect("Send the Korean text")
    assert rejected_calls(sandbox) == []


async def test_a_korean_newcomers_presses_are_answered_while_telegram_holds_others_replies(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    """Each onboarding button answers the press first: its reply (the next question) may wait
    behind replies a slow Telegram holds for others, the button's answer must not (Telegram
    refuses it 15 s after the press, and the spinner turns until then)."""
    slow = [await member_who_joined(sandbox, user_id, subscribe=False) for user_id in SLOW_CHATS]
    newcomer = sandbox.user(PRESSER, first_name="김", language_code="ko")
    await newcomer.send("/start")
    message = await newcomer.expect("‘편지’ 봇")
    for button, answered_by in (
        ("동의해요", "어떤 언어"),
        ("한국어", "받아 보시겠어요"),
        ("나중에요", "/subscribe"),
    ):
        held = Fault.held()
        for person in slow:
            sandbox.add_fault(held, "sendMessage", chat_id=person.id, times=None)
        fired = sandbox.stats.faults_fired
        for person in slow:
            await person.send("/help")
        await sandbox.wait_until(lambda f=fired: sandbox.stats.faults_fired >= f + 8, what="held")
        query = await newcomer.click(message, button)
        await sandbox.wait_for_callback_answer(query, timeout=2)
        held.release()
        sandbox.clear_faults()
        for person in slow:
            await person.expect("What this bot can do")
        message = await newcomer.expect(answered_by)
    await settled(bot, sandbox)
    assert rejected_calls(sandbox) == []
