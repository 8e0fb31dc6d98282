"""A member's rights (a copy of their data, erasure) and retention, proven on the bytes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from bot.sandbox.server import FakeBotApi
from tests.conftest import StartBot, rejected_calls
from tests.support.harness import FrozenClock, RunningBot
from tests.support.people import member_who_joined

# A distinctive id (six bytes as an SQLite integer) and letter text to look for on disk.
MEMBER_ID = 7_381_920_465
LETTER = "용기를 잃지 마세요. 우리는 당신을 기다리고 있어요. 꼭 건강하세요, 형제여."


def file_bytes(database: Path) -> bytes:
    """The database file and its write-ahead log, as an attacker with the disk would read."""
    wal = database.with_name(database.name + "-wal")
    return database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def traces(data: bytes, user_id: int, text: str) -> list[str]:
    found = []
    if str(user_id).encode() in data:
        found.append("id as text")
    if user_id.to_bytes(6, "big") in data:
        found.append("id as an SQLite integer")
    if text.encode() in data or text[:20].encode() in data:
        found.append("letter text")
    return found


async def store_letter(bot: RunningBot, user_id: int, state: str = "pending") -> None:
    await bot.runtime.db.execute(
        "INSERT INTO letters (user_id, language, pen_name, text, state, created_at)"
        " VALUES (?, 'ko', '서울의 한 어머니', ?, ?, 0)",
        (user_id, LETTER, state),
    )


async def test_mydata_sends_everything_kept_as_a_json_file(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    member = await member_who_joined(sandbox, MEMBER_ID, "ko")
    await store_letter(bot, MEMBER_ID)
    await member.send("/mydata")
    document = await member.expect(lambda m: m.kind == "document")
    data = json.loads(sandbox.file(document.file_id or "").data)
    assert data["member"]["user_id"] == MEMBER_ID
    assert data["member"]["language"] == "ko" and data["member"]["subscribed"] == 1
    assert data["letters"][0]["text"] == LETTER
    assert "저장" in document.text  # the caption is in the member's language
    assert rejected_calls(sandbox) == []


async def test_mydata_explains_each_field_in_the_members_language(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    member = await member_who_joined(sandbox, MEMBER_ID, "ko")
    await member.send("/mydata")
    document = await member.expect(lambda m: m.kind == "document")
    data = json.loads(sandbox.file(document.file_id or "").data)
    described = data["field_descriptions"]
    assert "Everything" not in data["about"] and "편지" in data["about"]
    for key in (*data["member"], "member", "letters", "exported_at"):
        assert any("\uac00" <= ch <= "\ud7a3" for ch in described[key]), key
    assert "전화번호가 아니에요" in described["user_id"]


async def test_forget_asks_first_then_leaves_no_trace_in_the_file_or_its_wal(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    member = await member_who_joined(sandbox, MEMBER_ID, "ko")
    await store_letter(bot, MEMBER_ID)
    await store_letter(bot, MEMBER_ID, state="bundled")
    await bot.runtime.roles.record_refusal(MEMBER_ID, "announce")  # an audit row about them
    assert traces(file_bytes(database), MEMBER_ID, LETTER) != []  # the check can see them

    await member.send("/forget")
    question = await member.expect("되돌릴 수 없어요")
    assert "아직 전달되지 않은 편지는 두 병사에게 끝내 전해지지 않아요" in question.text
    await member.click(question, "그대로 두기")
    await member.expect("아무것도 지우지 않았어요")
    assert await bot.runtime.members.get(MEMBER_ID) is not None

    await member.send("/forget")
    await member.click(await member.expect("되돌릴 수 없어요"), "모두 지우기")
    done = await member.expect("모두 지웠어요")
    assert "1통은 이미 병사들에게 전하려고 인쇄되었어요" in done.text
    assert "휴대전화에 그대로 남아 있어요" in done.text  # the chat itself is not erased

    assert await bot.runtime.members.get(MEMBER_ID) is None
    assert traces(file_bytes(database), MEMBER_ID, LETTER) == []
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0] >= 1
    assert rejected_calls(sandbox) == []


async def test_retention_purges_old_letters_and_long_gone_members(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path, clock: FrozenClock
) -> None:
    bot = await make_bot(clock=clock, LETTER_RETENTION_DAYS="30", INACTIVE_MEMBER_DAYS="90")
    await member_who_joined(sandbox, 8001, "en")  # a reader who never writes: kept
    gone = await member_who_joined(sandbox, 8002, "en", subscribe=False)
    await store_letter(bot, 8001, state="pending")
    await bot.runtime.db.execute(
        "INSERT INTO letters (user_id, language, pen_name, text, state, created_at,"
        " delivered_at) VALUES (8001, 'ko', 'A friend', ?, 'delivered', 0, ?)",
        ("An old delivered letter, past its time.", int(clock.now().timestamp())),
    )
    del gone

    clock.advance(days=31)
    purged = await bot.runtime.retention.purge()
    assert (purged.letters, purged.members) == (1, 0)
    assert b"An old delivered letter" not in file_bytes(database)

    clock.advance(days=60)
    purged = await bot.runtime.retention.purge()
    assert purged.members == 1
    assert await bot.runtime.members.get(8002) is None
    assert await bot.runtime.members.get(8001) is not None
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT COUNT(*) FROM letters").fetchone() == (1,)
