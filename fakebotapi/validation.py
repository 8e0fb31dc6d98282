"""Request parameters and the checks Telegram applies to them, with Telegram's error wording."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from fakebotapi.formatting import EntityParseError, FormattedText, parse_html, plain_text

JsonDict = dict[str, Any]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description, optional parameters."""

    def __init__(
        self, error_code: int, description: str, parameters: JsonDict | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters
        self.injected = False  # set for injected faults and flood control

    def to_json(self) -> JsonDict:
        """The body Telegram sends with this error."""
        body: JsonDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    """A 400 answer; ``reason`` is what follows "Bad Request: "."""
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    """A 403 answer; ``reason`` is what follows "Forbidden: "."""
    return ApiError(403, f"Forbidden: {reason}")


# Parameters that PTB (and any form-encoding client) sends as JSON strings.
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "scope",
        "commands",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
        "media",
        "menu_button",
        "rights",
        "message_ids",
        "reaction",
    }
)
# Parameters that stay strings even when they look like numbers or booleans.
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "file_id",
        "url",
        "secret_token",
        "language_code",
        "description",
        "short_description",
        "name",
        "emoji",
        "title",
        "photo",
        "document",
        "sticker",
        "video",
        "audio",
        "voice",
        "animation",
        "thumbnail",
        "action",
        "message_effect_id",
        "business_connection_id",
        "ip_address",
    }
)
_INTEGER_RE = re.compile(r"-?[0-9]{1,19}")


def decode_form_value(name: str, value: str) -> Any:
    """Turn one form field into the value Telegram would see after its own decoding."""
    if name in JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None
    if name in STRING_PARAMS:
        return value
    if _INTEGER_RE.fullmatch(value):
        return int(value)
    if value in ("true", "false"):
        return value == "true"
    return value


class Params:
    """Typed, Telegram-flavoured access to a request's parameters."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values: JsonDict = dict(values)

    def __contains__(self, name: str) -> bool:
        return name in self.values and self.values[name] is not None

    def raw(self, name: str) -> Any:
        """The decoded value or None."""
        return self.values.get(name)

    def required(self, name: str) -> Any:
        """The value, or 400 "<name> is empty" like Telegram."""
        value = self.values.get(name)
        if value is None or value == "":
            raise bad_request(f"{name} is empty")
        return value

    def string(self, name: str, default: str = "") -> str:
        """A string parameter."""
        value = self.values.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        """An integer parameter, or 400 if it is not one."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise bad_request(f"invalid {name} specified")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INTEGER_RE.fullmatch(value.strip()):
            return int(value)
        raise bad_request(f"invalid {name} specified")

    def boolean(self, name: str) -> bool:
        """A boolean parameter (absent means False)."""
        value = self.values.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def json(self, name: str) -> Any:
        """A JSON parameter, already decoded or still a string (JSON request bodies)."""
        value = self.values.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value

    def chat_id(self) -> int:
        """The target chat: numeric ids only (the sandbox has no public @usernames)."""
        value = self.values.get("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INTEGER_RE.fullmatch(value.strip()):
            return int(value)
        raise bad_request("chat not found")


def format_text(source: str, parse_mode: str, entities: Any) -> FormattedText:
    """Apply the parse mode, or explicit entities, to a text or caption."""
    mode = parse_mode.lower()
    try:
        if mode == "html":
            return parse_html(source)
    except EntityParseError as error:
        raise bad_request(f"can't parse entities: {error}") from None
    if mode in ("markdown", "markdownv2"):
        # Markdown is not emulated: the bot uses HTML. Drop escapes so visible text is close.
        return plain_text(re.sub(r"\\(.)", r"\1", source))
    if mode:
        raise bad_request(f"unsupported parse_mode {parse_mode!r}")
    if entities is not None and not isinstance(entities, list):
        raise bad_request("can't parse entities JSON object")
    return plain_text(source, entities)


def message_text(params: Params) -> FormattedText:
    """The visible text of sendMessage/editMessageText, checked like Telegram."""
    source = params.string("text")
    formatted = format_text(source, params.string("parse_mode"), params.json("entities"))
    if not formatted.text:
        raise bad_request("message text is empty")
    if len(formatted.text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return formatted


def caption_text(params: Params) -> FormattedText:
    """The visible caption of a media message (may be empty)."""
    source = params.string("caption")
    formatted = format_text(source, params.string("parse_mode"), params.json("caption_entities"))
    if len(formatted.text) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    return formatted


_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "web_app",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_URL_RE = re.compile(r"(?:https?|tg)://\S+", re.IGNORECASE)


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    if not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    if not button["text"].strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [name for name in _BUTTON_ACTIONS if name in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        raise bad_request("BUTTON_DATA_INVALID")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not _URL_RE.fullmatch(url):
            raise bad_request("BUTTON_URL_INVALID")


def _check_rows(rows: Any, field_name: str) -> list[list[Any]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f"can't parse reply keyboard markup JSON object: {field_name}")
    return rows


def reply_markup(params: Params) -> JsonDict | None:
    """The reply_markup parameter, validated; None when absent."""
    markup = params.json("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = _check_rows(markup["inline_keyboard"], "inline_keyboard")
        if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
            raise bad_request("reply markup is too long")
        for row in rows:
            for button in row:
                _check_inline_button(button)
    elif "keyboard" in markup:
        for row in _check_rows(markup["keyboard"], "keyboard"):
            for button in row:
                if not isinstance(button, str | dict):
                    raise bad_request("can't parse keyboard button")
    elif not (markup.get("remove_keyboard") or markup.get("force_reply")):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


def bot_commands(params: Params) -> list[JsonDict]:
    """The commands of setMyCommands, validated like Telegram."""
    commands = params.json("commands")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    checked: list[JsonDict] = []
    for command in commands:
        if not isinstance(command, dict):
            raise bad_request("can't parse BotCommand")
        name = str(command.get("command", "")).removeprefix("/")
        description = str(command.get("description", ""))
        if not _COMMAND_RE.fullmatch(name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description.strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        checked.append({"command": name, "description": description})
    return checked


def command_scope_key(params: Params) -> tuple[str, str]:
    """The (scope, language) key under which Telegram stores a command list."""
    scope = params.json("scope") or {"type": "default"}
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise bad_request("can't parse BotCommandScope")
    language = params.string("language_code")
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise bad_request("invalid language code specified")
    return scope_key(scope), language


def scope_key(scope: Mapping[str, Any]) -> str:
    """Canonical JSON for a BotCommandScope (chat ids as integers)."""
    normalized = dict(scope)
    for name in ("chat_id", "user_id"):
        value = normalized.get(name)
        if isinstance(value, str) and _INTEGER_RE.fullmatch(value):
            normalized[name] = int(value)
    return json.dumps(normalized, sort_keys=True, separators=(",", ":"))
