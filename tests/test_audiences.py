"""The letter writers' audience: members with a letter handed over, nothing new stored."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.models import Role
from fakebotapi.server import FakeBotApi
from tests.conftest import StartBot, rejected_calls
from tests.support.harness import COORDINATOR_ID, COURIER_ID, FrozenClock, expect_nothing_more
from tests.support.people import member_who_joined, staff
from tests.test_answers import delivered_bundle
from tests.test_letters import needs_font, write


@needs_font
async def test_an_announcement_to_letter_writers_reaches_only_those_with_a_letter_handed_over(
    make_bot: StartBot, sandbox: FakeBotApi, clock: FrozenClock, database: Path
) -> None:
    bot = await make_bot(clock, SEND_RATE="50", BROADCAST_APPROVALS="2")
    writer = await member_who_joined(sandbox, 8901, "ko")
    still_pending = await member_who_joined(sandbox, 8902, "en")
    reader = await member_who_joined(sandbox, 8903, "en")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    second = await staff(bot, sandbox, COORDINATOR_ID + 1, Role.COORDINATOR)
    courier = await staff(bot, sandbox, COURIER_ID, Role.COURIER)
    await delivered_bundle(coordinator, courier, [writer], 1)
    await write(still_pending, "Stay strong, dear friends. We are all waiting for you here!")

    await coordinator.send("/announce")
    await coordinator.send("편지를 써 주셔서 고마워요.")
    await coordinator.send("Thank you for writing to them.")
    await coordinator.click(await coordinator.expect("Who should receive"), "Letter writers")
    await coordinator.click(await coordinator.expect("to 1 person now?"), "Send now")
    await coordinator.expect("Sent for approval")
    await second.click(await second.expect("Approval needed"), "Approve")
    await second.expect("Sending the announcement")
    assert "고마워요" in (await writer.expect("운영진 공지")).text
    await expect_nothing_more(bot, still_pending)
    await expect_nothing_more(bot, reader)
    with sqlite3.connect(database) as connection:
        audiences = connection.execute("SELECT audience, writers_only FROM broadcasts").fetchall()
    assert audiences == [("all", 1)]
    # The progress message's periodic edit may repeat itself ("message is not modified"):
    # existing behaviour of report_progress, cosmetic, left alone here.
    assert [c for c in rejected_calls(sandbox) if "not modified" not in c] == []


@needs_font
async def test_the_writers_of_one_bundle_now_or_at_a_scheduled_time(
    make_bot: StartBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    bot = await make_bot(clock, SEND_RATE="50")
    first = await member_who_joined(sandbox, 8911, "en")
    second = await member_who_joined(sandbox, 8912, "ko")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    courier = await staff(bot, sandbox, COURIER_ID, Role.COURIER)
    await delivered_bundle(coordinator, courier, [first], 1)
    await delivered_bundle(coordinator, courier, [second], 2)
    await first.expect("was handed over")
    await second.expect("전달되었어요")

    await coordinator.send("/announce")
    await coordinator.send("/skip")
    await coordinator.send("To the writers of bundle 2: thank you.")
    await coordinator.click(await coordinator.expect("Who should receive"), "Writers of bundle 2")
    await coordinator.click(await coordinator.expect("to 1 person now?"), "Send now")
    assert "bundle 2" in (await second.expect("운영진 공지")).text
    await expect_nothing_more(bot, first)

    await coordinator.send("/announce")
    await coordinator.send("/skip")
    await coordinator.send("To the writers of bundle 1: see you at six.")
    await coordinator.click(await coordinator.expect("Who should receive"), "Writers of bundle 1")
    await coordinator.click(await coordinator.expect("to 1 person now?"), "Schedule…")
    await coordinator.send("18:00")
    await coordinator.click(await coordinator.expect("Send it on"), "Schedule")
    await coordinator.expect("Scheduled for")
    await coordinator.send("/scheduled")
    assert "Writers of bundle 1" in (await coordinator.expect("see you at six")).text
    clock.advance(hours=9)  # 18:00 in Seoul
    assert await bot.runtime.schedules.run_due() == 1
    assert "bundle 1" in (await first.expect("Announcement from")).text
    await expect_nothing_more(bot, second)
