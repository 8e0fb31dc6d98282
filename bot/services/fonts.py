"""Find a font on this machine that can print Korean in the courier's PDF bundle."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

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
