"""Log lines: one per event, key=value fields, and nothing a library let slip through."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator

import pytest

from bot.logs import EventFormatter, configure_logging
from fakebotapi.server import SANDBOX_TOKEN


def record(name: str, message: str, *args: object, error: bool = False) -> logging.LogRecord:
    exc_info = sys.exc_info() if error else None
    return logging.LogRecord(name, logging.ERROR, __file__, 1, message, args, exc_info)


@pytest.fixture
def at_debug() -> Iterator[None]:
    configure_logging("DEBUG")
    yield
    configure_logging("WARNING")


def test_a_traceback_becomes_its_types_and_places_on_the_same_line() -> None:
    try:
        try:
            {}["member 730194682 wrote: 봄이 오면"]
        except KeyError as error:
            raise RuntimeError(f"The token `{SANDBOX_TOKEN}` was rejected") from error
    except RuntimeError:
        line = EventFormatter().format(record("telegram.ext", "event=failed", error=True))
    assert "\n" not in line
    assert re.search(
        r" level=ERROR logger=telegram.ext event=failed"
        r" exc=RuntimeError@test_logs.py:\d+<-KeyError@test_logs.py:\d+$",
        line,
    )
    assert "730194682" not in line and SANDBOX_TOKEN not in line


def test_tokens_are_redacted_and_library_payloads_shown_by_type() -> None:
    formatter = EventFormatter()
    url = f"POST https://api.telegram.org/bot{SANDBOX_TOKEN}/sendMessage"
    assert "bot<token>/sendMessage" in formatter.format(record("httpx", "%s", url))
    body = {"message": {"text": "우리 모두 당신 편이에요", "chat": {"id": 730194682}}}
    line = formatter.format(record("telegram.ext.Updater", "Received data was: %r", body))
    assert line.endswith("Received data was: <dict>")
    assert formatter.format(record("telegram.ext", "two\nlines")).endswith("two lines")


def test_debug_keeps_libraries_that_see_tokens_or_bodies_quiet(at_debug: None) -> None:
    assert logging.getLogger("bot.delivery").getEffectiveLevel() == logging.DEBUG
    assert logging.getLogger("telegram.ext.Updater").getEffectiveLevel() == logging.INFO
    for name in ("httpx", "httpcore", "aiosqlite", "telegram.Bot", "apscheduler.scheduler"):
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING, name
