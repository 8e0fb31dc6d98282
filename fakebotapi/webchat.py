"""A web chat over the fake Bot API: a Telegram-like page, one pane per persona.

Any bot's demo can serve it next to a running ``FakeBotApi`` (see ``make_web_app``).
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tornado.escape
import tornado.web

from fakebotapi.server import FakeBotApi
from fakebotapi.state import BotMessage

STATIC_DIR = Path(__file__).resolve().parent / "static"
JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Persona:
    """Someone the visitor can act as."""

    user_id: int
    name: str
    role: str
    language: str


def chat_view(api: FakeBotApi, persona: Persona) -> list[JsonDict]:
    """Everything in one persona's chat, oldest first: what they sent and what the bot did."""
    record = api.state.chats.get(persona.user_id)
    if record is None:
        return []
    items: list[tuple[int, JsonDict]] = []
    for message_id, sent in record.user_messages.items():
        items.append((message_id, _from_person(sent)))
    for message_id, message in record.messages.items():
        if not message.deleted:
            items.append((message_id, _from_bot(message)))
    return [view for _, view in sorted(items, key=lambda item: item[0])]


def _from_person(message: JsonDict) -> JsonDict:
    kind = "photo" if "photo" in message else "document" if "document" in message else "text"
    file_id = None
    if kind == "photo" and message["photo"]:
        file_id = message["photo"][-1]["file_id"]  # the largest size, as Telegram orders them
    elif kind == "document":
        file_id = message["document"]["file_id"]
    return {
        "id": message["message_id"],
        "from": "person",
        "kind": kind,
        "text": message.get("text") or message.get("caption") or "",
        "entities": [],
        "buttons": [],
        "file_id": file_id,
    }


def sample_photo(width: int = 320, height: int = 240) -> bytes:
    """A real PNG photo (a sky over hills) for the page's "Photo" button; no imaging library."""
    rows = bytearray()
    sun_x, sun_y, sun_r = width * 0.75, height * 0.28, height * 0.11
    for y in range(height):
        rows.append(0)  # filter type: none
        for x in range(width):
            hill = height * (0.68 + 0.08 * math.sin(x / width * 2 * math.pi * 1.5))
            if y > hill:
                shade = int(40 * (y - hill) / height)
                rows += bytes((60 + shade, 150 - shade, 70))
            elif (x - sun_x) ** 2 + (y - sun_y) ** 2 < sun_r**2:
                rows += bytes((255, 214, 90))
            else:
                rows += bytes((120 + 80 * y // height, 170 + 60 * y // height, 235))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def _from_bot(message: BotMessage) -> JsonDict:
    return {
        "id": message.message_id,
        "from": "bot",
        "kind": message.kind,
        "text": message.text,
        "entities": message.entities,
        "buttons": [
            [{"text": b.text, "data": b.callback_data} for b in row] for row in message.buttons
        ],
        "file_id": message.file_id,
        "file_name": message.file_name,
        "edited": message.edited,
    }


class _Handler(tornado.web.RequestHandler):
    def initialize(self, api: FakeBotApi, personas: list[Persona], answer_wait: float) -> None:
        self.api = api
        self.personas = {persona.user_id: persona for persona in personas}
        self.answer_wait = answer_wait

    def send_json(self, body: object, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body, ensure_ascii=False))

    def body(self) -> JsonDict:
        try:
            value = json.loads(self.request.body or b"{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def persona(self, body: JsonDict) -> Persona | None:
        user_id = body.get("persona")
        return self.personas.get(user_id) if isinstance(user_id, int) else None

    def log_exception(self, *args: Any) -> None:  # never log what people typed
        super().log_exception(*args)


class StateHandler(_Handler):
    """GET /demo/api/state?since=N: every pane, or {"unchanged": true} when nothing moved."""

    def get(self) -> None:
        version = sum(
            len(record.events) + len(record.user_messages)
            for record in self.api.state.chats.values()
        )
        since = self.get_query_argument("since", "-1")
        if since.lstrip("-").isdigit() and int(since) == version:
            self.send_json({"unchanged": True, "version": version})
            return
        self.send_json(
            {
                "version": version,
                "personas": [
                    {**persona.__dict__, "messages": chat_view(self.api, persona)}
                    for persona in self.personas.values()
                ],
            }
        )


class SendHandler(_Handler):
    """POST /demo/api/send {persona, text}: the persona types and sends a message."""

    async def post(self) -> None:
        body = self.body()
        persona, text = self.persona(body), body.get("text")
        if persona is None or not isinstance(text, str) or not text.strip():
            self.send_json({"ok": False, "error": "persona and text needed"}, 400)
            return
        await self.api.user(persona.user_id).send(text[:4096])
        self.send_json({"ok": True})


class PressHandler(_Handler):
    """POST /demo/api/press {persona, message_id, data}: the persona presses a button.

    Answers {"ok": true, "notice": {"text", "show_alert"} or null}: the pop-up the bot's
    answerCallbackQuery asked for, as a phone would show it (waited for a few seconds).
    """

    async def post(self) -> None:
        body = self.body()
        persona, message_id, data = self.persona(body), body.get("message_id"), body.get("data")
        record = self.api.state.chats.get(persona.user_id) if persona else None
        if (
            persona is None
            or record is None
            or not isinstance(message_id, int)
            or message_id not in record.messages
            or not isinstance(data, str)
        ):
            self.send_json({"ok": False, "error": "no such button"}, 400)
            return
        query_id = await self.api.user(persona.user_id).press(message_id, data)
        notice = None
        try:
            answer = await self.api.wait_for_callback_answer(query_id, timeout=self.answer_wait)
        except TimeoutError:
            answer = {}
        if answer.get("text"):
            notice = {"text": answer["text"], "show_alert": bool(answer.get("show_alert"))}
        self.send_json({"ok": True, "notice": notice})


class PhotoHandler(_Handler):
    """POST /demo/api/photo {persona}: the persona sends a photo (a 320x240 PNG)."""

    async def post(self) -> None:
        persona = self.persona(self.body())
        if persona is None:
            self.send_json({"ok": False, "error": "persona needed"}, 400)
            return
        await self.api.user(persona.user_id).send_photo(data=SAMPLE_PHOTO)
        self.send_json({"ok": True})


class FileHandler(_Handler):
    """GET /demo/files/<file_id>: a photo or document the bot or a persona sent."""

    def get(self, file_id: str) -> None:
        stored = self.api.state.files.get(file_id)
        if stored is None:
            self.send_error(404)
            return
        self.set_header("Content-Type", stored.mime_type or "application/octet-stream")
        if stored.kind == "document":
            name = (stored.file_name or "file").replace('"', "")
            self.set_header("Content-Disposition", f'attachment; filename="{name}"')
        self.finish(stored.data)


class PageHandler(tornado.web.RequestHandler):
    def initialize(self, title: str, intro: str) -> None:
        self.title, self.intro = title, intro

    def get(self) -> None:
        page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
        page = page.replace("{{title}}", tornado.escape.xhtml_escape(self.title))
        page = page.replace("{{intro}}", tornado.escape.xhtml_escape(self.intro))
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(page)


SAMPLE_PHOTO = sample_photo()


def make_web_app(
    api: FakeBotApi,
    personas: list[Persona],
    *,
    title: str = "Bot demo",
    intro: str = "A bot talking to a local stand-in for Telegram.",
    answer_wait: float = 3.0,
) -> tornado.web.Application:
    """The page, its script and style, and the JSON API over the sandbox.

    ``title`` and ``intro`` head the page; ``answer_wait`` is how long a button press waits
    for the bot's answerCallbackQuery before the page shows the chat without a notice.
    """
    context = {"api": api, "personas": personas, "answer_wait": answer_wait}
    return tornado.web.Application(
        [
            (r"/", PageHandler, {"title": title, "intro": intro}),
            (r"/demo/api/state", StateHandler, context),
            (r"/demo/api/send", SendHandler, context),
            (r"/demo/api/press", PressHandler, context),
            (r"/demo/api/photo", PhotoHandler, context),
            (r"/demo/files/([A-Za-z0-9_-]+)", FileHandler, context),
            (r"/static/(.*)", tornado.web.StaticFileHandler, {"path": str(STATIC_DIR)}),
        ],
        log_function=lambda handler: None,  # request lines would show file ids and paths
    )
