"""Coordinators publish updates; instant subscribers get them in their language; /latest."""

from __future__ import annotations

from bot.models import DeliveryMode, Role
from fakebotapi.server import FakeBotApi
from tests.conftest import rejected_calls
from tests.support.harness import COORDINATOR_ID, RunningBot, expect_nothing_more
from tests.support.people import member_who_joined, staff


async def test_a_coordinator_publishes_a_post_and_subscribers_get_it_in_their_language(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    korean = await member_who_joined(sandbox, 601, "ko")
    english = await member_who_joined(sandbox, 602, "en")
    digest = await member_who_joined(sandbox, 603, "en")
    await bot.runtime.members.set_mode(603, DeliveryMode.DAILY)
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)

    await coordinator.send("/post")
    await coordinator.expect("Send the Korean text")
    await coordinator.send("두 병사가 <가족>에게 편지를 받았어요 & 답장했어요.")
    await coordinator.expect("Now the English text")
    await coordinator.send("The two soldiers received letters & replied.")
    await coordinator.expect("Send a photo")
    await coordinator.send("/skip")
    await coordinator.expect("Preview")
    confirm = await coordinator.expect("Publish it?")
    assert "2 subscribers" in confirm.text
    await coordinator.click(confirm, "Publish")
    await coordinator.expect("Published. It is on its way to 2 subscribers.")

    got_korean = await korean.expect("두 병사 소식")
    assert "두 병사가 <가족>에게 편지를 받았어요 & 답장했어요." in got_korean.text
    got_english = await english.expect("Update on the case")
    assert "The two soldiers received letters & replied." in got_english.text
    await expect_nothing_more(bot, digest)
    assert rejected_calls(sandbox) == []

    await english.send("/latest")
    latest = await english.expect("Update on the case")
    assert "received letters" in latest.text


async def test_a_skipped_language_is_shown_with_a_note_and_a_photo_goes_along(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    korean = await member_who_joined(sandbox, 611, "ko")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await coordinator.send("/post")
    await coordinator.expect("Send the Korean text")
    await coordinator.send("/skip")
    await coordinator.expect("Now the English text")
    await coordinator.send("/skip")
    await coordinator.expect("At least one of the two texts is needed")
    await coordinator.send("A scan of the letter the soldiers wrote.")
    await coordinator.expect("Send a photo")
    await coordinator.send_photo()
    confirm = await coordinator.expect("Publish it?")
    await coordinator.click(confirm, "Publish")
    await coordinator.expect("Published")

    received = await korean.expect(lambda m: m.kind == "photo")
    assert "A scan of the letter" in received.text
    assert "아직 한국어로 옮기지 못해서" in received.text
    assert rejected_calls(sandbox) == []


async def test_direction_controls_in_a_post_are_removed_before_members_see_it(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    english = await member_who_joined(sandbox, 621, "en")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await coordinator.send("/post")
    await coordinator.send("/skip")
    # U+202E would show "moc.elpmaxe" reversed: a hijacked account hiding a phishing address.
    await coordinator.send("Read the \u202eletter\u202c from the\u200b soldiers\u2066 today.")
    await coordinator.send("/skip")
    await coordinator.expect("Preview")
    preview = await coordinator.expect("Update on the case")
    assert "Read the letter from the soldiers today." in preview.text
    await coordinator.click(await coordinator.expect("Publish it?"), "Publish")
    received = await english.expect("Update on the case")
    assert "Read the letter from the soldiers today." in received.text
    # The service cleans too, whatever path the text came by.
    await bot.runtime.broadcasts.publish_post(COORDINATOR_ID, None, "Stay \u202estrong", None)
    received = await english.expect("Stay")
    assert "Stay strong" in received.text and "\u202e" not in received.text
    assert rejected_calls(sandbox) == []


async def test_cancel_publishes_nothing_and_a_member_cannot_post(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    member = await member_who_joined(sandbox, 621, "en")
    await member.send("/post")
    await member.expect("only coordinators can do that")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await coordinator.send("/post")
    await coordinator.send("짧은 소식")
    await coordinator.expect("Now the English text")
    await coordinator.send("/skip")
    await coordinator.send("/skip")
    confirm = await coordinator.expect("Publish it?")
    # A plain member forging the Publish button changes nothing.
    query = await member.press(member.last_message or confirm, "post:publish")
    answer = await sandbox.wait_for_callback_answer(query)
    assert "only coordinators can do that" in answer.get("text", "")
    await coordinator.click(confirm, "Cancel")
    await coordinator.expect("Nothing was published")
    assert await bot.runtime.broadcasts.latest("en") == []
    await member.send("/latest")
    await member.expect("No updates have been published yet.")
