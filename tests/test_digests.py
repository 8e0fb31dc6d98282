"""Digest members get one summary at their local hour, in their language; never twice."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.i18n import Translator
from bot.models import DeliveryMode, Role, StoredPost
from bot.services.digests import MAX_LENGTH, DigestComposer, DigestService, next_digest_time
from bot.storage.database import Database
from bot.storage.digests import DigestRepository, PendingPosts
from fakebotapi.server import FakeBotApi
from fakebotapi.users import FakeUser
from tests.conftest import StartBot, rejected_calls
from tests.support.harness import COORDINATOR_ID, FrozenClock, RunningBot, expect_nothing_more
from tests.support.people import member_who_joined, staff

DAILY, WEEKLY = DeliveryMode.DAILY, DeliveryMode.WEEKLY
NEW_YORK = "America/New_York"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
async def bot(make_bot: StartBot, clock: FrozenClock) -> RunningBot:
    """The bot on the test's frozen clock (2026-11-22 00:00 UTC, 09:00 in Seoul, a Sunday)."""
    return await make_bot(clock)


async def digest_member(
    bot: RunningBot,
    sandbox: FakeBotApi,
    user_id: int,
    language: str = "ko",
    *,
    mode: DeliveryMode = DAILY,
    timezone: str = "Asia/Seoul",
    weekday: int | None = None,
) -> FakeUser:
    """A subscriber who chose a digest at 08:00 local time."""
    member = await member_who_joined(sandbox, user_id, language)
    members = bot.runtime.members
    await members.set_timezone(user_id, timezone)
    if weekday is not None:
        await members.set_weekday(user_id, weekday)
    await members.set_mode(user_id, mode)
    return member


async def publish(bot: RunningBot, clock: FrozenClock, when: datetime, text: str) -> None:
    """A coordinator publishes an update at `when` (Korean and English)."""
    clock.set(when)
    await bot.runtime.broadcasts.publish_post(COORDINATOR_ID, f"소식: {text}", text, None)


def digests_in(member: FakeUser) -> list[str]:
    headers = ("Your daily summary:", "Your weekly summary:", "소식 모음: 새 소식")
    return [m.text for m in member.messages if any(h in m.text for h in headers)]


def stored_next(database: Path, user_id: int) -> datetime | None:
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT next_digest_at FROM members WHERE user_id = ?", (user_id,)
        ).fetchone()
    return None if row[0] is None else datetime.fromtimestamp(row[0], UTC)


def queued_digests(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return int(
            connection.execute("SELECT COUNT(*) FROM outbox WHERE kind = 'digest'").fetchone()[0]
        )


# -- scheduling, the pure part -------------------------------------------------------------


def test_next_digest_in_seoul_is_the_next_local_hour() -> None:
    sunday_9am_seoul = utc(2026, 11, 22, 0, 0)
    assert next_digest_time(DAILY, 8, 0, "Asia/Seoul", sunday_9am_seoul) == utc(2026, 11, 22, 23)
    assert next_digest_time(DAILY, 10, 0, "Asia/Seoul", sunday_9am_seoul) == utc(2026, 11, 22, 1)
    # Strictly after: at 08:00 itself, the next one is tomorrow's.
    assert next_digest_time(DAILY, 8, 0, "Asia/Seoul", utc(2026, 11, 22, 23)) == utc(
        2026, 11, 23, 23
    )
    # Weekly on Wednesday (2): 2026-11-25 08:00 KST.
    assert next_digest_time(WEEKLY, 8, 2, "Asia/Seoul", sunday_9am_seoul) == utc(2026, 11, 24, 23)
    assert next_digest_time(DeliveryMode.INSTANT, 8, 0, "Asia/Seoul", sunday_9am_seoul) is None
    assert next_digest_time(DeliveryMode.PAUSED, 8, 0, "Asia/Seoul", sunday_9am_seoul) is None


def test_new_york_gets_8am_local_on_both_sides_of_each_change() -> None:
    # Spring forward on 2026-03-08: 08:00 EST is 13:00 UTC, 08:00 EDT is 12:00 UTC.
    assert next_digest_time(DAILY, 8, 0, NEW_YORK, utc(2026, 3, 7, 0)) == utc(2026, 3, 7, 13)
    assert next_digest_time(DAILY, 8, 0, NEW_YORK, utc(2026, 3, 7, 13)) == utc(2026, 3, 8, 12)
    # Fall back on 2026-11-01: 08:00 EDT is 12:00 UTC, 08:00 EST is 13:00 UTC.
    assert next_digest_time(DAILY, 8, 0, NEW_YORK, utc(2026, 10, 31, 0)) == utc(2026, 10, 31, 12)
    assert next_digest_time(DAILY, 8, 0, NEW_YORK, utc(2026, 10, 31, 12)) == utc(2026, 11, 1, 13)


def test_skipped_and_repeated_local_hours() -> None:
    # 02:00 does not exist on 2026-03-08 in New York: the digest comes when clocks resume,
    # 03:00 EDT (07:00 UTC), then 02:00 EDT the day after.
    spring = next_digest_time(DAILY, 2, 0, NEW_YORK, utc(2026, 3, 8, 0))
    assert spring == utc(2026, 3, 8, 7)
    assert next_digest_time(DAILY, 2, 0, NEW_YORK, spring) == utc(2026, 3, 9, 6)
    # 01:00 happens twice on 2026-11-01: the first one (EDT, 05:00 UTC), and only once.
    autumn = next_digest_time(DAILY, 1, 0, NEW_YORK, utc(2026, 11, 1, 0))
    assert autumn == utc(2026, 11, 1, 5)
    assert next_digest_time(DAILY, 1, 0, NEW_YORK, autumn) == utc(2026, 11, 2, 6)


# -- end to end, through the fake Bot API --------------------------------------------------


async def test_a_daily_seoul_member_gets_one_digest_at_8am_with_the_two_new_posts(
    bot: RunningBot, sandbox: FakeBotApi, clock: FrozenClock, database: Path
) -> None:
    job_queue = bot.application.job_queue
    assert job_queue is not None and job_queue.get_jobs_by_name("digests")  # ticks every minute
    await publish(bot, clock, utc(2026, 11, 21, 12), "an update from before")
    clock.set(utc(2026, 11, 22, 0))  # Sunday 09:00 in Seoul
    member = await digest_member(bot, sandbox, 701, "ko")
    await publish(bot, clock, utc(2026, 11, 22, 1, 30), "the soldiers got letters")
    await publish(bot, clock, utc(2026, 11, 22, 6), "a lawyer visited them")

    clock.set(utc(2026, 11, 22, 22, 59, 59))  # 07:59:59 in Seoul
    assert (await bot.runtime.digests.tick(clock.now())).queued == 0
    clock.set(utc(2026, 11, 22, 23, 0))  # Monday 08:00 in Seoul
    assert (await bot.runtime.digests.tick(clock.now())).queued == 1

    digest = await member.expect("하루 소식 모음: 새 소식 2개")
    assert "소식: the soldiers got letters" in digest.text
    assert "소식: a lawyer visited them" in digest.text
    assert "from before" not in digest.text
    assert "2026년 11월 22일 (일) 10:30" in digest.text  # published 01:30 UTC, Seoul time
    assert digest.text.index("soldiers") < digest.text.index("lawyer")  # oldest first

    again = await bot.runtime.digests.tick(clock.now())
    assert again.queued == again.due == 0
    assert await bot.runtime.sender.drained(timeout=10)
    await expect_nothing_more(bot, member)
    assert len(digests_in(member)) == 1
    assert stored_next(database, 701) == utc(2026, 11, 23, 23)
    assert rejected_calls(sandbox) == []


async def test_a_weekly_member_gets_a_digest_on_their_weekday_only(
    bot: RunningBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    member = await digest_member(bot, sandbox, 702, "en", mode=WEEKLY, weekday=2)  # Wednesday
    queued_by_day = []
    for day in range(22, 30):  # Sunday 22 to Sunday 29 November, 08:00 in Seoul the next day
        await publish(bot, clock, utc(2026, 11, day, 12), f"news of the {day}th")
        queued_by_day.append((await bot.runtime.digests.tick(utc(2026, 11, day, 23))).queued)
    # The tick at 23:00 UTC on the 24th is Wednesday 25th, 08:00 in Seoul.
    assert queued_by_day == [0, 0, 1, 0, 0, 0, 0, 0]
    digest = await member.expect("Your weekly summary: 3 new updates")
    assert "Sun, Nov 22, 2026, 9:00 PM" in digest.text
    assert "news of the 24th" in digest.text and "news of the 25th" not in digest.text
    assert rejected_calls(sandbox) == []


async def test_paused_instant_and_unsubscribed_members_get_no_digest(
    bot: RunningBot, sandbox: FakeBotApi, clock: FrozenClock, database: Path
) -> None:
    paused = await digest_member(bot, sandbox, 703, "en", mode=DeliveryMode.PAUSED)
    instant = await member_who_joined(sandbox, 704, "en")
    gone = await digest_member(bot, sandbox, 705, "en")
    await bot.runtime.members.unsubscribe(705)
    assert stored_next(database, 703) is None and stored_next(database, 705) is None

    await publish(bot, clock, utc(2026, 11, 22, 3), "something happened")
    await instant.expect("something happened")  # instant: at once, as before
    report = await bot.runtime.digests.tick(utc(2026, 11, 22, 23))
    assert report.due == report.queued == 0
    assert await bot.runtime.sender.drained(timeout=10)
    for member in (paused, instant, gone):
        assert digests_in(member) == []
    assert queued_digests(database) == 0


async def test_a_member_who_blocked_the_bot_gets_the_missed_posts_after_coming_back(
    bot: RunningBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    member = await digest_member(bot, sandbox, 715, "en")
    await publish(bot, clock, utc(2026, 11, 22, 5), "while away")
    await bot.runtime.members.bot_blocked(715, blocked=True)
    report = await bot.runtime.digests.tick(utc(2026, 11, 22, 23))
    assert (report.due, report.queued) == (1, 0)
    await bot.runtime.members.bot_blocked(715, blocked=False)
    assert (await bot.runtime.digests.tick(utc(2026, 11, 23, 23))).queued == 1
    digest = await member.expect("Your daily summary: 1 new update")
    assert "while away" in digest.text


async def test_nothing_new_means_no_message_and_the_next_day_is_still_scheduled(
    bot: RunningBot, sandbox: FakeBotApi, clock: FrozenClock, database: Path
) -> None:
    member = await digest_member(bot, sandbox, 706, "en")
    report = await bot.runtime.digests.tick(utc(2026, 11, 22, 23))
    assert (report.due, report.queued, report.nothing_new) == (1, 0, 1)
    assert stored_next(database, 706) == utc(2026, 11, 23, 23)
    await expect_nothing_more(bot, member)
    assert queued_digests(database) == 0


async def test_a_restart_at_08_00_30_sends_nothing_twice(
    make_bot: StartBot, sandbox: FakeBotApi, clock: FrozenClock, database: Path
) -> None:
    first = await make_bot(clock)
    member = await digest_member(first, sandbox, 707, "en")
    await publish(first, clock, utc(2026, 11, 22, 5), "an update")
    clock.set(utc(2026, 11, 22, 23, 0))
    assert (await first.runtime.digests.tick(clock.now())).queued == 1
    await member.expect("Your daily summary: 1 new update")
    await first.stop()

    clock.set(utc(2026, 11, 22, 23, 0, 30))
    second = await make_bot(clock)
    assert (await second.runtime.digests.tick(clock.now())).queued == 0
    assert await second.runtime.sender.drained(timeout=10)
    await expect_nothing_more(second, member)
    assert len(digests_in(member)) == 1
    assert queued_digests(database) == 1


async def test_after_a_three_day_outage_one_digest_holds_every_missed_post(
    make_bot: StartBot, sandbox: FakeBotApi, clock: FrozenClock, database: Path
) -> None:
    first = await make_bot(clock)
    member = await digest_member(first, sandbox, 708, "en")
    await publish(first, clock, utc(2026, 11, 22, 5), "before the digest")
    assert (await first.runtime.digests.tick(utc(2026, 11, 22, 23))).queued == 1
    await member.expect("1 new update")
    for hour, text in ((1, "first missed"), (4, "second missed"), (7, "third missed")):
        await publish(first, clock, utc(2026, 11, 23, hour), text)
    await first.stop()  # down from Monday until Thursday evening: three digests missed

    clock.set(utc(2026, 11, 26, 11))
    second = await make_bot(clock)
    report = await second.runtime.digests.tick(clock.now())
    assert (report.due, report.queued) == (1, 1)
    digest = await member.expect("Your daily summary: 3 new updates")
    assert all(text in digest.text for text in ("first missed", "second missed", "third missed"))
    assert "before the digest" not in digest.text
    assert (await second.runtime.digests.tick(clock.now())).due == 0
    assert stored_next(database, 708) == utc(2026, 11, 26, 23)
    assert queued_digests(database) == 2


async def test_new_york_digests_come_at_8am_local_across_both_changes(
    bot: RunningBot, sandbox: FakeBotApi, clock: FrozenClock, database: Path
) -> None:
    clock.set(utc(2026, 3, 6, 20))
    member = await digest_member(bot, sandbox, 709, "en", timezone=NEW_YORK)
    digests = bot.runtime.digests
    ticks = [
        ("spring, 08:00 EST", utc(2026, 3, 7, 13), 1),
        ("spring, 07:00 EDT", utc(2026, 3, 8, 11), 0),
        ("spring, 08:00 EDT", utc(2026, 3, 8, 12), 1),
    ]
    for label, moment, expected in ticks:
        await publish(bot, clock, utc(moment.year, moment.month, moment.day, 11, 30), label)
        assert (await digests.tick(moment)).queued == expected, label
    spring = await member.expect("spring, 08:00 EDT")
    assert "Sun, Mar 8, 2026, 7:30 AM" in spring.text  # 11:30 UTC is 07:30 EDT
    assert stored_next(database, 709) == utc(2026, 3, 9, 12)

    assert await bot.runtime.sender.drained(timeout=10)
    assert len(digests_in(member)) == 2

    clock.set(utc(2026, 10, 30, 20))
    await bot.runtime.members.set_mode(709, DeliveryMode.PAUSED)  # a new member for autumn
    member = await digest_member(bot, sandbox, 714, "en", timezone=NEW_YORK)
    ticks = [
        ("autumn, 08:00 EDT", utc(2026, 10, 31, 12), 1),
        ("autumn, 07:00 EST", utc(2026, 11, 1, 12), 0),
        ("autumn, 08:00 EST", utc(2026, 11, 1, 13), 1),
    ]
    for label, moment, expected in ticks:
        await publish(bot, clock, utc(moment.year, moment.month, moment.day, 11, 30), label)
        assert (await digests.tick(moment)).queued == expected, label
    autumn = await member.expect("autumn, 08:00 EST")
    assert "Sun, Nov 1, 2026, 6:30 AM" in autumn.text  # 11:30 UTC is 06:30 EST
    assert stored_next(database, 714) == utc(2026, 11, 2, 13)
    assert await bot.runtime.sender.drained(timeout=10)
    assert len(digests_in(member)) == 2
    assert rejected_calls(sandbox) == []


async def test_two_ticks_at_once_queue_one_digest(
    bot: RunningBot, sandbox: FakeBotApi, clock: FrozenClock, database: Path
) -> None:
    member = await digest_member(bot, sandbox, 710, "en")
    await publish(bot, clock, utc(2026, 11, 22, 5), "once only")
    due = utc(2026, 11, 22, 23)
    # The same bot ticking twice, and a second process on its own connection to the file.
    other_db = Database(database)
    await other_db.open()
    other = DigestService(DigestRepository(other_db), Translator(), clock, lambda: None)
    try:
        reports = await asyncio.gather(
            bot.runtime.digests.tick(due), bot.runtime.digests.tick(due), other.tick(due)
        )
    finally:
        await other_db.close()
    assert sum(report.queued for report in reports) == 1
    await member.expect("once only")
    assert await bot.runtime.sender.drained(timeout=10)
    assert len(digests_in(member)) == 1
    assert queued_digests(database) == 1


async def test_a_digest_too_long_for_one_message_is_shortened_with_a_pointer_to_latest(
    bot: RunningBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    member = await digest_member(bot, sandbox, 711, "ko")
    for number in range(12):
        long_text = f"긴 소식 {number}번. " + "두 병사는 한국에 가고 싶다고 말했어요. " * 150
        await publish(bot, clock, utc(2026, 11, 22, 1, number), long_text[:3400])
    assert (await bot.runtime.digests.tick(utc(2026, 11, 22, 23))).queued == 1
    digest = await member.expect("하루 소식 모음: 새 소식 12개")
    assert len(digest.text) <= MAX_LENGTH
    assert "/latest" in digest.text
    assert all(f"긴 소식 {number}번" in digest.text for number in range(12))
    assert rejected_calls(sandbox) == []


def test_a_digest_of_very_many_posts_leaves_out_the_oldest() -> None:
    texts = Translator().texts("en")
    updates = [
        StoredPost(n, None, f"Update {n}: " + "news & more " * 300, None, 1_790_000_000 + n)
        for n in range(100, 70, -1)
    ]
    pending = PendingPosts(total=45, newest=updates, newest_id=100)
    text = DigestComposer(Translator()).compose("en", "Europe/Kyiv", DAILY, pending)
    assert len(text.encode("utf-16-le")) // 2 <= MAX_LENGTH
    assert text.startswith("<b>Your daily summary: 45 new updates</b>")
    assert "Update 100:" in text and "&amp;" in text
    shown = text.count("Update ")
    assert 0 < shown < 30
    assert f"{45 - shown} earlier updates are not shown here." in text
    assert texts("Send /latest to read the latest updates in full.") in text


async def test_settings_show_when_the_next_summary_arrives(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    english = await digest_member(bot, sandbox, 712, "en")
    await english.send("/settings")
    screen = await english.expect("Your settings")
    assert "Next summary: Mon, Nov 23, 2026, 8:00 AM" in screen.text
    await english.click(screen, "Weekly summary")
    await english.expect("Next summary: Mon, Nov 23, 2026, 8:00 AM")  # Monday is the default
    await english.click(screen, "Time zone")
    zones = await english.expect(lambda m: any("Kyiv" in b.text for r in m.buttons for b in r))
    await english.click(zones, "Kyiv")
    await english.expect("Next summary: Mon, Nov 23, 2026, 8:00 AM")  # Kyiv time now
    await english.click(screen, "At once")
    instant = await english.expect("each one as soon as it is published")
    assert "Next summary" not in instant.text

    korean = await digest_member(bot, sandbox, 713, "ko")
    await korean.send("/settings")
    screen = await korean.expect("다음 소식 모음")
    assert "다음 소식 모음: 2026년 11월 23일 (월) 08:00" in screen.text
    assert rejected_calls(sandbox) == []


# -- updates nobody misses (issue 16) ------------------------------------------------------


# Pressing the mode already chosen re-renders the same screen, which Telegram refuses as
# "not modified": harmless, and what the test does on purpose.
@pytest.mark.rejects_on_purpose("message is not modified")
async def test_switching_to_at_once_delivers_what_the_next_summary_would_have_listed_once(
    bot: RunningBot, sandbox: FakeBotApi, clock: FrozenClock, database: Path
) -> None:
    member = await digest_member(bot, sandbox, 721, "en")
    await publish(bot, clock, utc(2026, 11, 22, 3), "the soldiers got letters")
    await publish(bot, clock, utc(2026, 11, 22, 5), "a lawyer visited them")
    await member.send("/settings")
    screen = await member.expect("Your settings")
    await member.click(screen, "At once")
    catch_up = await member.expect("Updates you had not received yet: 2")
    assert catch_up.text.index("soldiers") < catch_up.text.index("lawyer")

    # Once: the summary time passes, pressing the button again changes nothing.
    await member.click(screen, "✓ At once")
    report = await bot.runtime.digests.tick(utc(2026, 11, 22, 23))
    assert report.queued == 0
    assert await bot.runtime.sender.drained(timeout=10)
    await expect_nothing_more(bot, member)
    assert stored_next(database, 721) is None
    # And from now on, at once.
    await publish(bot, clock, utc(2026, 11, 23, 1), "a third update")
    await member.expect("a third update")
    assert sum("lawyer" in m.text for m in member.messages) == 1
    # The second press re-renders the same screen, which Telegram refuses as "not modified".
    assert [c for c in rejected_calls(sandbox) if "not modified" not in c] == []


async def test_a_pause_keeps_what_was_due_for_when_the_member_resumes(
    bot: RunningBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    daily = await digest_member(bot, sandbox, 722, "en")
    to_instant = await digest_member(bot, sandbox, 723, "en")
    await publish(bot, clock, utc(2026, 11, 22, 3), "news before the pause")
    for member in (daily, to_instant):
        await member.send("/settings")
        await member.click(await member.expect("Your settings"), "Paused")
        await member.expect("Updates: paused")
    assert (await bot.runtime.digests.tick(utc(2026, 11, 22, 23))).queued == 0

    clock.set(utc(2026, 11, 24, 0))
    await daily.send("/settings")
    await daily.click(await daily.expect("Your settings"), "Daily summary")
    await to_instant.send("/settings")
    await to_instant.click(await to_instant.expect("Your settings"), "At once")
    resumed = await to_instant.expect("Updates you had not received yet: 1")
    assert "news before the pause" in resumed.text
    assert (await bot.runtime.digests.tick(utc(2026, 11, 24, 23))).queued == 1
    summary = await daily.expect("Your daily summary: 1 new update")
    assert "news before the pause" in summary.text
    assert rejected_calls(sandbox) == []


async def test_summaries_and_latest_show_a_posts_photo(
    bot: RunningBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    member = await digest_member(bot, sandbox, 724, "en")
    clock.set(utc(2026, 11, 22, 3))
    file_id = await photo_file_id(bot, sandbox)
    await bot.runtime.broadcasts.publish_post(
        COORDINATOR_ID, "병사들이 쓴 편지", "The letter the soldiers wrote", file_id
    )
    assert (await bot.runtime.digests.tick(utc(2026, 11, 22, 23))).queued == 1
    summary = await member.expect("Your daily summary: 1 new update")
    assert "With a photo" in summary.text
    sent_photo = await member.expect(lambda m: m.kind == "photo")
    assert "Photo from the update of" in sent_photo.text

    await member.send("/latest")
    latest = await member.expect(lambda m: m.kind == "photo" and "Update on the case" in m.text)
    assert "The letter the soldiers wrote" in latest.text
    assert rejected_calls(sandbox) == []


async def photo_file_id(bot: RunningBot, sandbox: FakeBotApi) -> str:
    """A photo Telegram knows: one a coordinator sent to the bot."""
    coordinator = sandbox.user(COORDINATOR_ID, language_code="en")
    sent = await coordinator.send_photo()
    return str(sent["photo"][-1]["file_id"])


async def test_a_coordinator_is_told_how_many_summary_readers_get_a_post_and_when(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    await digest_member(bot, sandbox, 725, "en")
    await digest_member(bot, sandbox, 726, "ko", mode=WEEKLY, weekday=2)
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await coordinator.send("/post")
    await coordinator.expect("Send the Korean text")
    await coordinator.send("짧은 소식")
    await coordinator.expect("Now the English text")
    await coordinator.send("Short news")
    await coordinator.expect("Send a photo")
    await coordinator.send("/skip")
    confirm = await coordinator.expect("Publish it?")
    assert "It goes at once to 0 subscribers. 2 more get it in their next summary." in (
        confirm.text
    )
    await coordinator.click(confirm, "Publish")
    await coordinator.expect("2 more get it in their next summary.")
    await coordinator.send("/stats")
    stats = await coordinator.expect("Recent broadcasts")
    assert "sent at once 0 of 0; in summaries: 2" in stats.text


async def test_any_interaction_counts_as_seen_so_retention_keeps_an_active_member(
    make_bot: StartBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    bot = await make_bot(clock, INACTIVE_MEMBER_DAYS="90")
    writer = await member_who_joined(sandbox, 727, "en", subscribe=False)
    clock.advance(days=80)
    await writer.send("/letters")  # not /start: any command counts
    await writer.expect("not written any letters")
    clock.advance(days=80)
    assert (await bot.runtime.retention.purge()).members == 0
    assert await bot.runtime.members.get(727) is not None
    clock.advance(days=91)
    assert (await bot.runtime.retention.purge()).members == 1
