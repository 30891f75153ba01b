"""Numbers across incidents for the insights page and ``/incident stats``: how many per week,
how fast by severity.

Pure domain code: the caller passes the incidents it may show, ``now`` and the zone. Durations
come from ``metrics.compute_metrics`` so that every page agrees on what "time to resolve" means.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from incidentbot.domain.metrics import LABELS, compute_metrics, humanize
from incidentbot.domain.models import Incident, Severity, TimelineRecord
from incidentbot.domain.timeparse import MONTH_ABBREVIATIONS, get_zone

__all__ = [
    "DURATION_KEYS",
    "SPEED_KEYS",
    "SeverityStats",
    "SpeedReport",
    "SpeedRow",
    "Spread",
    "chart_groups",
    "durations_by_severity",
    "incidents_per_week",
    "seconds_label",
    "speed_report",
    "spread",
    "week_label",
]

# The durations summarised per severity, and the metric each one reads.
DURATION_KEYS: dict[str, str] = {
    "detect": "time_to_detect",
    "mitigate": "time_to_mitigate",
    "resolve": "time_to_resolve",
}
# What ``/incident stats`` reports: how soon someone responded, and how soon it was over.
SPEED_KEYS: dict[str, str] = {
    "acknowledge": "time_to_acknowledge",
    "mitigate": "time_to_mitigate",
    "resolve": "time_to_resolve",
}


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def incidents_per_week(
    incidents: Iterable[Incident], *, now: datetime, zone: str, weeks: int = 13
) -> list[tuple[date, int]]:
    """Incidents declared in each of the last ``weeks`` weeks, oldest first, zero-filled.

    Weeks start on Monday in ``zone`` (so a Sunday-evening incident in New York belongs to the
    week before, whatever the UTC date), and the last week is the one holding ``now``. Each
    pair is (that Monday, count); incidents outside the span are left out.
    """
    if weeks < 1:
        return []
    tz = get_zone(zone)
    current = _monday(now.astimezone(tz).date())
    first = current - timedelta(weeks=weeks - 1)
    counts = {first + timedelta(weeks=index): 0 for index in range(weeks)}
    for incident in incidents:
        week = _monday(incident.declared_at.astimezone(tz).date())
        if week in counts:
            counts[week] += 1
    return list(counts.items())


def week_label(monday: date) -> str:
    """``Nov 23``: how a week is named under its bar."""
    return f"{MONTH_ABBREVIATIONS[monday.month - 1]} {monday.day}"


@dataclass(frozen=True)
class SeverityStats:
    """How fast incidents of one severity went: medians over the incidents that have a value.

    ``count`` is how many incidents were declared at that severity in the window; a median is
    ``None`` when none of them has that duration yet (an open incident has no time to resolve).
    ``stats["detect"]`` reads like ``stats.detect``, so the result can also be used as the
    ``{severity: {"detect": …, "mitigate": …, "resolve": …}}`` mapping.
    """

    severity: str
    count: int
    detect: timedelta | None
    mitigate: timedelta | None
    resolve: timedelta | None

    def __getitem__(self, key: str) -> timedelta | None:
        if key not in DURATION_KEYS:
            raise KeyError(key)
        duration: timedelta | None = getattr(self, key)
        return duration

    def durations(self) -> dict[str, timedelta | None]:
        return {key: self[key] for key in DURATION_KEYS}


def _median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def _samples_by_severity(
    incidents: Iterable[Incident],
    *,
    now: datetime,
    days: int,
    fields: Mapping[str, str],
    timelines: Mapping[int, Sequence[TimelineRecord]] | None = None,
) -> tuple[dict[str, int], dict[str, dict[str, list[timedelta]]]]:
    """How many incidents of each severity were declared in the window, and each one's
    durations (``fields``: key → ``Metrics`` attribute) where it has them. ``timelines``:
    each incident's timeline, or what of it metrics read, when the caller has read them."""
    now = now.astimezone(UTC)
    since = now - timedelta(days=days)
    samples: dict[str, dict[str, list[timedelta]]] = {
        str(severity): {key: [] for key in fields} for severity in Severity
    }
    counts = dict.fromkeys(samples, 0)
    for incident in incidents:
        declared = incident.declared_at.astimezone(UTC)
        if not since <= declared <= now:
            continue
        timeline = timelines.get(incident.id, ()) if timelines is not None else None
        metrics = compute_metrics(incident, now=now, timeline=timeline)
        severity = metrics.highest_severity
        if severity not in samples:
            continue
        counts[severity] += 1
        for key, field in fields.items():
            value = getattr(metrics, field)
            if value is not None:
                samples[severity][key].append(value)
    return counts, samples


def durations_by_severity(
    incidents: Iterable[Incident],
    *,
    now: datetime,
    days: int = 90,
    timelines: Mapping[int, Sequence[TimelineRecord]] | None = None,
) -> dict[str, SeverityStats]:
    """Median time to detect, mitigate and resolve per severity, SEV1 first, all four present.

    Counts incidents declared from ``now - days`` up to ``now``, each under the most severe
    level it reached (``Metrics.highest_severity``: an incident raised to SEV1 and lowered to
    SEV2 counts as SEV1). Incidents at a severity outside SEV1..SEV4 are left out. Durations
    are ``compute_metrics``'s, so an open incident counts towards detect (and mitigate, once
    mitigated) but not resolve.
    """
    counts, samples = _samples_by_severity(
        incidents, now=now, days=days, fields=DURATION_KEYS, timelines=timelines
    )
    return {
        severity: SeverityStats(
            severity=severity,
            count=counts[severity],
            detect=_median(found["detect"]),
            mitigate=_median(found["mitigate"]),
            resolve=_median(found["resolve"]),
        )
        for severity, found in samples.items()
    }


@dataclass(frozen=True)
class Spread:
    """One duration over the incidents that have it: ``None`` where there are none."""

    median: timedelta | None
    p90: timedelta | None
    samples: int


def spread(values: Sequence[timedelta]) -> Spread:
    """Median (the mean of the middle two for an even count) and 90th percentile.

    The p90 is the nearest-rank one: the smallest observed duration that at least 90% of the
    incidents took no longer than. It is always a real incident's figure, and with fewer than
    ten incidents it is the slowest one.
    """
    if not values:
        return Spread(median=None, p90=None, samples=0)
    ordered = sorted(values)
    return Spread(
        median=_median(ordered),
        p90=ordered[math.ceil(0.9 * len(ordered)) - 1],
        samples=len(ordered),
    )


@dataclass(frozen=True)
class SpeedRow:
    """``label`` is a severity, or ``All`` for every incident in the window."""

    label: str
    count: int
    acknowledge: Spread
    mitigate: Spread
    resolve: Spread


@dataclass(frozen=True)
class SpeedReport:
    days: int
    since: datetime
    until: datetime
    rows: tuple[SpeedRow, ...]
    total: SpeedRow


def speed_report(
    incidents: Iterable[Incident],
    *,
    now: datetime,
    days: int,
    timelines: Mapping[int, Sequence[TimelineRecord]] | None = None,
) -> SpeedReport:
    """Incidents declared in the last ``days`` days per severity, SEV1 first, and the median
    and p90 time to acknowledge, mitigate and resolve of each severity and of all of them.

    The same window and grouping as ``durations_by_severity``: each incident counts under the
    most severe level it reached, and an open incident only towards what has happened yet.
    """
    now = now.astimezone(UTC)
    counts, samples = _samples_by_severity(
        incidents, now=now, days=days, fields=SPEED_KEYS, timelines=timelines
    )

    def row(label: str, count: int, found: Mapping[str, Sequence[timedelta]]) -> SpeedRow:
        return SpeedRow(
            label=label,
            count=count,
            acknowledge=spread(found["acknowledge"]),
            mitigate=spread(found["mitigate"]),
            resolve=spread(found["resolve"]),
        )

    everything = {key: [v for found in samples.values() for v in found[key]] for key in SPEED_KEYS}
    return SpeedReport(
        days=days,
        since=now - timedelta(days=days),
        until=now,
        rows=tuple(row(severity, counts[severity], samples[severity]) for severity in samples),
        total=row("All", sum(counts.values()), everything),
    )


def chart_groups(
    stats: Iterable[SeverityStats],
) -> list[tuple[str, list[tuple[str, float | None]]]]:
    """The medians as ``grouped_bar_svg`` groups: ("SEV1 (3)", [("Time to detect", s), …])."""
    return [
        (
            f"{item.severity} ({item.count})",
            [
                (
                    LABELS[DURATION_KEYS[key]],
                    value.total_seconds() if (value := item[key]) is not None else None,
                )
                for key in DURATION_KEYS
            ],
        )
        for item in stats
    ]


def seconds_label(seconds: float) -> str:
    """``humanize`` for a number of seconds (the unit of ``chart_groups`` values)."""
    return humanize(timedelta(seconds=seconds))
