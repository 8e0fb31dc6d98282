"""News watch: coordinators follow feeds, new items wait in /news, one becomes a post.

Feeds are served by a real HTTP server on 127.0.0.1 (tests/support/feed_server.py) from
fixtures shaped like real sites; the polling job is run directly with the frozen clock.
"""

from __future__ import annotations

import gzip
import ipaddress
import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from bot.clock import from_epoch
from bot.handlers.news import NewsButton
from bot.models import Role
from bot.services.news import FeedFetcher, FetchError, _refused, display_domain, plain_text
from fakebotapi.server import FakeBotApi
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
