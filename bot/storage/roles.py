"""SQL for granted roles and the audit log of privileged actions."""

from __future__ import annotations

import aiosqlite

from bot.models import AuditEntry, Role
from bot.storage.alerts import ALERTED_ACTIONS, refusal_alert_due
from bot.storage.database import Database


class RoleRepository:
    """Reads and writes `roles`; every change is audited in the same transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def roles_of(self, user_id: int) -> frozenset[Role]:
        rows = await self._db.fetch_all("SELECT role FROM roles WHERE user_id = ?", (user_id,))
        return frozenset(Role(row["role"]) for row in rows)

    async def grant(self, user_id: int, role: Role, actor_id: int, now: int) -> bool:
        """Grant the role; return False when the user already had it."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "INSERT INTO roles (user_id, role, granted_by, granted_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (user_id, role.value, actor_id, now),
            )
            if cursor.rowcount == 0:
                return False
            await write_audit(connection, now, actor_id, "grant", user_id, role.value)
        return True

    async def revoke(self, user_id: int, role: Role, actor_id: int, now: int) -> bool:
        """Revoke the role; return False when the user did not have it."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "DELETE FROM roles WHERE user_id = ? AND role = ?", (user_id, role.value)
            )
            if cursor.rowcount == 0:
                return False
            await write_audit(connection, now, actor_id, "revoke", user_id, role.value)
        return True

    async def all_grants(self) -> list[tuple[int, Role]]:
        rows = await self._db.fetch_all("SELECT user_id, role FROM roles ORDER BY role, user_id")
        return [(row["user_id"], Role(row["role"])) for row in rows]


class AuditRepository:
    """Appends to and reads the audit log."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self, now: int, actor_id: int, action: str, target_id: int | None, detail: str = ""
    ) -> None:
        async with self._db.transaction() as connection:
            await write_audit(connection, now, actor_id, action, target_id, detail)

    async def recent(self, limit: int) -> list[AuditEntry]:
        rows = await self._db.fetch_all(
            "SELECT at, actor_id, action, target_id, detail FROM audit_log"
            " ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [
            AuditEntry(r["at"], r["actor_id"], r["action"], r["target_id"], r["detail"])
            for r in rows
        ]


async def write_audit(
    connection: aiosqlite.Connection,
    now: int,
    actor_id: int,
    action: str,
    target_id: int | None,
    detail: str = "",
) -> None:
    """Append an audit row inside the caller's transaction, so the two commit together.

    An action admins are alerted of gets its alert row in the same transaction: no action
    without its alert, and no alert for an action rolled back.
    """
    cursor = await connection.execute(
        "INSERT INTO audit_log (at, actor_id, action, target_id, detail) VALUES (?, ?, ?, ?, ?)",
        (now, actor_id, action, target_id, detail),
    )
    kind = ALERTED_ACTIONS.get(action)
    if kind == "refusals" and not await refusal_alert_due(connection, actor_id, now):
        kind = None
    if kind is not None:
        await connection.execute(
            "INSERT INTO admin_alerts (audit_id, kind) VALUES (?, ?)", (cursor.lastrowid, kind)
        )
