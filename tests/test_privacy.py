"""A member's rights (a copy of their data, erasure) and retention, proven on the bytes."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from pathlib import Path

import pytest

from bot.handlers.buttons import ForgetAnswer
from bot.models import Role
from bot.services.privacy import CheckpointRetry
from bot.storage.privacy import PERSON_COLUMNS
from fakebotapi.server import FakeBotApi
from tests.conftest import StartBot, rejected_calls
from tests.support.harness import ADMIN_ID, FrozenClock, RunningBot
from tests.support.people import member_who_joined, staff

# A distinctive id (six bytes as an SQLite integer) and letter text to look for on disk.
MEMBER_ID = 7_381_920_465
LETTER = "용기를 잃지 마세요. 우리는 당신을 기다리고 있어요. 꼭 건강하세요, 형제여."
# A volunteer's Korean translation of a letter: erased with it.
TRANSLATION = "번역: 형제여, 우리는 매일 당신을 생각해요."


def file_bytes(database: Path) -> bytes:
    """The database file and its write-ahead log, as an attacker with the disk would read."""
    wal = database.with_name(database.name + "-wal")
    return database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def main_file_bytes(database: Path) -> bytes:
    """The database file alone: a checkpoint or a VACUUM would change it."""
    return database.read_bytes()


def varint(value: int) -> bytes:
    """SQLite's variable-length integer (how a rowid is stored in a b-tree cell)."""
    groups = [value & 0x7F]
    value >>= 7
    while value:
        groups.append(value & 0x7F)
        value >>= 7
    groups.reverse()
    return bytes([group | 0x80 for group in groups[:-1]] + [groups[-1]])


def traces(data: bytes, user_id: int, *texts: str) -> list[str]:
    found = []
    if str(user_id).encode() in data:
        found.append("id as text")
    if user_id.to_bytes(6, "big") in data:
        found.append("id as an SQLite integer")
    if user_id.to_bytes(8, "big") in data:
        found.append("id as an 8-byte SQLite integer")
    if varint(user_id) in data:
        found.append("id as an SQLite varint")
    for text in texts:
        if text.encode() in data or text[:12].encode() in data:
            found.append(f"text {text[:12]!r}")
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
    await bot.runtime.db.execute(
        "UPDATE letters SET translation = ? WHERE state = 'bundled'", (TRANSLATION,)
    )
    assert traces(file_bytes(database), MEMBER_ID, LETTER) != []  # the check can see them
    assert TRANSLATION.encode() in file_bytes(database)

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
    assert TRANSLATION.encode() not in file_bytes(database)
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


# Someone with a distinctive id who posts, broadcasts, decides, bundles and grants, and whose
# notices (with a pen name and a coordinator's note) sit in the outbox, sent and not.
PERSON_ID = 6_912_384_507
PEN_NAME = "함흥 출신의 한 사람"
NOTE = "고향 함흥 이야기는 빼 주세요"


async def leave_traces_everywhere(bot: RunningBot, person: int) -> None:
    """A row naming `person` in every column of PERSON_COLUMNS, as the bot's flows leave them."""
    db = bot.runtime.db
    await db.execute(
        "INSERT INTO letters (user_id, language, pen_name, text, state, created_at,"
        " reject_note) VALUES (?, 'ko', ?, ?, 'rejected', 0, ?)",
        (person, PEN_NAME, LETTER, NOTE),
    )
    await db.execute(
        "INSERT INTO updates (text_ko, author_id, published_at) VALUES ('소식', ?, 0)", (person,)
    )
    await db.execute(
        "INSERT INTO broadcasts (kind, author_id, state, created_at, progress_chat_id,"
        " progress_message_id) VALUES ('announcement', ?, 'done', 0, ?, 77)",
        (person, person),
    )
    await db.execute(
        "INSERT INTO approval_requests (kind, author_id, text_ko, state, decided_by,"
        " created_at) VALUES ('update', ?, '소식', 'approved', ?, 0)",
        (person, person),
    )
    await db.execute(
        "INSERT INTO bundles (created_by, created_at, letter_count, delivered_by)"
        " VALUES (?, 0, 1, ?)",
        (person, person),
    )
    await db.execute(
        "INSERT INTO letters (user_id, language, pen_name, text, state, created_at,"
        " decided_by) VALUES (?, 'ko', 'A friend', 'Another writer''s letter.', 'approved',"
        " 0, ?)",
        (ADMIN_ID, person),
    )
    await db.execute(
        "INSERT INTO roles (user_id, role, granted_by, granted_at) VALUES (?, 'coordinator',"
        " ?, 0) ON CONFLICT DO NOTHING",
        (ADMIN_ID, person),
    )
    await db.execute(
        "INSERT INTO audit_log (at, actor_id, action, target_id, detail)"
        " VALUES (0, ?, 'grant', ?, '')",
        (person, person),
    )
    for state in ("sent", "pending"):
        payload = await db.fetch_one(
            "INSERT INTO outbox_payloads (text) VALUES (?) RETURNING id",
            (f"{PEN_NAME}: {NOTE} ({state})",),
        )
        assert payload is not None
        await db.execute(
            "INSERT INTO outbox (user_id, chat_id, payload_id, kind, state, created_at)"
            " VALUES (?, ?, ?, 'notice', ?, 0)",
            (person, person, payload["id"], state),
        )


def person_columns(database: Path) -> set[tuple[str, str]]:
    """Every column in the migrated schema that can hold a Telegram user or chat id."""
    found = set()
    with sqlite3.connect(database) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for table in tables:
            for column in connection.execute(f"PRAGMA table_info({table})"):
                name = column[1]
                if re.fullmatch(r"(user|chat|actor|target|author|progress_chat)_id|\w+_by", name):
                    found.add((table, name))
    return found


async def test_every_column_that_can_hold_a_person_is_erased(
    bot: RunningBot, database: Path
) -> None:
    # A new migration with such a column fails here until erase() handles it.
    assert person_columns(database) == set(PERSON_COLUMNS)


@pytest.mark.parametrize("role", ["member", "coordinator", "courier", "admin"])
async def test_anyone_who_forgets_leaves_no_byte_behind_even_past_a_reader(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path, role: str
) -> None:
    admins = f"{ADMIN_ID},{PERSON_ID}" if role == "admin" else str(ADMIN_ID)
    bot = await make_bot(ADMIN_IDS=admins)
    await member_who_joined(sandbox, ADMIN_ID, "en")
    if role in ("coordinator", "courier"):
        person = await staff(bot, sandbox, PERSON_ID, Role(role), "ko")
    else:
        person = await member_who_joined(sandbox, PERSON_ID, "ko")
    await leave_traces_everywhere(bot, PERSON_ID)
    assert len(traces(file_bytes(database), PERSON_ID, LETTER, PEN_NAME, NOTE)) >= 4
    bot.runtime.privacy.retry = CheckpointRetry(attempts=3, pause=0)

    # A backup (or an open shell) holds a read snapshot while the person erases.
    reader = sqlite3.connect(database, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM members").fetchone()
    await person.send("/forget")
    await person.click(await person.expect("되돌릴 수 없어요"), "모두 지우기")
    done = await person.expect("모두 지웠어요")
    assert "마지막 사본" in done.text  # the truth: the log still holds a copy

    reader.execute("COMMIT")
    reader.close()
    assert bot.runtime.privacy.unfinished
    job_queue = bot.application.job_queue
    assert job_queue is not None
    (tidy,) = job_queue.get_jobs_by_name("tidy")
    await tidy.run(bot.application)  # the background job, as the scheduler runs it
    assert not bot.runtime.privacy.unfinished

    assert traces(file_bytes(database), PERSON_ID, LETTER, PEN_NAME, NOTE) == []
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        # What others did stays, with the anonymous marker where the person was.
        assert connection.execute("SELECT author_id FROM updates").fetchall() == [(0,)]
        assert connection.execute(
            "SELECT author_id, progress_chat_id, progress_message_id FROM broadcasts"
        ).fetchall() == [(0, None, None)]
        assert connection.execute("SELECT created_by, delivered_by FROM bundles").fetchall() == [
            (0, 0)
        ]
        assert connection.execute(
            "SELECT COUNT(*) FROM outbox_payloads WHERE text LIKE ?", (f"%{NOTE}%",)
        ).fetchone() == (0,)
    assert rejected_calls(sandbox) == []


async def test_a_forged_erase_from_a_stranger_changes_nothing_and_rewrites_nothing(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    await member_who_joined(sandbox, 8101, "en")
    stranger = sandbox.user(8102, language_code="en")
    await stranger.send("/forget")
    screen = await stranger.expect("We keep nothing about you")
    before = main_file_bytes(database)
    for _ in range(3):  # a forged confirmation for themselves: there is nothing to erase
        await stranger.press(screen, ForgetAnswer(8102, 1).pack())
        await stranger.expect("We keep nothing about you")
    for _ in range(3):  # and one for a member: not theirs to press
        query = await stranger.press(screen, ForgetAnswer(8101, 1).pack())
        assert "expired" in (await sandbox.wait_for_callback_answer(query)).get("text", "")
    assert bot.runtime.privacy.rewrites == 0
    assert main_file_bytes(database) == before  # no checkpoint, no VACUUM touched the file
    assert await bot.runtime.members.get(8101) is not None


async def test_erases_in_a_burst_rewrite_the_file_once_and_finish_later(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path, clock: FrozenClock
) -> None:
    bot = await make_bot(clock=clock)
    people = [await member_who_joined(sandbox, 8200 + n, "en") for n in range(3)]
    told = []
    for person in people:
        await store_letter(bot, person.id)
        await person.send("/forget")
        await person.click(await person.expect("cannot be undone"), "Erase everything")
        told.append("Only a last copy" in (await person.expect("is erased")).text)
    assert told == [False, True, True]  # the first is finished at once, the others are told
    assert bot.runtime.privacy.rewrites == 1  # one rewrite for the burst
    clock.advance(minutes=6)
    assert await bot.runtime.privacy.finish_erasures()
    assert bot.runtime.privacy.rewrites == 2
    assert traces(file_bytes(database), 8202, LETTER) == []


async def draft_saved(database: Path, key: str) -> None:
    """Wait until the member's draft holds `key`: the handler has finished writing it."""
    async with asyncio.timeout(10):
        while True:
            with sqlite3.connect(database) as connection:
                rows = connection.execute("SELECT data FROM conversations").fetchall()
            if any(key in json.loads(data) for (data,) in rows):
                return
            await asyncio.sleep(0.01)


async def test_an_abandoned_draft_expires_and_the_member_is_told_nothing_was_sent(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path, clock: FrozenClock
) -> None:
    bot = await make_bot(clock=clock, DRAFT_EXPIRY_HOURS="24")
    member = await member_who_joined(sandbox, 8301, "ko")
    await member.send("/write")
    await member.expect("두 병사에게 보내는 편지")
    await member.send(LETTER)
    await member.expect("필명을 정해")
    await draft_saved(database, "pen_buttons")  # the handler stores the buttons' message last

    clock.advance(hours=23)
    assert await bot.runtime.flows.expire_drafts() == 0  # not yet
    clock.advance(hours=2)
    assert await bot.runtime.flows.expire_drafts() == 1  # the background job
    with sqlite3.connect(database) as connection:  # the draft's content is gone at once
        assert connection.execute("SELECT flow, data FROM conversations").fetchall() == [
            ("expired", "{}")
        ]
    await member.send("서울의 한 어머니")  # the pen name, a day late
    told = await member.expect("아무것도 보내지 않았어요")
    assert "24시간" in told.text
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT COUNT(*) FROM letters").fetchone() == (0,)
        assert connection.execute("SELECT COUNT(*) FROM conversations").fetchone() == (0,)
    await member.send("그냥 인사예요")  # told once only
    await member.expect("무슨 뜻인지")


async def test_a_draft_past_its_time_is_gone_even_before_the_background_job(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path, clock: FrozenClock
) -> None:
    bot = await make_bot(clock=clock, DRAFT_EXPIRY_HOURS="2")
    member = await member_who_joined(sandbox, 8302, "en")
    await member.send("/write")
    await member.expect("A letter to the two soldiers")
    await member.send("Stay strong, brothers. We are waiting for you in Seoul, all of us.")
    ask = await member.expect("Now a pen name")
    await draft_saved(database, "pen_buttons")
    clock.advance(hours=3)
    await member.click(ask, "A mother who prays for you")  # a button of the expired draft
    told = await member.expect("Nothing was sent")
    assert "2 hours" in told.text
    assert await bot.runtime.flows.current(8302) is None
