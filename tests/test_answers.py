"""The soldiers' answers reach exactly the writers of the bundles they answer."""

from __future__ import annotations

from bot.models import Role
from fakebotapi.server import FakeBotApi
from fakebotapi.users import FakeUser
from tests.conftest import StartBot, rejected_calls
from tests.support.harness import COORDINATOR_ID, COURIER_ID, FrozenClock, expect_nothing_more
from tests.support.people import member_who_joined, staff
from tests.test_letters import LETTER_KO, needs_font, write

ANSWER_KO = "편지 고맙습니다. 우리는 잘 있습니다. 꼭 한국에 가고 싶습니다."
ANSWER_EN = "Thank you for the letters. We are well. We truly want to go to Korea."


async def delivered_bundle(
    coordinator: FakeUser, courier: FakeUser, writers: list[FakeUser], number: int
) -> None:
    """Each writer writes, the coordinator approves, the courier bundles and hands it over."""
    for writer in writers:
        await write(writer, LETTER_KO)
        await coordinator.send("/review")
        await coordinator.click(await coordinator.expect("Letter waiting for review"), "Approve")
        await coordinator.expect("Approved.")
    await courier.send("/bundle")
    await courier.expect(lambda m: m.kind == "document")
    await courier.send("/bundles")
    listing = await courier.expect(f"Bundle {number}:")
    await courier.click(listing, f"Mark bundle {number} handed over")
    await courier.click(await courier.expect(f"When did you hand over bundle {number}"), "Today")
    await courier.expect(f"Bundle {number} is marked as handed over")


@needs_font
async def test_an_answer_reaches_that_bundles_writers_in_their_language_with_the_scan(
    make_bot: StartBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    bot = await make_bot(clock, SEND_RATE="50")
    korean_writer = await member_who_joined(sandbox, 8801, "ko")  # subscribed
    english_writer = await member_who_joined(sandbox, 8802, "en", subscribe=False)
    other_bundle_writer = await member_who_joined(sandbox, 8803, "en")  # subscribed
    reader = await member_who_joined(sandbox, 8804, "en")  # subscribed, wrote nothing
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    courier = await staff(bot, sandbox, COURIER_ID, Role.COURIER)
    await delivered_bundle(coordinator, courier, [korean_writer, english_writer], 1)
    await delivered_bundle(coordinator, courier, [other_bundle_writer], 2)

    await coordinator.send("/answer")
    listing = await coordinator.expect("Which bundles")
    assert "Bundle 1: 2 letters, handed over on November 22, 2026" in listing.text
    await coordinator.send("7")  # not a handed-over bundle
    await coordinator.expect("numbers of bundles from the list")
    await coordinator.send("1")
    await coordinator.expect("Korean transcription")
    await coordinator.send(ANSWER_KO)
    await coordinator.expect("Now the English text")
    await coordinator.send(ANSWER_EN)
    await coordinator.expect("Send a photo")
    await coordinator.send_photo()
    preview = await coordinator.expect(lambda m: m.kind == "photo" and ANSWER_KO in m.text)
    assert "병사들이 답장" in preview.text
    confirm = await coordinator.expect("Publish it? It goes to 2 writers")
    await coordinator.click(confirm, "Publish")
    done = await coordinator.expect("Published. 2 writers get the answer")
    assert "2 other subscribers" in done.text

    korean = await korean_writer.expect(lambda m: m.kind == "photo")
    assert "병사들이 답장" in korean.text and ANSWER_KO in korean.text
    assert "2026년 11월 22일" in korean.text and korean.photo_file_id
    english = await english_writer.expect(lambda m: m.kind == "photo")
    assert "The soldiers answered" in english.text and ANSWER_EN in english.text
    assert "November 22, 2026" in english.text
    for member in (other_bundle_writer, reader):
        update = await member.expect("Update on the case")
        assert ANSWER_EN in update.text and "The soldiers answered" not in update.text
    await expect_nothing_more(bot, korean_writer)  # no second copy as an update
    assert len([m for m in korean_writer.messages if ANSWER_KO in m.text]) == 1

    await korean_writer.send("/letters")
    assert "답장을 보냈어요" in (await korean_writer.expect("내 편지")).text
    await other_bundle_writer.send("/letters")
    assert "answered" not in (await other_bundle_writer.expect("Your letters")).text
    assert rejected_calls(sandbox) == []


@needs_font
async def test_with_two_person_rule_an_answer_waits_and_goes_to_the_writers_once_approved(
    make_bot: StartBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    bot = await make_bot(clock, SEND_RATE="50", BROADCAST_APPROVALS="2")
    writer = await member_who_joined(sandbox, 8811, "en", subscribe=False)
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    second = await staff(bot, sandbox, COORDINATOR_ID + 1, Role.COORDINATOR)
    courier = await staff(bot, sandbox, COURIER_ID, Role.COURIER)
    await delivered_bundle(coordinator, courier, [writer], 1)
    await writer.expect("was handed over")

    await coordinator.send("/answer")
    await coordinator.send("1")
    await coordinator.send(ANSWER_KO)
    await coordinator.send("/skip")
    await coordinator.send("/skip")  # no scan
    await coordinator.click(await coordinator.expect("Publish it?"), "Publish")
    await coordinator.expect("Sent for approval to 1 other coordinator.")
    await expect_nothing_more(bot, writer)
    request = await second.expect("Approval needed")
    assert "the soldiers' answer" in request.text
    approve = request.button("Approve").callback_data or ""
    await second.click(request, "Approve")
    await second.expect("Published. 1 writer gets the answer")
    told = await writer.expect("The soldiers answered")
    assert ANSWER_KO in told.text and "Not yet available" not in told.text
    again = await second.press(request, approve)
    await sandbox.wait_for_callback_answer(again)
    await expect_nothing_more(bot, writer)
