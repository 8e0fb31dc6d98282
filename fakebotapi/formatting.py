"""Telegram text formatting: strict HTML parse mode, visible text, UTF-16 entity offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# Telegram measures entity offsets and lengths in UTF-16 code units.
JsonDict = dict[str, Any]


class EntityParseError(ValueError):
    """The text cannot be parsed in the requested parse mode (Telegram answers 400)."""


@dataclass
class FormattedText:
    """The text a person sees, with the entities Telegram would attach to it."""

    text: str
    entities: list[JsonDict] = field(default_factory=list)


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


# Tags Telegram accepts in HTML parse mode and the entity each one makes.
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_ALLOWED_TAGS = frozenset({*_SIMPLE_TAGS, "span", "a", "blockquote", "tg-emoji"})
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([a-zA-Z][a-zA-Z0-9]{0,31}));")
_TAG_NAME_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_ATTR_NAME_RE = re.compile(r"[a-zA-Z0-9_-]+")
_END_TAG_RE = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")


@dataclass
class _OpenTag:
    name: str
    start: int  # UTF-16 offset in the visible text
    entity: JsonDict | None


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _decode_entity(source: str, index: int) -> tuple[str, int]:
    """Decode the character entity at ``source[index]`` ('&'); returns (char, length)."""
    match = _ENTITY_RE.match(source, index)
    if match is None:
        # Telegram itself keeps a lone '&' as text; the sandbox is stricter on purpose so that
        # a missing html.escape() in the bot fails the tests instead of reaching members.
        raise EntityParseError(
            f'Unescaped "&" at byte offset {_byte_offset(source, index)}: '
            "use &amp; or a supported character entity"
        )
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        if name not in _NAMED_ENTITIES:
            raise EntityParseError(
                f'Unsupported HTML entity "&{name};" at byte offset {_byte_offset(source, index)}'
            )
        return _NAMED_ENTITIES[name], match.end() - index
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise EntityParseError(
            f"Invalid character entity at byte offset {_byte_offset(source, index)}"
        )
    return chr(code), match.end() - index


def _decode_attribute(value: str) -> str:
    out: list[str] = []
    pos = 0
    while pos < len(value):
        if value[pos] == "&":
            char, length = _decode_entity(value, pos)
            out.append(char)
            pos += length
        else:
            out.append(value[pos])
            pos += 1
    return "".join(out)


def _parse_attributes(source: str, pos: int, tag_start: int) -> tuple[dict[str, str], int]:
    """Parse attributes after a tag name; returns them and the index after '>'."""
    attributes: dict[str, str] = {}
    while True:
        while pos < len(source) and source[pos].isspace():
            pos += 1
        if pos >= len(source):
            raise EntityParseError(
                f"Unclosed start tag at byte offset {_byte_offset(source, tag_start)}"
            )
        if source[pos] == ">":
            return attributes, pos + 1
        name_match = _ATTR_NAME_RE.match(source, pos)
        if name_match is None:
            raise EntityParseError(
                f"Expected equal sign in declaration of an attribute of the tag at byte offset "
                f"{_byte_offset(source, pos)}"
            )
        name = name_match.group().lower()
        pos = name_match.end()
        value = ""
        if pos < len(source) and source[pos] == "=":
            pos += 1
            if pos < len(source) and source[pos] in "\"'":
                end = source.find(source[pos], pos + 1)
                if end < 0:
                    raise EntityParseError(
                        f"Unclosed start tag at byte offset {_byte_offset(source, tag_start)}"
                    )
                value = _decode_attribute(source[pos + 1 : end])
                pos = end + 1
            else:
                end = pos
                while end < len(source) and not source[end].isspace() and source[end] != ">":
                    end += 1
                value = _decode_attribute(source[pos:end])
                pos = end
        attributes[name] = value


def _entity_for_tag(
    name: str, attributes: dict[str, str], source: str, index: int
) -> JsonDict | None:
    if name in _SIMPLE_TAGS:
        entity: JsonDict = {"type": _SIMPLE_TAGS[name]}
        language = attributes.get("class", "")
        if name == "code" and language.startswith("language-"):
            entity["language"] = language.removeprefix("language-")
        return entity
    if name == "span":
        if attributes.get("class") != "tg-spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset '
                f"{_byte_offset(source, index)}"
            )
        return {"type": "spoiler"}
    if name == "a":
        href = attributes.get("href", "")
        return {"type": "text_link", "url": href} if href else None
    if name == "blockquote":
        expandable = "expandable" in attributes
        return {"type": "expandable_blockquote" if expandable else "blockquote"}
    emoji_id = attributes.get("emoji-id", "")
    if not emoji_id.isdigit():
        raise EntityParseError(
            "Custom emoji identifier must be a number at byte offset "
            f"{_byte_offset(source, index)}"
        )
    return {"type": "custom_emoji", "custom_emoji_id": emoji_id}


def _close_tag(
    source: str, pos: int, stack: list[_OpenTag], offset: int, entities: list[JsonDict]
) -> int:
    match = _END_TAG_RE.match(source, pos)
    if match is None:
        raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(source, pos)}")
    name = match.group(1).lower()
    if not stack:
        raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(source, pos)}")
    top = stack.pop()
    if top.name != name:
        raise EntityParseError(
            f"Unmatched end tag at byte offset {_byte_offset(source, pos)}, "
            f'expected "</{top.name}>", found "</{name}>"'
        )
    if top.entity is not None and offset > top.start:
        entity = {**top.entity, "offset": top.start, "length": offset - top.start}
        if top.name == "pre" and entities and entities[-1]["type"] == "code":
            # <pre><code class="language-x"> is how Telegram spells a pre block's language.
            inner = entities[-1]
            if inner["offset"] == top.start and inner["length"] == offset - top.start:
                entities.pop()
                if "language" in inner:
                    entity["language"] = inner["language"]
        entities.append(entity)
    return match.end()


def parse_html(source: str) -> FormattedText:
    """Parse ``source`` the way Telegram's HTML parse mode does, but strictly.

    Raises EntityParseError with Telegram's wording for unsupported tags, unclosed or badly
    nested tags, unknown entities and bare ``<``, ``>`` or ``&``.
    """
    out: list[str] = []
    entities: list[JsonDict] = []
    stack: list[_OpenTag] = []
    offset = 0
    pos = 0
    length = len(source)
    while pos < length:
        char = source[pos]
        if char == "<":
            if source.startswith("</", pos):
                pos = _close_tag(source, pos, stack, offset, entities)
                continue
            name_match = _TAG_NAME_RE.match(source, pos + 1)
            if name_match is None:
                raise EntityParseError(
                    f"Empty tag name at byte offset {_byte_offset(source, pos)}"
                )
            name = name_match.group().lower()
            if name not in _ALLOWED_TAGS:
                raise EntityParseError(
                    f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, pos)}'
                )
            attributes, after = _parse_attributes(source, name_match.end(), pos)
            stack.append(_OpenTag(name, offset, _entity_for_tag(name, attributes, source, pos)))
            pos = after
            continue
        if char == ">":
            raise EntityParseError(
                f'Unescaped ">" at byte offset {_byte_offset(source, pos)}: use &gt;'
            )
        if char == "&":
            char, consumed = _decode_entity(source, pos)
            pos += consumed
        else:
            pos += 1
        out.append(char)
        offset += 2 if ord(char) > 0xFFFF else 1
    if stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"'
        )
    return _trimmed(FormattedText("".join(out), entities))


def plain_text(source: str, entities: list[JsonDict] | None = None) -> FormattedText:
    """Text sent without a parse mode, optionally with explicit entities."""
    return _trimmed(FormattedText(source, list(entities or [])))


def _trimmed(formatted: FormattedText) -> FormattedText:
    """Strip surrounding whitespace as Telegram does, shifting and clipping the entities."""
    text = formatted.text
    stripped = text.strip()
    if stripped == text:
        formatted.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return formatted
    shift = utf16_len(text[: len(text) - len(text.lstrip())])
    limit = utf16_len(stripped)
    entities: list[JsonDict] = []
    for entity in formatted.entities:
        start = max(int(entity["offset"]) - shift, 0)
        end = min(int(entity["offset"]) + int(entity["length"]) - shift, limit)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return FormattedText(stripped, entities)


# Entities Telegram detects by itself in what people type. Its real rules are richer (a list of
# every top-level domain, for one); these cover what a bot is likely to check for.
_TLDS = (
    "com|net|org|info|biz|io|me|co|app|dev|xyz|site|online|ru|kr|kp|ua|uk|de|fr|jp|cn|us|"
    "eu|gov|edu|ly|gl|to|tv|cc|su|by|kz|in"
)
_AUTO_ENTITY_RE = re.compile(
    r"(?P<bot_command>(?<![^\s])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/]))"
    r"|(?P<email>(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b)"
    r"|(?P<url>(?<![\w@.])(?:https?://[^\s]+|(?:[A-Za-z0-9-]+\.)+(?:"
    + _TLDS
    + r")\b(?:/[^\s]*)?))"
    r"|(?P<mention>(?<![\w@])@[A-Za-z][A-Za-z0-9_]{4,31}\b)"
    r"|(?P<hashtag>(?<![\w#])#\w*[^\W\d]\w*)"
)


def detect_entities(text: str) -> list[JsonDict]:
    """Entities Telegram attaches to a message a person types (commands, links, mentions)."""
    entities: list[JsonDict] = []
    for match in _AUTO_ENTITY_RE.finditer(text):
        kind = match.lastgroup
        if kind is None:
            continue
        value = match.group()
        if kind == "url":
            value = value.rstrip(".,;:!?)")
        entities.append(
            {"type": kind, "offset": utf16_len(text[: match.start()]), "length": utf16_len(value)}
        )
    return entities


def html_quote(text: str) -> str:
    """Escape ``text`` for HTML parse mode (what the bot must do to user input)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
