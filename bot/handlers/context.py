"""The per-update context: the runtime, the member behind the update and their texts.

The Gatekeeper (handler group -1) loads the member once per update; every handler then reads
`context.member` and `context.texts` instead of asking the database again (PTB shares one
context between the groups of an update; see PTB's examples/contexttypesbot.py).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeAlias

from telegram import Update
from telegram.ext import Application, BaseHandler, CallbackContext, ContextTypes, ExtBot

from bot.i18n import Texts
from bot.models import Member
from bot.runtime import Runtime

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

    async def load(self, update: Update) -> Member | None:
        """Read the sender's row (the one read of the update) and pick their texts."""
        user = update.effective_user
        member = await self.runtime.members.get(user.id) if user is not None else None
        self.remember(member, update)
        return member

    def remember(self, member: Member | None, update: Update | None = None) -> None:
        """After a handler changed the member (joined, a language, erased): use the new row."""
        self._member = member
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
