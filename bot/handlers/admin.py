"""Admin commands: /grant, /revoke, /roles, /audit; every change goes to the audit log."""

from __future__ import annotations

import re
from datetime import date

from babel.dates import format_date
from telegram import Update
from telegram.ext import CommandHandler

from bot.clock import from_epoch
from bot.handlers.access import ROLE_NAMES, requires
from bot.handlers.context import Context, Handler, command_args
from bot.handlers.menus import set_personal_menu
from bot.handlers.replies import reply
from bot.i18n import N_, Html, Texts
from bot.models import AuditEntry, Role
from bot.runtime import Runtime
from bot.services.alerts import describe
from bot.services.roles import ATTEMPT_NAMES, Permission, RoleChange

# Telegram user ids are positive 52-bit integers, in ASCII digits only: \d would take any
# script's digits, and Bengali ৪ (4) reads as 8, so "/grant 1৪" would grant someone unseen.
_USER_ID = re.compile(r"^[0-9]{1,15}$")


class Admin:
    """Role management for the admins named in ADMIN_IDS."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def handlers(self) -> list[Handler]:
        guard = requires(self.runtime, Permission.MANAGE_ROLES)
        blocker = requires(self.runtime, Permission.BLOCK_MEMBERS)
        return [
            CommandHandler("grant", guard(self.grant)),
            CommandHandler("revoke", guard(self.revoke)),
            CommandHandler("roles", guard(self.list_roles)),
            CommandHandler("audit", requires(self.runtime, Permission.READ_AUDIT)(self.audit)),
            CommandHandler("block", blocker(self.block)),
            CommandHandler("unblock", blocker(self.unblock)),
        ]

    async def block(self, update: Update, context: Context) -> None:
        """/block ID: the member's messages and buttons are ignored from now on."""
        await self._set_blocked(update, context, blocked=True)

    async def unblock(self, update: Update, context: Context) -> None:
        """/unblock ID"""
        await self._set_blocked(update, context, blocked=False)

    async def _set_blocked(self, update: Update, context: Context, *, blocked: bool) -> None:
        user = update.effective_user
        if user is None:
            return
        texts = context.texts
        args = command_args(context)
        if len(args) != 1 or not _USER_ID.match(args[0]):
            await reply(update, texts("Usage: /block USER_ID or /unblock USER_ID."))
            return
        if int(args[0]) == user.id:
            await reply(update, texts("You cannot block or unblock yourself."))
            return
        target = int(args[0])
        changed = await self.runtime.members.set_blocked_by_admin(user.id, target, blocked=blocked)
        if not changed:
            await reply(
                update,
                texts(
                    "Nothing changed: {user_id} is not a member, or is already in that state.",
                    user_id=target,
                ),
            )
        elif blocked:
            await reply(
                update,
                texts("{user_id} is blocked: the bot ignores them from now on.", user_id=target),
            )
        else:
            await reply(update, texts("{user_id} is no longer blocked.", user_id=target))

    async def grant(self, update: Update, context: Context) -> None:
        """/grant ID coordinator|courier|translator"""
        await self._change(update, context, grant=True)

    async def revoke(self, update: Update, context: Context) -> None:
        """/revoke ID coordinator|courier"""
        await self._change(update, context, grant=False)

    async def _change(self, update: Update, context: Context, *, grant: bool) -> None:
        user = update.effective_user
        if user is None:
            return
        texts = context.texts
        parsed = _parse(command_args(context))
        if parsed is None:
            await reply(update, _usage(texts, "grant" if grant else "revoke"))
            return
        target_id, role = parsed
        change = self.runtime.roles.grant if grant else self.runtime.roles.revoke
        outcome = await change(user.id, target_id, role)
        if outcome is RoleChange.REFUSED:  # the guard ran, but roles may change in between
            await reply(update, texts("Sorry, only admins can do that."))
            return
        if outcome is RoleChange.DONE:
            await self._refresh_menu(context, target_id)
        await reply(update, _outcome_text(texts, grant, outcome, target_id, role))

    async def list_roles(self, update: Update, context: Context) -> None:
        """/roles: admins from configuration, then every granted role."""
        texts = context.texts
        lines = [texts("<b>Roles</b>")]
        lines += [
            texts("{user_id}: admin", user_id=admin_id)
            for admin_id in sorted(self.runtime.roles.admin_ids)
        ]
        lines += [
            texts("{user_id}: {role}", user_id=user_id, role=texts(ROLE_NAMES[role]))
            for user_id, role in await self.runtime.roles.grants()
        ]
        await reply(update, Html("\n".join(lines)))

    async def audit(self, update: Update, context: Context) -> None:
        """/audit: the most recent privileged actions."""
        texts = context.texts
        zone = context.timezone
        entries = await self.runtime.roles.recent_audit(20)
        if not entries:
            await reply(update, texts("The audit log is empty."))
            return
        lines = [texts("<b>Recent privileged actions</b>")]
        lines += [audit_line(texts, entry, zone) for entry in entries]
        await reply(update, Html("\n".join(lines)))

    async def _refresh_menu(self, context: Context, target_id: int) -> None:
        member = await self.runtime.members.get(target_id)
        language = member.language if member else self.runtime.config.default_language
        chat_id = member.chat_id if member else target_id
        standing = await self.runtime.roles.standing(target_id)
        await set_personal_menu(context.bot, self.runtime.translator, chat_id, language, standing)


def _parse(args: list[str]) -> tuple[int, Role] | None:
    if len(args) != 2 or not _USER_ID.match(args[0]):
        return None
    try:
        return int(args[0]), Role(args[1].lower())
    except ValueError:
        return None


def _usage(texts: Texts, command: str) -> Html:
    return texts(
        "Usage: /{command} USER_ID coordinator|courier|translator. The person can see their ID "
        "with /whoami.",
        command=command,
    )


def _outcome_text(
    texts: Texts, grant: bool, outcome: RoleChange, target_id: int, role: Role
) -> Html:
    role_name = texts(ROLE_NAMES[role])
    if grant and outcome is RoleChange.DONE:
        return texts("{user_id} is now a {role}.", user_id=target_id, role=role_name)
    if grant:
        return texts("{user_id} is already a {role}.", user_id=target_id, role=role_name)
    if outcome is RoleChange.DONE:
        return texts("{user_id} is no longer a {role}.", user_id=target_id, role=role_name)
    return texts("{user_id} was not a {role}.", user_id=target_id, role=role_name)


# /audit in words: one sentence per action the bot records. {actor} and {target} are numeric
# Telegram IDs, {number} the letter or bundle the detail names, {what} a translated word.
_AUDIT_SENTENCES = {
    "grant": N_("{when}: {actor} gave {target} the role of {what}"),
    "revoke": N_("{when}: {actor} took the role of {what} from {target}"),
    "block": N_("{when}: {actor} blocked member {target}"),
    "unblock": N_("{when}: {actor} unblocked member {target}"),
    "refused": N_("{when}: {actor} was refused: {what}"),
    "letter_approved": N_("{when}: {actor} approved letter {number}"),
    "letter_rejected": N_("{when}: {actor} did not approve letter {number}"),
    "bundle_made": N_("{when}: {actor} made bundle {number}"),
    "bundle_delivered": N_("{when}: {actor} recorded bundle {number} as handed over on {what}"),
    "approval_requested": N_("{when}: {actor} asked a second coordinator to approve {what}"),
    "approval_granted": N_("{when}: {actor} approved {what} by {target}"),
    "approval_refused": N_("{when}: {actor} refused {what} by {target}"),
}
_KIND_NAMES = {"update": N_("an update"), "announcement": N_("an announcement")}


def audit_line(texts: Texts, entry: AuditEntry, zone: str) -> Html:
    """One audit entry as a sentence with a Babel date; unknown actions as they are stored."""
    when = texts.datetime_in(from_epoch(entry.at), zone)
    template = _AUDIT_SENTENCES.get(entry.action)
    words = entry.detail.split()
    number = next((word for word in words if word.isdigit()), "")
    if template is None:  # the sentence admins' alerts use (bot/services/alerts.py)
        return texts("{when}: {sentence}", when=when, sentence=describe(texts, entry))
    return texts(
        template,
        when=when,
        actor=entry.actor_id,
        target=entry.target_id if entry.target_id is not None else "",
        number=number,
        what=_audit_what(texts, entry.action, words),
    )


def _audit_what(texts: Texts, action: str, words: list[str]) -> str:
    last = words[-1] if words else ""
    if action in {"grant", "revoke"} and last in {role.value for role in ROLE_NAMES}:
        return texts.plain(ROLE_NAMES[Role(last)])
    if action == "refused" and last in ATTEMPT_NAMES:
        return texts.plain(ATTEMPT_NAMES[last])
    if action.startswith("approval_") and last in _KIND_NAMES:
        return texts.plain(_KIND_NAMES[last])
    if action == "bundle_delivered":
        try:
            day = date.fromisoformat(last)
        except ValueError:
            return last
        return format_date(day, "long", locale=texts.locale)
    return last
