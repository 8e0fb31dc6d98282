"""Logging set-up: one line per event with key=value fields, and no personal data."""

from __future__ import annotations

import logging
import sys

# Loggers that would print request URLs (which contain the token) or request bodies
# (message text, chat ids) at their lower levels; they never go below WARNING.
_QUIET_LOGGERS = (
    "httpx",
    "httpcore",
    "telegram.request",
    "telegram.Bot",
    "telegram.ext.ExtBot",
    "aiosqlite",  # logs every statement with its parameters (letter text, user ids) at DEBUG
)


def configure_logging(level: str) -> None:
    """Log to stderr at `level`, keeping the chatty libraries quiet."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s level=%(levelname)s logger=%(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet_libraries()


def quiet_libraries() -> None:
    """Keep loggers that can see tokens or message bodies at WARNING, whatever the root level."""
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # The rest of python-telegram-bot logs update contents at DEBUG.
    telegram_logger = logging.getLogger("telegram")
    telegram_logger.setLevel(max(logging.INFO, logging.getLogger().level))
