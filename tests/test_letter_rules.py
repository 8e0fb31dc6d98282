"""A member's letter and pen name are cleaned, and refused with a reason when they break a rule."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.fonts import installed_coverage
from bot.services.letter_rules import (
    LETTER_MAX_CHARS,
    LETTER_MAX_LINES,
    LETTER_MAX_WORDS,
    LETTER_MIN_CHARS,
    PEN_NAME_MAX_CHARS,
    LetterProblem,
    check_letter,
    check_pen_name,
    clean_text,
    count_words,
)

KOREAN_LETTER = (
    "사랑하는 두 분께.\n\n"
    "2025. 1. 11. 소식을 듣고 많이 울었어요. 저도 20년 전에 고향을 떠났어요.\n"
    "지금은 서울에서 3.5평짜리 작은 가게를 해요. 2024-2025 겨울은 추웠지만 봄이 와요.\n"
    "꼭 건강하게 지내세요. 우리 모두 기다리고 있어요!"
)
# The characters the rules promise never survive cleaning.
REMOVED = (
    [chr(code) for code in range(0x200B, 0x2010)]
    + [chr(code) for code in range(0x202A, 0x202F)]
    + [chr(code) for code in range(0x2060, 0x2065)]
    + [chr(code) for code in range(0x2066, 0x206A)]
    + ["\ufeff", "\u061c", "\u180e", "\u3164", "\x00", "\x07", "\x1b", "\r", "\t", "\x7f"]
)

# Read the fonts' coverage once, before hypothesis times the checks.
installed_coverage()


def codes(text: str) -> list[LetterProblem]:
    return [problem.code for problem in check_letter(text).problems]


def test_korean_letter_with_dates_and_numbers_passes() -> None:
    check = check_letter(KOREAN_LETTER)
    assert check.ok, check.problems
    assert check.text == KOREAN_LETTER


@pytest.mark.parametrize(
    "text",
    [
        "We met on 2025-01-11 and again on 11.01.2025; the war of 1950-1953 ended long ago.",
        "It was 2025. 1. 11. and -3.5 degrees, etc. I am 25, e.g. young. Mr.Kim says hi.",
        "Believe me. Me too. So are you. At 10:30 we pray, every day of 2025 for you both.",
        "작년 12월 25일, 1,000,000명이 기도했어요. 오전 10:30에 교회에서 만나요. 1004 천사!",
        "Meet @ 5 o'clock, or @me later — both are fine. A dot in the sky is a star for you.",
    ],
)
def test_ordinary_sentences_with_numbers_and_dots_pass(text: str) -> None:
    assert codes(text) == []


def test_html_and_ampersand_are_kept_as_plain_text() -> None:
    text = "<b>힘내세요</b> <script>alert('x')</script> Tom & Jerry &amp; 친구들 <i>love</i>"
    assert check_letter(text).text == text


def test_right_to_left_override_and_zero_width_characters_are_removed() -> None:
    hostile = "Stay\u202e strong\u200d, bro\u200bther\u2066s\u2069 and\ufeff sis\u200cters!"
    assert check_letter(hostile).text == "Stay strong, brothers and sisters!"


def test_decomposed_hangul_jamo_are_composed() -> None:
    decomposed = unicodedata.normalize("NFD", KOREAN_LETTER)
    assert decomposed != KOREAN_LETTER
    assert check_letter(decomposed).text == KOREAN_LETTER
    # A zero-width space between jamo must not stop them composing.
    assert clean_text("\u1112\u200b\u1161\u11ab") == "한"


def test_line_breaks_are_tidied() -> None:
    raw = "  첫 줄이에요   \r\n\r\n\r\n\r\n둘째 줄\u3000이에요\t끝 \r마지막\u2028줄\n\n"
    assert clean_text(raw) == "첫 줄이에요\n\n둘째 줄 이에요 끝\n마지막\n줄"


def test_stacked_combining_marks_are_capped() -> None:
    assert clean_text("e" + "\u0301" * 50) == "é" + "\u0301" * 3


def test_ten_thousand_characters_are_refused_with_the_numbers() -> None:
    problems = check_letter("가" * 10_000).problems
    assert [(p.code, p.limit, p.actual) for p in problems] == [
        (LetterProblem.TOO_LONG, LETTER_MAX_CHARS, 10_000)
    ]


def test_length_word_and_line_limits() -> None:
    assert codes("가" * LETTER_MAX_CHARS) == []
    short = check_letter("힘내세요!").problems
    assert [(p.code, p.limit, p.actual) for p in short] == [
        (LetterProblem.TOO_SHORT, LETTER_MIN_CHARS, 5)
    ]
    assert codes("   \u200b\n\u3164  ") == [LetterProblem.EMPTY]
    assert codes("네 " * (LETTER_MAX_WORDS + 1)) == [LetterProblem.TOO_MANY_WORDS]
    assert codes("사랑해요\n" * (LETTER_MAX_LINES + 1)) == [LetterProblem.TOO_MANY_LINES]


def test_words_are_whitespace_tokens_with_a_letter_or_digit() -> None:
    assert count_words("사랑하는 두 분께 — 2025년 🙏 건강하세요!") == 5


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Please visit https://example.org/page soon", "https://example.org/page"),
        ("Please visit www.example.org soon", "www.example.org"),
        ("Please visit example.com soon", "example.com"),
        ("Please join t.me/freedom_now soon", "t.me/freedom_now"),
        ("Please read bit.ly/3xYz soon", "bit.ly/3xyz"),
        ("Please visit ｅｘａｍｐｌｅ．ｃｏｍ soon", "example.com"),
        ("Please visit example。com soon", "example.com"),
        ("Please visit example [.] com soon", "example.com"),
        ("Please visit example dot com soon", "example.com"),
        ("Please visit example . com soon", "example . com"),
        ("Please join t. me/freedom soon", "t. me/freedom"),
        ("Please visit 네이버.com soon", "네이버.com"),
        ("Please visit h t t p s://x soon", "h t t p s://x"),
        ("Please visit 192.168.10.1 soon", "192.168.10.1"),
    ],
)
def test_links_are_refused(text: str, fragment: str) -> None:
    problems = check_letter(text).problems
    assert problems[0].code is LetterProblem.LINK
    assert problems[0].fragment == fragment


@pytest.mark.parametrize(
    "text",
    [
        "전화 주세요 010-1234-5678 언제든지요",
        "Call me on +82 10 1234 5678 any time",
        "Call me on +380 (44) 123-45-67 any time",
        "Call me on +380441234567 any time",
        "Call me on 010.1234.5678 any time",
        "Call me on ０１０－１２３４－５６７８ any time",
        "Call me on 010\n1234\n5678 any time",
    ],
)
def test_phone_numbers_are_refused(text: str) -> None:
    assert codes(text) == [LetterProblem.PHONE]


@pytest.mark.parametrize(
    "text",
    [
        "Write to me at friend.name+pow@example.co.kr any time",
        "Write to me at friend (at) example (dot) com any time",
        "편지는 친구＠naver.com 으로 보내 주세요",
    ],
)
def test_email_addresses_are_refused_once(text: str) -> None:
    assert codes(text) == [LetterProblem.EMAIL]


@pytest.mark.parametrize("text", ["Message @freedom_2025 any time", "Message ＠someone any time"])
def test_mentions_are_refused(text: str) -> None:
    assert codes(text) == [LetterProblem.MENTION]


def test_every_problem_is_reported_at_once() -> None:
    text = "Mail a@b.com, call 010-1234-5678, see example.com, ask @someone\n" * 30
    assert codes(text) == [
        LetterProblem.TOO_LONG,
        LetterProblem.EMAIL,
        LetterProblem.LINK,
        LetterProblem.MENTION,
        LetterProblem.PHONE,
    ]


def test_pen_names() -> None:
    assert check_pen_name("  서울의   한 어머니 ").text == "서울의 한 어머니"
    assert check_pen_name("A mother in Seoul").text == "A mother in Seoul"
    assert check_pen_name("\u202e별\u200b빛").text == "별빛"

    def pen_codes(name: str) -> list[LetterProblem]:
        return [problem.code for problem in check_pen_name(name).problems]

    assert pen_codes("\u3164") == [LetterProblem.EMPTY]
    assert pen_codes("별") == [LetterProblem.PEN_NAME_TOO_SHORT]
    assert pen_codes("가" * (PEN_NAME_MAX_CHARS + 1)) == [LetterProblem.PEN_NAME_TOO_LONG]
    assert pen_codes("A mother\nin Seoul") == [LetterProblem.PEN_NAME_MULTILINE]
    assert pen_codes("@freedom_now") == [LetterProblem.MENTION]
    assert pen_codes("mom 010-1234-5678") == [LetterProblem.PHONE]
    assert pen_codes("mom.com") == [LetterProblem.LINK]


# Any Unicode at all, weighted towards the characters the rules care about.
hostile_text = st.text(
    st.one_of(
        st.characters(codec=None),
        st.sampled_from([*REMOVED, "\n", " ", ".", "@", "-", "+", "가", "\u1100", "\u0301"]),
        st.sampled_from("0123456789abcdefghijklmnopqrstuvwxyz"),
    ),
    max_size=300,
)


@settings(max_examples=300)
@given(hostile_text)
def test_letter_check_never_raises_and_never_keeps_a_removed_character(raw: str) -> None:
    check = check_letter(raw)
    assert (check.text is None) == bool(check.problems)
    cleaned = clean_text(raw)
    assert not any(char in cleaned for char in REMOVED)
    assert all(
        unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co")
        for char in cleaned
        if char != "\n"
    )
    assert unicodedata.is_normalized("NFC", cleaned)


@settings(max_examples=300)
@given(hostile_text)
def test_cleaning_and_checking_are_idempotent(raw: str) -> None:
    cleaned = clean_text(raw)
    assert clean_text(cleaned) == cleaned
    for check in (check_letter, check_pen_name):
        accepted = check(raw).text
        if accepted is not None:
            assert check(accepted).text == accepted


@given(st.text(st.sampled_from("가나다 라마\n바사"), min_size=LETTER_MIN_CHARS, max_size=400))
def test_plain_korean_is_always_accepted(text: str) -> None:
    check = check_letter(text)
    if clean_text(text) and len(clean_text(text)) >= LETTER_MIN_CHARS:
        assert check.ok, check.problems
