"""Time zones as members know them: city names in their language, and typed city names."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale
from babel.core import get_global
from babel.dates import get_timezone_location

NAME_LANGUAGES = ("ko", "en")
# CLDR's Korean still writes Kyiv as 키예프; Korean official usage since 2022 is 키이우 (the
# National Institute of Korean Language), and the campaign is about Ukraine: show and accept it.
_KOREAN_OVERRIDES = {"Europe/Kyiv": "키이우"}
_ACCEPTED_ALIASES = {"키이우": "Europe/Kyiv", "키예프": "Europe/Kyiv"}


def zone_label(zone: str, language: str) -> str:
    """The zone as a member reads it: its city ("서울", "New York"), or the name for UTC."""
    if language == "ko" and zone in _KOREAN_OVERRIDES:
        return _KOREAN_OVERRIDES[zone]
    if "/" not in zone:
        return zone  # UTC and the like have no city
    try:
        return str(get_timezone_location(zone, locale=language, return_city=True))
    except LookupError:
        return zone


def resolve_timezone(name: str) -> str | None:
    """The IANA zone a member typed: a zone name ("asia/seoul"), a city in Korean or English
    ("서울", "London", "키이우", "new york") or a country with one time zone ("영국"); None if
    unknown."""
    cleaned = name.strip()
    if not cleaned or len(cleaned) > 64:
        return None
    zone = _lookup().get(_key(cleaned))
    if zone is None:
        return None
    ZoneInfo(zone)  # proves it loads on this machine
    return zone


def _key(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


@functools.cache
def _lookup() -> dict[str, str]:
    """Typed names to zones, from this machine's zones and CLDR's city and country names."""
    here = available_timezones()
    aliases: Mapping[str, str] = get_global("zone_aliases")  # "Europe/Kiev" -> "Europe/Kyiv"
    table: dict[str, str] = {}
    for zone in here:
        canonical = aliases.get(zone, zone) if "/" in zone else zone  # "UTC" stays "UTC"
        table.setdefault(_key(zone), canonical if canonical in here else zone)
    # CLDR's list of current zones: no legacy aliases, one entry per zone.
    territories: Mapping[str, str] = get_global("zone_territories")
    current = sorted(zone for zone in territories if zone in here)
    zones_per_country: dict[str, list[str]] = {}
    for zone in current:
        zones_per_country.setdefault(territories[zone], []).append(zone)
    for language in NAME_LANGUAGES:
        locale = Locale.parse(language)
        for zone in current:
            table.setdefault(_key(zone_label(zone, language)), zone)
        for country, zones in zones_per_country.items():
            if len(zones) == 1 and country in locale.territories:
                table.setdefault(_key(locale.territories[country]), zones[0])
    for alias, zone in _ACCEPTED_ALIASES.items():
        table[_key(alias)] = zone
    return table
