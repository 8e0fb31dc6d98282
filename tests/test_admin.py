"""Admins grant and revoke roles; everyone else is refused and nothing changes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.services.roles import Permission
from fakebotapi.server import FakeBotApi
from tests.conftest import rejected_calls
from tests.support.harness import ADMIN_ID, COORDINATOR_ID, RunningBot
from tests.support.people import member_who_joined


def audit_rows(database: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT action, detail FROM audit_log ORDER BY id").fetchall()


async def test_a_member_cannot_grant_a_role(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    intruder = await member_who_joined(sandbox, 701, "ko")
    await intruder.send("/grant 701 coordinator")
    await intruder.expect("관리자만 할 수 있어요")
    await intruder.send("/roles")
    await intruder.expect("관리자만")
    assert (await bot.runtime.roles.standing(701)).roles == frozenset()
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT COUNT(*) FROM roles").fetchone() == (0,)
    assert audit_rows(database) == [("refused", "manage_roles"), ("refused", "manage_roles")]


async def test_an_admin_grants_a_coordinator_whose_menu_then_has_the_commands(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    coordinator = await member_who_joined(sandbox, COORDINATOR_ID, "en", subscribe=False)
    menu = [c["command"] for c in sandbox.visible_commands(COORDINATOR_ID, "en")]
    assert "post" not in menu and "start" in menu

    admin = sandbox.user(ADMIN_ID, language_code="en")
    await admin.send(f"/grant {COORDINATOR_ID} coordinator")
    await admin.expect(f"{COORDINATOR_ID} is now a coordinator.")
    menu = [c["command"] for c in sandbox.visible_commands(COORDINATOR_ID, "en")]
    assert {"post", "announce", "review", "stats"} <= set(menu)
    assert "grant" not in menu and "bundle" not in menu

    await admin.send(f"/grant {COORDINATOR_ID} coordinator")
    await admin.expect("is already a coordinator")
    await admin.send("/roles")
    roles = await admin.expect("Roles")
    assert f"{COORDINATOR_ID}: coordinator" in roles.text and f"{ADMIN_ID}: admin" in roles.text
    await coordinator.send("/whoami")
    assert "coordinator" in (await coordinator.expect("Your Telegram ID")).text

    await admin.send(f"/revoke {COORDINATOR_ID} coordinator")
    await admin.expect("is no longer a coordinator")
    menu = [c["command"] for c in sandbox.visible_commands(COORDINATOR_ID, "en")]
    assert "post" not in menu
    assert [row[0] for row in audit_rows(database)] == ["grant", "revoke"]
    await admin.send("/audit")
    audit = await admin.expect("Recent privileged actions")
    assert "gave 2000 the role of coordinator" in audit.text
    assert "took the role of coordinator from 2000" in audit.text
    assert rejected_calls(sandbox) == []


async def test_the_audit_log_reads_as_sentences_with_babel_dates_in_korean(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    await member_who_joined(sandbox, COORDINATOR_ID, "ko", subscribe=False)
    admin = sandbox.user(ADMIN_ID, language_code="ko")
    await admin.send(f"/grant {COORDINATOR_ID} courier")
    await admin.expect(f"{COORDINATOR_ID}")
    await bot.runtime.roles.record_refusal(COORDINATOR_ID, Permission.ANNOUNCE.value)
    await bot.runtime.db.execute(
        "INSERT INTO audit_log (at, actor_id, action, target_id, detail)"
        " VALUES (0, ?, 'bundle_delivered', NULL, 'bundle 1 2026-11-30')",
        (COORDINATOR_ID,),
    )
    await admin.send("/audit")
    audit = await admin.expect("최근")
    for code in ("grant", "courier", "refused", "announce", "bundle_delivered", "2026-11-30"):
        assert code not in audit.text
    assert "2026년 11월 30일" in audit.text and "전달자" in audit.text
    assert rejected_calls(sandbox) == []


async def test_bad_grant_arguments_get_the_usage(bot: RunningBot, sandbox: FakeBotApi) -> None:
    admin = sandbox.user(ADMIN_ID, language_code="en")
    for arguments in ("", "123", "@someone coordinator", "123 emperor", "1 2 3"):
        await admin.send(f"/grant {arguments}".strip())
        await admin.expect("Usage: /grant USER_ID coordinator|courier")


@pytest.mark.rejects_on_purpose("chat not found")  # their menu: no chat yet
async def test_a_grant_to_someone_who_never_started_the_bot_still_works(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    admin = sandbox.user(ADMIN_ID, language_code="ko")
    await admin.send("/grant 4242 courier")
    await admin.expect("4242 님은 이제 전달자예요.")
    assert (await bot.runtime.roles.standing(4242)).may(Permission.MAKE_BUNDLES)
