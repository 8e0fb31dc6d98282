"""Bot API methods for files: sending photos and documents, getFile."""

from __future__ import annotations

import struct
from typing import Any

from fakebotapi.methods import (
    METHODS,
    CallContext,
    JsonDict,
    Method,
    answer_with,
    method,
    now,
    reply_to,
)
from fakebotapi.state import BotMessage, StoredFile
from fakebotapi.validation import bad_request, caption_text, reply_markup

# -- files ----------------------------------------------------------------------------------


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG or JPEG, else a plausible default."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    pos = 2
    while data.startswith(b"\xff\xd8") and pos + 9 < len(data):
        if data[pos] != 0xFF:
            break
        marker, length = data[pos + 1], int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return int(width), int(height)
        pos += 2 + length
    return 640, 480


def _input_file(ctx: CallContext, kind: str) -> StoredFile:
    value = ctx.params.raw(kind)
    upload = ctx.files.get(kind)
    if isinstance(value, str) and value.startswith("attach://"):
        upload = ctx.files.get(value.removeprefix("attach://"))
    if upload is not None:
        width, height = image_size(upload.body) if kind == "photo" else (0, 0)
        return ctx.state.store_file(
            upload.body, kind, upload.filename, upload.content_type, width, height
        )
    if not isinstance(value, str) or not value:
        raise bad_request(f"there is no {kind} in the request")
    if value in ctx.state.files:
        return ctx.state.files[value]
    if value.lower().startswith(("http://", "https://")):
        # Telegram would download the URL; the sandbox never leaves 127.0.0.1.
        return ctx.state.store_file(value.encode(), kind, value.rpartition("/")[2] or None)
    raise bad_request("wrong file identifier/HTTP URL specified")


def media_payload(stored: StoredFile) -> Any:
    """The object a message carries for a file (PhotoSize list for photos)."""
    base = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
    }
    if stored.kind == "photo":
        return [{**base, "width": stored.width, "height": stored.height}]
    if stored.kind == "sticker":
        return {
            **base,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "🙂",
        }
    extra = {"file_name": stored.file_name, "mime_type": stored.mime_type}
    return {**base, **{key: value for key, value in extra.items() if value}}


def _media_sender(kind: str) -> Method:
    async def send_media(ctx: CallContext) -> JsonDict:
        record = ctx.state.target_chat(ctx.params.chat_id())
        formatted = caption_text(ctx.params)
        markup = reply_markup(ctx.params)
        replied = reply_to(ctx, record)
        stored = _input_file(ctx, kind)
        message = BotMessage(
            chat_id=record.chat_id,
            message_id=record.new_message_id(),
            date=now(),
            kind=kind,
            text=formatted.text,
            source=ctx.params.string("caption"),
            parse_mode=ctx.params.string("parse_mode") or None,
            entities=formatted.entities,
            reply_markup=markup,
            file_id=stored.file_id,
            file_name=stored.file_name,
            reply_to_message_id=replied,
        )
        ctx.state.add_bot_message(record, message)
        answer = answer_with(ctx, message)
        answer[kind] = media_payload(stored)
        return answer

    send_media.__doc__ = f"Send a {kind} (upload, known file_id or URL)."
    return send_media


for _kind in ("photo", "document", "sticker", "video", "audio", "voice", "animation"):
    METHODS["send" + _kind.capitalize()] = _media_sender(_kind)


@method("getFile")
async def get_file(ctx: CallContext) -> JsonDict:
    """File info with a relative file_path for the download URL."""
    stored = ctx.state.files.get(ctx.params.string("file_id"))
    if stored is None:
        raise bad_request("invalid file_id")
    return stored.to_api()
