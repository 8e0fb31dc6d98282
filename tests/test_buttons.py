"""Buttons act once, for the person and the draft they were shown for, even when answered late."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.models import DeliveryMode, Role
from fakebotapi.server import FakeBotApi
from fakebotapi.users import FakeUser
from tests.conftest import StartBot
from tests.support.harness import COORDINATOR_ID, RunningBot
from tests.support.people import member_who_joined, staff

LATE = 20.0  # seconds: past the ~15 s in which Telegram takes an answer to a press
EXPIRED = "This button has expired"
LETTER = "Dear friends, stay strong and keep your hope. We are all waiting for you."


async def settled(person: FakeUser) -> None:
    """Wait until the bot has handled everything this person sent before (one at a time)."""
    await person.send("/help")
    await person.expect("/settings")


def went_wrong(person: FakeUser) -> list[str]:
    return [m.text for m in person.messages if "went wrong" in m.text]


def count(database: Path, sql: str) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute(sql).fetchone()[0])


# -- a stale button acts on nothing newer ---------------------------------------------------


async def test_send_under_an_old_announcement_sends_nothing_and_leaves_the_new_draft(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    reader = await member_who_joined(sandbox, 1101, "en")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await coordinator.send("/announce")
    await coordinator.send("/skip")
    await coordinator.send("Draft A: we meet on Friday.")
    await coordinator.click(await coordinator.expect("Who should receive"), "Everyone")
    confirm_a = await coordinator.expect("Send this announcement to 1 person now?")

    await coordinator.send("/announce")  # draft B, not previewed, not confirmed
    await coordinator.send("/skip")
    await coordinator.send("Draft B: a text nobody confirmed.")
    audience_b = await coordinator.expect(lambda m: "Who should receive" in m.text and m.buttons)
    draft_b = await bot.runtime.flows.current(COORDINATOR_ID)

    query = await coordinator.click(confirm_a, "Send")
    assert EXPIRED in (await sandbox.wait_for_callback_answer(query)).get("text", "")
    await settled(coordinator)
    assert await bot.runtime.flows.current(COORDINATOR_ID) == draft_b
    assert await bot.runtime.broadcasts.recent(5) == []
    assert not [m for m in reader.messages if "Draft" in m.text]

    # B goes on as if nothing happened, and only B is sent once confirmed.
    await coordinator.click(audience_b, "Everyone")
    await coordinator.click(await coordinator.expect("Send this announcement"), "Send")
    assert "Draft B" in (await reader.expect("Announcement from")).text
    assert not [m for m in reader.messages if "Draft A" in m.text]


async def test_publish_under_an_old_post_publishes_nothing_and_leaves_the_new_draft(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)

    async def compose(text: str) -> None:
        await coordinator.send("/post")
        await coordinator.send("/skip")
        await coordinator.send(text)
        await coordinator.expect("Send a photo")
        await coordinator.send("/skip")

    await compose("Post A, previewed.")
    confirm_a = await coordinator.expect("Publish it?")
    await compose("Post B, previewed later.")
    confirm_b = await coordinator.expect("Publish it?")
    draft_b = await bot.runtime.flows.current(COORDINATOR_ID)

    query = await coordinator.click(confirm_a, "Publish")
    assert EXPIRED in (await sandbox.wait_for_callback_answer(query)).get("text", "")
    await settled(coordinator)
    assert await bot.runtime.broadcasts.latest("en") == []
    assert await bot.runtime.flows.current(COORDINATOR_ID) == draft_b

    await coordinator.click(confirm_b, "Publish")
    await coordinator.expect("Published.")
    latest = await bot.runtime.broadcasts.latest("en")
    assert len(latest) == 1 and "Post B" in latest[0][0]


async def test_only_the_newest_settings_message_changes_a_setting(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    member = await member_who_joined(sandbox, 1102, "en")
    await member.send("/settings")
    old = await member.expect("Your settings")
    await member.send("/settings")
    new = await member.expect("Your settings")

    query = await member.click(old, "Daily summary")
    assert EXPIRED in (await sandbox.wait_for_callback_answer(query)).get("text", "")
    query = await member.click(old, "Hour")  # not even its pickers open
    assert EXPIRED in (await sandbox.wait_for_callback_answer(query)).get("text", "")
    stored = await bot.runtime.members.get(1102)
    assert stored is not None and stored.delivery_mode is DeliveryMode.INSTANT
    assert not sandbox.message(1102, old.message_id).edited

    query = await member.click(new, "Weekly summary")
    assert (await sandbox.wait_for_callback_answer(query)).get("text") == "Saved."
    stored = await bot.runtime.members.get(1102)
    assert stored is not None and stored.delivery_mode is DeliveryMode.WEEKLY


async def test_someone_elses_settings_button_changes_nothing_of_theirs_or_mine(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    owner = await member_who_joined(sandbox, 1112, "en")
    other = await member_who_joined(sandbox, 1113, "en")
    await owner.send("/settings")
    shown_to_owner = await owner.expect("Your settings")
    await other.send("/settings")  # the other member's own first settings message
    await other.expect("Your settings")

    data = shown_to_owner.button("Paused").callback_data or ""
    query = await other.press(other.last_message or shown_to_owner, data)
    assert EXPIRED in (await sandbox.wait_for_callback_answer(query)).get("text", "")
    for user_id in (1112, 1113):
        stored = await bot.runtime.members.get(user_id)
        assert stored is not None and stored.delivery_mode is DeliveryMode.INSTANT


@pytest.mark.rejects_on_purpose("message is not modified")  # presses 2, 3: buttons gone
async def test_approve_pressed_three_times_brings_exactly_one_next_card(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    writer = await member_who_joined(sandbox, 1103, "en", subscribe=False)
    for pen_name in ("First writer", "Second writer", "Third writer"):
        await writer.send("/write")
        await writer.send(LETTER)
        await writer.expect("Now a pen name")
        await writer.send(pen_name)
        await writer.click(await writer.expect("Send it for review?"), "Send")
        await writer.expect("Your letter is waiting for review")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await coordinator.send("/review")
    card = await coordinator.expect("Pen name: First writer")
    approve = card.button("Approve").callback_data or ""

    queries = [await coordinator.press(card, approve) for _ in range(3)]
    answers = [await sandbox.wait_for_callback_answer(query) for query in queries]
    await settled(coordinator)
    assert answers[0].get("text") == "Approved."
    assert all("already decided" in a.get("text", "") for a in answers[1:])
    cards = [m for m in coordinator.messages if "Letter waiting for review" in m.text]
    assert [("First writer" in c.text, "Second writer" in c.text) for c in cards] == [
        (True, False),
        (False, True),
    ]
    assert count(database, "SELECT COUNT(*) FROM letters WHERE state = 'approved'") == 1


# -- a button acts only for the person it was shown to --------------------------------------


async def test_pressing_someone_elses_erase_button_erases_nothing(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    owner = await member_who_joined(sandbox, 1104, "en")
    bystander = await member_who_joined(sandbox, 1105, "en")
    await owner.send("/forget")
    prompt = await owner.expect("Erase everything?")
    erase = prompt.button("Erase everything").callback_data or ""

    # The bystander sends the same button data (a forwarded message, a group, a forgery).
    query = await bystander.press(bystander.last_message or prompt, erase)
    assert EXPIRED in (await sandbox.wait_for_callback_answer(query)).get("text", "")
    await settled(bystander)
    assert await bot.runtime.members.get(1104) is not None
    assert await bot.runtime.members.get(1105) is not None

    await owner.click(prompt, "Erase everything")
    await owner.expect("Everything we kept about you is erased")
    assert await bot.runtime.members.get(1104) is None
    assert await bot.runtime.members.get(1105) is not None


# -- a late answer loses nothing ------------------------------------------------------------


@pytest.mark.rejects_on_purpose("query is too old")  # the answer to a late press
async def test_consent_pressed_late_is_still_recorded(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    person = sandbox.user(1106, language_code="en")
    await person.send("/start")
    query = await person.click(await person.expect("Pyeonji"), "I agree", age=LATE)
    await person.expect("Which language")
    await settled(person)
    assert sandbox.callback_answer(query) is None  # Telegram refused the late answer
    member = await bot.runtime.members.get(1106)
    assert member is not None and member.has_consented
    assert went_wrong(person) == []


@pytest.mark.rejects_on_purpose("query is too old")  # the answer to a late press
async def test_a_letter_sent_late_is_still_sent(bot: RunningBot, sandbox: FakeBotApi) -> None:
    member = await member_who_joined(sandbox, 1107, "en", subscribe=False)
    await member.send("/write")
    await member.send(LETTER)
    await member.expect("Now a pen name")
    await member.send("A late writer")
    preview = await member.expect("Send it for review?")
    await member.click(preview, "Send", age=LATE)
    await member.expect("Your letter is waiting for review")
    await settled(member)
    letters, _ = await bot.runtime.letters.letters_of(1107, 5)
    assert [letter.pen_name for letter in letters] == ["A late writer"]
    assert sandbox.message(1107, preview.message_id).buttons == []
    assert went_wrong(member) == []


@pytest.mark.rejects_on_purpose("query is too old")  # the answer to a late press
async def test_a_settings_change_pressed_late_is_saved_and_shown(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    member = await member_who_joined(sandbox, 1108, "en")
    await member.send("/settings")
    screen = await member.expect("Your settings")
    await member.click(screen, "Daily summary", age=LATE)
    shown = await member.expect(
        lambda m: m.message_id == screen.message_id and "a daily summary at" in m.text
    )
    assert shown.button("✓ Daily summary")
    await settled(member)
    stored = await bot.runtime.members.get(1108)
    assert stored is not None and stored.delivery_mode is DeliveryMode.DAILY
    assert went_wrong(member) == []


@pytest.mark.rejects_on_purpose("query is too old")  # the answer to a late press
async def test_an_announcement_confirmed_late_is_still_sent(
    make_bot: StartBot, sandbox: FakeBotApi
) -> None:
    bot = await make_bot()
    reader = await member_who_joined(sandbox, 1109, "en")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await coordinator.send("/announce")
    await coordinator.send("/skip")
    await coordinator.send("Sent although the press came late.")
    await coordinator.click(await coordinator.expect("Who should receive"), "Everyone", age=LATE)
    confirm = await coordinator.expect("Send this announcement")
    await coordinator.click(confirm, "Send", age=LATE)
    assert "came late" in (await reader.expect("Announcement from")).text
    assert went_wrong(coordinator) == []


@pytest.mark.rejects_on_purpose("message to edit not found")  # the member deleted it
async def test_a_setting_pressed_on_a_message_since_deleted_is_saved(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    member = await member_who_joined(sandbox, 1110, "en")
    await member.send("/settings")
    screen = await member.expect("Your settings")
    sandbox.message(1110, screen.message_id).deleted = True  # the member deleted it, then pressed
    query = await member.click(screen, "Paused")
    assert (await sandbox.wait_for_callback_answer(query)).get("text") == "Saved."
    await settled(member)
    stored = await bot.runtime.members.get(1110)
    assert stored is not None and stored.delivery_mode is DeliveryMode.PAUSED
    assert went_wrong(member) == []


async def test_send_under_a_preview_since_edited_sends_nothing(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    member = await member_who_joined(sandbox, 1111, "en", subscribe=False)
    await member.send("/write")
    await member.send(LETTER)
    await member.expect("Now a pen name")
    await member.send("First pen name")
    first = await member.expect("Send it for review?")
    send_first = first.button("Send").callback_data or ""
    await member.click(first, "Edit")
    choices = await member.expect(
        lambda m: m.message_id == first.message_id and "Change the pen name" in str(m.buttons)
    )
    await member.click(choices, "Change the pen name")
    await member.expect("Send the new pen name")
    await member.send("Second pen name")
    second = await member.expect(lambda m: "Second pen name" in m.text)

    query = await member.press(first, send_first)
    assert EXPIRED in (await sandbox.wait_for_callback_answer(query)).get("text", "")
    await settled(member)
    assert (await bot.runtime.letters.letters_of(1111, 5))[0] == []

    await member.click(second, "Send")
    await member.expect("Your letter is waiting for review")
    letters, _ = await bot.runtime.letters.letters_of(1111, 5)
    assert [letter.pen_name for letter in letters] == ["Second pen name"]


@pytest.mark.rejects_on_purpose("query is too old")  # the answer to a late press
async def test_approve_pressed_late_still_approves_and_brings_the_next_card(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    writer = await member_who_joined(sandbox, 1114, "en", subscribe=False)
    for pen_name in ("Early writer", "Later writer"):
        await writer.send("/write")
        await writer.send(LETTER)
        await writer.expect("Now a pen name")
        await writer.send(pen_name)
        await writer.click(await writer.expect("Send it for review?"), "Send")
        await writer.expect("Your letter is waiting for review")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await coordinator.send("/review")
    card = await coordinator.expect("Pen name: Early writer")
    await coordinator.click(card, "Approve", age=LATE)
    await coordinator.expect("Approved. The writer will be told.")
    await coordinator.expect("Pen name: Later writer")
    await settled(coordinator)
    assert count(database, "SELECT COUNT(*) FROM letters WHERE state = 'approved'") == 1
    assert went_wrong(coordinator) == []
