"""A fake Telegram Bot API server for tests, benchmarks and the local demo."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.sandbox.faults import Fault, FaultKind, FaultRule, SandboxStats
from bot.sandbox.formatting import html_quote, parse_html
from bot.sandbox.groups import GROUP_ANONYMOUS_BOT, FakeGroup
from bot.sandbox.state import BotMessage, Button, MessageVersion, RecordedCall, StoredFile
from bot.sandbox.users import FAKE_JPEG, FakeUser

if TYPE_CHECKING:
    from bot.sandbox.server import SANDBOX_TOKEN, FakeBotApi

__all__ = [
    "FAKE_JPEG",
    "GROUP_ANONYMOUS_BOT",
    "SANDBOX_TOKEN",
    "BotMessage",
    "Button",
    "FakeBotApi",
    "FakeGroup",
    "FakeUser",
    "Fault",
    "FaultKind",
    "FaultRule",
    "MessageVersion",
    "RecordedCall",
    "SandboxStats",
    "StoredFile",
    "html_quote",
    "parse_html",
]


def __getattr__(name: str) -> Any:
    # Imported lazily so that `python -m bot.sandbox.server` does not load the module twice.
    if name in ("FakeBotApi", "SANDBOX_TOKEN"):
        from bot.sandbox import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
