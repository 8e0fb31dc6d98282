"""Render a bundle of approved letters as a printable A4 PDF for the courier."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Container, Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from bot.services.bundle_content import BundleCover, BundleLetter
from bot.services.fonts import BundleFonts, collection_face_index, find_bold_variant, font_cmap

# fpdf2 subsets fonts with fontTools, which warns once per bundle about each hinting-source
# table (TSI*) it drops from Nanum fonts; they only matter to font designers, never to print.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)

# 20 mm all round: far outside any printer's unprintable edge (about 5 mm), with room to hold
# the sheets, punch or staple them, and for a censor's stamp that covers no text.
MARGIN_MM = 20.0
# 11 pt NanumGothic is about 46 Hangul or 90 Latin characters per 170 mm line; with 6 mm lines
# (1.55 x the size, generous for reading on paper) a 1,500-character Korean letter, the cap in
# letter_rules, fits on one page under its header.
BODY_PT = 11.0
BODY_LINE_MM = 6.0
HEADER_PT = 14.0
META_PT = 10.0
FOOTER_PT = 9.0
FOOTER_FROM_BOTTOM_MM = 12.0
RUNNING_HEAD_FROM_TOP_MM = 12.0
FONT_FAMILY = "bundle"
# A letter with old Hangul is drawn in this family (Noto Sans CJK KR, see fonts.BundleFonts).
OLD_HANGUL_FAMILY = "oldhangul"
FALLBACK_FAMILY = "fallback{index}"
# Drawn where no installed font has a glyph: an empty box tells the reader something was there,
# which silently dropping it would not. Letters are refused at write time for such characters
# (fonts.unprintable_characters), so this only meets text from before that check or a font
# removed since. "?" when the fonts lack even the box.
PLACEHOLDER = "\u25a1"
FALLBACK_PLACEHOLDER = "?"
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})
_INVISIBLE_CATEGORIES = frozenset({"Mn", "Me"})
# Format characters emoji sequences are made of: the zero-width joiner (a family), variation
# selectors (colour or text presentation) and tags (the flags of Scotland or Wales). The shaper
# joins them into one picture, or hides them where the font has no such sequence.
_EMOJI_FORMAT = frozenset({0x200D, *range(0xFE00, 0xFE10), *range(0xE0020, 0xE0080)})
# fpdf2 replaces its total-pages alias wherever it appears in drawn text, "{nb}" by default, so
# a letter saying "{nb}" would print a number. printable_text drops control characters, so no
# letter can contain this alias.
_TOTAL_PAGES_ALIAS = "\x00nb\x00"


def needed_fonts(fonts: BundleFonts, texts: Sequence[str]) -> BundleFonts:
    """``fonts`` with only the fallbacks that will draw something in ``texts``.

    Each font added costs fpdf2 about 0.4 s to load and subset (Noto CJK is 19 MB), so a
    bundle of plain Korean letters loads none. A fallback is kept when it is the first to
    have a glyph the main font lacks, which is the one fpdf2 would pick.
    """
    missing = {ord(char) for text in texts for char in text} - font_cmap(fonts.main)
    old_hangul = {fonts.for_text(text) for text in texts} - {fonts.main}
    kept: list[Path] = []
    for path in fonts.fallbacks:
        covered = missing & font_cmap(path)
        if covered or path in old_hangul:
            kept.append(path)
            missing -= covered
    return BundleFonts(fonts.main, tuple(kept))


class _BundleDocument(FPDF):
    def __init__(self, fonts: BundleFonts) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        self.set_auto_page_break(auto=True, margin=MARGIN_MM)
        self.alias_nb_pages(_TOTAL_PAGES_ALIAS)
        self.bundle_fonts = fonts
        self._add(FONT_FAMILY, "", fonts.main)
        # Without a bold file, headings use the regular face (they are larger anyway): fpdf2
        # cannot embolden a TrueType font itself.
        self._add(FONT_FAMILY, "B", find_bold_variant(fonts.main) or fonts.main)
        families = []
        for index, path in enumerate(fonts.fallbacks):
            family = FALLBACK_FAMILY.format(index=index)
            self._add(family, "", path)
            families.append(family)
            if path == fonts.for_text("\u1100"):
                self._add(OLD_HANGUL_FAMILY, "", path)
        # Character by character, the first fallback with a glyph draws what the current font
        # lacks, bold or not (the fallbacks have one weight); the shaper then joins emoji
        # sequences, Arabic letters and old Hangul syllables within each font's run.
        # The main family is a fallback too, for a letter drawn in the old Hangul family.
        self.set_fallback_fonts([FONT_FAMILY, *families], exact_match=False)
        self.set_text_shaping(use_shaping_engine=True)
        self._drawable = frozenset().union(
            font_cmap(fonts.main), *(font_cmap(path) for path in fonts.fallbacks)
        )
        # Set while a letter is drawn, so a letter that runs onto a second sheet says whose it is.
        self.running_head: str | None = None
        self._placeholder = (
            PLACEHOLDER if ord(PLACEHOLDER) in self._drawable else FALLBACK_PLACEHOLDER
        )

    def _add(self, family: str, style: str, path: Path) -> None:
        self.add_font(family, style, str(path), collection_font_number=collection_face_index(path))

    def printable(self, text: str) -> str:
        """``text`` with what no font can draw replaced (see ``printable_text``)."""
        return printable_text(text, self._drawable, self._placeholder)

    def body_family(self, text: str) -> str:
        """The family a letter's text is drawn in: old Hangul needs Noto Sans CJK KR."""
        if self.bundle_fonts.for_text(text) != self.bundle_fonts.main:
            return OLD_HANGUL_FAMILY
        return FONT_FAMILY

    def header(self) -> None:
        if self.running_head is None:
            return
        self.set_y(RUNNING_HEAD_FROM_TOP_MM)
        self.set_font(FONT_FAMILY, "", FOOTER_PT)
        self.set_text_color(100)
        self.cell(0, 5, self.running_head, align="R")
        self.set_text_color(0)
        self.set_y(self.t_margin)

    def footer(self) -> None:
        # The cover carries no number; the letters' pages keep the physical page count so a
        # missing sheet is obvious ("7 / 12").
        if self.page_no() == 1:
            return
        self.set_y(-FOOTER_FROM_BOTTOM_MM)
        self.set_font(FONT_FAMILY, "", FOOTER_PT)
        self.set_text_color(100)
        self.cell(0, 5, f"{self.page_no()} / {_TOTAL_PAGES_ALIAS}", align="C")
        self.set_text_color(0)


def render_bundle(
    letters: Sequence[BundleLetter], cover: BundleCover, fonts: BundleFonts
) -> bytes:
    """Return the PDF bytes: a cover page, then each letter on its own page, in the given order.

    ``fonts.main`` must have Hangul (see ``fonts.find_bundle_fonts``); its bold sibling is used
    for headings when there is one. Characters no font can draw become a small box.
    """
    return bytes(compose_bundle(letters, cover, fonts).output())


def compose_bundle(
    letters: Sequence[BundleLetter], cover: BundleCover, fonts: BundleFonts
) -> FPDF:
    """The laid-out document before output: its fonts tell which glyphs were drawn."""
    every_text = [cover.title, cover.subtitle, cover.count_line, cover.date_line, cover.note]
    for letter in letters:
        every_text += [letter.pen_name, letter.written_on, letter.text, letter.original or ""]
        every_text += [letter.translation_note, letter.original_heading]
    pdf = _BundleDocument(needed_fonts(fonts, every_text))
    pdf.set_title(pdf.printable(cover.title))
    pdf.set_creator("Pyeonji")
    _draw_cover(pdf, cover)
    for letter in letters:
        # One letter per sheet: a letter the detaining authority holds back can be taken out
        # without losing the others, and each reads as a letter of its own.
        pdf.running_head = None
        pdf.add_page()
        pdf.running_head = f"{letter.number}. {pdf.printable(letter.pen_name)}"
        _draw_letter(pdf, letter)
    return pdf


def printable_text(text: str, cmap: Container[int], placeholder: str) -> str:
    """Replace what the fonts cannot draw: a run of missing glyphs becomes one placeholder."""
    out: list[str] = []
    for char in text:
        code = ord(char)
        category = unicodedata.category(char)
        if char == "\n":
            out.append(char)
        elif char == "\t" or category == "Zs":
            out.append(" ")
        elif code in _EMOJI_FORMAT:
            out.append(char)
        elif category in _CONTROL_CATEGORIES:
            continue
        elif code in cmap:
            out.append(char)
        elif category in _INVISIBLE_CATEGORIES:
            continue
        elif not out or out[-1] != placeholder:
            out.append(placeholder)
    return "".join(out)


def _draw_cover(pdf: _BundleDocument, cover: BundleCover) -> None:
    pdf.add_page()
    pdf.set_y(70)
    pdf.set_font(FONT_FAMILY, "B", 24)
    _paragraph(pdf, pdf.printable(cover.title), 12, align="C")
    pdf.ln(4)
    pdf.set_font(FONT_FAMILY, "", 14)
    _paragraph(pdf, pdf.printable(cover.subtitle), 8, align="C")
    pdf.ln(16)
    pdf.set_font(FONT_FAMILY, "B", 14)
    _paragraph(pdf, pdf.printable(cover.count_line), 8, align="C")
    pdf.set_font(FONT_FAMILY, "", 12)
    _paragraph(pdf, pdf.printable(cover.date_line), 7, align="C")
    pdf.ln(20)
    pdf.set_font(FONT_FAMILY, "", META_PT)
    _paragraph(pdf, pdf.printable(cover.note), 5.5, align="C")


def _draw_letter(pdf: _BundleDocument, letter: BundleLetter) -> None:
    pdf.set_font(FONT_FAMILY, "B", HEADER_PT)
    _paragraph(pdf, f"{letter.number}. {pdf.printable(letter.pen_name)}", 8)
    pdf.set_font(FONT_FAMILY, "", META_PT)
    pdf.set_text_color(80)
    _paragraph(pdf, pdf.printable(letter.written_on), 5.5)
    if letter.original is not None:
        _paragraph(pdf, pdf.printable(letter.translation_note), 5.5)
    pdf.set_text_color(0)
    _rule(pdf)
    _body(pdf, letter.text)
    if letter.original is None:
        return
    pdf.ln(4)
    _rule(pdf)
    pdf.set_font(FONT_FAMILY, "B", META_PT + 1)
    _paragraph(pdf, pdf.printable(letter.original_heading), 6)
    pdf.ln(2)
    _body(pdf, letter.original)


def _rule(pdf: _BundleDocument) -> None:
    rule_y = pdf.get_y() + 2.5
    pdf.set_draw_color(160)
    pdf.line(pdf.l_margin, rule_y, pdf.w - pdf.r_margin, rule_y)
    pdf.set_y(rule_y + 5)


def _body(pdf: _BundleDocument, text: str) -> None:
    pdf.set_font(pdf.body_family(text), "", BODY_PT)
    # multi_cell wraps at spaces and breaks a run longer than the line (Korean often has
    # long runs) between characters, so no text runs past the margin.
    _paragraph(pdf, pdf.printable(text), BODY_LINE_MM)


def _paragraph(pdf: FPDF, text: str, line_height: float, align: str = "L") -> None:
    pdf.multi_cell(
        0, line_height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT, markdown=False
    )
