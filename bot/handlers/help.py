"""Who am I and what can I do here: /help and /whoami."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.handlers.access import NEVER_ASKS, ROLE_NAMES, standing_of
from bot.handlers.context import Context, Handler
from bot.handlers.menus import commands_for
from bot.handlers.replies import reply
from bot.i18n import Html
from bot.runtime import Runtime


class Help:
    """The commands a user may use, and their own id and roles."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def handlers(self) -> list[Handler]:
        return [
            CommandHandler("help", self.help),
            CommandHandler("whoami", self.whoami),
        ]

    async def help(self, update: Update, context: Context) -> None:
        """/help: the commands this user may use, in their language."""
        texts = context.texts
        standing = context.standing or await standing_of(self.runtime, update)
        lines: list[str] = [texts("<b>What this bot can do</b>")]
        lines += [f"/{name}: {texts(description)}" for name, description in commands_for(standing)]
        lines += ["", texts(NEVER_ASKS)]
        await reply(update, Html("\n".join(lines)))

    async def whoami(self, update: Update, context: Context) -> None:
        """/whoami: the user's own numeric id (what an admin needs to grant a role) and roles."""
        user = update.effective_user
        if user is None:
            return
        texts = context.texts
        standing = context.standing or await self.runtime.roles.standing(user.id)
        names = [texts("admin")] if standing.is_admin else []
        names += [texts(ROLE_NAMES[role]) for role in sorted(standing.roles)]
        member = context.member
        lines = [
            texts("Your Telegram ID: <code>{user_id}</code>", user_id=user.id),
            texts("Roles: {roles}", roles=", ".join(names) if names else texts("member")),
        ]
        if member is not None:
            lines.append(
                texts("Language: {language}", language=texts.language_name(member.language))
            )
            lines.append(
                texts("Subscribed: yes") if member.subscribed else texts("Subscribed: no")
            )
        await reply(update, Html("\n".join(lines)))
