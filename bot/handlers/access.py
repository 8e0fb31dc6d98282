"""Who may do what: consent before anything is kept, and roles checked on every press."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeAlias, TypeVar

from telegram import Update

from bot.handlers.context import Callback, Context
from bot.handlers.flows import leave_flow
from bot.handlers.replies import answer, reply
from bot.i18n import N_, Texts, escape
from bot.models import Member, Role
from bot.runtime import Runtime
from bot.services.roles import Permission, Standing

# Phishers write as someone members trust (a hijacked coordinator's account, a fake Pyeonji):
# the welcome and /help say what the real one never asks for.
NEVER_ASKS = N_(
    "<b>Stay safe:</b> Pyeonji and its organizers will never ask you for a password, a login "
    "code, money, or to open a file or install an app. If a message asks for any of these, "
    "even one that seems to come from us, do not answer it and report it to the organizers."
)

ROLE_NAMES = {
    Role.COORDINATOR: N_("coordinator"),
    Role.COURIER: N_("courier"),
    Role.TRANSLATOR: N_("translator"),
}

_Feature = TypeVar("_Feature")
MemberMethod: TypeAlias = Callable[[_Feature, Update, Context, Member], Awaitable[None]]
Method: TypeAlias = Callable[[_Feature, Update, Context], Coroutine[Any, Any, None]]


def consented(method: MemberMethod[_Feature]) -> Method[_Feature]:
    """A handler for members who accepted the notice; anyone else is asked to /start first.

    The member is the row the Gatekeeper read for this update (`context.member`).
    """

    @functools.wraps(method)
    async def checked(self: _Feature, update: Update, context: Context) -> None:
        member = context.member
        if member is None or not member.has_consented:
            await ask_to_start(update, context.texts)
            return
        await method(self, update, context, member)

    return checked


def consent_first(callback: Callback) -> Callback:
    """A button or command for members who accepted the notice; others are asked to /start."""

    @functools.wraps(callback)
    async def checked(update: Update, context: Context) -> None:
        if await has_consented(update, context):
            await callback(update, context)

    return checked


async def ask_to_start(update: Update, texts: Texts) -> None:
    """Someone without consent pressed or typed something that needs it: point to /start."""
    if update.callback_query is not None:
        await answer(
            update.callback_query,
            texts.plain("Please send /start first: we need your consent before we keep anything."),
            alert=True,
        )
    else:
        await reply(
            update,
            texts("Please send /start first: we need your consent before we keep anything."),
        )


def requires(runtime: Runtime, permission: Permission) -> Callable[[Callback], Callback]:
    """Check the sender's standing again on every command and button press, and refuse politely.

    Roles are looked up when the update arrives, never cached: a revoked coordinator's old
    buttons stop working at once.
    """

    def decorate(callback: Callback) -> Callback:
        @functools.wraps(callback)
        async def guarded(update: Update, context: Context) -> None:
            user = update.effective_user
            standing = context.standing
            if standing is None and user is not None:  # not loaded: no Gatekeeper ran
                standing = await runtime.roles.standing(user.id)
            if standing is not None and standing.may(permission):
                await callback(update, context)
                return
            if user is not None:
                await runtime.roles.record_refusal(user.id, permission.value)
            await refuse(update, context, permission)

        return guarded

    return decorate


# The refusal names the role the command needs (a coordinator trying /bundle is told that
# couriers make bundles, not that "coordinators, couriers or admins" may).
_REFUSALS = {
    Permission.MAKE_BUNDLES: N_("Sorry, only couriers can do that."),
    Permission.MANAGE_ROLES: N_("Sorry, only admins can do that."),
    Permission.BLOCK_MEMBERS: N_("Sorry, only admins can do that."),
    Permission.READ_AUDIT: N_("Sorry, only admins can do that."),
    Permission.TRANSLATE_LETTERS: N_("Sorry, only translators and coordinators can do that."),
}
_COORDINATORS_ONLY = N_("Sorry, only coordinators can do that.")


async def refuse(update: Update, context: Context, permission: Permission) -> None:
    """Tell a user, in their language, that this is not theirs to do, and whose it is."""
    refusal = context.texts.plain(_REFUSALS.get(permission, _COORDINATORS_ONLY))
    if update.callback_query is not None:
        await answer(update.callback_query, refusal, alert=True)
    else:
        await reply(update, escape(refusal))


async def standing_of(runtime: Runtime, update: Update) -> Standing | None:
    user = update.effective_user
    return await runtime.roles.standing(user.id) if user is not None else None


async def has_consented(update: Update, context: Context) -> bool:
    """For a step inside a handler that keeps something: True, or the sender is asked to /start."""
    member = context.member
    if member is not None and member.has_consented:
        return True
    await ask_to_start(update, context.texts)
    return False


async def still_may(update: Update, context: Context, permission: Permission) -> bool:
    """A typed step of a privileged flow: the role may have been revoked since it began."""
    runtime = context.runtime
    standing = await standing_of(runtime, update)
    if standing is not None and standing.may(permission):
        return True
    await leave_flow(runtime, update)
    user = update.effective_user
    if user is not None:
        await runtime.roles.record_refusal(user.id, permission.value)
    await refuse(update, context, permission)
    return False
