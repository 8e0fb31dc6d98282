"""Joining, consent, language, subscription and delivery settings of members."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.clock import Clock, to_epoch
from bot.config import SUPPORTED_LANGUAGES
from bot.models import Arrival, DeliveryMode, Member
from bot.services.zones import resolve_timezone
from bot.storage.members import MemberRepository

# Offered as buttons in /settings; any other IANA name can be typed.
COMMON_TIMEZONES = (
    "Asia/Seoul",
    "Asia/Tokyo",
    "Asia/Shanghai",
    "Asia/Bangkok",
    "Europe/Kyiv",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Australia/Sydney",
    "UTC",
)
# last_seen_at only decides retention (counted in days), so it is written at most once a day.
SEEN_RESOLUTION = 24 * 3600


class SettingProblem(StrEnum):
    """Why a settings change was refused."""

    UNKNOWN_TIMEZONE = "unknown_timezone"
    BAD_HOUR = "bad_hour"
    BAD_WEEKDAY = "bad_weekday"
    BAD_LANGUAGE = "bad_language"
    NOT_A_MEMBER = "not_a_member"


@dataclass(frozen=True)
class SettingResult:
    """The member after a change, or the problem that stopped it."""

    member: Member | None
    problem: SettingProblem | None = None


# Telegram's shared senders: every anonymous group admin (GroupAnonymousBot), messages sent on
# behalf of a channel (Channel_Bot), and channel posts forwarded to a discussion group (777000).
# Many people stand behind each, so none is ever a member.
SHARED_SENDER_IDS = frozenset({1087968824, 136817688, 777000})


class NotAPrivateChat(ValueError):
    """Registration was asked to deliver to a chat other than the person's own private chat."""


class MemberService:
    """What a member can do to their own record."""

    def __init__(
        self,
        members: MemberRepository,
        clock: Clock,
        default_timezone: str,
        reschedule_digest: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self._members = members
        self._clock = clock
        self._default_timezone = default_timezone
        # Called after every change that can move the member's next digest (DigestService).
        self._reschedule_digest = reschedule_digest

    async def get(self, user_id: int) -> Member | None:
        return await self._members.get(user_id)

    async def arrival(self, user_id: int) -> Arrival:
        """The sender of an update: their row, roles and flow, read together."""
        return await self._members.arrival(user_id)

    async def new_settings_view(self, user_id: int) -> int:
        """A token for a settings message about to be shown; every older one expires.

        Random, not counted: a counter would give two members' first settings messages the
        same number, and one member's button would then work in the other's hands.
        """
        view = secrets.randbelow(1 << 40) + 1
        await self._members.set_settings_view(user_id, view)
        return view

    async def is_current_settings_view(self, user_id: int, view: int) -> bool:
        """Whether a settings button was shown on the member's newest settings message."""
        current = await self._members.settings_view(user_id)
        return current is not None and current == view

    async def join(self, user_id: int, chat_id: int, language: str) -> Member:
        """Record a member who sent /start (or return the existing record).

        A private chat's id is its person's id: any other chat (a group) is refused, so a
        member's updates and notices can never be redirected to a group.
        """
        if chat_id != user_id or user_id in SHARED_SENDER_IDS:
            raise NotAPrivateChat("a member's delivery chat is their own private chat")
        now = to_epoch(self._clock.now())
        return await self._members.register(
            user_id, chat_id, language, self._default_timezone, now
        )

    async def consent(self, user_id: int) -> None:
        await self._members.record_consent(user_id, to_epoch(self._clock.now()))

    async def decline(self, user_id: int) -> None:
        """A member who does not consent leaves nothing behind."""
        await self._members.delete(user_id)

    async def set_language(self, user_id: int, language: str) -> SettingResult:
        if language not in SUPPORTED_LANGUAGES:
            return SettingResult(None, SettingProblem.BAD_LANGUAGE)
        await self._members.set_language(user_id, language)
        return await self._result(user_id)

    async def subscribe(self, user_id: int) -> bool:
        """Subscribe; return False when already subscribed."""
        changed = await self._members.set_subscribed(user_id, subscribed=True)
        await self._digest_settings_changed(user_id)
        return changed

    async def unsubscribe(self, user_id: int) -> bool:
        """Unsubscribe; return False when not subscribed."""
        changed = await self._members.set_subscribed(user_id, subscribed=False)
        await self._digest_settings_changed(user_id)
        return changed

    async def set_mode(self, user_id: int, mode: DeliveryMode) -> SettingResult:
        await self._members.set_delivery(user_id, mode=mode)
        await self._digest_settings_changed(user_id)
        return await self._result(user_id)

    async def set_hour(self, user_id: int, hour: int) -> SettingResult:
        if not 0 <= hour <= 23:
            return SettingResult(None, SettingProblem.BAD_HOUR)
        await self._members.set_delivery(user_id, hour=hour)
        await self._digest_settings_changed(user_id)
        return await self._result(user_id)

    async def set_weekday(self, user_id: int, weekday: int) -> SettingResult:
        if not 0 <= weekday <= 6:
            return SettingResult(None, SettingProblem.BAD_WEEKDAY)
        await self._members.set_delivery(user_id, weekday=weekday)
        await self._digest_settings_changed(user_id)
        return await self._result(user_id)

    async def set_timezone(self, user_id: int, name: str) -> SettingResult:
        zone = resolve_timezone(name)
        if zone is None:
            return SettingResult(None, SettingProblem.UNKNOWN_TIMEZONE)
        await self._members.set_delivery(user_id, timezone=zone)
        await self._digest_settings_changed(user_id)
        return await self._result(user_id)

    async def seen(self, member: Member) -> None:
        """The member did something: retention counts from here. At most one write a day."""
        now = to_epoch(self._clock.now())
        if member.last_seen_at < now - SEEN_RESOLUTION:
            await self._members.touch_if_before(member.user_id, now, now - SEEN_RESOLUTION)

    async def set_blocked_by_admin(self, actor_id: int, user_id: int, *, blocked: bool) -> bool:
        """Block or unblock a member (the caller checked the actor is an admin)."""
        now = to_epoch(self._clock.now())
        return await self._members.set_blocked(
            user_id, blocked=blocked, actor_id=actor_id, now=now
        )

    async def bot_blocked(self, user_id: int, *, blocked: bool) -> None:
        """The member blocked (or unblocked) the bot in Telegram."""
        await self._members.set_active(user_id, active=not blocked)

    async def _digest_settings_changed(self, user_id: int) -> None:
        if self._reschedule_digest is not None:
            await self._reschedule_digest(user_id)

    async def _result(self, user_id: int) -> SettingResult:
        member = await self._members.get(user_id)
        if member is None:
            return SettingResult(None, SettingProblem.NOT_A_MEMBER)
        return SettingResult(member)
