"""Both catalogs are complete, not fuzzy, consistent with the code and safe to send as HTML."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, PLACEHOLDER
from fakebotapi.formatting import EntityParseError, parse_html

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("ko", "en")
# Menu descriptions and button labels are plain text; everything else is sent as HTML.
TAG = re.compile(r"</?([a-z-]+)")


def _catalog(language: str) -> Catalog:
    with (LOCALES_DIR / language / "LC_MESSAGES" / "bot.po").open("rb") as file:
        return read_po(file, locale=language)


def _template() -> Catalog:
    with (LOCALES_DIR / "bot.pot").open("rb") as file:
        return read_po(file)


def _forms(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


def _ids(message: Message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple) else [message.id]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_not_fuzzy(language: str) -> None:
    catalog = _catalog(language)
    template_ids = {message.id for message in _template() if message.id}
    translated = {message.id: message for message in catalog if message.id}
    assert template_ids <= set(translated), f"missing in {language}"
    for msgid in template_ids:
        message = translated[msgid]
        assert not message.fuzzy, f"fuzzy in {language}: {msgid!r}"
        assert all(form.strip() for form in _forms(message)), f"empty in {language}: {msgid!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_and_tags_match_the_source(language: str) -> None:
    for message in _catalog(language):
        if not message.id:
            continue
        expected = set(PLACEHOLDER.findall(" ".join(_ids(message))))
        expected_tags = sorted(TAG.findall(_ids(message)[0]))
        for form in _forms(message):
            assert set(PLACEHOLDER.findall(form)) == expected, f"{language}: {message.id!r}"
            assert sorted(TAG.findall(form)) == expected_tags, f"{language}: {message.id!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_translation_is_html_telegram_accepts(language: str) -> None:
    for message in _catalog(language):
        for form in _forms(message) if message.id else []:
            filled = PLACEHOLDER.sub("x", form)
            try:
                parse_html(filled)
            except EntityParseError as error:
                pytest.fail(f"{language}: {message.id!r} is not valid Telegram HTML: {error}")


def test_the_template_holds_every_string_in_the_code(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "--mapping",
            str(ROOT / "babel.cfg"),
            "--no-default-keywords",
            "-k",
            "texts",
            "-k",
            "plain",
            "-k",
            "N_",
            "-k",
            "ngettext:1,2",
            "--output-file",
            str(fresh),
            str(ROOT),
        ],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    with fresh.open("rb") as file:
        in_code = {message.id for message in read_po(file) if message.id}
    in_template = {message.id for message in _template() if message.id}
    assert in_code - in_template == set(), "run `make messages` and translate the new strings"
    assert in_template - in_code == set(), "run `make messages` to drop strings no longer used"


def _glossary() -> dict[str, list[dict[str, object]]]:
    import tomllib

    with (LOCALES_DIR / "glossary.toml").open("rb") as file:
        return tomllib.load(file)


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_concept_has_one_word_from_the_glossary(language: str) -> None:
    """A translation never uses an alternative the glossary forbids for a concept."""
    terms = _glossary()[language]
    assert terms, "the glossary lists concepts for every language"
    found = []
    for message in _catalog(language):
        if not message.id:
            continue
        msgid = _ids(message)[0]
        for term in terms:
            if msgid in term.get("only_in", []):  # type: ignore[operator]
                continue
            for form in _forms(message):
                for word in term["forbidden"]:  # type: ignore[union-attr]
                    if str(word) in f" {form} ":
                        found.append(f"{word!r} ({term['concept']}) in {msgid!r}")
    assert found == []


def test_the_glossary_check_catches_a_forbidden_word() -> None:
    """The check above can fail: each forbidden Korean word is one the old catalog used."""
    terms = {str(t["use"]): t["forbidden"] for t in _glossary()["ko"]}
    assert "반려" in terms["승인되지 않았어요"]  # type: ignore[operator]
    assert "사건" in terms["두 병사 소식"]  # type: ignore[operator]
    assert "번호(ID)" in terms["텔레그램 ID"]  # type: ignore[operator]
