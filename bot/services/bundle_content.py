"""What a bundle prints, already in the readers' words: the letters and the cover.

Apart from bundle_pdf so that choosing and wording a bundle does not import fpdf2 and
fontTools (a third of a second at every start); only rendering does.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    text: str  # the Korean translation when there is an original
    original: str | None = None  # the writer's own words, printed beneath the translation
    translation_note: str = ""
    original_heading: str = ""


@dataclass(frozen=True, slots=True)
class BundleCover:
    """The cover page's lines, already translated by the caller."""

    title: str
    subtitle: str
    count_line: str
    date_line: str
    note: str
