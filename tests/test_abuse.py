"""Flood control, admin blocks and the two-person rule for broadcasts."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from telegram import Chat, Message, Update, User

from bot.handlers.gatekeeper import PerMemberOrder
from bot.models import DeliveryMode, Role
from fakebotapi.server import FakeBotApi
from tests.conftest import StartBot, rejected_calls
from tests.support.harness import ADMIN_ID, COORDINATOR_ID, RunningBot, expect_nothing_more
from tests.support.people import member_who_joined, staff


async def test_a_flooding_member_is_throttled_with_one_notice_and_others_are_not(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    flooder = await member_who_joined(sandbox, 8101, "en")
    neighbour = await member_who_joined(sandbox, 8102, "en")
    for number in range(100):
        await flooder.send(f"spam {number}")
    await sandbox.wait_until_fetched()
    await neighbour.send("/help")
    await neighbour.expect("What this bot can do")
    await flooder.expect("You are sending messages very fast")
    notices = [m for m in flooder.messages if "very fast" in m.text]
    answers = [m for m in flooder.messages if "not sure what you mean" in m.text]
    assert len(notices) == 1
    assert len(answers) <= 31  # the rest were not handled at all


async def test_an_admin_blocks_and_unblocks_a_member(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    member = await member_who_joined(sandbox, 8201, "en")
    admin = sandbox.user(ADMIN_ID, language_code="en")
    await admin.send("/block 8201")
    await admin.expect("8201 is blocked")
    await member.send("/help")
    await expect_nothing_more(bot, member)
    await member.send("/block 8201")  # members cannot block anyone
    await expect_nothing_more(bot, member)
    await admin.send("/unblock 8201")
    await admin.expect("8201 is no longer blocked")
    await member.send("/help")
    await member.expect("What this bot can do")
    with sqlite3.connect(database) as connection:
        actions = [r[0] for r in connection.execute("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["block", "unblock"]


async def test_with_two_person_rule_nothing_is_sent_until_a_second_coordinator_approves(
    make_bot: StartBot, sandbox: FakeBotApi
) -> None:
    bot = await make_bot(BROADCAST_APPROVALS="2")
    reader = await member_who_joined(sandbox, 8301, "en")
    first = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    second = await staff(bot, sandbox, COORDINATOR_ID + 1, Role.COORDINATOR)

    await first.send("/announce")
    await first.send("/skip")
    await first.send("Vigil on Friday at 7 pm.")
    await first.click(await first.expect("Who should receive"), "Everyone")
    await first.click(await first.expect("Send this announcement"), "Send")
    await first.expect("Sent for approval to 1 other coordinator.")
    request = await second.expect("Approval needed")
    assert "Vigil on Friday" in request.text
    await expect_nothing_more(bot, reader)

    # The author cannot approve their own request, even by forging the button.
    approve_data = request.button("Approve").callback_data or ""
    query = await first.press(first.last_message or request, approve_data)
    assert "already decided, or it is your own" in (
        await sandbox.wait_for_callback_answer(query)
    ).get("text", "")
    await expect_nothing_more(bot, reader)

    await second.click(request, "Approve")
    await second.expect("Sending the announcement")
    assert "Vigil on Friday" in (await reader.expect("Announcement from")).text
    again = await second.press(request, approve_data)  # a double press sends nothing twice
    assert "already decided" in (await sandbox.wait_for_callback_answer(again)).get("text", "")
    assert len([m for m in reader.messages if "Vigil" in m.text]) == 1
    assert rejected_calls(sandbox) == []


async def test_each_members_updates_are_handled_in_order_while_members_run_concurrently(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    letter = "Stay strong and keep your hope. Spring will come, and we are waiting for you."
    writers = [await member_who_joined(sandbox, 8400 + n, "en") for n in range(2)]
    for n, writer in enumerate(writers):  # no waiting for answers between the steps
        await writer.send("/write")
        await writer.send(f"{letter} ({n})")
        await writer.send(f"A friend number {n}")
    for n, writer in enumerate(writers):
        preview = await writer.expect("Send it for review?")
        assert f"({n})" in preview.text and f"A friend number {n}" in preview.text


async def test_a_blocked_member_keeps_privacy_rights_but_nothing_else(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    member = await member_who_joined(sandbox, 8211, "en")
    admin = sandbox.user(ADMIN_ID, language_code="en")
    await admin.send("/block 8211")
    await admin.expect("8211 is blocked")
    await member.send("/privacy")
    await member.expect("What we keep")
    await member.send("/mydata")
    document = await member.expect(lambda m: m.kind == "document")
    assert b'"user_id": 8211' in sandbox.file(document.file_id or "").data
    await member.send("/forget")
    question = await member.expect("Erase everything?")
    await member.click(question, "Keep my data")
    await member.expect("Nothing was erased.")
    for command in ("/write", "/letters", "/help", "/start", "/settings", "/mydata@other_bot"):
        await member.send(command)
    await expect_nothing_more(bot, member)
    stored = await bot.runtime.members.get(8211)
    assert stored is not None and stored.blocked


async def test_an_admin_who_blocks_themself_is_told_why_not_shown_the_usage(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    admin = sandbox.user(ADMIN_ID, language_code="en")
    await admin.send(f"/block {ADMIN_ID}")
    answer = await admin.expect()
    assert answer.text == "You cannot block or unblock yourself."
    await admin.send(f"/unblock {ADMIN_ID}")
    assert (await admin.expect()).text == "You cannot block or unblock yourself."
    await admin.send("/block")
    assert "Usage" in (await admin.expect()).text


async def test_an_approved_post_says_how_many_get_it_in_their_next_summary(
    make_bot: StartBot, sandbox: FakeBotApi
) -> None:
    bot = await make_bot(BROADCAST_APPROVALS="2")
    await member_who_joined(sandbox, 8311, "en")
    await member_who_joined(sandbox, 8312, "en")
    await bot.runtime.members.set_mode(8312, DeliveryMode.DAILY)
    first = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    second = await staff(bot, sandbox, COORDINATOR_ID + 1, Role.COORDINATOR)
    await first.send("/post")
    await first.send("/skip")
    await first.send("The soldiers received the letters.")
    await first.expect("Send a photo")
    await first.send("/skip")
    await first.click(await first.expect("Publish it?"), "Publish")
    await first.expect("Sent for approval to 1 other coordinator.")
    await second.click(await second.expect("Approval needed"), "Approve")
    done = await second.expect("Approved and published")
    assert "on its way to 1 subscriber. 1 more gets it in their next summary." in done.text


def _update_from(user_id: int, update_id: int) -> Update:
    user = User(user_id, "Member", is_bot=False)
    chat = Chat(user_id, Chat.PRIVATE)
    message = Message(update_id, datetime.now(UTC), chat, from_user=user, text="hi")
    return Update(update_id, message=message)


async def test_a_members_update_arriving_while_others_wait_still_waits_its_turn() -> None:
    """Three updates of one member: the first ends while the second still waits for it, then
    the third arrives. It must wait for the second. The lock used to be forgotten as soon as
    it was free for a moment, so the third got a fresh one and ran beside the second (seen as
    a group pointer sent after the member's next reply)."""
    processor = PerMemberOrder(max_concurrent_updates=64)
    log: list[str] = []
    gates = {name: asyncio.Event() for name in "abc"}

    async def handle(name: str) -> None:
        log.append(f"start {name}")
        await gates[name].wait()
        log.append(f"end {name}")

    first = asyncio.create_task(processor.do_process_update(_update_from(7, 1), handle("a")))
    second = asyncio.create_task(processor.do_process_update(_update_from(7, 2), handle("b")))
    await asyncio.sleep(0)
    gates["a"].set()
    await first  # "b" is woken, not yet running
    third = asyncio.create_task(processor.do_process_update(_update_from(7, 3), handle("c")))
    gates["c"].set()
    for _ in range(5):
        await asyncio.sleep(0)
    gates["b"].set()
    await asyncio.gather(second, third)
    assert log == ["start a", "end a", "start b", "end b", "start c", "end c"]
