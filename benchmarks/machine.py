"""The machine a benchmark ran on, its tables, and comparisons run interleaved (A B A B ...)."""

from __future__ import annotations

import os
import platform
import resource
import statistics
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


def describe_machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kilobytes = int(meminfo.read_text().split()[1])
        memory = f", {kilobytes / 1024 / 1024:.0f} GiB RAM"
    return (
        f"{model}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) a live process has used so far, from /proc."""
    # The command name in field 2 may hold spaces: the fields after its ")" are fixed.
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def print_table(
    title: str, rows: Sequence[tuple[str, ...]], header: tuple[str, ...] = ("measure", "value")
) -> None:
    """A Markdown table: the first column padded, the others as given."""
    width = max(len(row[0]) for row in [header, *rows])
    print(f"\n{title}")
    print(f"| {header[0].ljust(width)} | {' | '.join(header[1:])} |")
    print(f"|{'-' * (width + 2)}|" + "|".join("-" * (len(h) + 2) for h in header[1:]) + "|")
    for name, *values in rows:
        print(f"| {name.ljust(width)} | {' | '.join(values)} |")


@dataclass(frozen=True)
class Comparison:
    """Side A against side B, measured in interleaved pairs (A B A B ...) on a noisy machine."""

    a: list[float]
    b: list[float]

    @property
    def ratios(self) -> list[float]:
        return [a / b for a, b in zip(self.a, self.b, strict=True)]

    @property
    def median_ratio(self) -> float:
        return statistics.median(self.ratios)

    def describe(self) -> str:
        """'98.1% (spread 95.0–101.2%, 3 pairs)': the median ratio A/B and its range."""
        ratios = self.ratios
        return (
            f"{self.median_ratio:.1%} (spread {min(ratios):.1%}–{max(ratios):.1%}, "
            f"{len(ratios)} pairs)"
        )


async def interleaved(
    run_a: Callable[[], Awaitable[float]], run_b: Callable[[], Awaitable[float]], pairs: int = 3
) -> Comparison:
    """Run A then B, `pairs` times, so background load lands on both sides alike.

    Each callable returns one figure (a rate, say); the pair's ratio is A/B.
    """
    if pairs < 3:
        raise ValueError("at least three pairs: one pair cannot show the spread")
    a: list[float] = []
    b: list[float] = []
    for _ in range(pairs):
        a.append(await run_a())
        b.append(await run_b())
    return Comparison(a, b)
