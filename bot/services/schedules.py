"""Scheduled announcements: typed in the coordinator's time zone, sent once at their minute.

A tick (the job queue, and once at start-up) sends what is due. After downtime, one less than
an hour late still goes out; a later one is held and its author asked, since an announcement
about Saturday's vigil must not arrive on Sunday unasked.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.clock import Clock, from_epoch, to_epoch
from bot.i18n import Html, Translator
from bot.services.approvals import KIND_ANNOUNCEMENT, ApprovalService
from bot.services.broadcasts import Audience, BroadcastService, clean_broadcast_text
from bot.storage.outbox import Payload
from bot.storage.schedules import ScheduledAnnouncement, ScheduleRepository

LATE_LIMIT = timedelta(hours=1)
MAX_AHEAD = timedelta(days=90)
SEOUL = "Asia/Seoul"
_NUMBERS = re.compile(r"\d+")


class TimeProblem(StrEnum):
    UNREADABLE = "unreadable"
    PAST = "past"
    TOO_FAR = "too_far"


class SendNow(StrEnum):
    SENT = "sent"
    WAITS_FOR_APPROVAL = "waits"
    GONE = "gone"  # sent or cancelled already


@dataclass(frozen=True)
class Scheduled:
    schedule_id: int
    approvers_asked: int | None  # None: no approval needed


def parse_send_time(text: str, timezone: str, now: datetime) -> datetime | TimeProblem:
    """A minute typed as '2026-11-25 18:00', '11/25 18:00', '25일 18시' … or '18:00'.

    Read in `timezone`; a date without a year is the next such day, a time alone the next
    such minute. Returned in UTC.
    """
    zone = ZoneInfo(timezone)
    local_now = now.astimezone(zone)
    try:
        # Inside: Python refuses to read a number of more than 4300 digits (ValueError).
        numbers = [int(n) for n in _NUMBERS.findall(text)]
        if len(numbers) == 5:
            year, month, day, hour, minute = numbers
            moment = datetime(year, month, day, hour, minute, tzinfo=zone)
        elif len(numbers) == 4:
            month, day, hour, minute = numbers
            moment = datetime(local_now.year, month, day, hour, minute, tzinfo=zone)
            if moment <= local_now:
                moment = moment.replace(year=local_now.year + 1)
        elif len(numbers) == 2:
            hour, minute = numbers
            moment = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
            if moment <= local_now:
                moment += timedelta(days=1)
        else:
            return TimeProblem.UNREADABLE
    except ValueError:
        return TimeProblem.UNREADABLE
    if moment <= local_now:
        return TimeProblem.PAST
    if moment - local_now > MAX_AHEAD:
        return TimeProblem.TOO_FAR
    return moment.astimezone(ZoneInfo("UTC"))


class ScheduleService:
    """Schedules announcements, sends them when due, and lets coordinators cancel or hurry."""

    def __init__(
        self,
        schedules: ScheduleRepository,
        broadcasts: BroadcastService,
        approvals: ApprovalService,
        translator: Translator,
        clock: Clock,
        wake_sender: Callable[[], None],
        may_announce: Callable[[int], Awaitable[bool]] | None = None,
    ) -> None:
        self._schedules = schedules
        self._broadcasts = broadcasts
        self._approvals = approvals
        self._translator = translator
        self._clock = clock
        self._wake_sender = wake_sender
        self._may_announce = may_announce

    async def schedule(
        self,
        author_id: int,
        audience: Audience,
        text_ko: str | None,
        text_en: str | None,
        send_at: datetime,
        bundle: int | None = None,
    ) -> Scheduled:
        """Store it; with the two-person rule (or a link to approve) ask the others first."""
        text_ko, text_en = clean_broadcast_text(text_ko), clean_broadcast_text(text_en)
        held = self._approvals.needs_approval(text_ko, text_en)
        now = to_epoch(self._clock.now())
        schedule_id = await self._schedules.create(
            author_id,
            audience.value,
            text_ko,
            text_en,
            to_epoch(send_at),
            held,
            now,
            bundle if audience.writers_only else None,
        )
        asked = None
        if held:
            asked = await self._approvals.request(
                KIND_ANNOUNCEMENT,
                author_id,
                text_ko,
                text_en,
                audience=audience,
                schedule_id=schedule_id,
                send_at=send_at,
                bundle=bundle,
            )
        self._wake_sender()
        return Scheduled(schedule_id, asked)

    async def waiting(self) -> list[ScheduledAnnouncement]:
        return await self._schedules.waiting()

    async def cancel(self, schedule_id: int, actor_id: int) -> bool:
        return await self._schedules.cancel(schedule_id, actor_id, to_epoch(self._clock.now()))

    async def send_now(self, schedule_id: int, actor_id: int) -> SendNow:
        scheduled = await self._schedules.get(schedule_id)
        if scheduled is None:
            return SendNow.GONE
        if scheduled.state == "awaiting_approval":
            return SendNow.WAITS_FOR_APPROVAL
        started = await self._start(scheduled, actor_id)
        return SendNow.SENT if started else SendNow.GONE

    async def run_due(self) -> int:
        """Send what is due (once each, however often this runs); return how many went out."""
        now = self._clock.now()
        sent = 0
        for scheduled in await self._schedules.due(to_epoch(now)):
            late = now - from_epoch(scheduled.send_at)
            if scheduled.state == "awaiting_approval":
                if not scheduled.author_told:
                    await self._tell(scheduled, "awaiting_approval", self._still_waiting)
            elif not await self._author_may_announce(scheduled):
                # Its author lost the right to announce (revoked, perhaps hijacked): it is held
                # for the remaining coordinators to send or cancel from /scheduled.
                continue
            elif late < LATE_LIMIT:
                sent += await self._start(scheduled, scheduled.author_id)
            else:
                await self._tell(scheduled, "late", self._late_question)
        return sent

    async def _author_may_announce(self, scheduled: ScheduledAnnouncement) -> bool:
        return self._may_announce is None or await self._may_announce(scheduled.author_id)

    async def _start(self, scheduled: ScheduledAnnouncement, actor_id: int) -> bool:
        started = await self._broadcasts.start_scheduled(
            scheduled.id,
            actor_id,
            Audience(scheduled.audience),
            scheduled.text_ko,
            scheduled.text_en,
            functools.partial(self._sent_notice, scheduled),
        )
        return started is not None

    async def _tell(
        self,
        scheduled: ScheduledAnnouncement,
        to_state: str,
        notice: Callable[[ScheduledAnnouncement, str], Payload],
    ) -> None:
        told = await self._schedules.tell_author(
            scheduled.id,
            scheduled.state,
            to_state,
            functools.partial(notice, scheduled),
            to_epoch(self._clock.now()),
        )
        if told:
            self._wake_sender()

    def _seoul(self, scheduled: ScheduledAnnouncement, language: str) -> str:
        texts = self._translator.texts(language)
        return texts.datetime_in(from_epoch(scheduled.send_at), SEOUL)

    def _sent_notice(self, scheduled: ScheduledAnnouncement, language: str, count: int) -> Payload:
        texts = self._translator.texts(language)
        return Payload(
            texts.ngettext(
                "The announcement scheduled for {when} (Seoul time) is on its way to {count} "
                "person.",
                "The announcement scheduled for {when} (Seoul time) is on its way to {count} "
                "people.",
                count,
                when=self._seoul(scheduled, language),
            )
        )

    def _still_waiting(self, scheduled: ScheduledAnnouncement, language: str) -> Payload:
        texts = self._translator.texts(language)
        return Payload(
            texts(
                "The announcement scheduled for {when} (Seoul time) was not sent: no second "
                "coordinator has approved it yet. It goes out as soon as one does, or, an hour "
                "after its time, you will be asked again.",
                when=self._seoul(scheduled, language),
            )
        )

    def _late_question(self, scheduled: ScheduledAnnouncement, language: str) -> Payload:
        texts = self._translator.texts(language)
        text = Html(
            texts(
                "The announcement scheduled for {when} (Seoul time) could not go out on time "
                "and is now more than an hour late. Send it now, or cancel it?",
                when=self._seoul(scheduled, language),
            )
            + "\n\n"
            + self._broadcasts.render_announcement(
                first_words(scheduled.text_ko), first_words(scheduled.text_en), language
            )
        )
        # Built here, where the message is queued; bot/handlers/buttons.py decodes them.
        buttons = [
            [
                (texts.plain("Send now"), f"sched:send:{scheduled.id}"),
                (texts.plain("Cancel it"), f"sched:cancel:{scheduled.id}"),
            ]
        ]
        return Payload(text, buttons=buttons)


def first_words(text: str | None, limit: int = 200) -> str | None:
    """The start of a text, for lists and questions that must stay short."""
    if text is None or len(text) <= limit:
        return text
    return text[:limit].rstrip() + "…"
