"""Letters: a member writes, a coordinator screens, the courier prints and delivers, all told."""

from __future__ import annotations

import asyncio
import io
import sqlite3
from pathlib import Path

import pytest
from pypdf import PdfReader

import bot.services.letters as letters_service
from bot.models import Role
from bot.services.fonts import find_korean_font
from bot.services.letter_rules import written_language
from bot.services.letters import Decision, RejectReason
from fakebotapi.faults import Fault
from fakebotapi.server import FakeBotApi
from fakebotapi.users import FakeUser
from tests.conftest import StartBot, rejected_calls
from tests.support.harness import (
    COORDINATOR_ID,
    COURIER_ID,
    FrozenClock,
    RunningBot,
    eventually,
    expect_nothing_more,
)
from tests.support.people import member_who_joined, staff

WRITER_ID = 7_071_234
LETTER_KO = "사랑하는 두 분께. 꼭 건강하게 지내세요. 우리 모두 기다리고 있어요!"
PEN_KO = "두 분을 위해 기도하는 어머니"
PEN_EN = "A mother who prays for you"
LETTER_EN = "Dear friends, stay strong and keep your hope. We are all waiting for you."
TRANSLATION_KO = "사랑하는 친구들, 힘내시고 희망을 잃지 마세요. 우리 모두 기다리고 있어요."
needs_font = pytest.mark.skipif(
    find_korean_font(None) is None, reason="no Korean font (apt-get install fonts-nanum)"
)


@pytest.fixture
async def frozen_bot(make_bot: StartBot, clock: FrozenClock) -> RunningBot:
    """The bot on a clock the test controls: 2026-11-22 09:00 in Seoul."""
    return await make_bot(clock)


async def write(member: FakeUser, text: str, pen_name: str | None = None) -> None:
    """/write, the text, a pen name (typed, else the first suggestion), then Send."""
    korean = member.info.get("language_code") == "ko"
    # Pen names are suggested in the letter's language, whatever the member reads.
    korean_letter = written_language(text, "ko" if korean else "en") == "ko"
    await member.send("/write")
    await member.expect("두 병사에게 보내는 편지" if korean else "A letter to the two soldiers")
    await member.send(text)
    ask = await member.expect("필명을 정해" if korean else "Now a pen name")
    if pen_name is None:
        await member.click(ask, PEN_KO if korean_letter else PEN_EN)
    else:
        await member.send(pen_name)
    preview = await member.expect("검토를 요청할까요" if korean else "Send it for review?")
    await member.click(preview, "보내기" if korean else "Send")
    await member.expect("검토를 기다리고" if korean else "Your letter is waiting for review")


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def squeezed(text: str) -> str:
    """Without any whitespace: the PDF wraps lines where the original had none."""
    return "".join(text.split())


def letter_states(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT state FROM letters ORDER BY id")]


def count_rows(database: Path, table: str, where: str = "1") -> int:
    with sqlite3.connect(database) as connection:
        row = connection.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}").fetchone()
    return int(row[0])


@needs_font
async def test_a_letter_goes_from_writer_to_soldiers_and_the_writer_is_told_in_korean(
    frozen_bot: RunningBot, sandbox: FakeBotApi
) -> None:
    writer = await member_who_joined(sandbox, WRITER_ID, "ko", subscribe=False)
    coordinator = await staff(frozen_bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    courier = await staff(frozen_bot, sandbox, COURIER_ID, Role.COURIER)

    await write(writer, LETTER_KO)

    await coordinator.send("/review")
    shown = await coordinator.expect("Letter waiting for review")
    assert PEN_KO in shown.text and LETTER_KO in shown.text
    assert str(WRITER_ID) not in shown.text and "Member" not in shown.text
    assert "Written in: Korean" in shown.text  # in the reader's language
    await coordinator.click(shown, "Approve")
    await coordinator.expect("Approved. The writer will be told.")
    await coordinator.expect("No letters are waiting for review.")
    approved = await writer.expect("승인되었어요")
    assert PEN_KO in approved.text

    await courier.send("/bundle")
    document = await courier.expect(lambda m: m.kind == "document")
    assert document.file_name == "pyeonji-bundle-1.pdf"
    assert document.file_id is not None
    printed = pdf_text(sandbox.file(document.file_id).data)
    assert squeezed(LETTER_KO) in squeezed(printed)
    assert PEN_KO in printed
    assert "2026년 11월 22일" in printed  # the letter's date, in the letter's language
    assert str(WRITER_ID) not in squeezed(printed) and "Member" not in printed

    await courier.send("/bundles")
    listing = await courier.expect("Bundle 1: 1 letter")
    await courier.click(listing, "Mark bundle 1 handed over")
    when = await courier.expect("When did you hand over bundle 1")
    await courier.click(when, "Today")
    await courier.expect("Bundle 1 is marked as handed over on November 22, 2026")

    delivered = await writer.expect("전달되었어요")
    assert "2026년 11월 22일에 전달되었어요" in delivered.text
    assert PEN_KO in delivered.text
    await writer.send("/letters")
    mine = await writer.expect("내 편지")
    assert "2026년 11월 22일에 전달되었어요" in mine.text
    assert rejected_calls(sandbox) == []


@pytest.mark.parametrize(
    ("letter", "reason"),
    [
        ("Write to me at friend@example.com and stay strong, my dear friends!", "e-mail address"),
        ("Call me on 010-1234-5678 when you are free, stay strong my friends!", "phone number"),
        ("Please read https://example.com/news it has good news for both of you.", "a link"),
        ("Ask @helper_bot for help, he can pass on messages to you both. Stay well!", "username"),
        ("힘내세요. " * 1666 + "힘내요!", "10,000 characters"),
        ("Hi!", "the minimum is 20"),
    ],
)
async def test_letters_with_contact_details_or_the_wrong_length_are_refused_with_a_reason(
    bot: RunningBot, sandbox: FakeBotApi, letter: str, reason: str
) -> None:
    member = await member_who_joined(sandbox, 801, "en", subscribe=False)
    await member.send("/write")
    await member.expect("A letter to the two soldiers")
    await member.send(letter)
    refusal = await member.expect("We cannot take this letter yet")
    assert reason in refusal.text
    # Still in the step: a good letter is taken now.
    await member.send(LETTER_EN)
    await member.expect("Now a pen name")
    assert rejected_calls(sandbox) == []


async def test_hostile_markup_reaches_the_coordinator_escaped_and_intact(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    member = await member_who_joined(sandbox, 802, "en", subscribe=False)
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    hostile = (
        "<b>Tom & Jerry</b> <script>alert(1)</script> say: stay \u202egnorts\u202c and "
        "k\u200dee\u200bp going <a href='x'>friends</a> &amp; {nb}"
    )
    await write(member, hostile, pen_name="<i>Mom</i> & \u202eDad")
    await coordinator.send("/review")
    shown = await coordinator.expect("Letter waiting for review")
    expected = (
        "<b>Tom & Jerry</b> <script>alert(1)</script> say: stay gnorts and keep going "
        "<a href='x'>friends</a> &amp; {nb}"
    )
    assert expected in shown.text  # as typed, minus the invisible characters
    assert "<i>Mom</i> & Dad" in shown.text
    assert not shown.entities or all(e["type"] == "bold" for e in shown.entities)
    assert rejected_calls(sandbox) == []


async def test_photos_and_stickers_while_writing_are_refused_politely(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    member = await member_who_joined(sandbox, 803, "ko", subscribe=False)
    await member.send("/write")
    await member.expect("두 병사에게 보내는 편지")
    await member.send_photo()
    await member.expect("편지는 글로만 받을 수 있어요")
    await member.send_sticker()
    await member.expect("편지는 글로만 받을 수 있어요")
    await member.send(LETTER_KO)
    await member.expect("필명을 정해")
    assert rejected_calls(sandbox) == []


async def test_pen_name_rules_edit_and_cancel(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    member = await member_who_joined(sandbox, 804, "en", subscribe=False)
    await member.send("/write")
    await member.send(LETTER_EN)
    await member.expect("Now a pen name")
    await member.send("A" * 41)
    refusal = await member.expect("We cannot use this pen name")
    assert "41 characters" in refusal.text and "at most 40" in refusal.text
    await member.send("Mom, t.me/mom_in_seoul")
    await member.expect("It contains a link: “t.me/mom_in_seoul”")
    await member.send("A sister far away")
    preview = await member.expect("Send it for review?")
    await member.click(preview, "Edit")
    edited = await member.expect(lambda m: bool(m.buttons) and "Change the text" in str(m.buttons))
    await member.click(edited, "Change the pen name")
    ask = await member.expect("Send the new pen name, or choose one below.")
    assert "A sister far away" in ask.text
    await member.send("A brother far away")
    preview = await member.expect("A brother far away")
    # The suggestions under the question were taken away with the typed name.
    assert sandbox.message(member.id, ask.message_id).buttons == []
    await member.click(preview, "Cancel")
    await member.expect("Cancelled. Your letter was not sent.")
    assert count_rows(database, "letters") == 0


async def test_typed_pen_name_removes_the_suggestions_and_edit_brings_them_back(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    member = await member_who_joined(sandbox, 820, "en", subscribe=False)
    await member.send("/write")
    await member.send(LETTER_EN)
    ask = await member.expect("Now a pen name")
    await member.send("Coordinator")
    await member.expect("It names a role or an organization: “coordinator”")
    await member.send("A sister far away")
    preview = await member.expect("Send it for review?")
    # No button is left under the question that would only answer "expired".
    assert sandbox.message(member.id, ask.message_id).buttons == []
    await member.click(preview, "Edit")
    edited = await member.expect(lambda m: "Change the pen name" in str(m.buttons))
    await member.click(edited, "Change the pen name")
    again = await member.expect("Send the new pen name, or choose one below.")
    await member.click(again, "Someone who misses home")
    preview = await member.expect("Someone who misses home")
    assert "Send it for review?" in preview.text
    assert rejected_calls(sandbox) == []


async def test_edit_sends_the_current_text_back_to_copy(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    member = await member_who_joined(sandbox, 821, "ko", subscribe=False)
    await member.send("/write")
    letter = "사랑하는 두 분께.\n<꼭> 건강하게 지내세요 & 힘내세요. 우리 모두 기다리고 있어요!"
    await member.send(letter)
    ask = await member.expect("필명을 정해")
    await member.click(ask, "두 분을 위해 기도하는 어머니")
    preview = await member.expect("검토를 요청할까요")
    await member.click(preview, "고치기")
    edited = await member.expect(lambda m: "글 고치기" in str(m.buttons))
    await member.click(edited, "글 고치기")
    await member.expect("새 글을 보내 주세요")
    current = await member.expect(letter)
    assert current.text == letter  # all of it, as typed, markup-looking text included
    assert current.entities and current.entities[0]["type"] == "code"  # a tap copies it
    await member.send(letter.replace("힘내세요", "힘내요"))
    preview = await member.expect(lambda m: "검토를 요청할까요" in m.text and "힘내요" in m.text)
    await member.click(preview, "보내기")
    await member.expect("검토를 기다리고")
    assert count_rows(database, "letters") == 1
    assert rejected_calls(sandbox) == []


async def test_a_writer_whose_letter_was_rejected_or_withdrawn_can_write_again(
    make_bot: StartBot, sandbox: FakeBotApi, clock: FrozenClock, database: Path
) -> None:
    running = await make_bot(clock, LETTERS_PER_DAY="2")
    member = await member_who_joined(sandbox, 822, "en", subscribe=False)
    await write(member, LETTER_EN, pen_name="A sister far away")
    await write(member, LETTER_EN + " Again.", pen_name="A brother far away")
    await running.runtime.letters.reject(COORDINATOR_ID, 1, RejectReason.MILITARY)
    notice = await member.expect("was not approved")
    assert "write a new letter with /write" in notice.text
    await write(member, LETTER_EN + " Without the news.", pen_name="A sister far away")
    await member.send("/letters")
    listing = await member.expect("Your letters")
    await member.click(listing, "Withdraw letter 1")
    confirm = await member.expect("Withdraw your letter")
    await member.click(confirm, "Yes, withdraw it")
    await member.expect("Your letter was withdrawn")
    await write(member, LETTER_EN + " A better one.", pen_name="A sister far away")
    # Two letters go forward: the limit of two is reached now.
    await member.send("/write")
    await member.expect("You have already written 2 letters today")
    assert letter_states(database) == ["rejected", "pending", "withdrawn", "pending"]


async def test_the_daily_limit_counts_in_the_members_day(
    make_bot: StartBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    await make_bot(clock, LETTERS_PER_DAY="2")
    member = await member_who_joined(sandbox, 805, "en", subscribe=False)
    await write(member, LETTER_EN)
    await write(member, LETTER_EN + " Again.")
    await member.send("/write")
    refusal = await member.expect("You have already written 2 letters today")
    assert "write again tomorrow" in refusal.text
    clock.advance(days=1)
    await write(member, LETTER_EN + " A new day.")


async def test_a_member_sees_their_letters_and_withdraws_a_pending_one(
    frozen_bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    member = await member_who_joined(sandbox, 806, "en", subscribe=False)
    await member.send("/letters")
    await member.expect("You have not written any letters yet.")
    await write(member, LETTER_EN, pen_name="A sister far away")
    await write(member, LETTER_EN + " Second.", pen_name="A brother far away")
    letters = frozen_bot.runtime.letters
    first = await letters.next_for_review()
    assert first is not None
    await letters.reject(COORDINATOR_ID, first.letter.id, RejectReason.MILITARY)
    rejected = await member.expect("was not approved")
    assert "It mentions military or political matters." in rejected.text

    await member.send("/letters")
    listing = await member.expect("Your letters")
    assert "Waiting for review." in listing.text
    assert "Not approved on November 22, 2026." in listing.text
    assert "Reason: It mentions military or political matters." in listing.text
    assert len(listing.buttons) == 1  # only the pending letter can be withdrawn
    await member.click(listing, "Withdraw letter 1")
    confirm = await member.expect("Withdraw your letter signed “A brother far away”?")
    await member.click(confirm, "Yes, withdraw it")
    await member.expect("Your letter was withdrawn and its text erased.")
    assert letter_states(database) == ["rejected", "withdrawn"]
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT text FROM letters WHERE id = 2").fetchone() == ("",)

    # Pressing Yes again, or forging another member's letter id, changes nothing.
    query = await member.press(confirm, "letters:confirm:2")
    answer = await sandbox.wait_for_callback_answer(query)
    assert "can no longer be withdrawn" in answer.get("text", "")
    other = await member_who_joined(sandbox, 807, "en", subscribe=False)
    await write(other, LETTER_EN, pen_name="Someone else")
    query = await member.press(confirm, "letters:confirm:3")
    await sandbox.wait_for_callback_answer(query)
    assert letter_states(database) == ["rejected", "withdrawn", "pending"]
    # A coordinator who still had the withdrawn letter on screen is told it is gone.
    assert await letters.approve(COORDINATOR_ID, 2) is Decision.GONE
    assert letter_states(database) == ["rejected", "withdrawn", "pending"]
    assert rejected_calls(sandbox) == []


async def test_a_member_forging_coordinator_and_courier_buttons_changes_nothing(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    member = await member_who_joined(sandbox, 808, "en", subscribe=False)
    await write(member, LETTER_EN)
    await member.send("/review")
    await member.expect("only coordinators can do that")
    await member.send("/bundle")
    await member.expect("only couriers can do that")  # the role the command needs
    any_message = member.last_message
    assert any_message is not None
    for forged in (
        "rev:ok:1",
        "rev:why:1:military",
        "rev:other:1",
        "rev:skip:1",
        "bun:on:1:2026-11-22",
        "bun:pick:1",
        "bun:type:1",
    ):
        query = await member.press(any_message, forged)
        answer = await sandbox.wait_for_callback_answer(query)
        role = "couriers" if forged.startswith("bun:") else "coordinators"
        assert answer.get("show_alert") and f"only {role} can do that" in answer.get("text", "")
    assert letter_states(database) == ["pending"]
    assert count_rows(database, "outbox", "kind = 'notice'") == 0
    assert count_rows(database, "conversations") == 0
    assert count_rows(database, "audit_log", "action = 'refused'") >= 7


async def test_two_coordinators_deciding_at_once_make_one_decision_and_one_notice(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    member = await member_who_joined(sandbox, 809, "en", subscribe=False)
    await write(member, LETTER_EN)
    letters = bot.runtime.letters
    outcomes = await asyncio.gather(
        letters.approve(COORDINATOR_ID, 1),
        letters.reject(COORDINATOR_ID + 1, 1, RejectReason.UNREADABLE),
        letters.approve(COORDINATOR_ID + 2, 1),
    )
    assert sorted(outcomes) == [Decision.ALREADY_DECIDED, Decision.ALREADY_DECIDED, Decision.DONE]
    assert count_rows(database, "outbox", "kind = 'notice'") == 1
    assert count_rows(database, "audit_log", "action LIKE 'letter_%'") == 1


async def test_two_coordinators_pressing_at_once_through_telegram(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    member = await member_who_joined(sandbox, 810, "en", subscribe=False)
    first = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    second = await staff(bot, sandbox, COORDINATOR_ID + 1, Role.COORDINATOR)
    await write(member, LETTER_EN)
    await first.send("/review")
    shown_first = await first.expect("Letter waiting for review")
    await second.send("/review")
    shown_second = await second.expect("Letter waiting for review")
    await second.click(shown_second, "Reject")
    reasons = await second.expect(lambda m: "Hard to read" in str(m.buttons))
    # Both decisions are queued before the bot fetches either.
    approve = await first.click(shown_first, "Approve")
    reject = await second.click(reasons, "Hard to read")
    answers = [
        await sandbox.wait_for_callback_answer(approve),
        await sandbox.wait_for_callback_answer(reject),
    ]
    said = {answer.get("text", "") for answer in answers}
    assert said in (
        {"Approved.", "Another coordinator has already decided on this letter."},
        {"Rejected.", "Another coordinator has already decided on this letter."},
    )
    await member.expect(lambda m: "was approved" in m.text or "was not approved" in m.text)
    await expect_nothing_more(bot, member)
    assert count_rows(database, "outbox", "kind = 'notice'") == 1
    assert rejected_calls(sandbox) == []


async def test_reject_with_a_typed_reason_refuses_links_in_it(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    member = await member_who_joined(sandbox, 811, "ko", subscribe=False)
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await write(member, LETTER_KO)
    await coordinator.send("/review")
    shown = await coordinator.expect("Letter waiting for review")
    await coordinator.click(shown, "Reject")
    reasons = await coordinator.expect(lambda m: "Other" in str(m.buttons))
    await coordinator.click(reasons, "Other")
    await coordinator.expect("Type the reason for the writer")
    await coordinator.send("Please verify your account at https://evil.example/login")
    await coordinator.expect("It contains a link")
    await coordinator.send("Please write about <hope> & your day, not about the news.")
    await coordinator.expect("Rejected. The writer will be told why.")
    notice = await member.expect("승인되지 않았어요")
    assert "기타" in notice.text
    assert "Please write about <hope> & your day, not about the news." in notice.text
    assert rejected_calls(sandbox) == []


async def test_skip_shows_the_next_letter_and_nothing_pending_says_so(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    member = await member_who_joined(sandbox, 812, "en", subscribe=False)
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await coordinator.send("/review")
    await coordinator.expect("No letters are waiting for review.")
    await write(member, LETTER_EN, pen_name="First pen")
    await write(member, LETTER_EN + " Two.", pen_name="Second pen")
    await coordinator.send("/review")
    shown = await coordinator.expect("First pen")
    assert "2 letters are waiting in all." in shown.text
    await coordinator.click(shown, "Skip")
    shown = await coordinator.expect("Second pen")
    await coordinator.click(shown, "Skip")
    await coordinator.expect("No more letters after this one.")


async def test_bundle_with_nothing_approved_or_without_a_font_marks_nothing(
    bot: RunningBot, sandbox: FakeBotApi, database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    courier = await staff(bot, sandbox, COURIER_ID, Role.COURIER)
    await courier.send("/bundle")
    await courier.expect("No approved letters are waiting to be printed.")
    member = await member_who_joined(sandbox, 813, "en", subscribe=False)
    await write(member, LETTER_EN)
    await bot.runtime.letters.approve(COORDINATOR_ID, 1)
    monkeypatch.setattr(letters_service, "find_bundle_fonts", lambda explicit: None)
    await courier.send("/bundle")
    await courier.expect("the server has no font that can print Korean")
    assert letter_states(database) == ["approved"]
    assert count_rows(database, "bundles") == 0
    await courier.send("/bundles")
    await courier.expect("There are no bundles yet.")


@needs_font
async def test_a_failed_send_loses_no_letter(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    courier = await staff(bot, sandbox, COURIER_ID, Role.COURIER)
    member = await member_who_joined(sandbox, 814, "en", subscribe=False)
    await write(member, LETTER_EN)
    await bot.runtime.letters.approve(COORDINATOR_ID, 1)
    await bot.runtime.letters.translate(COORDINATOR_ID, 1, TRANSLATION_KO)
    sandbox.add_fault(Fault.server_error(502), "sendDocument")
    await courier.send("/bundle")
    await courier.expect("We could not send the bundle")
    assert letter_states(database) == ["approved"]
    assert count_rows(database, "letters", "bundle_id IS NOT NULL") == 0
    sandbox.clear_faults()
    await courier.send("/bundle")
    document = await courier.expect(lambda m: m.kind == "document")
    assert document.file_name == "pyeonji-bundle-2.pdf"  # a number is never reused
    await eventually(lambda: letter_states(database) == ["bundled"])


@needs_font
async def test_korean_letters_come_first_and_a_typed_delivery_day_is_checked(
    frozen_bot: RunningBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    english = await member_who_joined(sandbox, 815, "en", subscribe=False)
    korean = await member_who_joined(sandbox, 816, "ko", subscribe=False)
    courier = await staff(frozen_bot, sandbox, COURIER_ID, Role.COURIER)
    await write(english, LETTER_EN, pen_name="English pen")
    await write(korean, LETTER_KO, pen_name="한국어 필명")
    letters = frozen_bot.runtime.letters
    await letters.approve(COORDINATOR_ID, 1)
    await letters.approve(COORDINATOR_ID, 2)
    await letters.translate(COORDINATOR_ID, 1, TRANSLATION_KO)
    await english.expect("was translated into Korean")
    await courier.send("/bundle")
    document = await courier.expect(lambda m: m.kind == "document")
    assert document.file_id is not None
    printed = pdf_text(sandbox.file(document.file_id).data)
    assert printed.index("1. 한국어 필명") < printed.index("2. English pen")
    # Every date printed for the soldiers is Korean, whatever the writer or courier reads.
    assert "2026년 11월 22일" in printed and "November" not in printed

    clock.advance(days=3)
    await courier.send("/bundles")
    listing = await courier.expect("Bundle 1: 2 letters")
    await courier.click(listing, "Mark bundle 1 handed over")
    when = await courier.expect("When did you hand over bundle 1")
    await courier.click(when, "Another day")
    await courier.expect("Type the day you handed it over as YYYY-MM-DD")
    await courier.send("2026-12-31")
    await courier.expect("Please type a day from")
    await courier.send("yesterday-ish")
    await courier.expect("Please type a day from")
    await courier.send("2026-11-23")
    confirm = await courier.expect("Bundle 1 was handed over on November 23, 2026?")
    await courier.click(confirm, "Yes, confirm")
    await courier.expect("2 writers are being told")
    told = await korean.expect("전달되었어요")
    assert "2026년 11월 23일에 전달되었어요" in told.text
    told = await english.expect("was handed over on November 23, 2026")
    # A second confirmation (a double press, or a forged one) tells nobody again.
    query = await courier.press(confirm, "bun:on:1:2026-11-24")
    answer = await sandbox.wait_for_callback_answer(query)
    assert "already marked as handed over" in answer.get("text", "")
    await expect_nothing_more(frozen_bot, english)
    assert rejected_calls(sandbox) == []


@needs_font
async def test_delivery_on_the_printing_day_words_the_day_and_counts_writers(
    frozen_bot: RunningBot, sandbox: FakeBotApi
) -> None:
    courier = await staff(frozen_bot, sandbox, COURIER_ID, Role.COURIER)
    writers = [await member_who_joined(sandbox, 830 + i, "en", subscribe=False) for i in range(3)]
    for number, writer in enumerate([*writers, writers[0], writers[1]]):
        await write(writer, f"{LETTER_EN} Letter {number}.", pen_name=f"Pen name {number}")
    for letter_id in range(1, 6):
        await frozen_bot.runtime.letters.approve(COORDINATOR_ID, letter_id)
        await frozen_bot.runtime.letters.translate(COORDINATOR_ID, letter_id, TRANSLATION_KO)
    await courier.send("/bundle")
    await courier.expect(lambda m: m.kind == "document")
    await courier.send("/bundles")
    listing = await courier.expect("Bundle 1: 5 letters")
    await courier.click(listing, "Mark bundle 1 handed over")
    when = await courier.expect("When did you hand over bundle 1")
    await courier.click(when, "Another day")
    await courier.expect("Type the day you handed it over")
    await courier.send("2026-11-21")
    only = await courier.expect("Only November 22, 2026 is possible")
    assert "from November 22, 2026 to November 22, 2026" not in only.text
    await courier.send("2026-11-22")
    confirm = await courier.expect("Bundle 1 was handed over on November 22, 2026?")
    await courier.click(confirm, "Yes, confirm")
    await courier.expect("3 writers are being told")  # five letters, three writers
    for writer in writers:
        await writer.expect("was handed over on November 22, 2026")
    assert rejected_calls(sandbox) == []


async def test_the_write_deep_link_opens_the_flow_after_consent(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    newcomer = sandbox.user(817, language_code="ko")
    await newcomer.send("/start write")
    await newcomer.click(await newcomer.expect("편지"), "동의해요")
    await newcomer.click(await newcomer.expect("어떤 언어"), "한국어")
    rules = await newcomer.expect("두 병사에게 보내는 편지")
    assert "1,500" in rules.text and "300" in rules.text and "하루에 3통" in rules.text
    await newcomer.send("/start write")
    await newcomer.expect("두 병사에게 보내는 편지")
    assert rejected_calls(sandbox) == []


# -- words a writer trusts (issue 16) ------------------------------------------------------


async def test_counts_in_letter_problems_agree_with_the_number(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    member = await member_who_joined(sandbox, 831, "en", subscribe=False)
    await member.send("/write")
    await member.expect("A letter to the two soldiers")
    await member.send("A")
    refusal = await member.expect("We cannot take this letter yet")
    assert "It has 1 character;" in refusal.text and "1 characters" not in refusal.text


async def test_stopping_a_letter_half_written_says_it_was_not_sent(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    member = await member_who_joined(sandbox, 832, "ko", subscribe=False)
    await member.send("/write")
    await member.expect("두 병사에게 보내는 편지")
    await member.send("/cancel")
    await member.expect("편지는 보내지 않았어요")


async def test_a_coordinator_trying_bundle_is_told_that_couriers_make_bundles(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await coordinator.send("/bundle")
    refusal = await coordinator.expect("Sorry, only")
    assert "only couriers can do that" in refusal.text
