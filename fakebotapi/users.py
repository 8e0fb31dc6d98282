"""People talking to the bot: each action becomes the update Telegram would deliver."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable
from re import Pattern
from typing import TYPE_CHECKING, Any

from fakebotapi.formatting import detect_entities
from fakebotapi.media import image_size, media_payload
from fakebotapi.state import BotMessage, ChatRecord, SandboxState

if TYPE_CHECKING:
    from fakebotapi.server import FakeBotApi

JsonDict = dict[str, Any]
MessageMatch = str | Pattern[str] | Callable[[BotMessage], bool] | None

# A real 4x3 JPEG, so code that opens the image (Pillow, fpdf2) works on it.
FAKE_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4"
    "UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2Nj"
    "Y2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAADAAQDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcI"
    "CQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRol"
    "JicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ip"
    "qrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAA"
    "AAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLR"
    "ChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaX"
    "mJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEA"
    "PwDcooornNj/2Q=="
)


def message_matcher(match: MessageMatch) -> Callable[[BotMessage], bool]:
    """A predicate from a substring, a compiled regex, a callable or None (anything)."""
    if match is None:
        return lambda message: True
    if isinstance(match, str):
        return lambda message: match in message.text
    if isinstance(match, Pattern):
        return lambda message: match.search(message.text) is not None
    return match


class ChatReader:
    """Reads one chat the way a person scrolls it: what the bot wrote since the last action.

    FakeUser (a private chat) and FakeGroup (a group or channel) share it; each says which
    chat it reads (``chat``) and how a failure names it (``_where``).
    """

    _where = "chat"

    def __init__(self, server: FakeBotApi, info: JsonDict) -> None:
        self.server = server
        self.info = info
        self.id: int = int(info["id"])
        # Position in the chat's event log after the last action here: expect() reads on.
        self.mark = 0

    @property
    def _state(self) -> SandboxState:
        return self.server.state

    @property
    def chat(self) -> ChatRecord:
        return self._state.chats[self.id]

    async def expect(self, match: MessageMatch = None, timeout: float = 10.0) -> BotMessage:
        """The next message or edit after the last action here that matches.

        Reads on like a person scrolling: a later ``expect`` looks after the last match.
        """
        message, position = await self.server.wait_for_message_at(
            self.id, match, after=self.mark, timeout=timeout
        )
        self.mark = position + 1
        return message

    async def expect_nothing(self, settle: float = 0.3) -> None:
        """Assert that the bot sends or edits nothing here once it has fetched its updates.

        Proving a negative needs a settling time; keep it short and use it sparingly.
        """
        await self.server.wait_until_fetched()
        start = len(self.chat.events)
        await asyncio.sleep(settle)
        new = self.chat.events[start:]
        if new:
            texts = [self.chat.messages[message_id].text[:80] for _, message_id in new]
            raise AssertionError(f"the bot wrote {self._where} {self.id}: {texts}")


class FakeUser(ChatReader):
    """A person with a private chat with the bot. Create it with ``server.user(...)``."""

    _where = "to user"

    @property
    def chat(self) -> ChatRecord:
        """This person's private chat."""
        return self._state.private_chat(self.info)

    @property
    def chat_id(self) -> int:
        """Private chat ids equal user ids."""
        return self.id

    @property
    def messages(self) -> list[BotMessage]:
        """What the bot sent this person and did not delete, oldest first."""
        return [m for m in self.chat.messages.values() if not m.deleted]

    @property
    def last_message(self) -> BotMessage | None:
        """The latest message the bot sent this person that is still there."""
        messages = self.messages
        return messages[-1] if messages else None

    def _new_message(self, chat_id: int | None, **content: Any) -> JsonDict:
        record = self._state.chats[chat_id] if chat_id is not None else self.chat
        message: JsonDict = {
            "message_id": record.new_message_id(),
            "from": self.info,
            "chat": record.info,
            "date": int(time.time()),
            **content,
        }
        record.user_messages[message["message_id"]] = message
        self.mark = len(self.chat.events)
        self._state.add_update({"message": message})
        return message

    async def send(
        self, text: str, *, chat_id: int | None = None, entities: list[JsonDict] | None = None
    ) -> JsonDict:
        """Type and send ``text`` (commands, links and mentions get entities like Telegram)."""
        found = detect_entities(text) if entities is None else entities
        content: JsonDict = {"text": text}
        if found:
            content["entities"] = found
        return self._new_message(chat_id, **content)

    async def send_photo(self, caption: str | None = None, data: bytes = FAKE_JPEG) -> JsonDict:
        """Send a photo (a real JPEG or PNG stored on the server, fetchable through getFile)."""
        width, height = image_size(data)
        mime_type = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
        stored = self._state.store_file(data, "photo", None, mime_type, width, height)
        content: JsonDict = {"photo": media_payload(stored)}
        if caption:
            content["caption"] = caption
        return self._new_message(None, **content)

    async def send_document(
        self,
        data: bytes = b"%PDF-1.4\n%sandbox\n",
        file_name: str = "file.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
    ) -> JsonDict:
        """Send a file as a document."""
        stored = self._state.store_file(data, "document", file_name, mime_type)
        content: JsonDict = {"document": media_payload(stored)}
        if caption:
            content["caption"] = caption
        return self._new_message(None, **content)

    async def send_sticker(self) -> JsonDict:
        """Send a sticker."""
        stored = self._state.store_file(b"RIFF\x00\x00\x00\x00WEBP", "sticker", None, "image/webp")
        return self._new_message(None, sticker=media_payload(stored))

    async def edit(self, message_id: int, text: str) -> JsonDict:
        """Edit one of this person's messages (the bot gets an edited_message update)."""
        original = self.chat.user_messages.get(message_id)
        if original is None:
            raise AssertionError(f"user {self.id} has no message {message_id} to edit")
        edited = {**original, "text": text, "edit_date": int(time.time())}
        edited.pop("entities", None)
        if found := detect_entities(text):
            edited["entities"] = found
        self.chat.user_messages[message_id] = edited
        self.mark = len(self.chat.events)
        self._state.add_update({"edited_message": edited})
        return edited

    async def press(
        self,
        message: BotMessage | int,
        callback_data: str,
        *,
        age: float = 0.0,
        inaccessible: bool = False,
    ) -> str:
        """Press a button: a callback_query with ``callback_data`` as given (forgery allowed).

        ``age`` seconds back-dates the press, as when a slow phone or a backlog delivers it late:
        past the sandbox's ``callback_query_timeout`` the bot can no longer answer it.
        ``inaccessible`` sends the message as an InaccessibleMessage (only its chat, its id and
        a date of 0), as Telegram does for a button under a message too old to show the bot.
        Returns the callback query id; see ``FakeBotApi.wait_for_callback_answer``.
        """
        message_id = message if isinstance(message, int) else message.message_id
        record = self.chat
        bot_message = record.messages.get(message_id)
        if bot_message is None:
            raise AssertionError(f"the bot sent no message {message_id} to user {self.id}")
        query_id = str(self._state.sequence() * 1_000_003 + self.id)
        self._state.callback_queries[query_id] = {
            "message_id": message_id,
            "answer": None,
            "pressed_at": self._state.clock() - age,
        }
        self.mark = len(record.events)
        self._state.add_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.info,
                    "message": (
                        {"chat": record.info, "message_id": message_id, "date": 0}
                        if inaccessible
                        else bot_message.to_api(self._state.bot_user, record.info)
                    ),
                    "chat_instance": str(abs(hash(("sandbox", record.chat_id)))),
                    "data": callback_data,
                }
            }
        )
        return query_id

    async def click(
        self, message: BotMessage, label: str, *, age: float = 0.0, inaccessible: bool = False
    ) -> str:
        """Press the button whose text contains ``label`` (its real callback_data)."""
        data = message.button(label).callback_data
        if data is None:
            raise AssertionError(f"button {label!r} has no callback_data")
        return await self.press(message, data, age=age, inaccessible=inaccessible)

    def _member_update(self, old: str, new: str) -> None:
        bot = self._state.bot_user
        new_member: JsonDict = {"status": new, "user": bot}
        if new == "kicked":
            new_member["until_date"] = 0
        self._state.add_update(
            {
                "my_chat_member": {
                    "chat": self.chat.info,
                    "from": self.info,
                    "date": int(time.time()),
                    "old_chat_member": {"status": old, "user": bot}
                    | ({"until_date": 0} if old == "kicked" else {}),
                    "new_chat_member": new_member,
                }
            }
        )

    async def block(self) -> None:
        """Block the bot: sends now answer 403, and the bot gets my_chat_member."""
        self.chat.blocked = True
        self._member_update("member", "kicked")

    async def unblock(self) -> None:
        """Unblock the bot (a real person then presses Start: model it with send("/start"))."""
        self.chat.blocked = False
        self._member_update("kicked", "member")
