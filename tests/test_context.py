"""The per-update context: the member is read once per update, and handlers see their changes."""

from __future__ import annotations

from bot.handlers.subscriptions import OnboardingDraft
from bot.handlers.translations import TranslationDraft
from bot.models import Flow
from fakebotapi.server import FakeBotApi
from tests.support.harness import RunningBot, settled
from tests.support.people import member_who_joined

# MemberRepository.get, and .arrival (the member with their roles and flow)
MEMBER_READS = (
    "SELECT user_id, chat_id, language, consented_at",
    "SELECT m.user_id, m.chat_id, m.language, m.consented_at",
)


async def test_each_update_reads_its_member_once(bot: RunningBot, sandbox: FakeBotApi) -> None:
    member = await member_who_joined(sandbox, 9501, "en", subscribe=False)
    reads: list[str] = []

    def trace(sql: str) -> None:  # runs on aiosqlite's thread: appending is enough
        if sql.startswith(MEMBER_READS) and "9501" in sql:
            reads.append(sql)

    connection = bot.runtime.db.connection
    await connection.set_trace_callback(trace)
    try:
        for command, answer in (
            ("/settings", "Your settings"),
            ("/letters", "letter"),
            ("/whoami", "Your Telegram ID"),
            ("/language", "Which language"),
            ("/subscribe", "subscribed"),
        ):
            reads.clear()
            await member.send(command)
            await member.expect(answer)
            assert len(reads) == 1, (command, len(reads))
    finally:
        await connection.set_trace_callback(None)


async def test_help_whoami_and_free_text_take_one_statement_about_the_member(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    """The member, their roles and their flow are read in one statement (one trip to SQLite's
    thread), and nothing is written: last-seen is kept at most once a day."""
    member = await member_who_joined(sandbox, 9503, "en", subscribe=False)
    statements: list[str] = []

    def trace(sql: str) -> None:  # runs on aiosqlite's thread: appending is enough
        if "9503" in sql:  # background jobs (alerts, the outbox) never name a member
            statements.append(sql)

    connection = bot.runtime.db.connection
    await connection.set_trace_callback(trace)
    try:
        for text, answer in (
            ("/help", "What this bot can do"),
            ("/whoami", "Your Telegram ID"),
            ("hello there", "not sure what you mean"),
        ):
            statements.clear()
            await member.send(text)
            await member.expect(answer)
            await settled(bot, sandbox)
            assert len(statements) == 1, (text, statements)
            assert statements[0].startswith(MEMBER_READS[1]), (text, statements)
    finally:
        await connection.set_trace_callback(None)


async def test_a_new_language_answers_at_once_and_a_deep_link_after_it_sees_it(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    person = sandbox.user(9502, language_code="en")
    await person.send("/start write")
    notice = await person.expect("Do you agree?")
    await person.click(notice, "I agree")
    await person.click(await person.expect("Which language"), "한국어")
    await person.expect("한국어")  # the confirmation, in the language just chosen
    await person.expect("편지")  # /write's rules, opened by the deep link, also in Korean


def test_a_flows_draft_loads_from_the_json_rows_always_held_and_refuses_other_types() -> None:
    stored = {"letter": 5, "draft": 123}  # a row as the translate flow wrote it before
    assert TranslationDraft.of(Flow("translate", "text", stored)) == TranslationDraft(5)
    assert TranslationDraft(5).as_draft() == {"letter": 5}  # the same JSON as before
    assert TranslationDraft(5, "번역").as_draft() == {"letter": 5, "text": "번역"}
    for forged in ({}, {"letter": "5"}, {"letter": True}, {"letter": 5, "text": 7}):
        assert TranslationDraft.of(Flow("translate", "text", forged)) is None, forged
    assert OnboardingDraft.of(Flow("onboarding", "consent", {})) == OnboardingDraft(None)
