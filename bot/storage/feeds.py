"""SQL for news watch: feeds, the items found in them, dedup keys and coordinators' notices."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.storage.database import Database, Row
from bot.storage.outbox import Payload, enqueue_to_member
from bot.storage.roles import write_audit


@dataclass(frozen=True)
class StoredFeed:
    """One feed and how its last checks went."""

    id: int
    url: str
    title: str | None
    keywords: tuple[str, ...]
    paused: bool
    etag: str | None
    last_modified: str | None
    next_check_at: int
    last_checked_at: int | None
    last_new_at: int | None
    last_error: str | None
    failures: int


@dataclass(frozen=True)
class NewItem:
    """An item ready to store, with every key it may be known by in another feed."""

    title: str
    link: str | None
    summary: str
    published_at: int | None
    keys: tuple[str, ...]


@dataclass(frozen=True)
class StoredItem:
    id: int
    source: str
    title: str
    link: str | None
    summary: str
    published_at: int | None
    state: str


def _feed(row: Row) -> StoredFeed:
    keywords = json.loads(row["keywords"])
    return StoredFeed(
        id=row["id"],
        url=row["url"],
        title=row["title"],
        keywords=tuple(str(k) for k in keywords) if isinstance(keywords, list) else (),
        paused=bool(row["paused"]),
        etag=row["etag"],
        last_modified=row["last_modified"],
        next_check_at=row["next_check_at"],
        last_checked_at=row["last_checked_at"],
        last_new_at=row["last_new_at"],
        last_error=row["last_error"],
        failures=row["failures"],
    )


def _item(row: Row) -> StoredItem:
    return StoredItem(
        row["id"],
        row["source"],
        row["title"],
        row["link"],
        row["summary"],
        row["published_at"],
        row["state"],
    )


class FeedRepository:
    """Feeds coordinators follow and the queue of items they have not decided on yet."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, url: str, actor_id: int, now: int) -> int | None:
        """Store a new feed, due at once; None when the URL is already followed."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "INSERT INTO news_feeds (url, created_at) VALUES (?, ?)"
                " ON CONFLICT (url) DO NOTHING",
                (url, now),
            )
            if cursor.rowcount == 0:
                return None
            feed_id = cursor.lastrowid
            assert feed_id is not None
            await write_audit(connection, now, actor_id, "feed_added", None, str(feed_id))
        return feed_id

    async def remove(self, feed_id: int, actor_id: int, now: int) -> bool:
        async with self._db.transaction() as connection:
            cursor = await connection.execute("DELETE FROM news_feeds WHERE id = ?", (feed_id,))
            if cursor.rowcount == 0:
                return False
            await write_audit(connection, now, actor_id, "feed_removed", None, str(feed_id))
        return True

    async def set_paused(self, feed_id: int, paused: bool) -> bool:
        return (
            await self._db.execute(
                "UPDATE news_feeds SET paused = ?, next_check_at = 0 WHERE id = ?",
                (int(paused), feed_id),
            )
            > 0
        )

    async def set_keywords(self, feed_id: int, keywords: Sequence[str]) -> bool:
        return (
            await self._db.execute(
                "UPDATE news_feeds SET keywords = ? WHERE id = ?",
                (json.dumps(list(keywords), ensure_ascii=False), feed_id),
            )
            > 0
        )

    async def get(self, feed_id: int) -> StoredFeed | None:
        row = await self._db.fetch_one("SELECT * FROM news_feeds WHERE id = ?", (feed_id,))
        return _feed(row) if row is not None else None

    async def all(self) -> list[StoredFeed]:
        return [
            _feed(row) for row in await self._db.fetch_all("SELECT * FROM news_feeds ORDER BY id")
        ]

    async def due(self, now: int) -> list[StoredFeed]:
        rows = await self._db.fetch_all(
            "SELECT * FROM news_feeds WHERE paused = 0 AND next_check_at <= ?"
            " ORDER BY next_check_at, id",
            (now,),
        )
        return [_feed(row) for row in rows]

    async def record_success(
        self,
        feed_id: int,
        *,
        title: str | None,
        etag: str | None,
        last_modified: str | None,
        now: int,
        next_check_at: int,
    ) -> None:
        await self._db.execute(
            "UPDATE news_feeds SET title = COALESCE(?, title), etag = ?, last_modified = ?,"
            " last_checked_at = ?, next_check_at = ?, last_error = NULL, failures = 0"
            " WHERE id = ?",
            (title, etag, last_modified, now, next_check_at, feed_id),
        )

    async def record_not_modified(self, feed_id: int, now: int, next_check_at: int) -> None:
        """A 304: the feed lists what it listed at its last full fetch, so the keys that fetch
        marked (the feed's newest `seen_at`) count as listed now too."""
        async with self._db.transaction() as connection:
            await connection.execute(
                "UPDATE news_feeds SET last_checked_at = ?, next_check_at = ?, last_error = NULL,"
                " failures = 0 WHERE id = ?",
                (now, next_check_at, feed_id),
            )
            await connection.execute(
                "UPDATE news_seen SET seen_at = ? WHERE feed_id = ? AND seen_at ="
                " (SELECT MAX(seen_at) FROM news_seen WHERE feed_id = ?)",
                (now, feed_id, feed_id),
            )

    async def record_failure(
        self, feed_id: int, kind: str, failures: int, now: int, next_check_at: int
    ) -> None:
        await self._db.execute(
            "UPDATE news_feeds SET last_error = ?, failures = ?, last_checked_at = ?,"
            " next_check_at = ? WHERE id = ?",
            (kind, failures, now, next_check_at, feed_id),
        )

    async def store_items(
        self,
        feed_id: int,
        source: str,
        items: Iterable[NewItem],
        now: int,
        also_listed: Sequence[str] = (),
    ) -> int:
        """Queue the items no feed has brought before; return how many were new.

        An item known under any one of its keys is a duplicate, even once its row is purged
        (the key outlives it); its other keys are recorded too, so a later copy that shares
        only those is caught as well. Every key the feed lists, and the keys in `also_listed`
        (items it lists that its keywords leave out), is marked as listed now, so the daily
        purge keeps it for as long as a feed lists it.
        """
        new = 0
        async with self._db.transaction() as connection:
            for item in items:
                placeholders = ",".join("?" * len(item.keys))
                async with connection.execute(
                    # Only "?" placeholders are formatted in; the keys are parameters.
                    f"SELECT item_id FROM news_seen WHERE key IN ({placeholders})"  # noqa: S608
                    " ORDER BY item_id IS NULL LIMIT 1",
                    item.keys,
                ) as cursor:
                    known = await cursor.fetchone()
                if known is not None:
                    item_id = known["item_id"]  # None: seen before, its row since purged
                else:
                    cursor = await connection.execute(
                        "INSERT INTO news_items (feed_id, source, title, link, summary,"
                        " published_at, found_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            feed_id,
                            source,
                            item.title,
                            item.link,
                            item.summary,
                            item.published_at,
                            now,
                        ),
                    )
                    assert cursor.lastrowid is not None
                    item_id = cursor.lastrowid
                    new += 1
                await connection.executemany(
                    "INSERT INTO news_seen (key, item_id, feed_id, seen_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET feed_id = excluded.feed_id,"
                    " seen_at = excluded.seen_at",
                    [(key, item_id, feed_id, now) for key in item.keys],
                )
            await connection.executemany(
                "UPDATE news_seen SET feed_id = ?, seen_at = ? WHERE key = ?",
                [(feed_id, now, key) for key in also_listed],
            )
            if new:
                await connection.execute(
                    "UPDATE news_feeds SET last_new_at = ? WHERE id = ?", (now, feed_id)
                )
        return new

    async def next_item(self) -> StoredItem | None:
        """The next item to show: new ones (newest first), then those put off with Later."""
        row = await self._db.fetch_one(
            "SELECT * FROM news_items WHERE state IN ('new', 'later')"
            " ORDER BY state = 'later', CASE WHEN state = 'later' THEN decided_at END,"
            " COALESCE(published_at, found_at) DESC, id DESC LIMIT 1"
        )
        return _item(row) if row is not None else None

    async def waiting(self) -> int:
        row = await self._db.fetch_one(
            "SELECT COUNT(*) FROM news_items WHERE state IN ('new', 'later')"
        )
        return int(row[0]) if row is not None else 0

    async def get_item(self, item_id: int) -> StoredItem | None:
        row = await self._db.fetch_one("SELECT * FROM news_items WHERE id = ?", (item_id,))
        return _item(row) if row is not None else None

    async def decide(self, item_id: int, state: str, now: int) -> StoredItem | None:
        """Move a waiting item to `state`; None if it is not waiting any more (decided).

        A drafted item remembers the state it came from until its draft is published
        (`keep_drafted`) or ends otherwise (`release_ended_drafts`).
        """
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE news_items SET state = ?, decided_at = ?,"
                " draft_from = CASE WHEN ? = 'drafted' THEN state END"
                " WHERE id = ? AND state IN ('new', 'later')",
                (state, now, state, item_id),
            )
            if cursor.rowcount == 0:
                return None
            async with connection.execute(
                "SELECT * FROM news_items WHERE id = ?", (item_id,)
            ) as rows:
                row = await rows.fetchone()
        return _item(row) if row is not None else None

    async def keep_drafted(self, item_id: int) -> None:
        """The item's draft was published (or sent for approval): it stays drafted for good."""
        await self._db.execute(
            "UPDATE news_items SET draft_from = NULL WHERE id = ? AND state = 'drafted'",
            (item_id,),
        )

    async def release_ended_drafts(self, draft_key: str, now: int) -> int:
        """Put back in /news every drafted item whose draft ended unpublished; return how many.

        A draft holds its item while some member's flow carries the item's id under
        `draft_key`. Every way a draft ends (/cancel, Cancel, another command's flow replacing
        it, expiry, its author erased or purged) removes or empties that flow row, so this one
        check covers them all, whichever code path ended it.
        """
        return await self._db.execute(
            "UPDATE news_items SET state = draft_from, draft_from = NULL,"
            " decided_at = CASE WHEN draft_from = 'later' THEN ? END"
            " WHERE draft_from IS NOT NULL AND state = 'drafted'"
            " AND NOT EXISTS (SELECT 1 FROM conversations c WHERE CASE WHEN json_valid(c.data)"
            " THEN json_extract(c.data, '$.' || ?) END = news_items.id)",
            (now, draft_key),
        )

    async def set_watching(self, user_id: int, watching: bool, now: int) -> None:
        if watching:
            await self._db.execute(
                "INSERT INTO news_watchers (user_id, since) VALUES (?, ?)"
                " ON CONFLICT (user_id) DO NOTHING",
                (user_id, now),
            )
        else:
            await self._db.execute("DELETE FROM news_watchers WHERE user_id = ?", (user_id,))

    async def is_watching(self, user_id: int) -> bool:
        row = await self._db.fetch_one("SELECT 1 FROM news_watchers WHERE user_id = ?", (user_id,))
        return row is not None

    async def send_notices(
        self,
        admin_ids: Iterable[int],
        notice: Callable[[int, str], Payload],
        now: int,
        quiet_seconds: int,
    ) -> int:
        """Queue `notice(count, language)` to every watcher who still holds the role, has items
        found since their last notice, and had none in the last `quiet_seconds`."""
        admins = "[" + ",".join(str(int(i)) for i in admin_ids) + "]"
        sent = 0
        async with self._db.transaction() as connection:
            async with connection.execute(
                "SELECT w.user_id, m.language, (SELECT COUNT(*) FROM news_items i"
                " WHERE i.state = 'new' AND i.found_at > COALESCE(w.last_notice_at, w.since - 1))"
                " AS fresh FROM news_watchers w JOIN members m ON m.user_id = w.user_id"
                " WHERE m.active = 1 AND m.blocked = 0"
                " AND (w.last_notice_at IS NULL OR w.last_notice_at <= ?)"
                " AND (w.user_id IN (SELECT user_id FROM roles WHERE role = 'coordinator')"
                " OR w.user_id IN (SELECT value FROM json_each(?)))",
                (now - quiet_seconds, admins),
            ) as cursor:
                due = [(r["user_id"], r["language"], r["fresh"]) for r in await cursor.fetchall()]
            for user_id, language, fresh in due:
                if not fresh:
                    continue
                await enqueue_to_member(
                    connection, user_id, notice(int(fresh), language), "notice", now
                )
                await connection.execute(
                    "UPDATE news_watchers SET last_notice_at = ? WHERE user_id = ?",
                    (now, user_id),
                )
                sent += 1
        return sent
