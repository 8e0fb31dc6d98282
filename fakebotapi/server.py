"""The fake Telegram Bot API server: start it, act as people, inject faults, await results.

Run it alone with ``python -m fakebotapi.server --port 8081`` (it prints the base URL).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable, Collection
from types import TracebackType
from typing import Any

import tornado.httpserver
import tornado.netutil

from fakebotapi.faults import Fault, FaultInjector, FaultRule, RateLimiter, SandboxStats
from fakebotapi.groups import FakeGroup
from fakebotapi.state import BotMessage, RecordedCall, SandboxState, StoredFile, wait_for
from fakebotapi.transport import deliver_webhooks, make_application
from fakebotapi.users import FakeUser, MessageMatch, message_matcher
from fakebotapi.validation import scope_key

JsonDict = dict[str, Any]
logger = logging.getLogger(__name__)

SANDBOX_TOKEN = "123456789:FAKEBOTAPI-test_token"  # noqa: S105 - not a secret
"""A token the sandbox accepts; any ``<digits>:<letters, digits, _ or ->`` works too."""


class FakeBotApi:
    """A fake Telegram Bot API on 127.0.0.1 for python-telegram-bot's ``base_url``.

    One server serves one bot: its state is shared by every token that calls it.
    """

    def __init__(
        self,
        *,
        bot_first_name: str = "Test Bot",
        bot_username: str = "fakebotapi_test_bot",
        auto_create_chats: bool = False,
        record_calls: bool = True,
        callback_query_timeout: float | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.state = SandboxState(bot_first_name, bot_username, auto_create_chats)
        if callback_query_timeout is not None:
            self.state.callback_query_timeout = callback_query_timeout
        if clock is not None:
            self.state.clock = clock
        self.state.bot_id = int(SANDBOX_TOKEN.partition(":")[0])
        self.faults = FaultInjector()
        self.stats = SandboxStats()
        self.rate_limiter: RateLimiter | None = None
        self.record_calls = record_calls
        self.closing = False
        self._users: dict[int, FakeUser] = {}
        self._groups: dict[int, FakeGroup] = {}
        self._http: tornado.httpserver.HTTPServer | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._host = "127.0.0.1"
        self._port = 0

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (0: a free port) in the running event loop."""
        sockets = tornado.netutil.bind_sockets(port, host, family=socket.AF_INET)
        self._http = tornado.httpserver.HTTPServer(make_application(self))
        self._http.add_sockets(sockets)
        self._host, self._port = host, int(sockets[0].getsockname()[1])
        self.closing = False
        self._webhook_task = asyncio.create_task(deliver_webhooks(self))
        logger.info("sandbox Bot API listening on %s:%d", host, self._port)

    async def stop(self) -> None:
        """Answer pending long polls, close every connection, stop listening."""
        self.closing = True
        self.state.update_signal.notify()
        self.faults.release_all()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._http is not None:
            self._http.stop()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await self._http.close_all_connections()
            self._http = None

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The TCP port (after start)."""
        return self._port

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return f"http://{self._host}:{self._port}"

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder.base_url`` (PTB appends the token)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder.base_file_url``."""
        return f"{self.url}/file/bot"

    def add_raw_update(self, payload: JsonDict) -> JsonDict:
        """Queue an update exactly as given, read or not by the bot's library.

        Telegram adds fields and update types over time, so a bot may receive an update
        its library version cannot parse; this puts one into the next getUpdates batch.
        """
        return self.state.add_update(payload)

    # -- people and chats ---------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Ji-woo",
        language_code: str | None = "ko",
        username: str | None = None,
        last_name: str | None = None,
        is_premium: bool = False,
    ) -> FakeUser:
        """A person whose private chat (id == ``user_id``) the bot may now write to.

        Calling it again with the same id returns the same handle.
        """
        if user_id in self._users:
            return self._users[user_id]
        info: JsonDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        extras = {
            "last_name": last_name,
            "username": username,
            "language_code": language_code,
            "is_premium": is_premium or None,
        }
        info.update({key: value for key, value in extras.items() if value})
        self.state.users[user_id] = info
        self.state.private_chat(info)
        user = self._users[user_id] = FakeUser(self, info)
        return user

    def group(
        self, chat_id: int, title: str = "Test group", *, supergroup: bool = False
    ) -> FakeGroup:
        """A group (ids are negative) with the bot in it; people act there through the handle.

        Calling it again with the same id returns the same handle.
        """
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        if chat_id not in self._groups:
            chat_type = "supergroup" if supergroup else "group"
            info = self.state.add_chat({"id": chat_id, "type": chat_type, "title": title}).info
            self._groups[chat_id] = FakeGroup(self, info)
        return self._groups[chat_id]

    def channel(self, chat_id: int, title: str = "Test channel") -> FakeGroup:
        """A channel with the bot in it (as an administrator, the only way a bot is there)."""
        if chat_id >= 0:
            raise ValueError("channel ids are negative")
        if chat_id not in self._groups:
            info = self.state.add_chat({"id": chat_id, "type": "channel", "title": title}).info
            self._groups[chat_id] = FakeGroup(self, info)
        return self._groups[chat_id]

    def inject_update(self, update: JsonDict) -> JsonDict:
        """Queue a raw update (update_id added unless given); returns it."""
        return self.state.add_update(update)

    def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """Upgrade a group: the old id answers "group chat was upgraded", the new one works."""
        self.state.migrate_chat(old_chat_id, new_chat_id)

    # -- faults and flood control -------------------------------------------------------------

    def add_fault(
        self,
        fault: Fault,
        method: str | Collection[str] | None = None,
        *,
        chat_id: int | None = None,
        times: int | None = 1,
    ) -> FaultRule:
        """Make matching requests fail (or wait) ``times`` times; None: until cleared.

        ``method`` None matches every method except getUpdates.
        """
        return self.faults.add(fault, method, chat_id=chat_id, times=times)

    def clear_faults(self, method: str | None = None) -> None:
        """Remove injected faults (all, or those naming ``method``)."""
        self.faults.clear(method)

    def set_rate_limit(
        self, messages_per_second: float | None, *, per_chat_per_second: float | None = None
    ) -> None:
        """Answer 429 to send* calls past N per rolling second (None: no limit)."""
        self.rate_limiter = (
            None
            if messages_per_second is None
            else RateLimiter(messages_per_second, per_chat_per_second)
        )

    def reset_stats(self) -> None:
        """Zero the counters in ``stats``."""
        self.stats = SandboxStats()

    # -- what happened ------------------------------------------------------------------------

    @property
    def calls(self) -> list[RecordedCall]:
        """Every request so far, oldest first."""
        return self.state.calls

    def calls_to(self, method: str) -> list[RecordedCall]:
        """The requests to one method."""
        return list(self.state.calls_by_method.get(method, []))

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[BotMessage]:
        """The bot's messages in a chat, oldest first."""
        record = self.state.chats.get(chat_id)
        if record is None:
            return []
        return [m for m in record.messages.values() if include_deleted or not m.deleted]

    def message(self, chat_id: int, message_id: int) -> BotMessage:
        """One of the bot's messages (deleted ones too); KeyError if unknown."""
        return self.state.chats[chat_id].messages[message_id]

    def cursor(self, chat_id: int) -> int:
        """The current end of a chat's message log, for ``wait_for_message(after=...)``."""
        record = self.state.chats.get(chat_id)
        return len(record.events) if record else 0

    def file(self, file_id: str) -> StoredFile:
        """A stored file; KeyError if unknown."""
        return self.state.files[file_id]

    def commands(self, scope: JsonDict | None = None, language_code: str = "") -> list[JsonDict]:
        """The command list stored for exactly this scope and language."""
        key = (scope_key(scope or {"type": "default"}), language_code)
        return list(self.state.commands.get(key, []))

    def visible_commands(self, chat_id: int, language_code: str = "") -> list[JsonDict]:
        """The menu a person sees in their private chat, resolved like Telegram."""
        return list(self.state.visible_commands(chat_id, language_code))

    def callback_answer(self, query_id: str) -> JsonDict | None:
        """The bot's answer to a button press, if it answered yet."""
        query = self.state.callback_queries.get(query_id)
        return None if query is None else query.get("answer")

    # -- waiting without sleeping -------------------------------------------------------------

    async def wait_for_message_at(
        self, chat_id: int, match: MessageMatch = None, *, after: int = 0, timeout: float = 10.0
    ) -> tuple[BotMessage, int]:
        """Like ``wait_for_message``; also returns the log position of the match."""
        predicate = message_matcher(match)
        position = after

        def check() -> tuple[BotMessage, int] | None:
            nonlocal position
            record = self.state.chats.get(chat_id)
            events = record.events if record else []
            while record is not None and position < len(events):
                kind, message_id = events[position]
                message = record.messages[message_id]
                if kind != "delete" and not message.deleted and predicate(message):
                    return message, position
                position += 1
            return None

        def describe() -> str:
            recent = [m.text[:100] for m in self.messages(chat_id)[-5:]]
            return f"no matching message in chat {chat_id} after {after}; latest: {recent}"

        return await wait_for(check, self.state.changed, timeout, describe)

    async def wait_for_message(
        self, chat_id: int, match: MessageMatch = None, *, after: int = 0, timeout: float = 10.0
    ) -> BotMessage:
        """The first message sent or edited in the chat at log position >= ``after`` matching.

        ``match`` is a substring of the visible text, a compiled regex, a predicate on
        BotMessage, or None. Take ``after`` from ``cursor(chat_id)`` to wait for what comes
        next. Raises TimeoutError listing the latest messages.
        """
        message, _ = await self.wait_for_message_at(chat_id, match, after=after, timeout=timeout)
        return message

    async def wait_for_calls(
        self, method: str, count: int = 1, *, timeout: float = 10.0
    ) -> list[RecordedCall]:
        """Wait until ``method`` was called at least ``count`` times in all; returns them."""

        def check() -> list[RecordedCall] | None:
            calls = self.state.calls_by_method.get(method, [])
            return list(calls) if len(calls) >= count else None

        def describe() -> str:
            seen = len(self.state.calls_by_method.get(method, []))
            return f"{method} called {seen} times, expected {count}"

        return await wait_for(check, self.state.changed, timeout, describe)

    async def wait_for_callback_answer(self, query_id: str, timeout: float = 10.0) -> JsonDict:
        """The bot's answerCallbackQuery for a press."""
        return await wait_for(
            lambda: self.callback_answer(query_id),
            self.state.changed,
            timeout,
            lambda: f"callback query {query_id} was not answered",
        )

    async def wait_until(
        self, condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition"
    ) -> None:
        """Re-check ``condition`` after every request or update until it holds."""
        await wait_for(
            lambda: True if condition() else None,
            self.state.changed,
            timeout,
            lambda: f"{what} not met within {timeout} s",
        )

    async def wait_until_fetched(self, timeout: float = 10.0) -> None:
        """Wait until the bot has fetched (or had pushed) every queued update."""
        state = self.state

        def fetched() -> bool:
            return not state.updates or (
                state.highest_fetched_update_id >= int(state.updates[-1]["update_id"])
            )

        await self.wait_until(fetched, timeout, "all updates fetched")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Fake Telegram Bot API for tests and demos.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        help="send* calls per rolling second before answering 429",
    )
    parser.add_argument("--per-chat-rate-limit", type=float, default=None)
    parser.add_argument(
        "--open-chats",
        action="store_true",
        help="treat every positive chat_id as a private chat that exists",
    )
    parser.add_argument(
        "--no-record",
        action="store_true",
        help="do not keep every call in memory (long benchmarks)",
    )
    return parser.parse_args(argv)


async def serve(argv: list[str] | None = None) -> None:
    """Run until SIGINT or SIGTERM."""
    args = _parse_args(argv)
    api = FakeBotApi(auto_create_chats=args.open_chats, record_calls=not args.no_record)
    api.set_rate_limit(args.rate_limit, per_chat_per_second=args.per_chat_rate_limit)
    await api.start(args.host, args.port)
    print(api.base_url, flush=True)  # the benchmark reads the URL from stdout
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    try:
        await stopped.wait()
    finally:
        await api.stop()


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(argv))


if __name__ == "__main__":
    main()
