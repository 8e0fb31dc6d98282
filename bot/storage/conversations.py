"""SQL for per-member conversation state (which flow and step, and the draft so far)."""

from __future__ import annotations

import json

from bot.models import Conversation
from bot.storage.database import Database


class ConversationRepository:
    """One row per member in a flow; no row means the member is not in any flow."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: int) -> Conversation | None:
        row = await self._db.fetch_one(
            "SELECT flow, step, data FROM conversations WHERE user_id = ?", (user_id,)
        )
        if row is None:
            return None
        data = json.loads(row["data"])
        return Conversation(row["flow"], row["step"], data if isinstance(data, dict) else {})

    async def set(
        self, user_id: int, flow: str, step: str, data: dict[str, object], now: int
    ) -> None:
        await self._db.execute(
            "INSERT INTO conversations (user_id, flow, step, data, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET flow = excluded.flow,"
            " step = excluded.step, data = excluded.data, updated_at = excluded.updated_at",
            (user_id, flow, step, json.dumps(data, ensure_ascii=False), now),
        )

    async def clear(self, user_id: int) -> bool:
        """Leave any flow; return True when there was one."""
        return (
            await self._db.execute("DELETE FROM conversations WHERE user_id = ?", (user_id,)) > 0
        )
