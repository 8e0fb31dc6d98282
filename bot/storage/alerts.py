"""SQL for admin alerts: audit entries waiting to be told to the admins, and their mutes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import aiosqlite

from bot.models import AuditEntry
from bot.storage.database import Database
from bot.storage.outbox import Payload, enqueue_to_member

# The audit actions admins are alerted of, by the kind an admin can mute.
ALERTED_ACTIONS: dict[str, str] = {
    "grant": "roles",
    "revoke": "roles",
    "block": "blocks",
    "unblock": "blocks",
    "update_published": "broadcasts",
    "announcement_sent": "broadcasts",
    "announcement_scheduled": "broadcasts",
    "announcement_unscheduled": "broadcasts",
    "answer_published": "broadcasts",
    "feed_added": "broadcasts",
    "feed_removed": "broadcasts",
    "approval_granted": "approvals",
    "approval_refused": "approvals",
    "bundle_made": "bundles",
    "bundle_delivered": "deliveries",
    "letter_translated": "translations",
    "refused": "refusals",
}
# A refused privileged step is alerted only when someone holding a role tried it (a hijacked
# coordinator probing for more), and once per person per this many seconds: a hundred tries
# are one alert, and every one of them stays in /audit. Plain members' refusals (curiosity,
# mostly) are audited only.
REFUSAL_ALERT_SECONDS = 3600


@dataclass(frozen=True)
class WaitingAlert:
    audit_id: int
    kind: str
    entry: AuditEntry


class AlertRepository:
    """Queues each waiting alert once, to every admin who has not muted its kind."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def waiting(self, limit: int = 100) -> list[WaitingAlert]:
        rows = await self._db.fetch_all(
            "SELECT a.audit_id, a.kind, l.at, l.actor_id, l.action, l.target_id, l.detail"
            " FROM admin_alerts a JOIN audit_log l ON l.id = a.audit_id"
            " WHERE a.queued_at IS NULL ORDER BY a.audit_id LIMIT ?",
            (limit,),
        )
        return [
            WaitingAlert(
                row["audit_id"],
                row["kind"],
                AuditEntry(
                    row["at"], row["actor_id"], row["action"], row["target_id"], row["detail"]
                ),
            )
            for row in rows
        ]

    async def queue(
        self,
        alert: WaitingAlert,
        admin_ids: Iterable[int],
        render: Callable[[str], Payload],
        now: int,
    ) -> int:
        """Queue `render(language)` to each admin not muting the kind; 0 if already queued."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE admin_alerts SET queued_at = ? WHERE audit_id = ? AND queued_at IS NULL",
                (now, alert.audit_id),
            )
            if cursor.rowcount == 0:
                return 0
            async with connection.execute(
                "SELECT user_id, language FROM members"
                " WHERE user_id IN (SELECT value FROM json_each(?)) AND blocked = 0"
                " AND user_id NOT IN (SELECT user_id FROM alert_mutes WHERE kind = ?)",
                (json.dumps(sorted(int(i) for i in admin_ids)), alert.kind),
            ) as rows:
                admins = [(row["user_id"], row["language"]) for row in await rows.fetchall()]
            payloads: dict[str, Payload] = {}
            for user_id, language in admins:
                payload = payloads.setdefault(language, render(language))
                await enqueue_to_member(connection, user_id, payload, "alert", now)
        return len(admins)

    async def muted(self, user_id: int) -> set[str]:
        rows = await self._db.fetch_all(
            "SELECT kind FROM alert_mutes WHERE user_id = ?", (user_id,)
        )
        return {row["kind"] for row in rows}

    async def set_muted(self, user_id: int, kind: str, muted: bool) -> None:
        if muted:
            await self._db.execute(
                "INSERT OR IGNORE INTO alert_mutes (user_id, kind) VALUES (?, ?)", (user_id, kind)
            )
        else:
            await self._db.execute(
                "DELETE FROM alert_mutes WHERE user_id = ? AND kind = ?", (user_id, kind)
            )


async def refusal_alert_due(connection: aiosqlite.Connection, actor_id: int, now: int) -> bool:
    """Whether a refusal by `actor_id` now deserves an alert (see REFUSAL_ALERT_SECONDS)."""
    async with connection.execute(
        "SELECT EXISTS (SELECT 1 FROM roles WHERE user_id = ?)"
        " AND NOT EXISTS (SELECT 1 FROM admin_alerts a JOIN audit_log l ON l.id = a.audit_id"
        "  WHERE a.kind = 'refusals' AND l.actor_id = ? AND l.at > ?)",
        (actor_id, actor_id, now - REFUSAL_ALERT_SECONDS),
    ) as cursor:
        row = await cursor.fetchone()
    return bool(row and row[0])
