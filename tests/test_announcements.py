"""Coordinators broadcast announcements: preview, audience, confirm, live progress, stop."""

from __future__ import annotations

from pathlib import Path

from bot.models import Role
from fakebotapi.faults import Fault
from fakebotapi.server import FakeBotApi
from tests.conftest import StartBot, rejected_calls
from tests.support.harness import COORDINATOR_ID
from tests.support.people import member_who_joined, staff
from tests.support.seeding import seed_subscribers


async def test_an_announcement_reaches_everyone_with_progress_and_a_final_report(
    make_bot: StartBot, sandbox: FakeBotApi
) -> None:
    bot = await make_bot(SEND_RATE="50")
    korean = await member_who_joined(sandbox, 801, "ko")
    english = await member_who_joined(sandbox, 802, "en")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)

    await coordinator.send("/announce")
    await coordinator.expect("Send the Korean text")
    await coordinator.send("이번 주 토요일에 서울에서 모여요.")
    await coordinator.expect("Now the English text")
    await coordinator.send("We meet in Seoul this Saturday.")
    audience = await coordinator.expect("Who should receive")
    await coordinator.click(audience, "Everyone")
    confirm = await coordinator.expect("Send this announcement to 2 people now?")
    await coordinator.click(confirm, "Send")
    progress = await coordinator.expect("Sending the announcement")
    assert progress.button("Stop sending")

    assert "서울에서 모여요" in (await korean.expect("운영진 공지")).text
    assert "Seoul this Saturday" in (await english.expect("Announcement from")).text
    assert await bot.runtime.sender.drained(timeout=10)
    await bot.run_job("broadcast-progress")  # its next edit, without waiting its 3 seconds
    report = await coordinator.expect(
        lambda m: m.message_id == progress.message_id and "Announcement sent" in m.text
    )
    assert "Sent: 2" in report.text and "remaining: 0" in report.text
    assert report.buttons == []

    await coordinator.send("/stats")
    stats = await coordinator.expect("Subscribers")
    assert "announcement, sent 2 of 2" in stats.text
    assert "Korean, " in stats.text and "ko, " not in stats.text  # words, not codes
    assert rejected_calls(sandbox) == []


async def test_direction_controls_in_an_announcement_are_removed_before_members_see_it(
    make_bot: StartBot, sandbox: FakeBotApi
) -> None:
    bot = await make_bot(SEND_RATE="50")
    korean = await member_who_joined(sandbox, 811, "ko")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await coordinator.send("/announce")
    await coordinator.send("토요일에 \u202e모여요\u202c 꼭\u200b 오세요.")
    await coordinator.send("/skip")
    await coordinator.click(await coordinator.expect("Who should receive"), "Everyone")
    preview = await coordinator.expect("운영진 공지")
    assert "토요일에 모여요 꼭 오세요." in preview.text
    await coordinator.click(await coordinator.expect("Send this announcement"), "Send")
    received = await korean.expect("운영진 공지")
    assert "토요일에 모여요 꼭 오세요." in received.text
    assert "\u202e" not in received.text and "\u200b" not in received.text
    assert rejected_calls(sandbox) == []


async def test_an_audience_of_one_language_and_stop_sending(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path
) -> None:
    bot = await make_bot()
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    korean_ids = range(9000, 9040)
    for user_id in korean_ids:
        sandbox.user(user_id, language_code="ko")
    # Telegram answers the first six readers, then holds every answer until the test lets go:
    # the broadcast is surely midway when Stop is pressed, at the normal rate and with no wait.
    for user_id in korean_ids[6:]:
        sandbox.add_fault(Fault.held(), "sendMessage", chat_id=user_id, times=None)
    await seed_subscribers(bot.runtime.db, korean_ids, language="ko")
    await seed_subscribers(bot.runtime.db, range(9100, 9110), language="en")

    await coordinator.send("/announce")
    await coordinator.send("/skip")
    await coordinator.send("Only for Korean readers, in English.")
    await coordinator.click(
        await coordinator.expect("Who should receive"), "Members reading Korean"
    )
    preview = await coordinator.expect("운영진 공지")
    assert "아직 한국어로 옮기지 못해서" in preview.text
    confirm = await coordinator.expect("Send this announcement to 40 people now?")
    await coordinator.click(confirm, "Send")
    progress = await coordinator.expect("Sending the announcement")
    await sandbox.wait_until(lambda: sandbox.stats.faults_fired > 0, what="midway")
    await coordinator.click(progress, "Stop sending")
    stopped = await coordinator.expect("Announcement stopped")
    assert stopped.buttons == []
    sandbox.clear_faults()

    assert await bot.runtime.sender.drained(timeout=10)
    summary = await bot.runtime.broadcasts.recent(1)
    counts = summary[0].counts
    assert counts.get("cancelled", 0) > 20
    assert counts.get("sent", 0) + counts["cancelled"] == 40
    english_chats = set(range(9100, 9110))
    assert not [c for c in sandbox.calls_to("sendMessage") if c.chat_id in english_chats]


async def test_a_member_cannot_announce_or_stop_a_broadcast(
    make_bot: StartBot, sandbox: FakeBotApi
) -> None:
    bot = await make_bot()
    member = await member_who_joined(sandbox, 811, "en")
    await member.send("/announce")
    await member.expect("only coordinators can do that")
    await member.send("/stats")
    await member.expect("only coordinators can do that")
    query = await member.press(member.last_message or await member.expect(), "ann:stop:1")
    answer = await sandbox.wait_for_callback_answer(query)
    assert "only coordinators can do that" in answer.get("text", "")
    audit = await bot.runtime.roles.recent_audit(10)
    assert [entry.action for entry in audit].count("refused") == 3
