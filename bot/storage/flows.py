"""SQL for per-member flows (which flow and step, and the draft so far), in the `conversations`
table (its name from before flows had one name; rows written then still load)."""

from __future__ import annotations

import json

from bot.models import Flow
from bot.storage.database import Database, Row


class FlowRepository:
    """One row per member in a flow; no row means the member is not in any flow."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: int) -> Flow | None:
        row = await self._db.fetch_one(
            "SELECT flow, step, data, updated_at FROM conversations WHERE user_id = ?",
            (user_id,),
        )
        return flow_from(row)

    async def expire(self, before: int, marker: str, user_id: int | None = None) -> int:
        """Empty drafts last touched before `before` (one member's, or everyone's).

        The row stays as a `marker` with nothing in it, so the member who comes back can be
        told that nothing was sent; its content is gone at once (secure_delete).
        """
        sql = (
            "UPDATE conversations SET flow = ?, step = '', data = '{}'"
            " WHERE updated_at < ? AND flow != ?"
        )
        params: tuple[object, ...] = (marker, before, marker)
        if user_id is not None:
            sql, params = sql + " AND user_id = ?", (*params, user_id)
        return await self._db.execute(sql, params)

    async def set(
        self, user_id: int, flow: str, step: str, data: dict[str, object], now: int
    ) -> None:
        await self._db.execute(
            "INSERT INTO conversations (user_id, flow, step, data, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET flow = excluded.flow,"
            " step = excluded.step, data = excluded.data, updated_at = excluded.updated_at",
            (user_id, flow, step, json.dumps(data, ensure_ascii=False), now),
        )

    async def note(
        self, user_id: int, token_key: str, token: int, key: str, value: int | str
    ) -> bool:
        """Set data[key] on the member's draft while its data[token_key] is still `token`."""
        changed = await self._db.execute(
            "UPDATE conversations SET data = json_set(data, '$.' || ?, ?)"
            " WHERE user_id = ? AND json_extract(data, '$.' || ?) = ?",
            (key, value, user_id, token_key, token),
        )
        return changed > 0

    async def clear(self, user_id: int) -> bool:
        """Leave any flow; return True when there was one."""
        return (
            await self._db.execute("DELETE FROM conversations WHERE user_id = ?", (user_id,)) > 0
        )


def flow_from(row: Row | None) -> Flow | None:
    """A `conversations` row (its columns `flow, step, data, updated_at`) as a Flow."""
    if row is None or row["flow"] is None:
        return None
    data = json.loads(row["data"])
    return Flow(
        row["flow"], row["step"], data if isinstance(data, dict) else {}, row["updated_at"]
    )
