"""Groups, supergroups and channels: what people do there becomes the update Telegram delivers.

As the Bot API documents it: group chat ids are negative; a message an anonymous group admin
sends comes ``from`` Telegram's shared GroupAnonymousBot user with ``sender_chat`` set to the
group; a channel post is a ``channel_post`` update whose ``sender_chat`` is the channel; a button
press always names the real person who pressed it; adding the bot gives it ``my_chat_member``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from fakebotapi.formatting import detect_entities
from fakebotapi.state import BotMessage
from fakebotapi.users import ChatReader

if TYPE_CHECKING:
    from fakebotapi.users import FakeUser

JsonDict = dict[str, Any]

# The one user every anonymous group admin's messages come from, in every group.
GROUP_ANONYMOUS_BOT: JsonDict = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}


class FakeGroup(ChatReader):
    """A group, supergroup or channel with the bot in it. Create it with ``server.group(...)``.

    ``group.send(member, "/whoami")`` is "member sends /whoami in the group";
    ``group.expect()`` reads what the bot wrote there since the last action in it.
    """

    _where = "in chat"

    @property
    def is_channel(self) -> bool:
        return bool(self.info["type"] == "channel")

    @property
    def messages(self) -> list[BotMessage]:
        """What the bot sent here and did not delete, oldest first."""
        return [m for m in self.chat.messages.values() if not m.deleted]

    @property
    def bot_left(self) -> bool:
        """Whether the bot left (leaveChat) or was removed."""
        return self.chat.left

    def _deliver(self, kind: str, **content: Any) -> JsonDict:
        message: JsonDict = {
            "message_id": self.chat.new_message_id(),
            "chat": self.info,
            "date": int(time.time()),
            **content,
        }
        self.chat.user_messages[message["message_id"]] = message
        self.mark = len(self.chat.events)
        self._state.add_update({kind: message})
        return message

    @staticmethod
    def _text(text: str) -> JsonDict:
        found = detect_entities(text)
        return {"text": text, "entities": found} if found else {"text": text}

    async def send(self, person: FakeUser, text: str) -> JsonDict:
        """``person`` sends ``text`` in this group (commands get entities like Telegram)."""
        if self.is_channel:
            raise AssertionError("people do not send in a channel; use post()")
        return self._deliver("message", **{"from": person.info}, **self._text(text))

    async def send_as_anonymous_admin(self, text: str) -> JsonDict:
        """An admin who posts anonymously sends ``text``: from GroupAnonymousBot, as the group."""
        if self.is_channel:
            raise AssertionError("a channel has no anonymous admins; use post()")
        sender = {"from": GROUP_ANONYMOUS_BOT, "sender_chat": self.info}
        return self._deliver("message", **sender, **self._text(text))

    async def post(self, text: str) -> JsonDict:
        """A post in the channel: a channel_post update signed by the channel itself."""
        if not self.is_channel:
            raise AssertionError(f"chat {self.id} is not a channel")
        return self._deliver("channel_post", sender_chat=self.info, **self._text(text))

    async def press(self, person: FakeUser, message: BotMessage | int, callback_data: str) -> str:
        """``person`` presses a button under the bot's message here (forged data allowed)."""
        message_id = message if isinstance(message, int) else message.message_id
        bot_message = self.chat.messages.get(message_id)
        if bot_message is None:
            raise AssertionError(f"the bot sent no message {message_id} in chat {self.id}")
        query_id = str(self._state.sequence() * 1_000_003 + person.id)
        self._state.callback_queries[query_id] = {"message_id": message_id, "answer": None}
        self.mark = len(self.chat.events)
        self._state.add_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": person.info,  # presses are never anonymous
                    "message": bot_message.to_api(self._state.bot_user, self.info),
                    "chat_instance": str(abs(hash(("sandbox", self.id)))),
                    "data": callback_data,
                }
            }
        )
        return query_id

    async def click(self, person: FakeUser, message: BotMessage, label: str) -> str:
        """``person`` presses the button whose text contains ``label``."""
        data = message.button(label).callback_data
        if data is None:
            raise AssertionError(f"button {label!r} has no callback_data")
        return await self.press(person, message, data)

    async def add_bot(self, by: FakeUser, *, as_admin: bool = False) -> None:
        """``by`` adds the bot: it gets my_chat_member (left -> member or administrator)."""
        self.chat.left = False
        bot = self._state.bot_user
        new: JsonDict = {"status": "member", "user": bot}
        if as_admin or self.is_channel:
            new = {"status": "administrator", "user": bot, **_ADMIN_RIGHTS}
        self.mark = len(self.chat.events)
        self._state.add_update(
            {
                "my_chat_member": {
                    "chat": self.info,
                    "from": by.info,
                    "date": int(time.time()),
                    "old_chat_member": {"status": "left", "user": bot},
                    "new_chat_member": new,
                }
            }
        )

    async def remove_bot(self, by: FakeUser) -> None:
        """``by`` removes the bot: sends here now answer 403, and the bot gets my_chat_member."""
        self.chat.left = True
        bot = self._state.bot_user
        self._state.add_update(
            {
                "my_chat_member": {
                    "chat": self.info,
                    "from": by.info,
                    "date": int(time.time()),
                    "old_chat_member": {"status": "member", "user": bot},
                    "new_chat_member": {"status": "kicked", "user": bot, "until_date": 0},
                }
            }
        )


_ADMIN_RIGHTS: JsonDict = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": False,
    "can_restrict_members": False,
    "can_promote_members": False,
    "can_change_info": False,
    "can_invite_users": False,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
}
