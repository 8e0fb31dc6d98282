"""Flood control per member: a sliding window of recent updates, and a cool-down."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

# A person typing fast sends a few messages a second; 30 in 10 seconds is a script. The
# cool-down is long enough to make flooding pointless and short enough to forgive a mistake.
WINDOW_SECONDS = 10.0
MAX_IN_WINDOW = 30
COOL_DOWN_SECONDS = 60.0
_FORGET_AFTER = 600.0  # drop idle members' windows so memory stays bounded


class Verdict(StrEnum):
    ALLOW = "allow"
    THROTTLE_NOW = "throttle_now"  # just crossed the line: tell them once
    THROTTLED = "throttled"  # still cooling down: ignore quietly


@dataclass
class _Window:
    times: deque[float] = field(default_factory=deque)
    throttled_until: float = 0.0
    last_seen: float = 0.0


class FloodGuard:
    """Decides, per member, whether an update is handled; times come from the caller."""

    def __init__(
        self,
        max_in_window: int = MAX_IN_WINDOW,
        window: float = WINDOW_SECONDS,
        cool_down: float = COOL_DOWN_SECONDS,
    ) -> None:
        self._max = max_in_window
        self._window = window
        self._cool_down = cool_down
        self._members: dict[int, _Window] = {}

    def check(self, user_id: int, now: float) -> Verdict:
        state = self._members.setdefault(user_id, _Window())
        state.last_seen = now
        if now < state.throttled_until:
            return Verdict.THROTTLED
        times = state.times
        times.append(now)
        while times and times[0] <= now - self._window:
            times.popleft()
        if len(times) > self._max:
            times.clear()
            state.throttled_until = now + self._cool_down
            self._forget_idle(now)
            return Verdict.THROTTLE_NOW
        return Verdict.ALLOW

    def _forget_idle(self, now: float) -> None:
        idle = [uid for uid, s in self._members.items() if s.last_seen < now - _FORGET_AFTER]
        for user_id in idle:
            del self._members[user_id]
