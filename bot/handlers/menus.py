"""Command menus per language, and per chat for members who hold a role (BotCommandScopeChat)."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import BadRequest, Forbidden

from bot.i18n import N_, Translator
from bot.services.roles import Permission, Standing

log = logging.getLogger(__name__)

MEMBER_COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Welcome and privacy notice")),
    ("latest", N_("The latest updates on the case")),
    ("subscribe", N_("Get updates on the case")),
    ("unsubscribe", N_("Stop getting updates")),
    ("settings", N_("How and when you get updates")),
    ("write", N_("Write a letter of encouragement")),
    ("letters", N_("Your letters and where they are")),
    ("language", N_("Change the language")),
    ("privacy", N_("What we keep and why")),
    ("mydata", N_("Get a copy of your data")),
    ("forget", N_("Erase everything about you")),
    ("whoami", N_("Your Telegram ID and roles")),
    ("help", N_("What this bot can do")),
    ("cancel", N_("Stop what you are doing")),
)
COORDINATOR_COMMANDS: tuple[tuple[str, str], ...] = (
    ("post", N_("Publish an update on the case")),
    ("announce", N_("Send an announcement to subscribers")),
    ("scheduled", N_("Scheduled announcements")),
    ("answer", N_("Post the soldiers' answer to the writers")),
    ("review", N_("Screen pending letters")),
    ("stats", N_("Subscribers and recent broadcasts")),
    ("news", N_("New articles from the news feeds")),
    ("feeds", N_("News feeds being watched")),
)
TRANSLATOR_COMMANDS: tuple[tuple[str, str], ...] = (
    ("translate", N_("Translate approved letters into Korean")),
)
COURIER_COMMANDS: tuple[tuple[str, str], ...] = (
    ("bundle", N_("Make a printable bundle of approved letters")),
    ("bundles", N_("Bundles and hand-over confirmation")),
)
ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (
    ("grant", N_("Give someone a role")),
    ("revoke", N_("Take a role away")),
    ("roles", N_("Who holds which role")),
    ("audit", N_("Recent privileged actions")),
    ("alerts", N_("Which actions you are alerted of")),
    ("block", N_("Make the bot ignore a member")),
    ("unblock", N_("Stop ignoring a member")),
)


def commands_for(standing: Standing | None) -> tuple[tuple[str, str], ...]:
    """Every command this user may use, members' first."""
    commands = MEMBER_COMMANDS
    if standing is None:
        return commands
    if standing.may(Permission.PUBLISH_POSTS):
        commands += COORDINATOR_COMMANDS
    if standing.may(Permission.TRANSLATE_LETTERS):
        commands += TRANSLATOR_COMMANDS
    if standing.may(Permission.MAKE_BUNDLES):
        commands += COURIER_COMMANDS
    if standing.may(Permission.MANAGE_ROLES):
        commands += ADMIN_COMMANDS
    return commands


def _bot_commands(
    translator: Translator, language: str, commands: tuple[tuple[str, str], ...]
) -> list[BotCommand]:
    texts = translator.texts(language)
    # Menu descriptions are plain text, not HTML: use the catalog directly, unescaped.
    return [BotCommand(name, texts.plain(description)) for name, description in commands]


async def set_default_menus(bot: Bot, translator: Translator) -> None:
    """Member commands for everyone: one menu per language plus the default one."""
    default = translator.default_language
    await bot.set_my_commands(_bot_commands(translator, default, MEMBER_COMMANDS))
    for language in ("ko", "en"):
        await bot.set_my_commands(
            _bot_commands(translator, language, MEMBER_COMMANDS),
            scope=BotCommandScopeDefault(),
            language_code=language,
        )


async def set_personal_menu(
    bot: Bot, translator: Translator, chat_id: int, language: str, standing: Standing
) -> bool:
    """Show a privileged user their own commands; plain members fall back to the default menu.

    Returns False when Telegram does not know the chat yet (the user never started the bot);
    the menu is then set when they send /start.
    """
    scope = BotCommandScopeChat(chat_id)
    try:
        if standing.is_privileged:
            commands = _bot_commands(translator, language, commands_for(standing))
            await bot.set_my_commands(commands, scope=scope)
        else:
            await bot.delete_my_commands(scope=scope)
    except (BadRequest, Forbidden) as error:
        log.info("event=personal_menu_skipped reason=%s", type(error).__name__)
        return False
    return True
