"""Failures on demand: injected errors and delays, flood control, and counters of both."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter, deque
from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fakebotapi.validation import ApiError, bad_request, forbidden


class FaultKind(StrEnum):
    """What an injected fault does to a matching request."""

    RETRY_AFTER = "retry_after"
    BLOCKED = "blocked"
    CHAT_NOT_FOUND = "chat_not_found"
    MIGRATED = "migrated"
    SERVER_ERROR = "server_error"
    DELAY = "delay"
    HELD = "held"


_SERVER_ERRORS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class Fault:
    """One injected failure. Build it with the class methods, e.g. ``Fault.retry_after(3)``."""

    kind: FaultKind
    seconds: float = 1.0  # retry_after for RETRY_AFTER, the wait for DELAY
    migrate_to_chat_id: int | None = None
    status: int = 500
    released: asyncio.Event | None = field(default=None, compare=False, repr=False)  # HELD

    @classmethod
    def retry_after(cls, seconds: int = 1) -> Fault:
        """429 "Too Many Requests: retry after N" (PTB raises RetryAfter)."""
        return cls(FaultKind.RETRY_AFTER, seconds=max(1, int(seconds)))

    @classmethod
    def blocked(cls) -> Fault:
        """403 "Forbidden: bot was blocked by the user" (PTB raises Forbidden)."""
        return cls(FaultKind.BLOCKED)

    @classmethod
    def chat_not_found(cls) -> Fault:
        """400 "Bad Request: chat not found" (PTB raises BadRequest)."""
        return cls(FaultKind.CHAT_NOT_FOUND)

    @classmethod
    def migrated(cls, new_chat_id: int) -> Fault:
        """400 with migrate_to_chat_id; the chat is migrated for good (PTB: ChatMigrated)."""
        return cls(FaultKind.MIGRATED, migrate_to_chat_id=new_chat_id)

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        """5xx answer (PTB raises NetworkError)."""
        return cls(FaultKind.SERVER_ERROR, status=status)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Answer normally, but only after ``seconds``."""
        return cls(FaultKind.DELAY, seconds=seconds)

    @classmethod
    def held(cls) -> Fault:
        """Answer normally, but only once released (``clear_faults`` or ``release``).

        A Telegram exactly as slow as a test needs, without waiting real seconds.
        """
        return cls(FaultKind.HELD, released=asyncio.Event())

    def release(self) -> None:
        """Let the requests a HELD fault holds (and any later ones) be answered."""
        if self.released is not None:
            self.released.set()

    def to_error(self) -> ApiError:
        """The API error this fault answers with (not for DELAY, HELD or MIGRATED)."""
        if self.kind is FaultKind.RETRY_AFTER:
            return retry_after_error(int(self.seconds))
        if self.kind is FaultKind.BLOCKED:
            return forbidden("bot was blocked by the user")
        if self.kind is FaultKind.CHAT_NOT_FOUND:
            return bad_request("chat not found")
        if self.kind is FaultKind.SERVER_ERROR:
            return ApiError(self.status, _SERVER_ERRORS.get(self.status, "Internal Server Error"))
        raise ValueError(f"{self.kind} is not an error answer")


def retry_after_error(seconds: int) -> ApiError:
    """Telegram's flood-control answer."""
    return ApiError(429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds})


def migrated_error(new_chat_id: int) -> ApiError:
    """Telegram's answer for a group that became a supergroup (always arranged by a test)."""
    error = ApiError(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        {"migrate_to_chat_id": new_chat_id},
    )
    error.injected = True
    return error


@dataclass
class FaultRule:
    """A fault bound to methods (None: every method but getUpdates) and maybe one chat."""

    fault: Fault
    methods: frozenset[str] | None
    chat_id: int | None
    remaining: int | None  # None: until cleared
    fired: int = 0

    def matches(self, method: str, chat_id: int | None) -> bool:
        """Whether this rule applies to a request."""
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.methods is None:
            if method == "getUpdates":
                return False
        elif method not in self.methods:
            return False
        return self.chat_id is None or self.chat_id == chat_id


@dataclass
class SandboxStats:
    """Counters for benchmarks: requests, answers by status, 429s the sandbox gave."""

    requests: int = 0
    by_method: Counter[str] = field(default_factory=Counter)
    errors_by_code: Counter[int] = field(default_factory=Counter)
    rate_limited: int = 0
    faults_fired: int = 0
    messages_sent: int = 0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot."""
        return {
            "requests": self.requests,
            "by_method": dict(self.by_method),
            "errors_by_code": {str(code): n for code, n in self.errors_by_code.items()},
            "rate_limited": self.rate_limited,
            "faults_fired": self.faults_fired,
            "messages_sent": self.messages_sent,
        }


class FaultInjector:
    """Holds fault rules and picks the one (the oldest) that applies to a request."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self._held: list[FaultRule] = []

    def add(
        self,
        fault: Fault,
        method: str | Collection[str] | None = None,
        *,
        chat_id: int | None = None,
        times: int | None = 1,
    ) -> FaultRule:
        """Apply ``fault`` to matching requests ``times`` times (None: until cleared)."""
        methods = (
            None if method is None else frozenset({method} if isinstance(method, str) else method)
        )
        rule = FaultRule(fault, methods, chat_id, times)
        self.rules.append(rule)
        if fault.kind is FaultKind.HELD:
            self._held.append(rule)  # released by clear() even after its last use
        return rule

    def clear(self, method: str | None = None) -> None:
        """Remove every rule, or the rules naming ``method``; what they held is answered."""

        def named(rule: FaultRule) -> bool:
            return method is None or (rule.methods is not None and method in rule.methods)

        self.rules = [rule for rule in self.rules if not named(rule)]
        for rule in self._held:
            if named(rule):
                rule.fault.release()
        self._held = [rule for rule in self._held if not named(rule)]

    def release_all(self) -> None:
        """Answer every held request (the server is stopping)."""
        for rule in self._held:
            rule.fault.release()

    def take(self, method: str, chat_id: int | None) -> Fault | None:
        """The fault for this request, consuming one of its uses."""
        if not self.rules:
            return None
        for rule in self.rules:
            if rule.matches(method, chat_id):
                rule.fired += 1
                if rule.remaining is not None:
                    rule.remaining -= 1
                self.rules = [r for r in self.rules if r.remaining is None or r.remaining > 0]
                return rule.fault
        return None


class RateLimiter:
    """Flood control over a rolling second: overall and, optionally, per chat."""

    def __init__(self, per_second: float, per_chat_per_second: float | None = None) -> None:
        self.per_second = per_second
        self.per_chat_per_second = per_chat_per_second
        self._recent: deque[float] = deque()
        self._recent_by_chat: dict[int, deque[float]] = {}

    @staticmethod
    def _check(window: deque[float], limit: float, now: float) -> int:
        """0 if one more send fits in ``window``, else the seconds to wait (at least 1)."""
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) < limit:
            return 0
        # Telegram's retry_after is a whole number of seconds and never 0.
        return max(1, math.ceil(window[0] + 1.0 - now))

    def acquire(self, chat_id: int | None, now: float | None = None) -> int:
        """Count a send; return 0 if allowed, otherwise the retry_after to answer with."""
        now = time.monotonic() if now is None else now
        wait = self._check(self._recent, self.per_second, now)
        chat_window: deque[float] | None = None
        if not wait and self.per_chat_per_second is not None and chat_id is not None:
            chat_window = self._recent_by_chat.setdefault(chat_id, deque())
            wait = self._check(chat_window, self.per_chat_per_second, now)
        if wait:
            return wait
        self._recent.append(now)
        if chat_window is not None:
            chat_window.append(now)
        return 0
