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
    assert codes("I " * (LETTER_MAX_WORDS + 1)) == [LetterProblem.TOO_MANY_WORDS]
    assert codes("사랑해요\n" * (LETTER_MAX_LINES + 1)) == [LetterProblem.TOO_MANY_LINES]


def test_words_are_alphabetic_tokens_with_a_letter_or_digit() -> None:
    assert count_words("Dear friends — in 2025 🙏 stay strong!") == 6
    # Korean words are bounded by the character cap alone (see LETTER_MAX_WORDS).
    assert count_words("사랑하는 두 분께 — 2025년 🙏 건강하세요! Stay strong") == 2


# A natural Korean letter of 1,450 characters: about 360 eojeol, more than the 300 words a
# word cap on Korean would allow, within the 1,500 characters the rules announce.
NATURAL_KOREAN_PARAGRAPHS = (
    "사랑하는 두 분께. 오늘도 이렇게 편지를 써요. 날씨가 많이 추워졌는데 몸은 괜찮으신지 "
    "걱정이 돼요. 저도 처음 이곳에 왔을 때는 모든 것이 낯설고 무서웠어요. 말도 조금 달라서 "
    "사람들과 이야기하는 것도 어려웠고, 밤마다 고향 생각에 잠을 못 이루었어요. ",
    "그래도 시간이 지나니 좋은 사람들을 많이 만났어요. 같이 밥을 먹고, 같이 웃고, 힘들 때 "
    "손을 잡아 주는 친구들이 생겼어요. 두 분에게도 곧 그런 날이 올 거라고 믿어요. 지금은 "
    "하루하루가 길게 느껴지겠지만, 그 하루들이 모여서 새로운 삶으로 가는 길이 될 거예요. ",
    "우리는 두 분의 이야기를 듣고 많이 울었어요. 그리고 많이 기도했어요. 여기에는 두 분을 "
    "기다리는 사람들이 정말 많아요. 따뜻한 밥 한 그릇, 편히 쉴 수 있는 방, 마음 놓고 웃을 수 "
    "있는 저녁이 두 분을 기다리고 있어요. 포기하지 마세요. 꼭 건강하게 지내세요. ",
)


def natural_korean_letter(length: int) -> str:
    text = ""
    while len(text) < length:
        for paragraph in NATURAL_KOREAN_PARAGRAPHS:
            text += paragraph
        text = text.rstrip() + "\n\n"
    return text[:length].rstrip() + "요."


def test_a_natural_korean_letter_of_1450_characters_passes() -> None:
    letter = natural_korean_letter(1448)
    assert 1440 <= len(letter) <= 1450
    assert len(letter.split()) > LETTER_MAX_WORDS  # the old word cap stopped it
    check = check_letter(letter)
    assert check.ok, check.problems


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


KEYCAP = "\ufe0f\u20e3"


@pytest.mark.parametrize(
    ("text", "code", "fragment"),
    [
        (
            "전화는 공일공 일이삼사 오육칠팔 으로 주세요",
            LetterProblem.PHONE,
            "공일공 일이삼사 오육칠팔",
        ),
        (
            "전화는 영일공-일이삼사-오육칠팔 이에요",
            LetterProblem.PHONE,
            "영일공-일이삼사-오육칠팔",
        ),
        (
            "Call zero one zero one two three four five six seven eight soon",
            LetterProblem.PHONE,
            "zero one zero one two three four five si",
        ),
        ("Call 0 1 0 1 2 3 4 5 6 7 8 soon", LetterProblem.PHONE, "0 1 0 1 2 3 4 5 6 7 8"),
        ("Call 010 1234 5678 soon", LetterProblem.PHONE, "010 1234 5678"),
        ("Call 010.1234.5678 soon", LetterProblem.PHONE, "010.1234.5678"),
        ("Call 010/1234/5678 soon", LetterProblem.PHONE, "010/1234/5678"),
        ("Call 010~1234~5678 soon", LetterProblem.PHONE, "010~1234~5678"),
        ("Call 010_1234_5678 soon", LetterProblem.PHONE, "010_1234_5678"),
        ("Call 010,1234,5678 soon", LetterProblem.PHONE, "010,1234,5678"),
        ("Call 010*1234*5678 soon", LetterProblem.PHONE, "010*1234*5678"),
        ("Call 010·1234·5678 soon", LetterProblem.PHONE, "010.1234.5678"),
        ("Call 010|1234|5678 soon", LetterProblem.PHONE, "010|1234|5678"),
        ("Call 010\u22121234\u22125678 soon", LetterProblem.PHONE, "010\u22121234\u22125678"),
        (
            "Call " + KEYCAP.join("01012345678") + KEYCAP + " soon",
            LetterProblem.PHONE,
            "01012345678",
        ),
        ("Call ０１０１２３４５６７８ soon", LetterProblem.PHONE, "01012345678"),
        ("Call ٠١٠١٢٣٤٥٦٧٨ soon", LetterProblem.PHONE, "01012345678"),
        ("제 카톡 아이디는 freedom 이에요", LetterProblem.MESSENGER, "카톡 아이디는 freedom"),
        (
            "카카오톡 아이디 hope2025 로 연락 주세요",
            LetterProblem.MESSENGER,
            "카카오톡 아이디 hope2025",
        ),
        ("Add my KakaoTalk ID: freedom please", LetterProblem.MESSENGER, "kakaotalk id: freedom"),
        ("Find me on WeChat: freedom please", LetterProblem.MESSENGER, "wechat: freedom"),
        ("My LINE ID is freedom_99 there", LetterProblem.MESSENGER, "line id is freedom_99"),
        ("Find me on Signal freedom.99 please", LetterProblem.MESSENGER, "signal freedom.99"),
        ("Find me on Telegram freedomnow please", LetterProblem.MESSENGER, "telegram freedomnow"),
        ("텔레그램 freedom 으로 오세요", LetterProblem.MESSENGER, "텔레그램 freedom"),
        ("Please join t·me/helper soon", LetterProblem.LINK, "t.me/helper"),
        ("Please join t . me/helper soon", LetterProblem.LINK, "t . me/helper"),
        ("Please ask @ helper_bot soon", LetterProblem.MENTION, "@ helper_bot"),
        ("Please visit 例子.中国 soon", LetterProblem.LINK, "例子.中国"),
        ("Please visit пример.рф soon", LetterProblem.LINK, "пример.рф"),
        ("Please visit xn--fsqu00a.xn--fiqs8s soon", LetterProblem.LINK, "xn--fsqu00a.xn--fiqs8s"),
        ("Please write to me@example soon", LetterProblem.EMAIL, "me@example"),
    ],
)
def test_disguised_contact_details_are_refused_with_the_part_found(
    text: str, code: LetterProblem, fragment: str
) -> None:
    found = [(problem.code, problem.fragment) for problem in check_letter(text).problems]
    assert (code, fragment) in found, found


@pytest.mark.parametrize(
    "text",
    [
        "일이 많아도 사이좋게 지내요. 오이와 구이를 먹었어요. 일 이 삼 사 오 육 칠 팔 구, 열!",
        "Telegram is banned there, I heard. We saw you on Facebook yesterday, line by line.",
        "카톡으로 소식을 들었어요. 텔레비전에서 두 분을 봤어요. 라인 댄스를 배워요.",
        "잘 지내요.건강하세요.사랑해요. 1,000,000명이 기도해요. One day, two friends, three!",
    ],
)
def test_number_words_and_app_names_in_ordinary_sentences_pass(text: str) -> None:
    check = check_letter(text)
    assert check.ok, check.problems


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


@pytest.mark.parametrize(
    ("name", "claimed"),
    [
        ("Coordinator", "coordinator"),
        ("<b>관리자</b>", "관리자"),
        ("국가정보원 요원", "국가정보원"),
        ("Admin", "admin"),
        ("The moderators", "moderator"),
        ("운영자입니다", "운영자"),
        ("NIS", "nis"),
        ("Seoul police", "police"),
        ("경찰관 아저씨", "경찰"),
        ("대사관", "대사관"),
        ("The Embassy", "embassy"),
        ("Red Cross", "red cross"),
        ("대한적십자사", "적십자"),
        ("A d m i n", "admin"),
        ("\u0410dm1n", "admin"),  # a Cyrillic A and a digit one
    ],
)
def test_pen_names_claiming_a_role_or_an_institution_are_refused(name: str, claimed: str) -> None:
    problems = check_pen_name(name).problems
    assert [(p.code, p.fragment) for p in problems] == [
        (LetterProblem.PEN_NAME_IMPERSONATES, claimed)
    ]


@pytest.mark.parametrize("name", ["\u0301\u0300", "\u0301\u0308\u0300", "🌸🌸", "..."])
def test_pen_names_with_no_visible_letter_are_refused(name: str) -> None:
    assert LetterProblem.PEN_NAME_INVISIBLE in [p.code for p in check_pen_name(name).problems]


@pytest.mark.parametrize(
    "name", ["Dennis", "A tennis lover", "애정부터", "서울의 한 어머니", "Someone who misses home"]
)
def test_ordinary_pen_names_that_contain_a_listed_word_pass(name: str) -> None:
    assert check_pen_name(name).ok


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
