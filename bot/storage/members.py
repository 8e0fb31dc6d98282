"""SQL for members: registration, language, subscription and delivery settings."""

from __future__ import annotations

from bot.models import Arrival, DeliveryMode, Member, Role
from bot.storage.database import Database, Row
from bot.storage.flows import flow_from
from bot.storage.roles import write_audit

_COLUMNS = (
    "user_id, chat_id, language, consented_at, subscribed, delivery_mode, digest_hour,"
    " digest_weekday, timezone, active, blocked, created_at, last_seen_at"
)

# Everything an update needs about its sender in one statement, so one trip to SQLite's thread:
# the member row (if any), their granted roles, their flow row (if any).
_ARRIVAL = (
    "SELECT "  # noqa: S608 - constants
    + ", ".join(f"m.{column.strip()}" for column in _COLUMNS.split(","))
    + ", (SELECT group_concat(role, ',') FROM roles WHERE user_id = u.id) AS roles,"
    " c.flow, c.step, c.data, c.updated_at"
    " FROM (SELECT ? AS id) AS u"
    " LEFT JOIN members m ON m.user_id = u.id"
    " LEFT JOIN conversations c ON c.user_id = u.id"
)


def _member(row: Row) -> Member:
    return Member(
        user_id=row["user_id"],
        chat_id=row["chat_id"],
        language=row["language"],
        consented_at=row["consented_at"],
        subscribed=bool(row["subscribed"]),
        delivery_mode=DeliveryMode(row["delivery_mode"]),
        digest_hour=row["digest_hour"],
        digest_weekday=row["digest_weekday"],
        timezone=row["timezone"],
        active=bool(row["active"]),
        blocked=bool(row["blocked"]),
        created_at=row["created_at"],
        last_seen_at=row["last_seen_at"],
    )


class MemberRepository:
    """Reads and writes the `members` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: int) -> Member | None:
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM members WHERE user_id = ?",  # noqa: S608 - constant
            (user_id,),
        )
        return _member(row) if row is not None else None

    async def arrival(self, user_id: int) -> Arrival:
        """The member, their roles and their flow, as stored now (one statement)."""
        row = await self._db.fetch_one(_ARRIVAL, (user_id,))
        assert row is not None  # the FROM is one row, whatever the LEFT JOINs find
        roles = row["roles"]
        return Arrival(
            member=_member(row) if row["user_id"] is not None else None,
            roles=frozenset(Role(role) for role in roles.split(",")) if roles else frozenset(),
            flow=flow_from(row),
        )

    async def register(
        self, user_id: int, chat_id: int, language: str, timezone: str, now: int
    ) -> Member:
        """Create the member if new (touching last_seen otherwise) and return the stored row."""
        if chat_id != user_id:  # a private chat's id is its person's id; groups are refused
            raise ValueError("a member's chat is their private chat")
        async with self._db.transaction() as connection:
            await connection.execute(
                "INSERT INTO members (user_id, chat_id, language, timezone, created_at,"
                " last_seen_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET last_seen_at = excluded.last_seen_at,"
                " chat_id = excluded.chat_id, active = 1",
                (user_id, chat_id, language, timezone, now, now),
            )
            async with connection.execute(
                f"SELECT {_COLUMNS} FROM members WHERE user_id = ?",  # noqa: S608 - constant
                (user_id,),
            ) as cursor:
                row = await cursor.fetchone()
        assert row is not None
        return _member(row)

    async def record_consent(self, user_id: int, now: int) -> None:
        await self._db.execute(
            "UPDATE members SET consented_at = COALESCE(consented_at, ?) WHERE user_id = ?",
            (now, user_id),
        )

    async def set_language(self, user_id: int, language: str) -> None:
        await self._db.execute(
            "UPDATE members SET language = ? WHERE user_id = ?", (language, user_id)
        )

    async def set_subscribed(self, user_id: int, *, subscribed: bool) -> bool:
        """Set the flag; return True when it changed."""
        changed = await self._db.execute(
            "UPDATE members SET subscribed = ? WHERE user_id = ? AND subscribed != ?",
            (int(subscribed), user_id, int(subscribed)),
        )
        return changed > 0

    async def set_delivery(
        self,
        user_id: int,
        *,
        mode: DeliveryMode | None = None,
        hour: int | None = None,
        weekday: int | None = None,
        timezone: str | None = None,
    ) -> None:
        """Change any of the delivery settings; None leaves a value as it is."""
        await self._db.execute(
            "UPDATE members SET delivery_mode = COALESCE(?, delivery_mode),"
            " digest_hour = COALESCE(?, digest_hour),"
            " digest_weekday = COALESCE(?, digest_weekday),"
            " timezone = COALESCE(?, timezone) WHERE user_id = ?",
            (None if mode is None else mode.value, hour, weekday, timezone, user_id),
        )

    async def set_active(self, user_id: int, *, active: bool) -> None:
        """Record that the member blocked (False) or unblocked (True) the bot."""
        await self._db.execute(
            "UPDATE members SET active = ? WHERE user_id = ?", (int(active), user_id)
        )

    async def touch_if_before(self, user_id: int, now: int, before: int) -> None:
        """Record the member as seen at `now` unless they were seen since `before`."""
        await self._db.execute(
            "UPDATE members SET last_seen_at = ? WHERE user_id = ? AND last_seen_at < ?",
            (now, user_id, before),
        )

    async def touch(self, user_id: int, now: int) -> None:
        await self._db.execute(
            "UPDATE members SET last_seen_at = ? WHERE user_id = ?", (now, user_id)
        )

    async def set_blocked(self, user_id: int, *, blocked: bool, actor_id: int, now: int) -> bool:
        """An admin blocks or unblocks a member; audited in the same transaction."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE members SET blocked = ? WHERE user_id = ? AND blocked != ?",
                (int(blocked), user_id, int(blocked)),
            )
            if cursor.rowcount == 0:
                return False
            await write_audit(
                connection, now, actor_id, "block" if blocked else "unblock", user_id
            )
        return True

    async def set_settings_view(self, user_id: int, view: int) -> None:
        """Record the token of the member's newest settings message; older ones stop working."""
        await self._db.execute(
            "UPDATE members SET settings_view = ? WHERE user_id = ?", (view, user_id)
        )

    async def settings_view(self, user_id: int) -> int | None:
        """The number of the member's newest settings message."""
        row = await self._db.fetch_one(
            "SELECT settings_view FROM members WHERE user_id = ?", (user_id,)
        )
        return None if row is None else int(row["settings_view"])

    async def delete(self, user_id: int) -> None:
        await self._db.execute("DELETE FROM members WHERE user_id = ?", (user_id,))
