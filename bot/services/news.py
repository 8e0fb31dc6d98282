"""News watch: fetch feeds politely and safely, clean their hostile text, queue new items.

Everything a feed says is untrusted: its address may point into our own network (SSRF), its
body may be enormous or never end, its text may carry HTML, direction controls or a link that
reads like one site and goes to another. Nothing here reaches members: items wait in /news
until a coordinator turns one into a post through the normal /post flow.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import hashlib
import ipaddress
import json
import logging
import random
import re
import socket
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

import feedparser  # type: ignore[import-untyped]
import httpx
from feedparser.datetimes import _parse_date  # type: ignore[import-untyped]

from bot.clock import Clock, to_epoch
from bot.i18n import Translator
from bot.services.letter_rules import clean_text
from bot.storage.feeds import FeedRepository, NewItem, StoredFeed, StoredItem
from bot.storage.outbox import Payload

log = logging.getLogger(__name__)

USER_AGENT = "Pyeonji-news-watch/1.0 (Telegram bot for a defector support network)"
MAX_REDIRECTS = 3
MAX_ITEMS_PER_FEED = 100
TITLE_MAX = 300
SUMMARY_MAX = 400
KEYWORDS_MAX = 20
KEYWORD_MAX_CHARS = 60
URL_MAX_CHARS = 2000
MAX_BACKOFF_SECONDS = 24 * 3600
NOTICE_QUIET_SECONDS = 3600
# The key under which a /post draft carries the news item it was started from.
DRAFT_ITEM_KEY = "news_item"
_REDIRECT_CODES = {301, 302, 303, 307, 308}
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9,"
    " application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


class FetchError(Exception):
    """A feed could not be read; `kind` is a short word shown in /feeds and logged."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class FeedEntry:
    """One item as the feed gives it, already cleaned."""

    guid: str | None
    link: str | None
    title: str
    summary: str
    published_at: int | None


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    entries: tuple[FeedEntry, ...]


@dataclass(frozen=True)
class Fetched:
    """A fetch that worked: the feed, or None when the server said 304 Not Modified."""

    feed: ParsedFeed | None
    etag: str | None
    last_modified: str | None


# --- text -----------------------------------------------------------------------------------


class _TextOnly(HTMLParser):
    """Collects the text of an HTML fragment; entities decoded; scripts and styles dropped."""

    _SKIP = frozenset({"script", "style", "template", "noscript"})
    _BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def plain_text(raw: str, limit: int) -> str:
    """Feed text as one plain line: no markup, entities decoded, no invisible or direction
    controls (the letters' own cleaning), at most `limit` characters."""
    parser = _TextOnly()
    parser.feed(raw[: limit * 20])
    parser.close()
    text = clean_text("".join(parser.parts))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def safe_link(raw: str | None) -> str | None:
    """An http(s) link with a host, or None (javascript:, data:, mailto: are dropped)."""
    if not raw:
        return None
    # Invisible, direction and control characters would make the link read as another address
    # (a U+202E turns what follows around): percent-encoded, it goes where it went and reads so.
    link = "".join(
        quote(char, safe="") if unicodedata.category(char).startswith("C") else char
        for char in "".join(raw[: URL_MAX_CHARS * 2].split())
    )[:URL_MAX_CHARS]
    try:
        parts = urlsplit(link)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not host:
        return None
    return link


def display_domain(link: str | None) -> str:
    """The host a link really goes to, Unicode instead of punycode (xn--); '' when none.

    urlsplit takes the host after any `user@`, so `https://trusted.org@evil.example/` shows
    as evil.example.
    """
    if not link:
        return ""
    try:
        host = urlsplit(link).hostname or ""
    except ValueError:
        return ""
    with contextlib.suppress(UnicodeError, ValueError):
        host = host.encode("ascii").decode("idna")
    return clean_text(host)


def parse_keywords(raw: str) -> tuple[str, ...]:
    """Keywords typed by a coordinator: one per line or comma-separated, cleaned, capped."""
    words: list[str] = []
    for part in re.split(r"[,\n]", raw):
        word = " ".join(clean_text(part).split())[:KEYWORD_MAX_CHARS]
        if word and word.casefold() not in {w.casefold() for w in words}:
            words.append(word)
    return tuple(words[:KEYWORDS_MAX])


def _folded(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def matches(entry: FeedEntry, keywords: Sequence[str]) -> bool:
    """With no keywords every item counts; otherwise one keyword in the title or summary."""
    if not keywords:
        return True
    haystack = _folded(f"{entry.title} {entry.summary}")
    return any(_folded(word) in haystack for word in keywords)


# --- dedup ----------------------------------------------------------------------------------

_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|ref|cmpid|from)$", re.IGNORECASE)


def normalized_link(link: str) -> str:
    """A link with what syndication changes removed: scheme, www., tracking, fragment, slash."""
    parts = urlsplit(link)
    host = (parts.hostname or "").removeprefix("www.")
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if not _TRACKING.match(k)])
    return urlunsplit(("", host, parts.path.rstrip("/"), query, ""))


def normalized_title(title: str) -> str:
    return "".join(ch for ch in _folded(title) if ch.isalnum())


def dedup_keys(feed_id: int, entry: FeedEntry) -> tuple[str, ...]:
    """Hashed identities of an item; a guid that is not globally unique counts per feed."""
    keys = []
    if entry.guid:
        scoped = entry.guid if re.search(r"[:/.]", entry.guid) else f"{feed_id}:{entry.guid}"
        keys.append(f"guid:{scoped}")
    if entry.link:
        keys.append(f"link:{normalized_link(entry.link)}")
    title = normalized_title(entry.title)
    if len(title) >= 12:  # "News", "Update": too short to mean the same story
        keys.append(f"title:{title}")
    if not keys:
        keys.append(f"title:{feed_id}:{title}")
    return tuple(hashlib.sha256(key.encode()).hexdigest()[:32] for key in keys)


# --- parsing --------------------------------------------------------------------------------

_KOREAN_LEGACY = re.compile(rb"(euc[-_]?kr|ks_c_5601-1987|cp949|uhc|x-windows-949)", re.I)
_XML_ENCODING = re.compile(rb"""(<\?xml[^>]*encoding=["'])([^"']+)(["'])""", re.I)


def _repair_korean_encoding(body: bytes, content_type: str) -> bytes:
    """Korean outlets declare EUC-KR but write CP949 (its superset: 똠, 햏...); strict
    EUC-KR fails on those and feedparser falls back to Latin-1 garbage. Decode as CP949."""
    declared = _XML_ENCODING.search(body[:300])
    named = declared.group(2) if declared else content_type.encode("ascii", "replace")
    if not _KOREAN_LEGACY.search(named):
        return body
    text = body.decode("cp949", errors="replace").encode("utf-8")
    if declared:
        text = _XML_ENCODING.sub(rb"\1utf-8\3", text, count=1)
    return text


def _epoch(parsed: Any) -> int | None:
    if not parsed:
        return None
    try:
        return calendar.timegm(parsed)
    except (TypeError, ValueError, OverflowError):
        return None


def _entry(raw: Any) -> FeedEntry | None:
    title = plain_text(str(raw.get("title") or ""), TITLE_MAX)
    link = safe_link(raw.get("link"))
    summary = plain_text(str(raw.get("summary") or ""), SUMMARY_MAX)
    if not title:
        title = summary[:80]
    if not title:
        return None
    guid = raw.get("id")
    return FeedEntry(
        guid=clean_text(str(guid))[:500] if guid else None,
        link=link,
        title=title,
        summary=summary,
        published_at=_epoch(raw.get("published_parsed") or raw.get("updated_parsed")),
    )


def _json_feed(body: bytes, base_url: str) -> ParsedFeed:
    """JSON Feed 1.0/1.1 (feedparser 6 reads only XML feeds)."""
    try:
        document = json.loads(body)
    except ValueError:
        raise FetchError("malformed") from None
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise FetchError("malformed")
    entries = []
    for raw in document["items"][:MAX_ITEMS_PER_FEED]:
        if not isinstance(raw, dict):
            continue
        link = raw.get("url") or raw.get("external_url")
        date = raw.get("date_published") or raw.get("date_modified")
        entry = _entry(
            {
                "id": raw.get("id"),
                "title": raw.get("title"),
                "link": urljoin(base_url, link) if isinstance(link, str) else None,
                "summary": raw.get("summary")
                or raw.get("content_html")
                or raw.get("content_text"),
                "published_parsed": _parse_date(date) if isinstance(date, str) else None,
            }
        )
        if entry is not None:
            entries.append(entry)
    title = document.get("title")
    return ParsedFeed(
        plain_text(title, TITLE_MAX) if isinstance(title, str) else None, tuple(entries)
    )


def parse_feed(body: bytes, content_type: str, base_url: str) -> ParsedFeed:
    """RSS 0.9x/1.0/2.0 or Atom through feedparser, or JSON Feed; FetchError('malformed')."""
    if "json" in content_type.lower() or body.lstrip()[:1] == b"{":
        return _json_feed(body, base_url)
    # Always bytes: given a str that looks like a URL, feedparser would fetch it itself.
    parsed = feedparser.parse(
        _repair_korean_encoding(body, content_type),
        response_headers={"content-location": base_url, "content-type": content_type},
    )
    entries = [_entry(raw) for raw in parsed.entries[:MAX_ITEMS_PER_FEED]]
    usable = tuple(entry for entry in entries if entry is not None)
    # Lenient parsing of a slightly broken feed is fine; nothing usable from a broken one
    # (or from an HTML page such as a bot challenge) is an error the coordinator should see.
    if not usable and (parsed.bozo or not parsed.version):
        raise FetchError("malformed")
    title = parsed.feed.get("title")
    return ParsedFeed(plain_text(str(title), TITLE_MAX) if title else None, usable)


# --- fetching -------------------------------------------------------------------------------


def _refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Anything but a public unicast address: loopback, private, link-local (169.254.169.254,
    the cloud metadata service), shared, multicast, reserved, unspecified; IPv4 hidden inside
    IPv6 is checked as IPv4."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if inner is not None:
            return _refused(inner)
    return (
        not address.is_global
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address.is_link_local
        or address.is_loopback
        or address.is_private
    )


@dataclass(frozen=True)
class _Target:
    """Where to connect: the URL with the checked address in place of the host name."""

    url: str
    host_header: str | None
    sni_hostname: str | None


class FeedFetcher:
    """Fetches one feed: SSRF checks on every hop, size cap, timeout, conditional GET."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        allow_hosts: frozenset[str],
        max_bytes: int,
        timeout: float,
    ) -> None:
        self._client = client
        self._allow = frozenset(host.lower() for host in allow_hosts)
        self._max_bytes = max_bytes
        self._timeout = timeout

    async def fetch(self, url: str, etag: str | None, last_modified: str | None) -> Fetched:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._follow(url, etag, last_modified)
        except TimeoutError:
            raise FetchError("timeout") from None
        except httpx.TimeoutException:
            raise FetchError("timeout") from None
        except (httpx.HTTPError, OSError, UnicodeError, ValueError):
            raise FetchError("network") from None

    async def _follow(self, url: str, etag: str | None, last_modified: str | None) -> Fetched:
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            target = await self.check(current)
            headers = {"Accept": _ACCEPT}
            if target.host_header:
                headers["Host"] = target.host_header
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
            extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
            request = self._client.build_request(
                "GET", target.url, headers=headers, extensions=extensions
            )
            response = await self._client.send(request, stream=True)
            try:
                if response.status_code in _REDIRECT_CODES:
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError("bad_redirect")
                    current = urljoin(current, location)
                    continue
                if response.status_code == 304:
                    return Fetched(None, etag, last_modified)
                if response.status_code >= 400:
                    raise FetchError(f"http_{response.status_code}")
                body = await self._read_capped(response)
            finally:
                await response.aclose()
            return Fetched(
                # Parsing a few MB takes a while: off the event loop, so replies go on.
                await asyncio.to_thread(
                    parse_feed, body, response.headers.get("content-type", ""), current
                ),
                response.headers.get("etag"),
                response.headers.get("last-modified"),
            )
        raise FetchError("too_many_redirects")

    async def _read_capped(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise FetchError("too_large")
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():  # decoded: a gzip bomb counts in full
            size += len(chunk)
            if size > self._max_bytes:
                raise FetchError("too_large")
            chunks.append(chunk)
        return b"".join(chunks)

    async def check(self, url: str) -> _Target:
        """Refuse what is not http(s) or resolves to a non-public address; pin the address
        checked, so a second DNS answer cannot swap it (DNS rebinding)."""
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        if scheme not in {"http", "https"} or not host or parts.username or parts.password:
            raise FetchError("refused")
        port = parts.port or (443 if scheme == "https" else 80)
        if host in self._allow or f"{host}:{port}" in self._allow:
            return _Target(url, None, None)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError):
            raise FetchError("dns") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        if not addresses or any(_refused(address) for address in addresses):
            raise FetchError("refused")
        address = addresses[0]
        literal = f"[{address}]" if address.version == 6 else str(address)
        pinned = urlunsplit((scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
        named = f"[{host}]" if ":" in host else host
        default_port = port == (443 if scheme == "https" else 80)
        host_header = named if default_port else f"{named}:{port}"
        return _Target(pinned, host_header, host if scheme == "https" else None)


def new_client(timeout: float, connections: int) -> httpx.AsyncClient:
    """One client per polling cycle; never the environment's proxy (it would resolve and
    connect for us, past our address checks). No keep-alive: connections are pooled by the
    pinned address, and two sites behind one CDN address must not share a TLS connection
    made for the other's name."""
    return httpx.AsyncClient(
        trust_env=False,
        follow_redirects=False,
        timeout=httpx.Timeout(timeout),
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=0),
        headers={"User-Agent": USER_AGENT},
    )


# --- the service ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewsSettings:
    allow_hosts: frozenset[str]
    interval_seconds: int
    timeout: float
    max_bytes: int
    concurrency: int


@dataclass(frozen=True)
class CycleReport:
    checked: int
    new_items: int
    failures: dict[str, int]


class NewsService:
    """Feeds, the polling cycle and the /news queue."""

    def __init__(
        self,
        feeds: FeedRepository,
        clock: Clock,
        settings: NewsSettings,
        translator: Translator,
        admin_ids: frozenset[int],
        wake_sender: Callable[[], None],
        rng: random.Random | None = None,
    ) -> None:
        self._feeds = feeds
        self._clock = clock
        self.settings = settings
        self._translator = translator
        self._admin_ids = admin_ids
        self._wake_sender = wake_sender
        self._rng = rng or random.Random()  # noqa: S311 (spreading checks, not secrets)
        self._cycle = asyncio.Lock()

    def _now(self) -> int:
        return to_epoch(self._clock.now())

    async def check_url(self, raw: str) -> str:
        """The URL a coordinator typed, if it is one we may fetch; FetchError otherwise."""
        typed = "".join(raw.split())
        # Stored as safe_link writes it: no control or direction character in the address.
        url = safe_link(typed) if len(typed) <= URL_MAX_CHARS else None
        if url is None:
            raise FetchError("refused")
        async with new_client(self.settings.timeout, 1) as client:
            await self._fetcher(client).check(url)
        return url

    async def add(self, url: str, actor_id: int) -> int | None:
        return await self._feeds.add(url, actor_id, self._now())

    async def remove(self, feed_id: int, actor_id: int) -> bool:
        return await self._feeds.remove(feed_id, actor_id, self._now())

    async def set_paused(self, feed_id: int, paused: bool) -> bool:
        return await self._feeds.set_paused(feed_id, paused)

    async def set_keywords(self, feed_id: int, raw: str) -> tuple[str, ...] | None:
        words = parse_keywords(raw)
        return words if await self._feeds.set_keywords(feed_id, words) else None

    async def feeds(self) -> list[StoredFeed]:
        return await self._feeds.all()

    async def feed(self, feed_id: int) -> StoredFeed | None:
        return await self._feeds.get(feed_id)

    async def next_item(self) -> StoredItem | None:
        await self.release_ended_drafts()
        return await self._feeds.next_item()

    async def waiting(self) -> int:
        await self.release_ended_drafts()
        return await self._feeds.waiting()

    async def decide(self, item_id: int, state: str) -> StoredItem | None:
        return await self._feeds.decide(item_id, state, self._now())

    async def item(self, item_id: int) -> StoredItem | None:
        return await self._feeds.get_item(item_id)

    async def keep_drafted(self, item_id: int) -> None:
        """The draft started from the item was published: it leaves /news for good."""
        await self._feeds.keep_drafted(item_id)

    async def release_ended_drafts(self) -> int:
        """Items whose draft was cancelled, replaced or expired wait in /news again, in the
        state they had ('new' or 'later'). Checked whenever /news is read, so no way a draft
        can end is missed."""
        return await self._feeds.release_ended_drafts(DRAFT_ITEM_KEY, self._now())

    async def set_watching(self, user_id: int, watching: bool) -> None:
        await self._feeds.set_watching(user_id, watching, self._now())

    async def is_watching(self, user_id: int) -> bool:
        return await self._feeds.is_watching(user_id)

    def _fetcher(self, client: httpx.AsyncClient) -> FeedFetcher:
        return FeedFetcher(
            client,
            allow_hosts=self.settings.allow_hosts,
            max_bytes=self.settings.max_bytes,
            timeout=self.settings.timeout,
        )

    async def poll_due(self) -> CycleReport:
        """Check every feed that is due, at most `concurrency` at once; one failing feed is
        one line in /feeds and one count in the log, never the end of the cycle."""
        if self._cycle.locked():  # the previous cycle is still running
            return CycleReport(0, 0, {})
        async with self._cycle:
            due = await self._feeds.due(self._now())
            failures: Counter[str] = Counter()
            limit = asyncio.Semaphore(self.settings.concurrency)
            async with new_client(self.settings.timeout, self.settings.concurrency) as client:
                fetcher = self._fetcher(client)

                async def one(feed: StoredFeed) -> int:
                    async with limit:
                        return await self._poll_one(fetcher, feed, failures)

                counts = await asyncio.gather(*(one(feed) for feed in due))
            for kind, count in sorted(failures.items()):
                log.warning("event=news_fetch_failed kind=%s feeds=%d", kind, count)
            new_items = sum(counts)
            if new_items:
                log.info("event=news_items_found items=%d", new_items)
            await self.send_notices()
            return CycleReport(len(due), new_items, dict(failures))

    async def _poll_one(
        self, fetcher: FeedFetcher, feed: StoredFeed, failures: Counter[str]
    ) -> int:
        try:
            fetched = await fetcher.fetch(feed.url, feed.etag, feed.last_modified)
            return await self._store(feed, fetched)
        except FetchError as error:
            kind = error.kind
        except Exception as error:  # a parser bug must not stop the other feeds
            kind = f"error_{type(error).__name__}"[:40]
        failures[kind] += 1
        count = feed.failures + 1
        delay = min(self.settings.interval_seconds * 2**count, MAX_BACKOFF_SECONDS)
        now = self._now()
        await self._feeds.record_failure(feed.id, kind, count, now, now + self._jitter(delay))
        return 0

    async def _store(self, feed: StoredFeed, fetched: Fetched) -> int:
        now = self._now()
        next_check = now + self._jitter(self.settings.interval_seconds)
        if fetched.feed is None:
            await self._feeds.record_not_modified(feed.id, now, next_check)
            return 0
        parsed = fetched.feed
        source = parsed.title or feed.title or display_domain(feed.url)
        items: list[NewItem] = []
        left_out: list[str] = []
        for entry in parsed.entries:
            keys = dedup_keys(feed.id, entry)
            if matches(entry, feed.keywords):
                items.append(
                    NewItem(entry.title, entry.link, entry.summary, entry.published_at, keys)
                )
            else:  # listed all the same: its keys (if an earlier keyword let it in) stay
                left_out.extend(keys)
        new = await self._feeds.store_items(feed.id, source, items, now, left_out)
        await self._feeds.record_success(
            feed.id,
            title=parsed.title,
            etag=_header(fetched.etag),
            last_modified=_header(fetched.last_modified),
            now=now,
            next_check_at=next_check,
        )
        return new

    def _jitter(self, seconds: int) -> int:
        """Spread checks out (±15%), so feeds added together do not stay in step."""
        return max(60, int(seconds * self._rng.uniform(0.85, 1.15)))

    async def send_notices(self) -> int:
        """One notice to each opted-in coordinator with new items, at most once an hour."""

        def notice(count: int, language: str) -> Payload:
            texts = self._translator.texts(language)
            return Payload(
                texts.ngettext(
                    "{count} new news item is waiting in /news.",
                    "{count} new news items are waiting in /news.",
                    count,
                )
            )

        sent = await self._feeds.send_notices(
            self._admin_ids, notice, self._now(), NOTICE_QUIET_SECONDS
        )
        if sent:
            self._wake_sender()
        return sent


def _header(value: str | None) -> str | None:
    """A validator header worth sending back: short, printable ASCII."""
    if value is None or len(value) > 200 or not value.isascii() or not value.isprintable():
        return None
    return value
