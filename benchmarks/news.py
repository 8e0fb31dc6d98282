"""News watch: one polling cycle over 200 feeds of 50 items each, served on 127.0.0.1.

    .venv/bin/python -m benchmarks.news                  # 200 feeds x 50 items
    .venv/bin/python -m benchmarks.news --feeds 50       # smaller, same shape

Feeds are generated in memory (RSS 2.0, a Korean title and an English summary with HTML per
item) and served by the tests' own HTTP server in a thread. The first cycle reads, cleans,
deduplicates and stores every item; the second finds every feed due again with nothing new
(the full work without inserts); a third, on a fresh database with tracemalloc on, measures
the Python memory one cycle needs.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import tracemalloc
from pathlib import Path

from benchmarks.machine import describe_machine, peak_rss_mib, print_table
from bot.clock import SystemClock
from bot.i18n import Translator
from bot.services.news import NewsService, NewsSettings
from bot.storage.database import Database
from bot.storage.feeds import FeedRepository
from tests.support.feed_server import FeedServer, Route


def feed_body(feed: int, items: int) -> bytes:
    entries = "".join(
        f"<item><title><![CDATA[북한군 포로 소식 {feed}-{n}: 손편지와 면담]]></title>"
        f"<link>https://outlet{feed}.example/news/{n}</link><guid>https://outlet{feed}.example/"
        f"news/{n}</guid><description><![CDATA[<p>Two soldiers captured in <b>Kursk</b> "
        f"wrote letters; item {n} of feed {feed} &amp; more text to clean.</p>]]></description>"
        f"<pubDate>Sat, 21 Nov 2026 09:{n % 60:02d}:00 +0900</pubDate></item>"
        for n in range(items)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Outlet {feed}</title><link>https://outlet{feed}.example/</link>{entries}"
        f"</channel></rss>"
    ).encode()


async def cycle(server: FeedServer, database: Path, feeds: int, passes: int) -> list[float]:
    db = Database(database)
    await db.open()
    service = NewsService(
        FeedRepository(db),
        SystemClock(),
        NewsSettings(
            allow_hosts=frozenset({f"127.0.0.1:{server.port}"}),
            interval_seconds=0,  # every feed is due again at once (the floor is a minute)
            timeout=30.0,
            max_bytes=4 * 1024 * 1024,
            concurrency=8,
        ),
        Translator(),
        frozenset(),
        lambda: None,
    )
    for feed in range(feeds):
        await service.add(server.url(f"/feed/{feed}"), 1)
    times = []
    try:
        for _ in range(passes):
            await db.execute("UPDATE news_feeds SET next_check_at = 0")
            started = time.perf_counter()
            report = await service.poll_due()
            times.append(time.perf_counter() - started)
            assert report.checked == feeds and not report.failures, report
    finally:
        await db.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    args = parser.parse_args()
    server = FeedServer()
    server.start()
    total_bytes = 0
    for feed in range(args.feeds):
        body = feed_body(feed, args.items)
        total_bytes += len(body)
        server.serve(f"/feed/{feed}", Route(body))
    try:
        with tempfile.TemporaryDirectory() as folder:
            times = asyncio.run(cycle(server, Path(folder) / "a.sqlite3", args.feeds, 2))
            tracemalloc.start()
            asyncio.run(cycle(server, Path(folder) / "b.sqlite3", args.feeds, 1))
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    finally:
        server.stop()
    items = args.feeds * args.items
    print_table(
        f"News watch: {args.feeds} feeds x {args.items} items, one cycle ({describe_machine()})",
        [
            ("feeds / items / bytes served", f"{args.feeds} / {items} / {total_bytes:,}"),
            ("first cycle (all items new)", f"{times[0]:.2f} s ({items / times[0]:,.0f} items/s)"),
            ("second cycle (nothing new)", f"{times[1]:.2f} s"),
            ("Python memory peak of a cycle (tracemalloc)", f"{peak / 2**20:.1f} MiB"),
            ("process peak RSS", f"{peak_rss_mib():.0f} MiB"),
        ],
    )


if __name__ == "__main__":
    main()
