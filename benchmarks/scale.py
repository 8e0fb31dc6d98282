"""How the bot's costs grow from 10 thousand to 1 million members, printed as one table.

    .venv/bin/python -m benchmarks.scale               # 10k, 100k and 1M members
    .venv/bin/python -m benchmarks.scale --max 100000  # stop after 100k

For each size, a temporary database is built with bulk SQL (members, a tenth of them with a
letter and a notice, a broadcast everyone received, some audit rows), then every measure in
MEASURES runs against it in order and adds its rows to the table. A measure is an async
function taking the `Scale` (the open database, its path, the member count) and returning
(row name, value) pairs: add start-up, broadcast enqueue, digest tick, /stats, retention or
backup rows by appending a function to MEASURES.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from benchmarks.machine import describe_machine, peak_rss_mib
from bot.app import build_application
from bot.clock import to_epoch
from bot.config import load_config
from bot.i18n import Translator
from bot.services.broadcasts import Audience, BroadcastService
from bot.services.digests import DigestService
from bot.services.letters import LetterService
from bot.services.privacy import PrivacyService
from bot.services.retention import RetentionService
from bot.storage.broadcasts import BroadcastRepository
from bot.storage.database import Database
from bot.storage.digests import DigestRepository
from bot.storage.letters import LetterRepository
from bot.storage.maintenance import backup
from bot.storage.privacy import PrivacyRepository
from bot.storage.retention import RetentionRepository
from fakebotapi.server import SANDBOX_TOKEN, FakeBotApi

T = TypeVar("T")

SIZES = (10_000, 100_000, 1_000_000)
FIRST_USER = 5_000_000_000  # six-byte ids, like real Telegram ids today
LETTER = "용기를 잃지 마세요. 우리는 당신을 기다리고 있어요. 꼭 건강하세요. " * 8
NOW = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)


class ManualClock:
    """A clock the benchmark moves (to let a queued rewrite fall due)."""

    def __init__(self) -> None:
        self.moment = NOW

    def now(self) -> datetime:
        return self.moment


@dataclass
class Scale:
    """One database of `members` members, open, as every measure sees it."""

    members: int
    path: Path
    db: Database

    def user(self, n: int) -> int:
        return FIRST_USER + 7 * n

    def file_bytes(self) -> bytes:
        wal = self.path.with_name(self.path.name + "-wal")
        return self.path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


Measure = Callable[[Scale], Awaitable[list[tuple[str, str]]]]


async def seed(scale: Scale) -> None:
    """Bulk SQL: members, letters and notices for every tenth, a broadcast to everyone."""
    n, first = scale.members, FIRST_USER
    async with scale.db.transaction() as sql:
        await sql.execute(
            "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < ?)"
            " INSERT INTO members (user_id, chat_id, language, consented_at, subscribed,"
            " delivery_mode, timezone, created_at, last_seen_at)"
            " SELECT ?2 + 7 * i, ?2 + 7 * i, CASE WHEN i % 5 < 2 THEN 'en' ELSE 'ko' END, 0, 1,"
            " CASE WHEN i % 3 = 0 THEN 'daily' ELSE 'instant' END,"
            " CASE WHEN i % 4 = 0 THEN 'America/New_York' ELSE 'Asia/Seoul' END, 0, 0 FROM k",
            (n, first),
        )
        await sql.execute(
            "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 10 FROM k WHERE i + 10 < ?)"
            " INSERT INTO letters (user_id, language, pen_name, text, state, created_at,"
            " decided_by) SELECT ?2 + 7 * i, 'ko', '서울의 한 어머니 ' || i, ?3 || i,"
            " CASE WHEN i % 20 = 0 THEN 'approved' ELSE 'pending' END, 0,"
            " CASE WHEN i % 20 = 0 THEN 1000 END FROM k",
            (n, first, LETTER),
        )
        await sql.execute(
            "INSERT INTO broadcasts (kind, author_id, state, recipients, created_at)"
            " VALUES ('announcement', 1000, 'done', ?, 0)",
            (n,),
        )
        await sql.execute(
            "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < ?)"
            " INSERT INTO outbox (user_id, chat_id, broadcast_id, kind, state, created_at)"
            " SELECT ?2 + 7 * i, ?2 + 7 * i, 1, 'announcement', 'sent', 0 FROM k",
            (n, first),
        )
        await sql.execute(
            "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 10 FROM k WHERE i + 10 < ?)"
            " INSERT INTO outbox_payloads (id, text) SELECT 1000000000 + i,"
            " '서울의 한 어머니 ' || i || ': 편지가 승인되었어요.' FROM k",
            (n,),
        )
        await sql.execute(
            "INSERT INTO outbox (user_id, chat_id, payload_id, kind, state, created_at)"
            " SELECT ?1 + 7 * (id - 1000000000), ?1 + 7 * (id - 1000000000), id, 'notice',"
            " 'sent', 0 FROM outbox_payloads WHERE id >= 1000000000",
            (first,),
        )
        await sql.execute(
            "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < 2000)"
            " INSERT INTO audit_log (at, actor_id, action, target_id, detail)"
            " SELECT i, 1000, 'grant', ?1 + 7 * i, '' FROM k",
            (first,),
        )
    await scale.db.run_outside_transaction("PRAGMA wal_checkpoint(TRUNCATE)")


async def database_size(scale: Scale) -> list[tuple[str, str]]:
    return [("database size", f"{scale.path.stat().st_size / 2**20:,.0f} MiB")]


async def forget(scale: Scale) -> list[tuple[str, str]]:
    """Two members with a letter and a notice erase in a row, then the queued rewrite runs."""
    clock = ManualClock()
    service = PrivacyService(PrivacyRepository(scale.db), clock)
    first, second = scale.user(scale.members // 2), scale.user(scale.members // 2 + 10)
    started = time.perf_counter()
    erasure = await service.erase(first)  # the first erase in a while: rewritten at once
    alone = time.perf_counter() - started
    started = time.perf_counter()
    burst = await service.erase(second)  # right after: rows gone, the rewrite is queued
    queued = time.perf_counter() - started
    clock.moment += service.rewrite_interval
    started = time.perf_counter()
    finished = await service.finish_erasures()
    rewrite = time.perf_counter() - started
    assert erasure is not None and erasure.complete and erasure.letters == 1
    assert burst is not None and not burst.complete and finished
    data = scale.file_bytes()
    clean = all(
        str(user).encode() not in data and user.to_bytes(6, "big") not in data
        for user in (first, second)
    )
    return [
        ("/forget, first in 5 min (erase + rewrite + checkpoint)", f"{alone:.2f} s"),
        ("/forget in a burst (erase + checkpoint; rewrite queued)", f"{queued * 1000:.0f} ms"),
        ("queued rewrite, once per 5 min (holds the database)", f"{rewrite:.2f} s"),
        ("no byte of either id left in the file", "yes" if clean else "NO"),
    ]


async def measured(work: Awaitable[T]) -> tuple[T, float, float]:
    """(result, seconds, peak MiB of Python memory allocated while it ran).

    tracemalloc slows Python code down, not SQLite's: fine for the measures that are SQL.
    """
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = await work
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    return result, seconds, peak


async def start_up(scale: Scale) -> list[tuple[str, str]]:
    """The real post_init (database, digest schedules, menus, fonts, sender) and shutdown."""
    # Digest members as a running bot leaves them: scheduled (the unscheduled ones are a
    # one-off of the upgrade that brought digests, done in batches at the first start).
    await scale.db.execute(
        "UPDATE members SET next_digest_at = ? WHERE delivery_mode IN ('daily', 'weekly')",
        (to_epoch(NOW) + 86_400,),
    )
    sandbox = FakeBotApi(auto_create_chats=True, record_calls=False)
    await sandbox.start()
    try:
        config = load_config(
            {
                "BOT_TOKEN": SANDBOX_TOKEN,
                "BOT_API_URL": sandbox.base_url,
                "BOT_API_FILE_URL": sandbox.base_file_url,
                "DATABASE_PATH": str(scale.path),
            },
            dotenv_path=scale.path.with_name("none.env"),
        )
        application = build_application(config)
        started = time.perf_counter()
        await application.initialize()
        assert application.post_init is not None
        await application.post_init(application)
        seconds = time.perf_counter() - started
        assert application.post_stop is not None and application.post_shutdown is not None
        await application.post_stop(application)
        await application.shutdown()
        await application.post_shutdown(application)
    finally:
        await sandbox.stop()
    return [("start-up (open, migrations checked, menus, sender)", f"{seconds:.2f} s")]


async def broadcast_enqueue(scale: Scale) -> list[tuple[str, str]]:
    """/announce to everyone: one row per member, in one transaction."""
    service = BroadcastService(
        BroadcastRepository(scale.db), Translator(), ManualClock(), "Asia/Seoul", lambda: None
    )
    (_, queued), seconds, peak = await measured(
        service.start_announcement(1000, Audience.ALL, "공지", "Announcement")
    )
    assert queued == scale.members
    await scale.db.execute("UPDATE outbox SET state = 'sent' WHERE state = 'pending'")
    return [
        ("broadcast enqueue (one row per member)", f"{seconds:.2f} s"),
        ("  its peak Python memory", f"{peak:.2f} MiB"),
    ]


async def digest_tick(scale: Scale) -> list[tuple[str, str]]:
    """A post is published, then every digest member (a third) is due in the same minute."""
    clock = ManualClock()
    broadcasts = BroadcastService(
        BroadcastRepository(scale.db), Translator(), clock, "Asia/Seoul", lambda: None
    )
    await broadcasts.publish_update(1000, "새 소식이에요.", "News of the case.", None)
    await scale.db.execute("UPDATE outbox SET state = 'sent' WHERE state = 'pending'")
    clock.moment += timedelta(hours=1)
    service = DigestService(DigestRepository(scale.db), Translator(), clock, lambda: None)
    # Twice: timed alone, then under tracemalloc (which slows Python code down) for memory.
    for traced in (False, True):
        await scale.db.execute(
            "UPDATE members SET next_digest_at = ?, digest_last_update_id = 0"
            " WHERE delivery_mode IN ('daily', 'weekly')",
            (to_epoch(clock.moment) - 30,),
        )
        if traced:
            report, _, peak = await measured(service.tick())
        else:
            started = time.perf_counter()
            report = await service.tick()
            seconds = time.perf_counter() - started
        assert report.queued == len(range(0, scale.members, 3))
        await scale.db.execute("UPDATE outbox SET state = 'sent' WHERE state = 'pending'")
    return [
        ("digest tick, a third of members due in one minute", f"{seconds:.2f} s"),
        ("  its peak Python memory", f"{peak:.2f} MiB"),
    ]


async def stats(scale: Scale) -> list[tuple[str, str]]:
    """What /stats reads: subscribers by language and mode, recent broadcasts, letters."""
    broadcasts = BroadcastService(
        BroadcastRepository(scale.db), Translator(), ManualClock(), "Asia/Seoul", lambda: None
    )
    letters = LetterService(
        LetterRepository(scale.db),
        Translator(),
        ManualClock(),
        per_day=3,
        default_timezone="Asia/Seoul",
        bundle_font=None,
        wake_sender=lambda: None,
    )

    async def read() -> None:
        await broadcasts.subscriber_counts()
        await broadcasts.recent(5)
        await letters.to_translate_count()

    _, seconds, peak = await measured(read())
    return [
        ("/stats (its queries)", f"{seconds * 1000:.0f} ms"),
        ("  its peak Python memory", f"{peak:.2f} MiB"),
    ]


async def retention(scale: Scale) -> list[tuple[str, str]]:
    """The daily purge, a year on: every sent outbox row and old letter is past its time."""
    clock = ManualClock()
    clock.moment += timedelta(days=365)
    service = RetentionService(
        RetentionRepository(scale.db), PrivacyRepository(scale.db), clock, 30, 365
    )
    _, seconds, peak = await measured(service.purge())
    return [
        ("retention run (a year of rows due)", f"{seconds:.2f} s"),
        ("  its peak Python memory", f"{peak:.2f} MiB"),
    ]


async def backup_copy(scale: Scale) -> list[tuple[str, str]]:
    """`python -m bot backup PATH`: SQLite's online backup, checked, renamed into place."""
    target = scale.path.with_name(scale.path.stem + "-backup.sqlite3")
    started = time.perf_counter()
    await asyncio.to_thread(backup, scale.path, target)
    seconds = time.perf_counter() - started
    target.unlink()
    return [("backup", f"{seconds:.2f} s")]


# Rows of the table, in order; other measures are added here.
MEASURES: list[Measure] = [
    database_size,
    start_up,
    broadcast_enqueue,
    digest_tick,
    stats,
    forget,
    retention,
    backup_copy,
]


async def measure(members: int, folder: Path) -> tuple[list[tuple[str, str]], float]:
    path = folder / f"scale-{members}.sqlite3"
    db = Database(path)
    await db.open()
    scale = Scale(members, path, db)
    started = time.perf_counter()
    await seed(scale)
    seeding = time.perf_counter() - started
    rows: list[tuple[str, str]] = []
    try:
        for run in MEASURES:
            rows.extend(await run(scale))
    finally:
        await db.close()
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    return rows, seeding


def print_columns(sizes: list[int], columns: list[list[tuple[str, str]]]) -> None:
    names = [name for name, _ in columns[0]]
    header = ["measure", *(f"{size:,} members" for size in sizes)]
    table = [[name, *(column[row][1] for column in columns)] for row, name in enumerate(names)]
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in table:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


async def main(largest: int, folder: Path | None) -> None:
    sizes = [size for size in SIZES if size <= largest]
    print(f"machine: {describe_machine()}")
    columns = []
    with tempfile.TemporaryDirectory(dir=folder) as folder_name:
        for size in sizes:
            rows, seeding = await measure(size, Path(folder_name))
            columns.append([*rows, ("seeding (not part of the measure)", f"{seeding:.1f} s")])
            print(f"  {size:,} members done", flush=True)
    print()
    print_columns(sizes, columns)
    print(f"\npeak RSS of the process: {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--max", type=int, default=SIZES[-1], help="largest member count to run")
    parser.add_argument("--dir", type=Path, default=None, help="where the temporary files go")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.max, arguments.dir))
