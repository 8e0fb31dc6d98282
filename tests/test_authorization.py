"""Every privileged command and button, sent by a plain member: refused, nothing changes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.handlers.menus import (
    ADMIN_COMMANDS,
    COORDINATOR_COMMANDS,
    COURIER_COMMANDS,
    TRANSLATOR_COMMANDS,
)
from fakebotapi.server import FakeBotApi
from tests.support.harness import RunningBot
from tests.support.people import member_who_joined
from tests.support.seeding import seed_announcement, seed_subscribers

# Every command of every role's menu (a new one is covered by itself), with arguments where
# a command takes them.
ARGUMENTS = {
    "grant": "8801 coordinator",
    "revoke": "8801 courier",
    "block": "8802",
    "unblock": "8802",
}
COMMANDS = [
    f"/{name} {ARGUMENTS.get(name, '')}".strip()
    for name, _ in COORDINATOR_COMMANDS + TRANSLATOR_COMMANDS + COURIER_COMMANDS + ADMIN_COMMANDS
]
BUTTONS = [
    "post:publish",
    "post:cancel",
    "ann:to:all",
    "ann:send:all",
    "ann:cancel",
    "ann:stop:1",
    "appr:yes:1",
    "appr:no:1",
    "rev:ok:1",
    "rev:no:1",
    "rev:why:1:names",
    "rev:other:1",
    "rev:skip:1",
    "rev:back:1",
    "bun:pick:1",
    "bun:on:1:2026-11-20",
    "bun:type:1",
    "bun:cancel",
    "news:add",
    "news:notify-on",
    "news:pause:1",
    "news:keywords:1",
    "news:remove:1",
    "news:draft:1",
    "news:dismiss:1",
    "news:later:1",
]
REFUSAL = "Sorry, only "  # then the role the command needs


def snapshot(database: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, except the audit log (refusals are written there)."""
    with sqlite3.connect(database) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT IN ('audit_log', 'sqlite_sequence')"
            )
        ]
        return {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
            for table in tables
        }


async def something_to_act_on(bot: RunningBot) -> None:
    """A pending and a bundled letter, a broadcast under way, a request awaiting approval."""
    db = bot.runtime.db
    await seed_subscribers(db, [8802, 8803])
    await db.execute(
        "INSERT INTO letters (id, user_id, language, pen_name, text, state, created_at)"
        " VALUES (1, 8802, 'ko', '한 친구', '힘내세요. 우리는 당신을 기다려요.', 'pending', 0)"
    )
    await db.execute(
        "INSERT INTO bundles (id, created_by, created_at, letter_count, sent_at)"
        " VALUES (1, 3000, 0, 1, 0)"
    )
    await db.execute(
        "INSERT INTO letters (id, user_id, language, pen_name, text, state, created_at,"
        " bundle_id) VALUES (2, 8803, 'en', 'A friend', 'Stay strong, we wait for you.',"
        " 'bundled', 0, 1)"
    )
    await db.execute(
        "INSERT INTO approval_requests (id, kind, author_id, text_en, created_at)"
        " VALUES (1, 'announcement', 2000, 'Held back', 0)"
    )
    await db.execute(
        "INSERT INTO news_feeds (id, url, created_at) VALUES (1, 'https://news.example/rss', 0)"
    )
    await db.execute(
        "INSERT INTO news_items (id, feed_id, source, title, found_at) VALUES"
        " (1, 1, 'News', 'North Korean POWs', 0)"
    )
    await bot.runtime.sender.stop()  # keep the broadcast's rows pending while we probe
    await seed_announcement(db, "An announcement under way")


async def test_a_plain_member_is_refused_everything_privileged_and_nothing_changes(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    member = await member_who_joined(sandbox, 8801, "en")
    presser = await member_who_joined(sandbox, 8804, "en")  # two people: no flood control
    await something_to_act_on(bot)
    before = snapshot(database)

    for command in COMMANDS:
        await member.send(command)
        assert REFUSAL in (await member.expect(REFUSAL)).text, command
    message = presser.last_message
    assert message is not None
    for data in BUTTONS:
        query = await presser.press(message, data)
        answer = await sandbox.wait_for_callback_answer(query)
        assert REFUSAL in answer.get("text", ""), data
        assert answer.get("show_alert"), data

    assert snapshot(database) == before
    audit = await bot.runtime.roles.recent_audit(100)
    assert len([entry for entry in audit if entry.action == "refused"]) == (
        len(COMMANDS) + len(BUTTONS)
    )
