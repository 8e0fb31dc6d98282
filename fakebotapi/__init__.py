"""A fake Telegram Bot API server for tests, benchmarks and the local demo."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fakebotapi.faults import Fault, FaultKind, FaultRule, SandboxStats
from fakebotapi.formatting import html_quote, parse_html
from fakebotapi.groups import GROUP_ANONYMOUS_BOT, FakeGroup
from fakebotapi.state import BotMessage, Button, MessageVersion, RecordedCall, StoredFile
from fakebotapi.users import FAKE_JPEG, FakeUser

if TYPE_CHECKING:
    from fakebotapi.server import SANDBOX_TOKEN, FakeBotApi

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
    # Imported lazily so that `python -m fakebotapi.server` does not load the module twice.
    if name in ("FakeBotApi", "SANDBOX_TOKEN"):
        from fakebotapi import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
