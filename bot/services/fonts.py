"""Find the fonts on this machine that print the courier's PDF bundle, and what they cover."""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import regex
from fontTools.ttLib import TTCollection, TTFont  # type: ignore[import-untyped]

logger = logging.getLogger(__name__)

# Debian's fonts-nanum first: plain TrueType, small to embed, and pypdf (hence the tests and any
# checker) reads its text back cleanly. Then fonts-noto-cjk, whose OpenType collections fpdf2
# (2.8 and later) loads by face index. Gothic (sans-serif) before Myeongjo (serif): it stays
# legible on a cheap or worn printer.
KNOWN_KOREAN_FONTS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf"),
    Path("/usr/share/fonts/truetype/nanum/NanumBarunGothic.ttf"),
    Path("/usr/share/fonts/truetype/nanum/NanumMyeongjo.ttf"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/noto/NotoSansKR-Regular.ttf"),
    Path("/usr/share/fonts/opentype/noto/NotoSansKR-Regular.otf"),
)
# Fonts fpdf2 falls back to, character by character, for what the Korean font lacks; all from
# Debian packages the Makefile's `fonts` target installs. Emoji first: Noto Color Emoji (CBDT
# bitmaps, which fpdf2 2.8 draws) has the ligatures that join a ZWJ family or a skin tone into
# one picture, and it must win over the plain symbols (♥, ☺) other fonts have. Then Noto Sans
# CJK KR for rare Hanja and old Hangul, DejaVu Sans for Cyrillic, Arabic and combining marks,
# and Symbola for the symbols and emoji the others lack.
KNOWN_FALLBACK_FONTS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf"),
    Path("/usr/share/fonts/truetype/ancient-scripts/Symbola.ttf"),
)
# Old Hangul is written as a run of conjoining jamo that only a font with the ljmo/vjmo/tjmo
# features composes into one syllable; such a letter is drawn with Noto Sans CJK KR.
OLD_HANGUL_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
_CONJOINING_JAMO = regex.compile(r"[\u1100-\u11FF\uA960-\uA97F\uD7B0-\uD7FF]")
# Characters that print as nothing on purpose (joiners and variation selectors inside emoji
# sequences, which the shaper hides when the font has no glyph for them) and white space.
_INVISIBLE = regex.compile(r"[\p{Default_Ignorable_Code_Point}\s]")
# What fpdf2 can embed; collections (.ttc, .otc) need a face index, see collection_face_index.
FONT_SUFFIXES = frozenset({".ttf", ".otf", ".ttc", ".otc"})
COLLECTION_SUFFIXES = frozenset({".ttc", ".otc"})
# The first and last precomposed Hangul syllables: a font that has both covers Korean text.
_HANGUL_PROBES = (0xAC00, 0xD7A3)
# fc-list answers in milliseconds; a hung fontconfig cache must not hang a courier's /bundle.
_FC_LIST_TIMEOUT_SECONDS = 5


def find_korean_font(explicit: Path | None) -> Path | None:
    """Return a font file with Hangul: ``explicit`` if usable, else one installed, else None."""
    if explicit is not None:
        if is_usable_korean_font(explicit):
            return explicit
        # The path comes from configuration, not from a member, so it is safe to log.
        logger.warning(
            "Bundle font %s is missing or has no Hangul; searching the system", explicit
        )
    for candidate in KNOWN_KOREAN_FONTS:
        if is_usable_korean_font(candidate):
            return candidate
    # Only now ask fontconfig: it costs a process, and covers fonts installed anywhere else.
    for candidate in _fontconfig_korean_fonts():
        if is_usable_korean_font(candidate):
            return candidate
    return None


def is_usable_korean_font(path: Path) -> bool:
    """Whether ``path`` is a font file fpdf2 can embed whose face has Hangul syllables."""
    if path.suffix.lower() not in FONT_SUFFIXES or not path.is_file():
        return False
    try:
        with TTFont(path, fontNumber=collection_face_index(path), lazy=True) as font:
            cmap = font.getBestCmap() or {}
    except Exception:
        # fontTools raises many kinds of errors on a damaged file; any of them means "not this".
        logger.warning("Cannot read font %s", path, exc_info=True)
        return False
    return all(code in cmap for code in _HANGUL_PROBES)


def collection_face_index(path: Path) -> int:
    """The face of a font collection to use for Korean: the "KR" one, else the first.

    CJK collections hold one face per region (JP, KR, SC, ...); all draw Hangul, but only the
    KR face draws the shared Han characters the way Korean readers expect.
    """
    if path.suffix.lower() not in COLLECTION_SUFFIXES:
        return 0
    with TTCollection(path, lazy=True) as collection:
        for index, face in enumerate(collection.fonts):
            family = str(face["name"].getDebugName(1) or "")
            if " KR" in family and "Mono" not in family:
                return index
    return 0


def find_bold_variant(regular: Path) -> Path | None:
    """The bold file of the same family next to ``regular`` (NanumGothic -> NanumGothicBold)."""
    stem = regular.stem
    candidates = [f"{stem}Bold", f"{stem}-Bold"]
    if stem.endswith("-Regular"):
        candidates.append(stem.removesuffix("-Regular") + "-Bold")
    if stem.endswith("R"):  # NanumSquareR / NanumSquareB
        candidates.append(stem[:-1] + "B")
    for name in candidates:
        path = regular.with_name(name + regular.suffix)
        if path.is_file():
            return path
    return None


def _fontconfig_korean_fonts() -> list[Path]:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        # A fixed argument list from a resolved path: no shell, no member input.
        result = subprocess.run(  # noqa: S603
            [fc_list, ":lang=ko", "file"],
            capture_output=True,
            text=True,
            timeout=_FC_LIST_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    paths = [Path(line.rstrip().rstrip(":")) for line in result.stdout.splitlines() if line]
    # Regular weights first, and plain TrueType before collections, as in KNOWN_KOREAN_FONTS.
    return sorted(
        (path for path in paths if path.suffix.lower() in FONT_SUFFIXES),
        key=lambda path: ("Bold" in path.name, path.suffix.lower() != ".ttf", str(path)),
    )


@dataclass(frozen=True, slots=True)
class BundleFonts:
    """The Korean font a bundle is printed in, and the fonts it falls back to, in order."""

    main: Path
    fallbacks: tuple[Path, ...]

    def for_text(self, text: str) -> Path:
        """The font to draw ``text`` with: Noto Sans CJK KR when it has old Hangul jamo."""
        if _CONJOINING_JAMO.search(text) and OLD_HANGUL_FONT in self.fallbacks:
            return OLD_HANGUL_FONT
        return self.main


def find_bundle_fonts(explicit: Path | None) -> BundleFonts | None:
    """The Korean font (see ``find_korean_font``) and every installed fallback font."""
    main = find_korean_font(explicit)
    if main is None:
        return None
    fallbacks = tuple(
        path for path in KNOWN_FALLBACK_FONTS if path != main and _readable_font(path)
    )
    # One Symbola is enough.
    symbola = [path for path in fallbacks if path.stem.startswith("Symbola")]
    fallbacks = tuple(path for path in fallbacks if path not in symbola[1:])
    return BundleFonts(main, fallbacks)


@functools.lru_cache(maxsize=8)
def _coverage(paths: tuple[Path, ...]) -> frozenset[int]:
    covered: set[int] = set()
    for path in paths:
        covered.update(font_cmap(path))
    return frozenset(covered)


@functools.lru_cache(maxsize=16)
def font_cmap(path: Path) -> frozenset[int]:
    """The code points ``path`` (its Korean face, for a collection) has a glyph for."""
    with TTFont(path, fontNumber=collection_face_index(path), lazy=True) as font:
        return frozenset((font.getBestCmap() or {}).keys())


@functools.lru_cache(maxsize=4)
def installed_coverage(explicit: Path | None = None) -> frozenset[int] | None:
    """Every code point some installed bundle font draws; None when no Korean font is found.

    Read once per process from the fonts' own cmap tables (fontTools, as fpdf2 does): fonts
    installed later count after a restart, as they would for fpdf2's font cache.
    """
    fonts = find_bundle_fonts(explicit)
    if fonts is None:
        return None
    return _coverage((fonts.main, *fonts.fallbacks))


def unprintable_characters(text: str, coverage: Iterable[int] | None = None) -> list[str]:
    """The characters of ``text``, each once in order, no installed font draws.

    Empty when no Korean font is installed at all: then no bundle can be made anyway, and the
    courier is told so.
    """
    covered = installed_coverage() if coverage is None else frozenset(coverage)
    if covered is None:
        return []
    missing: dict[str, None] = {}
    for char in text:
        if ord(char) not in covered and not _INVISIBLE.match(char):
            missing[char] = None
    return list(missing)


def character_name(char: str) -> str:
    """How a refusal names a character: U+20000 and its Unicode name when it has one."""
    name = unicodedata.name(char, "")
    code = f"U+{ord(char):04X}"
    return f"{code} {name}" if name else code


def _readable_font(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        font_cmap(path)
    except Exception:
        logger.warning("Cannot read font %s", path, exc_info=True)
        return False
    return True
