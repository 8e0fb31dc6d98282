"""SQL for the /stats chart: aggregate counts only, never who."""

from __future__ import annotations

from bot.storage.database import Database


class StatsRepository:
    """Counts by day or week for the chart."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def subscribers_joined(self) -> list[tuple[str, str, str, int]]:
        """(day YYYY-MM-DD, language, mode, count) of today's subscribers by the day they
        agreed: nothing records when someone left, so this is today's subscribers' history."""
        rows = await self._db.fetch_all(
            "SELECT date(consented_at, 'unixepoch') AS day, language, delivery_mode,"
            " COUNT(*) AS n FROM members WHERE subscribed = 1 AND active = 1 AND blocked = 0"
            " AND consented_at IS NOT NULL GROUP BY day, language, delivery_mode ORDER BY day"
        )
        return [(r["day"], r["language"], r["delivery_mode"], r["n"]) for r in rows]

    async def letters_by_week(self) -> list[tuple[str, int, int, int]]:
        """(week's Monday YYYY-MM-DD, written, approved, handed over), oldest first."""
        rows = await self._db.fetch_all(
            "SELECT week, SUM(written) AS written, SUM(approved) AS approved,"
            " SUM(handed) AS handed FROM ("
            " SELECT date(created_at, 'unixepoch', 'weekday 0', '-6 days') AS week,"
            "  1 AS written, 0 AS approved, 0 AS handed FROM letters"
            " UNION ALL SELECT date(decided_at, 'unixepoch', 'weekday 0', '-6 days'), 0, 1, 0"
            "  FROM letters WHERE state IN ('approved', 'bundled', 'delivered')"
            "  AND decided_at IS NOT NULL"
            " UNION ALL SELECT date(delivered_at, 'unixepoch', 'weekday 0', '-6 days'), 0, 0, 1"
            "  FROM letters WHERE state = 'delivered' AND delivered_at IS NOT NULL"
            ") GROUP BY week ORDER BY week"
        )
        return [(r["week"], r["written"], r["approved"], r["handed"]) for r in rows]
