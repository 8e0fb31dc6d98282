"""Many subscribers at once, written straight to SQLite (what thousands of /start would leave)."""

from __future__ import annotations

from pathlib import Path

from bot.storage.database import Database
from bot.storage.outbox import Payload, enqueue_to_subscribers


async def seed_subscribers(
    database: Database, user_ids: range | list[int], language: str = "en", mode: str = "instant"
) -> None:
    """Consented, active subscribers with private chats (chat id = user id)."""
    await database.execute_many(
        "INSERT INTO members (user_id, chat_id, language, consented_at, subscribed,"
        " delivery_mode, created_at, last_seen_at) VALUES (?, ?, ?, 0, 1, ?, 0, 0)",
        [(user_id, user_id, language, mode) for user_id in user_ids],
    )


async def seed_announcement(database: Database, text: str, now: int = 0) -> tuple[int, int]:
    """Queue one announcement to every subscriber, as /announce does: (broadcast id, count)."""
    async with database.transaction() as connection:
        cursor = await connection.execute(
            "INSERT INTO broadcasts (kind, author_id, audience, created_at)"
            " VALUES ('announcement', 1, 'all', ?)",
            (now,),
        )
        broadcast_id = cursor.lastrowid
        assert broadcast_id is not None
        count = await enqueue_to_subscribers(
            connection,
            {"en": Payload(text), "ko": Payload(text)},
            kind="announcement",
            broadcast_id=broadcast_id,
            now=now,
        )
        await connection.execute(
            "UPDATE broadcasts SET recipients = ? WHERE id = ?", (count, broadcast_id)
        )
    return broadcast_id, count


async def seeded_database(path: Path, user_ids: range, text: str) -> tuple[int, int]:
    """A fresh database file with subscribers and one queued announcement."""
    database = Database(path)
    await database.open()
    try:
        await seed_subscribers(database, user_ids)
        return await seed_announcement(database, text)
    finally:
        await database.close()
