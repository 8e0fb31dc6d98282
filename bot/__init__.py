"""Pyeonji (편지): a Telegram bot for North Korean defector support networks."""

import os

# Opt in to python-telegram-bot's future behaviour (RetryAfter.retry_after as a timedelta)
# now, as its deprecation warning asks; bot.delivery.sender reads either form.
os.environ.setdefault("PTB_TIMEDELTA", "1")
