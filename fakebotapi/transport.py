"""HTTP side of the fake Bot API: tornado handlers, request dispatch and webhook delivery."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import TYPE_CHECKING, Any

import httpx
import tornado.web

from fakebotapi import media, menus
from fakebotapi.faults import FaultKind, migrated_error, retry_after_error
from fakebotapi.methods import METHODS, CallContext, Upload, canonical_method, is_rate_limited
from fakebotapi.state import RecordedCall
from fakebotapi.validation import ApiError, Params, decode_form_value

if TYPE_CHECKING:
    from fakebotapi.server import FakeBotApi

JsonDict = dict[str, Any]
logger = logging.getLogger(__name__)
EMULATED_MODULES = (media, menus)  # importing them registers their methods

TOKEN_RE = re.compile(r"([0-9]{1,20}):[A-Za-z0-9_-]{1,200}")
UNAUTHORIZED = ApiError(401, "Unauthorized")
NOT_FOUND = ApiError(404, "Not Found")


def _chat_id_of(params: Params) -> int | None:
    value = params.raw("chat_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def _apply_faults(api: FakeBotApi, method: str, chat_id: int | None) -> None:
    """Injected faults first, then flood control; raises the ApiError to answer with."""
    try:
        await _take_fault(api, method, chat_id)
    except ApiError as error:
        error.injected = True
        raise


async def _take_fault(api: FakeBotApi, method: str, chat_id: int | None) -> None:
    fault = api.faults.take(method, chat_id)
    if fault is not None:
        api.stats.faults_fired += 1
        if fault.kind is FaultKind.DELAY:
            await asyncio.sleep(fault.seconds)
        elif fault.kind is FaultKind.HELD:
            assert fault.released is not None
            await fault.released.wait()
        elif fault.kind is FaultKind.MIGRATED:
            new_chat_id = fault.migrate_to_chat_id
            if chat_id is None or new_chat_id is None:
                raise ValueError("a migration fault needs chat_id and migrate_to_chat_id")
            api.state.migrate_chat(chat_id, new_chat_id)
            raise migrated_error(new_chat_id)
        else:
            raise fault.to_error()
    if api.rate_limiter is not None and is_rate_limited(method):
        # Counted on the sandbox's clock, which a test may share with the bot's send budget.
        wait = api.rate_limiter.acquire(chat_id, now=api.state.clock())
        if wait:
            api.stats.rate_limited += 1
            raise retry_after_error(wait)


async def dispatch(
    api: FakeBotApi,
    token: str,
    name: str,
    values: JsonDict,
    files: dict[str, Upload],
    cancelled: Any = None,
) -> tuple[int, JsonDict]:
    """Answer one Bot API request: (HTTP status, JSON body)."""
    token_match = TOKEN_RE.fullmatch(token)
    if token_match is None:
        return 401, UNAUTHORIZED.to_json()
    api.state.bot_id = int(token_match.group(1))
    api.stats.requests += 1
    method = canonical_method(name) or name
    api.stats.by_method[method] += 1
    api.state.changed.notify()  # lets tests wait for "the request arrived" too
    call = RecordedCall(method, {}, {k: len(v.body) for k, v in files.items()}, time.monotonic())
    try:
        call.params = {
            key: decode_form_value(key, v) if isinstance(v, str) else v
            for key, v in values.items()
        }
        if method not in METHODS:
            logger.warning("sandbox: method %.64s is not emulated: answering 404", name)
            raise NOT_FOUND
        params = Params(call.params)
        await _apply_faults(api, method, _chat_id_of(params))
        context = CallContext(api.state, params, files)
        if cancelled is not None:
            context.cancelled = cancelled
        call.result = await METHODS[method](context)
        status, body = 200, {"ok": True, "result": call.result}
        if is_rate_limited(method):
            api.stats.messages_sent += 1
    except ApiError as error:
        status, body = error.error_code, error.to_json()
        call.ok, call.error_code, call.description = False, error.error_code, error.description
        call.injected = error.injected
        api.stats.errors_by_code[error.error_code] += 1
    except Exception:
        # A sandbox bug: answer like a Telegram outage, keep the traceback for the developer.
        logger.exception("sandbox: %s failed", method)
        status, body = (
            500,
            {"ok": False, "error_code": 500, "description": "Internal Server Error"},
        )
        call.ok, call.error_code, call.description = False, 500, body["description"]
        api.stats.errors_by_code[500] += 1
    if api.record_calls:
        api.state.record_call(call)
    else:
        api.state.changed.notify()
    return status, body


def _request_values(request: tornado.httputil.HTTPServerRequest) -> JsonDict:
    values: JsonDict = {
        k: v[-1].decode("utf-8", "replace") for k, v in request.query_arguments.items()
    }
    content_type = request.headers.get("Content-Type", "")
    if content_type.startswith("application/json") and request.body:
        try:
            body = json.loads(request.body)
        except ValueError:
            raise ApiError(400, "Bad Request: can't parse JSON request body") from None
        if isinstance(body, dict):
            values.update(body)
    else:
        values.update(
            {k: v[-1].decode("utf-8", "replace") for k, v in request.body_arguments.items()}
        )
    return values


class _JsonHandler(tornado.web.RequestHandler):
    api: FakeBotApi

    def initialize(self, api: FakeBotApi) -> None:
        self.api = api
        self.closed = False

    def compute_etag(self) -> str | None:
        return None

    def send_json(self, status: int, body: JsonDict) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body, ensure_ascii=False).encode("utf-8"))

    def log_exception(self, *exc_info: Any) -> None:
        # tornado's version logs the request line, which holds the bot token.
        logger.error("sandbox: request failed", exc_info=exc_info)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.send_json(
            status_code, {"ok": False, "error_code": status_code, "description": self._reason}
        )


class ApiHandler(_JsonHandler):
    """/bot<token>/<method>, GET or POST, any content type PTB or curl may use."""

    def on_connection_close(self) -> None:
        self.closed = True
        self.api.state.update_signal.notify()  # let a long poll notice it lost its client

    async def post(self, token: str, name: str) -> None:
        try:
            values = _request_values(self.request)
        except ApiError as error:
            self.send_json(error.error_code, error.to_json())
            return
        files = {
            field: Upload(
                parts[-1].filename or None, parts[-1].content_type or None, parts[-1].body
            )
            for field, parts in self.request.files.items()
        }
        status, body = await dispatch(
            self.api, token, name, values, files, lambda: self.closed or self.api.closing
        )
        if not self.closed:
            self.send_json(status, body)

    get = post


class FileHandler(_JsonHandler):
    """/file/bot<token>/<file_path>: downloads of stored files."""

    async def get(self, token: str, file_path: str) -> None:
        if TOKEN_RE.fullmatch(token) is None:
            self.send_json(401, UNAUTHORIZED.to_json())
            return
        stored = self.api.state.files_by_path.get(file_path)
        if stored is None:
            self.send_json(404, NOT_FOUND.to_json())
            return
        self.set_header("Content-Type", stored.mime_type or "application/octet-stream")
        self.finish(stored.data)


class ControlHandler(_JsonHandler):
    """/sandbox/<action>: drive a sandbox running in another process (benchmarks, demo)."""

    def get(self, action: str) -> None:
        if action == "stats":
            self.send_json(200, {"ok": True, "result": self.api.stats.as_dict()})
        else:
            self.send_json(404, NOT_FOUND.to_json())

    def post(self, action: str) -> None:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            self.send_json(400, bad_json())
            return
        result: Any = True
        if action == "users":
            user = self.api.user(
                int(body["id"]),
                first_name=str(body.get("first_name", "User")),
                language_code=body.get("language_code", "ko"),
            )
            result = user.info
        elif action == "updates":
            result = self.api.inject_update(body)
        elif action == "rate_limit":
            self.api.set_rate_limit(
                body.get("per_second"), per_chat_per_second=body.get("per_chat_per_second")
            )
        elif action == "reset_stats":
            self.api.reset_stats()
        else:
            self.send_json(404, NOT_FOUND.to_json())
            return
        self.send_json(200, {"ok": True, "result": result})


class CatchAllHandler(_JsonHandler):
    """Anything else: Telegram's 404."""

    def prepare(self) -> None:
        self.send_json(404, NOT_FOUND.to_json())


def bad_json() -> JsonDict:
    """Body for an unparsable control request."""
    return {"ok": False, "error_code": 400, "description": "Bad Request: invalid JSON"}


def _log_request(handler: tornado.web.RequestHandler) -> None:
    # The path holds the bot token and the body personal data: log neither.
    name = handler.path_args[1] if len(handler.path_args) > 1 else "-"
    if isinstance(handler, FileHandler):
        name = "file"
    logger.debug(
        "sandbox %s %.64s -> %d in %.1f ms",
        handler.request.method,
        name,
        handler.get_status(),
        1000 * handler.request.request_time(),
    )


def make_application(api: FakeBotApi) -> tornado.web.Application:
    """The tornado application serving ``api``."""
    return tornado.web.Application(
        [
            (r"/bot([^/]*)/([^/]*)", ApiHandler, {"api": api}),
            (r"/file/bot([^/]*)/(.+)", FileHandler, {"api": api}),
            (r"/sandbox/([a-z_]+)", ControlHandler, {"api": api}),
            (r".*", CatchAllHandler, {"api": api}),
        ],
        log_function=_log_request,
        compress_response=False,
    )


async def deliver_webhooks(api: FakeBotApi) -> None:
    """Push queued updates to the webhook, one at a time, in order, like Telegram."""
    state = api.state
    backoff = 0.05
    async with httpx.AsyncClient(timeout=10.0) as client:
        while not api.closing:
            batch = state.pending_updates(1) if state.webhook.url else []
            if not batch:
                await state.update_signal.wait(1.0)
                continue
            update, webhook = batch[0], state.webhook
            headers = {"Content-Type": "application/json"}
            if webhook.secret_token:
                headers["X-Telegram-Bot-Api-Secret-Token"] = webhook.secret_token
            try:
                response = await client.post(
                    webhook.url, content=json.dumps(update), headers=headers
                )
                error = (
                    None
                    if response.is_success
                    else (
                        f"Wrong response from the webhook: {response.status_code} "
                        f"{response.reason_phrase}"
                    )
                )
            except httpx.HTTPError as exc:
                error = f"Connection failed: {type(exc).__name__}"
            if error is None:
                if state.updates and state.updates[0] is update:
                    state.updates.popleft()
                state.changed.notify()
                backoff = 0.05
                continue
            webhook.last_error_date, webhook.last_error_message = int(time.time()), error
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)
