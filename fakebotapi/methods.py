"""The Bot API methods the sandbox emulates, each answering like Telegram would."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fakebotapi.formatting import FormattedText
from fakebotapi.state import BotMessage, ChatRecord, SandboxState
from fakebotapi.validation import (
    MAX_CALLBACK_ANSWER_LENGTH,
    ApiError,
    Params,
    bad_request,
    caption_text,
    message_text,
    reply_markup,
)

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    body: bytes


@dataclass
class CallContext:
    """What a method implementation gets: the state, the parameters, the uploaded files."""

    state: SandboxState
    params: Params
    files: dict[str, Upload] = field(default_factory=dict)
    # Set when the client hung up or the server is stopping: long polls give up at once.
    cancelled: Callable[[], bool] = lambda: False


Method = Callable[[CallContext], Awaitable[Any]]
METHODS: dict[str, Method] = {}


def method(name: str) -> Callable[[Method], Method]:
    """Register a Bot API method implementation under its official name."""

    def register(function: Method) -> Method:
        METHODS[name] = function
        return function

    return register


def now() -> int:
    return int(time.time())


# -- identity, polling, webhooks ------------------------------------------------------------


@method("getMe")
async def get_me(ctx: CallContext) -> JsonDict:
    """The bot's own User."""
    return ctx.state.bot_user


@method("getUpdates")
async def get_updates(ctx: CallContext) -> list[JsonDict]:
    """Long polling: confirm below offset, then wait up to timeout for something to send."""
    state, params = ctx.state, ctx.params
    if state.webhook.url:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    allowed = params.json("allowed_updates")
    if isinstance(allowed, list):
        state.allowed_updates = frozenset(str(kind) for kind in allowed) or None
    # As Telegram: a second getUpdates while one is waiting ends the waiting one with 409.
    state.poll_generation += 1
    generation = state.poll_generation
    state.update_signal.notify()
    state.confirm_updates(params.integer("offset", 0) or 0)
    limit = min(max(params.integer("limit", 100) or 100, 1), 100)
    timeout = float(max(params.integer("timeout", 0) or 0, 0))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if generation != state.poll_generation and not ctx.cancelled():
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        batch = state.pending_updates(limit)
        remaining = deadline - loop.time()
        if batch or remaining <= 0 or ctx.cancelled():
            return batch
        await state.update_signal.wait(remaining)


@method("setWebhook")
async def set_webhook(ctx: CallContext) -> bool:
    """Store the webhook; the server pushes updates to it (plain http allowed for local use)."""
    state, params = ctx.state, ctx.params
    url = params.string("url")
    if url and not url.lower().startswith(("https://", "http://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.string("secret_token") or None
    if secret is not None and not (
        1 <= len(secret) <= 256
        and secret.replace("_", "").replace("-", "").isalnum()
        and secret.isascii()
    ):
        raise bad_request("secret token contains unallowed characters")
    if params.boolean("drop_pending_updates"):
        state.updates.clear()
    allowed = params.json("allowed_updates")
    if isinstance(allowed, list):
        state.allowed_updates = frozenset(str(kind) for kind in allowed) or None
    state.webhook.url = url
    state.webhook.secret_token = secret
    state.webhook.max_connections = params.integer("max_connections", 40) or 40
    state.update_signal.notify()
    return True


@method("deleteWebhook")
async def delete_webhook(ctx: CallContext) -> bool:
    """Switch back to getUpdates."""
    if ctx.params.boolean("drop_pending_updates"):
        ctx.state.updates.clear()
    ctx.state.webhook.url = ""
    ctx.state.webhook.secret_token = None
    return True


@method("getWebhookInfo")
async def get_webhook_info(ctx: CallContext) -> JsonDict:
    """WebhookInfo, with the pending count and the last delivery error."""
    webhook = ctx.state.webhook
    info: JsonDict = {
        "url": webhook.url,
        "has_custom_certificate": False,
        "pending_update_count": len(ctx.state.updates),
    }
    if webhook.url:
        info["max_connections"] = webhook.max_connections
        if ctx.state.allowed_updates is not None:
            info["allowed_updates"] = sorted(ctx.state.allowed_updates)
    if webhook.last_error_date is not None:
        info["last_error_date"] = webhook.last_error_date
        info["last_error_message"] = webhook.last_error_message
    return info


# -- messages -------------------------------------------------------------------------------


def reply_to(ctx: CallContext, record: ChatRecord) -> int | None:
    reply = ctx.params.json("reply_parameters")
    message_id = ctx.params.integer("reply_to_message_id")
    allow_missing = ctx.params.boolean("allow_sending_without_reply")
    if isinstance(reply, dict):
        message_id = reply.get("message_id")
        allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
    if message_id is None:
        return None
    exists = message_id in record.user_messages or (
        message_id in record.messages and not record.messages[message_id].deleted
    )
    if not exists:
        if allow_missing:
            return None
        raise bad_request("message to be replied not found")
    return int(message_id)


def answer_with(ctx: CallContext, message: BotMessage) -> JsonDict:
    record = ctx.state.chats[message.chat_id]
    return message.to_api(ctx.state.bot_user, record.info)


@method("sendMessage")
async def send_message(ctx: CallContext) -> JsonDict:
    """Send a text message after Telegram's checks."""
    record = ctx.state.target_chat(ctx.params.chat_id())
    formatted = message_text(ctx.params)
    markup = reply_markup(ctx.params)
    replied = reply_to(ctx, record)
    message = BotMessage(
        chat_id=record.chat_id,
        message_id=record.new_message_id(),
        date=now(),
        kind="text",
        text=formatted.text,
        source=ctx.params.string("text"),
        parse_mode=ctx.params.string("parse_mode") or None,
        entities=formatted.entities,
        reply_markup=markup,
        reply_to_message_id=replied,
    )
    ctx.state.add_bot_message(record, message)
    return answer_with(ctx, message)


def _message_to_edit(ctx: CallContext) -> BotMessage:
    if "inline_message_id" in ctx.params:
        raise bad_request("MESSAGE_ID_INVALID")
    record = ctx.state.target_chat(ctx.params.chat_id())
    message_id = ctx.params.integer("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    message = ctx.state.bot_message(record.chat_id, message_id)
    if message is None:
        if message_id in record.user_messages:
            raise bad_request("message can't be edited")
        raise bad_request("message to edit not found")
    return message


_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)


@method("editMessageText")
async def edit_message_text(ctx: CallContext) -> JsonDict:
    """Edit a text message; omitting reply_markup removes the keyboard, as on Telegram."""
    message = _message_to_edit(ctx)
    if message.kind != "text":
        raise bad_request("there is no text in the message to edit")
    return _edit_visible_text(ctx, message, message_text(ctx.params), "text")


@method("editMessageCaption")
async def edit_message_caption(ctx: CallContext) -> JsonDict:
    """Edit the caption of a media message."""
    message = _message_to_edit(ctx)
    if message.kind == "text":
        raise bad_request("there is no caption in the message to edit")
    return _edit_visible_text(ctx, message, caption_text(ctx.params), "caption")


def _edit_visible_text(
    ctx: CallContext, message: BotMessage, formatted: FormattedText, field: str
) -> JsonDict:
    """Apply a text or caption edit, refusing one that changes nothing (as Telegram does)."""
    markup = reply_markup(ctx.params)
    if (formatted.text, formatted.entities, markup) == (
        message.text,
        message.entities,
        message.reply_markup,
    ):
        raise bad_request(_NOT_MODIFIED)
    source, mode = ctx.params.string(field), ctx.params.string("parse_mode") or None
    ctx.state.edit_bot_message(message, formatted.text, formatted.entities, markup, source, mode)
    return answer_with(ctx, message)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(ctx: CallContext) -> JsonDict:
    """Replace or remove the inline keyboard."""
    message = _message_to_edit(ctx)
    markup = reply_markup(ctx.params)
    if markup == message.reply_markup:
        raise bad_request(_NOT_MODIFIED)
    ctx.state.edit_bot_message(message, message.text, message.entities, markup, None, None)
    return answer_with(ctx, message)


def _delete(ctx: CallContext, record: ChatRecord, message_id: int) -> bool:
    message = ctx.state.bot_message(record.chat_id, message_id)
    if message is not None:
        message.deleted = True
        record.log("delete", message_id)
        return True
    return record.user_messages.pop(message_id, None) is not None


@method("deleteMessage")
async def delete_message(ctx: CallContext) -> bool:
    """Delete one message (the bot's, or a person's in their private chat)."""
    record = ctx.state.target_chat(ctx.params.chat_id(), sending=False)
    message_id = ctx.params.integer("message_id")
    if message_id is None or not _delete(ctx, record, message_id):
        raise bad_request("message to delete not found")
    return True


@method("deleteMessages")
async def delete_messages(ctx: CallContext) -> bool:
    """Delete several messages; missing ones are skipped like Telegram does."""
    record = ctx.state.target_chat(ctx.params.chat_id(), sending=False)
    message_ids = ctx.params.json("message_ids")
    if not isinstance(message_ids, list) or not 1 <= len(message_ids) <= 100:
        raise bad_request("message_ids is empty")
    for message_id in message_ids:
        _delete(ctx, record, int(message_id))
    return True


@method("answerCallbackQuery")
async def answer_callback_query(ctx: CallContext) -> bool:
    """Answer a button press once, in time; unknown, answered or old ids are "too old"."""
    query = ctx.state.callback_queries.get(ctx.params.string("callback_query_id"))
    if (
        query is None
        or query.get("answer") is not None
        or ctx.state.clock() - query.get("pressed_at", ctx.state.clock())
        > ctx.state.callback_query_timeout
    ):
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = ctx.params.string("text")
    if len(text) > MAX_CALLBACK_ANSWER_LENGTH:
        raise bad_request("MESSAGE_TOO_LONG")
    query["answer"] = {
        "text": text or None,
        "show_alert": ctx.params.boolean("show_alert"),
        "url": ctx.params.string("url") or None,
        "cache_time": ctx.params.integer("cache_time", 0),
    }
    return True


@method("leaveChat")
async def leave_chat(ctx: CallContext) -> bool:
    """Leave a group, supergroup or channel; the bot then gets its own my_chat_member "left"."""
    record = ctx.state.target_chat(ctx.params.chat_id(), sending=False)
    if record.info["type"] == "private":
        raise bad_request("chat member status can't be changed in private chats")
    record.left = True
    bot = ctx.state.bot_user
    ctx.state.add_update(
        {
            "my_chat_member": {
                "chat": record.info,
                "from": bot,
                "date": now(),
                "old_chat_member": {"status": "member", "user": bot},
                "new_chat_member": {"status": "left", "user": bot},
            }
        }
    )
    return True


@method("sendChatAction")
async def send_chat_action(ctx: CallContext) -> bool:
    """ "typing…" and friends: only the chat checks matter."""
    ctx.state.target_chat(ctx.params.chat_id())
    return True


def canonical_method(name: str) -> str | None:
    """The official spelling of a method name: Telegram treats them case-insensitively."""
    if len(_CANONICAL_NAMES) != len(METHODS):
        _CANONICAL_NAMES.clear()
        _CANONICAL_NAMES.update({known.lower(): known for known in METHODS})
    return _CANONICAL_NAMES.get(name.lower())


_CANONICAL_NAMES: dict[str, str] = {}


def is_rate_limited(method_name: str) -> bool:
    """Whether flood control counts this method (what sends a message)."""
    return (method_name.startswith("send") and method_name != "sendChatAction") or (
        method_name in ("copyMessage", "forwardMessage")
    )
