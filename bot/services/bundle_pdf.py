"""Render a bundle of approved letters as a printable A4 PDF for the courier."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Container, Sequence
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import TTFFont

from bot.services.fonts import collection_face_index, find_bold_variant

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
# Drawn where the font has no glyph (NanumGothic has no emoji): an empty box tells the reader
# something was there, which silently dropping it would not; coordinators saw the original.
# "?" when the font lacks even the box.
PLACEHOLDER = "\u25a1"
FALLBACK_PLACEHOLDER = "?"
# Invisible companions of a missing glyph (emoji presentation selectors, skin tones, combining
# marks the font cannot draw): dropped rather than drawn as more boxes.
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})
_INVISIBLE_CATEGORIES = frozenset({"Mn", "Me"})
# fpdf2 replaces its total-pages alias wherever it appears in drawn text, "{nb}" by default, so
# a letter saying "{nb}" would print a number. printable_text drops control characters, so no
# letter can contain this alias.
_TOTAL_PAGES_ALIAS = "\x00nb\x00"


@dataclass(frozen=True, slots=True)
class BundleLetter:
    """One letter as printed: no sender identity, the date already formatted for its language.

    ``language`` is not printed (the text shows it); it travels with the letter so callers can
    order a bundle by it.
    """

    number: int
    language: str
    pen_name: str
    written_on: str
    text: str


@dataclass(frozen=True, slots=True)
class BundleCover:
    """The cover page's lines, already translated by the caller."""

    title: str
    subtitle: str
    count_line: str
    date_line: str
    note: str


class _BundleDocument(FPDF):
    def __init__(self, font_path: Path) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        self.set_auto_page_break(auto=True, margin=MARGIN_MM)
        self.alias_nb_pages(_TOTAL_PAGES_ALIAS)
        self.add_font(
            FONT_FAMILY,
            "",
            str(font_path),
            collection_font_number=collection_face_index(font_path),
        )
        # Without a bold file, headings use the regular face (they are larger anyway): fpdf2
        # cannot embolden a TrueType font itself.
        bold_path = find_bold_variant(font_path) or font_path
        self.add_font(
            FONT_FAMILY,
            "B",
            str(bold_path),
            collection_font_number=collection_face_index(bold_path),
        )
        self._drawable = frozenset.intersection(
            *(frozenset(font.cmap) for font in self.fonts.values() if isinstance(font, TTFFont))
        )
        # Set while a letter is drawn, so a letter that runs onto a second sheet says whose it is.
        self.running_head: str | None = None
        self._placeholder = (
            PLACEHOLDER if ord(PLACEHOLDER) in self._drawable else FALLBACK_PLACEHOLDER
        )

    def printable(self, text: str) -> str:
        """``text`` with what both faces cannot draw replaced (see ``printable_text``)."""
        return printable_text(text, self._drawable, self._placeholder)

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


def render_bundle(letters: Sequence[BundleLetter], cover: BundleCover, font_path: Path) -> bytes:
    """Return the PDF bytes: a cover page, then each letter on its own page, in the given order.

    ``font_path`` must have Hangul (see ``fonts.find_korean_font``); its bold sibling is used
    for headings when there is one. Characters the font cannot draw become a small box.
    """
    pdf = _BundleDocument(font_path)
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
    return bytes(pdf.output())


def printable_text(text: str, cmap: Container[int], placeholder: str) -> str:
    """Replace what the font cannot draw: a run of missing glyphs becomes one placeholder."""
    out: list[str] = []
    for char in text:
        code = ord(char)
        category = unicodedata.category(char)
        if char == "\n":
            out.append(char)
        elif char == "\t" or category == "Zs":
            out.append(" ")
        elif category in _CONTROL_CATEGORIES:
            continue
        elif code in cmap:
            out.append(char)
        elif code in _SKIN_TONES or category in _INVISIBLE_CATEGORIES:
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
    pdf.set_text_color(0)
    rule_y = pdf.get_y() + 2.5
    pdf.set_draw_color(160)
    pdf.line(pdf.l_margin, rule_y, pdf.w - pdf.r_margin, rule_y)
    pdf.set_y(rule_y + 5)
    pdf.set_font(FONT_FAMILY, "", BODY_PT)
    # multi_cell wraps at spaces and breaks a run longer than the line (Korean often has
    # long runs) between characters, so no text runs past the margin.
    _paragraph(pdf, pdf.printable(letter.text), BODY_LINE_MM)


def _paragraph(pdf: FPDF, text: str, line_height: float, align: str = "L") -> None:
    pdf.multi_cell(
        0, line_height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT, markdown=False
    )
