"""Links in broadcasts: shown with their real site, look-alikes flagged, gated by LINK_DOMAINS."""

from __future__ import annotations

from bot.models import Role
from bot.services.links import LinkChecker, LinkWarning, find_links, reveal_hidden_links
from fakebotapi.formatting import utf16_len
from fakebotapi.server import FakeBotApi
from tests.conftest import StartBot, rejected_calls
from tests.support.harness import COORDINATOR_ID, expect_nothing_more
from tests.support.people import member_who_joined, staff

APPLE_LOOKALIKE = "https://xn--80ak6aa92e.com/login"  # аррӏе.com, in Cyrillic letters


def test_punycode_is_decoded_and_a_lookalike_of_a_known_site_is_flagged() -> None:
    (link,) = LinkChecker().links(f"Please sign in at {APPLE_LOOKALIKE} today.")
    assert link.domain == "аррӏе.com" and link.ascii_domain == "xn--80ak6aa92e.com"
    assert LinkWarning.LOOKS_LIKE in link.warnings and link.imitates == "apple.com"
    assert not link.allowed


def test_mixed_alphabets_swapped_letters_and_borrowed_names_are_flagged() -> None:
    checker = LinkChecker()
    (mixed,) = checker.links("gооgle.com")  # two Cyrillic о
    assert LinkWarning.MIXED_SCRIPTS in mixed.warnings and mixed.imitates == "google.com"
    assert checker.links("teIegram.org")[0].imitates == "telegram.org"  # capital i for l
    assert checker.links("telergam.org")[0].imitates == "telegram.org"  # two letters swapped
    assert checker.links("naver-login.com")[0].imitates == "naver.com"
    (hidden_host,) = checker.links("https://telegram.org@evil.example/x")
    assert hidden_host.domain == "evil.example"  # what is before @ is not the site
    assert checker.links("https://web.telegram.org/")[0].warnings == ()
    assert checker.links("서울.한국")[0].warnings == ()  # one alphabet: not flagged


def test_the_allow_list_covers_its_sites_and_their_subdomains_only() -> None:
    checker = LinkChecker(["pyeonji.org"])
    assert not checker.needs_approval("See https://news.pyeonji.org/a and pyeonji.org.")
    assert checker.needs_approval("See pyeonji.org.evil.example")
    assert checker.needs_approval("See xn--pyenji-8ya.org")  # pyeönji.org
    assert LinkChecker().needs_approval("www.example.org")  # empty list: every link
    assert not LinkChecker().needs_approval("No links here, version 3.5, e.g. this.")


def test_links_are_found_as_telegram_would_make_them_clickable() -> None:
    text = "Read (https://example.org/a?b=1), EXAMPLE.COM, 예시.한국 and t.me/pyeonji."
    assert find_links(text) == [
        "https://example.org/a?b=1",
        "EXAMPLE.COM",
        "예시.한국",
        "t.me/pyeonji",
    ]


def test_a_hidden_link_gets_its_address_written_after_its_words() -> None:
    text = "😀 Read our page today"
    offset = utf16_len("😀 Read ")
    hidden = [(offset, utf16_len("our page"), "https://evil.example")]
    assert reveal_hidden_links(text, hidden) == "😀 Read our page (https://evil.example) today"
    shown = [(0, utf16_len("https://a.example"), "https://a.example")]
    assert reveal_hidden_links("https://a.example", shown) == "https://a.example"


async def test_a_hidden_lookalike_link_is_shown_and_needs_a_second_coordinator(
    make_bot: StartBot, sandbox: FakeBotApi
) -> None:
    bot = await make_bot()  # BROADCAST_APPROVALS=1: the link alone asks for a second person
    reader = await member_who_joined(sandbox, 8501, "en")
    author = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    second = await staff(bot, sandbox, COORDINATOR_ID + 1, Role.COORDINATOR)

    text = "Please confirm your subscription on our page."
    await author.send("/announce")
    await author.send("/skip")
    words = "our page"
    entity = {
        "type": "text_link",
        "offset": utf16_len(text[: text.index(words)]),
        "length": utf16_len(words),
        "url": APPLE_LOOKALIKE,
    }
    await author.send(text, entities=[entity])
    await author.click(await author.expect("Who should receive"), "Everyone")
    preview = await author.expect("Announcement from")
    assert f"our page ({APPLE_LOOKALIKE})" in preview.text
    report = await author.expect("Links in this message")
    assert "аррӏе.com" in report.text and "xn--80ak6aa92e.com" in report.text
    assert "imitates apple.com" in report.text and "second coordinator" in report.text
    await author.click(await author.expect("Send this announcement"), "Send")
    await author.expect("Sent for approval to 1 other coordinator.")
    await expect_nothing_more(bot, reader)

    warning = await second.expect("Links in this message")
    assert "imitates apple.com" in warning.text
    request = await second.expect("Approval needed")
    await second.click(request, "Reject")
    await second.expect("Rejected. Nothing was sent.")
    await expect_nothing_more(bot, reader)
    assert rejected_calls(sandbox) == []


async def test_a_link_on_the_allow_list_goes_out_at_once_written_in_full(
    make_bot: StartBot, sandbox: FakeBotApi
) -> None:
    bot = await make_bot(LINK_DOMAINS="pyeonji.org", SEND_RATE="50")
    reader = await member_who_joined(sandbox, 8511, "en")
    author = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await author.send("/post")
    await author.send("/skip")
    text = "The full letter is on our site."
    await author.send(
        text,
        entities=[
            {
                "type": "text_link",
                "offset": text.index("our site"),
                "length": len("our site"),
                "url": "https://pyeonji.org/letters/1",
            }
        ],
    )
    await author.send("/skip")  # no photo
    report = await author.expect("Links in this message")
    assert "pyeonji.org" in report.text and "not on the allowed list" not in report.text
    await author.click(await author.expect("Publish it?"), "Publish")
    await author.expect("Published.")
    received = await reader.expect("Update on the case")
    assert "our site (https://pyeonji.org/letters/1)" in received.text
    assert all(entity["type"] != "text_link" for entity in received.entities)
    assert rejected_calls(sandbox) == []


async def test_a_post_linking_outside_the_allow_list_waits_for_approval(
    make_bot: StartBot, sandbox: FakeBotApi
) -> None:
    bot = await make_bot(LINK_DOMAINS="pyeonji.org")
    reader = await member_who_joined(sandbox, 8521, "en")
    author = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    second = await staff(bot, sandbox, COORDINATOR_ID + 1, Role.COORDINATOR)
    await author.send("/post")
    await author.send("/skip")
    await author.send("Photos from the vigil: pyeonji.org.photos.example/vigil")
    await author.send("/skip")
    report = await author.expect("Links in this message")
    assert "not on the allowed list" in report.text
    await author.click(await author.expect("Publish it?"), "Publish")
    await author.expect("Sent for approval")
    await expect_nothing_more(bot, reader)
    await second.click(await second.expect("Approval needed"), "Approve")
    await second.expect("Approved and published")
    assert "photos.example" in (await reader.expect("Update on the case")).text


async def test_the_welcome_and_help_say_what_pyeonji_never_asks_for(
    make_bot: StartBot, sandbox: FakeBotApi
) -> None:
    await make_bot()
    member = sandbox.user(8531, language_code="en")
    await member.send("/start")
    welcome = await member.expect("Welcome to Pyeonji")
    assert "never ask you for a password" in welcome.text
    korean = sandbox.user(8532, language_code="ko")
    await korean.send("/start")
    assert "비밀번호" in (await korean.expect("편지")).text
    await member.click(welcome, "I agree")
    await member.send("/help")
    assert "report it to the organizers" in (await member.expect("What this bot can do")).text
