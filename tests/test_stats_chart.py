"""/stats adds a chart: the data handed to the plot, and a valid PNG with Korean labels."""

from __future__ import annotations

import io
import warnings

import matplotlib.image
import pytest

from bot.models import Role
from bot.services.charts import (
    ChartData,
    Series,
    broadcasts_panel,
    letters_panel,
    render_png,
    subscriber_panel,
)
from bot.services.fonts import find_korean_font
from fakebotapi.server import FakeBotApi
from tests.conftest import StartBot, rejected_calls
from tests.support.harness import COORDINATOR_ID, FrozenClock, settled
from tests.support.people import member_who_joined, staff

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_subscribers_add_up_day_by_day_per_language_and_mode() -> None:
    joined = [
        ("2026-11-20", "ko", "instant", 2),
        ("2026-11-21", "en", "daily", 1),
        ("2026-11-22", "ko", "instant", 3),
    ]
    panel = subscriber_panel("Subscribers", joined, {("ko", "instant"): "Korean · at once"})
    assert panel.x_labels == ("2026-11-20", "2026-11-21", "2026-11-22")
    assert panel.series == (
        Series("en/daily", (0, 1, 1)),
        Series("Korean · at once", (2, 2, 5)),
    )


def test_letters_and_broadcasts_panels_keep_the_counts_in_order() -> None:
    letters = letters_panel(
        "Letters", [("2026-11-16", 4, 3, 0), ("2026-11-23", 2, 2, 3)], ("w", "a", "h")
    )
    assert letters.series == (Series("w", (4, 2)), Series("a", (3, 2)), Series("h", (0, 3)))
    sent = broadcasts_panel("Sent", ["11-22 09:00"], [(10, 2, 1)], ("s", "b", "f"))
    assert sent.series == (Series("s", (10,)), Series("b", (2,)), Series("f", (1,)))


@pytest.mark.skipif(find_korean_font(None) is None, reason="no Korean font (fonts-nanum)")
def test_the_chart_is_a_valid_png_and_korean_labels_have_their_glyphs() -> None:
    data = ChartData(
        (
            subscriber_panel("소식 받는 분", [("2026-11-22", "ko", "instant", 3)], {}),
            letters_panel("주별 편지", [("2026-11-16", 4, 3, 1)], ("씀", "승인", "전달")),
            broadcasts_panel("최근 발송", [], [], ("보냄", "차단", "실패")),
        )
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_png(data)
    assert png.startswith(PNG_SIGNATURE)
    height, width, _ = matplotlib.image.imread(io.BytesIO(png)).shape
    assert width > height > 100
    assert not [w for w in caught if "missing from font" in str(w.message)]


async def test_stats_sends_the_chart_after_the_text(
    make_bot: StartBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    bot = await make_bot(clock, SEND_RATE="50")
    await member_who_joined(sandbox, 8951, "ko")
    await member_who_joined(sandbox, 8952, "en")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    await coordinator.send("/announce")
    await coordinator.send("/skip")
    await coordinator.send("Vigil on Friday.")
    await coordinator.click(await coordinator.expect("Who should receive"), "Everyone")
    await coordinator.click(await coordinator.expect("Send this announcement"), "Send now")
    await settled(bot, sandbox)  # the broadcast is sent
    await bot.run_job("broadcast-progress")  # its last edit, without waiting its 3 seconds
    await coordinator.expect(lambda m: "Announcement sent" in m.text)

    await coordinator.send("/stats")
    await coordinator.expect("Subscribers")
    chart = await coordinator.expect(lambda m: m.kind == "photo")
    assert "at a glance" in chart.text
    assert sandbox.file(chart.photo_file_id or "").data.startswith(PNG_SIGNATURE)

    data = await bot.runtime.charts.data("en", "Asia/Seoul")
    subscribers, letters, broadcasts = data.panels
    assert subscribers.x_labels == ("2026-11-22",)
    assert {(s.label, s.values) for s in subscribers.series} == {
        ("Korean · at once", (1,)),
        ("English · at once", (1,)),
    }
    assert letters.x_labels == ()
    assert broadcasts.x_labels == ("11-22 09:00",)
    assert [s.values for s in broadcasts.series] == [(2,), (0,), (0,)]
    assert rejected_calls(sandbox) == []
