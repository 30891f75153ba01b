"""What every benchmark shares: fresh databases, statistics, the machine, and the report.

A benchmark is a function ``run(options) -> list[Row]``. Each row is one measured thing with
its figures and the targets it is held to; ``python -m benchmarks`` prints them as a table and
writes them as JSON. Figures are medians over ``options.rounds`` repeats; ratios compare two
things measured side by side in the same round, never across runs.
"""

from __future__ import annotations

import os
import platform
import statistics
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The same PostgreSQL as the tests (INCIDENTBOT_TEST_POSTGRES), made and dropped the same way.
from tests.databases import ADMIN_DSN, postgres_available, postgres_schema


@dataclass(frozen=True)
class Options:
    rounds: int = 3
    seconds: float = 8.0  # how long each load level runs, per round
    databases: tuple[str, ...] = ("sqlite", "postgresql")
    quick: bool = False
    workdir: Path = Path("/tmp")


@dataclass(frozen=True)
class Target:
    """``metric`` must be ``op`` (``<=`` or ``>=``) ``limit``."""

    metric: str
    op: str
    limit: float

    def met(self, figures: dict[str, float]) -> bool | None:
        value = figures.get(self.metric)
        if value is None:
            return None
        return value <= self.limit if self.op == "<=" else value >= self.limit

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.limit:g}"


@dataclass
class Row:
    suite: str
    name: str
    figures: dict[str, float]
    units: dict[str, str] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        results = [t.met(self.figures) for t in self.targets]
        if not results:
            return ""
        if any(r is False for r in results):
            missed = [str(t) for t, r in zip(self.targets, results, strict=True) if r is False]
            return "MISSED " + "; ".join(missed)
        return "ok"

    def as_json(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "name": self.name,
            "figures": self.figures,
            "units": self.units,
            "targets": [str(t) for t in self.targets],
            "verdict": self.verdict,
        }


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` from 0 to 1) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median_of(rounds: Sequence[dict[str, float]]) -> dict[str, float]:
    """Per metric, the median over rounds."""
    keys = rounds[0].keys()
    return {key: statistics.median(r[key] for r in rounds) for key in keys}


def repeat(rounds: int, measure: Callable[[], dict[str, float]]) -> dict[str, float]:
    return median_of([measure() for _ in range(rounds)])


@contextmanager
def fresh_database(kind: str, workdir: Path) -> Iterator[str]:
    """An empty database of ``kind`` (a SQLite file, or a new PostgreSQL schema), dropped after."""
    if kind == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    with postgres_schema("bench") as url:
        yield url


def postgres_reason() -> str | None:
    """None when PostgreSQL answers, else why not."""
    return postgres_available()


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    memory_gib = None
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory_gib = round(pages / 2**30, 1)
    except (ValueError, OSError):
        pass
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": memory_gib,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    try:
        import sqlite3

        info["sqlite"] = sqlite3.sqlite_version
    except ImportError:
        pass
    if postgres_reason() is None:
        import psycopg

        with psycopg.connect(ADMIN_DSN) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            info["postgresql"] = row[0] if row else None
    return info


def format_figure(value: float, unit: str) -> str:
    if value != value:  # NaN
        return "-"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"
    if unit == "s":
        return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "/s":
        return f"{value:.0f}/s"
    if float(value).is_integer():
        return f"{int(value)}{(' ' + unit) if unit else ''}"
    return f"{value:.3g}{(' ' + unit) if unit else ''}"


def table(rows: Sequence[Row]) -> str:
    """A Markdown table of rows: one line per row, its figures, and whether targets were met."""
    lines = ["| suite | what | figures | targets |", "|---|---|---|---|"]
    for row in rows:
        figures = ", ".join(
            f"{key} {format_figure(value, row.units.get(key, ''))}"
            for key, value in row.figures.items()
        )
        lines.append(f"| {row.suite} | {row.name} | {figures} | {row.verdict} |")
    return "\n".join(lines)


def rss_bytes() -> int:
    """This process's resident memory now (Linux), in bytes."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    """This process's highest resident memory so far, in bytes.

    On Linux ``ru_maxrss`` survives ``exec``: a child reports at least the RSS its parent had
    when it was spawned, so a benchmark run from a big process would measure its parent. The
    memory map's own high-water mark (``VmHWM``) starts afresh at ``exec``; ``ru_maxrss`` (KiB on
    Linux) is the fallback where ``/proc`` is not there.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
