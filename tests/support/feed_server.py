"""A small HTTP server on 127.0.0.1 (a thread, the standard library's http.server) that serves
feeds the way real sites do, including the ways they go wrong: slow, endless, redirecting."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"


@dataclass
class Route:
    """What one path answers: a body, or a redirect, or a stall, or an endless stream."""

    body: bytes = b""
    content_type: str = "application/rss+xml"
    status: int = 200
    location: str | None = None
    etag: str | None = None
    stream_bytes: int = 0  # > 0: a generated body of this size, never held in memory
    stall: bool = False  # answer nothing until the server stops (a slow server)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


@dataclass
class FeedServer:
    """Routes by path; records every request's path and headers."""

    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url(path)

    def fixture(self, path: str, name: str, content_type: str = "application/rss+xml") -> str:
        return self.serve(path, Route((FIXTURES / name).read_bytes(), content_type))

    def hits(self, path: str) -> list[Seen]:
        return [seen for seen in self.requests if seen.path == path]

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _handler(server: FeedServer) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # the body ends when the connection closes

        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            server.requests.append(
                Seen(self.path, {k.lower(): v for k, v in self.headers.items()})
            )
            route = server.routes.get(self.path)
            if route is None:
                self.send_error(404)
                return
            if route.stall:
                server._stop.wait(30)
                return
            if route.etag and self.headers.get("If-None-Match") == route.etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            if route.location:
                self.send_header("Location", route.location)
            if route.etag:
                self.send_header("ETag", route.etag)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if not route.stream_bytes:
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            try:
                if route.stream_bytes:
                    self._stream(route.stream_bytes)
                else:
                    self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading, as it should past its size cap

        def _stream(self, size: int) -> None:
            self.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>big')
            chunk = b"x" * 65536
            sent = 0
            while sent < size and not server._stop.is_set():
                self.wfile.write(chunk)
                sent += len(chunk)

    return Handler
