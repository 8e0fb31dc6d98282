"""Plain values shared by storage and services: members, roles, delivery settings."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """A privilege an admin grants; admins themselves come from ADMIN_IDS."""

    COORDINATOR = "coordinator"
    COURIER = "courier"
    TRANSLATOR = "translator"


class DeliveryMode(StrEnum):
    """How a subscriber receives updates."""

    INSTANT = "instant"
    DAILY = "daily"
    WEEKLY = "weekly"
    PAUSED = "paused"


@dataclass(frozen=True)
class Member:
    """Everything stored about one member, and nothing more."""

    user_id: int
    chat_id: int
    language: str
    consented_at: int | None
    subscribed: bool
    delivery_mode: DeliveryMode
    digest_hour: int
    digest_weekday: int
    timezone: str
    active: bool
    blocked: bool
    created_at: int
    last_seen_at: int

    @property
    def has_consented(self) -> bool:
        return self.consented_at is not None


@dataclass(frozen=True)
class AuditEntry:
    """One privileged action, as written to the audit log."""

    at: int
    actor_id: int
    action: str
    target_id: int | None
    detail: str


DRAFT_KEY = "draft"


@dataclass(frozen=True)
class Conversation:
    """Where a member is in a multi-step flow, with the values gathered so far."""

    flow: str
    step: str
    data: dict[str, object]
    updated_at: int = 0  # epoch seconds of the last step: a draft left too long expires

    @property
    def draft(self) -> int | None:
        """The token of this step of the draft; buttons shown for it carry the same token."""
        token = self.data.get(DRAFT_KEY)
        return token if isinstance(token, int) else None
