"""Logging set-up: one line per event with key=value fields, and no personal data."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from types import TracebackType
from typing import TypeAlias

# Loggers that would print request URLs (which contain the token) or request bodies
# (message text, chat ids) at their lower levels; they never go below WARNING.
_QUIET_LOGGERS = (
    "httpx",
    "httpcore",
    "telegram.request",
    "telegram.Bot",
    "telegram.ext.ExtBot",
    "aiosqlite",  # logs every statement with its parameters (letter text, user ids) at DEBUG
    "apscheduler",  # two INFO lines a minute for the digest tick: noise that hides events
    "matplotlib",  # the /stats chart: its DEBUG lines (font search, paths) are noise
    "PIL",
)

# A bot token anywhere in a line (python-telegram-bot puts it in InvalidToken's message and
# httpx in request URLs): the last line of defence if a library logs one anyway.
_TOKEN = re.compile(r"\d{3,20}:[A-Za-z0-9_-]{20,80}")
_PLAIN_ARGS = (str, int, float, bool, type(None), BaseException)

ExcInfo: TypeAlias = (
    tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]
)


class EventFormatter(logging.Formatter):
    """`time level=... logger=... event=... key=value`, always on one line.

    A traceback becomes the exception types and where each was raised, never their messages:
    those can quote a token, a chat id or what a member typed. Libraries' structured arguments
    (an update, a request body) are shown as their type only.
    """

    def __init__(self) -> None:
        super().__init__("%(asctime)s level=%(levelname)s logger=%(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not record.name.startswith("bot.") and record.args:
            record.args = _plain_args(record)
        line = super().format(record)
        return _TOKEN.sub("<token>", " ".join(line.splitlines()))

    def formatException(self, ei: ExcInfo) -> str:
        return f"exc={describe_exception(ei[1])}" if ei[1] is not None else ""

    def formatStack(self, stack_info: str) -> str:
        return ""  # frames' source lines can hold values; the exception summary is enough


def describe_exception(error: BaseException) -> str:
    """`Type@file.py:line`, then each cause or context after `<-`, without any message."""
    parts: list[str] = []
    current: BaseException | None = error
    while current is not None and len(parts) < 5:
        tb = current.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = (
            f"@{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}"
            if tb is not None
            else ""
        )
        parts.append(f"{type(current).__name__}{where}")
        current = current.__cause__ or current.__context__
    return "<-".join(parts)


class _Shown:
    """Stands in for a structured argument: `<dict>` under %s and %r alike."""

    def __init__(self, value: object) -> None:
        self._text = f"<{type(value).__name__}>"

    def __repr__(self) -> str:
        return self._text

    __str__ = __repr__


def _plain(arg: object) -> object:
    return arg if isinstance(arg, _PLAIN_ARGS) else _Shown(arg)


def _plain_args(record: logging.LogRecord) -> tuple[object, ...] | Mapping[str, object]:
    args = record.args
    if isinstance(args, Mapping):
        if "%(" in str(record.msg):  # named placeholders: keep the names, hide the values
            return {key: _plain(value) for key, value in args.items()}
        args = (args,)  # logging unpacked a lone dict argument: it is the payload itself
    return tuple(_plain(arg) for arg in args or ())


def configure_logging(level: str) -> None:
    """Log to stderr at `level`, keeping the chatty libraries quiet."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(EventFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet_libraries()


def quiet_libraries() -> None:
    """Keep loggers that can see tokens or message bodies at WARNING, whatever the root level."""
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # The rest of python-telegram-bot logs update contents (and webhook bodies) at DEBUG.
    telegram_logger = logging.getLogger("telegram")
    telegram_logger.setLevel(max(logging.INFO, logging.getLogger().level))
