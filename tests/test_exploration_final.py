"""Exploratory stories after the last merges: the in-flight cap under a slow Telegram, reads
made once per update, start-up waits, alerts of refusals, news retention, a Korean newcomer.

Each test is a short story through the real Application, the fake Bot API and a real SQLite
file; none sleeps for real time (held answers, run jobs and the injected clock instead).
"""

from __future__ import annotations

from fakebotapi.faults import Fault
from fakebotapi.server import FakeBotApi
from tests.support.harness import RunningBot, expect_nothing_more
from tests.support.people import member_who_joined

SLOW_CHATS = range(91_000, 91_010)  # more than CALLS_IN_FLIGHT
PRESSER = 91_100


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
