"""Members join in their language, subscribe, change settings; it all survives a restart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fakebotapi.server import FakeBotApi
from tests.conftest import StartBot, rejected_calls
from tests.support.harness import RunningBot

HANGUL = range(0xAC00, 0xD7A4)


def is_korean(text: str) -> bool:
    return any(ord(character) in HANGUL for character in text)


async def test_a_korean_member_joins_and_subscribes_all_in_korean(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    member = sandbox.user(501, first_name="지우", language_code="ko")
    await member.send("/start")
    welcome = await member.expect("편지")
    assert "개인정보" in welcome.text
    await member.click(welcome, "동의해요")
    language = await member.expect("어떤 언어")
    assert language.button("✓ 한국어")
    await member.click(language, "한국어")
    offer = await member.expect("소식을 받아 보시겠어요")
    await member.click(offer, "네")
    await member.expect("이제 소식을 받아요")

    korean_texts = [m.text for m in member.messages]
    assert all(is_korean(text) for text in korean_texts), korean_texts
    assert rejected_calls(sandbox) == []
    stored = await bot.runtime.members.get(501)
    assert stored is not None and stored.subscribed and stored.language == "ko"


async def test_an_english_member_joins_and_subscribes_all_in_english(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    member = sandbox.user(502, first_name="Anna", language_code="en-GB")
    await member.send("/start")
    welcome = await member.expect("Welcome to Pyeonji")
    await member.click(welcome, "I agree")
    language = await member.expect("Which language")
    assert language.button("✓ English")
    await member.click(language, "English")
    await member.expect("I will speak English with you.")
    offer = await member.expect("Would you like to get updates")
    await member.click(offer, "Yes")
    await member.expect("You are subscribed.")

    assert not any(
        is_korean(m.text.replace("편지", "").replace("한국어", "")) for m in member.messages
    )
    assert rejected_calls(sandbox) == []


async def test_declining_consent_keeps_nothing(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    member = sandbox.user(503, language_code="en")
    await member.send("/start")
    welcome = await member.expect("Do you agree?")
    await member.click(welcome, "No, thanks")
    await member.expect("nothing about you is kept")
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT COUNT(*) FROM members").fetchone() == (0,)


async def test_commands_before_consent_ask_for_start(bot: RunningBot, sandbox: FakeBotApi) -> None:
    member = sandbox.user(504, language_code="en")
    for command in ("/subscribe", "/settings", "/language"):
        await member.send(command)
        await member.expect("Please send /start first")


async def joined(sandbox: FakeBotApi, user_id: int, language: str = "en") -> None:
    """Take a member through /start, consent and language, without subscribing."""
    english = language == "en"
    member = sandbox.user(user_id, language_code=language)
    await member.send("/start")
    await member.click(await member.expect("Pyeonji"), "I agree" if english else "동의해요")
    question = await member.expect("Which language" if english else "어떤 언어")
    await member.click(question, "English" if english else "한국어")
    offer = await member.expect("Would you like" if english else "받아 보시겠어요")
    await member.click(offer, "Not now" if english else "나중에요")
    await member.expect("/subscribe")


async def test_settings_are_stored_and_survive_a_restart(
    make_bot: StartBot, sandbox: FakeBotApi
) -> None:
    first = await make_bot()
    await joined(sandbox, 505)
    member = sandbox.user(505)
    await member.send("/subscribe")
    await member.expect("You are subscribed")
    await member.send("/settings")
    screen = await member.expect("Your settings")
    await member.click(screen, "Daily summary")
    screen = await member.expect("a daily summary at 8:00 AM")
    await member.click(screen, "Hour")
    hours = await member.expect(lambda m: "6:00 PM" in str(m.reply_markup))
    await member.click(hours, "6:00 PM")
    await member.expect("a daily summary at 6:00 PM")
    await member.click(screen, "Time zone")
    zones = await member.expect(
        lambda m: any("Europe/Kyiv" in b.text for r in m.buttons for b in r)
    )
    await member.click(zones, "Other")
    await member.expect("Type the name of your time zone")
    await member.send("mars/olympus")
    await member.expect("I don't know the time zone “mars/olympus”")
    await member.send("america/new_york")
    await member.expect("Time zone: America/New_York")
    await first.stop()

    await make_bot()
    await member.send("/settings")
    screen = await member.expect("Your settings")
    assert "a daily summary at 6:00 PM" in screen.text
    assert "America/New_York" in screen.text
    assert screen.button("✓ Daily summary")
    assert rejected_calls(sandbox) == []


async def test_unsubscribe_and_language_change(bot: RunningBot, sandbox: FakeBotApi) -> None:
    await joined(sandbox, 506)
    member = sandbox.user(506)
    await member.send("/unsubscribe")
    await member.expect("You are not subscribed")
    await member.send("/subscribe")
    await member.expect("You are subscribed")
    await member.send("/subscribe")
    await member.expect("already subscribed")
    await member.send("/language")
    await member.click(await member.expect("Which language"), "한국어")
    await member.expect("이제 한국어로 이야기할게요")
    await member.send("/unsubscribe")
    await member.expect("이제 소식을 보내지 않을게요")


async def test_typing_at_the_consent_or_language_step_points_to_the_buttons(
    bot: RunningBot, sandbox: FakeBotApi, database: Path
) -> None:
    member = sandbox.user(531, first_name="지우", language_code="ko")
    await member.send("/start")
    welcome = await member.expect("편지")
    await member.send("네 동의합니다")
    pointer = await member.expect()
    assert "“동의해요”" in pointer.text and "버튼" in pointer.text
    assert "잘 모르겠어요" not in pointer.text
    with sqlite3.connect(database) as connection:
        consented = connection.execute(
            "SELECT consented_at FROM members WHERE user_id = 531"
        ).fetchone()
    assert consented == (None,)  # typing is not consent
    await member.click(welcome, "동의해요")
    await member.expect("어떤 언어")
    await member.send("한국어요")
    await member.expect("언어를 골라 주세요")
