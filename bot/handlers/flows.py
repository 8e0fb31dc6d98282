"""Multi-step flows: routing a member's typing to their current flow, and deep-link entries."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Self, TypeAlias

from telegram import Update

from bot.handlers.context import Callback, Context
from bot.i18n import Html, Texts
from bot.models import Flow
from bot.runtime import Runtime


@dataclasses.dataclass(frozen=True)
class FlowDraft:
    """Base of a flow's draft: a dataclass of int/str fields, stored as the same JSON object the
    flow always wrote (None values are left out), so rows written before still load."""

    @classmethod
    def of(cls, flow: Flow) -> Self | None:
        """The draft kept in `flow`; None if a value is missing or of another type."""
        hints = typing.get_type_hints(cls)
        values: dict[str, object] = {}
        for field in dataclasses.fields(cls):
            missing = field.default if field.default is not dataclasses.MISSING else _ABSENT
            value = flow.draft.get(field.name, missing)
            allowed = typing.get_args(hints[field.name]) or (hints[field.name],)
            if not isinstance(value, allowed) or isinstance(value, bool):
                return None
            values[field.name] = value
        return cls(**values)

    def as_draft(self) -> dict[str, object]:
        """The JSON object to store (see FlowService.enter)."""
        return {key: value for key, value in dataclasses.asdict(self).items() if value is not None}


_ABSENT = object()  # a required value that is not there: never an instance of a field's type

FlowStep: TypeAlias = Callable[[Update, Context, Flow], Awaitable[None]]


class FlowRouter:
    """Routes a member's free text to the feature whose multi-step flow they are in."""

    def __init__(self) -> None:
        self._steps: dict[str, FlowStep] = {}

    def register(self, flow: str, step: FlowStep) -> None:
        if flow in self._steps:
            raise ValueError(f"flow {flow!r} registered twice")
        self._steps[flow] = step

    def step_for(self, flow: str) -> FlowStep | None:
        return self._steps.get(flow)


class DeepLinks:
    """`/start <payload>` targets (t.me/bot?start=write): payload name to entry callback."""

    def __init__(self) -> None:
        self._entries: dict[str, Callback] = {}

    def register(self, payload: str, entry: Callback) -> None:
        self._entries[payload] = entry

    def entry_for(self, payload: str) -> Callback | None:
        return self._entries.get(payload)


def draft_expired(texts: Texts, expiry: timedelta) -> Html:
    """What a member who comes back to an abandoned draft is told."""
    hours = int(expiry.total_seconds() // 3600)
    return texts.ngettext(
        "Your unfinished draft was deleted after {count} hour without a step. Nothing was "
        "sent. You can start again at any time.",
        "Your unfinished draft was deleted after {count} hours without a step. Nothing was "
        "sent. You can start again at any time.",
        hours,
    )


async def enter_flow(
    runtime: Runtime, update: Update, name: str, step: str, draft: FlowDraft | dict[str, object]
) -> int:
    """Move the sender to `step`; returns the step's draft token for its buttons (0: no sender)."""
    user = update.effective_user
    if user is None:
        return 0
    values = draft.as_draft() if isinstance(draft, FlowDraft) else draft
    return await runtime.flows.enter(user.id, name, step, values)


async def leave_flow(runtime: Runtime, update: Update) -> None:
    user = update.effective_user
    if user is not None:
        await runtime.flows.leave(user.id)
