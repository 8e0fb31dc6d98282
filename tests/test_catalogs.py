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
