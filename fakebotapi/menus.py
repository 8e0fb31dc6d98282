"""Bot API methods for the bot's own settings: command menus, names, descriptions."""

from __future__ import annotations

from fakebotapi.methods import METHODS, CallContext, JsonDict, method
from fakebotapi.validation import bot_commands, command_scope_key

# -- commands and other settings ------------------------------------------------------------


def _command_key(ctx: CallContext) -> tuple[str, str]:
    scope = ctx.params.json("scope")
    if isinstance(scope, dict) and "chat_id" in scope:
        chat_id = scope["chat_id"]
        chat_id = int(chat_id) if str(chat_id).lstrip("-").isdigit() else 0
        ctx.state.target_chat(chat_id, sending=False)
    return command_scope_key(ctx.params)


@method("setMyCommands")
async def set_my_commands(ctx: CallContext) -> bool:
    """Store a command menu under (scope, language_code)."""
    commands = bot_commands(ctx.params)
    key = _command_key(ctx)
    if commands:
        ctx.state.commands[key] = commands
    else:
        ctx.state.commands.pop(key, None)
    return True


@method("deleteMyCommands")
async def delete_my_commands(ctx: CallContext) -> bool:
    """Remove the command menu of (scope, language_code)."""
    ctx.state.commands.pop(_command_key(ctx), None)
    return True


@method("getMyCommands")
async def get_my_commands(ctx: CallContext) -> list[JsonDict]:
    """The exact list stored for (scope, language_code): Telegram does not fall back here."""
    return ctx.state.commands.get(_command_key(ctx), [])


def _bot_text_methods(field_name: str, setter: str, getter: str) -> None:
    async def set_text(ctx: CallContext) -> bool:
        key = (field_name, ctx.params.string("language_code"))
        ctx.state.bot_texts[key] = ctx.params.string(field_name)
        return True

    async def get_text(ctx: CallContext) -> JsonDict:
        key = (field_name, ctx.params.string("language_code"))
        return {field_name: ctx.state.bot_texts.get(key, "")}

    METHODS[setter], METHODS[getter] = set_text, get_text


_bot_text_methods("description", "setMyDescription", "getMyDescription")
_bot_text_methods("short_description", "setMyShortDescription", "getMyShortDescription")
_bot_text_methods("name", "setMyName", "getMyName")


async def _true(ctx: CallContext) -> bool:
    return True


for _name in (
    "close",
    "logOut",
    "setChatMenuButton",
    "setMyDefaultAdministratorRights",
    "pinChatMessage",
    "unpinChatMessage",
    "unpinAllChatMessages",
    "setMessageReaction",
):
    METHODS[_name] = _true


@method("getChatMenuButton")
async def get_chat_menu_button(ctx: CallContext) -> JsonDict:
    """The default menu button."""
    return {"type": "commands"}


@method("getMyDefaultAdministratorRights")
async def get_my_default_administrator_rights(ctx: CallContext) -> JsonDict:
    """No rights requested."""
    rights = (
        "is_anonymous",
        "can_manage_chat",
        "can_delete_messages",
        "can_manage_video_chats",
        "can_restrict_members",
        "can_promote_members",
        "can_change_info",
        "can_invite_users",
        "can_post_stories",
        "can_edit_stories",
        "can_delete_stories",
    )
    return dict.fromkeys(rights, False)


@method("getChat")
async def get_chat(ctx: CallContext) -> JsonDict:
    """ChatFullInfo of a known chat."""
    record = ctx.state.target_chat(ctx.params.chat_id(), sending=False)
    gifts = dict.fromkeys(
        ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription"), False
    )
    return {
        **record.info,
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": gifts,
    }
