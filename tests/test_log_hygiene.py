"""The whole journey at DEBUG: no letter text, no user id and no token in any log line."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.logs import configure_logging
from bot.models import Role
from fakebotapi.server import SANDBOX_TOKEN, FakeBotApi
from tests.conftest import StartBot
from tests.support.harness import ADMIN_ID, COORDINATOR_ID, COURIER_ID
from tests.support.people import member_who_joined, staff
from tests.test_letters import write

WRITER_ID = 730_194_682
LETTER = "건강하게 지내세요. 봄이 오면 꼭 만나요. 우리 모두 당신 편이에요, 잊지 마세요."
PEN_NAME = "부산의 한 누이"
ANNOUNCEMENT = "Candle vigil at the embassy on Saturday"


class Everything(logging.Handler):
    """Keeps every formatted record, as a log file would."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logs() -> Iterator[Everything]:
    configure_logging("DEBUG")  # exactly what LOG_LEVEL=DEBUG does in production
    root = logging.getLogger()
    handler = Everything()
    handler.setFormatter(root.handlers[0].formatter)
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    configure_logging("WARNING")


async def test_a_whole_journey_at_debug_logs_nothing_personal(
    make_bot: StartBot, sandbox: FakeBotApi, logs: Everything
) -> None:
    bot = await make_bot(LOG_LEVEL="DEBUG")
    writer = await member_who_joined(sandbox, WRITER_ID, "ko")
    await writer.send("/settings")
    await writer.click(await writer.expect("내 설정"), "하루 한 번")
    await write(writer, LETTER, PEN_NAME)

    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    courier = await staff(bot, sandbox, COURIER_ID, Role.COURIER)
    await coordinator.send("/review")
    await coordinator.click(await coordinator.expect("Letter waiting for review"), "Approve")
    await writer.expect("승인되었어요")
    await courier.send("/bundle")
    await courier.expect(lambda m: m.kind == "document")
    await courier.send("/bundles")
    await courier.click(await courier.expect("Bundle 1"), "Mark bundle 1 handed over")
    await courier.click(await courier.expect("When did you hand over"), "Today")
    await writer.expect("전달되었어요")

    await coordinator.send("/announce")
    await coordinator.send("/skip")
    await coordinator.send(ANNOUNCEMENT)
    await coordinator.click(await coordinator.expect("Who should receive"), "Everyone")
    await coordinator.click(await coordinator.expect("Send this announcement"), "Send")
    await writer.expect(ANNOUNCEMENT)
    await writer.send("/forget")
    await writer.click(await writer.expect("되돌릴 수 없어요"), "모두 지우기")
    await writer.expect("모두 지웠어요")

    text = "\n".join(logs.lines)
    assert len(logs.lines) > 20  # DEBUG really was on: the check has something to read
    secret_token = SANDBOX_TOKEN.split(":")[1]
    for secret in (LETTER, LETTER[:12], PEN_NAME, ANNOUNCEMENT, secret_token):
        assert secret not in text
    for user_id in (WRITER_ID, COORDINATOR_ID, COURIER_ID, ADMIN_ID):
        assert str(user_id) not in text, user_id
