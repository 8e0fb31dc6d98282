"""Fixtures: a fake Bot API server, the real bot against it, and a real SQLite file per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.clock import Clock
from fakebotapi.server import FakeBotApi
from tests.support.harness import FrozenClock, RunningBot, start_bot

StartBot = Callable[..., Awaitable[RunningBot]]


@pytest.fixture(autouse=True)
def no_real_telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any request that is not to 127.0.0.1 goes to a dead proxy and fails the test."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    yield


@pytest.fixture
async def sandbox() -> AsyncIterator[FakeBotApi]:
    """The fake Telegram; after the test, every message the bot sent passed its validation."""
    server = FakeBotApi()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "pyeonji.sqlite3"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def make_bot(sandbox: FakeBotApi, database: Path) -> AsyncIterator[StartBot]:
    """Start (and restart) bots on the same database; all are stopped after the test."""
    started: list[RunningBot] = []

    async def make(clock: Clock | None = None, **settings: Any) -> RunningBot:
        running = await start_bot(sandbox, database, clock, **settings)
        started.append(running)
        return running

    yield make
    for running in started:
        if running.application.running or running.application._initialized:
            await running.stop()


@pytest.fixture
async def bot(make_bot: StartBot) -> RunningBot:
    """The bot, running, with ADMIN_ID as its admin."""
    return await make_bot()


def rejected_calls(server: FakeBotApi) -> list[str]:
    """Calls the sandbox refused as malformed, e.g. 'sendMessage: can't parse entities'.

    Faults a test injected on purpose (and flood control) are not counted.
    """
    return [
        f"{call.method}: {call.description}"
        for call in server.calls
        if not call.ok and call.error_code == 400 and not call.injected
    ]
