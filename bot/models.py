"""Plain values shared by storage, services and handlers: members, roles, posts, letters."""

from __future__ import annotations

from collections.abc import Mapping
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


# Where a draft keeps its step's token (see FlowService.enter). The key is "draft" in rows
# written before flows and drafts had one name each; it stays so those rows still load.
TOKEN_KEY = "draft"  # noqa: S105 (a JSON key, not a password)


@dataclass(frozen=True)
class Flow:
    """Where a member is in a multi-step flow (`name`, `step`), with the draft gathered so far."""

    name: str
    step: str
    draft: dict[str, object]
    updated_at: int = 0  # epoch seconds of the last step: a draft left too long expires

    @property
    def token(self) -> int | None:
        """The token of this step of the draft; buttons shown for it carry the same token."""
        token = self.draft.get(TOKEN_KEY)
        return token if isinstance(token, int) else None


@dataclass(frozen=True)
class Arrival:
    """What an update needs to know about its sender, read together when it arrives."""

    member: Member | None  # None: never sent /start, or erased
    roles: frozenset[Role]
    flow: Flow | None  # as stored: FlowService decides whether a draft has expired


@dataclass(frozen=True)
class StoredPost:
    """A published campaign post; either text may be missing."""

    id: int
    text_ko: str | None
    text_en: str | None
    photo_file_id: str | None
    published_at: int


@dataclass(frozen=True)
class BroadcastSummary:
    """A broadcast and how far it got."""

    id: int
    kind: str
    audience: str
    state: str
    recipients: int
    created_at: int
    finished_at: int | None
    progress_chat_id: int | None
    progress_message_id: int | None
    counts: Mapping[str, int]
    digest_recipients: int = 0  # a post's readers who get it in their next summary


@dataclass(frozen=True)
class StoredLetter:
    """A letter as anyone may see it: no writer identity."""

    id: int
    language: str
    pen_name: str
    text: str
    state: str
    created_at: int
    decided_at: int | None
    reject_reason: str | None
    reject_note: str | None
    bundle_id: int | None
    bundled_at: int | None  # when its bundle reached the courier
    delivered_on: str | None  # YYYY-MM-DD
    translation: str | None = None  # Korean, for a letter not written in Korean


@dataclass(frozen=True)
class StoredBundle:
    id: int
    created_at: int
    letter_count: int
    sent_at: int | None
    delivered_on: str | None
    delivered_at: int | None
