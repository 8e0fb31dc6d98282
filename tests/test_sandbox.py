"""The fake Bot API behaves like Telegram for python-telegram-bot: answers, errors, updates."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import warnings
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import tornado.httpserver
import tornado.netutil
import tornado.web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)

from fakebotapi import FAKE_JPEG, GROUP_ANONYMOUS_BOT, SANDBOX_TOKEN, FakeBotApi, Fault

MEMBER_ID = 7001
# PTB 22's own RetryAfter constructor warns that retry_after will become a timedelta.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")


@pytest.fixture
async def server() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        yield api


@pytest.fixture
async def bot(server: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(
        SANDBOX_TOKEN, base_url=server.base_url, base_file_url=server.base_file_url
    ) as telegram_bot:
        yield telegram_bot


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d)] for d in data])


def retry_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: Any = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# -- identity and routing -------------------------------------------------------------------


async def test_get_me_uses_the_tokens_digits_as_the_bot_id(server: FakeBotApi) -> None:
    async with Bot("5551234:other-token_X", base_url=server.base_url) as other:
        me = await other.get_me()
    assert (me.id, me.is_bot, me.username) == (5551234, True, "fakebotapi_test_bot")


async def test_malformed_token_is_unauthorized_and_unknown_method_not_found(
    server: FakeBotApi,
) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("not-a-token", base_url=server.base_url):
            pass
    async with httpx.AsyncClient() as client:
        unknown = await client.post(f"{server.base_url}{SANDBOX_TOKEN}/sendTelepathy")
        json_body = await client.post(
            f"{server.base_url}{SANDBOX_TOKEN}/GETME", json={"unused": [1, 2]}
        )
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert json_body.json()["result"]["id"] == 123456789  # names are case-insensitive


async def test_unknown_chat_is_not_found(server: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(404404, "hello")
    assert server.calls[-1].error_code == 400


# -- messages ------------------------------------------------------------------------------


async def test_send_edit_delete_are_recorded_as_a_person_sees_them(
    server: FakeBotApi, bot: Bot
) -> None:
    server.user(MEMBER_ID)
    sent = await bot.send_message(
        MEMBER_ID, "<b>Hello</b> &lt;friend&gt;", parse_mode="HTML", reply_markup=keyboard("a")
    )
    recorded = server.message(MEMBER_ID, sent.message_id)
    assert (recorded.text, recorded.source, recorded.parse_mode) == (
        "Hello <friend>",
        "<b>Hello</b> &lt;friend&gt;",
        "HTML",
    )
    assert recorded.callback_data == ["a"]

    await bot.edit_message_text("Bye", MEMBER_ID, sent.message_id, reply_markup=keyboard("b"))
    assert recorded.edited and recorded.text == "Bye" and recorded.callback_data == ["b"]
    assert recorded.history[0].text == "Hello <friend>"
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("Bye", MEMBER_ID, sent.message_id, reply_markup=keyboard("b"))

    await bot.edit_message_text("Bye", MEMBER_ID, sent.message_id)  # drops the keyboard
    assert recorded.buttons == []
    await bot.edit_message_reply_markup(MEMBER_ID, sent.message_id, reply_markup=keyboard("c"))
    assert recorded.button("c").callback_data == "c"

    assert await bot.delete_message(MEMBER_ID, sent.message_id)
    assert recorded.deleted and server.messages(MEMBER_ID) == []
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("again", MEMBER_ID, sent.message_id)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(MEMBER_ID, sent.message_id)


@pytest.mark.parametrize(
    ("html", "visible", "entity_types"),
    [
        (
            "<b>bold</b> <i>it</i> <u>u</u> <s>s</s>",
            "bold it u s",
            ["bold", "italic", "underline", "strikethrough"],
        ),
        ('<a href="https://ex.org/?a=1&amp;b=2">link</a>', "link", ["text_link"]),
        (
            '<span class="tg-spoiler">x</span><tg-spoiler>y</tg-spoiler>',
            "xy",
            ["spoiler", "spoiler"],
        ),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1", ["pre"]),
        ("<blockquote expandable>q</blockquote>", "q", ["expandable_blockquote"]),
        ("&#50836;&#xC9C0; &quot;&amp;&quot;", '요지 "&"', []),
        ("<b>outer <i>inner</i></b>", "outer inner", ["bold", "italic"]),
    ],
)
async def test_html_accepted_like_telegram(
    server: FakeBotApi, bot: Bot, html: str, visible: str, entity_types: list[str]
) -> None:
    server.user(MEMBER_ID)
    sent = await bot.send_message(MEMBER_ID, html, parse_mode="HTML")
    assert sent.text == visible
    assert [entity.type for entity in sent.entities] == entity_types


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<script>alert(1)</script>", 'unsupported start tag "script"'),
        ("<b>unclosed", 'find end tag corresponding to start tag "b"'),
        ("<b><i>crossed</b></i>", "unmatched end tag"),
        ("Tom & Jerry", 'unescaped "&"'),
        ("1 < 2", "empty tag name"),
        ("2 > 1", 'unescaped ">"'),
        ("&nbsp;", "unsupported html entity"),
        ("<span>x</span>", 'must have class "tg-spoiler"'),
        ("</b>", "unexpected end tag"),
    ],
)
async def test_bad_html_cannot_be_parsed(
    server: FakeBotApi, bot: Bot, html: str, reason: str
) -> None:
    server.user(MEMBER_ID)
    with pytest.raises(BadRequest) as raised:
        await bot.send_message(MEMBER_ID, html, parse_mode="HTML")
    assert "can't parse entities" in str(raised.value).lower()
    assert reason in str(raised.value).lower()
    assert server.messages(MEMBER_ID) == []


async def test_length_is_measured_on_visible_text(server: FakeBotApi, bot: Bot) -> None:
    server.user(MEMBER_ID)
    sent = await bot.send_message(MEMBER_ID, "<b>" + "가" * 4096 + "</b>", parse_mode="HTML")
    assert len(sent.text) == 4096
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(MEMBER_ID, "a" * 4097)
    for empty in ("", "   ", "<b> </b>"):
        with pytest.raises(BadRequest, match="Message text is empty"):
            await bot.send_message(MEMBER_ID, empty, parse_mode="HTML")


async def test_entity_offsets_are_utf16_and_text_is_trimmed(server: FakeBotApi, bot: Bot) -> None:
    server.user(MEMBER_ID)
    sent = await bot.send_message(MEMBER_ID, "  😀 <b>편지</b>\n", parse_mode="HTML")
    assert sent.text == "😀 편지"
    assert (sent.entities[0].offset, sent.entities[0].length) == (3, 2)
    assert sent.parse_entity(sent.entities[0]) == "편지"


async def test_callback_data_is_limited_to_64_bytes(server: FakeBotApi, bot: Bot) -> None:
    server.user(MEMBER_ID)
    await bot.send_message(MEMBER_ID, "ok", reply_markup=keyboard("x" * 64))
    for data in ("x" * 65, "가" * 22):  # 22 Hangul syllables are 66 bytes of UTF-8
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(MEMBER_ID, "no", reply_markup=keyboard(data))
    with pytest.raises(BadRequest, match=r"(?i)text buttons are unallowed"):
        await bot.send_message(
            MEMBER_ID, "no", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("t")]])
        )


async def test_caption_is_limited_to_1024(server: FakeBotApi, bot: Bot) -> None:
    server.user(MEMBER_ID)
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_photo(MEMBER_ID, FAKE_JPEG, caption="c" * 1025)


# -- faults and flood control ---------------------------------------------------------------


async def test_each_fault_raises_the_matching_ptb_exception(server: FakeBotApi, bot: Bot) -> None:
    server.user(MEMBER_ID)
    server.add_fault(Fault.retry_after(7), "sendMessage")
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(MEMBER_ID, "x")
    assert retry_seconds(raised.value) == 7

    server.add_fault(Fault.blocked(), "sendMessage", chat_id=MEMBER_ID)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(MEMBER_ID, "x")
    server.add_fault(Fault.chat_not_found(), "sendMessage")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(MEMBER_ID, "x")
    for status in (500, 502):
        server.add_fault(Fault.server_error(status), "sendMessage")
        with pytest.raises(NetworkError) as network_error:
            await bot.send_message(MEMBER_ID, "x")
        assert not isinstance(network_error.value, BadRequest)

    await bot.send_message(MEMBER_ID, "faults were used up")
    assert server.stats.faults_fired == 5
    calls = server.calls_to("sendMessage")
    assert [(call.ok, call.injected) for call in calls] == [(False, True)] * 5 + [(True, False)]
    with pytest.raises(BadRequest):
        await bot.send_message(MEMBER_ID, "")
    assert not server.calls[-1].injected  # a real mistake of the bot stays visible


async def test_faults_count_down_and_target_one_chat(server: FakeBotApi, bot: Bot) -> None:
    server.user(1)
    server.user(2)
    server.add_fault(Fault.blocked(), chat_id=1, times=2)
    await bot.send_message(2, "other chat unaffected")
    for _ in range(2):
        with pytest.raises(Forbidden):
            await bot.send_message(1, "x")
    await bot.send_message(1, "works again")
    server.add_fault(Fault.server_error(), "sendMessage", times=None)
    for _ in range(3):
        with pytest.raises(NetworkError):
            await bot.send_message(2, "x")
    server.clear_faults()
    await bot.send_message(2, "cleared")


async def test_delay_fault_answers_late_but_normally(server: FakeBotApi, bot: Bot) -> None:
    server.user(MEMBER_ID)
    server.user(MEMBER_ID + 1)
    # Long enough that a loaded machine still answers "fast" first.
    server.add_fault(Fault.slow(1.0), "sendMessage", chat_id=MEMBER_ID)
    finished: list[str] = []

    async def send(chat_id: int, text: str) -> None:
        await bot.send_message(chat_id, text)
        finished.append(text)

    # The slow request goes first, yet the fast one, sent after it, is answered first.
    slow = asyncio.create_task(send(MEMBER_ID, "slow"))
    await server.wait_until(lambda: server.stats.faults_fired > 0, what="slow request arrived")
    await send(MEMBER_ID + 1, "fast")
    await slow
    assert finished == ["fast", "slow"]
    assert server.messages(MEMBER_ID)[-1].text == "slow"


async def test_a_held_request_is_answered_normally_once_released(
    server: FakeBotApi, bot: Bot
) -> None:
    server.user(MEMBER_ID)
    server.user(MEMBER_ID + 1)
    server.add_fault(Fault.held(), "sendMessage", chat_id=MEMBER_ID, times=2)
    finished: list[str] = []

    async def send(chat_id: int, text: str) -> None:
        await bot.send_message(chat_id, text)
        finished.append(text)

    held = [asyncio.create_task(send(MEMBER_ID, text)) for text in ("held 1", "held 2")]
    await server.wait_until(lambda: server.stats.faults_fired == 2, what="both requests held")
    await send(MEMBER_ID + 1, "other chat")  # answered while the two wait
    assert finished == ["other chat"] and not server.messages(MEMBER_ID)
    server.clear_faults()  # both uses are spent, yet what they hold is released
    await asyncio.gather(*held)
    assert sorted(finished) == ["held 1", "held 2", "other chat"]
    assert [m.text for m in server.messages(MEMBER_ID)] == ["held 1", "held 2"]
    assert all(call.ok for call in server.calls)


async def test_migrated_group_answers_with_the_new_id_which_then_works(
    server: FakeBotApi, bot: Bot
) -> None:
    server.group(-4001, "Volunteers")
    server.add_fault(Fault.migrated(-1004001), "sendMessage", chat_id=-4001)
    with pytest.raises(ChatMigrated) as raised:
        await bot.send_message(-4001, "x")
    assert raised.value.new_chat_id == -1004001
    with pytest.raises(ChatMigrated):  # permanently, not only while the fault lasted
        await bot.send_message(-4001, "x")
    sent = await bot.send_message(-1004001, "hello supergroup")
    assert sent.chat.type == "supergroup"


async def test_blocking_user_gets_403_and_bot_gets_my_chat_member(
    server: FakeBotApi, bot: Bot
) -> None:
    member = server.user(MEMBER_ID)
    await member.block()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(MEMBER_ID, "x")
    await member.unblock()
    await bot.send_message(MEMBER_ID, "welcome back")
    updates = await bot.get_updates()
    changes = [
        (u.my_chat_member.old_chat_member.status, u.my_chat_member.new_chat_member.status)
        for u in updates
        if u.my_chat_member
    ]
    assert changes == [("member", "kicked"), ("kicked", "member")]


async def test_rate_limit_answers_429_past_n_per_second(server: FakeBotApi, bot: Bot) -> None:
    server.user(1)
    server.user(2)
    server.set_rate_limit(5)
    results = await asyncio.gather(
        *(bot.send_message(1 + i % 2, f"m{i}") for i in range(8)), return_exceptions=True
    )
    limited = [r for r in results if isinstance(r, RetryAfter)]
    assert len(limited) == 3 and all(retry_seconds(r) >= 1 for r in limited)
    assert server.stats.rate_limited == 3 and server.stats.messages_sent == 5

    server.set_rate_limit(1000, per_chat_per_second=1)
    await bot.send_message(1, "first to chat 1")
    with pytest.raises(RetryAfter):
        await bot.send_message(1, "second to chat 1 within the second")
    await bot.send_message(2, "chat 2 is not limited by chat 1")


# -- updates --------------------------------------------------------------------------------


async def test_long_poll_returns_an_injected_update_promptly(server: FakeBotApi, bot: Bot) -> None:
    member = server.user(MEMBER_ID, language_code="ko")
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await server.wait_until(lambda: server.stats.by_method["getUpdates"] == 1)
    await member.send("/start@fakebotapi_test_bot write now")
    updates = await asyncio.wait_for(poll, timeout=5)  # far below the 30 s poll timeout
    message = updates[0].message
    assert message.text.startswith("/start") and message.from_user.language_code == "ko"
    assert message.entities[0].type == "bot_command" and message.entities[0].length == 26
    assert message.chat.id == MEMBER_ID

    await member.send("second")
    again = await bot.get_updates(timeout=0)
    assert [u.message.text for u in again] == ["/start@fakebotapi_test_bot write now", "second"]
    rest = await bot.get_updates(offset=again[-1].update_id + 1, timeout=0)
    assert rest == ()
    assert not server.state.updates  # confirmed and forgotten


async def test_long_poll_waits_for_the_timeout_without_busy_looping(
    server: FakeBotApi, bot: Bot
) -> None:
    member = server.user(MEMBER_ID)
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await server.wait_until(lambda: server.stats.by_method.get("getUpdates", 0) == 1)
    assert not poll.done()  # the request is held open, not answered empty
    await member.send("hello")
    updates = await poll
    assert [u.message.text for u in updates if u.message] == ["hello"]
    assert server.stats.by_method["getUpdates"] == 1  # one request, no busy loop


async def test_allowed_updates_filters_update_types(server: FakeBotApi, bot: Bot) -> None:
    member = server.user(MEMBER_ID)
    sent = await bot.send_message(MEMBER_ID, "choose", reply_markup=keyboard("yes"))
    await member.send("ignored")
    query_id = await member.press(server.message(MEMBER_ID, sent.message_id), "forged:data")
    updates = await bot.get_updates(timeout=0, allowed_updates=["callback_query"])
    assert [u.callback_query.data for u in updates] == ["forged:data"]
    assert updates[0].callback_query.id == query_id
    assert updates[0].callback_query.message.message_id == sent.message_id


async def test_stop_releases_a_pending_long_poll(bot: Bot) -> None:
    api = FakeBotApi()
    await api.start()
    async with Bot(SANDBOX_TOKEN, base_url=api.base_url) as other:
        poll = asyncio.create_task(other.get_updates(timeout=30))
        await api.wait_until(lambda: api.stats.requests == 1)
        await asyncio.wait_for(api.stop(), timeout=5)
        result = await asyncio.gather(poll, return_exceptions=True)
    assert result[0] == () or isinstance(result[0], NetworkError)


async def test_callback_answers_and_edits_are_awaitable(server: FakeBotApi, bot: Bot) -> None:
    member = server.user(MEMBER_ID)
    sent = await bot.send_message(MEMBER_ID, "Progress: 0", reply_markup=keyboard("cancel"))
    mark = server.cursor(MEMBER_ID)
    query_id = await member.click(server.message(MEMBER_ID, sent.message_id), "cancel")
    update = (await bot.get_updates(timeout=0))[-1]

    async def bot_side() -> None:
        await update.callback_query.answer("Cancelled")
        await bot.edit_message_text("Progress: cancelled", MEMBER_ID, sent.message_id)

    task = asyncio.create_task(bot_side())
    answer = await server.wait_for_callback_answer(query_id)
    edited = await server.wait_for_message(MEMBER_ID, "cancelled", after=mark)
    await task
    assert answer["text"] == "Cancelled" and edited.message_id == sent.message_id
    with pytest.raises(BadRequest, match="Query is too old"):
        await update.callback_query.answer("twice")
    assert len(await server.wait_for_calls("answerCallbackQuery", 2)) == 2
    with pytest.raises(BadRequest, match="Message_too_long"):
        await bot.answer_callback_query(await member.press(sent.message_id, "x"), "a" * 201)


async def test_a_press_answered_too_late_is_refused_like_telegram(bot: Bot) -> None:
    now = [100.0]
    async with FakeBotApi(callback_query_timeout=15.0, clock=lambda: now[0]) as api:
        member = api.user(MEMBER_ID)
        async with Bot(SANDBOX_TOKEN, base_url=api.base_url) as late_bot:
            sent = await late_bot.send_message(MEMBER_ID, "Go?", reply_markup=keyboard("go"))
            fresh = await member.press(sent.message_id, "go")
            stale = await member.press(sent.message_id, "go")
            backdated = await member.press(sent.message_id, "go", age=15.5)
            now[0] += 14.0
            assert await late_bot.answer_callback_query(fresh, "in time")
            now[0] += 2.0
            with pytest.raises(BadRequest, match="Query is too old"):
                await late_bot.answer_callback_query(stale, "too late")
            with pytest.raises(BadRequest, match="Query is too old"):
                await late_bot.answer_callback_query(backdated)
        assert api.callback_answer(fresh) == {
            "text": "in time",
            "show_alert": False,
            "url": None,
            "cache_time": 0,
        }
        assert api.callback_answer(stale) is None and api.callback_answer(backdated) is None


async def test_editing_a_persons_own_message_is_refused(server: FakeBotApi, bot: Bot) -> None:
    member = server.user(MEMBER_ID)
    theirs = await member.send("hello")
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("changed", MEMBER_ID, theirs["message_id"])
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_reply_markup(MEMBER_ID, theirs["message_id"])


async def test_user_expect_reads_messages_in_order(server: FakeBotApi, bot: Bot) -> None:
    member = server.user(MEMBER_ID)
    first = await member.send("hello")
    await bot.send_message(MEMBER_ID, "one")
    await bot.send_message(MEMBER_ID, "two")
    assert (await member.expect()).text == "one"
    assert (await member.expect()).text == "two"
    with pytest.raises(TimeoutError, match="latest"):
        await member.expect("three", timeout=0.2)
    edited = await member.edit(first["message_id"], "hello again")
    updates = await bot.get_updates(timeout=0)
    assert updates[-1].edited_message.text == edited["text"] == "hello again"


async def test_webhook_delivery_and_getupdates_conflict(server: FakeBotApi, bot: Bot) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    class Receiver(tornado.web.RequestHandler):
        def post(self) -> None:
            secret = self.request.headers.get("X-Telegram-Bot-Api-Secret-Token")
            received.append((secret, json.loads(self.request.body)))

    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    receiver = tornado.httpserver.HTTPServer(tornado.web.Application([("/hook", Receiver)]))
    receiver.add_sockets(sockets)
    try:
        url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}/hook"
        await bot.set_webhook(url, secret_token="s3cret-token")
        assert (await bot.get_webhook_info()).url == url
        with pytest.raises(Conflict):
            await bot.get_updates()
        await server.user(MEMBER_ID).send("via webhook")
        await server.wait_until_fetched()
        await server.wait_until(lambda: not server.state.updates)
        assert received[0][0] == "s3cret-token"
        assert received[0][1]["message"]["text"] == "via webhook"
        await bot.delete_webhook()
        assert await bot.get_updates() == ()
    finally:
        receiver.stop()


# -- files ----------------------------------------------------------------------------------


async def test_users_photo_can_be_fetched_with_get_file(server: FakeBotApi, bot: Bot) -> None:
    member = server.user(MEMBER_ID)
    await member.send_photo(caption="scan of a letter")
    update = (await bot.get_updates(timeout=0))[0]
    photo = update.message.photo[-1]
    assert (photo.width, photo.height, update.message.caption) == (4, 3, "scan of a letter")
    telegram_file = await bot.get_file(photo.file_id)
    assert bytes(await telegram_file.download_as_bytearray()) == FAKE_JPEG
    with pytest.raises(BadRequest, match="Invalid file_id"):
        await bot.get_file("no-such-file")


async def test_uploaded_document_downloads_and_its_file_id_is_reusable(
    server: FakeBotApi, bot: Bot
) -> None:
    server.user(MEMBER_ID)
    content = "편지 묶음\n".encode() * 100
    sent = await bot.send_document(
        MEMBER_ID,
        InputFile(content, filename="bundle-1.pdf"),
        caption="<b>Bundle</b> 1",
        parse_mode="HTML",
    )
    assert sent.document.file_name == "bundle-1.pdf" and sent.caption == "Bundle 1"
    downloaded = await (await bot.get_file(sent.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == content
    again = await bot.send_document(MEMBER_ID, sent.document.file_id)
    assert again.document.file_unique_id == sent.document.file_unique_id
    assert server.messages(MEMBER_ID)[0].document_file_id == sent.document.file_id
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_photo(MEMBER_ID, "not-a-file-id")
    photo = await bot.send_photo(MEMBER_ID, FAKE_JPEG)
    assert server.message(MEMBER_ID, photo.message_id).photo_file_id == photo.photo[-1].file_id


# -- commands -------------------------------------------------------------------------------


async def test_commands_are_kept_per_scope_and_language(server: FakeBotApi, bot: Bot) -> None:
    server.user(MEMBER_ID)
    member_menu = [BotCommand("start", "시작"), BotCommand("help", "도움말")]
    admin_menu = [*member_menu, BotCommand("grant", "역할 부여")]
    await bot.set_my_commands(member_menu, language_code="ko")
    await bot.set_my_commands([BotCommand("start", "Start")], language_code="en")
    await bot.set_my_commands(admin_menu, scope=BotCommandScopeChat(MEMBER_ID), language_code="ko")

    assert [c.command for c in await bot.get_my_commands(language_code="ko")] == ["start", "help"]
    assert [c.description for c in await bot.get_my_commands(language_code="en")] == ["Start"]
    assert await bot.get_my_commands() == ()  # no fallback between languages
    chat_scope = BotCommandScopeChat(MEMBER_ID)
    assert len(await bot.get_my_commands(scope=chat_scope, language_code="ko")) == 3
    assert [c["command"] for c in server.visible_commands(MEMBER_ID, "ko")][-1] == "grant"
    assert server.visible_commands(9999, "en") == [{"command": "start", "description": "Start"}]

    await bot.delete_my_commands(scope=BotCommandScopeDefault(), language_code="ko")
    assert server.commands(language_code="ko") == []
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start-Now", "bad name")])
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.set_my_commands(member_menu, scope=BotCommandScopeChat(123))


# -- a real Application ---------------------------------------------------------------------


async def test_a_real_application_talks_to_fake_people(server: FakeBotApi) -> None:
    from telegram import Update
    from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        args = " ".join(context.args or [])
        await update.effective_message.reply_html(
            f"<b>Welcome</b> {args}", reply_markup=keyboard("lang:ko", "lang:en")
        )

    async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.data is not None
        await query.answer()
        await query.edit_message_text(f"Language: {query.data.removeprefix('lang:')}")

    application = (
        Application.builder()
        .token(SANDBOX_TOKEN)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(choose))
    member = server.user(MEMBER_ID, "Ji-woo")
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=10)
        await member.send("/start write")
        welcome = await member.expect("Welcome")
        assert welcome.text == "Welcome write" and welcome.entities[0]["type"] == "bold"
        query_id = await member.click(welcome, "lang:en")
        assert (await member.expect("Language")).text == "Language: en"
        assert await server.wait_for_callback_answer(query_id) == {
            "text": None,
            "show_alert": False,
            "url": None,
            "cache_time": 0,
        }
        async with asyncio.timeout(5):  # the pending long poll must not hold shutdown
            await application.updater.stop()
            await application.stop()
    assert welcome.edited and len(server.messages(MEMBER_ID)) == 1


async def test_group_messages_anonymous_admins_and_channel_posts_arrive_as_telegram_sends_them(
    server: FakeBotApi, bot: Bot
) -> None:
    member = server.user(MEMBER_ID, language_code="en")
    group = server.group(-5001, "Volunteers", supergroup=True)
    channel = server.channel(-1005002, "News")
    await group.send(member, "/whoami")
    await group.send_as_anonymous_admin("/mydata")
    await channel.post("hello")
    first, anonymous, post = await bot.get_updates()
    assert first.message is not None and first.message.from_user is not None
    assert first.message.chat.type == "supergroup" and first.message.chat.id == -5001
    assert first.message.from_user.id == MEMBER_ID and first.message.sender_chat is None
    assert [e.type for e in first.message.entities] == ["bot_command"]
    assert anonymous.message is not None and anonymous.message.from_user is not None
    assert anonymous.message.from_user.id == GROUP_ANONYMOUS_BOT["id"] == 1087968824
    assert anonymous.message.from_user.username == "GroupAnonymousBot"
    assert anonymous.message.sender_chat is not None
    assert anonymous.message.sender_chat.id == -5001
    assert post.channel_post is not None and post.message is None
    assert post.channel_post.chat.type == "channel"
    assert post.channel_post.sender_chat is not None
    assert post.channel_post.sender_chat.id == -1005002
    assert post.channel_post.from_user is None


async def test_a_button_press_in_a_group_names_the_person_and_the_group(
    server: FakeBotApi, bot: Bot
) -> None:
    member = server.user(MEMBER_ID)
    group = server.group(-5003)
    sent = await bot.send_message(-5003, "choose", reply_markup=keyboard("a:1", "b:2"))
    query_id = await group.click(member, server.message(-5003, sent.message_id), "b:2")
    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.data == "b:2" and query.from_user.id == MEMBER_ID
    assert query.message is not None and query.message.chat.id == -5003
    await bot.answer_callback_query(query.id, "ok")
    assert server.callback_answer(query_id) == {
        "text": "ok",
        "show_alert": False,
        "url": None,
        "cache_time": 0,
    }


async def test_added_to_a_group_the_bot_gets_my_chat_member_and_can_leave(
    server: FakeBotApi, bot: Bot
) -> None:
    member = server.user(MEMBER_ID)
    group = server.group(-5004)
    await group.add_bot(member)
    (added,) = await bot.get_updates()
    change = added.my_chat_member
    assert change is not None and change.chat.id == -5004 and change.from_user.id == MEMBER_ID
    assert (change.old_chat_member.status, change.new_chat_member.status) == ("left", "member")
    await bot.send_message(-5004, "hello")
    assert await bot.leave_chat(-5004) is True
    assert group.bot_left
    (left,) = await bot.get_updates(offset=added.update_id + 1)
    assert left.my_chat_member is not None
    assert left.my_chat_member.new_chat_member.status == "left"
    with pytest.raises(Forbidden, match="bot is not a member of the group chat"):
        await bot.send_message(-5004, "still here?")
    with pytest.raises(BadRequest, match="can't be changed in private chats"):
        await bot.leave_chat(MEMBER_ID)


async def test_group_expect_reads_what_the_bot_wrote_there_after_the_last_action(
    server: FakeBotApi, bot: Bot
) -> None:
    member = server.user(MEMBER_ID)
    group = server.group(-5005)
    await bot.send_message(-5005, "before")
    await group.send(member, "/help")
    await bot.send_message(-5005, "after")
    assert (await group.expect()).text == "after"
    assert member.messages == []
