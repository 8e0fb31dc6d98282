"""Clean and check a letter's text and its pen name, naming each reason a text is refused."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

import emoji
import phonenumbers
import regex

from bot.services.fonts import character_name, unprintable_characters

# A letter passes through the detaining authorities' censors, like an ICRC Red Cross message,
# which carries "about 300 words" of personal news. The cap counts only words written in an
# alphabet (Latin, Cyrillic...): a Korean eojeol (어절) holds about 3 syllables and a space, so
# 300 of them end near 1,200 characters, before the 1,500-character limit the rules announce.
# For Korean the character cap alone is the limit; in English 1,500 characters are about 250
# words, so the word cap only stops letters of very short "words" ("a a a a ...").
LETTER_MAX_WORDS = 300
# Korean needs no spaces, so a character cap keeps a letter to about one printed page: the
# bundle prints 11 pt NanumGothic on A4 with 20 mm margins, about 46 Hangul per line and 39
# lines under the letter's header, so 1,500 characters leave room for paragraph breaks. In
# English 1,500 characters are about 250 words.
LETTER_MAX_CHARS = 1500
# Below this a text is a greeting or a test ("hi", "힘내세요"), not a letter worth printing;
# "힘내세요. 꼭 자유를 찾으시길 바랍니다." (22 characters) passes.
LETTER_MIN_CHARS = 20
# A 1,500-character letter could hold hundreds of one-word lines. 50 lines leave room for a
# poem or short paragraphs, and keep any letter within two printed pages.
LETTER_MAX_LINES = 50
# A pen name is printed on the letter's header line next to its number. One character reads as
# an initial, which can identify; 40 characters fit one header line in Korean ("서울의 한 어머니"
# is 9, "A mother in Seoul who prays for you" is 35).
PEN_NAME_MIN_CHARS = 2
PEN_NAME_MAX_CHARS = 40
# Marks stacked on one base character ("Zalgo" text) bleed over neighbouring lines in Telegram
# and in print; Vietnamese needs two, an emoji keycap two.
MAX_COMBINING_MARKS = 3
# A problem quotes what it found so the writer can find it; a quote is never long.
FRAGMENT_MAX_CHARS = 40
# The checks are linear, but nothing a member can send is this long (Telegram caps a message at
# 4,096 characters); the cap bounds the work a hostile caller can cause.
INPUT_MAX_CHARS = 100_000


class LetterProblem(Enum):
    """Why a letter or a pen name is refused; handlers map each to a translated sentence."""

    EMPTY = "empty"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    TOO_MANY_WORDS = "too_many_words"
    TOO_MANY_LINES = "too_many_lines"
    LINK = "link"
    MENTION = "mention"
    EMAIL = "email"
    PHONE = "phone"
    PEN_NAME_TOO_SHORT = "pen_name_too_short"
    PEN_NAME_TOO_LONG = "pen_name_too_long"
    PEN_NAME_MULTILINE = "pen_name_multiline"
    PEN_NAME_INVISIBLE = "pen_name_invisible"
    PEN_NAME_IMPERSONATES = "pen_name_impersonates"
    MESSENGER = "messenger"
    UNPRINTABLE = "unprintable"
    NOT_KOREAN = "not_korean"


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason for refusal: a limit and the actual count, or the fragment that was found."""

    code: LetterProblem
    limit: int | None = None
    actual: int | None = None
    fragment: str | None = None


@dataclass(frozen=True, slots=True)
class LetterCheck:
    """The cleaned text when there is no problem (``text`` is None otherwise)."""

    text: str | None
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


# --- cleaning ---------------------------------------------------------------------------------

# Invisible characters that hide or reorder text (Unicode's Default_Ignorable_Code_Point,
# listed here because Python has no property for it): zero-width characters, bidirectional
# controls such as U+202E RIGHT-TO-LEFT OVERRIDE, the Hangul fillers used to fake an empty name,
# tag characters used to smuggle hidden ASCII. Variation selectors (U+FE00..FE0F, U+E0100..)
# are ignorable too but kept: they choose an emoji's colour presentation and are harmless.
_REMOVED_RANGES: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x061C, 0x061C),  # Arabic letter mark
    (0x115F, 0x1160),  # Hangul choseong and jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian variation selectors and vowel separator
    (0x200B, 0x200F),  # zero-width space, non-joiner, joiner; LRM, RLM
    (0x202A, 0x202E),  # bidirectional embeddings and overrides
    (0x2060, 0x206F),  # word joiner, invisible operators, bidi isolates, deprecated formats
    (0x3164, 0x3164),  # Hangul filler
    (0xFEFF, 0xFEFF),  # zero-width no-break space (byte order mark)
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical symbol format controls
    (0xE0000, 0xE0FFF),  # tags; variation selectors supplement is kept below
)
_KEPT_IGNORABLE = range(0xE0100, 0xE01F0)
# Other categories removed whatever the code point: controls (Cc, except the newline), format
# characters (Cf), lone surrogates (Cs, which cannot even be encoded as UTF-8 for storage) and
# private-use characters (Co, which print as nothing or as a font's private picture).
_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})
# Line ends of every kind become "\n" before anything else, so a line count means one thing.
_LINE_BREAKS = re.compile(r"\r\n|[\r\v\f\x1c-\x1e\x85\u2028\u2029]")


def _is_removed(char: str) -> bool:
    code = ord(char)
    if code in _KEPT_IGNORABLE:
        return False
    if any(low <= code <= high for low, high in _REMOVED_RANGES):
        return True
    # Noncharacters (U+FDD0..FDEF and the last two of every plane) are never text.
    if 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE:
        return True
    return char != "\n" and unicodedata.category(char) in _REMOVED_CATEGORIES


def _clean_char(char: str) -> str:
    if char == "\t" or (char != "\n" and unicodedata.category(char) == "Zs"):
        # Tabs and exotic spaces (no-break, ideographic U+3000...) become a plain space rather
        # than vanishing, so the words on either side stay apart.
        return " "
    return "" if _is_removed(char) else char


def _limit_combining_marks(text: str) -> str:
    kept: list[str] = []
    run = 0
    for char in text:
        if unicodedata.category(char) in ("Mn", "Me"):
            run += 1
            if run > MAX_COMBINING_MARKS:
                continue
        else:
            run = 0
        kept.append(char)
    return "".join(kept)


def _clean_chars(text: str) -> str:
    """Clean character by character, except inside emoji sequences, which stay whole.

    A family (👨‍👩‍👧) is joined by U+200D, a flag of Scotland by tag characters: removed
    elsewhere, they are kept inside a sequence the emoji library knows (Unicode's RGI list).
    """
    out: list[str] = []
    position = 0
    for found in emoji.emoji_list(text):
        start, end = found["match_start"], found["match_end"]
        out.extend(_clean_char(char) for char in text[position:start])
        out.append(text[start:end])
        position = end
    out.extend(_clean_char(char) for char in text[position:])
    return "".join(out)


def clean_text(raw: str) -> str:
    """Return ``raw`` NFC-normalized, without invisible or control characters, tidied per line.

    Keeps Korean, emoji, punctuation and markup-looking text such as ``<b>`` as they are (they
    are escaped where they are displayed). Cleaning twice gives the same result.
    """
    text = _LINE_BREAKS.sub("\n", raw[:INPUT_MAX_CHARS])
    text = _clean_chars(text)
    # Normalize after removal: a zero-width character between decomposed jamo would otherwise
    # stop them composing into one syllable.
    text = unicodedata.normalize("NFC", text)
    text = _limit_combining_marks(text)
    lines = [line.rstrip(" ") for line in text.split("\n")]
    text = "\n".join(lines).strip(" \n")
    # At most one empty line between paragraphs: more only wastes paper.
    return re.sub(r"\n{3,}", "\n\n", text)


# --- contact details ----------------------------------------------------------------------------

# Top-level domains recognised without any trick: every two-letter country code, the common
# generic ones, and the Cyrillic ones of Ukraine and Russia. Telegram turns these into links in
# a coordinator's chat, which is why they are refused even in an innocent-looking text.
_GENERIC_TLDS = (
    "com|net|org|edu|gov|mil|int|info|biz|mobi|app|dev|xyz|top|site|online|store|shop|club|"
    "tech|website|icu|vip|wiki|cloud|host|network|digital|tel|asia|moe|lol|xxx|porn|casino|"
    "bank|рф|укр|xn--[a-z0-9-]{1,59}"
)
# English words that are also TLDs (.kim, .today, .love...) are left out: "Mr.Kim" or
# "see you.Today" typed without a space is a sentence far more often than an address.
_TLD = rf"(?:[a-z]{{2}}|{_GENERIC_TLDS})"
# The TLDs worth catching when someone spaces out or spells the dot ("example dot com",
# "t . me"): a short list, so "a dot in the sky" stays a sentence.
_SPACED_TLD = r"(?:com|net|org|info|biz|io|me|ly|co|kr|ru|ua|app|xyz|gg)"
# Every pattern that can start a match inside a run of letters has a look-behind that lets it
# start only at the run's beginning, which keeps the search linear on hostile input.
_LABEL = r"[^\W_][\w-]{0,62}"

_URL_SCHEME = re.compile(r"\b[a-z][a-z0-9+.-]{1,15} ?: ?/ ?/\S*|\bh ?t ?t ?p ?s? ?:\S*")
_WWW = re.compile(r"(?<!\w)w ?w ?w ?\.\S*")
_DOMAIN = re.compile(rf"(?<![\w.@-])(?:{_LABEL}\.)+{_TLD}(?![\w-])(?:/\S*)?")
# A dot with spaces around it, or any dot before a path: "bit . ly/x", "t. me/abc".
# A space only after the dot is how sentences look ("Believe me. Me too"), so that form counts
# only when a path follows.
_SPACED_DOMAIN = re.compile(
    rf"(?<![\w.@-]){_LABEL} \. ?{_SPACED_TLD}(?![\w-])\S*"
    rf"|(?<![\w.@-]){_LABEL} ?\. ?{_SPACED_TLD}/\w\S*"
)
_OCTET = r"(?:25[0-5]|2[0-4]\d|1?\d?\d)"
_IPV4 = re.compile(rf"(?<![\d.]){_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}(?![\d])")
# Spelled-out dots and ats: "example[.]com", "name (at) example (dot) com".
# The skeleton they run on has single spaces only, so " ?" stands for any spacing.
_SPELLED_DOT = re.compile(
    r" ?(?:\[ ?(?:\.|dot) ?\]|\( ?(?:\.|dot) ?\)|\{ ?(?:\.|dot) ?\})"
    rf" ?| dot (?={_SPACED_TLD}\b)"
)
_SPELLED_AT = re.compile(r" ?(?:\[ ?at ?\]|\( ?at ?\)|\{ ?at ?\}) ?")
_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]+ ?@ ?[\w-]+(?: ?\. ?[\w-]+)* ?\. ?[^\W\d_]{2,}"
    # No top-level domain at all ("me@example"): still an address to a reader.
    r"|(?<![\w.+-])[\w.+-]+@[^\W_][\w-]{2,}"
)
# Telegram usernames are ASCII; 4 characters or more, so "@me" or "meet @ 5" are not mentions.
# A space after the "@" ("@ helper_bot") does not stop a reader from finding the account.
_MENTION = re.compile(r"(?<![\w@])@ ?[a-z0-9_]{4,}")
# Top-level domains in other scripts that browsers open as typed ("例子.中国", "пример.рф"):
# a short list rather than any non-ASCII word, so a Korean sentence typed without a space
# after its full stop ("잘 지내요.건강하세요") is not a domain.
_IDN_TLD = (
    "中国|中國|公司|网络|網絡|在线|网址|网站|中文网|商城|企业|信息|机构|移动|香港|台湾|台灣|"
    "新加坡|한국|닷컴|닷넷|삼성|みんな|コム|рф|укр|бел|қаз|срб|мкд|онлайн|сайт|орг|ком|дети|москва"
)
_IDN_DOMAIN = re.compile(rf"(?<![\w.@-])(?:{_LABEL}\.)+(?:{_IDN_TLD})(?![\w-])(?:/\S*)?")
# Dates and year ranges hold many digits but are not phone numbers: "2025. 1. 11.",
# "2025-01-11", "11.01.2025", "1950-1953"; nor are amounts grouped by thousands
# ("1,000,000명"). The phone check runs on the text with them blanked out.
_DATE = re.compile(
    r"(?<!\d)(?:19|20)\d\d ?[.\-/] ?(?:0?[1-9]|1[0-2]) ?[.\-/] ?(?:0?[1-9]|[12]\d|3[01])"
    r"(?: ?\.)?(?!\d)"
    r"|(?<!\d)(?:0?[1-9]|[12]\d|3[01]) ?[.\-/] ?(?:0?[1-9]|[12]\d|3[01]) ?[.\-/] ?"
    r"(?:19|20)\d\d(?!\d)"
    r"|(?<!\d)(?:19|20)\d\d ?[-\u2010-\u2015~] ?(?:19|20)\d\d(?!\d)"
    r"|(?<![\d,])\d{1,3}(?:,\d{3})+(?![\d,])"
)
# Seven digits or more in a row, each group apart by at most three separators, with or
# without a "+" country code: 010-1234-5678, +82 10 1234 5678, +380 (44) 123-45-67. In the
# digit view every separator a phone number can be typed with is already a "-".
_PHONE = re.compile(r"(?<!\d)\+? ?\(?\d(?:[ ()\-]{0,3}\d){6,}")
_PHONE_MIN_DIGITS = 7
# Characters people put between the digits of a number so that it escapes a check: dots,
# slashes, tildes, underscores, commas, asterisks, bars, middle dots, every dash and minus.
_DIGIT_SEPARATORS = ".·/~_,*|\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_TO_DASH = str.maketrans(dict.fromkeys(_DIGIT_SEPARATORS, "-"))
# Regions whose numbers phonenumbers reads without a "+": South Korea first, then the
# countries the case involves or where defectors often live.
_PHONE_REGIONS = ("KR", "UA", "RU", "CN", "US", "GB", "JP")
# Number words a phone number can be spelled with. Sino-Korean digits (공/영 일 이 삼 ...)
# are everyday syllables ("일이 사이에"), so a run of them counts only when every syllable of
# each word is a digit and the run starts with zero, as every Korean number written out does
# ("공일공 일이삼사 오육칠팔"). English digit words stand alone ("zero one zero ...").
_KO_DIGITS = {
    "공": "0", "영": "0", "일": "1", "이": "2", "삼": "3", "사": "4",
    "오": "5", "육": "6", "륙": "6", "칠": "7", "팔": "8", "구": "9",
}  # fmt: skip
_EN_DIGITS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_KO_DIGIT_CLASS = "[" + "".join(_KO_DIGITS) + "]"
_NUMBER_WORDS = re.compile(
    rf"(?<![가-힣])[공영]{_KO_DIGIT_CLASS}*(?:[ \-]{{1,3}}{_KO_DIGIT_CLASS}+)*(?![가-힣])"
    rf"|(?<![a-z])(?:{'|'.join(_EN_DIGITS)})(?![a-z])"
)
# Dot look-alikes a reader takes for a dot in "t·me/helper": middle dots (the Korean ㆍ too),
# bullets and the Japanese katakana middle dot.
_DOT_LIKE = str.maketrans(dict.fromkeys("\u00b7\u2022\u2027\u2219\u30fb\u318d\uff65", "."))
# Emoji presentation selectors and the keycap mark: "1\ufe0f\u20e3" is the digit 1 (1️⃣).
_KEYCAP_MARKS = str.maketrans(dict.fromkeys("\ufe0e\ufe0f\u20e3"))
# Messengers a writer could name to be contacted outside the bot, in both languages.
# English names that are everyday words or sites people mention ("line", "signal", "on
# Facebook yesterday") count only with an ID word, a ":" or "@", or a handle that has a digit,
# "_" or "." in it; the others with any ASCII word after them that is not a common one.
_PLAIN_WORD_APPS = "line|signal|facebook|instagram|insta|snapchat|discord|qq"
_APPS = (
    "kakao ?talk|kakao|katalk|카카오톡|카카오|카톡|wechat|weixin|위챗|微信|telegram|텔레그램|"
    "텔레|whats ?app|왓츠앱|왓츠 앱|viber|바이버|skype|스카이프|디스코드|인스타그램|인스타|"
    "페이스북|페북|스냅챗|라인|시그널|threema|wickr|zalo"
)
_ID_WORDS = (
    r"id|i\.d\.|아이디|아디|handle|username|user name|nickname|nick|닉네임|계정|account|"
    r"주소|address|번호|number"
)
_MESSENGER = re.compile(
    rf"(?<![\w])(?P<app>{_APPS}|{_PLAIN_WORD_APPS})(?![a-z])"
    rf"(?: ?(?P<id>{_ID_WORDS})(?![a-z])(?: is)?)?(?:는|은|:| =)? ?(?P<at>@)? ?"
    r"(?P<handle>[a-z0-9][a-z0-9._-]{2,31})(?![a-z0-9._-])"
)
# Words that follow an app's name in a sentence and are no handle ("Telegram is banned").
_NOT_HANDLES = frozenset(
    {
        "and", "are", "app", "can", "chat", "for", "from", "group", "has", "have", "in",
        "into", "is", "isn", "message", "messages", "not", "now", "of", "on", "or", "the",
        "their", "there", "they", "this", "to", "was", "with", "you", "your",
    }
)  # fmt: skip


def _skeleton(text: str) -> str:
    """Fold the text the way a reader or Telegram would when following a contact detail.

    NFKC turns fullwidth letters, digits and dots ("ｅｘａｍｐｌｅ．ｃｏｍ", "＠name") into ASCII;
    ideographic full stops and middle dots count as dots because browsers and readers treat
    them so in domain names. Digits of every script become ASCII digits and keycap emoji
    plain digits. Runs of whitespace, line breaks included, become one space: a number split
    over lines is still a number, and the patterns stay simple and linear.
    """
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_KEYCAP_MARKS)
    folded = " ".join(folded.split())
    folded = folded.replace("\u3002", ".").replace("\uff61", ".").translate(_DOT_LIKE)
    folded = "".join(_ascii_digit(char) for char in folded)
    folded = _SPELLED_DOT.sub(".", folded)
    return _SPELLED_AT.sub("@", folded)


def _ascii_digit(char: str) -> str:
    if char.isascii() or not char.isdecimal():
        return char
    return str(unicodedata.decimal(char))


def _quote(match: re.Match[str]) -> str:
    return " ".join(match.group(0).split())[:FRAGMENT_MAX_CHARS]


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    return None if match is None else _quote(match)


def _digit_view(skeleton: str) -> tuple[str, list[tuple[int, int]]]:
    """The skeleton with number words as digits, and where each of its characters came from.

    ``origins[i]`` is the span of the skeleton that character ``i`` of the view stands for,
    so a number found in the view is quoted as the writer typed it.
    """
    pieces: list[str] = []
    origins: list[tuple[int, int]] = []

    def keep(start: int, end: int) -> None:
        pieces.append(skeleton[start:end])
        origins.extend((index, index + 1) for index in range(start, end))

    position = 0
    for match in _NUMBER_WORDS.finditer(skeleton):
        keep(position, match.start())
        word = match.group(0)
        digits = _EN_DIGITS.get(word) or "".join(_KO_DIGITS.get(char, "-") for char in word)
        pieces.append(digits)
        origins.extend([match.span()] * len(digits))
        position = match.end()
    keep(position, len(skeleton))
    return "".join(pieces), origins


def _phone_spans(view: str) -> Iterator[tuple[int, int]]:
    """Where the view holds a phone number: by our pattern, then by libphonenumber's matcher."""
    for match in _PHONE.finditer(view):
        yield match.span()
    for region in _PHONE_REGIONS:
        for found in phonenumbers.PhoneNumberMatcher(
            view, region, leniency=phonenumbers.Leniency.POSSIBLE
        ):
            if sum(char.isdigit() for char in found.raw_string) >= _PHONE_MIN_DIGITS:
                yield found.start, found.end


def _find_phone(skeleton: str) -> str | None:
    view, origins = _digit_view(skeleton)
    # Blank dates and amounts with a character of the same length: the origins stay aligned.
    view = _DATE.sub(lambda match: ";" * len(match.group(0)), view).translate(_TO_DASH)
    for start, end in _phone_spans(view):
        quoted = skeleton[origins[start][0] : origins[end - 1][1]]
        return " ".join(quoted.split())[:FRAGMENT_MAX_CHARS]
    return None


def _find_messenger(skeleton: str) -> str | None:
    for match in _MESSENGER.finditer(skeleton):
        handle = match.group("handle")
        marked = match.group("id") is not None or match.group("at") is not None
        marked = marked or ":" in match.group(0) or "=" in match.group(0)
        if not marked and handle in _NOT_HANDLES:
            continue
        plain_word = re.fullmatch(_PLAIN_WORD_APPS, match.group("app")) is not None
        if plain_word and not marked and not re.search(r"[\d_.]", handle):
            continue
        return _quote(match)
    return None


def find_contact_problems(text: str) -> tuple[Problem, ...]:
    """Return one problem per kind of contact detail found (link, mention, e-mail, phone...)."""
    skeleton = _skeleton(text)
    problems: list[Problem] = []
    email = _first(_EMAIL, skeleton)
    if email is not None:
        problems.append(Problem(LetterProblem.EMAIL, fragment=email))
        # Blank the addresses out so their domain does not count again as a link.
        skeleton = _EMAIL.sub(" ", skeleton)
    for pattern in (_URL_SCHEME, _WWW, _DOMAIN, _IDN_DOMAIN, _SPACED_DOMAIN, _IPV4):
        link = _first(pattern, skeleton)
        if link is not None:
            problems.append(Problem(LetterProblem.LINK, fragment=link))
            break
    mention = _first(_MENTION, skeleton)
    if mention is not None:
        problems.append(Problem(LetterProblem.MENTION, fragment=mention))
    messenger = _find_messenger(skeleton)
    if messenger is not None:
        problems.append(Problem(LetterProblem.MESSENGER, fragment=messenger))
    phone = _find_phone(skeleton)
    if phone is not None:
        problems.append(Problem(LetterProblem.PHONE, fragment=phone))
    return tuple(problems)


# --- printing and language ---------------------------------------------------------------------

# A refusal names at most this many characters (each with its code point and Unicode name).
UNPRINTABLE_NAMED = 3
_KOREAN_LETTER = regex.compile(r"[\p{Script=Hangul}\p{Script=Han}]")
_LETTER = regex.compile(r"\p{L}")


def find_unprintable_problems(text: str) -> tuple[Problem, ...]:
    """A problem naming the characters no installed bundle font can print, if there are any."""
    missing = unprintable_characters(text)
    if not missing:
        return ()
    named = ", ".join(f"“{char}” ({character_name(char)})" for char in missing[:UNPRINTABLE_NAMED])
    return (Problem(LetterProblem.UNPRINTABLE, actual=len(missing), fragment=named),)


def written_language(text: str, fallback: str) -> str:
    """'ko' when most of the letter's letters are Korean (Hangul, or Hanja), else 'en'.

    Only letters count: emoji, digits and punctuation say nothing of the language, so a Korean
    letter full of emoji is Korean. A text with no letters at all takes ``fallback``, the
    writer's own language.
    """
    korean = len(_KOREAN_LETTER.findall(text))
    letters = len(_LETTER.findall(text))
    if letters == 0:
        return fallback
    return "ko" if korean * 2 >= letters else "en"


# --- letters and pen names ----------------------------------------------------------------------


# Scripts written in syllables or characters: their words are not counted (see LETTER_MAX_WORDS).
_SYLLABIC = regex.compile(r"[\p{Hangul}\p{Han}\p{Hiragana}\p{Katakana}]")


def count_words(text: str) -> int:
    """Count whitespace-separated words written in an alphabet (Latin, Cyrillic...).

    A token with a letter or digit counts; a lone dash or emoji does not, and neither does a
    Korean, Chinese or Japanese word, whose length the character cap already bounds.
    """
    return sum(
        1
        for token in text.split()
        if any(char.isalnum() for char in token) and not _SYLLABIC.search(token)
    )


def check_letter(raw: str) -> LetterCheck:
    """Clean a letter's text and say whether it can be sent, and if not, every reason why."""
    text = clean_text(raw)
    if not text:
        return LetterCheck(None, (Problem(LetterProblem.EMPTY),))
    problems: list[Problem] = []
    length = len(text)
    if length < LETTER_MIN_CHARS:
        problems.append(Problem(LetterProblem.TOO_SHORT, LETTER_MIN_CHARS, length))
    if length > LETTER_MAX_CHARS:
        problems.append(Problem(LetterProblem.TOO_LONG, LETTER_MAX_CHARS, length))
    words = count_words(text)
    if words > LETTER_MAX_WORDS:
        problems.append(Problem(LetterProblem.TOO_MANY_WORDS, LETTER_MAX_WORDS, words))
    lines = text.count("\n") + 1
    if lines > LETTER_MAX_LINES:
        problems.append(Problem(LetterProblem.TOO_MANY_LINES, LETTER_MAX_LINES, lines))
    problems.extend(find_contact_problems(text))
    problems.extend(find_unprintable_problems(text))
    return LetterCheck(None if problems else text, tuple(problems))


# Roles, institutions and agencies a pen name must not claim: writers and coordinators trust
# a letter or a notice "from" them, and the soldiers' captors read the names too. English words
# match whole (plural too), so "Dennis" is not "NIS"; Korean ones match at the start of a word
# ("경찰관"), or anywhere once three syllables long ("국가정보원 요원"). One list, one place.
IMPERSONATED_NAMES_EN = (
    "coordinator", "moderator", "mod team", "admin", "administrator", "operator", "organizer",
    "organiser", "courier", "translator", "staff", "official", "officer", "police",
    "policeman", "nis", "cia", "fbi", "kgb", "sbu", "fsb", "mss", "embassy", "consulate",
    "consul", "ambassador", "government", "ministry", "red cross", "redcross", "icrc",
    "unhcr", "united nations", "intelligence", "agent", "pyeonji", "bot", "support team",
    "helpdesk", "help desk", "telegram", "customer service", "customer support",
    "journalist", "reporter",
)  # fmt: skip
IMPERSONATED_NAMES_KO = (
    "코디네이터", "관리자", "관리인", "운영자", "운영진", "운영팀", "진행자", "담당자",
    "검토자", "번역자", "배달원", "국가정보원", "국정원", "정보원", "정보부", "정보기관",
    "경찰", "검찰", "대사관", "영사관", "대사님", "영사", "외교부", "통일부", "국방부",
    "정부", "적십자", "유엔", "국제연합", "보위부", "보위성", "보안서", "안전부", "안전성",
    "공안", "공무원", "요원", "편지봇", "텔레그램", "고객센터", "기자", "하나원", "하나센터",
)  # fmt: skip
# Look-alikes folded before matching: Cyrillic and Greek letters that read as Latin ones, and
# the digits that stand for letters ("Adm1n", "C00rdinator").
_LOOKALIKES = str.maketrans(
    {
        **dict(zip("аеорсхуікмтнвѕјԁ", "aeopcxyikmthbsjd", strict=True)),
        **dict(zip("αεορτυνκι", "aeoptuvki", strict=True)),
        **dict(zip("013457@$", "oieastas", strict=True)),
    }
)
_LATIN_WORD = regex.compile(r"[a-z]+")
_HANGUL_RUN = regex.compile(r"\p{Hangul}+")


def _impersonated(name: str) -> str | None:
    """The role or institution a pen name claims to be, as listed, or None."""
    folded = unicodedata.normalize("NFKC", name).casefold().translate(_LOOKALIKES)
    words = _LATIN_WORD.findall(folded)
    spaced, joined = f" {' '.join(words)} ", "".join(words)
    spelled_out = len(words) > 2 and all(len(word) == 1 for word in words)
    for term in IMPERSONATED_NAMES_EN:
        if f" {term} " in spaced or f" {term}s " in spaced:
            return term
        # Letters spaced out ("A d m i n") or glued to other words ("TheCoordinator").
        if (len(term) >= 6 or spelled_out) and term.replace(" ", "") in joined:
            return term
    runs = _HANGUL_RUN.findall(folded)
    for term in IMPERSONATED_NAMES_KO:
        if any(run.startswith(term) for run in runs):
            return term
        if len(term) >= 3 and term in "".join(runs):
            return term
    return None


def _has_visible_letter(text: str) -> bool:
    return any(unicodedata.category(char)[0] in "LN" for char in text)


def check_pen_name(raw: str) -> LetterCheck:
    """Clean a pen name (one line, spaces collapsed) and say whether it can be used."""
    text = clean_text(raw)
    if not text:
        return LetterCheck(None, (Problem(LetterProblem.EMPTY),))
    problems: list[Problem] = []
    if "\n" in text:
        lines = sum(1 for line in text.split("\n") if line)
        problems.append(Problem(LetterProblem.PEN_NAME_MULTILINE, 1, lines))
    # A pen name is printed on one line, so runs of spaces mean nothing there.
    text = re.sub(r" {2,}", " ", text)
    length = len(text)
    if length < PEN_NAME_MIN_CHARS:
        problems.append(Problem(LetterProblem.PEN_NAME_TOO_SHORT, PEN_NAME_MIN_CHARS, length))
    if length > PEN_NAME_MAX_CHARS:
        problems.append(Problem(LetterProblem.PEN_NAME_TOO_LONG, PEN_NAME_MAX_CHARS, length))
    if not _has_visible_letter(text):
        # Combining accents alone, or symbols only: nothing a reader can call the writer by.
        problems.append(Problem(LetterProblem.PEN_NAME_INVISIBLE))
    claimed = _impersonated(text)
    if claimed is not None:
        problems.append(Problem(LetterProblem.PEN_NAME_IMPERSONATES, fragment=claimed))
    problems.extend(find_contact_problems(text))
    problems.extend(find_unprintable_problems(text))
    return LetterCheck(None if problems else text, tuple(problems))
