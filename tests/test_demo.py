"""`make demo`: the web chat over the sandbox, through its JSON API and in a real browser."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from bot.sandbox.demo import COORDINATOR, MEMBER, running_demo

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
            assert page.status_code == 200 and "Pyeonji" in page.text
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
            assert pressed.json() == {"ok": True}
            await demo.sandbox.wait_for_message(MEMBER.user_id, "어떤 언어")
            bad = await client.post("/demo/api/send", json={"persona": 999, "text": "hi"})
            assert bad.status_code == 400
        assert await demo.runtime.broadcasts.latest("en")  # demo updates were seeded


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine: browser test skipped")
async def test_in_a_browser_a_member_subscribes_and_sees_the_coordinators_update(
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

        async def say(pane: object, text: str) -> None:
            await pane.locator("input").fill(text)  # type: ignore[attr-defined]
            await pane.locator("input").press("Enter")  # type: ignore[attr-defined]

        await say(member, "/start")
        await member.get_by_role("button", name="동의해요").click()
        await member.get_by_role("button", name="한국어").click()
        await member.get_by_role("button", name="네, 소식을 받을게요").click()
        await member.get_by_text("이제 소식을 받아요").wait_for()

        await say(coordinator, "/post")
        await coordinator.get_by_text("Send the Korean text").wait_for()
        await say(coordinator, "두 병사에게 보낸 편지의 답장이 도착했어요.")
        await coordinator.get_by_text("Now the English text").wait_for()
        await say(coordinator, "/skip")
        await coordinator.get_by_text("Send a photo").wait_for()
        await say(coordinator, "/skip")
        await coordinator.get_by_role("button", name="Publish").click()
        await member.get_by_text("두 병사에게 보낸 편지의 답장이 도착했어요.").wait_for()

        await page.screenshot(path=str(ROOT / "docs" / "demo.png"))
        await browser.close()
