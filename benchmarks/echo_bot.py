"""The baseline for benchmarks/updates.py: a bare python-telegram-bot echo bot.

PTB's own example shape: default settings, updates handled one at a time. With
`concurrent_updates(64)` the bare bot answered fewer updates per CPU-second, not more: up to 64
replies in flight open as many connections, and httpcore 1.0's pool checks every connection
against every other on each request (its idle-connection count is quadratic,
encode/httpcore#1000), so the pool, not the bot, took most of its time.
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the text back, the least a bot can do per update."""
    if update.message and update.message.text:
        await update.message.reply_text(update.message.text)


def main() -> None:
    application = (
        Application.builder().token(os.environ["BOT_TOKEN"]).base_url(os.environ["BOT_API_URL"])
    ).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
