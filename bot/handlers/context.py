"""The per-update context: the runtime, the member behind the update and their texts.

The Gatekeeper (handler group -1) loads the member once per update, with their roles and flow
in the same statement; every handler then reads `context.member`, `context.texts`,
`context.standing` and `context.current_flow()` instead of asking the database again (PTB
shares one context between the groups of an update; see PTB's examples/contexttypesbot.py).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeAlias

from telegram import Update
from telegram.ext import Application, BaseHandler, CallbackContext, ContextTypes, ExtBot

from bot.i18n import Texts
from bot.models import Flow, Member
from bot.runtime import Runtime
from bot.services.roles import Standing

RUNTIME_KEY = "runtime"  # where the composition root keeps the Runtime in bot_data

_Data: TypeAlias = dict[Any, Any]


class Context(CallbackContext[ExtBot[None], _Data, _Data, _Data]):
    """PTB's context, plus `runtime`, `member` (the stored row or None) and `texts`."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self._member: Member | None = None
        self._texts: Texts | None = None
        self._standing: Standing | None = None
        # The flow row read on arrival, until the first current_flow() (None: not read, or
        # used up: a handler may have moved the flow since).
        self._arrival_flow: tuple[int, Flow | None] | None = None

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.application.bot_data[RUNTIME_KEY]
        return runtime

    @property
    def member(self) -> Member | None:
        """The sender's stored row as the Gatekeeper read it (or a handler last changed it)."""
        return self._member

    @property
    def texts(self) -> Texts:
        """The member's language, else their Telegram language, else the default."""
        if self._texts is None:
            self._texts = self.runtime.translator.texts(None)
        return self._texts

    @property
    def timezone(self) -> str:
        """The time zone to show times in for the sender (theirs, or the default)."""
        member = self._member
        return member.timezone if member is not None else self.runtime.config.default_timezone

    @property
    def standing(self) -> Standing | None:
        """The sender's roles as read with their row when the update arrived (None: no sender).

        Read afresh for every update, never kept across updates: a revoked role stops working
        with the next command or press.
        """
        return self._standing

    async def load(self, update: Update) -> Member | None:
        """Read the sender's row, roles and flow (the one read of the update); pick their texts."""
        user = update.effective_user
        if user is None:
            self.remember(None, update)
            return None
        arrival = await self.runtime.members.arrival(user.id)
        self._standing = self.runtime.roles.standing_with(user.id, arrival.roles)
        self.remember(arrival.member, update)
        self._arrival_flow = (user.id, arrival.flow)
        return arrival.member

    async def current_flow(self, user_id: int) -> Flow | None:
        """The member's flow (see FlowService.current): the first time in an update, from the
        row read on arrival; after that read again, since a handler may have moved it."""
        arrived, self._arrival_flow = self._arrival_flow, None
        if arrived is not None and arrived[0] == user_id:
            return await self.runtime.flows.resume(user_id, arrived[1])
        return await self.runtime.flows.current(user_id)

    def remember(self, member: Member | None, update: Update | None = None) -> None:
        """After a handler changed the member (joined, a language, erased): use the new row."""
        self._member = member
        self._arrival_flow = None  # an erased member's flow is gone too: read it again
        translator = self.runtime.translator
        if member is not None:
            self._texts = translator.texts(member.language)
            return
        user = update.effective_user if update is not None else None
        code = user.language_code if user is not None else None
        self._texts = translator.texts(translator.pick_language(code) if user else None)


CONTEXT_TYPES = ContextTypes(context=Context)

Callback: TypeAlias = Callable[[Update, Context], Coroutine[Any, Any, None]]
Handler: TypeAlias = BaseHandler[Update, Context, Any]


class Feature(Protocol):
    """A feature module's entry point: the handlers it adds to the Application."""

    def handlers(self) -> list[Handler]: ...


def command_args(context: Context) -> list[str]:
    return list(context.args or [])
