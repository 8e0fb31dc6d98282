"""News watch: coordinators follow feeds, new items wait in /news, one becomes a post.

Feeds are served by a real HTTP server on 127.0.0.1 (tests/support/feed_server.py) from
fixtures shaped like real sites; the polling job is run directly with the frozen clock.
"""

from __future__ import annotations

import gzip
import ipaddress
import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.clock import from_epoch
from bot.handlers.news import NewsButton
from bot.models import Role
from bot.services.news import FeedFetcher, FetchError, _refused, display_domain, plain_text
from bot.storage.database import Database
from bot.storage.migrations import MIGRATIONS_DIR
from fakebotapi.server import FakeBotApi
from fakebotapi.state import BotMessage
from fakebotapi.users import FakeUser
from tests.conftest import StartBot, rejected_calls
from tests.support.feed_server import FIXTURES, FeedServer, Route
from tests.support.harness import COORDINATOR_ID, FrozenClock, RunningBot, expect_nothing_more
from tests.support.people import member_who_joined, staff


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    server = FeedServer()
    server.start()
    yield server
    server.stop()


async def news_bot(make_bot: StartBot, feeds: FeedServer, clock: FrozenClock) -> RunningBot:
    """The bot allowed to fetch from the test server's port only, with a short timeout; the
    outlet the fixtures link to is on the broadcast links' allow-list, as an operator would put
    the campaign's news sites there."""
    return await make_bot(
        clock,
        NEWS_ALLOW_HOSTS=f"127.0.0.1:{feeds.port}",
        NEWS_TIMEOUT="1",
        LINK_DOMAINS="news.example.org",
    )


async def poll(bot: RunningBot, clock: FrozenClock, minutes: float = 0) -> None:
    """Move the clock on and run the polling job once, as the job queue would."""
    clock.advance(minutes=minutes)
    await bot.runtime.news.poll_due()


async def test_items_of_every_feed_shape_reach_news_once_cleaned(
    make_bot: StartBot, sandbox: FakeBotApi, feeds: FeedServer, clock: FrozenClock
) -> None:
    bot = await news_bot(make_bot, feeds, clock)
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    korean = feeds.fixture("/rss/politics.xml", "korean_euckr.xml", "text/xml; charset=euc-kr")
    await coordinator.send("/feeds")
    await coordinator.click(await coordinator.expect("No feeds yet"), "Add a feed")
    await coordinator.expect("Send the address of an RSS, Atom or JSON feed")
    await coordinator.send(korean)
    await coordinator.expect("Added 127.0.0.1")
    await bot.runtime.news.add(feeds.fixture("/atom", "atom.xml"), COORDINATOR_ID)
    await bot.runtime.news.add(
        feeds.fixture("/feed.json", "feed.json", "application/feed+json"), COORDINATOR_ID
    )
    await poll(bot, clock)
    assert bot.runtime.news.settings.interval_seconds == 15 * 60
    assert await bot.runtime.news.waiting() == 3 + 2 + 2

    korean_items = []
    await coordinator.send("/news")
    for _ in range(7):  # Dismiss shows the next one
        shown = await coordinator.expect(lambda m: "waiting" in m.text and bool(m.buttons))
        if "연합뉴스 정치" in shown.text:
            korean_items.append(shown.text)
        await coordinator.click(shown, "Dismiss")
    await coordinator.expect("No news items are waiting")
    letter = next(text for text in korean_items if "손편지" in text)
    # EUC-KR declared, CP949 written (똠): decoded right; CDATA HTML stripped, entities decoded,
    # the direction control gone, the relative link made absolute and shown as text.
    assert '북한군 포로 두 명, 손편지 공개 "한국에 가고 싶어요" 똠' in letter
    assert "<b>" not in letter and "alert" not in letter and "\u202e" not in letter
    # The relative link is resolved against the address the feed came from.
    assert f"Link to 127.0.0.1: {feeds.url('/view/AKR20261121000100504')}" in letter
    assert any("<검토 중>" in text for text in korean_items)

    await poll(bot, clock, minutes=60)  # every feed is due again: nothing new comes back
    assert await bot.runtime.news.waiting() == 0
    await coordinator.send("/feeds")
    listing = await coordinator.expect("News feeds")
    assert "연합뉴스 정치" in listing.text and "Example News & Analysis" in listing.text
    assert "Failing" not in listing.text
    assert all(seen.headers["user-agent"].startswith("Pyeonji") for seen in feeds.requests)
    assert rejected_calls(sandbox) == []


async def test_one_story_from_three_feeds_is_shown_once(
    make_bot: StartBot, sandbox: FakeBotApi, feeds: FeedServer, clock: FrozenClock
) -> None:
    bot = await news_bot(make_bot, feeds, clock)
    await bot.runtime.news.add(feeds.fixture("/atom", "atom.xml"), COORDINATOR_ID)
    await bot.runtime.news.add(feeds.fixture("/k", "korean_euckr.xml"), COORDINATOR_ID)
    await poll(bot, clock)
    # The aggregator copies one Atom story (same link plus tracking and fragment) and one
    # Korean story (same title, another address): both are duplicates.
    await bot.runtime.news.add(feeds.fixture("/agg", "syndicated.xml"), COORDINATOR_ID)
    await poll(bot, clock, minutes=1)
    titles = []
    while (item := await bot.runtime.news.next_item()) is not None:
        titles.append(item.title)
        await bot.runtime.news.decide(item.id, "dismissed")
    assert len(titles) == 5 == len(set(titles))
    assert titles.count("North Korean POWs ask to go to Seoul") == 1
    assert titles.count("국회의원, 쿠르스크 포로 면담 추진") == 1


async def test_keywords_decide_which_items_count(
    make_bot: StartBot, sandbox: FakeBotApi, feeds: FeedServer, clock: FrozenClock
) -> None:
    bot = await news_bot(make_bot, feeds, clock)
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    feed_id = await bot.runtime.news.add(feeds.fixture("/k", "korean_euckr.xml"), COORDINATOR_ID)
    await coordinator.send("/feeds")
    await coordinator.click(await coordinator.expect("News feeds"), f"Keywords {feed_id}")
    await coordinator.expect("Send the keywords")
    await coordinator.send("북한군  포로, KURSK, 쿠르스크")
    await coordinator.expect("Keywords saved: 북한군 포로, KURSK, 쿠르스크")
    await poll(bot, clock)
    titles = []
    while (item := await bot.runtime.news.next_item()) is not None:
        titles.append(item.title)
        await bot.runtime.news.decide(item.id, "dismissed")
    assert len(titles) == 2 and not any("날씨" in title for title in titles)


async def test_broken_feeds_are_one_line_in_feeds_and_back_off(
    make_bot: StartBot,
    sandbox: FakeBotApi,
    feeds: FeedServer,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await news_bot(make_bot, feeds, clock)
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    news = bot.runtime.news
    broken = {
        "malformed": feeds.fixture("/broken", "malformed.xml"),
        "too_large": feeds.serve("/huge", Route(stream_bytes=50 * 1024 * 1024)),
        "timeout": feeds.serve("/slow", Route(stall=True)),
        "http_500": feeds.serve("/down", Route(b"oops", status=500)),
    }
    ids = {kind: await news.add(url, COORDINATOR_ID) for kind, url in broken.items()}
    good = await news.add(feeds.fixture("/atom", "atom.xml"), COORDINATOR_ID)
    caplog.set_level(logging.INFO, logger="bot")
    await poll(bot, clock)
    assert await news.waiting() == 2  # the good feed is read whatever the others do
    gaps = []
    for _ in range(3):
        stored = {kind: await news.feed(feed_id) for kind, feed_id in ids.items() if feed_id}
        for kind, feed in stored.items():
            assert feed is not None and feed.last_error == kind
        huge = stored["too_large"]
        assert huge is not None
        gaps.append(huge.next_check_at - int(clock.now().timestamp()))
        clock.set(max(clock.now(), from_epoch(huge.next_check_at)))
        await poll(bot, clock)
    assert gaps[0] < gaps[1] < gaps[2]  # the backoff grows
    assert (await news.feed(good or 0)) is not None
    await coordinator.send("/feeds")
    listing = await coordinator.expect("News feeds")
    assert "Failing (too_large), 4 times in a row" in listing.text
    assert "Failing (timeout)" in listing.text and "Failing (malformed)" in listing.text
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "event=news_fetch_failed kind=too_large feeds=1" in logged
    assert "127.0.0.1" not in logged and "North Korean" not in logged
    assert len(feeds.hits("/huge")) == 4


async def test_a_compressed_bomb_is_capped_by_its_decompressed_size(
    make_bot: StartBot, sandbox: FakeBotApi, feeds: FeedServer, clock: FrozenClock
) -> None:
    bot = await make_bot(
        clock, NEWS_ALLOW_HOSTS=f"127.0.0.1:{feeds.port}", NEWS_MAX_BYTES=str(64 * 1024)
    )
    body = b'<?xml version="1.0"?><rss version="2.0"><channel>' + b" " * (4 * 1024 * 1024)
    packed = gzip.compress(body)  # a few KB on the wire
    url = feeds.serve("/bomb", Route(packed, headers={"Content-Encoding": "gzip"}))
    feed_id = await bot.runtime.news.add(url, COORDINATOR_ID)
    await poll(bot, clock)
    feed = await bot.runtime.news.feed(feed_id or 0)
    assert len(packed) < 64 * 1024
    assert feed is not None and feed.last_error == "too_large"


async def test_not_modified_keeps_the_feed_quiet(
    make_bot: StartBot, sandbox: FakeBotApi, feeds: FeedServer, clock: FrozenClock
) -> None:
    bot = await news_bot(make_bot, feeds, clock)
    url = feeds.serve("/etag", Route((FIXTURES / "atom.xml").read_bytes(), etag='"v1"'))
    await bot.runtime.news.add(url, COORDINATOR_ID)
    await poll(bot, clock)
    await poll(bot, clock, minutes=60)
    first, second = feeds.hits("/etag")
    assert "if-none-match" not in first.headers
    assert second.headers["if-none-match"] == '"v1"'
    feed = (await bot.runtime.news.feeds())[0]
    assert feed.last_error is None and feed.failures == 0
    assert await bot.runtime.news.waiting() == 2


async def test_addresses_inside_our_network_are_refused_even_after_a_redirect(
    make_bot: StartBot, sandbox: FakeBotApi, feeds: FeedServer, clock: FrozenClock
) -> None:
    bot = await news_bot(make_bot, feeds, clock)
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    news = bot.runtime.news
    other_port = feeds.port + 1 if feeds.port < 65535 else feeds.port - 1
    to_loopback = feeds.serve(
        "/r1", Route(status=302, location=f"http://127.0.0.1:{other_port}/feed")
    )
    to_metadata = feeds.serve(
        "/r2", Route(status=301, location="http://169.254.169.254/latest/meta-data/")
    )
    to_mapped = feeds.serve("/r3", Route(status=307, location="http://[::ffff:10.0.0.1]/"))
    chain = feeds.serve("/loop", Route(status=302, location="/loop"))
    ids = [await news.add(url, COORDINATOR_ID) for url in (to_loopback, to_metadata, to_mapped)]
    loop_id = await news.add(chain, COORDINATOR_ID)
    await poll(bot, clock)
    for feed_id in ids:
        feed = await news.feed(feed_id or 0)
        assert feed is not None and feed.last_error == "refused"
    looping = await news.feed(loop_id or 0)
    assert looping is not None and looping.last_error == "too_many_redirects"
    assert len(feeds.hits("/loop")) == 4  # the first request and at most three redirects

    for address in (
        "http://169.254.169.254/latest/",
        "http://localhost:8080/",
        "file:///etc/passwd",
    ):
        await coordinator.send("/feeds")
        await coordinator.click(await coordinator.expect("News feeds"), "Add a feed")
        await coordinator.send(address)
        await coordinator.expect("We cannot follow that address")
        await coordinator.send("/cancel")
        await coordinator.expect("Stopped")
    with pytest.raises(FetchError):
        await news.check_url(f"http://127.0.0.1:{other_port}/")


async def test_a_public_address_is_pinned_so_dns_cannot_change_it_later() -> None:
    async with httpx.AsyncClient() as client:
        fetcher = FeedFetcher(client, allow_hosts=frozenset(), max_bytes=1024, timeout=1.0)
        plain = await fetcher.check("http://93.184.215.14/feed?x=1#top")
        secure = await fetcher.check("https://[2606:4700::6810:84e5]:8443/rss")
        with pytest.raises(FetchError):
            await fetcher.check("http://user:pass@93.184.215.14/")
        with pytest.raises(FetchError):
            await fetcher.check("ftp://93.184.215.14/")
    assert plain.url == "http://93.184.215.14:80/feed?x=1" and plain.sni_hostname is None
    assert secure.url == "https://[2606:4700::6810:84e5]:8443/rss"
    assert secure.host_header == "[2606:4700::6810:84e5]:8443"
    assert secure.sni_hostname == "2606:4700::6810:84e5"


def test_every_non_public_address_is_refused() -> None:
    for text in (
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "::1", "fe80::1", "fd00::1",
        "ff02::1", "::ffff:127.0.0.1", "2002:7f00:1::", "fd00:ec2::254",
    ):  # fmt: skip
        assert _refused(ipaddress.ip_address(text)), text
    for text in ("93.184.215.14", "2606:4700::6810:84e5"):
        assert not _refused(ipaddress.ip_address(text)), text


def test_feed_text_and_links_are_made_harmless() -> None:
    assert (
        plain_text("<b>Hi</b> &amp; &lt;script&gt; \u202eevil\u200b", 100) == "Hi & <script> evil"
    )
    assert len(plain_text("가" * 1000, 300)) == 300
    assert display_domain("https://trusted.org@evil.example/x") == "evil.example"
    assert display_domain("https://xn--9b6b95p.example/") == "편지.example"
    assert display_domain("javascript:alert(1)") == ""


def test_news_buttons_are_decoded_strictly() -> None:
    assert NewsButton.decode("news:draft:12") == NewsButton("draft", 12)
    assert NewsButton.decode("news:add") == NewsButton("add")
    assert NewsButton("dismiss", 10**15).encode().encode().__len__() <= 64
    for bad in (
        "news:draft", "news:add:1", "news:draft:0", "news:draft:01", "news:draft:-1",
        "news:draft:1:2", "news:nuke:1", "news:draft:1 ", "xnews:add", "news:draft:9" * 3, None,
    ):  # fmt: skip
        assert NewsButton.decode(bad) is None, bad


async def test_a_coordinator_drafts_a_post_from_an_item_and_members_get_it(
    make_bot: StartBot, sandbox: FakeBotApi, feeds: FeedServer, clock: FrozenClock
) -> None:
    bot = await news_bot(make_bot, feeds, clock)
    member = await member_who_joined(sandbox, 701, "en")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await bot.runtime.news.add(feeds.fixture("/atom", "atom.xml"), COORDINATOR_ID)
    await poll(bot, clock)
    await member.send("/news")
    await member.expect("only coordinators")
    await coordinator.send("/news")
    shown = await coordinator.expect("North Korean POWs ask to go to Seoul")
    # A member forging the Draft button gets nothing.
    query = await member.press(member.last_message or shown, "news:draft:1")
    answer = await sandbox.wait_for_callback_answer(query)
    assert "only coordinators" in answer.get("text", "")
    await coordinator.click(shown, "Draft update")
    draft = await coordinator.expect("A draft update from this item")
    assert "North Korean POWs ask to go to Seoul" in draft.text
    assert "https://news.example.org/2026/11/21/pows-letters" in draft.text
    await coordinator.expect("Send the Korean text")
    await coordinator.send("북한군 포로 두 명이 한국에 가고 싶다고 손편지를 썼어요.")
    await coordinator.expect("Now the English text")
    await coordinator.send(
        "Two POWs wrote by hand that they want to go to Seoul: "
        "https://news.example.org/2026/11/21/pows-letters"
    )
    await coordinator.expect("Send a photo")
    await coordinator.send("/skip")
    confirm = await coordinator.expect("Publish it?")
    await expect_nothing_more(bot, member)  # nothing reaches members before Publish
    await coordinator.click(confirm, "Publish")
    await coordinator.expect("Published. It is on its way to 1 subscriber.")
    received = await member.expect("Update on the case")
    assert "Two POWs wrote by hand" in received.text
    await coordinator.send("/news")  # the drafted item is no longer waiting
    nxt = await coordinator.expect("waiting")
    assert "Phishing link disguised as news" in nxt.text and "evil.example" in nxt.text
    assert rejected_calls(sandbox) == []


async def test_opted_in_coordinators_get_one_notice_an_hour_and_forget_erases_it(
    make_bot: StartBot, sandbox: FakeBotApi, feeds: FeedServer, clock: FrozenClock
) -> None:
    bot = await news_bot(make_bot, feeds, clock)
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    other = await staff(bot, sandbox, COORDINATOR_ID + 1, Role.COORDINATOR)
    await coordinator.send("/feeds")
    await coordinator.click(await coordinator.expect("News feeds"), "Notify me of new items")
    await coordinator.expect("at most once an hour")
    await bot.runtime.news.add(feeds.fixture("/atom", "atom.xml"), COORDINATOR_ID)
    await poll(bot, clock)
    await coordinator.expect("2 new news items are waiting in /news.")
    await bot.runtime.news.add(feeds.fixture("/j", "feed.json"), COORDINATOR_ID)
    await poll(bot, clock, minutes=20)  # new items, but within the hour: no second notice
    await expect_nothing_more(bot, coordinator)
    await poll(bot, clock, minutes=45)
    await coordinator.expect("2 new news items are waiting in /news.")
    await expect_nothing_more(bot, other)

    texts = bot.runtime.translator.texts("en")
    exported = json.loads(await bot.runtime.privacy.export_json(COORDINATOR_ID, texts))
    assert len(exported["news_notices"]) == 1
    await coordinator.send("/forget")
    await coordinator.click(await coordinator.expect("Erase everything?"), "Erase everything")
    await coordinator.expect("is erased")
    assert not await bot.runtime.news.is_watching(COORDINATOR_ID)
    row = await bot.runtime.db.fetch_one(
        "SELECT COUNT(*) FROM audit_log WHERE actor_id = ?", (COORDINATOR_ID,)
    )
    assert row is not None and row[0] == 0


async def test_with_two_person_rule_a_drafted_item_waits_for_a_second_coordinator(
    make_bot: StartBot, sandbox: FakeBotApi, feeds: FeedServer, clock: FrozenClock
) -> None:
    bot = await make_bot(
        clock, NEWS_ALLOW_HOSTS=f"127.0.0.1:{feeds.port}", BROADCAST_APPROVALS="2"
    )
    reader = await member_who_joined(sandbox, 711, "en")
    first = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    second = await staff(bot, sandbox, COORDINATOR_ID + 1, Role.COORDINATOR)
    await bot.runtime.news.add(feeds.fixture("/j", "feed.json"), COORDINATOR_ID)
    await poll(bot, clock)
    await first.send("/news")
    later = await first.expect("Punycode domain shown in Hangul")
    await first.click(later, "Later")  # to the back of the queue; the next one shows
    await first.click(await first.expect("Ministry statement on the Kursk prisoners"), "Dismiss")
    again = await first.expect(lambda m: "Punycode domain" in m.text and bool(m.buttons))
    assert "1 item waiting." in again.text
    await first.click(again, "Draft update")
    await first.expect("Send the Korean text")
    await first.send("/skip")
    await first.send("The ministry said it would accept the two soldiers.")
    await first.send("/skip")
    await first.click(await first.expect("Publish it?"), "Publish")
    await first.expect("Sent for approval to 1 other coordinator.")
    await expect_nothing_more(bot, reader)
    await second.click(await second.expect("Approval needed"), "Approve")
    assert "would accept the two soldiers" in (await reader.expect("Update on the case")).text


# --- retention: old items go, their keys stay while a feed lists them -----------------------

EMPTY_RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet now</title>'
    b"<link>https://news.example.org/</link></channel></rss>"
)


async def news_counts(bot: RunningBot) -> tuple[int, int]:
    """How many items and dedup keys are stored."""
    items = await bot.runtime.db.fetch_one("SELECT COUNT(*) FROM news_items")
    keys = await bot.runtime.db.fetch_one("SELECT COUNT(*) FROM news_seen")
    assert items is not None and keys is not None
    return int(items[0]), int(keys[0])


async def dismiss_everything(bot: RunningBot) -> int:
    dismissed = 0
    while (item := await bot.runtime.news.next_item()) is not None:
        await bot.runtime.news.decide(item.id, "dismissed")
        dismissed += 1
    return dismissed


async def test_an_old_dismissed_item_is_purged_and_does_not_come_back_while_listed(
    make_bot: StartBot,
    sandbox: FakeBotApi,
    feeds: FeedServer,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await news_bot(make_bot, feeds, clock)
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await bot.runtime.news.add(feeds.fixture("/atom", "atom.xml"), COORDINATOR_ID)
    await poll(bot, clock)
    await coordinator.send("/news")
    await coordinator.click(
        await coordinator.expect("North Korean POWs ask to go to Seoul"), "Dismiss"
    )
    await coordinator.expect("Phishing link disguised as news")  # left undecided
    for _ in range(4):  # 32 days; the feed lists both items all along
        await poll(bot, clock, minutes=8 * 24 * 60)

    caplog.set_level(logging.INFO, logger="bot")
    purged = await bot.runtime.retention.purge()
    assert (purged.news_items, purged.news_keys) == (1, 0)  # the undecided recent one stays
    assert (
        "event=retention_purge letters=0 members=0 messages=0 news_items=1 news_keys=0"
        in caplog.messages
    )
    row = await bot.runtime.db.fetch_one(
        "SELECT COUNT(*) FROM news_items WHERE title LIKE 'North Korean POWs%'"
    )
    assert row is not None and row[0] == 0
    await poll(bot, clock, minutes=60)  # the feed lists it again after its row went: not new
    assert await bot.runtime.news.waiting() == 1
    await coordinator.send("/news")
    shown = await coordinator.expect("1 item waiting.")
    assert "Phishing link disguised as news" in shown.text

    for _ in range(8):  # 96 days since it was found, nobody decided: it goes too
        await poll(bot, clock, minutes=8 * 24 * 60)
    assert (await bot.runtime.retention.purge()).news_items == 1
    await poll(bot, clock, minutes=60)
    assert await news_counts(bot) == (0, 6)  # guid, link and title of each, kept
    assert await bot.runtime.news.waiting() == 0
    await coordinator.send("/news")
    await coordinator.expect("No news items are waiting")


async def test_keys_go_only_once_no_feed_has_listed_them_for_their_bound(
    make_bot: StartBot, sandbox: FakeBotApi, feeds: FeedServer, clock: FrozenClock
) -> None:
    bot = await news_bot(make_bot, feeds, clock)
    news = bot.runtime.news
    gone = await news.add(feeds.fixture("/gone", "atom.xml"), COORDINATOR_ID)
    json_feed = (FIXTURES / "feed.json").read_bytes()
    # Answers 304 Not Modified to every check after the first: it lists its items all along.
    await news.add(
        feeds.serve("/quiet", Route(json_feed, "application/feed+json", etag='"v1"')),
        COORDINATOR_ID,
    )
    paused = await news.add(feeds.fixture("/paused", "korean_euckr.xml"), COORDINATOR_ID)
    assert gone is not None and paused is not None
    await poll(bot, clock)
    assert await dismiss_everything(bot) == 7
    await news.set_paused(paused, True)  # lists nothing while paused; its items are still there
    feeds.serve("/gone", Route(EMPTY_RSS))  # this feed no longer lists its two items
    row = await bot.runtime.db.fetch_one(
        "SELECT COUNT(*) FROM news_seen WHERE feed_id = ?", (gone,)
    )
    assert row is not None
    gone_keys = int(row[0])
    assert gone_keys == 6
    _, all_keys = await news_counts(bot)

    await poll(bot, clock, minutes=31 * 24 * 60)
    purged = await bot.runtime.retention.purge()
    assert (purged.news_items, purged.news_keys) == (7, 0)  # the items go, every key stays
    for _ in range(5):  # 176 days after /gone last listed its items
        await poll(bot, clock, minutes=29 * 24 * 60)
    assert (await bot.runtime.retention.purge()).news_keys == 0
    await poll(bot, clock, minutes=5 * 24 * 60)  # 181 days
    assert (await bot.runtime.retention.purge()).news_keys == gone_keys
    assert await news_counts(bot) == (0, all_keys - gone_keys)
    assert len(feeds.hits("/quiet")) == 8  # one full fetch, then only 304s

    # Both feeds that still list their items bring none of them back.
    feeds.serve("/quiet", Route(json_feed, "application/feed+json", etag='"v2"'))
    await news.set_paused(paused, False)
    await poll(bot, clock, minutes=60)
    assert await news.waiting() == 0
    assert await news_counts(bot) == (0, all_keys - gone_keys)


async def test_the_daily_purge_rewrites_the_file_only_when_personal_data_went(
    make_bot: StartBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    """News is public text: purging it alone costs no VACUUM (its pages are reused); a purge
    of personal data rewrites the file as before, and a purge of nothing rewrites nothing."""
    bot = await make_bot(clock=clock, LETTER_RETENTION_DAYS="30")
    db = bot.runtime.db
    now = int(clock.now().timestamp())
    async with db.transaction() as connection:
        await connection.executemany(
            "INSERT INTO news_items (source, title, summary, found_at, state, decided_at)"
            " VALUES ('Example', ?, ?, ?, 'dismissed', ?)",
            [(f"Story {n}", "A summary of the story. " * 16, now, now) for n in range(2000)],
        )
    await member_who_joined(sandbox, 8101, "en")
    clock.advance(days=10)
    await db.execute(
        "INSERT INTO letters (user_id, language, pen_name, text, state, created_at,"
        " delivered_at) VALUES (8101, 'en', 'A friend', 'Stay strong.', 'delivered', 0, ?)",
        (int(clock.now().timestamp()),),
    )

    async def free_pages() -> int:
        row = await db.fetch_one("PRAGMA freelist_count")
        assert row is not None
        return int(row[0])

    clock.advance(days=21)
    purged = await bot.runtime.retention.purge()
    assert (purged.news_items, purged.letters, purged.anything) == (2000, 0, False)
    left = await free_pages()
    assert left > 50  # not rewritten
    assert not (await bot.runtime.retention.purge()).anything  # nothing at all
    assert await free_pages() == left
    clock.advance(days=10)
    assert (await bot.runtime.retention.purge()).letters == 1
    assert await free_pages() == 0  # rewritten: no copy of the letter anywhere


# --- a draft started from an item: back in /news unless published ---------------------------


async def drafting_bot(
    make_bot: StartBot, sandbox: FakeBotApi, feeds: FeedServer, clock: FrozenClock
) -> tuple[RunningBot, FakeUser]:
    """A coordinator and the Atom feed's two items waiting in /news."""
    bot = await make_bot(
        clock,
        NEWS_ALLOW_HOSTS=f"127.0.0.1:{feeds.port}",
        LINK_DOMAINS="news.example.org",
        DRAFT_EXPIRY_HOURS="24",
    )
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await bot.runtime.news.add(feeds.fixture("/atom", "atom.xml"), COORDINATOR_ID)
    await poll(bot, clock)
    return bot, coordinator


def item_shown(message: BotMessage) -> bool:
    """/news showing an item (not the edit that closes the buttons of one decided on)."""
    return "waiting." in message.text and bool(message.buttons)


async def draft_from_news(coordinator: FakeUser, title: str) -> None:
    """/news, until `title` shows (Later on the others), then Draft update."""
    await coordinator.send("/news")
    while title not in (shown := await coordinator.expect(item_shown)).text:
        await coordinator.click(shown, "Later")
    await coordinator.click(shown, "Draft update")
    await coordinator.expect("Send the Korean text")


async def first_in_news(coordinator: FakeUser) -> BotMessage:
    """What /news shows now: how many wait, and the first of them."""
    await coordinator.send("/news")
    shown = await coordinator.expect(
        lambda m: item_shown(m) or "No news items are waiting" in m.text
    )
    return shown


async def test_a_draft_that_ends_unpublished_puts_its_item_back_in_news(
    make_bot: StartBot, sandbox: FakeBotApi, feeds: FeedServer, clock: FrozenClock
) -> None:
    bot, coordinator = await drafting_bot(make_bot, sandbox, feeds, clock)
    pows = "North Korean POWs ask to go to Seoul"

    await draft_from_news(coordinator, pows)
    assert await bot.runtime.news.waiting() == 1  # out of /news while the draft is open
    await coordinator.send("/cancel")
    await coordinator.expect("Stopped")
    shown = (await first_in_news(coordinator)).text
    assert "2 items waiting." in shown and pows in shown  # new again, so first again

    await draft_from_news(coordinator, pows)  # Cancel under the preview
    await coordinator.send("Two soldiers wrote by hand.")
    await coordinator.send("/skip")
    await coordinator.send("/skip")
    await coordinator.click(await coordinator.expect("Publish it?"), "Cancel")
    await coordinator.expect("Cancelled. Nothing was published.")
    shown = (await first_in_news(coordinator)).text
    assert "2 items waiting." in shown and pows in shown

    await draft_from_news(coordinator, pows)  # a new /post replaces the draft
    await coordinator.send("/post")
    await coordinator.expect("Send the Korean text")
    shown = (await first_in_news(coordinator)).text
    assert "2 items waiting." in shown and pows in shown
    assert rejected_calls(sandbox) == []


async def test_a_published_draft_keeps_its_item_out_of_news(
    make_bot: StartBot, sandbox: FakeBotApi, feeds: FeedServer, clock: FrozenClock
) -> None:
    bot, coordinator = await drafting_bot(make_bot, sandbox, feeds, clock)
    pows = "North Korean POWs ask to go to Seoul"
    await draft_from_news(coordinator, pows)
    await coordinator.send("북한군 포로 두 명이 손편지를 썼어요.")
    await coordinator.send("/skip")
    await coordinator.send("/skip")
    await coordinator.click(await coordinator.expect("Publish it?"), "Publish")
    await coordinator.expect("Published.")
    clock.advance(hours=25)  # well past the draft expiry: nothing to expire, nothing comes back
    await bot.run_job("tidy")
    shown = (await first_in_news(coordinator)).text
    assert "1 item waiting." in shown and "Phishing link disguised as news" in shown
    item = await bot.runtime.news.item(1)
    assert item is not None and item.title == pows and item.state == "drafted"


async def test_an_expired_draft_puts_its_item_back_in_news_as_it_was(
    make_bot: StartBot, sandbox: FakeBotApi, feeds: FeedServer, clock: FrozenClock
) -> None:
    bot, coordinator = await drafting_bot(make_bot, sandbox, feeds, clock)
    pows, phishing = "North Korean POWs ask to go to Seoul", "Phishing link disguised as news"
    await coordinator.send("/news")
    await coordinator.click(await coordinator.expect(pows), "Later")
    await coordinator.click(await coordinator.expect(phishing), "Later")
    await coordinator.click(await coordinator.expect(pows), "Draft update")  # put off before
    await coordinator.send("그냥 초안이에요.")
    await coordinator.expect("Now the English text")
    clock.advance(hours=25)
    await bot.run_job("tidy")  # the background job empties the abandoned draft
    shown = await first_in_news(coordinator)
    assert "2 items waiting." in shown.text and phishing in shown.text  # pows is back, behind
    item = await bot.runtime.news.item(1)
    assert item is not None and item.title == pows and item.state == "later"

    await coordinator.click(shown, "Draft update")
    await coordinator.expect("Send the Korean text")
    clock.advance(hours=25)  # it expires as the coordinator comes back
    await coordinator.send("Too late.")
    await coordinator.expect("Your unfinished draft was deleted")
    shown = (await first_in_news(coordinator)).text
    assert "2 items waiting." in shown and pows in shown  # phishing is back, behind it
    assert rejected_calls(sandbox) == []


async def test_an_upgrade_keeps_every_dedup_key_and_lets_it_outlive_its_item(
    tmp_path: Path,
) -> None:
    """0015 rebuilds news_seen: the keys stored before it are copied (counted as listed at
    their feed's last check), and deleting an item now leaves its keys behind."""
    before = tmp_path / "before"
    before.mkdir()
    for migration in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if migration.name < "0015":
            shutil.copy(migration, before)
    path = tmp_path / "bot.sqlite3"
    old = Database(path, before)
    await old.open()
    await old.execute(
        "INSERT INTO news_feeds (id, url, created_at, last_checked_at)"
        " VALUES (1, 'https://a.example/feed', 10, 500)"
    )
    await old.execute(
        "INSERT INTO news_items (id, feed_id, source, title, found_at) VALUES (7, 1, 'A', 'T', 20)"
    )
    await old.execute("INSERT INTO news_seen (key, item_id) VALUES ('k1', 7), ('k2', 7)")
    await old.close()

    upgraded = Database(path)
    assert await upgraded.open() == ["0015_news_retention"]
    try:
        rows = await upgraded.fetch_all(
            "SELECT key, item_id, feed_id, seen_at FROM news_seen ORDER BY key"
        )
        assert [tuple(row) for row in rows] == [("k1", 7, 1, 500), ("k2", 7, 1, 500)]
        await upgraded.execute("DELETE FROM news_items WHERE id = 7")
        rows = await upgraded.fetch_all("SELECT key, item_id FROM news_seen ORDER BY key")
        assert [tuple(row) for row in rows] == [("k1", None), ("k2", None)]
        assert await upgraded.fetch_all("PRAGMA foreign_key_check") == []
    finally:
        await upgraded.close()
