"""Exploratory stories after session 3: stopping mid-broadcast, first charts and bundles, a
Korean-only newcomer, and hostile text where earlier passes did not look.

Each test is a short story through the real Application, the fake Bot API and a real SQLite
file; none sleeps for real time (held answers, drained bots and run jobs instead).
"""

from __future__ import annotations

import asyncio
import importlib.abc
import logging
import re
import signal
import sqlite3
import sys
import threading
from pathlib import Path

import pytest

from bot.models import Role
from bot.services.charts import ChartData, Panel, Series, render_png
from bot.storage.database import Database
from fakebotapi.faults import Fault
from fakebotapi.server import FakeBotApi
from tests.conftest import StartBot, rejected_calls
from tests.support.harness import (
    COORDINATOR_ID,
    COURIER_ID,
    FrozenClock,
    RunningBot,
    eventually,
    expect_nothing_more,
    settled,
)
from tests.support.people import member_who_joined, staff
from tests.support.seeding import seed_announcement, seed_subscribers, seeded_database
from tests.test_exploration import LATE, WRITER_ID, rows
from tests.test_letters import LETTER_KO, needs_font, write
from tests.test_operations import assert_clean_log, bot_environment
from tests.test_supervision import write_lock

RECIPIENTS = range(70_000, 70_030)
MARKER = "Across a stop"


def outbox_states(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        return dict(connection.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state"))


def sent_per_chat(sandbox: FakeBotApi) -> dict[int, int]:
    counts: dict[int, int] = {}
    for call in sandbox.calls_to("sendMessage"):
        if call.ok and call.chat_id is not None and MARKER in str(call.params.get("text")):
            counts[call.chat_id] = counts.get(call.chat_id, 0) + 1
    return counts


def no_nested_transactions(caplog: pytest.LogCaptureFixture) -> None:
    """Logs name a failure's kind, never its message: a transaction left open would show as
    a database_error (or a handler_error) of the stopping bot, a lock only as database_locked."""
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "kind=database_error" not in text and "kind=crash" not in text
    assert "event=handler_error" not in text
    assert "within a transaction" not in text and "not open" not in text


# -- an operator stops the bot mid-broadcast, right as sends end -------------------------------


@pytest.mark.parametrize("turns", [0, 1, 2, 3, 5, 8, 13, 40])
async def test_stopping_right_as_sends_end_loses_nothing_and_repeats_nothing(
    make_bot: StartBot,
    sandbox: FakeBotApi,
    database: Path,
    caplog: pytest.LogCaptureFixture,
    turns: int,
) -> None:
    """Telegram holds the first answers, lets them all go at once, and the operator stops the
    bot `turns` loop turns later: outcomes in memory, a write-back under way or just done."""
    caplog.set_level(logging.WARNING)
    sandbox.state.auto_create_chats = True
    bot = await make_bot()
    held = Fault.held()
    sandbox.add_fault(held, "sendMessage", times=None)
    await seed_subscribers(bot.runtime.db, RECIPIENTS)
    await seed_announcement(bot.runtime.db, MARKER)
    bot.runtime.sender.wake()
    await sandbox.wait_until(lambda: sandbox.stats.faults_fired >= 4, what="sends held")
    held.release()
    for _ in range(turns):
        await asyncio.sleep(0)
    await bot.stop()
    states = outbox_states(database)
    assert "sending" not in states, states
    assert states.get("pending", 0) + states.get("sent", 0) == len(RECIPIENTS)

    sandbox.clear_faults()
    await make_bot()
    await eventually(lambda: outbox_states(database) == {"sent": len(RECIPIENTS)}, what="sent")
    # In-process, every send in flight was answered before the stop wrote it: none twice.
    assert sent_per_chat(sandbox) == dict.fromkeys(RECIPIENTS, 1)
    no_nested_transactions(caplog)


@pytest.mark.parametrize("turns", [0, 2, 8])
async def test_stopping_while_another_connection_holds_the_write_lock(
    make_bot: StartBot,
    sandbox: FakeBotApi,
    database: Path,
    caplog: pytest.LogCaptureFixture,
    turns: int,
) -> None:
    """An operator's sqlite3 shell holds the write lock as the bot stops: the outcomes cannot
    be written, so those rows go out again after the restart (the documented window), and
    nothing else is lost or doubled."""
    caplog.set_level(logging.WARNING)
    sandbox.state.auto_create_chats = True
    bot = await make_bot(backoff=lambda failures: 0.005, busy_timeout_ms=20)
    held = Fault.held()
    sandbox.add_fault(held, "sendMessage", times=None)
    await seed_subscribers(bot.runtime.db, RECIPIENTS)
    await seed_announcement(bot.runtime.db, MARKER)
    bot.runtime.sender.wake()
    await sandbox.wait_until(lambda: sandbox.stats.faults_fired >= 4, what="sends held")
    async with write_lock(database):
        held.release()
        for _ in range(turns):
            await asyncio.sleep(0)
        await bot.stop()
    sandbox.clear_faults()
    await make_bot()
    await eventually(lambda: outbox_states(database) == {"sent": len(RECIPIENTS)}, what="sent")
    counts = sent_per_chat(sandbox)
    assert set(counts) == set(RECIPIENTS)
    twice = [chat for chat, n in counts.items() if n > 1]
    assert all(n <= 2 for n in counts.values())
    # Only rows whose outcome the lock kept from the disk: at most the batch claimed before it.
    assert len(twice) <= bot.runtime.sender._claim_size
    no_nested_transactions(caplog)


# -- the first /stats and /bundle after a start, pressed together, and while locked ------------

HANGUL = re.compile(r"[가-힣]")
SORRY_KO = "문제가 생겼어요"  # "Sorry, something went wrong on our side"


def korean_and_calm(text: str) -> None:
    """A reply a Korean reader can read: Korean, no stack trace, no English error."""
    assert HANGUL.search(text), text
    for leak in ("Traceback", "Error", "sqlite", "locked", "went wrong", SORRY_KO):
        assert leak not in text, text


async def test_two_coordinators_press_stats_at_once_on_a_fresh_start(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    first = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR, "ko")
    second = await staff(bot, sandbox, COORDINATOR_ID + 1, Role.COORDINATOR, "ko")
    await first.send("/stats")
    await second.send("/stats")
    for person in (first, second):
        summary = await person.expect("소식 받는 분")
        korean_and_calm(summary.text)
        chart = await person.expect(lambda m: m.kind == "photo")
        korean_and_calm(chart.text)
    await expect_nothing_more(bot, first, second)
    assert rejected_calls(sandbox) == []


async def test_stats_while_another_connection_holds_the_write_lock(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path
) -> None:
    bot = await make_bot(backoff=lambda failures: 0.005, busy_timeout_ms=20)
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR, "ko")
    async with write_lock(database):
        await coordinator.send("/stats")
        answer = await coordinator.expect(lambda m: True)
        assert "Traceback" not in answer.text and HANGUL.search(answer.text), answer.text
    await settled(bot, sandbox)
    await coordinator.send("/stats")
    await coordinator.expect(lambda m: m.kind == "photo")
    assert rejected_calls(sandbox) == []


@needs_font
async def test_two_couriers_press_bundle_at_once_get_one_bundle_between_them(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    writer = await member_who_joined(sandbox, WRITER_ID, "ko")
    first = await staff(bot, sandbox, COURIER_ID, Role.COURIER, "ko")
    second = await staff(bot, sandbox, COURIER_ID + 1, Role.COURIER, "ko")
    await write(writer, LETTER_KO)
    await bot.runtime.letters.approve(COORDINATOR_ID, 1)
    await first.send("/bundle")
    await second.send("/bundle")
    await settled(bot, sandbox)
    documents = [
        m
        for person in (first, second)
        for m in sandbox.messages(person.id)
        if m.kind == "document"
    ]
    assert len(documents) == 1  # the letter is printed once
    for person in (first, second):
        last = sandbox.messages(person.id)[-1]
        if last.kind != "document":
            korean_and_calm(last.text)
    assert rows(database, "SELECT COUNT(*) FROM bundles") == [(1,)]
    assert rejected_calls(sandbox) == []


@needs_font
async def test_bundle_while_another_connection_holds_the_write_lock(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path
) -> None:
    bot = await make_bot(backoff=lambda failures: 0.005, busy_timeout_ms=20)
    writer = await member_who_joined(sandbox, WRITER_ID, "ko")
    courier = await staff(bot, sandbox, COURIER_ID, Role.COURIER, "ko")
    await write(writer, LETTER_KO)
    await bot.runtime.letters.approve(COORDINATOR_ID, 1)
    async with write_lock(database):
        await courier.send("/bundle")
        answer = await courier.expect(lambda m: True)
        assert answer.kind != "document"
        assert "Traceback" not in answer.text and HANGUL.search(answer.text), answer.text
    assert rows(database, "SELECT state FROM letters") == [("approved",)]
    await courier.send("/bundle")
    await courier.expect(lambda m: m.kind == "document")
    assert rejected_calls(sandbox) == []


class ImportWatcher(importlib.abc.MetaPathFinder):
    """Notes which thread imports a module; finds nothing itself."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.threads: list[int] = []

    def find_spec(self, fullname: str, path: object, target: object = None) -> None:
        if fullname == self.name:
            self.threads.append(threading.get_ident())


@needs_font
async def test_the_first_bundle_imports_its_pdf_library_off_the_event_loop(
    bot: RunningBot, sandbox: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fpdf2 and fontTools take a third of a second to import: on the event loop, every
    member's reply waits for the first bundle of the day. /stats imports matplotlib in its
    rendering thread; the bundle must too."""
    writer = await member_who_joined(sandbox, WRITER_ID, "ko")
    courier = await staff(bot, sandbox, COURIER_ID, Role.COURIER, "ko")
    await write(writer, LETTER_KO)
    await bot.runtime.letters.approve(COORDINATOR_ID, 1)
    watcher = ImportWatcher("bot.services.bundle_pdf")
    monkeypatch.delitem(sys.modules, "bot.services.bundle_pdf", raising=False)
    monkeypatch.setattr(sys, "meta_path", [watcher, *sys.meta_path])
    await courier.send("/bundle")
    await courier.expect(lambda m: m.kind == "document")
    assert watcher.threads, "the bundle was rendered without importing its module"
    assert threading.get_ident() not in watcher.threads


# -- a newcomer who reads only Korean: double taps and old buttons -----------------------------

NEWCOMER_ID = 7777


# Late presses cannot be answered, and a double tap carries the buttons the first one removed.
@pytest.mark.rejects_on_purpose("query is too old", "message is not modified")
async def test_a_korean_newcomer_double_tapping_onboarding_is_asked_each_thing_once(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    """Every onboarding button tapped twice (the second late, from a slow phone): one language
    question, one subscription offer, and an old "No" after agreeing erases nothing."""
    newcomer = sandbox.user(NEWCOMER_ID, first_name="민지", language_code="ko")
    await newcomer.send("/start")
    welcome = await newcomer.expect("‘편지’ 봇")
    agree = welcome.button("동의해요").callback_data
    decline = welcome.button("동의하지").callback_data
    assert agree is not None and decline is not None
    await newcomer.press(welcome, agree)
    await newcomer.press(welcome, agree)
    await newcomer.press(welcome, agree, age=LATE)
    question = await newcomer.expect("어떤 언어")
    korean = question.button("한국어").callback_data
    assert korean is not None
    await newcomer.press(question, korean)
    await newcomer.press(question, korean, age=LATE)
    offer = await newcomer.expect("받아 보시겠어요")
    later = offer.button("나중에").callback_data
    assert later is not None
    await newcomer.click(offer, "네")
    await newcomer.expect("이제 소식을 받아요")
    await newcomer.press(offer, later, age=LATE)  # an old "Not now": she stays subscribed
    await newcomer.expect("이미 소식을 받고 계세요")
    await settled(bot, sandbox)
    texts = [
        str(call.params.get("text"))
        for call in sandbox.calls_to("sendMessage")
        if call.chat_id == NEWCOMER_ID
    ]
    assert sum("어떤 언어" in text for text in texts) == 1, texts
    assert sum("받아 보시겠어요" in text for text in texts) == 1, texts

    # Writing a letter, she taps the old language question and then the old "No".
    await newcomer.send("/write")
    await newcomer.expect("두 병사에게 보내는 편지")
    await newcomer.press(question, korean, age=LATE)
    await newcomer.send(LETTER_KO)
    await newcomer.expect("필명을 정해")  # the draft went on
    await newcomer.press(welcome, decline)
    await settled(bot, sandbox)
    assert rows(database, "SELECT user_id, subscribed FROM members") == [(NEWCOMER_ID, 1)]
    assert rows(database, "SELECT flow FROM conversations") == [("write",)]
    assert not any("저장하지 않았어요" in m.text for m in sandbox.messages(NEWCOMER_ID))
    for message in sandbox.messages(NEWCOMER_ID):
        korean_and_calm(message.text)


async def test_sigterm_right_as_held_sends_are_answered(
    sandbox: FakeBotApi, tmp_path: Path
) -> None:
    """`python -m bot run`: Telegram holds the first answers and lets them go as SIGTERM
    arrives. The process ends cleanly, nothing stays 'sending', and the next start sends the
    rest: each chat gets the announcement once."""
    sandbox.state.auto_create_chats = True
    database = tmp_path / "bot.sqlite3"
    await seeded_database(database, RECIPIENTS, MARKER)
    held = Fault.held()
    sandbox.add_fault(held, "sendMessage", times=None)
    environment = bot_environment(sandbox, database)
    log = tmp_path / "bot.log"
    with log.open("w") as stderr:
        first = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=environment, stderr=stderr
        )
        await sandbox.wait_until(lambda: sandbox.stats.faults_fired >= 4, timeout=60)
        held.release()
        first.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(first.wait(), timeout=30) == 0
        assert "sending" not in outbox_states(database)
        sandbox.clear_faults()
        second = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=environment, stderr=stderr
        )
        try:
            await eventually(
                lambda: outbox_states(database) == {"sent": len(RECIPIENTS)}, timeout=60
            )
        finally:
            second.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.wait(), timeout=30) == 0
    assert sent_per_chat(sandbox) == dict.fromkeys(RECIPIENTS, 1)
    assert_clean_log(log)
    text = log.read_text()
    assert "Traceback" not in text and "within a transaction" not in text


@needs_font
def test_every_chart_after_the_first_leaves_matplotlibs_font_list_as_it_was() -> None:
    """The Korean font is added to matplotlib once: added at every /stats, the list every
    font lookup scores grew with each chart (and its lookup cache was emptied each time)."""
    from matplotlib import font_manager

    data = ChartData((Panel("소식 받는 분", ("11-30",), (Series("한국어", (1,)),), "bar"),))
    render_png(data)
    fonts = len(font_manager.fontManager.ttflist)
    render_png(data)
    render_png(data)
    assert len(font_manager.fontManager.ttflist) == fonts


async def test_buttons_under_days_old_messages_still_work_in_korean(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    """Under a message too old to show the bot, Telegram sends the press with an
    InaccessibleMessage (no text, no buttons, a date of 0): the settings screen, the letter's
    withdrawal and /forget's question must still act, answer and speak Korean."""
    member = await member_who_joined(sandbox, NEWCOMER_ID, "ko")
    await member.send("/settings")
    screen = await member.expect("내 설정")
    query = await member.click(screen, "하루 한 번", inaccessible=True)
    assert (await sandbox.wait_for_callback_answer(query))["text"] == "저장했어요."
    await member.expect("매일 08:00")
    await write(member, LETTER_KO)
    await member.send("/letters")
    letters = await member.expect(lambda m: bool(m.buttons))
    await member.click(letters, "취소", inaccessible=True)
    confirm = await member.expect(lambda m: bool(m.buttons))
    await member.click(confirm, confirm.buttons[0][0].text, inaccessible=True)
    await member.expect("지웠어요")
    await member.send("/forget")
    question = await member.expect(lambda m: bool(m.buttons))
    await member.click(question, "그대로 두기", inaccessible=True)
    await member.expect("아무것도 지우지 않았어요")
    await settled(bot, sandbox)
    assert rows(database, "SELECT delivery_mode FROM members") == [("daily",)]
    assert rows(database, "SELECT state, text FROM letters") == [("withdrawn", "")]
    for message in sandbox.messages(NEWCOMER_ID):
        korean_and_calm(message.text)
    assert rejected_calls(sandbox) == []


# -- an attacker with a coordinator's account: hostile text where earlier passes did not look --


UNREADABLE_KO = "날짜와 시각을 알아보지 못했어요"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("9" * 4000, UNREADABLE_KO),
        ("2026-11-22 " + "1" * 4301 + ":00", UNREADABLE_KO),  # past Python's 4300 digits
        ("٩" * 4400, UNREADABLE_KO),  # Arabic-Indic nines, read as digits too
        ("0 0 0 0 0", UNREADABLE_KO),
        ("١٨:٣٠\u202e", "보낼까요"),  # Arabic-Indic digits are read; the control is not echoed
    ],
)
async def test_a_hostile_time_for_a_scheduled_announcement_is_refused_plainly(
    bot: RunningBot, sandbox: FakeBotApi, database: Path, typed: str, expected: str
) -> None:
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR, "ko")
    await coordinator.send("/announce")
    await coordinator.send("/skip")
    await coordinator.send("모두 모여요. 다음 주 모임 안내예요.")
    await coordinator.click(await coordinator.expect("누구에게 보낼까요"), "모두")
    await coordinator.click(await coordinator.expect("지금 0명에게 보낼까요"), "예약하기")
    await coordinator.expect("언제 보낼까요")
    await coordinator.send(typed)
    answer = await coordinator.expect(lambda m: expected in m.text or SORRY_KO in m.text)
    korean_and_calm(answer.text)
    assert "\u202e" not in answer.text
    assert rows(database, "SELECT COUNT(*) FROM scheduled_announcements") == [(0,)]
    assert rejected_calls(sandbox) == []


# -- the shared connection after a COMMIT that fails --------------------------------------------


async def test_a_commit_that_fails_leaves_no_transaction_open(tmp_path: Path) -> None:
    """SQLite keeps the transaction open when COMMIT itself fails (a deferred constraint, a
    busy or full disk): rolled back there too, or every later BEGIN on the one shared
    connection fails with "cannot start a transaction within a transaction"."""
    database = Database(tmp_path / "pyeonji.sqlite3")
    await database.open()
    await database.execute("CREATE TABLE parents (id INTEGER PRIMARY KEY)")
    await database.execute(
        "CREATE TABLE children (id INTEGER PRIMARY KEY, parent INTEGER"
        " REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED)"
    )
    try:
        with pytest.raises(sqlite3.IntegrityError):
            async with database.transaction() as connection:
                await connection.execute("INSERT INTO children (parent) VALUES (42)")
        assert not database.connection.in_transaction
        assert await database.execute("INSERT INTO parents (id) VALUES (1)") == 1
        assert await database.fetch_all("SELECT * FROM children") == []
    finally:
        await database.close()


async def test_a_double_tapped_send_does_not_ask_for_the_letter_again(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    """The second tap on Send comes after the letter went: its notice points to /letters, where
    the letter is, not to /write, which would have her write and send it a second time."""
    writer = await member_who_joined(sandbox, NEWCOMER_ID, "ko")
    await writer.send("/write")
    await writer.expect("두 병사에게 보내는 편지")
    await writer.send(LETTER_KO)
    await writer.click(await writer.expect("필명을 정해"), "어머니")
    preview = await writer.expect("검토를 요청할까요")
    send = preview.button("보내기").callback_data
    assert send is not None
    await writer.press(preview, send)
    second = await writer.press(preview, send)
    await writer.expect("검토를 기다리고")
    notice = str((await sandbox.wait_for_callback_answer(second))["text"])
    assert "/letters" in notice and "다시 보내" not in notice, notice
    assert rows(database, "SELECT COUNT(*) FROM letters") == [(1,)]


@pytest.mark.rejects_on_purpose("message is not modified")  # the stray tap's screen is as shown
async def test_a_newcomer_who_chooses_the_language_days_later_is_still_offered_updates(
    make_bot: StartBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    """Agreed, then left the phone for two days: onboarding's draft has expired by the time she
    picks the language, and the offer to subscribe still follows (once)."""
    bot = await make_bot(clock)
    newcomer = sandbox.user(NEWCOMER_ID, first_name="민지", language_code="ko")
    await newcomer.send("/start")
    await newcomer.click(await newcomer.expect("‘편지’ 봇"), "동의해요")
    question = await newcomer.expect("어떤 언어")
    clock.advance(days=2)
    await bot.run_job("tidy")  # the half-minute job that expires abandoned drafts
    korean = question.button("한국어").callback_data
    assert korean is not None
    await newcomer.press(question, korean)
    offer = await newcomer.expect("받아 보시겠어요")
    await newcomer.click(offer, "네")
    await newcomer.expect("이제 소식을 받아요")
    await sandbox.wait_until(
        lambda: newcomer.chat.messages[offer.message_id].reply_markup is None,
        what="the offer's buttons removed",
    )
    await newcomer.press(question, korean)  # and a stray tap later offers nothing more
    await expect_nothing_more(bot, newcomer)
