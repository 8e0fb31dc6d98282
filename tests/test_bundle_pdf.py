"""The courier's bundle prints every letter, in order, on A4, with a font that has Hangul."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.services.bundle_pdf import (
    PLACEHOLDER,
    BundleCover,
    BundleLetter,
    printable_text,
    render_bundle,
)
from bot.services.fonts import (
    KNOWN_KOREAN_FONTS,
    find_bold_variant,
    find_korean_font,
    is_usable_korean_font,
)

FONT = find_korean_font(None)
needs_font = pytest.mark.skipif(
    FONT is None,
    reason="no Korean TrueType font installed (apt-get install fonts-nanum, or set BUNDLE_FONT)",
)

COVER = BundleCover(
    title="두 분께 보내는 편지",
    subtitle="Letters of encouragement",
    count_line="편지 2통 · 2 letters",
    date_line="2025년 1월 11일",
    note="보낸 사람의 신원 정보는 들어 있지 않아요.",
)
KOREAN = BundleLetter(
    number=1,
    language="ko",
    pen_name="서울의 한 어머니",
    written_on="2025년 1월 11일",
    text="사랑하는 두 분께.\n꼭 건강하게 지내세요. 우리 모두 기다리고 있어요!",
)
ENGLISH = BundleLetter(
    number=2,
    language="en",
    pen_name="A mother in Seoul",
    written_on="January 11, 2025",
    text="<script>alert(1)</script> Tom & Jerry {nb} send love ❤️👍🏽 Stay strong.",
)


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


@needs_font
def test_bundle_prints_cover_and_letters_in_the_given_order() -> None:
    assert FONT is not None
    pages = pages_text(render_bundle([KOREAN, ENGLISH], COVER, FONT))
    cover, first, second = pages
    assert "두 분께 보내는 편지" in cover
    assert "편지 2통 · 2 letters" in cover
    assert "2025년 1월 11일" in cover
    assert "1. 서울의 한 어머니" in first
    assert "꼭 건강하게 지내세요. 우리 모두 기다리고 있어요!" in first
    assert "2. A mother in Seoul" in second
    assert "January 11, 2025" in second
    # Markup and fpdf2's default page-count alias are printed as written; the emoji the font
    # lacks became one box.
    printed = f"<script>alert(1)</script> Tom & Jerry {{nb}} send love {PLACEHOLDER} Stay strong."
    assert printed in second
    assert "2 / 3" in first
    assert "3 / 3" in second


@needs_font
def test_order_is_the_callers() -> None:
    assert FONT is not None
    pages = pages_text(render_bundle([ENGLISH, KOREAN], COVER, FONT))
    assert "A mother in Seoul" in pages[1]
    assert "서울의 한 어머니" in pages[2]


@needs_font
def test_pages_are_a4() -> None:
    assert FONT is not None
    reader = PdfReader(io.BytesIO(render_bundle([KOREAN, ENGLISH], COVER, FONT)))
    for page in reader.pages:
        width_mm = float(page.mediabox.width) * 25.4 / 72
        height_mm = float(page.mediabox.height) * 25.4 / 72
        assert (round(width_mm), round(height_mm)) == (210, 297)


@needs_font
def test_a_long_korean_run_without_spaces_wraps_within_one_page() -> None:
    assert FONT is not None
    run = ("가나다라마바사아자차카타파하" * 200)[:1500]
    letter = BundleLetter(1, "ko", "한 어머니", "2025년 1월 11일", run)
    pages = pages_text(render_bundle([letter], COVER, FONT))
    assert len(pages) == 2
    body_lines = [line for line in pages[1].splitlines() if line and set(line) <= set(run)]
    assert "".join(body_lines) == run
    # Wrapped into many lines (about 46 Hangul each), none running past the margin.
    assert 25 < len(body_lines) < 45
    assert max(len(line) for line in body_lines) < 60


@needs_font
def test_a_letter_running_onto_a_second_sheet_names_its_writer_there() -> None:
    assert FONT is not None
    lines = "\n".join(["가나다라마바사아자차카타파하가나다라마바사아자차카타파하"] * 50)
    letter = BundleLetter(7, "ko", "한 어머니", "2025년 1월 11일", lines)
    cover, first, second = pages_text(render_bundle([letter], COVER, FONT))
    assert "7. 한 어머니" in first
    assert "7. 한 어머니" in second
    assert "한 어머니" not in cover


@needs_font
def test_empty_bundle_is_just_a_cover() -> None:
    assert FONT is not None
    assert len(pages_text(render_bundle([], COVER, FONT))) == 1


@pytest.mark.parametrize(
    "font", [font for font in KNOWN_KOREAN_FONTS if font.is_file()], ids=lambda font: font.name
)
def test_every_known_installed_font_renders(font: Path) -> None:
    # Noto CJK comes as OpenType collections (.ttc): fpdf2 loads them by face index. pypdf
    # reads their text back with stray NULs, so only the page count is checked here.
    pdf = render_bundle([KOREAN, ENGLISH], COVER, font)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 3


def test_characters_the_font_lacks_become_one_box_per_run() -> None:
    drawable = {ord(char) for char in "abc 가\u25a1"}
    assert printable_text("a❤️b👍🏽🇰🇷c\x07\t가", drawable, PLACEHOLDER) == "a□b□c 가"


def test_fonts_are_found_only_when_they_have_hangul(tmp_path: Path) -> None:
    fake = tmp_path / "fake.ttf"
    fake.write_bytes(b"not a font")
    assert not is_usable_korean_font(fake)
    assert not is_usable_korean_font(tmp_path / "missing.ttf")
    assert find_korean_font(fake) == FONT
    if FONT is not None:
        assert find_korean_font(FONT) == FONT
        bold = find_bold_variant(FONT)
        assert bold is None or bold.is_file()
