"""The /stats chart: three small plots from aggregate counts, rendered to PNG with matplotlib.

The text of /stats stays the accessible summary; the picture is for those who would rather
look than read. Only counts reach this module, never an id or a name.
"""

from __future__ import annotations

import asyncio
import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.clock import from_epoch
from bot.i18n import N_, Translator
from bot.services.fonts import find_korean_font
from bot.storage.broadcasts import BroadcastRepository
from bot.storage.stats import StatsRepository

if TYPE_CHECKING:
    from matplotlib.axes import Axes

RECENT_BROADCASTS = 5


@dataclass(frozen=True)
class Series:
    """One line or bar group: its label and its values along the x labels."""

    label: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class Panel:
    title: str
    x_labels: tuple[str, ...]
    series: tuple[Series, ...]
    kind: str  # "line" or "bar"


@dataclass(frozen=True)
class ChartData:
    """Exactly what is handed to the plot (tests check this, not pixels)."""

    panels: tuple[Panel, ...]


def subscriber_panel(
    title: str, joined: Sequence[tuple[str, str, str, int]], label_of: dict[tuple[str, str], str]
) -> Panel:
    """Cumulative subscribers per (language, mode) over the days anyone joined."""
    days = tuple(sorted({day for day, _, _, _ in joined}))
    keys = sorted({(language, mode) for _, language, mode, _ in joined})
    series = []
    for key in keys:
        per_day = {day: n for day, language, mode, n in joined if (language, mode) == key}
        series.append(
            Series(
                label_of.get(key, "/".join(key)),
                tuple(accumulate(per_day.get(d, 0) for d in days)),
            )
        )
    return Panel(title, days, tuple(series), "line")


def letters_panel(
    title: str, weeks: Sequence[tuple[str, int, int, int]], labels: tuple[str, str, str]
) -> Panel:
    """Letters per week: written → approved → handed over."""
    x = tuple(week for week, _, _, _ in weeks)
    return Panel(
        title,
        x,
        tuple(
            Series(label, tuple(int(row[i + 1]) for row in weeks))
            for i, label in enumerate(labels)
        ),
        "bar",
    )


def broadcasts_panel(
    title: str,
    x_labels: Sequence[str],
    counts: Sequence[tuple[int, int, int]],
    labels: tuple[str, str, str],
) -> Panel:
    """The last broadcasts: sent, blocked, failed."""
    return Panel(
        title,
        tuple(x_labels),
        tuple(Series(label, tuple(int(c[i]) for c in counts)) for i, label in enumerate(labels)),
        "bar",
    )


def render_png(data: ChartData, font: Path | None = None) -> bytes:
    """The panels side by side, as PNG; labels in the Korean font when one is installed."""
    # matplotlib takes a third of a second to import: only /stats pays it, not every start.
    import matplotlib

    matplotlib.use("Agg")  # no display on a server; before anything draws
    from matplotlib.figure import Figure

    font = font or find_korean_font(None)
    family = None if font is None else _registered_family(str(font))
    figure = Figure(figsize=(4.2 * len(data.panels), 3.6), dpi=100, layout="constrained")
    axes = figure.subplots(1, len(data.panels), squeeze=False)[0]
    for ax, panel in zip(axes, data.panels, strict=True):
        _draw(ax, panel, family)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


@functools.cache
def _registered_family(font: str) -> str:
    """Add the font to matplotlib's list once, and name its family.

    Each addfont appends to the list every later font lookup scores and empties the lookup
    cache: added at every /stats, the list grew and each chart was drawn slower. Two renders at
    once may both add it the first time (the cache holds no lock): one spare entry, once.
    """
    from matplotlib import font_manager

    font_manager.fontManager.addfont(font)
    return str(font_manager.FontProperties(fname=font).get_name())


def _draw(ax: Axes, panel: Panel, family: str | None) -> None:
    from matplotlib.ticker import MaxNLocator

    font = {"family": family} if family else {}
    ax.set_title(panel.title, fontdict=font, fontsize=10)
    positions = list(range(len(panel.x_labels)))
    width = 0.8 / max(len(panel.series), 1)
    for index, series in enumerate(panel.series):
        if panel.kind == "line":
            ax.plot(positions, series.values, marker="o", label=series.label)
        else:
            shifted = [p + (index - (len(panel.series) - 1) / 2) * width for p in positions]
            ax.bar(shifted, series.values, width=width, label=series.label)
    ax.set_xticks(positions, panel.x_labels)
    for label in ax.get_xticklabels():
        label.set_rotation(45)
        label.set_horizontalalignment("right")
        label.set_fontsize(7)
        if family:
            label.set_fontfamily(family)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if panel.series:
        ax.legend(prop={"family": family, "size": 7} if family else {"size": 7})
    if not panel.x_labels:
        ax.text(0.5, 0.5, "—", ha="center", va="center", transform=ax.transAxes)


_MODE_LABELS = {
    "instant": N_("at once"),
    "daily": N_("daily"),
    "weekly": N_("weekly"),
    "paused": N_("paused"),
}
_LANGUAGE_LABELS = {"ko": N_("Korean"), "en": N_("English")}


class StatsChart:
    """Gathers the counts for the chart in the reader's language and renders it."""

    def __init__(
        self, stats: StatsRepository, broadcasts: BroadcastRepository, translator: Translator
    ) -> None:
        self._stats = stats
        self._broadcasts = broadcasts
        self._translator = translator

    async def data(self, language: str, timezone: str) -> ChartData:
        texts = self._translator.texts(language)
        labels = {
            (lang, mode): f"{texts.plain(_LANGUAGE_LABELS[lang])} · {texts.plain(mode_label)}"
            for lang in _LANGUAGE_LABELS
            for mode, mode_label in _MODE_LABELS.items()
        }
        recent = list(reversed(await self._broadcasts.recent(RECENT_BROADCASTS)))
        return ChartData(
            (
                subscriber_panel(
                    texts.plain("Subscribers (by the day they joined)"),
                    await self._stats.subscribers_joined(),
                    labels,
                ),
                letters_panel(
                    texts.plain("Letters per week"),
                    await self._stats.letters_by_week(),
                    (
                        texts.plain("written"),
                        texts.plain("approved"),
                        texts.plain("handed over"),
                    ),
                ),
                broadcasts_panel(
                    texts.plain("Recent broadcasts"),
                    [
                        from_epoch(b.created_at)
                        .astimezone(ZoneInfo(timezone))
                        .strftime("%m-%d %H:%M")
                        for b in recent
                    ],
                    [
                        (
                            b.counts.get("sent", 0),
                            b.counts.get("blocked", 0),
                            b.counts.get("failed", 0),
                        )
                        for b in recent
                    ],
                    (texts.plain("sent"), texts.plain("blocked"), texts.plain("failed")),
                ),
            )
        )

    async def png(self, language: str, timezone: str) -> bytes:
        data = await self.data(language, timezone)
        return await asyncio.to_thread(render_png, data)
