"""/privacy: what is stored, why, for how long, who sees it, and how to erase it."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.handlers.common import Context, Handler, reply, texts_for
from bot.i18n import Html, Texts
from bot.runtime import Runtime


class Privacy:
    """The privacy policy, in the member's language."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def handlers(self) -> list[Handler]:
        return [CommandHandler("privacy", self.policy)]

    async def policy(self, update: Update, context: Context) -> None:
        """/privacy: the policy in full."""
        texts = await texts_for(self.runtime, update)
        await reply(update, self.policy_text(texts))

    def policy_text(self, texts: Texts) -> Html:
        config = self.runtime.config
        what = texts(
            "<b>What we keep.</b> Your numeric Telegram id, your language, your subscription "
            "and delivery settings, and the letters you write with their pen names. We never "
            "keep your name, username, phone number or photos."
        )
        why = texts(
            "<b>Why.</b> Only to send you updates on the case and to pass your letters to the "
            "two soldiers."
        )
        who = texts(
            "<b>Who sees it.</b> Coordinators read letters to check them, without seeing who "
            "wrote them. A courier prints approved letters with their pen names only. The "
            "soldiers' guards may read the letters too."
        )
        how_long = texts(
            "<b>How long.</b> Delivered and rejected letters are deleted after {days} days. "
            "Members who have been inactive for {inactive} days are deleted.",
            days=config.letter_retention_days,
            inactive=config.inactive_member_days,
        )
        rights = texts(
            "<b>Your rights.</b> /mydata sends you everything we keep about you. /forget "
            "erases it all."
        )
        return Html("\n\n".join([texts("<b>Privacy</b>"), what, why, who, how_long, rights]))
