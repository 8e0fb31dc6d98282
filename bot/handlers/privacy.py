"""/privacy: what is stored, why, for how long, who sees it, and how to erase it."""

from __future__ import annotations

from telegram import CallbackQuery, InputFile, Update
from telegram.ext import CommandHandler

from bot.handlers.buttons import ForgetAnswer
from bot.handlers.context import Context, Handler
from bot.handlers.presses import on_press
from bot.handlers.replies import answer, close_buttons, keyboard, reply
from bot.i18n import Html, Texts
from bot.runtime import Runtime


class Privacy:
    """The privacy policy, in the member's language."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def handlers(self) -> list[Handler]:
        return [
            CommandHandler("privacy", self.policy),
            CommandHandler("mydata", self.my_data),
            CommandHandler("forget", self.forget),
            on_press(ForgetAnswer, self.on_forget_answer),
        ]

    async def my_data(self, update: Update, context: Context) -> None:
        """/mydata: everything stored about the member, as a JSON file in this chat."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        texts = context.texts
        if context.member is None:
            await reply(update, texts("We keep nothing about you."))
            return
        document = await self.runtime.privacy.export_json(user.id, texts)
        await chat.send_document(
            InputFile(document, filename="pyeonji-my-data.json"),
            caption=texts("Everything we keep about you. Keep this file somewhere safe."),
        )

    async def forget(self, update: Update, context: Context) -> None:
        """/forget: ask for a confirmation before erasing anything."""
        user = update.effective_user
        if user is None:
            return
        texts = context.texts
        if context.member is None:
            await reply(update, texts("We keep nothing about you."))
            return
        await reply(
            update,
            texts(
                "This erases everything we keep about you: your settings, your subscription "
                "and all your letters. Letters not yet handed over will never reach the "
                "soldiers. It cannot be undone. Erase everything?"
            ),
            keyboard(
                [
                    [
                        (texts.plain("Erase everything"), ForgetAnswer(user.id, 1).pack()),
                        (texts.plain("Keep my data"), ForgetAnswer(user.id, 0).pack()),
                    ]
                ]
            ),
        )

    async def on_forget_answer(
        self, update: Update, context: Context, query: CallbackQuery, button: ForgetAnswer
    ) -> None:
        """The answer to /forget's question."""
        user, texts = query.from_user, context.texts  # texts: before the language is erased
        if button.user != user.id:
            # Someone else's question (forwarded, or in a group): it erases nothing of anyone.
            await answer(query, texts.plain("This button has expired. Please try again."))
            return
        if not button.erase:  # nothing to record: tidy first
            await answer(query)
            await close_buttons(query)
            await reply(update, texts("Nothing was erased."))
            return
        erasure = await self.runtime.privacy.erase(user.id)
        context.remember(None, update)  # erased: nothing of theirs is read again
        await answer(query)
        await close_buttons(query)
        if erasure is None:  # not a member, or already erased: nothing is done
            await reply(update, texts("We keep nothing about you."))
            return
        lines = [
            texts(
                "Everything we kept about you is erased. Send /start if you ever want to come "
                "back."
            )
        ]
        if not erasure.complete:
            lines.append(
                texts(
                    "Only a last copy inside the bot's database file remains for now, while the "
                    "file is busy; it is wiped automatically within a few minutes."
                )
            )
        if erasure.printed_letters:
            lines.append(
                texts.ngettext(
                    "{count} of your letters had already been printed for the soldiers, so a "
                    "paper copy of it may still exist.",
                    "{count} of your letters had already been printed for the soldiers, so paper "
                    "copies of them may still exist.",
                    erasure.printed_letters,
                )
            )
        # Erasing our data does not remove this chat from the phone; someone who fears a phone
        # check must know that, and how to delete it.
        lines.append(
            texts(
                "This chat stays on your phone until you delete it: in Telegram, press and "
                "hold the chat (or open its menu) and choose Delete chat."
            )
        )
        await reply(update, Html("\n\n".join(lines)))

    async def policy(self, update: Update, context: Context) -> None:
        """/privacy: the policy in full."""
        texts = context.texts
        await reply(update, self.policy_text(texts))

    def policy_text(self, texts: Texts) -> Html:
        config = self.runtime.config
        what = texts(
            "<b>What we keep.</b> Your Telegram ID (a number every Telegram account has; it is "
            "not your phone number), your language, your subscription and update settings, "
            "including your time zone (which hints where you live), and the letters you write "
            "with their pen names. We never keep your name, username, phone number or photos."
        )
        why = texts(
            "<b>Why we keep it.</b> Only to send you news of the two soldiers and to pass your "
            "letters to them."
        )
        who = texts(
            "<b>Who sees it.</b> Coordinators read letters to check them, without seeing who "
            "wrote them. The server keeps the link between you and your letters, never shown "
            "to coordinators, so it can tell you when a letter is handed over. A courier "
            "prints approved letters with their pen names only. The Ukrainian authorities "
            "holding the soldiers can read the letters too."
        )
        how_long = texts(
            "<b>How long.</b> Letters handed over or not approved are deleted after {days} days. "
            "If you do not use the bot for {inactive} days, your data is deleted.",
            days=config.letter_retention_days,
            inactive=config.inactive_member_days,
        )
        rights = texts(
            "<b>Your rights.</b> /mydata sends you everything we keep about you. /forget "
            "erases it all."
        )
        return Html("\n\n".join([texts("<b>Privacy</b>"), what, why, who, how_long, rights]))
