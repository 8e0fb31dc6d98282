"""Issue 19's coordinator tools tried as a hijacked coordinator account would use them."""

from __future__ import annotations

from bot.models import Role
from bot.services.links import LinkChecker
from fakebotapi.server import FakeBotApi
from tests.conftest import StartBot, rejected_calls
from tests.support.feed_server import FeedServer
from tests.support.harness import ADMIN_ID, COORDINATOR_ID, FrozenClock, expect_nothing_more
from tests.support.people import member_who_joined, staff
from tests.test_alerts import alerted
from tests.test_news import (
    feeds,  # noqa: F401 (the fixture)
    news_bot,
)
from tests.test_scheduled import AT_SIX_IN_SEOUL, received, schedule_for_six

# Browsers read a backslash as a slash: this opens evil.example, not pyeonji.org.
BACKSLASH_TRICK = "https://evil.example\\.pyeonji.org/login"


def test_tricks_to_pass_a_foreign_link_as_an_allowed_one_are_all_gated() -> None:
    checker = LinkChecker(["pyeonji.org"])
    for trick in (
        "evil.example/x",  # no scheme
        "hxxp://evil.example/x",
        "pyeonji.org.evil.example",  # the allowed name as a subdomain
        "https://pyeonji.org@evil.example/",  # user@host
        "https://pyeonji.org:443@evil.example/",
        "https://pyeonji.org%2eevil.example/",
        "http://pyeonji.org．evil.example",  # full-width dot
        "https://xn--pyonji-9ta.org",  # punycode look-alike
        "t.me/evil",
        "//evil.example/x",
        BACKSLASH_TRICK,
        "https://evil.example\\@pyeonji.org/",
    ):
        assert checker.needs_approval(trick), trick
    assert not checker.needs_approval("See PYEONJI.ORG/x and https://News.Pyeonji.org/a.")


async def test_a_backslash_link_hiding_another_site_waits_for_a_second_coordinator(
    make_bot: StartBot, sandbox: FakeBotApi
) -> None:
    bot = await make_bot(LINK_DOMAINS="pyeonji.org", SEND_RATE="50")
    reader = await member_who_joined(sandbox, 8901, "en")
    author = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await staff(bot, sandbox, COORDINATOR_ID + 1, Role.COORDINATOR)
    await author.send("/announce")
    await author.send("/skip")
    await author.send(f"Sign in again at {BACKSLASH_TRICK} today.")
    await author.click(await author.expect("Who should receive"), "Everyone")
    report = await author.expect("Links in this message")
    assert "evil.example" in report.text and "second coordinator" in report.text
    await author.click(await author.expect("Send this announcement"), "Send")
    await author.expect("Sent for approval to 1 other coordinator.")
    await expect_nothing_more(bot, reader)
    assert rejected_calls(sandbox) == []


async def test_a_revoked_coordinators_scheduled_announcement_does_not_go_out(
    make_bot: StartBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    bot = await make_bot(clock, SEND_RATE="50")
    reader = await member_who_joined(sandbox, 8911, "en")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    other = await staff(bot, sandbox, COORDINATOR_ID + 1, Role.COORDINATOR)
    await schedule_for_six(coordinator)
    admin = sandbox.user(ADMIN_ID, language_code="en")
    await admin.send(f"/revoke {COORDINATOR_ID} coordinator")
    await admin.expect(f"{COORDINATOR_ID} is no longer")

    clock.set(AT_SIX_IN_SEOUL)
    assert await bot.runtime.schedules.run_due() == 0
    clock.advance(minutes=5)
    assert await bot.runtime.schedules.run_due() == 0
    await expect_nothing_more(bot, reader)
    assert received(reader) == 0
    # Held, not lost: the remaining coordinators see it in /scheduled to send or cancel.
    await other.send("/scheduled")
    assert "Vigil" in (await other.expect("Vigil")).text


async def test_adding_and_removing_a_news_feed_is_told_to_the_admins(
    make_bot: StartBot,
    sandbox: FakeBotApi,
    feeds: FeedServer,  # noqa: F811 (the fixture imported above)
    clock: FrozenClock,
) -> None:
    bot = await news_bot(make_bot, feeds, clock)
    admin = await member_who_joined(sandbox, ADMIN_ID, "en", subscribe=False)
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await coordinator.send("/feeds")
    await coordinator.click(await coordinator.expect("No feeds yet"), "Add a feed")
    await coordinator.expect("Send the address of an RSS, Atom or JSON feed")
    await coordinator.send(feeds.fixture("/atom", "atom.xml"))
    await coordinator.expect("Added 127.0.0.1")
    await alerted(bot, admin, f"{COORDINATOR_ID} added news feed")
    (feed,) = await bot.runtime.news.feeds()
    assert await bot.runtime.news.remove(feed.id, COORDINATOR_ID)
    await alerted(bot, admin, f"{COORDINATOR_ID} removed news feed {feed.id}.")


async def test_a_link_in_a_photo_caption_or_the_korean_text_only_never_slips_through(
    make_bot: StartBot, sandbox: FakeBotApi
) -> None:
    bot = await make_bot(LINK_DOMAINS="pyeonji.org", SEND_RATE="50")
    reader = await member_who_joined(sandbox, 8921, "ko")
    author = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await staff(bot, sandbox, COORDINATOR_ID + 1, Role.COORDINATOR)
    await author.send("/post")
    await author.send("소식이에요. evil.example/login 에서 확인하세요.")
    await author.send("/skip")
    await author.expect("Send a photo")
    await author.send_photo(caption="Log in at evil.example/x")
    await author.click(await author.expect("Publish it?"), "Publish")
    await author.expect("Sent for approval")
    await expect_nothing_more(bot, reader)
    assert not any("evil.example" in m.text for m in reader.messages)


async def test_a_coordinator_cannot_open_or_mute_the_admins_alerts(
    make_bot: StartBot, sandbox: FakeBotApi
) -> None:
    bot = await make_bot(SEND_RATE="50")
    admin = await member_who_joined(sandbox, ADMIN_ID, "en", subscribe=False)
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await coordinator.send("/alerts")
    await coordinator.expect(lambda m: "mute" not in m.text.lower())
    assert not any(m.reply_markup for m in coordinator.messages[-1:])
    await admin.send(f"/revoke {COORDINATOR_ID} coordinator")
    await alerted(bot, admin, f"{ADMIN_ID} took the role coordinator from {COORDINATOR_ID}.")


async def test_a_link_only_in_a_photo_caption_never_reaches_members_unapproved(
    make_bot: StartBot, sandbox: FakeBotApi
) -> None:
    bot = await make_bot(LINK_DOMAINS="pyeonji.org", SEND_RATE="50")
    reader = await member_who_joined(sandbox, 8931, "en")
    author = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await staff(bot, sandbox, COORDINATOR_ID + 1, Role.COORDINATOR)
    await author.send("/post")
    await author.send("/skip")
    await author.send("A photo from the vigil.")
    await author.expect("Send a photo")
    await author.send_photo(caption="Log in at evil.example/x")
    await author.click(await author.expect("Publish it?"), "Publish")
    done = await author.expect(lambda m: "Published" in m.text or "Sent for approval" in m.text)
    if "Published" in done.text:  # the caption is dropped: members see the texts only
        assert "evil.example" not in (await reader.expect(lambda m: m.kind == "photo")).text
    else:
        await expect_nothing_more(bot, reader)
