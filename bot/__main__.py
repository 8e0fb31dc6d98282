"""Command line: `python -m bot [run|migrate|health|backup PATH]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

from telegram import Update
from telegram.error import InvalidToken

from bot.config import Config, ConfigError, load_config
from bot.health import check
from bot.i18n import MissingCatalog
from bot.logs import configure_logging
from bot.storage.database import Database
from bot.storage.instance import AlreadyRunning, InstanceLock
from bot.storage.maintenance import UnsafeTarget, backup
from bot.storage.migrations import MigrationError
from bot.storage.problems import DatabaseUnusable


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run one command; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="Pyeonji Telegram bot")
    parser.add_argument(
        "command", nargs="?", default="run", choices=["run", "migrate", "health", "backup"]
    )
    parser.add_argument("path", nargs="?", type=Path, help="backup: the file to write")
    parser.add_argument("--force", action="store_true", help="backup: overwrite the file")
    args = parser.parse_intermixed_args(argv)  # `backup --force PATH` as well
    try:
        config = load_config(require_token=args.command == "run")
        configure_logging(config.log_level)
        if args.command == "migrate":
            return asyncio.run(_migrate(config))
        if args.command == "health":
            health = check(config.database_path)
            print(health.line)
            return 0 if health.ok else 1
        if args.command == "backup":
            return _backup(config, args.path, force=args.force)
        return _run(config)
    except (
        ConfigError,
        MigrationError,
        MissingCatalog,
        DatabaseUnusable,
        AlreadyRunning,
    ) as error:
        print(f"pyeonji: {error}", file=sys.stderr)
        # Docker reserves a health check's exit code 2: there, anything wrong is unhealthy.
        return 2 if isinstance(error, ConfigError) and args.command != "health" else 1
    except InvalidToken:
        # Its message quotes the token: say what happened without it.
        print(
            "pyeonji: Telegram rejected BOT_TOKEN (revoked, or mistyped): "
            "get the current one from @BotFather.",
            file=sys.stderr,
        )
        return 1
    except Exception:  # a crash is one log line, never a traceback quoting values
        logging.getLogger("bot.main").critical("event=crashed", exc_info=True)
        return 1


def _run(config: Config) -> int:
    from bot.app import CONFLICT_KEY, CONFLICT_SENTENCE, build_application

    # Held until the process ends: a second bot on this database stops here, before it
    # sends anything. The kernel drops the lock when this process dies, however it dies.
    lock = InstanceLock(config.database_path)
    lock.acquire()
    application = build_application(config)
    if config.webhook_url:
        # Telegram posts to WEBHOOK_URL; a TLS proxy forwards it, path unchanged, to
        # WEBHOOK_LISTEN:PORT. Updates sent while the bot was down are kept, not dropped.
        application.run_webhook(
            listen=config.webhook_listen,
            port=config.port,
            url_path=config.webhook_path,
            webhook_url=config.webhook_url,
            secret_token=config.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        # Telegram unreachable at start: exit with one log line (python-telegram-bot would
        # retry silently) and let the service manager (Docker's restart policy) try again.
        application.run_polling(allowed_updates=Update.ALL_TYPES)
    lock.release()
    if application.bot_data.get(CONFLICT_KEY):
        print(f"pyeonji: {CONFLICT_SENTENCE}", file=sys.stderr)
        return 1
    return 0


def _backup(config: Config, target: Path | None, *, force: bool) -> int:
    if target is None:
        print(
            "pyeonji: backup needs a file to write, e.g. python -m bot backup backup.sqlite3",
            file=sys.stderr,
        )
        return 2
    if not config.database_path.is_file():
        print(f"pyeonji: there is no database at {config.database_path}", file=sys.stderr)
        return 1
    try:
        pages = backup(config.database_path, target, force=force)
    except FileExistsError:
        print(f"pyeonji: {target} exists; add --force to overwrite it", file=sys.stderr)
        return 1
    except UnsafeTarget as error:
        print(
            f"pyeonji: {error}, so backup --force leaves it alone: "
            "choose a new file or an old backup to replace.",
            file=sys.stderr,
        )
        return 1
    except (sqlite3.Error, OSError) as error:
        print(f"pyeonji: the backup failed ({type(error).__name__}: {error})", file=sys.stderr)
        return 1
    print(f"backed up {pages} pages to {target}; integrity check ok")
    return 0


async def _migrate(config: Config) -> int:
    database = Database(config.database_path)
    applied = await database.open()
    await database.close()
    print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
