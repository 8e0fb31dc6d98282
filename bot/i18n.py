"""Translated, HTML-safe message text for each member's language, with Babel formatting."""

from __future__ import annotations

import gettext
import html
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.numbers import format_decimal

from bot.config import SUPPORTED_LANGUAGES

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "bot"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


class Html(str):
    """Text that is already valid Telegram HTML and must not be escaped again."""

    __slots__ = ()


def escape(value: object) -> Html:
    """Escape any value for Telegram's HTML parse mode (Html passes through unchanged)."""
    if isinstance(value, Html):
        return value
    return Html(html.escape(str(value), quote=False))


def unescape(text: Html) -> str:
    """Plain text from Html, for what is not HTML (button labels, a printed page)."""
    return html.unescape(text)


def N_(msgid: str) -> str:
    """Mark a string for extraction where it is defined; it is translated where it is shown."""
    return msgid


class MissingCatalog(Exception):
    """A compiled catalog (.mo) is missing: the set-up step did not run."""


class Texts:
    """One language's catalog: `_("Hello, {name}", name=...)` escapes every value."""

    def __init__(self, language: str, catalog: gettext.NullTranslations) -> None:
        self.language = language
        self.locale = Locale.parse(language)
        self._catalog = catalog

    def __call__(self, msgid: str, /, **params: object) -> Html:
        return _fill(self._catalog.gettext(msgid), params)

    def plain(self, msgid: str, /) -> str:
        """The translation as plain text, for places that are not HTML (menus, alerts)."""
        return self._catalog.gettext(msgid)

    def ngettext(self, singular: str, plural: str, count: int, /, **params: object) -> Html:
        """Pick the plural form for `count`; `{count}` is formatted for the locale."""
        template = self._catalog.ngettext(singular, plural, count)
        return _fill(template, {"count": self.number(count), **params})

    def language_name(self, code: str) -> str:
        """A language's name in this language: '영어' in Korean, 'Korean' in English."""
        return str(self.locale.languages.get(code, code))

    def number(self, value: int | float) -> str:
        return format_decimal(value, locale=self.locale)

    def datetime_in(self, moment: datetime, timezone: str) -> str:
        """Date and time in the member's locale and zone: '2026년 11월 22일 (일) 08:00'."""
        local = moment.astimezone(ZoneInfo(timezone))
        day = format_skeleton("yMMMEd", local, locale=self.locale)
        return str(self.locale.datetime_formats["medium"]).format(self.clock(local), day)

    def clock(self, moment: datetime) -> str:
        """The time of day as it stands in `moment`, e.g. '08:00' or '8:00 AM'."""
        # A 24-hour clock for Korean: CLDR's Korean 12-hour form prints "AM"/"PM" in Latin.
        skeleton = "Hm" if self.language == "ko" else "hm"
        return format_skeleton(skeleton, moment, locale=self.locale)

    def date_in(self, moment: datetime, timezone: str) -> str:
        """A date alone in the member's locale, e.g. '2026년 11월 22일'."""
        return format_date(moment.astimezone(ZoneInfo(timezone)), "long", locale=self.locale)


class Translator:
    """Loads every compiled catalog once at start-up and hands out `Texts` by language."""

    def __init__(self, locales_dir: Path = LOCALES_DIR, default_language: str = "ko") -> None:
        self.default_language = default_language
        self._texts: dict[str, Texts] = {}
        for language in SUPPORTED_LANGUAGES:
            try:
                catalog = gettext.translation(DOMAIN, locales_dir, languages=[language])
            except FileNotFoundError:
                raise MissingCatalog(
                    f"compiled catalog for '{language}' not found in {locales_dir}:"
                    " run 'make messages' or 'make setup'"
                ) from None
            self._texts[language] = Texts(language, catalog)

    def texts(self, language: str | None) -> Texts:
        """The catalog for `language`, or the default one for anything unsupported."""
        return self._texts.get(language or "", self._texts[self.default_language])

    def pick_language(self, telegram_language_code: str | None) -> str:
        """Map Telegram's language_code (e.g. 'ko', 'en-US') to a supported language."""
        code = (telegram_language_code or "").split("-")[0].lower()
        return code if code in self._texts else self.default_language


def _fill(template: str, params: dict[str, object]) -> Html:
    escaped = {name: escape(value) for name, value in params.items()}
    # Replace only known {name} fields so stray braces in a translation can never raise.
    return Html(PLACEHOLDER.sub(lambda m: escaped.get(m.group(1), m.group(0)), template))
