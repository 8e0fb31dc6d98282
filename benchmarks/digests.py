"""Composing and queueing digests for 100,000 members due in the same minute.

    .venv/bin/python -m benchmarks.digests                  # 100,000 members, 10 updates
    .venv/bin/python -m benchmarks.digests --members 20000  # smaller, same shape

Members are written straight to a temporary SQLite file (Korean and English, eleven time
zones, daily and weekly, three different "last update read"), all due at the same instant.
One timed tick composes and queues every digest; a second tick, on a copy of the same file
with tracemalloc on, measures the Python memory the tick needs (bounded by the batch size,
not by the number of members).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from benchmarks.machine import describe_machine, peak_rss_mib, print_table
from bot.clock import SystemClock, to_epoch
from bot.i18n import Translator
from bot.services.digests import BATCH_SIZE, DigestService
from bot.services.members import COMMON_TIMEZONES
from bot.storage.database import Database
from bot.storage.digests import DigestRepository

DUE = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # 09:00 in Seoul, 19:00 the day before in New York
FIRST_USER = 1_000_000
SEED_CHUNK = 10_000
LAST_READ = (0, 3, 6)  # members differ in how many of the updates they have already had


async def seed(database: Database, members: int, updates: int) -> None:
    """`updates` updates over the previous day, and `members` digest members due at DUE."""
    korean = "한국으로 가고 싶다는 뜻은 그대로예요. " * 12
    english = "They still want to go to Korea. " * 12
    await database.execute_many(
        "INSERT INTO updates (text_ko, text_en, author_id, published_at) VALUES (?, ?, 1, ?)",
        [
            (
                f"{n}번째 소식: 두 병사의 소식을 전해요. {korean}",
                f"Update {n}: news of the two soldiers. {english}",
                to_epoch(DUE - timedelta(hours=23) + timedelta(hours=2 * n)),
            )
            for n in range(1, updates + 1)
        ],
    )
    for start in range(0, members, SEED_CHUNK):
        await database.execute_many(
            "INSERT INTO members (user_id, chat_id, language, consented_at, subscribed,"
            " delivery_mode, digest_hour, digest_weekday, timezone, created_at, last_seen_at,"
            " next_digest_at, digest_last_update_id)"
            " VALUES (?, ?, ?, 0, 1, ?, ?, ?, ?, 0, 0, ?, ?)",
            [_member(n) for n in range(start, min(start + SEED_CHUNK, members))],
        )


def _member(n: int) -> tuple[object, ...]:
    zone = COMMON_TIMEZONES[n % len(COMMON_TIMEZONES)]
    local = DUE.astimezone(ZoneInfo(zone))  # settings that really are due at DUE
    user_id = FIRST_USER + n
    mode = "weekly" if n % 10 == 0 else "daily"
    language = "en" if n % 5 < 2 else "ko"
    last_read = LAST_READ[n % len(LAST_READ)]
    return (user_id, user_id, language, mode, local.hour, local.weekday(), zone,
            to_epoch(DUE), last_read)  # fmt: skip


async def run_tick(path: Path, *, trace: bool, batch_size: int) -> dict[str, float]:
    """One tick at DUE over the members in `path`; seconds, and the traced peak if asked."""
    database = Database(path)
    await database.open()
    service = DigestService(
        DigestRepository(database), Translator(), SystemClock(), lambda: None, batch_size
    )
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    report = await service.tick(DUE)
    seconds = time.perf_counter() - started
    traced_peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    payloads = await database.fetch_one("SELECT COUNT(*) AS n FROM outbox_payloads")
    queued = await database.fetch_one("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'digest'")
    longest = await database.fetch_one("SELECT MAX(LENGTH(text)) AS n FROM outbox_payloads")
    await database.close()
    assert payloads is not None and queued is not None and longest is not None
    assert queued["n"] == report.queued == report.due, (queued["n"], report)
    return {
        "seconds": seconds,
        "queued": report.queued,
        "payloads": payloads["n"],
        "longest": longest["n"],
        "traced_peak_mib": traced_peak / 2**20,
    }


async def main(members: int, updates: int, batch_size: int) -> None:
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        timed_path, traced_path = folder / "timed.sqlite3", folder / "traced.sqlite3"
        database = Database(timed_path)
        await database.open()
        seed_started = time.perf_counter()
        await seed(database, members, updates)
        seed_seconds = time.perf_counter() - seed_started
        await database.close()  # checkpoints the WAL, so the file alone is the whole database
        shutil.copy(timed_path, traced_path)
        timed = await run_tick(timed_path, trace=False, batch_size=batch_size)
        traced = await run_tick(traced_path, trace=True, batch_size=batch_size)

    print(f"machine: {describe_machine()}")
    print_table(
        f"Digests: {members:,} members due in the same minute, {updates} updates",
        [
            ("members due", f"{members:,}"),
            ("updates", f"{updates}"),
            ("digests queued", f"{timed['queued']:,.0f}"),
            ("seconds to compose and queue all", f"{timed['seconds']:.2f} s"),
            ("digests per second", f"{timed['queued'] / timed['seconds']:,.0f}"),
            ("batch size (members per transaction)", f"{batch_size}"),
            ("distinct digest texts stored", f"{timed['payloads']:,.0f}"),
            ("longest digest (characters of HTML)", f"{timed['longest']:,.0f}"),
            ("tracemalloc peak during the tick", f"{traced['traced_peak_mib']:.1f} MiB"),
            ("same tick with tracemalloc on", f"{traced['seconds']:.2f} s"),
            ("peak RSS of the process (incl. seeding)", f"{peak_rss_mib():.0f} MiB"),
            ("seeding (not part of the measure)", f"{seed_seconds:.2f} s"),
        ],
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--updates", type=int, default=10)
    parser.add_argument("--batch", type=int, default=BATCH_SIZE, help="members per transaction")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.members, arguments.updates, arguments.batch))
