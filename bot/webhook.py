"""The webhook server: the secret is checked before a body is read, and bodies are capped.

python-telegram-bot's own handler lets tornado read the whole body (up to 100 MB) before it
looks at the secret, so anyone who can reach the port makes the bot hold their uploads in memory.
"""

from __future__ import annotations

import asyncio
import hmac
from http import HTTPStatus
from pathlib import Path
from socket import socket
from typing import Any

import tornado.web
from telegram import Bot
from telegram.ext import Updater
from telegram.ext._utils.webhookhandler import TelegramHandler, WebhookAppClass, WebhookServer
from tornado.http1connection import HTTP1Connection

# An update is a few kilobytes; Telegram's largest (a long message with entities and a reply
# quoting another) stays well below this.
MAX_UPDATE_BYTES = 1024 * 1024


@tornado.web.stream_request_body
class GuardedTelegramHandler(TelegramHandler):
    """PTB's handler, but the headers are judged first and the body is read in capped chunks."""

    def prepare(self) -> None:
        """Runs once the headers are in, before any of the body is read."""
        self._validate_post()  # wrong or missing secret, wrong type: 403 and hang up
        declared = self.request.headers.get("Content-Length", "0")
        if not declared.isdigit() or int(declared) > MAX_UPDATE_BYTES:
            raise tornado.web.HTTPError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        connection = self.request.connection
        if isinstance(connection, HTTP1Connection):
            connection.set_max_body_size(MAX_UPDATE_BYTES)
        self._chunks: list[bytes] = []

    def _validate_post(self) -> None:
        """JSON only, with the secret, compared in constant time and never logged."""
        if self.request.headers.get("Content-Type") != "application/json":
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        if self.secret_token is not None:
            given = self.request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
            if not hmac.compare_digest(given.encode(), self.secret_token.encode()):
                raise tornado.web.HTTPError(
                    HTTPStatus.FORBIDDEN, reason="Request had the wrong secret token"
                )

    def data_received(self, chunk: bytes) -> None:
        """A piece of an authenticated body: tornado stops at MAX_UPDATE_BYTES."""
        self._chunks.append(chunk)

    async def post(self) -> None:
        """Hand the whole body to python-telegram-bot's parsing."""
        self.request.body = b"".join(self._chunks)
        await super().post()


class GuardedWebhookApp(WebhookAppClass):
    """PTB's webhook application, serving GuardedTelegramHandler."""

    def __init__(
        self, webhook_path: str, bot: Bot, update_queue: asyncio.Queue[object], secret: str | None
    ) -> None:
        super().__init__(webhook_path, bot, update_queue, secret)
        self.wildcard_router.rules[0].target = GuardedTelegramHandler


class GuardedUpdater(Updater):
    """An Updater whose webhook server is the guarded one; polling is unchanged."""

    async def _start_webhook(
        self,
        listen: str,
        port: int,
        url_path: str,
        bootstrap_retries: int,
        allowed_updates: Any,
        cert: str | Path | None = None,
        key: str | Path | None = None,
        drop_pending_updates: bool | None = None,
        webhook_url: str | None = None,
        ready: asyncio.Event | None = None,
        ip_address: str | None = None,
        max_connections: int = 40,
        secret_token: str | None = None,
        unix: str | Path | socket | None = None,
    ) -> None:
        # As python-telegram-bot 22's own, less the TLS certificate: a proxy terminates TLS.
        if cert is not None or key is not None:
            raise ValueError("the webhook server runs behind a TLS proxy: no cert or key")
        path = f"/{url_path.lstrip('/')}"
        app = GuardedWebhookApp(path, self.bot, self.update_queue, secret_token)
        self._httpd = WebhookServer(listen, port, app, None, unix)
        await self._bootstrap(
            cert=None,
            max_retries=bootstrap_retries,
            drop_pending_updates=drop_pending_updates,
            webhook_url=webhook_url or f"http://{listen}:{port}{path}",
            allowed_updates=allowed_updates,
            ip_address=ip_address,
            max_connections=max_connections,
            secret_token=secret_token,
        )
        await self._httpd.serve_forever(ready=ready)
