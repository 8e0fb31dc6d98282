"""Exploratory scenarios: features mixed the way real people (and attackers) mix them.

Each test is a short story through the real Application, the fake Bot API and a real SQLite
file: a coordinator whose role goes away mid-flow, a writer who erases everything while their
letter is in a bundle, late presses, hostile text in every typed step, a feed that tries to
smuggle markup into a draft.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.handlers.gatekeeper import Gatekeeper
from bot.models import Role
from bot.services.throttle import FloodGuard
from fakebotapi.server import FakeBotApi
from fakebotapi.users import FakeUser
from tests.conftest import StartBot, rejected_calls
from tests.support.feed_server import FeedServer, Route
from tests.support.harness import (
    ADMIN_ID,
    COORDINATOR_ID,
    COURIER_ID,
    FrozenClock,
    RunningBot,
)
from tests.support.people import member_who_joined, staff
from tests.support.seeding import seed_subscribers
from tests.test_letters import LETTER_EN, LETTER_KO, write
from tests.test_supervision import write_lock

LATE = 20.0  # seconds: past the ~15 s in which Telegram takes an answer to a press
WRITER_ID = 5151
OTHER_ID = 5252
# Hostile text of every kind a typed step can receive.
RLO = "\u202e"
ZERO_WIDTH = "\u200b"
HOSTILE = [
    '<a href="https://evil.example/">x</a><b>bold</b> & </code>',
    "x" * 5000,
    f"Se{ZERO_WIDTH}oul {RLO}nodnoL",
    "😀👍🏽👨‍👩‍👧" * 50,
    "Seoul\x00London",
    "\u2066\u2067\u2068\u2069\u200e\u200f",
]


def relax_flood_guard(bot: RunningBot) -> None:
    """These stories type fast on purpose: the flood guard is tested in test_abuse.py."""
    for handler in bot.application.handlers[-1]:
        gatekeeper = getattr(handler.callback, "__self__", None)
        if isinstance(gatekeeper, Gatekeeper):
            gatekeeper.guard = FloodGuard(max_in_window=10_000)
            return
    raise AssertionError("no gatekeeper")


def refused(sandbox: FakeBotApi) -> list[str]:
    """Malformed calls, except answers to presses Telegram no longer takes (a late press)."""
    return [call for call in rejected_calls(sandbox) if "query is too old" not in call]


def rows(database: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql, args).fetchall()


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    server = FeedServer()
    server.start()
    yield server
    server.stop()


async def mydata(person: FakeUser, sandbox: FakeBotApi) -> dict[str, object]:
    """/mydata, parsed."""
    await person.send("/mydata")
    document = await person.expect(lambda m: m.kind == "document")
    assert document.file_id is not None
    parsed = json.loads(sandbox.file(document.file_id).data)
    assert isinstance(parsed, dict)
    return parsed


# -- roles that go away mid-flow --------------------------------------------------------------


async def test_a_coordinator_revoked_while_composing_a_post_cannot_go_on_typing(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    admin = sandbox.user(ADMIN_ID, language_code="en")
    await coordinator.send("/post")
    await coordinator.expect("Korean")
    await coordinator.send("두 분 소식이에요.")
    await coordinator.expect("English")
    await admin.send(f"/revoke {COORDINATOR_ID} coordinator")
    await admin.expect("no longer")
    # The hijacked account's owner was removed: the next typed step is refused, the draft gone.
    await coordinator.send("News of the two soldiers.")
    await coordinator.expect("Sorry")
    assert rows(bot.config.database_path, "SELECT * FROM conversations") == []
    await coordinator.send("/skip")
    await coordinator.expect(lambda m: "Send a photo" not in m.text and "Publish" not in m.text)
    assert rows(bot.config.database_path, "SELECT * FROM updates") == []


async def test_a_coordinator_revoked_while_announcing_cannot_go_on_typing(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    admin = sandbox.user(ADMIN_ID, language_code="en")
    await coordinator.send("/announce")
    await coordinator.expect("Korean")
    await admin.send(f"/revoke {COORDINATOR_ID} coordinator")
    await admin.expect("no longer")
    await coordinator.send("모두 모여요.")
    await coordinator.expect("Sorry")
    assert rows(bot.config.database_path, "SELECT * FROM conversations") == []


@pytest.mark.rejects_on_purpose("query is too old")  # presses answered late on purpose
async def test_revoked_staff_pressing_their_old_buttons_change_nothing(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    writer = await member_who_joined(sandbox, WRITER_ID, "en")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    courier = await staff(bot, sandbox, COURIER_ID, Role.COURIER)
    admin = sandbox.user(ADMIN_ID, language_code="en")
    await write(writer, LETTER_KO)
    await write(writer, LETTER_EN)
    await coordinator.send("/review")
    card = await coordinator.expect(lambda m: bool(m.buttons) and "Approve" in str(m.buttons))
    await coordinator.send("/post")
    await coordinator.expect("Korean")
    await coordinator.send("소식")
    await coordinator.expect("English")
    await coordinator.send("/skip")
    await coordinator.expect("photo")
    await coordinator.send("/skip")
    preview = await coordinator.expect(lambda m: "Publish" in str(m.buttons))
    await coordinator.send("/translate")
    translate_card = await coordinator.expect(lambda m: True)
    await bot.runtime.letters.approve(ADMIN_ID, 1)
    await courier.send("/bundle")
    await courier.expect(lambda m: m.kind == "document")
    await courier.send("/bundles")
    bundles = await courier.expect(lambda m: "handed over" in str(m.buttons))

    for role, person in (("coordinator", coordinator), ("courier", courier)):
        await admin.send(f"/revoke {person.id} {role}")
        await admin.expect("no longer")
    before = {
        table: rows(bot.config.database_path, f"SELECT * FROM {table}")
        for table in ("letters", "updates", "bundles")
    }
    await coordinator.click(card, "Approve", age=LATE)
    await coordinator.click(preview, "Publish", age=LATE)
    if translate_card.buttons:
        await coordinator.press(translate_card, translate_card.buttons[0][0].callback_data or "")
    await courier.click(bundles, "again")
    await courier.click(bundles, "handed over")
    await sandbox.wait_until_fetched()
    assert await bot.runtime.sender.drained(timeout=10)
    after = {
        table: rows(bot.config.database_path, f"SELECT * FROM {table}")
        for table in ("letters", "updates", "bundles")
    }
    assert after == before
    assert [m for m in sandbox.messages(COURIER_ID) if m.kind == "document"].__len__() == 1
    assert refused(sandbox) == []


# -- a writer who erases everything while their letter is on its way -------------------------


async def test_a_writer_who_forgets_while_in_review_leaves_no_card_to_decide(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    writer = await member_who_joined(sandbox, WRITER_ID, "ko")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await write(writer, LETTER_KO)
    await coordinator.send("/review")
    card = await coordinator.expect(lambda m: "Approve" in str(m.buttons))
    await writer.send("/forget")
    await writer.click(await writer.expect(lambda m: bool(m.buttons)), "지우기")
    await writer.expect("지웠")
    told = len(sandbox.messages(WRITER_ID))
    await coordinator.click(card, "Approve")
    await coordinator.expect(lambda m: "Approve" not in str(m.buttons))
    assert await bot.runtime.sender.drained(timeout=10)
    assert rows(bot.config.database_path, "SELECT * FROM letters") == []
    assert len(sandbox.messages(WRITER_ID)) == told  # nobody left to tell
    assert rejected_calls(sandbox) == []


async def test_a_writer_who_forgets_after_printing_is_not_told_of_the_hand_over(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    writer = await member_who_joined(sandbox, WRITER_ID, "ko")
    other = await member_who_joined(sandbox, OTHER_ID, "en")
    courier = await staff(bot, sandbox, COURIER_ID, Role.COURIER)
    await write(writer, LETTER_KO)
    await write(other, LETTER_KO)
    await bot.runtime.letters.approve(COORDINATOR_ID, 1)
    await bot.runtime.letters.approve(COORDINATOR_ID, 2)
    await courier.send("/bundle")
    await courier.expect(lambda m: m.kind == "document")
    await courier.send("/bundles")
    bundles = await courier.expect(lambda m: "again" in str(m.buttons))
    await writer.send("/forget")
    await writer.click(await writer.expect(lambda m: bool(m.buttons)), "지우기")
    await writer.expect("지웠")
    told = len(sandbox.messages(WRITER_ID))
    # Send again: only the letter still stored is printed again.
    await courier.click(bundles, "again")
    again = await courier.expect(lambda m: m.kind == "document" or "letters" in m.text)
    assert again.kind == "document" and "1 letter." in again.text
    await courier.click(bundles, "handed over")
    ask = await courier.expect(lambda m: "Today" in str(m.buttons))
    await courier.click(ask, "Today")
    await courier.expect("marked as handed over")
    await other.expect("handed over")
    assert await bot.runtime.sender.drained(timeout=10)
    assert len(sandbox.messages(WRITER_ID)) == told  # nobody left to tell
    assert (
        rows(bot.config.database_path, "SELECT * FROM letters WHERE user_id = ?", WRITER_ID) == []
    )
    assert rejected_calls(sandbox) == []


# -- late presses on confirming buttons ------------------------------------------------------


@pytest.mark.rejects_on_purpose("query is too old")  # presses answered late on purpose
async def test_late_presses_on_confirming_buttons_still_act(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    writer = await member_who_joined(sandbox, WRITER_ID, "en")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    courier = await staff(bot, sandbox, COURIER_ID, Role.COURIER)
    await writer.send("/write")
    await writer.expect("A letter to the two soldiers")
    await writer.send(LETTER_KO)
    ask = await writer.expect("Now a pen name")
    await writer.click(ask, "어머니", age=LATE)
    preview = await writer.expect("Send it for review?")
    await writer.click(preview, "Send", age=LATE)
    await writer.expect("waiting for review")
    await coordinator.send("/review")
    card = await coordinator.expect(lambda m: "Approve" in str(m.buttons))
    await coordinator.click(card, "Approve", age=LATE)
    await writer.expect("approved")
    await courier.send("/bundle")
    await courier.expect(lambda m: m.kind == "document")
    await courier.send("/bundles")
    bundles = await courier.expect(lambda m: "handed over" in str(m.buttons))
    await courier.click(bundles, "handed over", age=LATE)
    ask_day = await courier.expect(lambda m: "Today" in str(m.buttons))
    await courier.click(ask_day, "Today", age=LATE)
    await courier.expect("marked as handed over")
    await writer.expect("handed over")
    await writer.send("/forget")
    confirm = await writer.expect(lambda m: bool(m.buttons))
    await writer.press(confirm, confirm.buttons[0][0].callback_data or "", age=LATE)
    await writer.expect(lambda m: "erased" in m.text.lower() or "deleted" in m.text.lower())
    assert (
        rows(bot.config.database_path, "SELECT * FROM members WHERE user_id = ?", WRITER_ID) == []
    )
    assert refused(sandbox) == []


# -- hostile text in every typed step --------------------------------------------------------


async def test_hostile_time_zones_are_refused_without_echoing_controls(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    relax_flood_guard(bot)
    member = await member_who_joined(sandbox, WRITER_ID, "en")
    for typed in HOSTILE:
        await member.send("/settings")
        screen = await member.expect("Your settings")
        await member.click(screen, "Time zone")
        picker = await member.expect(lambda m: "Other" in str(m.buttons))
        await member.click(picker, "Other")
        await member.expect("Type a city")
        await member.send(typed)
        answer = await member.expect(lambda m: True)
        for control in (RLO, ZERO_WIDTH, "\x00", "\u2066", "\u200f"):
            assert control not in answer.text, (typed[:20], answer.text[:120])
        await member.send("/cancel")
        await member.expect(lambda m: True)
    assert rejected_calls(sandbox) == []


async def test_hostile_pen_names_and_reasons_reach_people_clean(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    relax_flood_guard(bot)
    writer = await member_who_joined(sandbox, WRITER_ID, "en")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    for pen in HOSTILE:
        await writer.send("/write")
        await writer.expect("A letter to the two soldiers")
        await writer.send(LETTER_EN)
        await writer.expect("Now a pen name")
        await writer.send(pen)
        answer = await writer.expect(lambda m: True)
        for control in (RLO, ZERO_WIDTH, "\x00", "\u2066"):
            assert control not in answer.text, (pen[:20], answer.text[:120])
        await writer.send("/cancel")
        await writer.expect(lambda m: True)
    await write(writer, LETTER_EN)
    await coordinator.send("/review")
    card = await coordinator.expect(lambda m: "Reject" in str(m.buttons))
    await coordinator.click(card, "Reject")
    reasons = await coordinator.expect(lambda m: bool(m.buttons))
    other = next(
        button.text
        for row in reasons.buttons
        for button in row
        if "own words" in button.text.lower() or "other" in button.text.lower()
    )
    await coordinator.click(reasons, other)
    await coordinator.expect(lambda m: True)
    await coordinator.send(HOSTILE[2] + " " + HOSTILE[0])
    await coordinator.expect(lambda m: True)
    assert await bot.runtime.sender.drained(timeout=10)
    for message in sandbox.messages(WRITER_ID):
        assert RLO not in message.text and ZERO_WIDTH not in message.text
    assert rejected_calls(sandbox) == []


# -- the news watch ---------------------------------------------------------------------------

SMUGGLING_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>&lt;a href="https://evil.example"&gt;Official&lt;/a&gt;</title>
<item>
<title>&lt;/code&gt;&lt;a href="https://evil.example/"&gt;Verify&lt;/a&gt; \u202egnp.exe</title>
<link>javascript:alert(1)</link>
<description>&lt;script&gt;x&lt;/script&gt;Ask @handler_kim</description>
<guid>smuggle-1</guid>
</item>
<item>
<title>Second &lt;code&gt; item</title>
<link>https://evil.example/\u202e/path?a=1&amp;b=&lt;b&gt;</link>
<guid>smuggle-2</guid>
</item>
</channel></rss>
"""


async def test_a_feed_item_cannot_smuggle_a_link_or_markup_into_news_or_the_draft(
    make_bot: StartBot, sandbox: FakeBotApi, feeds: FeedServer, clock: FrozenClock
) -> None:
    bot = await make_bot(clock, NEWS_ALLOW_HOSTS=f"127.0.0.1:{feeds.port}", NEWS_TIMEOUT="0.5")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    url = feeds.serve("/smuggle.xml", Route(SMUGGLING_FEED.encode()))
    await bot.runtime.news.add(url, COORDINATOR_ID)
    await bot.runtime.news.poll_due()
    await coordinator.send("/feeds")
    listing = await coordinator.expect("News feeds")
    assert "evil.example" not in str(listing.entities or "")
    await coordinator.send("/news")
    for _ in range(2):
        item = await coordinator.expect(lambda m: "Draft update" in str(m.buttons))
        assert RLO not in item.text
        assert "javascript" not in item.text
        # Nothing in the item is a clickable hidden link: only text_link entities would be.
        assert not any(e.get("type") == "text_link" for e in (item.entities or []))
        await coordinator.click(item, "Draft update")
        draft = await coordinator.expect("A draft update")
        assert not any(e.get("type") == "text_link" for e in (draft.entities or []))
        assert RLO not in draft.text
        await coordinator.expect("Korean")
        await coordinator.send("/cancel")
        await coordinator.expect(lambda m: True)
        await coordinator.send("/news")
    assert rejected_calls(sandbox) == []


async def test_hostile_feed_addresses_and_keywords(
    make_bot: StartBot, sandbox: FakeBotApi, feeds: FeedServer, clock: FrozenClock
) -> None:
    bot = await make_bot(clock, NEWS_ALLOW_HOSTS=f"127.0.0.1:{feeds.port}", NEWS_TIMEOUT="0.5")
    relax_flood_guard(bot)
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    addresses = [
        *HOSTILE,
        "http://127.0.0.1:1/",
        "http://[::1]/feed",
        "http://0x7f000001/",
        "file:///etc/passwd",
        "https://169.254.169.254/latest/meta-data/",
    ]
    for typed in addresses:
        await coordinator.send("/feeds")
        listing = await coordinator.expect("News feeds")
        await coordinator.click(listing, "Add a feed")
        await coordinator.expect("Send the address")
        await coordinator.send(typed)
        answer = await coordinator.expect(lambda m: True)
        assert "Added" not in answer.text, typed[:60]
        await coordinator.send("/cancel")
        await coordinator.expect(lambda m: True)
    # An address the bot may fetch, with a NUL and a direction control in it: stored encoded.
    feeds.serve("/ok%00%E2%80%AE.xml", Route(SMUGGLING_FEED.encode()))
    await coordinator.send("/feeds")
    await coordinator.click(await coordinator.expect("News feeds"), "Add a feed")
    await coordinator.expect("Send the address")
    await coordinator.send(f"http://127.0.0.1:{feeds.port}/ok\x00{RLO}.xml")
    await coordinator.expect("Added")
    (url,) = rows(bot.config.database_path, "SELECT url FROM news_feeds")[0]
    assert url == f"http://127.0.0.1:{feeds.port}/ok%00%E2%80%AE.xml"
    feed_id = (await bot.runtime.news.feeds())[0].id
    assert feed_id is not None
    for typed in HOSTILE:
        await coordinator.send("/feeds")
        listing = await coordinator.expect("News feeds")
        await coordinator.click(listing, f"Keywords {feed_id}")
        await coordinator.expect("Send the keywords")
        await coordinator.send(typed)
        saved = await coordinator.expect(lambda m: True)
        assert RLO not in saved.text and ZERO_WIDTH not in saved.text and "\x00" not in saved.text
    await coordinator.send("/feeds")
    await coordinator.expect("News feeds")
    assert rejected_calls(sandbox) == []


async def test_many_feeds_with_many_keywords_still_list(
    make_bot: StartBot, sandbox: FakeBotApi, feeds: FeedServer, clock: FrozenClock
) -> None:
    bot = await make_bot(clock, NEWS_ALLOW_HOSTS=f"127.0.0.1:{feeds.port}")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    keywords = ", ".join(f"키워드{n:02d}" + "가" * 50 for n in range(20))
    for number in range(40):
        feed_id = await bot.runtime.news.add(feeds.url(f"/f{number}.xml"), COORDINATOR_ID)
        assert feed_id is not None
        await bot.runtime.news.set_keywords(feed_id, keywords)
    await coordinator.send("/feeds")
    listing = [await coordinator.expect("News feeds")]
    while "Add a feed" not in str(listing[-1].buttons):
        listing.append(await coordinator.expect(lambda m: "Remove" in str(m.buttons)))
    labels = [button.text for message in listing for row in message.buttons for button in row]
    assert [f"Remove {number}" in labels for number in range(1, 41)] == [True] * 40
    assert all(len(message.text) <= 4096 for message in listing)
    assert rejected_calls(sandbox) == []


@pytest.mark.rejects_on_purpose("query is too old")  # presses answered late on purpose
async def test_stale_news_buttons(
    make_bot: StartBot, sandbox: FakeBotApi, feeds: FeedServer, clock: FrozenClock
) -> None:
    bot = await make_bot(clock, NEWS_ALLOW_HOSTS=f"127.0.0.1:{feeds.port}")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    other = await staff(bot, sandbox, COORDINATOR_ID + 1, Role.COORDINATOR)
    url = feeds.serve("/s.xml", Route(SMUGGLING_FEED.encode()))
    feed_id = await bot.runtime.news.add(url, COORDINATOR_ID)
    await bot.runtime.news.poll_due()
    await coordinator.send("/feeds")
    listing = await coordinator.expect("News feeds")
    await other.send("/feeds")
    other_listing = await other.expect("News feeds")
    await coordinator.send("/news")
    item = await coordinator.expect(lambda m: "Draft update" in str(m.buttons))
    await other.send("/news")
    other_item = await other.expect(lambda m: "Draft update" in str(m.buttons))
    await coordinator.click(listing, f"Remove {feed_id}")
    await coordinator.expect("Removed")
    for label in (f"Remove {feed_id}", f"Pause {feed_id}", f"Keywords {feed_id}"):
        query = await other.click(other_listing, label)
        answer = await sandbox.wait_for_callback_answer(query)
        assert "no longer followed" in str(answer)
    await coordinator.click(item, "Dismiss")
    await coordinator.expect(lambda m: True)
    query = await other.click(other_item, "Draft update", age=LATE)
    await other.expect(lambda m: True)
    assert rows(bot.config.database_path, "SELECT * FROM conversations") == []
    assert refused(sandbox) == []


# -- what /mydata shows after each feature ---------------------------------------------------


async def test_mydata_shows_ones_own_and_nothing_of_others(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    writer = await member_who_joined(sandbox, WRITER_ID, "en")
    other = await member_who_joined(sandbox, OTHER_ID, "en")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await write(writer, LETTER_EN, "A friend in Busan")
    await write(other, LETTER_KO, "Someone else entirely")
    await coordinator.send("/review")
    card = await coordinator.expect(lambda m: "Approve" in str(m.buttons))
    await coordinator.click(card, "Approve")
    await coordinator.expect(lambda m: True)
    await bot.runtime.news.set_watching(COORDINATOR_ID, True)
    await writer.send("/settings")
    await writer.expect("Your settings")

    mine = json.dumps(await mydata(writer, sandbox), ensure_ascii=False)
    assert "A friend in Busan" in mine and LETTER_EN in mine
    assert "Someone else" not in mine and str(OTHER_ID) not in mine
    assert str(COORDINATOR_ID) not in mine
    theirs = json.dumps(await mydata(coordinator, sandbox), ensure_ascii=False)
    assert "news_notices" in theirs and "coordinator" in theirs
    assert "A friend in Busan" not in theirs and LETTER_EN not in theirs
    assert LETTER_KO not in theirs and str(WRITER_ID) not in theirs
    assert str(OTHER_ID) not in theirs
    assert rejected_calls(sandbox) == []


# -- the database locked while people press buttons -------------------------------------------


async def test_presses_while_the_database_is_locked_lose_nothing_and_leave_no_spinner(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path
) -> None:
    bot = await make_bot(backoff=lambda failures: 0.005, busy_timeout_ms=20)
    writer = await member_who_joined(sandbox, WRITER_ID, "en")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await writer.send("/write")
    await writer.expect("A letter to the two soldiers")
    await writer.send(LETTER_EN)
    await writer.click(await writer.expect("Now a pen name"), "A mother")
    preview = await writer.expect("Send it for review?")
    async with write_lock(database):
        query = await writer.click(preview, "Send")
        await writer.expect("went wrong")
        # The press is answered, so the member's button stops spinning.
        assert (await sandbox.wait_for_callback_answer(query)) is not None
    await writer.click(preview, "Send")
    await writer.expect("waiting for review")
    await coordinator.send("/review")
    card = await coordinator.expect(lambda m: "Approve" in str(m.buttons))
    async with write_lock(database):
        await coordinator.click(card, "Approve")
        await coordinator.expect("went wrong")
    await coordinator.click(card, "Approve")
    await writer.expect("approved")
    assert rows(database, "SELECT state FROM letters") == [("approved",)]
    assert rejected_calls(sandbox) == []


# -- translations -----------------------------------------------------------------------------

TRANSLATOR_ID = 4000
TRANSLATION_A = "사랑하는 친구들, 힘내세요. 우리 모두 기다리고 있어요."
TRANSLATION_B = "친구들, 희망을 잃지 마세요. 우리가 늘 함께 있어요."


async def test_an_old_translation_preview_saves_nothing_else(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    writer = await member_who_joined(sandbox, WRITER_ID, "en")
    translator = await staff(bot, sandbox, TRANSLATOR_ID, Role.TRANSLATOR)
    await write(writer, LETTER_EN)
    await bot.runtime.letters.approve(COORDINATOR_ID, 1)
    await translator.send("/translate")
    await translator.expect("Letter waiting for a Korean translation")
    await translator.send(TRANSLATION_A)
    preview_a = await translator.expect(lambda m: "Save" in str(m.buttons))
    await translator.send("/translate")
    await translator.expect("Letter waiting for a Korean translation")
    await translator.send(TRANSLATION_B)
    preview_b = await translator.expect(lambda m: "Save" in str(m.buttons))
    # Save under the first preview: it was shown for text A, so it cannot save text B.
    query = await translator.click(preview_a, "Save")
    assert "expired" in str(await sandbox.wait_for_callback_answer(query))
    assert rows(bot.config.database_path, "SELECT translation FROM letters") == [(None,)]
    await translator.click(preview_b, "Save")
    await translator.expect("Saved.")
    assert rows(bot.config.database_path, "SELECT translation FROM letters") == [(TRANSLATION_B,)]
    assert rejected_calls(sandbox) == []


async def test_hostile_translations_and_a_revoked_translator(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    relax_flood_guard(bot)
    writer = await member_who_joined(sandbox, WRITER_ID, "en")
    translator = await staff(bot, sandbox, TRANSLATOR_ID, Role.TRANSLATOR)
    admin = sandbox.user(ADMIN_ID, language_code="en")
    await write(writer, LETTER_EN)
    await bot.runtime.letters.approve(COORDINATOR_ID, 1)
    await translator.send("/translate")
    await translator.expect("Letter waiting for a Korean translation")
    for typed in [
        *HOSTILE,
        "연락은 공일공 일이삼사 오육칠팔 로 주세요",
        "텔레그램 @kim_helper 로",
    ]:
        await translator.send(typed)
        answer = await translator.expect(lambda m: True)
        assert "Save" not in str(answer.buttons), typed[:40]
        for control in (RLO, ZERO_WIDTH, "\x00"):
            assert control not in answer.text
    await translator.send(TRANSLATION_A)
    preview = await translator.expect(lambda m: "Save" in str(m.buttons))
    await admin.send(f"/revoke {TRANSLATOR_ID} translator")
    await admin.expect("no longer")
    query = await translator.click(preview, "Save")
    assert "Sorry" in str(await sandbox.wait_for_callback_answer(query))
    assert rows(bot.config.database_path, "SELECT translation FROM letters") == [(None,)]
    assert rejected_calls(sandbox) == []


# -- pen names that borrow someone's trust ----------------------------------------------------


@pytest.mark.parametrize(
    "pen_name",
    ["텔레그램 고객센터", "Telegram Support", "기자 김", "Reporter Lee", "하나원 선생님"],
)
async def test_pen_names_of_telegram_journalists_and_hanawon_are_refused(
    bot: RunningBot, sandbox: FakeBotApi, pen_name: str
) -> None:
    """Phishing against defectors poses as Telegram's support, as journalists (the courier is
    one) and as the resettlement centre: a letter or notice signed so would borrow that trust."""
    writer = await member_who_joined(sandbox, WRITER_ID, "ko")
    await writer.send("/write")
    await writer.expect("두 병사에게 보내는 편지")
    await writer.send(LETTER_KO)
    await writer.expect("필명을 정해")
    await writer.send(pen_name)
    refusal = await writer.expect(lambda m: "필명" in m.text)
    assert "이 필명은 쓸 수 없어요" in refusal.text
    assert not refusal.buttons or "보내기" not in str(refusal.buttons)


# -- erasing oneself in the middle of a broadcast ---------------------------------------------


# One progress edit can repeat the text already shown while the author erases: harmless.
@pytest.mark.rejects_on_purpose("message is not modified")
async def test_the_author_and_a_recipient_erase_themselves_mid_announcement(
    make_bot: StartBot, sandbox: FakeBotApi
) -> None:
    bot = await make_bot(SEND_RATE="4")  # slow enough to erase in the middle
    recipient = await member_who_joined(sandbox, WRITER_ID, "en")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    recipients = range(9300, 9312)
    for user_id in recipients:
        sandbox.user(user_id, language_code="en")
    await seed_subscribers(bot.runtime.db, recipients)
    await coordinator.send("/announce")
    await coordinator.expect("Korean")
    await coordinator.send("/skip")
    await coordinator.expect("English")
    await coordinator.send("Saturday, the usual place.")
    await coordinator.click(await coordinator.expect("Who should receive"), "Everyone")
    await coordinator.click(await coordinator.expect("Send this announcement"), "Send")
    await coordinator.expect("Sending the announcement")
    await sandbox.wait_until(lambda: len(sandbox.calls_to("sendMessage")) > 3)
    for person in (recipient, coordinator):
        await person.send("/forget")
        await person.click(await person.expect(lambda m: "Erase" in str(m.buttons)), "Erase")
        await person.expect(lambda m: "erased" in m.text.lower() or "deleted" in m.text.lower())
    told = {person.id: len(sandbox.messages(person.id)) for person in (recipient, coordinator)}
    assert await bot.runtime.sender.drained(timeout=20)
    (summary,) = await bot.runtime.broadcasts.recent(1)
    assert summary.progress_chat_id is None
    after = {person.id: len(sandbox.messages(person.id)) for person in (recipient, coordinator)}
    assert after[COORDINATOR_ID] == told[COORDINATOR_ID]  # the author's progress message stops
    # A send already in flight when the recipient erased may still land (the documented
    # in-flight window), but nothing queued after the erase does.
    assert told[WRITER_ID] <= after[WRITER_ID] <= told[WRITER_ID] + 1
    assert all(count >= 0 for count in summary.counts.values())
    assert rows(
        bot.config.database_path,
        "SELECT COUNT(*) FROM outbox WHERE user_id IN (?, ?)",
        WRITER_ID,
        COORDINATOR_ID,
    ) == [(0,)]
    assert [call for call in rejected_calls(sandbox) if "not modified" not in call] == []


# -- hostile arguments to admin commands ------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        "/grant 99999999999999999999999 coordinator",
        "/grant -5 coordinator",
        "/revoke 99999999999999999999999 courier",
        "/block 99999999999999999999999",
        "/unblock 1e9",
        "/grant ١٢٣ coordinator",
        "/grant 1৪ coordinator",  # Bengali four, which reads as an 8
        "/block 𝟏𝟐𝟑",
        "/grant 123\u202e coordinator",
        "/grant 0x10 translator",
        "/start " + "w" * 64,
        "/start write\x00",
    ],
)
async def test_hostile_command_arguments_get_a_plain_answer(
    bot: RunningBot, sandbox: FakeBotApi, command: str
) -> None:
    admin = sandbox.user(ADMIN_ID, language_code="en")
    await admin.send(command)
    answer = await admin.expect(lambda m: True)
    assert "went wrong" not in answer.text, answer.text
    assert RLO not in answer.text
    assert rows(bot.config.database_path, "SELECT * FROM roles") == []
    assert rejected_calls(sandbox) == []


async def test_a_forged_skip_with_a_superscript_digit_changes_nothing(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    translator = await staff(bot, sandbox, TRANSLATOR_ID, Role.TRANSLATOR)
    await translator.send("/translate")
    shown = await translator.expect("No letters are waiting")
    query = await translator.press(shown, "tr:skip:²")
    assert "expired" in str(await sandbox.wait_for_callback_answer(query))
    assert not [m for m in sandbox.messages(TRANSLATOR_ID) if "went wrong" in m.text]
    assert rejected_calls(sandbox) == []


async def test_a_bundle_whose_only_writer_erased_everything(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    writer = await member_who_joined(sandbox, WRITER_ID, "en")
    courier = await staff(bot, sandbox, COURIER_ID, Role.COURIER)
    await write(writer, LETTER_KO)
    await bot.runtime.letters.approve(COORDINATOR_ID, 1)
    await courier.send("/bundle")
    await courier.expect(lambda m: m.kind == "document")
    await courier.send("/bundles")
    bundles = await courier.expect(lambda m: "again" in str(m.buttons))
    await writer.send("/forget")
    await writer.click(await writer.expect(lambda m: "Erase" in str(m.buttons)), "Erase")
    await writer.expect(lambda m: "erased" in m.text.lower() or "deleted" in m.text.lower())
    # Send again says why nothing comes, rather than "no approved letters are waiting".
    await courier.click(bundles, "again")
    await courier.expect("Bundle 1 has no letters left to print")
    await courier.click(bundles, "handed over")
    ask = await courier.expect(lambda m: "Today" in str(m.buttons))
    await courier.click(ask, "Today")
    await courier.expect("0 writers are being told")
    assert rejected_calls(sandbox) == []
