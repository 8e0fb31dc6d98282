"""Fixtures: a fake Bot API server, the real bot against it, and a real SQLite file per test."""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx._transports.default
import pytest
from hypothesis import settings

from bot.clock import Clock
from fakebotapi.server import FakeBotApi
from tests.support.harness import FrozenClock, RunningBot, start_bot

StartBot = Callable[..., Awaitable[RunningBot]]

# Full runs in CI (.ci/run sets CI=true); a quick look while developing. Tests that are cheap
# enough to run hundreds of examples every time say so with their own max_examples.
settings.register_profile("ci", max_examples=250, print_blob=True)
settings.register_profile("dev", max_examples=40)
settings.load_profile("ci" if os.environ.get("CI", "").lower() in {"1", "true"} else "dev")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (pyproject's addopts): one worker more than there are cores, up to 16.

    Much of a test is waiting (on the loopback, a subprocess starting, a browser), so with one
    worker per core the cores idle: on 2 cores 3 workers took 63 s where 2 took 77-89 s.
    """
    return min((os.cpu_count() or 1) + 1, 16)


@pytest.fixture(autouse=True, scope="session")
def one_tls_context() -> Iterator[None]:
    """Every httpx client loads certifi's 150 CA certificates (20 ms); a bot has five of them
    (three proxies each), so a third of every test's start-up went there. Tests only speak
    plain HTTP to 127.0.0.1, so one context, loaded once, serves every client."""
    create = httpx._transports.default.create_ssl_context
    shared = functools.cache(create)

    def create_once(
        verify: ssl.SSLContext | str | bool = True, cert: object = None, trust_env: bool = True
    ) -> ssl.SSLContext:
        if verify is True and cert is None:
            return shared(verify, None, trust_env)
        return create(verify, cert, trust_env)  # type: ignore[arg-type]

    httpx._transports.default.create_ssl_context = create_once  # type: ignore[assignment]
    yield
    httpx._transports.default.create_ssl_context = create


@pytest.fixture(autouse=True)
def no_real_telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any request that is not to 127.0.0.1 goes to a dead proxy and fails the test."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    yield


@pytest.fixture
async def sandbox(request: pytest.FixtureRequest) -> AsyncIterator[FakeBotApi]:
    """The fake Telegram; after the test, every message the bot sent passed its validation.

    A test that makes Telegram refuse a call on purpose (a press answered too late, say) names
    the refusal: ``@pytest.mark.rejects_on_purpose("query is too old")``; any other still fails.
    """
    server = FakeBotApi()
    await server.start()
    yield server
    await server.stop()
    marker = request.node.get_closest_marker("rejects_on_purpose")
    expected = marker.args if marker is not None else ()
    rejected = [call for call in rejected_calls(server) if not any(e in call for e in expected)]
    assert rejected == [], f"Telegram would have refused: {rejected[:5]}"


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
