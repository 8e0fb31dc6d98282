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
    await member.expect("From now on we will write to you in English.")
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
    await member.click(welcome, "No, I don't agree")
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
    welcome = await member.expect("Pyeonji" if english else "‘편지’ 봇")
    await member.click(welcome, "I agree" if english else "동의해요")
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
    zones = await member.expect(lambda m: any("Kyiv" in b.text for r in m.buttons for b in r))
    await member.click(zones, "Other")
    await member.expect("Type a city in the time zone you want")
    await member.send("mars/olympus")
    await member.expect("We don't know a time zone for “mars/olympus”")
    await member.send("america/new_york")
    await member.expect("Time zone: New York")
    await first.stop()

    await make_bot()
    await member.send("/settings")
    screen = await member.expect("Your settings")
    assert "a daily summary at 6:00 PM" in screen.text
    assert "Time zone: New York" in screen.text
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
    await member.expect("이제부터 한국어로 안내해 드릴게요")
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


# -- screens that show words, not codes (issue 16) -----------------------------------------


async def test_the_language_question_is_asked_in_both_languages(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    member = sandbox.user(541, language_code="en")  # Telegram guessed English
    await member.send("/start")
    await member.click(await member.expect("Pyeonji"), "I agree")
    question = await member.expect("Which language")
    assert "어떤 언어" in question.text


async def test_time_zones_are_cities_in_the_members_language_and_typed_cities_are_accepted(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    await joined(sandbox, 542, "ko")
    member = sandbox.user(542)
    await member.send("/settings")
    screen = await member.expect("시간대")
    assert "시간대: 서울" in screen.text and "Asia/Seoul" not in screen.text
    await member.click(screen, "시간대: 서울")
    zones = await member.expect(lambda m: "런던" in str(m.reply_markup))
    assert "Europe/London" not in str([b.text for r in zones.buttons for b in r])
    for typed, shown in (
        ("런던", "런던"),
        ("Kyiv", "키이우"),
        ("키이우", "키이우"),
        ("New York", "뉴욕"),
    ):
        await member.click(zones, "직접")
        await member.expect("/cancel")
        await member.send(typed)
        settings = await member.expect(f"시간대: {shown}")
        # Only the newest settings message is live: open the picker again from it.
        await member.click(settings, f"시간대: {shown}")
        zones = await member.expect(lambda m: "직접" in str(m.reply_markup))
    await member.send("/language")
    await member.click(await member.expect("Which language"), "English")
    await member.send("/settings")
    english = await member.expect("Your settings")
    assert "Time zone: New York" in english.text and "Language: English" in english.text
    assert rejected_calls(sandbox) == []


async def test_the_weekday_is_offered_only_for_weekly_summaries(
    bot: RunningBot, sandbox: FakeBotApi
) -> None:
    await joined(sandbox, 543, "ko")
    member = sandbox.user(543)
    await member.send("/settings")
    screen = await member.expect("시간대")
    await member.click(screen, "하루 한 번 모아 받기")
    daily = await member.expect("매일")
    labels = [b.text for r in daily.buttons for b in r]
    assert not any("요일" in label for label in labels), labels
    await member.click(screen, "일주일에 한 번 모아 받기")
    weekly = await member.expect(lambda m: any("요일" in b.text for r in m.buttons for b in r))
    assert "월요일" in str([b.text for r in weekly.buttons for b in r])


def test_typed_cities_in_korean_or_english_find_their_time_zone() -> None:
    from bot.services.zones import resolve_timezone, zone_label

    typed = {
        "서울": "Asia/Seoul",
        "Seoul": "Asia/Seoul",
        "런던": "Europe/London",
        "london": "Europe/London",
        "Kyiv": "Europe/Kyiv",
        "키이우": "Europe/Kyiv",
        "Europe/Kiev": "Europe/Kyiv",  # an old name, stored as today's
        "뉴욕": "America/New_York",
        "New York": "America/New_York",
        "도쿄": "Asia/Tokyo",
        "UTC": "UTC",
    }
    assert {name: resolve_timezone(name) for name in typed} == typed
    assert resolve_timezone("mars/olympus") is None and resolve_timezone("x" * 65) is None
    assert (zone_label("Europe/Kyiv", "ko"), zone_label("Europe/Kyiv", "en")) == ("키이우", "Kyiv")
