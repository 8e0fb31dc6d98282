"""The courier's bundle prints every letter, in order, on A4, with a font that has Hangul."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from fpdf import FPDF
from fpdf.fonts import TTFFont
from pypdf import PdfReader

from bot.services.bundle_content import BundleCover, BundleLetter
from bot.services.bundle_pdf import PLACEHOLDER, compose_bundle, printable_text, render_bundle
from bot.services.fonts import (
    KNOWN_KOREAN_FONTS,
    BundleFonts,
    character_name,
    find_bold_variant,
    find_bundle_fonts,
    find_korean_font,
    is_usable_korean_font,
    unprintable_characters,
)

FONT = find_korean_font(None)
FONTS = find_bundle_fonts(None)
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
    assert FONTS is not None
    pages = pages_text(render_bundle([KOREAN, ENGLISH], COVER, FONTS))
    cover, first, second = pages
    assert "두 분께 보내는 편지" in cover
    assert "편지 2통 · 2 letters" in cover
    assert "2025년 1월 11일" in cover
    assert "1. 서울의 한 어머니" in first
    assert "꼭 건강하게 지내세요. 우리 모두 기다리고 있어요!" in first
    assert "2. A mother in Seoul" in second
    assert "January 11, 2025" in second
    # Markup and fpdf2's default page-count alias are printed as written.
    assert "<script>alert(1)</script> Tom & Jerry {nb} send love" in second
    assert PLACEHOLDER not in second
    assert "2 / 3" in first
    assert "3 / 3" in second


@needs_font
def test_order_is_the_callers() -> None:
    assert FONTS is not None
    pages = pages_text(render_bundle([ENGLISH, KOREAN], COVER, FONTS))
    assert "A mother in Seoul" in pages[1]
    assert "서울의 한 어머니" in pages[2]


@needs_font
def test_pages_are_a4() -> None:
    assert FONTS is not None
    reader = PdfReader(io.BytesIO(render_bundle([KOREAN, ENGLISH], COVER, FONTS)))
    for page in reader.pages:
        width_mm = float(page.mediabox.width) * 25.4 / 72
        height_mm = float(page.mediabox.height) * 25.4 / 72
        assert (round(width_mm), round(height_mm)) == (210, 297)


@needs_font
def test_a_long_korean_run_without_spaces_wraps_within_one_page() -> None:
    assert FONTS is not None
    run = ("가나다라마바사아자차카타파하" * 200)[:1500]
    letter = BundleLetter(1, "ko", "한 어머니", "2025년 1월 11일", run)
    pages = pages_text(render_bundle([letter], COVER, FONTS))
    assert len(pages) == 2
    body_lines = [line for line in pages[1].splitlines() if line and set(line) <= set(run)]
    assert "".join(body_lines) == run
    # Wrapped into many lines (about 46 Hangul each), none running past the margin.
    assert 25 < len(body_lines) < 45
    assert max(len(line) for line in body_lines) < 60


@needs_font
def test_a_letter_running_onto_a_second_sheet_names_its_writer_there() -> None:
    assert FONTS is not None
    lines = "\n".join(["가나다라마바사아자차카타파하가나다라마바사아자차카타파하"] * 50)
    letter = BundleLetter(7, "ko", "한 어머니", "2025년 1월 11일", lines)
    cover, first, second = pages_text(render_bundle([letter], COVER, FONTS))
    assert "7. 한 어머니" in first
    assert "7. 한 어머니" in second
    assert "한 어머니" not in cover


@needs_font
def test_empty_bundle_is_just_a_cover() -> None:
    assert FONTS is not None
    assert len(pages_text(render_bundle([], COVER, FONTS))) == 1


@pytest.mark.parametrize(
    "font", [font for font in KNOWN_KOREAN_FONTS if font.is_file()], ids=lambda font: font.name
)
def test_every_known_installed_font_renders(font: Path) -> None:
    # Noto CJK comes as OpenType collections (.ttc): fpdf2 loads them by face index. pypdf
    # reads their text back with stray NULs, so only the page count is checked here.
    pdf = render_bundle([KOREAN, ENGLISH], COVER, BundleFonts(font, ()))
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 3


def test_characters_the_font_lacks_become_one_box_per_run() -> None:
    drawable = {ord(char) for char in "abc 가\u25a1"}
    # The variation selector stays: the shaper hides it, as it joins emoji sequences.
    assert printable_text("a❤️b👍🏽🇰🇷c\x07\t가", drawable, PLACEHOLDER) == "a□\ufe0fb□c 가"


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


# -- every character printed -------------------------------------------------------------------

# One letter per script the bot accepts beyond plain Korean and English.
WORLD_LETTERS = {
    "emoji": "두 분 사랑해요 😀 모두 힘내세요 👍🏽 우리 가족 👨‍👩‍👧 이 기다려요 ❤️ 🇰🇷",
    "hanja": "忠誠 勇氣 希望: 두 분의 용기(勇氣)를 잊지 않을게요. 鬱 龘",
    "old_hangul": "ᄒᆞᆫ글 ᄀᆞᇫ 옛 글자로도 인사드려요. ᄃᆞᆯ이 밝아요.",
    "cyrillic": "Держитесь, друзья! Мы помним о вас каждый день.",
    "arabic": "مرحبا يا أصدقائي، نحن نفكر فيكم كل يوم",
    "combining": "Cafe\u0301 cre\u0300me, Tiê\u0301ng Viê\u0323t, a\u0308 o\u0302 n\u0303",
}
# The Debian package each script needs beyond fonts-nanum (see the Makefile's `fonts` target).
_PACKAGES = {
    "NotoColorEmoji.ttf": "fonts-noto-color-emoji",
    "NotoSansCJK-Regular.ttc": "fonts-noto-cjk",
    "DejaVuSans.ttf": "fonts-dejavu-core",
}


def _fonts_for_every_script() -> BundleFonts:
    if FONTS is None:
        pytest.skip("no Korean font installed (make setup installs fonts-nanum)")
    present = {path.name for path in FONTS.fallbacks}
    absent = [package for name, package in _PACKAGES.items() if name not in present]
    if absent:
        pytest.skip(f"font packages not installed: {', '.join(absent)} (make setup installs them)")
    return FONTS


def drawn_codepoints(pdf: FPDF) -> tuple[set[int], list[str]]:
    """Every code point some font drew a real glyph for, and every .notdef or foreign glyph.

    Read from each font's own tables: every character a glyph stands for (a ligature, such as
    a ZWJ family, stands for several) is in the cmap of the font that drew it, and no glyph is
    glyph 0.
    """
    drawn: set[int] = set()
    wrong: list[str] = []
    for key, font in pdf.fonts.items():
        if not isinstance(font, TTFFont):
            continue
        for glyph, _ in font.subset.items():
            if glyph is None or glyph.unicode == (0,):
                continue  # fpdf2 reserves .notdef and the space in every subset
            codes = glyph.unicode if isinstance(glyph.unicode, tuple) else (glyph.unicode,)
            if glyph.glyph_id == 0 or glyph.glyph_name == ".notdef":
                wrong.append(f"{key}: .notdef for {codes}")
            elif set(codes) <= _JOINERS:
                continue  # HarfBuzz draws a joiner or selector no sequence took as a space
            elif any(code not in font.cmap and code not in _JOINERS for code in codes):
                # The shaper may pick a contextual form (Arabic, old Hangul jamo), but only
                # for characters the font has.
                wrong.append(f"{key}: has no glyph for {codes}")
            drawn.update(codes)
    return drawn, wrong


_JOINERS = {0x200D, 0xFE0E, 0xFE0F}


def _visible(text: str) -> set[int]:
    return {ord(char) for char in text if not char.isspace() and ord(char) not in _JOINERS}


@dataclass(frozen=True)
class Sample:
    """One letter in every script, laid out and output once for the tests that read it."""

    letter: BundleLetter
    pdf: FPDF
    data: bytes


@pytest.fixture(scope="module")
def every_script() -> Sample:
    """The README's sample letter (one paragraph per script). Rendering costs a second of
    font loading, so the tests below share one rendering rather than make one each."""
    fonts = _fonts_for_every_script()
    text = "\n\n".join(WORLD_LETTERS.values())
    letter = BundleLetter(1, "ko", "한 친구 🌷", "2025년 1월 11일", text)
    pdf = compose_bundle([letter], COVER, fonts)
    return Sample(letter, pdf, bytes(pdf.output()))


def test_no_glyph_in_the_sample_is_missing_or_foreign(every_script: Sample) -> None:
    _, wrong = drawn_codepoints(every_script.pdf)
    assert wrong == []


@pytest.mark.parametrize("script", WORLD_LETTERS)
def test_every_character_of_every_script_is_drawn_with_a_real_glyph(
    script: str, every_script: Sample
) -> None:
    text = WORLD_LETTERS[script]
    assert unprintable_characters(text) == []
    drawn, _ = drawn_codepoints(every_script.pdf)
    missing = _visible(text + every_script.letter.pen_name) - drawn
    assert missing == set(), [character_name(chr(code)) for code in missing]


def test_the_glyph_check_catches_a_character_no_font_has() -> None:
    # The check above must be able to fail: a character outside every font is not drawn.
    fonts = _fonts_for_every_script()
    assert unprintable_characters("가 \U00020000 \u0378") == ["\U00020000", "\u0378"]
    pdf = compose_bundle([], COVER, fonts)
    pdf.set_font("bundle", "", 11)
    pdf.multi_cell(0, 6, "가 \U00020000")
    pdf.output()
    drawn, _ = drawn_codepoints(pdf)
    assert 0x20000 not in drawn and ord("가") in drawn


def test_a_family_emoji_and_a_skin_tone_are_one_picture_each(every_script: Sample) -> None:
    ligatures = {
        glyph.unicode
        for font in every_script.pdf.fonts.values()
        if isinstance(font, TTFFont)
        for glyph, _ in font.subset.items()
        if glyph is not None and isinstance(glyph.unicode, tuple) and len(glyph.unicode) > 1
    }
    assert tuple(map(ord, "👨‍👩‍👧")) in ligatures
    assert tuple(map(ord, "👍🏽")) in ligatures


def test_sample_page_for_the_readme(tmp_path: Path, every_script: Sample) -> None:
    """Keeps docs/bundle-sample.png: one letter in every script, as the courier prints it."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("pdftoppm not installed (make setup installs poppler-utils)")
    pdf_path = tmp_path / "sample.pdf"
    pdf_path.write_bytes(every_script.data)
    subprocess.run(
        [
            pdftoppm,
            "-png",
            "-r",
            "80",
            "-f",
            "2",
            "-l",
            "2",
            "-singlefile",
            pdf_path,
            tmp_path / "page",
        ],
        check=True,
    )
    page = (tmp_path / "page.png").read_bytes()
    assert page.startswith(b"\x89PNG")
    sample = Path(__file__).parent.parent / "docs" / "bundle-sample.png"
    if not sample.exists() or os.environ.get("UPDATE_SCREENSHOTS"):
        sample.parent.mkdir(exist_ok=True)
        sample.write_bytes(page)
