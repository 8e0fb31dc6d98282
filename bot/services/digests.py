"""Scheduled digests: when each member's next one is due, what it says, and queueing them."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.clock import Clock, from_epoch, to_epoch
from bot.i18n import Html, Texts, Translator, escape
from bot.models import DeliveryMode, Member, StoredPost
from bot.storage.digests import (
    DigestDecision,
    DigestRepository,
    DigestSchedule,
    PendingPosts,
)
from bot.storage.outbox import Payload

log = logging.getLogger(__name__)

DIGEST_MODES = frozenset({DeliveryMode.DAILY, DeliveryMode.WEEKLY})
MAX_LENGTH = 4096  # Telegram's limit for a message, counted here on the HTML in UTF-16 units
MAX_ITEMS = 30  # posts listed in one digest; older ones are counted, not shown
# Each post's excerpt gets shorter until the digest fits; then the oldest are left out.
EXCERPT_LIMITS = (700, 350, 160, 80)
BATCH_SIZE = 500


def next_digest_time(
    mode: DeliveryMode, hour: int, weekday: int, timezone: str, after: datetime
) -> datetime | None:
    """The first digest strictly after `after` (UTC), at `hour` local time in `timezone`.

    Weekly digests fall on `weekday` (Monday 0). A local time that does not exist (the hour
    skipped when clocks go forward) is taken as the moment clocks resume, e.g. 02:00 in New
    York on 8 March 2026 is 03:00 EDT; a local time that happens twice (clocks go back) is its
    first occurrence (fold=0), and the digest is sent once. None for instant or paused.
    """
    if mode not in DIGEST_MODES:
        return None
    zone = ZoneInfo(known_zone(timezone))
    today = after.astimezone(zone).date()
    # From yesterday: a skipped local time can land on the next calendar day.
    for offset in range(-1, 9):
        day = today + timedelta(days=offset)
        if mode is DeliveryMode.WEEKLY and day.weekday() != weekday:
            continue
        moment = _local_moment(day, hour, zone)
        if moment > after:
            return moment
    raise AssertionError("a weekday always occurs within eight days")


@functools.cache
def known_zone(name: str) -> str:
    """`name` if this machine knows the zone, else UTC: one odd row must not stop every tick."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("event=digest_unknown_timezone")
        return "UTC"
    return name


def _local_moment(day: date, hour: int, zone: ZoneInfo) -> datetime:
    # fold=0 picks the earlier offset: the first of two ambiguous times, and for a time in a
    # gap, an instant just as far past the gap's start (PEP 495): "skip forward".
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


@dataclass
class TickReport:
    """What one tick did, for logs and tests."""

    due: int = 0
    queued: int = 0
    nothing_new: int = 0
    skipped: int = 0  # moved on without sending: not reachable, or another tick got there first

    def add(self, other: TickReport) -> None:
        self.due += other.due
        self.queued += other.queued
        self.nothing_new += other.nothing_new
        self.skipped += other.skipped


class DigestComposer:
    """Writes one digest in a member's language and time zone, within Telegram's limit."""

    def __init__(self, translator: Translator) -> None:
        self._translator = translator

    def compose(
        self, language: str, timezone: str, mode: DeliveryMode, pending: PendingPosts
    ) -> Html:
        """The summary's text: a header, then the posts oldest first, as a story reads."""
        texts = self._translator.texts(language)
        header = _header(texts, mode, pending.total)
        shown = pending.newest[:MAX_ITEMS]
        for limit in EXCERPT_LIMITS:
            items = [self._item(texts, post, timezone, limit) for post in shown]
            shortened = any(cut for _, cut in items)
            text = _assemble(
                texts, header, [item for item, _ in items], pending.total, shortened=shortened
            )
            if _fits(text):
                return text
        # Even short excerpts do not fit: leave out the oldest until they do (the list is
        # newest first until it is assembled).
        kept = [item for item, _ in items]
        while kept:
            kept.pop()
            text = _assemble(texts, header, kept, pending.total, shortened=True)
            if _fits(text):
                return text
        return _assemble(texts, header, [], pending.total, shortened=True)

    def _item(
        self, texts: Texts, post: StoredPost, timezone: str, limit: int
    ) -> tuple[Html, bool]:
        """One post: its date and time in bold, then an excerpt; True if it was cut."""
        when = texts.datetime_in(from_epoch(post.published_at), timezone)
        own, other = (
            (post.text_ko, post.text_en)
            if texts.language == "ko"
            else (post.text_en, post.text_ko)
        )
        excerpt, cut = _excerpt(own or other or "", limit, texts("…"))
        body = escape(excerpt)
        if not own:
            note = (
                texts("<i>Not yet available in Korean; here it is in English.</i>")
                if texts.language == "ko"
                else texts("<i>Not yet available in English; here it is in Korean.</i>")
            )
            body = Html(f"{body}\n{note}")
        if post.photo_file_id:
            sign = texts("<i>📷 With a photo, sent just after this summary.</i>")
            body = Html(f"{body}\n{sign}")
        return Html(f"<b>{escape(when)}</b>\n{body}"), cut

    def photos(self, language: str, timezone: str, pending: PendingPosts) -> tuple[Payload, ...]:
        """The photos of the posts a summary lists, oldest first, each with its date."""
        texts = self._translator.texts(language)
        return tuple(
            Payload(
                texts(
                    "📷 Photo from the update of {when}",
                    when=texts.datetime_in(from_epoch(post.published_at), timezone),
                ),
                post.photo_file_id,
            )
            for post in pending.oldest_first[:MAX_ITEMS]
            if post.photo_file_id
        )


def _header(texts: Texts, mode: DeliveryMode, count: int) -> Html:
    if mode not in DIGEST_MODES:
        # A member who left summaries gets, once, what their next one would have listed.
        return texts.ngettext(
            "<b>Updates you had not received yet: {count}</b>",
            "<b>Updates you had not received yet: {count}</b>",
            count,
        )
    if mode is DeliveryMode.WEEKLY:
        return texts.ngettext(
            "<b>Your weekly summary: {count} new update</b>",
            "<b>Your weekly summary: {count} new updates</b>",
            count,
        )
    return texts.ngettext(
        "<b>Your daily summary: {count} new update</b>",
        "<b>Your daily summary: {count} new updates</b>",
        count,
    )


def _assemble(
    texts: Texts, header: Html, items: list[Html], total: int, *, shortened: bool
) -> Html:
    """`items` newest first; the message lists them oldest first, after a note on any left out."""
    parts = [header]
    left_out = total - len(items)
    if left_out > 0:
        parts.append(
            texts.ngettext(
                "{count} earlier update is not shown here.",
                "{count} earlier updates are not shown here.",
                left_out,
            )
        )
    parts += reversed(items)
    if shortened or left_out > 0:
        parts.append(texts("Send /latest to read the latest updates in full."))
    return Html("\n\n".join(parts))


def _excerpt(text: str, limit: int, ellipsis: str) -> tuple[str, bool]:
    text = text.strip()
    if len(text) <= limit:
        return text, False
    return text[:limit].rstrip() + ellipsis, True


def _fits(text: str) -> bool:
    # Telegram counts UTF-16 code units of the visible text; the HTML is never shorter.
    return len(text.encode("utf-16-le")) // 2 <= MAX_LENGTH


@dataclass
class _TickState:
    """What one tick computes once and reuses for every member it serves."""

    now: datetime
    pending: dict[int, PendingPosts] = field(default_factory=dict)
    texts: dict[tuple[str, str, DeliveryMode, int], tuple[Html, tuple[Payload, ...]]] = field(
        default_factory=dict
    )
    next_times: dict[tuple[DeliveryMode, int, int, str], int | None] = field(default_factory=dict)
    newest_id: int | None = None


class DigestService:
    """Keeps each member's next digest time and, on each tick, queues the digests due."""

    def __init__(
        self,
        digests: DigestRepository,
        translator: Translator,
        clock: Clock,
        wake_sender: Callable[[], None],
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self._digests = digests
        self._composer = DigestComposer(translator)
        self._clock = clock
        self._wake_sender = wake_sender
        self._batch_size = batch_size

    def next_digest(self, member: Member) -> datetime | None:
        """When the member's next digest will arrive, None if they get none."""
        if not member.subscribed:
            return None
        return next_digest_time(
            member.delivery_mode,
            member.digest_hour,
            member.digest_weekday,
            member.timezone,
            self._clock.now(),
        )

    async def reschedule(self, user_id: int) -> None:
        """Recompute the member's next digest after any change to their delivery settings.

        Nothing that was due is lost: a member who switches to "at once" gets, once and now,
        what their next summary would have listed; a paused member keeps it for when they
        resume (in their next summary, or at once).
        """
        now = self._clock.now()
        for _ in range(5):  # retried only if the settings change under our feet
            seen = await self._digests.schedule_of(user_id)
            if seen is None:
                return
            catch_up = await self._catch_up(seen)
            if await self._digests.set_schedule(
                seen, _next_for(seen, now), catch_up, to_epoch(now)
            ):
                if catch_up:
                    self._wake_sender()
                return
        log.warning("event=digest_reschedule_gave_up")

    async def schedule_unscheduled(self) -> int:
        """At start-up: give a next digest to digest subscribers who have none; return how many."""
        now, count = self._clock.now(), 0
        while batch := await self._digests.unscheduled(self._batch_size):
            done = [await self._digests.set_schedule(s, _next_for(s, now)) for s in batch]
            count += sum(done)
            if not any(done):
                break
        return count

    async def tick(self, now: datetime | None = None) -> TickReport:
        """Queue every digest due at `now`, batch by batch, each batch in one transaction."""
        state = _TickState(now or self._clock.now())
        report = TickReport()
        while True:
            due = await self._digests.due(to_epoch(state.now), self._batch_size)
            if not due:
                break
            batch = await self._run_batch(due, state)
            report.add(batch)
            if len(due) < self._batch_size or batch.skipped == len(due):
                break  # the last batch, or only members someone else is serving
        if report.queued:
            self._wake_sender()
        if report.due:
            log.info(
                "event=digest_tick due=%d queued=%d nothing_new=%d skipped=%d",
                report.due,
                report.queued,
                report.nothing_new,
                report.skipped,
            )
        return report

    async def _run_batch(self, due: list[DigestSchedule], state: _TickState) -> TickReport:
        decisions = [await self._decide(member, state) for member in due]
        result = await self._digests.commit(decisions, to_epoch(state.now))
        with_text = sum(1 for decision in decisions if decision.text is not None)
        return TickReport(
            due=len(due),
            queued=result.queued,
            nothing_new=len(decisions) - with_text,
            skipped=len(due) - result.advanced,
        )

    async def _decide(self, member: DigestSchedule, state: _TickState) -> DigestDecision:
        """The member's next time and, if they can be reached and something is new, the text."""
        assert member.next_at is not None  # due() selects only scheduled members
        key = (member.mode, member.hour, member.weekday, member.timezone)
        if key not in state.next_times:
            state.next_times[key] = _next_epoch(member, state.now)
        next_at = state.next_times[key] if member.subscribed else None
        last = member.last_post_id
        decision = DigestDecision(member.user_id, member.next_at, last, next_at, last, None)
        if next_at is None:
            return decision  # no longer a digest member (a leftover time): clear it
        if member.last_post_id is None:
            # Never had a starting point: start from now, like a member who just chose digests.
            if state.newest_id is None:
                state.newest_id = await self._digests.newest_post_id()
            return _with(decision, state.newest_id, None)
        if not member.eligible:
            return decision  # keep what they missed for when they can be reached again
        pending = await self._pending(member.last_post_id, state)
        if pending.newest_id is None:
            return decision
        text_key = (member.language, member.timezone, member.mode, member.last_post_id)
        if text_key not in state.texts:
            state.texts[text_key] = self._messages(member, member.mode, pending)
        text, photos = state.texts[text_key]
        return _with(decision, pending.newest_id, text, photos)

    def _messages(
        self, member: DigestSchedule, mode: DeliveryMode, pending: PendingPosts
    ) -> tuple[Html, tuple[Payload, ...]]:
        zone = known_zone(member.timezone)
        return (
            self._composer.compose(member.language, zone, mode, pending),
            self._composer.photos(member.language, zone, pending),
        )

    async def _catch_up(self, member: DigestSchedule) -> list[Payload]:
        """What a member leaving summaries for "at once" would have got in their next one."""
        if (
            member.mode is not DeliveryMode.INSTANT
            or not member.eligible
            or member.last_post_id is None
        ):
            return []
        pending = await self._digests.posts_after(member.last_post_id, MAX_ITEMS)
        if pending.newest_id is None:
            return []
        text, photos = self._messages(member, member.mode, pending)
        return [Payload(text), *photos]

    async def _pending(self, last_post_id: int, state: _TickState) -> PendingPosts:
        if last_post_id not in state.pending:
            state.pending[last_post_id] = await self._digests.posts_after(last_post_id, MAX_ITEMS)
        return state.pending[last_post_id]


def _with(
    decision: DigestDecision,
    last_post_id: int,
    text: str | None,
    photos: tuple[Payload, ...] = (),
) -> DigestDecision:
    return DigestDecision(
        decision.user_id,
        decision.seen_next_at,
        decision.seen_last_post_id,
        decision.next_at,
        last_post_id,
        text,
        photos,
    )


def _next_epoch(member: DigestSchedule, now: datetime) -> int | None:
    moment = next_digest_time(member.mode, member.hour, member.weekday, member.timezone, now)
    return None if moment is None else to_epoch(moment)


def _next_for(member: DigestSchedule, now: datetime) -> int | None:
    """The next digest time to store for a member whose settings may just have changed."""
    if not member.subscribed:
        return None
    if member.next_at is not None and member.next_at <= to_epoch(now):
        # Due and not yet sent: keep it if it still matches the settings (pressing "daily"
        # again at 08:00:10 must not push today's digest to tomorrow).
        before = from_epoch(member.next_at) - timedelta(seconds=1)
        if _next_epoch(member, before) == member.next_at:
            return member.next_at
    return _next_epoch(member, now)
