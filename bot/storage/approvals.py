"""SQL for broadcasts waiting for a second coordinator's approval."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.storage.database import Database, Row
from bot.storage.outbox import Payload, enqueue_to_member
from bot.storage.roles import write_audit


@dataclass(frozen=True)
class ApprovalRequest:
    """A post or announcement that a second coordinator must approve."""

    id: int
    kind: str
    author_id: int
    audience: str
    text_ko: str | None
    text_en: str | None
    photo_file_id: str | None
    state: str
    writers_bundle: int | None = None  # audience 'writers': of this bundle only


def _request(row: Row) -> ApprovalRequest:
    return ApprovalRequest(
        row["id"],
        row["kind"],
        row["author_id"],
        "writers" if row["writers_only"] else row["audience"],
        row["text_ko"],
        row["text_en"],
        row["photo_file_id"],
        row["state"],
        row["writers_bundle"],
    )


class ApprovalRepository:
    """Creates requests (notifying the other coordinators) and records one decision."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        request: ApprovalRequest,
        admin_ids: Iterable[int],
        notice: Callable[[int, str], list[Payload]],
        now: int,
        schedule_id: int | None = None,
        answer_id: int | None = None,
    ) -> tuple[int, int]:
        """Store the request and queue the `notice(request_id, language)` messages to every other
        coordinator and admin, in one transaction: (request id, people asked)."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "INSERT INTO approval_requests (kind, author_id, audience, writers_only,"
                " writers_bundle, text_ko, text_en, photo_file_id, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    request.kind,
                    request.author_id,
                    "all" if request.audience == "writers" else request.audience,
                    request.audience == "writers",
                    request.writers_bundle,
                    request.text_ko,
                    request.text_en,
                    request.photo_file_id,
                    now,
                ),
            )
            request_id = cursor.lastrowid
            assert request_id is not None
            # In this transaction: the request holds that scheduled announcement or answer, so
            # approving it never sends it as a plain broadcast.
            if schedule_id is not None:
                await connection.execute(
                    "UPDATE scheduled_announcements SET approval_id = ? WHERE id = ?",
                    (request_id, schedule_id),
                )
            if answer_id is not None:
                await connection.execute(
                    "UPDATE answers SET approval_id = ? WHERE id = ?", (request_id, answer_id)
                )
            async with connection.execute(
                "SELECT user_id, language FROM members WHERE active = 1 AND blocked = 0"
                " AND user_id != ? AND (user_id IN (SELECT user_id FROM roles"
                " WHERE role = 'coordinator') OR user_id IN (SELECT value FROM json_each(?)))",
                (request.author_id, _json_ids(admin_ids)),
            ) as rows:
                approvers = [(row["user_id"], row["language"]) for row in await rows.fetchall()]
            for user_id, language in approvers:
                for payload in notice(request_id, language):
                    await enqueue_to_member(connection, user_id, payload, "approval", now)
            await write_audit(
                connection, now, request.author_id, "approval_requested", None, request.kind
            )
        return request_id, len(approvers)

    async def decide(
        self, request_id: int, approver_id: int, *, approve: bool, now: int
    ) -> ApprovalRequest | None:
        """Record the decision if the request is still pending and the approver is not its
        author; None otherwise (someone decided first, or it is one's own request)."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE approval_requests SET state = ?, decided_by = ?, decided_at = ?"
                " WHERE id = ? AND state = 'pending' AND author_id != ?",
                ("approved" if approve else "rejected", approver_id, now, request_id, approver_id),
            )
            if cursor.rowcount == 0:
                return None
            async with connection.execute(
                "SELECT * FROM approval_requests WHERE id = ?", (request_id,)
            ) as rows:
                row = await rows.fetchone()
            assert row is not None
            action = "approval_granted" if approve else "approval_refused"
            await write_audit(connection, now, approver_id, action, row["author_id"], row["kind"])
        return _request(row)

    async def get(self, request_id: int) -> ApprovalRequest | None:
        row = await self._db.fetch_one(
            "SELECT * FROM approval_requests WHERE id = ?", (request_id,)
        )
        return _request(row) if row is not None else None


def _json_ids(ids: Iterable[int]) -> str:
    return "[" + ",".join(str(int(i)) for i in ids) + "]"
