"""Everything the fake Bot API remembers: chats, the bot's messages, files, updates, calls."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fakebotapi.faults import migrated_error
from fakebotapi.validation import bad_request, forbidden, scope_key

JsonDict = dict[str, Any]
T = TypeVar("T")
CALLBACK_QUERY_TIMEOUT = 15.0  # seconds Telegram waits for answerCallbackQuery

# Telegram delivers these only when a bot asks for them in allowed_updates.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class Signal:
    """Wakes every coroutine waiting for "something changed"; cheap when nobody waits."""

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def notify(self) -> None:
        """Wake all current waiters."""
        if not self._waiters:
            return
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self, timeout: float) -> bool:
        """Wait for the next notify(); False on timeout."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                await waiter
            return True
        except TimeoutError:
            return False
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)


async def wait_for(
    check: Callable[[], T | None], signal: Signal, timeout: float, describe: Callable[[], str]
) -> T:
    """Re-run ``check`` each time ``signal`` fires until it returns a value or time runs out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if result is not None:
            return result
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError(describe())
        await signal.wait(remaining)


@dataclass(frozen=True)
class Button:
    """One inline keyboard button as a person sees it."""

    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class MessageVersion:
    """A former state of an edited message."""

    text: str
    entities: list[JsonDict]
    reply_markup: JsonDict | None
    edit_date: int | None


@dataclass
class BotMessage:
    """A message the bot sent, in its current state, with its edit history."""

    chat_id: int
    message_id: int
    date: int
    kind: str  # "text", "photo", "document", "sticker", ...
    text: str  # visible text, or the visible caption of a media message
    source: str  # text or caption exactly as the bot sent it
    parse_mode: str | None
    entities: list[JsonDict]
    reply_markup: JsonDict | None
    file_id: str | None = None
    file_name: str | None = None
    reply_to_message_id: int | None = None
    edit_date: int | None = None
    history: list[MessageVersion] = field(default_factory=list)
    deleted: bool = False

    @property
    def edited(self) -> bool:
        """Whether the message was edited since it was sent."""
        return bool(self.history)

    @property
    def photo_file_id(self) -> str | None:
        """File id of a photo message."""
        return self.file_id if self.kind == "photo" else None

    @property
    def document_file_id(self) -> str | None:
        """File id of a document message."""
        return self.file_id if self.kind == "document" else None

    @property
    def buttons(self) -> list[list[Button]]:
        """The inline keyboard, row by row (empty if none)."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [
            [Button(b["text"], b.get("callback_data"), b.get("url")) for b in row] for row in rows
        ]

    @property
    def callback_data(self) -> list[str]:
        """Every callback_data of the inline keyboard, in reading order."""
        return [b.callback_data for row in self.buttons for b in row if b.callback_data]

    def button(self, label: str) -> Button:
        """The first button whose text contains ``label``; AssertionError if none."""
        for row in self.buttons:
            for button in row:
                if label in button.text:
                    return button
        labels = [b.text for row in self.buttons for b in row]
        raise AssertionError(f"no button containing {label!r}; buttons: {labels}")

    def to_api(self, sender: JsonDict, chat: JsonDict) -> JsonDict:
        """The Message object Telegram returns for this message."""
        message: JsonDict = {
            "message_id": self.message_id,
            "from": sender,
            "chat": chat,
            "date": self.date,
        }
        text_field = "text" if self.kind == "text" else "caption"
        if self.text or self.kind == "text":
            message[text_field] = self.text
        if self.entities:
            message["entities" if self.kind == "text" else "caption_entities"] = self.entities
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            message["reply_markup"] = self.reply_markup
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        return message


@dataclass
class StoredFile:
    """An uploaded file kept in memory."""

    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str
    kind: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0

    def to_api(self) -> JsonDict:
        """The File object of getFile (file_path is relative, as Telegram sends it)."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass
class RecordedCall:
    """One request the bot made and what the sandbox answered."""

    method: str
    params: JsonDict
    files: dict[str, int]  # multipart field -> size in bytes
    at: float  # time.monotonic()
    ok: bool = True
    result: Any = None
    error_code: int | None = None
    description: str | None = None
    injected: bool = False  # the error came from an injected fault or flood control

    @property
    def chat_id(self) -> int | None:
        """The chat_id parameter as an int, if any."""
        value = self.params.get("chat_id")
        return value if isinstance(value, int) else None


@dataclass
class ChatRecord:
    """A chat the bot can write to, and what happened in it."""

    info: JsonDict
    next_message_id: int = 1
    messages: dict[int, BotMessage] = field(default_factory=dict)
    user_messages: dict[int, JsonDict] = field(default_factory=dict)
    # Append-only log of ("new" | "edit" | "delete", message_id): the waiting cursor indexes it.
    events: list[tuple[str, int]] = field(default_factory=list)
    blocked: bool = False
    migrated_to: int | None = None
    # The bot left (leaveChat) or was removed from a group, supergroup or channel.
    left: bool = False

    @property
    def chat_id(self) -> int:
        """The chat's id."""
        return int(self.info["id"])

    def new_message_id(self) -> int:
        """Message ids are per chat and shared by the people and the bot, like Telegram's."""
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def log(self, kind: str, message_id: int) -> None:
        """Append to the event log (waiters wake when the call is recorded)."""
        self.events.append((kind, message_id))


@dataclass
class WebhookState:
    """What setWebhook configured and how delivery is going."""

    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


class SandboxState:
    """The fake Bot API's memory; touched only from the event loop, so it needs no locks."""

    def __init__(self, bot_first_name: str, bot_username: str, auto_create_chats: bool) -> None:
        self.bot_id = 0
        self.bot_first_name = bot_first_name
        self.bot_username = bot_username
        self.auto_create_chats = auto_create_chats
        self.users: dict[int, JsonDict] = {}
        self.chats: dict[int, ChatRecord] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.updates: deque[JsonDict] = deque()
        self.next_update_id = 1
        self.highest_fetched_update_id = 0
        self.allowed_updates: frozenset[str] | None = None  # None: Telegram's default set
        self.update_signal = Signal()
        # Counts getUpdates calls: a long poll that sees a newer one was superseded (409).
        self.poll_generation = 0
        self.commands: dict[tuple[str, str], list[JsonDict]] = {}
        self.bot_texts: dict[tuple[str, str], str] = {}  # (field, language) -> text
        self.callback_queries: dict[str, JsonDict] = {}
        # Telegram refuses answerCallbackQuery for a press older than about 15 seconds. The
        # age is measured on this clock, which a test may replace to age presses without waiting.
        self.clock: Callable[[], float] = time.monotonic
        self.callback_query_timeout = CALLBACK_QUERY_TIMEOUT
        self.webhook = WebhookState()
        self.calls: list[RecordedCall] = []
        self.calls_by_method: dict[str, list[RecordedCall]] = {}
        self.changed = Signal()  # any call, update or answer
        self._counter = 0

    # -- identities ---------------------------------------------------------------------------

    @property
    def bot_user(self) -> JsonDict:
        """The User object of the bot (getMe and the "from" of its messages)."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def sequence(self) -> int:
        """A process-wide increasing number for ids."""
        self._counter += 1
        return self._counter

    def add_chat(self, info: JsonDict) -> ChatRecord:
        """Register a chat the bot may write to (or return the existing one)."""
        chat_id = int(info["id"])
        record = self.chats.get(chat_id)
        if record is None:
            record = self.chats[chat_id] = ChatRecord(info)
        return record

    def private_chat(self, user: JsonDict) -> ChatRecord:
        """The private chat with a person: its id is the person's id."""
        info = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if user.get(key):
                info[key] = user[key]
        return self.add_chat(info)

    def target_chat(self, chat_id: int, *, sending: bool = True) -> ChatRecord:
        """The chat a request addresses, or the error Telegram gives for it."""
        record = self.chats.get(chat_id)
        if record is None and self.auto_create_chats and chat_id > 0:
            record = self.private_chat({"id": chat_id, "first_name": f"User {chat_id}"})
        if record is None:
            raise bad_request("chat not found")
        if record.migrated_to is not None:
            raise migrated_error(record.migrated_to)
        if sending and record.blocked:
            raise forbidden("bot was blocked by the user")
        if record.left:
            raise forbidden(f"bot is not a member of the {record.info['type']} chat")
        return record

    def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> ChatRecord:
        """Turn a group into a supergroup: the old id now answers with the migration error."""
        old = self.chats.get(old_chat_id)
        info = dict(old.info) if old else {"id": old_chat_id, "title": "Group"}
        info.update(id=new_chat_id, type="supergroup")
        if old is not None:
            old.migrated_to = new_chat_id
        else:
            self.add_chat({"id": old_chat_id, "type": "group", "title": info["title"]})
            self.chats[old_chat_id].migrated_to = new_chat_id
        return self.add_chat(info)

    # -- the bot's messages -------------------------------------------------------------------

    def bot_message(self, chat_id: int, message_id: int) -> BotMessage | None:
        """A message the bot sent and did not delete."""
        record = self.chats.get(chat_id)
        message = record.messages.get(message_id) if record else None
        return None if message is None or message.deleted else message

    def add_bot_message(self, record: ChatRecord, message: BotMessage) -> None:
        """Store a message the bot just sent."""
        record.messages[message.message_id] = message
        record.log("new", message.message_id)

    def edit_bot_message(
        self,
        message: BotMessage,
        text: str,
        entities: list[JsonDict],
        reply_markup: JsonDict | None,
        source: str | None,
        parse_mode: str | None,
    ) -> None:
        """Apply an edit, keeping the former version."""
        message.history.append(
            MessageVersion(message.text, message.entities, message.reply_markup, message.edit_date)
        )
        message.text, message.entities, message.reply_markup = text, entities, reply_markup
        if source is not None:
            message.source, message.parse_mode = source, parse_mode
        message.edit_date = int(time.time())
        self.chats[message.chat_id].log("edit", message.message_id)

    # -- updates ------------------------------------------------------------------------------

    def add_update(self, payload: JsonDict) -> JsonDict:
        """Queue an update (an update_id is given unless present) and wake getUpdates."""
        update = dict(payload)
        if "update_id" in update:
            self.next_update_id = max(self.next_update_id, int(update["update_id"]) + 1)
        else:
            update["update_id"] = self.next_update_id
            self.next_update_id += 1
        self.updates.append(update)
        self.update_signal.notify()
        self.changed.notify()
        return update

    def confirm_updates(self, offset: int) -> None:
        """Forget updates below ``offset`` (negative: keep only the last -offset updates)."""
        if offset > 0:
            while self.updates and self.updates[0]["update_id"] < offset:
                self.updates.popleft()
        elif offset < 0:
            while len(self.updates) > -offset:
                self.updates.popleft()

    def _allowed(self, update: JsonDict) -> bool:
        kinds = [key for key in update if key != "update_id"]
        if self.allowed_updates is None:
            return not any(kind in OPT_IN_UPDATES for kind in kinds)
        return any(kind in self.allowed_updates for kind in kinds)

    def pending_updates(self, limit: int) -> list[JsonDict]:
        """Up to ``limit`` queued updates of allowed types; others are dropped like Telegram."""
        if not all(self._allowed(update) for update in self.updates):
            self.updates = deque(u for u in self.updates if self._allowed(u))
        batch = [self.updates[i] for i in range(min(limit, len(self.updates)))]
        if batch:
            self.highest_fetched_update_id = max(
                self.highest_fetched_update_id, int(batch[-1]["update_id"])
            )
            self.changed.notify()
        return batch

    # -- files --------------------------------------------------------------------------------

    def store_file(
        self,
        data: bytes,
        kind: str,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int = 0,
        height: int = 0,
    ) -> StoredFile:
        """Keep an uploaded file and give it Telegram-like identifiers."""
        number = self.sequence()
        extension = (file_name or "").rpartition(".")[2] if file_name and "." in file_name else ""
        if not extension:
            extension = "jpg" if kind == "photo" else ("webp" if kind == "sticker" else "bin")
        stored = StoredFile(
            file_id=f"SBX{kind[:3].upper()}{number:06d}-{self.bot_id}",
            file_unique_id=f"U{number:06d}",
            data=data,
            file_path=f"{kind}s/file_{number}.{extension}",
            kind=kind,
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    # -- calls --------------------------------------------------------------------------------

    def record_call(self, call: RecordedCall) -> None:
        """Remember a finished request and wake waiters."""
        self.calls.append(call)
        self.calls_by_method.setdefault(call.method, []).append(call)
        self.changed.notify()

    def visible_commands(self, chat_id: int, language_code: str = "") -> list[JsonDict]:
        """The command menu a person sees in their private chat, resolved like Telegram."""
        scopes: list[JsonDict] = [
            {"type": "chat", "chat_id": chat_id},
            {"type": "all_private_chats"},
            {"type": "default"},
        ]
        for scope in scopes:
            for language in (language_code, "") if language_code else ("",):
                commands = self.commands.get((scope_key(scope), language))
                if commands:
                    return commands
        return []
