"""`make demo`: the real bot against the fake Bot API (fakebotapi/), with a web chat.

    python -m bot.demo [--port 8080] [--database data/demo.sqlite3]

No Telegram token is needed and nothing leaves this machine (127.0.0.1 only). The one module
of `bot` that imports `fakebotapi`: it needs the dev/demo extra (`make setup`, or
`pip install -e '.[demo]'`) and never runs in production.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import tornado.httpserver
import tornado.netutil
from telegram import Update
from telegram.ext import Application

from bot.app import RUNTIME_KEY, build_application
from bot.config import load_config
from bot.i18n import MissingCatalog
from bot.logs import configure_logging
from bot.models import Role
from bot.runtime import Runtime
from bot.storage.instance import AlreadyRunning, InstanceLock
from bot.storage.problems import DatabaseUnusable

try:
    from fakebotapi.server import SANDBOX_TOKEN, FakeBotApi
    from fakebotapi.webchat import Persona, make_web_app
except ImportError as error:  # pragma: no cover - only without the dev/demo extra
    raise SystemExit(
        "the demo needs the fake Bot API: run `make demo`, or pip install -e '.[demo]'"
    ) from error

MEMBER = Persona(101, "지우", "member", "ko")
COORDINATOR = Persona(102, "Mina", "coordinator (and admin)", "en")
COURIER = Persona(103, "Jae", "courier", "en")
PERSONAS = [MEMBER, COORDINATOR, COURIER]
PAGE_TITLE = "Pyeonji (편지)"
PAGE_INTRO = (
    "the real bot, talking to a local stand-in for Telegram. Act as any of the three people below."
)

# Demo texts, written for this demo from public reporting; not real announcements.
DEMO_UPDATES = [
    (
        "[데모] 2025년 1월, 우크라이나군이 러시아 쿠르스크 지역에서 북한 군인 두 명을 "
        "포로로 잡았다고 밝혔어요.",
        "[Demo] In January 2025 Ukraine said it had captured two North Korean soldiers in "
        "Russia's Kursk region.",
    ),
    (
        "[데모] 두 사람은 언론 인터뷰에서 한국으로 가고 싶다는 뜻을 밝혔어요.",
        "[Demo] In interviews, both men said they wish to go to South Korea.",
    ),
    (
        "[데모] 탈북민 단체들이 두 사람을 한국으로 보내 달라고 함께 요청하고 있어요.",
        "[Demo] Defector organizations are jointly asking for the two men to be sent to "
        "South Korea.",
    ),
    (
        "[데모] 두 사람을 만나는 기자를 통해 탈북민들의 편지가 전해졌고, 답장도 왔어요.",
        "[Demo] Letters from defectors reached them through a journalist who visits them, "
        "and they wrote back.",
    ),
]


@dataclass
class Demo:
    """The sandbox, the bot and the web page, started and stopped together."""

    sandbox: FakeBotApi
    application: object
    runtime: Runtime
    web: tornado.httpserver.HTTPServer
    port: int


class DemoPortTaken(Exception):
    """The web chat's port is in use; the message is one sentence naming DEMO_PORT."""


def bind_web_port(port: int) -> list[socket.socket]:
    """The web chat's listening socket on 127.0.0.1, bound before anything else starts."""
    try:
        return tornado.netutil.bind_sockets(port, "127.0.0.1", family=socket.AF_INET)
    except OSError as error:
        raise DemoPortTaken(
            f"port {port} on 127.0.0.1 cannot be used ({error.strerror}; another demo?): "
            f"set DEMO_PORT to a free port, e.g. DEMO_PORT={port + 1 if port else 8081} make demo."
        ) from None


@contextlib.asynccontextmanager
async def running_demo(database: Path, port: int) -> AsyncIterator[Demo]:
    """Start everything on 127.0.0.1; stop what was started, in order, on the way out.

    A failure half-way (the port taken, the database locked or damaged) stops what had
    started, so nothing is left running that would keep the process alive.
    """
    sockets = bind_web_port(port)
    async with contextlib.AsyncExitStack() as stack:
        for sock in sockets:
            stack.callback(sock.close)
        lock = InstanceLock(database)
        lock.acquire()  # one bot per database, the demo's too
        stack.callback(lock.release)
        sandbox = FakeBotApi(auto_create_chats=True)
        await sandbox.start()
        stack.push_async_callback(sandbox.stop)
        config = load_config(
            {
                "BOT_TOKEN": SANDBOX_TOKEN,
                "BOT_API_URL": sandbox.base_url,
                "BOT_API_FILE_URL": sandbox.base_file_url,
                "DATABASE_PATH": str(database),
                "ADMIN_IDS": str(COORDINATOR.user_id),
                "SEND_RATE": "30",
            },
            dotenv_path=database.parent / "no-such.env",
        )
        application = build_application(config)
        await start_application(application, stack)
        runtime: Runtime = application.bot_data[RUNTIME_KEY]
        await seed(runtime, sandbox)
        web = tornado.httpserver.HTTPServer(
            make_web_app(sandbox, PERSONAS, title=PAGE_TITLE, intro=PAGE_INTRO)
        )
        web.add_sockets(sockets)
        stack.callback(web.stop)
        yield Demo(sandbox, application, runtime, web, int(sockets[0].getsockname()[1]))


async def start_application(
    application: Application,  # type: ignore[type-arg]
    stack: contextlib.AsyncExitStack,
) -> None:
    """What run_polling does, each step undone by `stack` however far it got."""
    assert application.updater is not None
    updater = application.updater

    async def shutdown() -> None:
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)

    async def stop() -> None:
        if updater.running:
            await updater.stop()
        if application.running:
            await application.stop()
        if application.post_stop is not None:
            await application.post_stop(application)

    await application.initialize()
    stack.push_async_callback(shutdown)  # also closes the database post_init opened
    if application.post_init is not None:
        await application.post_init(application)
    await application.start()
    stack.push_async_callback(stop)
    await updater.start_polling(poll_interval=0.0, timeout=2, allowed_updates=Update.ALL_TYPES)


async def seed(runtime: Runtime, sandbox: FakeBotApi) -> None:
    """Personas with their roles, and a few demo updates; safe to run on every start."""
    for persona in PERSONAS:
        sandbox.user(persona.user_id, first_name=persona.name, language_code=persona.language)
    for persona in (COORDINATOR, COURIER):
        await runtime.members.join(persona.user_id, persona.user_id, persona.language)
        await runtime.members.consent(persona.user_id)
    await runtime.roles.grant(COORDINATOR.user_id, COURIER.user_id, Role.COURIER)
    if not await runtime.broadcasts.latest("en"):
        for text_ko, text_en in DEMO_UPDATES:
            await runtime.broadcasts.publish_post(COORDINATOR.user_id, text_ko, text_en, None)


async def serve(database: Path, port: int) -> None:
    """Run the demo until Ctrl-C or SIGTERM, which stop it at any moment, even mid-start."""
    loop = asyncio.get_running_loop()
    main_task = asyncio.current_task()
    assert main_task is not None
    signals = 0

    def on_signal() -> None:
        nonlocal signals
        signals += 1
        if signals == 1:
            main_task.cancel()  # the exit stack undoes whatever had started
        else:
            os._exit(130)  # a second Ctrl-C: the orderly stop itself is stuck

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    async with running_demo(database, port) as demo:
        print(
            f"\nPyeonji demo: open http://127.0.0.1:{demo.port} in a browser.\n"
            "Try: as 지우, send /start, agree, choose 한국어 and subscribe; as Mina, send\n"
            "/post (or /announce) and watch it arrive; as 지우, /write a letter; as Mina,\n"
            "/review it; as Jae, /bundle to download the PDF, then /bundles to mark it\n"
            "delivered. Ctrl-C stops everything.\n",
            flush=True,
        )
        await asyncio.Event().wait()  # until a signal cancels this task


def main() -> int:
    parser = argparse.ArgumentParser(description="Pyeonji with a local web chat, no token")
    parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT", "8080")))
    parser.add_argument("--database", type=Path, default=Path("data/demo.sqlite3"))
    args = parser.parse_args()
    configure_logging("WARNING")
    logging.getLogger("bot").setLevel(logging.INFO)
    try:
        asyncio.run(serve(args.database, args.port))
    except (DemoPortTaken, AlreadyRunning, DatabaseUnusable, MissingCatalog) as error:
        print(f"pyeonji demo: {error}", file=sys.stderr)
        return 1
    except asyncio.CancelledError:  # Ctrl-C or SIGTERM
        pass
    print("Stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
