"""`make demo`: the web chat over the sandbox, through its JSON API and in a real browser."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.demo import COORDINATOR, MEMBER, running_demo
from fakebotapi.media import image_size

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
]


async def test_the_demo_api_shows_each_chat_and_takes_messages_and_presses(
    tmp_path: Path,
) -> None:
    async with running_demo(tmp_path / "demo.sqlite3", port=0) as demo:
        url = f"http://127.0.0.1:{demo.port}"
        async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=10) as client:
            page = await client.get("/")
            assert page.status_code == 200 and "<title>Pyeonji (편지)</title>" in page.text
            await client.post("/demo/api/send", json={"persona": MEMBER.user_id, "text": "/start"})
            welcome = await demo.sandbox.wait_for_message(MEMBER.user_id, "편지")
            state = (await client.get("/demo/api/state?since=-1")).json()
            chats = {p["user_id"]: p["messages"] for p in state["personas"]}
            assert chats[MEMBER.user_id][0]["from"] == "person"
            assert any("편지" in m["text"] for m in chats[MEMBER.user_id])
            unchanged = await client.get(f"/demo/api/state?since={state['version']}")
            assert unchanged.json()["unchanged"] is True
            consent = welcome.button("동의해요").callback_data
            pressed = await client.post(
                "/demo/api/press",
                json={
                    "persona": MEMBER.user_id,
                    "message_id": welcome.message_id,
                    "data": consent,
                },
            )
            assert pressed.json() == {"ok": True, "notice": None}  # answered without a pop-up
            await demo.sandbox.wait_for_message(MEMBER.user_id, "어떤 언어")
            forged = await client.post(
                "/demo/api/press",
                json={"persona": MEMBER.user_id, "message_id": welcome.message_id, "data": "x"},
            )
            assert forged.json() == {
                "ok": True,
                "notice": {
                    "text": "이 버튼은 더 이상 쓸 수 없어요. 다시 해 주세요.",
                    "show_alert": False,
                },
            }
            photo = await client.post("/demo/api/photo", json={"persona": MEMBER.user_id})
            assert photo.json() == {"ok": True}
            state = (await client.get("/demo/api/state?since=-1")).json()
            sent = next(p["messages"] for p in state["personas"] if p["user_id"] == MEMBER.user_id)
            image = await client.get(f"/demo/files/{sent[-1]['file_id']}")
            assert image.headers["content-type"] == "image/png"
            assert image_size(image.content) == (320, 240)
            bad = await client.post("/demo/api/send", json={"persona": 999, "text": "hi"})
            assert bad.status_code == 400
        assert await demo.runtime.broadcasts.latest("en")  # demo updates were seeded


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine: browser test skipped")
async def test_in_a_browser_a_member_subscribes_writes_a_letter_and_the_coordinator_approves_it(
    tmp_path: Path,
) -> None:
    playwright_api = pytest.importorskip("playwright.async_api", reason="playwright missing")
    async with (
        running_demo(tmp_path / "demo.sqlite3", port=0) as demo,
        playwright_api.async_playwright() as playwright,
    ):
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=BROWSER_FLAGS, timeout=60_000
        )
        page = await browser.new_page(viewport={"width": 1500, "height": 900})
        page.set_default_timeout(20_000)
        await page.goto(f"http://127.0.0.1:{demo.port}/")
        member = page.locator(f'section[data-persona="{MEMBER.user_id}"]')
        coordinator = page.locator(f'section[data-persona="{COORDINATOR.user_id}"]')

        async def say(pane: Any, text: str) -> None:
            await pane.locator("textarea").fill(text)
            await pane.locator("textarea").press("Enter")

        async def press(pane: Any, label: str) -> None:
            await pane.locator(".keyboard").get_by_role("button", name=label).last.click()

        await say(member, "/start")
        await press(member, "동의해요")
        await press(member, "한국어")
        await press(member, "네, 소식을 받을게요")
        await member.get_by_text("이제 소식을 받아요").wait_for()
        assert await member.locator("form button.send").text_content() == "보내기"
        assert await coordinator.locator("form button.send").text_content() == "Send"

        await say(coordinator, "/post")
        await coordinator.get_by_text("Send the Korean text").wait_for()
        await say(coordinator, "두 병사에게 보낸 편지의 답장이 도착했어요.")
        await coordinator.get_by_text("Now the English text").wait_for()
        await say(coordinator, "/skip")
        await coordinator.get_by_text("Send a photo").wait_for()
        await say(coordinator, "/skip")
        await press(coordinator, "Publish")
        await member.get_by_text("두 병사에게 보낸 편지의 답장이 도착했어요.").wait_for()

        # A letter of two lines: Shift+Enter starts the second line, Enter sends the whole.
        await say(member, "/write")
        await member.get_by_text("두 병사에게 보내는 편지").last.wait_for()
        box = member.locator("textarea")
        await box.type("사랑하는 두 분께.")
        await box.press("Shift+Enter")
        await box.type("꼭 건강하게 지내세요. 우리 모두 기다리고 있어요!")
        await box.press("Enter")
        sent = member.locator(".bubble.person").last
        await sent.get_by_text("꼭 건강하게").wait_for()
        assert await sent.text_content() == LETTER
        await member.get_by_text("필명을 정해").last.wait_for()
        await member.locator(".keyboard button").last.click()  # a suggested pen name
        await member.get_by_text("검토를 요청할까요").last.wait_for()
        await press(member, "보내기")
        await member.get_by_text("검토를 기다리고").last.wait_for()

        await say(coordinator, "/review")
        await coordinator.get_by_text("Letter waiting for review").last.wait_for()
        await press(coordinator, "Approve")
        # answerCallbackQuery's text shows over the chat, as a phone shows it.
        await coordinator.locator(".notice").get_by_text("Approved.", exact=True).wait_for()
        await member.get_by_text("승인되었어요").wait_for()
        await coordinator.get_by_text("No letters are waiting for review.").wait_for()
        await coordinator.get_by_role("button", name="Approve").wait_for(state="detached")
        # The README's picture: written when missing or asked for, never as a side effect.
        screenshot = ROOT / "docs" / "demo.png"
        if not screenshot.exists() or os.environ.get("UPDATE_SCREENSHOTS"):
            await page.screenshot(path=str(screenshot))

        # The photo button sends a real picture, shown at its size.
        await member.locator("form button.photo").click()
        picture = member.locator(".bubble.person img").last
        await picture.wait_for()
        await page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=await picture.element_handle()
        )
        assert await picture.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [320, 240]

        # After a reload every chat opens at its newest message.
        await page.reload()
        await member.get_by_text("승인되었어요").wait_for()
        await page.wait_for_function(SCROLLED_TO_BOTTOM, arg=MEMBER.user_id)

        # On a phone 390 px wide the whole input row fits on the screen.
        await page.set_viewport_size({"width": 390, "height": 844})
        for button in ("send", "photo"):
            box_of = await member.locator(f"form button.{button}").bounding_box()
            assert box_of is not None and box_of["x"] + box_of["width"] <= 390, button
        await browser.close()


LETTER = "사랑하는 두 분께.\n꼭 건강하게 지내세요. 우리 모두 기다리고 있어요!"
SCROLLED_TO_BOTTOM = """user => {
    const m = document.querySelector(`section[data-persona="${user}"] .messages`);
    return m.scrollHeight > m.clientHeight && m.scrollTop + m.clientHeight >= m.scrollHeight - 2;
}"""
