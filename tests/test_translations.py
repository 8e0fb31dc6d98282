"""Letters their readers can read: a Korean page for every letter, every character printed."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.models import Role
from bot.services.fonts import find_bundle_fonts, installed_coverage
from bot.services.letter_rules import check_letter, clean_text, written_language
from fakebotapi.server import FakeBotApi
from tests.conftest import rejected_calls
from tests.support.harness import ADMIN_ID, COORDINATOR_ID, COURIER_ID, RunningBot
from tests.support.people import member_who_joined, staff
from tests.test_letters import LETTER_KO, PEN_EN, PEN_KO, TRANSLATION_KO, write

TRANSLATOR_ID = 4000
LETTER_EN = "Dear friends, we think of you every day. Stay strong, and keep your hope alive."
EMOJI_KOREAN = "두 분 사랑해요 😀😀😀 모두 힘내세요 👍🏽👍🏽 👨‍👩‍👧 ok ok ok ok ok"
# CJK Extension B's first character: no installed font has it (Noto Sans CJK stops short).
NO_GLYPH = "\U00020000"
needs_fonts = pytest.mark.skipif(
    find_bundle_fonts(None) is None, reason="no Korean font (make setup installs fonts-nanum)"
)


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def squeezed(text: str) -> str:
    return "".join(text.split())


def audit_actions(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT action FROM audit_log ORDER BY id")]


@needs_fonts
async def test_an_english_courier_gets_a_bundle_printed_all_in_korean(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    writer = await member_who_joined(sandbox, 901, "ko", subscribe=False)
    courier = await staff(bot, sandbox, COURIER_ID, Role.COURIER, language="en")
    await write(writer, LETTER_KO)
    await bot.runtime.letters.approve(COORDINATOR_ID, 1)
    await courier.send("/bundle")
    document = await courier.expect(lambda m: m.kind == "document")
    # The courier's chat stays in their language; the paper is for the soldiers.
    assert "Print it on A4 paper" in document.text
    assert document.file_id is not None
    cover, letter = pdf_pages(sandbox.file(document.file_id).data)
    assert "응원 편지" in cover and "편지 1통" in cover and "인쇄" in cover
    assert "Letters of encouragement" not in cover and "Printed on" not in cover
    assert (
        "년" in letter
        and "월" in letter
        and not any(month in letter for month in ("January", "November", "December"))
    )
    assert "2 / 2" in letter


@needs_fonts
async def test_a_translator_translates_an_english_letter_which_prints_translation_first(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    writer = await member_who_joined(sandbox, 902, "en", subscribe=False)
    courier = await staff(bot, sandbox, COURIER_ID, Role.COURIER)
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await write(writer, LETTER_EN)
    await coordinator.send("/review")
    shown = await coordinator.expect("Letter waiting for review")
    assert "Written in: English" in shown.text
    await coordinator.click(shown, "Approve")
    await writer.expect("was approved")
    await writer.send("/letters")
    await writer.expect("a volunteer will translate it into Korean before it is printed")

    # Untranslated, it cannot be printed; the courier, /review and /stats say it waits.
    await courier.send("/bundle")
    await courier.expect("No approved letters are waiting to be printed.")
    await courier.expect("1 approved letter is waiting for a Korean translation")
    await coordinator.send("/review")
    await coordinator.expect("1 approved letter is waiting for a Korean translation")
    await coordinator.send("/stats")
    await coordinator.expect("1 approved letter is waiting for a Korean translation")

    # The admin grants the new role; the translator's menu and /translate work at once.
    translator = await member_who_joined(sandbox, TRANSLATOR_ID, "ko", subscribe=False)
    admin = sandbox.user(ADMIN_ID, language_code="en")
    await admin.send(f"/grant {TRANSLATOR_ID} translator")
    await admin.expect(f"{TRANSLATOR_ID} is now a translator.")
    await translator.send("/translate")
    asked = await translator.expect("한국어 번역을 기다리는 편지")
    assert LETTER_EN in asked.text and PEN_EN in asked.text
    assert "902" not in asked.text  # never who wrote it
    await translator.send("Dear friends, this is still English.")
    await translator.expect("한국어로 써야 해요")
    await translator.send(TRANSLATION_KO)
    preview = await translator.expect("저장할까요?")
    assert TRANSLATION_KO in preview.text
    await translator.click(preview, "저장")
    await translator.expect("저장했어요")
    await translator.expect("번역을 기다리는 편지가 없어요.")
    told = await writer.expect("was translated into Korean by a volunteer")
    assert PEN_EN in told.text
    assert "letter_translated" in audit_actions(database)

    await courier.send("/bundle")
    document = await courier.expect(lambda m: m.kind == "document")
    assert document.file_id is not None
    page = squeezed(pdf_pages(sandbox.file(document.file_id).data)[1])
    translation, original = squeezed(TRANSLATION_KO), squeezed(LETTER_EN)
    # The translation first; beneath it the heading that marks the original, then the original.
    assert page.index(translation) < page.index("원문" + original)
    assert rejected_calls(sandbox) == []


async def test_a_second_translation_or_a_forged_save_changes_nothing(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    writer = await member_who_joined(sandbox, 903, "en", subscribe=False)
    await write(writer, LETTER_EN)
    letters = bot.runtime.letters
    await letters.approve(COORDINATOR_ID, 1)
    member = await member_who_joined(sandbox, 904, "en", subscribe=False)
    await member.send("/translate")
    await member.expect("only translators and coordinators")
    assert (await letters.translate(COORDINATOR_ID, 1, TRANSLATION_KO)).value == "done"
    assert (await letters.translate(COORDINATOR_ID, 1, TRANSLATION_KO + " 다시")).value == (
        "not_due"
    )
    assert await letters.to_translate_count() == 0
    assert audit_actions(database).count("letter_translated") == 1


async def test_an_emoji_mixed_korean_letter_is_korean_and_needs_no_translation(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    # An English-speaking member writes in Korean: the letter's letters decide, not the menu.
    writer = await member_who_joined(sandbox, 905, "en", subscribe=False)
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await writer.send("/write")
    await writer.expect("the soldiers read Korean: a letter in another language is translated")
    await writer.send(EMOJI_KOREAN)
    ask = await writer.expect("Now a pen name")
    # Pen names are suggested in the letter's language, and none names a place.
    labels = [button.text for row in ask.buttons for button in row]
    assert PEN_KO in labels and PEN_EN not in labels
    assert not any("서울" in label or "Seoul" in label for label in labels)
    await writer.click(ask, PEN_KO)
    await writer.click(await writer.expect("Send it for review?"), "Send")
    await writer.expect("Your letter is waiting for review")
    await coordinator.send("/review")
    shown = await coordinator.expect("Letter waiting for review")
    assert "Written in: Korean" in shown.text
    assert "👨‍👩‍👧" in shown.text and "👍🏽" in shown.text  # the family and the skin tone whole
    await coordinator.click(shown, "Reject…")
    reasons = await coordinator.expect(lambda m: "Other: type a reason" in str(m.buttons))
    await coordinator.click(reasons, "Other: type a reason")
    # The writer reads English, though the letter is Korean: the reason must be in English.
    await coordinator.expect("in English: the language the writer reads")


def test_the_written_language_comes_from_the_letters_own_letters() -> None:
    assert written_language(EMOJI_KOREAN, "en") == "ko"
    assert written_language("😀👍🏽 ❤️ 2026", "ko") == "ko"  # no letters: the writer's language
    assert written_language("😀👍🏽 ❤️ 2026", "en") == "en"
    assert written_language(LETTER_EN + " 안녕", "ko") == "en"
    assert written_language("忠誠 勇氣 두 분 힘내세요", "en") == "ko"


def test_emoji_sequences_keep_their_joiners_and_skin_tones() -> None:
    text = "가족 👨‍👩‍👧 엄지 👍🏽 깃발 🏴󠁧󠁢󠁳󠁣󠁴󠁿"
    assert clean_text(text) == text
    # Outside an emoji sequence a joiner or a tag is still removed.
    assert clean_text("a\u200db c\U000e0041d 👍\u200d") == "ab cd 👍"


@pytest.mark.parametrize(
    ("language", "says"),
    [("ko", "인쇄용 글꼴에 없는 글자"), ("en", "the printer's fonts cannot draw")],
)
async def test_a_character_no_font_has_is_refused_by_name_in_the_writers_language(
    bot: RunningBot, sandbox: FakeBotApi, language: str, says: str
) -> None:
    if installed_coverage() is None or ord(NO_GLYPH) in (installed_coverage() or ()):
        pytest.skip("needs the bundle fonts installed, without CJK Extension B")
    writer = await member_who_joined(sandbox, 906, language, subscribe=False)
    await writer.send("/write")
    await writer.expect("두 병사에게" if language == "ko" else "A letter to the two soldiers")
    await writer.send(f"{LETTER_KO} {NO_GLYPH} 😀")
    refused = await writer.expect(says)
    assert NO_GLYPH in refused.text and "U+20000" in refused.text
    assert "CJK UNIFIED IDEOGRAPH-20000" in refused.text
    assert check_letter(f"{LETTER_KO} 😀 👨‍👩‍👧").ok  # emoji print, so they pass
