"""Scheduled announcements: typed in the coordinator's zone, sent once at their minute."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.models import Role
from bot.services.schedules import TimeProblem, parse_send_time
from fakebotapi.server import FakeBotApi
from fakebotapi.users import FakeUser
from tests.conftest import StartBot, rejected_calls
from tests.support.harness import (
    ADMIN_ID,
    COORDINATOR_ID,
    FrozenClock,
    RunningBot,
    expect_nothing_more,
)
from tests.support.people import member_who_joined, staff
from tests.test_alerts import alerted

TEXT = "Vigil in front of the embassy at 6 pm."
# The clock starts at 2026-11-22 00:00 UTC, 09:00 in Seoul; 18:00 in Seoul is 09:00 UTC.
AT_SIX_IN_SEOUL = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def test_a_typed_time_is_read_in_the_coordinators_zone() -> None:
    now = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
    assert parse_send_time("2026-11-22 18:00", "Asia/Seoul", now) == AT_SIX_IN_SEOUL
    assert parse_send_time("2026년 11월 22일 18시 00분", "Asia/Seoul", now) == AT_SIX_IN_SEOUL
    assert parse_send_time("18:00", "Asia/Seoul", now) == AT_SIX_IN_SEOUL
    # 08:00 in Seoul has passed: the next one is tomorrow's.
    assert parse_send_time("8:00", "Asia/Seoul", now) == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    # In Kyiv (UTC+2) 18:00 on 11/22 is 16:00 UTC, 01:00 the next day in Seoul.
    assert parse_send_time("11/22 18:00", "Europe/Kyiv", now) == datetime(
        2026, 11, 22, 16, 0, tzinfo=UTC
    )
    assert parse_send_time("2026-11-21 18:00", "Asia/Seoul", now) is TimeProblem.PAST
    assert parse_send_time("2027-06-01 18:00", "Asia/Seoul", now) is TimeProblem.TOO_FAR
    assert parse_send_time("tomorrow evening", "Asia/Seoul", now) is TimeProblem.UNREADABLE
    assert parse_send_time("2026-02-30 18:00", "Asia/Seoul", now) is TimeProblem.UNREADABLE


async def schedule_for_six(coordinator: FakeUser) -> str:
    """/announce, Everyone, Schedule…, 18:00 in Seoul today, Schedule."""
    await coordinator.send("/announce")
    await coordinator.send("/skip")
    await coordinator.send(TEXT)
    await coordinator.click(await coordinator.expect("Who should receive"), "Everyone")
    await coordinator.click(await coordinator.expect("Send this announcement"), "Schedule…")
    await coordinator.expect("When should it go out?")
    await coordinator.send("2026-11-22 18:00")
    confirm = await coordinator.expect("Send it on")
    assert "6:00" in confirm.text and "Asia/Seoul" in confirm.text and "in Seoul" in confirm.text
    await coordinator.click(confirm, "Schedule")
    return (await coordinator.expect("Scheduled for")).text


def received(member: FakeUser) -> int:
    return len([m for m in member.messages if TEXT in m.text])


async def test_it_goes_out_once_at_its_minute_and_never_before(
    make_bot: StartBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    bot = await make_bot(clock, SEND_RATE="50")
    reader = await member_who_joined(sandbox, 8701, "en")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await schedule_for_six(coordinator)

    clock.set(AT_SIX_IN_SEOUL)
    clock.advance(seconds=-1)
    assert await bot.runtime.schedules.run_due() == 0
    await expect_nothing_more(bot, reader)

    clock.set(AT_SIX_IN_SEOUL)
    sent = await asyncio.gather(*(bot.runtime.schedules.run_due() for _ in range(3)))
    assert sum(sent) == 1
    await reader.expect(TEXT)
    await coordinator.expect("is on its way to 1 person")
    clock.advance(minutes=5)
    assert await bot.runtime.schedules.run_due() == 0
    await coordinator.send("/scheduled")
    await coordinator.expect("No announcement is scheduled.")
    assert received(reader) == 1
    assert rejected_calls(sandbox) == []


async def test_after_a_restart_less_than_an_hour_late_it_goes_out_once(
    make_bot: StartBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    bot = await make_bot(clock, SEND_RATE="50")
    reader = await member_who_joined(sandbox, 8711, "en")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await schedule_for_six(coordinator)
    await bot.stop()

    clock.set(AT_SIX_IN_SEOUL)
    clock.advance(minutes=40)  # down at six, back at 18:40
    again = await make_bot(clock, SEND_RATE="50")
    await reader.expect(TEXT)
    await again.stop()
    clock.advance(minutes=5)
    third = await make_bot(clock, SEND_RATE="50")
    await third.run_job("scheduled-announcements")  # its tick, without waiting 15 s
    await expect_nothing_more(third, reader)
    assert received(reader) == 1


async def test_more_than_an_hour_late_the_author_is_asked(
    make_bot: StartBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    bot = await make_bot(clock, SEND_RATE="50")
    reader = await member_who_joined(sandbox, 8721, "en")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await schedule_for_six(coordinator)
    await bot.stop()

    clock.set(AT_SIX_IN_SEOUL)
    clock.advance(hours=2)
    restarted = await make_bot(clock, SEND_RATE="50")
    question = await coordinator.expect("more than an hour late")
    assert TEXT in question.text
    await expect_nothing_more(restarted, reader)
    assert await restarted.runtime.schedules.run_due() == 0  # asked once, not sent
    send_now = question.button("Send now").callback_data or ""
    await coordinator.click(question, "Send now")
    await coordinator.expect("Sent now.")
    await reader.expect(TEXT)
    stale = await coordinator.press(question, send_now)
    await sandbox.wait_for_callback_answer(stale)
    await coordinator.expect("already sent or cancelled")
    assert received(reader) == 1


async def test_a_cancelled_announcement_never_goes_out(
    make_bot: StartBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    bot = await make_bot(clock, SEND_RATE="50")
    reader = await member_who_joined(sandbox, 8731, "en")
    admin = await member_who_joined(sandbox, ADMIN_ID, "en", subscribe=False)
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await schedule_for_six(coordinator)
    await coordinator.send("/scheduled")
    listed = await coordinator.expect("Vigil in front")
    assert "6:00" in listed.text and "Everyone" in listed.text
    send_now = listed.button("Send now").callback_data or ""
    await coordinator.click(listed, "Cancel it")
    await coordinator.expect("Cancelled. It will not be sent.")
    scheduled = f"{COORDINATOR_ID} scheduled an announcement for Sun, Nov 22, 2026, 6:00"
    await alerted(bot, admin, scheduled)
    await alerted(bot, admin, f"{COORDINATOR_ID} cancelled a scheduled announcement.")
    clock.set(AT_SIX_IN_SEOUL)
    assert await bot.runtime.schedules.run_due() == 0
    await expect_nothing_more(bot, reader)
    stale = await coordinator.press(listed, send_now)
    await sandbox.wait_for_callback_answer(stale)
    await coordinator.expect("already sent or cancelled")
    assert received(reader) == 0


async def approval_bot(make_bot: StartBot, clock: FrozenClock) -> RunningBot:
    return await make_bot(clock, SEND_RATE="50", BROADCAST_APPROVALS="2")


async def test_with_two_person_rule_it_waits_for_approval_then_goes_at_its_time(
    make_bot: StartBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    bot = await approval_bot(make_bot, clock)
    reader = await member_who_joined(sandbox, 8741, "en")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    second = await staff(bot, sandbox, COORDINATOR_ID + 1, Role.COORDINATOR)
    assert "Sent for approval to 1 other coordinator." in await schedule_for_six(coordinator)
    request = await second.expect("Approval needed")
    assert "scheduled for" in request.text

    await coordinator.send("/scheduled")
    listed = await coordinator.expect("Vigil in front")
    assert "approval" in listed.text
    await coordinator.click(listed, "Send now")  # not before the second person says yes
    await coordinator.expect("still waits for a second coordinator")

    clock.set(AT_SIX_IN_SEOUL)
    assert await bot.runtime.schedules.run_due() == 0
    await coordinator.expect("no second coordinator has approved it yet")
    assert await bot.runtime.schedules.run_due() == 0  # told once
    await expect_nothing_more(bot, reader)

    clock.advance(minutes=20)
    await second.click(request, "Approve")
    await second.expect("Approved. It goes out as scheduled")
    await expect_nothing_more(bot, reader)  # approval itself sends nothing: the tick does
    assert await bot.runtime.schedules.run_due() == 1
    await reader.expect(TEXT)
    assert received(reader) == 1
    told = [m.text for m in coordinator.messages if "no second coordinator" in m.text]
    assert len(told) == 1
    assert rejected_calls(sandbox) == []


async def test_a_refused_scheduled_announcement_never_goes_out(
    make_bot: StartBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    bot = await approval_bot(make_bot, clock)
    reader = await member_who_joined(sandbox, 8751, "en")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    second = await staff(bot, sandbox, COORDINATOR_ID + 1, Role.COORDINATOR)
    await schedule_for_six(coordinator)
    await second.click(await second.expect("Approval needed"), "Reject")
    await second.expect("Rejected. Nothing was sent.")
    clock.set(AT_SIX_IN_SEOUL)
    assert await bot.runtime.schedules.run_due() == 0
    await expect_nothing_more(bot, reader)
