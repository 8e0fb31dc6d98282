"""Command line: `python -m bot [run|migrate]`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from telegram import Update

from bot.config import Config, ConfigError, load_config
from bot.i18n import MissingCatalog
from bot.logs import configure_logging
from bot.storage.database import Database
from bot.storage.migrations import MigrationError


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run one command; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="Pyeonji Telegram bot")
    parser.add_argument("command", nargs="?", default="run", choices=["run", "migrate"])
    args = parser.parse_args(argv)
    try:
        config = load_config(require_token=args.command == "run")
        configure_logging(config.log_level)
        if args.command == "migrate":
            return asyncio.run(_migrate(config))
        return _run(config)
    except (ConfigError, MigrationError, MissingCatalog) as error:
        print(f"pyeonji: {error}", file=sys.stderr)
        return 2 if isinstance(error, ConfigError) else 1


def _run(config: Config) -> int:
    from bot.app import build_application

    application = build_application(config)
    if config.webhook_url:
        application.run_webhook(
            listen="0.0.0.0",  # noqa: S104 - inside the container; the proxy terminates TLS
            port=config.port,
            url_path="telegram",
            webhook_url=config.webhook_url,
            secret_token=config.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


async def _migrate(config: Config) -> int:
    database = Database(config.database_path)
    applied = await database.open()
    await database.close()
    print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
