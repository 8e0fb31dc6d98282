"""Links in what the bot broadcasts: found, shown with their real domain, checked for look-alikes.

North Korean state groups phish defectors through hijacked accounts of people they trust, so a
link in a post or announcement is shown to the coordinator (and to the approver) with the domain
it really opens, punycode decoded, and flagged when it mixes alphabets or imitates a known site.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

import idna
import regex

from bot.i18n import Html, Texts

# Telegram makes a link of anything that looks like one, with or without a scheme, in any
# case and with any top-level domain (including non-Latin ones): find at least as much.
_LINK = regex.compile(
    r"(?<![\w@.])"
    r"(?:(?:https?|ftp|tg)://[^\s<>\"]+"
    r"|(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,62}[\p{L}\p{N}])?\.)+"
    r"(?:[\p{L}]{2,24}|xn--[a-z0-9-]{2,59})\b(?::\d{1,5})?(?:/[^\s<>\"]*)?)",
    regex.IGNORECASE,
)
_TRAILING = ".,;:!?)]}'\"»”’"

# Sites members know and a phisher would imitate; LINK_DOMAINS are added to them.
KNOWN_DOMAINS = (
    "telegram.org",
    "telegram.me",
    "t.me",
    "google.com",
    "gmail.com",
    "naver.com",
    "daum.net",
    "kakao.com",
    "kakaocorp.com",
    "apple.com",
    "icloud.com",
    "microsoft.com",
    "outlook.com",
    "facebook.com",
    "youtube.com",
    "signal.org",
    "proton.me",
    "protonmail.com",
)
# Letters that read as Latin ones (Cyrillic, Greek, digits); enough for the usual tricks.
_CONFUSABLE = str.maketrans(
    {
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
        "ј": "j", "ѕ": "s", "ԁ": "d", "ӏ": "l", "һ": "h", "ԛ": "q", "ԝ": "w", "к": "k",
        "м": "m", "т": "t", "в": "b", "н": "h", "ɡ": "g", "α": "a", "ο": "o", "ν": "v",
        "ρ": "p", "τ": "t", "ι": "i", "κ": "k", "ε": "e", "υ": "u", "0": "o", "1": "l",
        "3": "e", "5": "s", "i": "l", "_": "-",
    }
)  # fmt: skip
_SCRIPTS = (
    "Latin", "Cyrillic", "Greek", "Hangul", "Han", "Hiragana", "Katakana", "Arabic", "Hebrew",
    "Armenian", "Georgian", "Cherokee", "Thai", "Devanagari",
)  # fmt: skip
_SCRIPT_RE = {name: regex.compile(rf"\p{{Script={name}}}") for name in _SCRIPTS}
# Scripts written together in one word in real life (Korean and Japanese domain names).
_USUAL_MIXES = ({"Han", "Hangul"}, {"Han", "Hiragana", "Katakana"})
MAX_SHOWN = 10  # links listed in a report; the rest are counted (a message holds 4096 chars)
MAX_DOMAIN_SHOWN = 60
_SECOND_LEVEL = {"co", "or", "go", "ac", "ne", "re", "pe", "com", "net", "org", "gov", "edu"}


class LinkWarning(StrEnum):
    MIXED_SCRIPTS = "mixed"  # letters of several alphabets in one name
    LOOKS_LIKE = "lookalike"  # imitates a known domain (`Link.imitates`)
    ADDRESS = "address"  # a bare IP address instead of a name
    UNREADABLE = "unreadable"  # no domain could be read from it


@dataclass(frozen=True)
class Link:
    """One link as written, and what it really opens."""

    written: str
    domain: str  # as people read it (punycode decoded), lower case
    ascii_domain: str  # as the browser sends it
    scripts: tuple[str, ...]
    warnings: tuple[LinkWarning, ...]
    imitates: str | None
    allowed: bool  # inside LINK_DOMAINS


class LinkChecker:
    """Finds and checks the links of a text against the allow-list `LINK_DOMAINS`."""

    def __init__(self, allowed_domains: Iterable[str] = ()) -> None:
        self.allowed = tuple(sorted({d.lower() for d in allowed_domains}))
        self.known = tuple(dict.fromkeys((*KNOWN_DOMAINS, *self.allowed)))

    def links(self, *texts: str | None) -> list[Link]:
        """Every distinct link in `texts`, in the order written."""
        found: dict[str, Link] = {}
        for text in texts:
            for written in find_links(text or ""):
                if written not in found:
                    found[written] = self.check(written)
        return list(found.values())

    def needs_approval(self, *texts: str | None) -> bool:
        """True when a link goes outside LINK_DOMAINS (every link does when it is empty)."""
        return any(not link.allowed for link in self.links(*texts))

    def check(self, written: str) -> Link:
        host = _host_of(written)
        if host is None:
            return Link(written, "", "", (), (LinkWarning.UNREADABLE,), None, False)
        domain, ascii_domain = _decoded(host)
        warnings: list[LinkWarning] = []
        if _is_address(host):
            warnings.append(LinkWarning.ADDRESS)
        scripts = _scripts(domain)
        if _mixes_scripts(domain):
            warnings.append(LinkWarning.MIXED_SCRIPTS)
        imitates = self._imitated(domain)
        if imitates is not None:
            warnings.append(LinkWarning.LOOKS_LIKE)
        allowed = any(_within(ascii_domain, _ascii(d)) for d in self.allowed)
        return Link(
            written,
            domain,
            ascii_domain,
            scripts,
            tuple(warnings),
            imitates,
            allowed and not warnings,
        )

    def _imitated(self, domain: str) -> str | None:
        """The known domain `domain` pretends to be, or None (also None for the real one)."""
        if any(_within(domain, known) for known in self.known):
            return None
        skeleton = _skeleton(domain)
        registrable = _registrable(domain)
        for known in self.known:
            known_skeleton = _skeleton(known)
            name = known_skeleton.split(".")[0]
            if _skeleton(registrable) == known_skeleton or skeleton == known_skeleton:
                return known
            if len(name) >= 4 and name in skeleton:  # telegram-login.com, naver.com.kr.io
                return known
            if len(known) >= 6 and _one_edit_apart(_skeleton(registrable), known_skeleton):
                return known
        return None


def find_links(text: str) -> list[str]:
    """The links in `text` as Telegram would make them clickable."""
    return [match.group().rstrip(_TRAILING) for match in _LINK.finditer(text)]


def reveal_hidden_links(text: str, hidden: Iterable[tuple[int, int, str]]) -> str:
    """`text` with each hidden link's address written after the words that hid it.

    `hidden` holds Telegram `text_link` entities as (offset, length, url), counted in UTF-16
    code units as Telegram counts them. The bot re-renders text without them, so the address
    must stay visible or it would be lost or, worse, be missed by the check.
    """
    positions = _utf16_positions(text)
    result = text
    for offset, length, url in sorted(hidden, key=lambda h: h[0], reverse=True):
        end = positions.get(offset + length)
        if end is None:
            continue
        shown = text[positions.get(offset, end) : end]
        if shown.strip() == url.strip():
            continue
        result = result[:end] + f" ({url})" + result[end:]
    return result


def render_link_report(texts: Texts, links: list[Link], *, gate: bool) -> Html:
    """The links of a draft as a coordinator or approver must see them; empty if none.

    `gate` adds why a second coordinator must approve (links outside LINK_DOMAINS).
    """
    if not links:
        return Html("")
    lines = [texts("<b>Links in this message</b> (the site each one really opens):")]
    for link in links[:MAX_SHOWN]:
        lines.append(_link_line(texts, link))
    if len(links) > MAX_SHOWN:
        lines.append(
            texts.ngettext(
                "…and {count} more link.", "…and {count} more links.", len(links) - MAX_SHOWN
            )
        )
    if gate and any(not link.allowed for link in links):
        lines.append(
            texts(
                "A link goes to a site outside the allowed list (LINK_DOMAINS), so a second "
                "coordinator must approve this message before it is sent."
            )
        )
    return Html("\n".join(lines))


def _link_line(texts: Texts, link: Link) -> Html:
    if LinkWarning.UNREADABLE in link.warnings:
        return texts("⚠️ {link}: no site name can be read from it.", link=_short(link.written))
    parts = [texts("• {domain}", domain=_short(link.domain))]
    if link.ascii_domain != link.domain:
        parts.append(
            texts("(written for the browser as {ascii})", ascii=_short(link.ascii_domain))
        )
    for warning in link.warnings:
        if warning is LinkWarning.MIXED_SCRIPTS:
            parts.append(
                texts(
                    "⚠️ mixes letters of different alphabets ({scripts})",
                    scripts=", ".join(link.scripts),
                )
            )
        elif warning is LinkWarning.LOOKS_LIKE:
            parts.append(
                texts("⚠️ imitates {known}: it is NOT that site", known=link.imitates or "")
            )
        elif warning is LinkWarning.ADDRESS:
            parts.append(texts("⚠️ a bare number address instead of a site name"))
    if not link.allowed:
        parts.append(texts("· not on the allowed list"))
    return Html(" ".join(parts))


def _short(text: str) -> str:
    """Long names keep their end, where the real site is: '…login.example.com'."""
    return text if len(text) <= MAX_DOMAIN_SHOWN else "…" + text[-MAX_DOMAIN_SHOWN:]


def _host_of(written: str) -> str | None:
    # Browsers read a backslash as a slash in web addresses: "a.example\\.b.org" opens a.example.
    written = written.replace("\\", "/")
    url = written if "://" in written else "http://" + written
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.rstrip(".").lower() if host else None


def _decoded(host: str) -> tuple[str, str]:
    """(as read, as sent): 'xn--80ak6aa92e.com' → ('аррӏе.com', 'xn--80ak6aa92e.com')."""
    labels = host.split(".")
    read, sent = [], []
    for label in labels:
        try:
            sent.append(idna.encode(label, uts46=True).decode("ascii") if label else label)
        except idna.IDNAError:
            sent.append(label.encode("punycode").decode("ascii") if not label.isascii() else label)
        try:
            read.append(idna.decode(label) if label.startswith("xn--") else label)
        except idna.IDNAError:
            read.append(label)
    return unicodedata.normalize("NFC", ".".join(read)).lower(), ".".join(sent).lower()


def _ascii(domain: str) -> str:
    return _decoded(domain)[1]


def _within(domain: str, parent: str) -> bool:
    return domain == parent or domain.endswith("." + parent)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host.replace(".", "").isdigit()
    return True


def _scripts(domain: str) -> tuple[str, ...]:
    found: list[str] = []
    for char in domain:
        for name, pattern in _SCRIPT_RE.items():
            if pattern.match(char) and name not in found:
                found.append(name)
    return tuple(found)


def _mixes_scripts(domain: str) -> bool:
    for label in domain.split("."):
        scripts = set(_scripts(label))
        if len(scripts) > 1 and not any(scripts <= usual for usual in _USUAL_MIXES):
            return True
    return False


def _skeleton(domain: str) -> str:
    folded = unicodedata.normalize("NFKD", domain.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return folded.translate(_CONFUSABLE).replace("rn", "m").replace("vv", "w")


def _registrable(domain: str) -> str:
    labels = domain.split(".")
    keep = 3 if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2
    return ".".join(labels[-keep:])


def _one_edit_apart(a: str, b: str) -> bool:
    """One letter added, removed, changed, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _utf16_positions(text: str) -> dict[int, int]:
    """UTF-16 offset → index in `text`, for every character boundary."""
    positions, units = {0: 0}, 0
    for index, char in enumerate(text, start=1):
        units += 2 if ord(char) > 0xFFFF else 1
        positions[units] = index
    return positions
