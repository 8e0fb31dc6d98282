"""Thousands of random updates: the bot never stops, never sends what Telegram would refuse,
never fails a handler, and the database stays consistent."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.handlers.menus import (
    ADMIN_COMMANDS,
    COORDINATOR_COMMANDS,
    COURIER_COMMANDS,
    MEMBER_COMMANDS,
    TRANSLATOR_COMMANDS,
)
from fakebotapi.server import FakeBotApi
from tests.conftest import rejected_calls
from tests.support.harness import RunningBot, start_bot

T = TypeVar("T")
# Every command in every menu (a new one is covered by itself), and forms with arguments.
COMMANDS = [
    f"/{name}"
    for name, _ in MEMBER_COMMANDS
    + COORDINATOR_COMMANDS
    + TRANSLATOR_COMMANDS
    + COURIER_COMMANDS
    + ADMIN_COMMANDS
] + [
    "/start write",
    "/start settings",
    "/skip",
    "/grant 1 coordinator",
    "/revoke 1 courier",
    "/block 5",
]
CALLBACKS = [
    "start:1",
    "start:0",
    "start:agree",  # an old form: refused
    "lang:ko:1",
    "lang:en:1",
    "lang:ko:0",
    "sub:1",
    "sub:0",
    "set:mode:1:daily",
    "set:open:1:hours",
    "set:hour:1:7",
    "set:open:1:zones",
    "set:open:1:typezone",
    "set:open:1:back",
    "set:open:1:done",
    "set:mode:2:weekly",
    "forget:50000:0",
    "post:publish:1",
    "ann:stop:1",
    "appr:yes:1",
    "write:do:1:send",
]
texts = (
    st.text(max_size=300)
    | st.text(min_size=4000, max_size=5000)
    | st.sampled_from(["", " ", "<b>", "&", "\u202e\u200b\u200d", "🕊️" * 50, "a" * 4096])
)
actions = st.one_of(
    st.tuples(st.just("text"), texts),
    st.tuples(st.just("command"), st.sampled_from(COMMANDS), st.text(max_size=40)),
    st.tuples(st.just("press"), st.sampled_from(CALLBACKS) | st.text(min_size=1, max_size=64)),
    st.tuples(st.just("edit"), texts),
    st.tuples(st.sampled_from(["photo", "sticker", "document", "block", "unblock"])),
)


class BotThread:
    """The sandbox and the bot on their own event loop, fed from hypothesis' thread."""

    def __init__(self, database: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.sandbox = FakeBotApi()
        self.run(self.sandbox.start())
        self.bot: RunningBot = self.run(start_bot(self.sandbox, database))

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=120)

    def close(self) -> None:
        self.run(self.bot.stop())
        self.run(self.sandbox.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class HandlerErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "event=handler_error" in record.getMessage():
            self.errors.append(record.getMessage())


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BotThread, Path]]:
    database = tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite3"
    bot = BotThread(database)
    yield bot, database
    bot.close()
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []


user_ids = itertools.count(50_000)


async def play(sandbox: FakeBotApi, bot: RunningBot, script: list[tuple[Any, ...]]) -> None:
    """One new person acts out `script`; wait until the bot has handled all of it."""
    person = sandbox.user(next(user_ids), first_name="<i>fuzz</i> & co", language_code="ko")
    for action in script:
        kind = action[0]
        if kind == "text" and action[1]:
            await person.send(action[1])
        elif kind == "command":
            await person.send(f"{action[1]} {action[2]}".strip())
        elif kind == "press":
            message = person.last_message
            if message is not None:
                await person.press(message, action[1])
        elif kind == "edit" and action[1]:
            sent = await person.send("before")
            await person.edit(sent["message_id"], action[1])
        elif kind == "photo":
            await person.send_photo(caption="<b>caption</b>")
        elif kind == "sticker":
            await person.send_sticker()
        elif kind == "document":
            await person.send_document()
        elif kind == "block":
            await person.block()
        elif kind == "unblock":
            await person.unblock()
    await sandbox.wait_until_fetched(timeout=60)
    application = bot.application
    for _ in range(600):
        if application.update_queue.empty() and (
            application.update_processor.current_concurrent_updates == 0
        ):
            break
        await asyncio.sleep(0.01)


# As many scripts as the profile says (tests/conftest.py): 250 in CI, a few dozen locally.
@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=st.lists(actions, min_size=1, max_size=25))
def test_random_updates_never_break_the_bot(
    running: tuple[BotThread, Path], script: list[tuple[Any, ...]]
) -> None:
    bot, _ = running
    errors = HandlerErrors()
    logging.getLogger("bot.app").addHandler(errors)
    try:
        bot.run(play(bot.sandbox, bot.bot, script))
    finally:
        logging.getLogger("bot.app").removeHandler(errors)
    assert bot.bot.application.running
    assert errors.errors == []
    assert rejected_calls(bot.sandbox) == []
