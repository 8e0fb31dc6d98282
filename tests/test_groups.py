"""Private chats only: in groups, supergroups and channels the bot reveals and changes nothing."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.handlers.menus import (
    ADMIN_COMMANDS,
    COORDINATOR_COMMANDS,
    COURIER_COMMANDS,
    MEMBER_COMMANDS,
    TRANSLATOR_COMMANDS,
)
from bot.models import Role
from bot.storage.migrations import MIGRATIONS_DIR
from fakebotapi import GROUP_ANONYMOUS_BOT, FakeGroup
from fakebotapi.server import FakeBotApi
from fakebotapi.users import FakeUser
from tests.conftest import StartBot
from tests.support.harness import (
    ADMIN_ID,
    COORDINATOR_ID,
    COURIER_ID,
    RunningBot,
    expect_nothing_more,
    settled,
)
from tests.support.people import member_who_joined, staff
from tests.support.seeding import seed_announcement, seed_subscribers

MEMBER_ID = 9101
PEN_NAME = "서울의 한 어머니"
LETTER = "두 분의 용기를 응원합니다. 건강하게 지내시고 꼭 원하는 곳으로 가시기를 바랍니다."
BOT_LINK = "t.me/fakebotapi_test_bot"
ANONYMOUS = "anonymous admin"
SENDERS = ("member", "coordinator", "courier", "admin", ANONYMOUS)
# Arguments that would make a command change something, had it run.
ARGUMENTS = {
    "start": "write",
    "grant": f"{MEMBER_ID} coordinator",
    "revoke": f"{COORDINATOR_ID} coordinator",
    "block": str(MEMBER_ID),
    "unblock": str(MEMBER_ID),
}
# Realistic data for each kind of button; a kind missing here is still pressed (prefix + "1").
BUTTON_SAMPLES = {
    "start:": "start:agree",
    "lang:": "lang:en",
    "sub:": "sub:yes",
    "set:": "set:mode:daily",
    "write:": "write:send",
    "letters:": "letters:withdraw:1",
    "forget:": "forget:yes",
    "rev:": "rev:ok:1",
    "bun:": "bun:pick:1",
    "post:": "post:publish",
    "ann:": "ann:send:all",
    "appr:": "appr:ok:1",
}


def dump(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    with sqlite3.connect(database) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            table: sorted(
                connection.execute(f"SELECT * FROM {table}").fetchall(),
                key=repr,
            )
            for table in tables
        }


def registered_commands(bot: RunningBot) -> list[str]:
    """Every command the Application answers: a new command is covered here by itself."""
    handlers = [h for group in bot.application.handlers.values() for h in group]
    return sorted({c for h in handlers if isinstance(h, CommandHandler) for c in h.commands})


def button_kinds(bot: RunningBot) -> list[str]:
    """Callback data for every kind of button a handler takes, and one no handler knows."""
    handlers = [h for group in bot.application.handlers.values() for h in group]
    prefixes = sorted(
        h.pattern.pattern.lstrip("^")
        for h in handlers
        if isinstance(h, CallbackQueryHandler) and isinstance(h.pattern, re.Pattern)
    )
    return [BUTTON_SAMPLES.get(prefix, f"{prefix}1") for prefix in prefixes] + ["nothing:1"]


def pointer(bot: RunningBot, language: str) -> str:
    """The one sentence the bot says outside private chats, in `language`."""
    texts = bot.runtime.translator.texts(language)
    sentence = texts.plain("I only talk in private chats: please write to me at t.me/{username}")
    return sentence.format(username="fakebotapi_test_bot")


@pytest.fixture
async def cast(bot: RunningBot, sandbox: FakeBotApi) -> dict[str, FakeUser]:
    """A member with letters (one pending, one approved), a coordinator, a courier, the admin."""
    member = await member_who_joined(sandbox, MEMBER_ID, "en")
    for state in ("pending", "approved"):
        await bot.runtime.db.execute(
            "INSERT INTO letters (user_id, language, pen_name, text, state, created_at)"
            " VALUES (?, 'ko', ?, ?, ?, 0)",
            (MEMBER_ID, PEN_NAME, LETTER, state),
        )
    people = {
        "member": member,
        "coordinator": await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR),
        "courier": await staff(bot, sandbox, COURIER_ID, Role.COURIER),
        "admin": sandbox.user(ADMIN_ID, language_code="en"),
    }
    assert await bot.runtime.sender.drained(timeout=10)
    return people


def private_messages(sandbox: FakeBotApi) -> dict[int, int]:
    return {
        chat_id: len(record.messages)
        for chat_id, record in sandbox.state.chats.items()
        if record.info["type"] == "private"
    }


def assert_only_the_pointer(bot: RunningBot, group: FakeGroup, language: str) -> None:
    """Everything the bot wrote in the group is the one sentence: no ids, letters, files."""
    for message in group.messages:
        assert message.kind == "text" and message.reply_markup is None
        assert message.text == pointer(bot, language)
        assert BOT_LINK in message.text
        assert not re.search(r"\d", message.text), message.text
        assert PEN_NAME not in message.text and LETTER[:10] not in message.text


def test_every_menu_command_is_registered_and_every_command_is_in_a_menu(
    bot: RunningBot,
) -> None:
    menus = (
        MEMBER_COMMANDS
        + COORDINATOR_COMMANDS
        + TRANSLATOR_COMMANDS
        + COURIER_COMMANDS
        + ADMIN_COMMANDS
    )
    assert sorted({name for name, _ in menus}) == registered_commands(bot)


@pytest.mark.parametrize("sender", SENDERS)
async def test_every_command_in_a_group_gets_one_sentence_and_changes_nothing(
    bot: RunningBot,
    sandbox: FakeBotApi,
    database: Path,
    cast: dict[str, FakeUser],
    sender: str,
) -> None:
    # The roles the cast was granted are alerted to the admins: let that settle first.
    await bot.runtime.alerts.flush()
    assert await bot.runtime.sender.drained(timeout=10)
    before, private_before = dump(database), private_messages(sandbox)
    commands = registered_commands(bot)
    for number, command in enumerate(commands):
        text = f"/{command} {ARGUMENTS.get(command, '')}".strip()
        group = sandbox.group(-6000 - number, f"Group {number}", supergroup=number % 2 == 0)
        if sender == ANONYMOUS:
            await group.send_as_anonymous_admin(text)
        else:
            await group.send(cast[sender], text)
        language = "ko" if sender == ANONYMOUS else "en"  # no language_code: the default
        reply = await group.expect()
        assert reply.text == pointer(bot, language), f"/{command}: {reply.text[:200]}"
    await sandbox.wait_until_fetched()
    assert await bot.runtime.sender.drained(timeout=10)
    for number in range(len(commands)):
        group = sandbox.group(-6000 - number)
        assert len(group.messages) == 1
        assert_only_the_pointer(bot, group, "ko" if sender == ANONYMOUS else "en")
    assert dump(database) == before
    assert private_messages(sandbox) == private_before


@pytest.mark.parametrize("sender", ["member", "coordinator", "courier", "admin"])
async def test_every_button_pressed_in_a_group_gets_the_sentence_as_its_answer_only(
    bot: RunningBot,
    sandbox: FakeBotApi,
    database: Path,
    cast: dict[str, FakeUser],
    sender: str,
) -> None:
    """Presses are never anonymous, so an anonymous admin presses as the admin they are."""
    group = sandbox.group(-6500, "Volunteers", supergroup=True)
    kinds = button_kinds(bot)
    assert len(kinds) >= 12
    # A message with buttons in the group: sent before this fix, say.
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d)] for d in kinds])
    sent = await bot.application.bot.send_message(group.id, "An old menu", reply_markup=markup)
    message = sandbox.message(group.id, sent.message_id)
    # The roles the cast was granted are alerted to the admins: let that settle first.
    await bot.runtime.alerts.flush()
    assert await bot.runtime.sender.drained(timeout=10)
    before, private_before = dump(database), private_messages(sandbox)
    for data in kinds:
        query_id = await group.press(cast[sender], message, data)
        answer = await sandbox.wait_for_callback_answer(query_id)
        assert answer["text"] == pointer(bot, "en"), f"{data}: {answer}"
        assert not answer["show_alert"]
    await sandbox.wait_until_fetched()
    assert await bot.runtime.sender.drained(timeout=10)
    assert [m.message_id for m in group.messages] == [sent.message_id]
    assert not message.edited
    assert dump(database) == before
    assert private_messages(sandbox) == private_before


async def test_start_in_a_group_keeps_the_members_delivery_chat_private(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    member = await member_who_joined(sandbox, MEMBER_ID, "en")
    group = sandbox.group(-6601, "Volunteers")
    await group.send(member, "/start")
    answer = await group.expect()
    stored = await bot.runtime.members.get(MEMBER_ID)
    assert stored is not None and stored.chat_id == MEMBER_ID
    assert answer.text == pointer(bot, "en")
    # Even called directly, registration refuses any chat but the person's own.
    with pytest.raises(ValueError, match="private chat"):
        await bot.runtime.members.join(MEMBER_ID, group.id, "en")
    with pytest.raises(ValueError, match="private chat"):
        await bot.runtime.members._members.register(MEMBER_ID, group.id, "en", "UTC", 0)
    stored = await bot.runtime.members.get(MEMBER_ID)
    assert stored is not None and stored.chat_id == MEMBER_ID
    # What the bot sends the member on its own reaches their private chat, not the group.
    await seed_announcement(bot.runtime.db, "News for subscribers")
    bot.runtime.sender.wake()
    await member.expect("News for subscribers")
    assert await bot.runtime.sender.drained(timeout=10)
    assert len(group.messages) == 1


async def test_anonymous_admins_of_two_groups_are_never_one_member(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    first, second = sandbox.group(-6701, "A"), sandbox.group(-6702, "B", supergroup=True)
    await first.send_as_anonymous_admin("/start")
    await first.expect(BOT_LINK)
    await second.send_as_anonymous_admin("/mydata")
    await second.expect(BOT_LINK)
    await second.send_as_anonymous_admin("/whoami")
    await second.expect(BOT_LINK)
    anonymous_id = int(GROUP_ANONYMOUS_BOT["id"])
    assert await bot.runtime.members.get(anonymous_id) is None
    with pytest.raises(ValueError, match="private chat"):
        await bot.runtime.members.join(anonymous_id, anonymous_id, "ko")
    assert all(table == [] for name, table in dump(database).items() if name == "members")
    assert not any(m.kind == "document" for m in first.messages + second.messages)


async def test_added_to_a_group_the_bot_says_one_sentence_and_leaves(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    member = await member_who_joined(sandbox, MEMBER_ID, "en")
    before = dump(database)
    group = sandbox.group(-6801, "Volunteers")
    await group.add_bot(member)
    await group.expect(BOT_LINK)
    await sandbox.wait_until(lambda: group.bot_left, what="the bot left the group")
    await sandbox.wait_until_fetched()  # the bot's own "left" update, too
    assert len(group.messages) == 1
    assert_only_the_pointer(bot, group, "en")
    assert dump(database) == before


async def test_in_a_channel_the_bot_posts_nothing_and_leaves(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    member = await member_who_joined(sandbox, MEMBER_ID, "en")
    before = dump(database)
    channel = sandbox.channel(-1006901, "News")
    await channel.post("/start")
    await channel.post("/mydata")
    await expect_nothing_more(bot, channel)
    await channel.add_bot(member)
    await sandbox.wait_until(lambda: channel.bot_left, what="the bot left the channel")
    assert channel.messages == []
    assert dump(database) == before


async def test_plain_talk_in_a_group_is_not_answered(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    member = await member_who_joined(sandbox, MEMBER_ID, "en")
    group = sandbox.group(-6902, "Volunteers")
    await group.send(member, "hello everyone")
    await expect_nothing_more(bot, group)
    await group.send(member, "/help")
    await group.expect(BOT_LINK)


# The migration that repairs what /start in a group did before.
REPAIR = int(next(MIGRATIONS_DIR.glob("*_groups_private_delivery_chat.sql")).name[:4])


async def test_members_moved_to_a_group_by_the_old_start_get_their_private_chat_back(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path
) -> None:
    """What /start in a group did before this fix is repaired when the bot is upgraded."""
    bot = await make_bot()
    await seed_subscribers(bot.runtime.db, [9201, 9202, int(GROUP_ANONYMOUS_BOT["id"])])
    await bot.stop()
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE members SET chat_id = -6999 WHERE user_id <> 9202")
        connection.execute("DELETE FROM schema_migrations WHERE version = ?", (REPAIR,))
    bot = await make_bot()
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT user_id, chat_id, subscribed, active FROM members ORDER BY user_id"
        ).fetchall()
    assert rows == [(9201, 9201, 1, 1), (9202, 9202, 1, 1), (1087968824, 1087968824, 0, 0)]


async def test_a_flood_in_a_group_is_quiet_there_and_leaves_the_private_chat_alone(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    member = await member_who_joined(sandbox, MEMBER_ID, "en")
    group = sandbox.group(-6903, "Volunteers")
    for _ in range(40):
        await group.send(member, "/help")
    await settled(bot, sandbox)  # all 40 handled: what the group got is all it gets
    await member.send("/help")
    await member.expect("What this bot can do")
    await expect_nothing_more(bot, group)
    assert 1 <= len(group.messages) <= 3
    assert all(m.text == pointer(bot, "en") for m in group.messages)
    assert not any("very fast" in m.text for m in member.messages)


async def test_a_group_that_removed_the_bot_never_marks_a_member_as_gone(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    member = await member_who_joined(sandbox, MEMBER_ID, "en")
    group = sandbox.group(-6904, "Volunteers")
    await group.remove_bot(member)
    await group.send(member, "/help")  # in flight while the bot was removed
    await sandbox.wait_for_calls("sendMessage", count=1 + len(member.messages))
    await sandbox.wait_until_fetched()
    await member.send("/help")
    await member.expect("What this bot can do")
    stored = await bot.runtime.members.get(MEMBER_ID)
    assert stored is not None and stored.active
    assert group.messages == []
