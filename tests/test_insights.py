"""Insights across incidents: weekly counts in the configured zone and medians by severity."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from incidentbot.domain.insights import (
    SeverityStats,
    chart_groups,
    durations_by_severity,
    incidents_per_week,
    seconds_label,
    week_label,
)
from incidentbot.domain.metrics import compute_metrics
from incidentbot.domain.models import EntryKind, Incident, Status, TimelineEntry
from tests.fixtures_incident import NOW as RICH_NOW
from tests.fixtures_incident import rich_incident

NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)


def minutes(value: float) -> timedelta:
    return timedelta(minutes=value)


def make(
    declared_at: datetime,
    *,
    severity: str = "SEV3",
    detect: float = 0,
    mitigate: float | None = None,
    resolve: float | None = None,
    raised_to: str | None = None,
) -> Incident:
    """An incident declared at ``declared_at``; durations in minutes from impact start."""
    impact = declared_at - minutes(detect)
    resolved_at = impact + minutes(resolve) if resolve is not None else None
    incident = Incident(
        number=1,
        title="t",
        severity=severity,
        status=Status.RESOLVED if resolved_at else Status.INVESTIGATING,
        private=False,
        declared_by="UALICE",
        declared_at=declared_at,
        impact_started_at=impact,
        mitigated_at=impact + minutes(mitigate) if mitigate is not None else None,
        resolved_at=resolved_at,
    )
    incident.roles = []
    incident.timeline = [
        TimelineEntry(
            occurred_at=declared_at,
            recorded_at=declared_at,
            kind=EntryKind.DECLARED,
            author_id="UALICE",
            text="declared",
            details={"severity": severity},
        )
    ]
    if raised_to is not None:
        # Raised, then lowered back to where it started.
        for offset, before, after in ((1, severity, raised_to), (2, raised_to, severity)):
            incident.timeline.append(
                TimelineEntry(
                    occurred_at=declared_at + minutes(offset),
                    recorded_at=declared_at + minutes(offset),
                    kind=EntryKind.SEVERITY,
                    author_id="UALICE",
                    text=f"Severity {before} → {after}",
                    details={"from": before, "to": after},
                )
            )
    return incident


# --- incidents per week ----------------------------------------------------------------------


def test_weeks_are_zero_filled_oldest_first_and_end_with_this_week() -> None:
    incidents = [
        make(datetime(2026, 12, 7, 9, 0, tzinfo=UTC)),  # Monday of this week
        make(datetime(2026, 12, 8, 11, 0, tzinfo=UTC)),
        make(datetime(2026, 11, 18, 9, 0, tzinfo=UTC)),
    ]
    weeks = incidents_per_week(incidents, now=NOW, zone="UTC", weeks=5)
    assert weeks == [
        (date(2026, 11, 9), 0),
        (date(2026, 11, 16), 1),
        (date(2026, 11, 23), 0),
        (date(2026, 11, 30), 0),
        (date(2026, 12, 7), 2),
    ]
    assert all(monday.weekday() == 0 for monday, _ in weeks)


def test_default_is_thirteen_weeks_and_no_incidents_is_all_zero() -> None:
    weeks = incidents_per_week([], now=NOW, zone="Europe/Berlin")
    assert len(weeks) == 13
    assert {count for _, count in weeks} == {0}
    assert weeks[-1][0] == date(2026, 12, 7)
    assert weeks[0][0] == date(2026, 9, 14)


def test_incidents_outside_the_weeks_are_left_out() -> None:
    incidents = [
        make(datetime(2026, 11, 29, 23, 59, tzinfo=UTC)),  # Sunday before the first week
        make(datetime(2026, 11, 30, 0, 0, tzinfo=UTC)),  # first moment of the first week
        make(datetime(2026, 12, 14, 0, 0, tzinfo=UTC)),  # next week (clock skew)
    ]
    weeks = incidents_per_week(incidents, now=NOW, zone="UTC", weeks=2)
    assert weeks == [(date(2026, 11, 30), 1), (date(2026, 12, 7), 0)]


def test_weeks_start_on_monday_in_the_zone_across_a_dst_change() -> None:
    # New York left daylight saving time at 02:00 on Sunday 1 November 2026.
    zone = "America/New_York"
    incidents = [
        # Sunday 1 Nov 23:30 EST is Monday 04:30 UTC: still the week of 26 October.
        make(datetime(2026, 11, 2, 4, 30, tzinfo=UTC)),
        # Monday 2 Nov 00:30 EST.
        make(datetime(2026, 11, 2, 5, 30, tzinfo=UTC)),
        # Sunday 1 Nov 01:30, the second time (EST); same week as the first.
        make(datetime(2026, 11, 1, 6, 30, tzinfo=UTC)),
        # Monday 26 Oct 00:10 EDT.
        make(datetime(2026, 10, 26, 4, 10, tzinfo=UTC)),
        # Sunday 25 Oct 23:50 EDT: the week before.
        make(datetime(2026, 10, 26, 3, 50, tzinfo=UTC)),
    ]
    now = datetime(2026, 11, 4, 12, 0, tzinfo=UTC)
    weeks = incidents_per_week(incidents, now=now, zone=zone, weeks=3)
    assert weeks == [(date(2026, 10, 19), 1), (date(2026, 10, 26), 3), (date(2026, 11, 2), 1)]
    # In UTC the same incidents fall differently.
    in_utc = incidents_per_week(incidents, now=now, zone="UTC", weeks=3)
    assert in_utc == [(date(2026, 10, 19), 0), (date(2026, 10, 26), 3), (date(2026, 11, 2), 2)]


def test_weeks_across_a_year_boundary() -> None:
    zone = "America/Los_Angeles"
    incidents = [
        make(datetime(2027, 1, 1, 3, 0, tzinfo=UTC)),  # Thu 31 Dec 2026 19:00 PST
        make(datetime(2027, 1, 4, 7, 0, tzinfo=UTC)),  # Sun 3 Jan 2027 23:00 PST
        make(datetime(2027, 1, 4, 9, 0, tzinfo=UTC)),  # Mon 4 Jan 2027 01:00 PST
        make(datetime(2026, 12, 24, 12, 0, tzinfo=UTC)),
    ]
    now = datetime(2027, 1, 6, 12, 0, tzinfo=UTC)
    weeks = incidents_per_week(incidents, now=now, zone=zone, weeks=3)
    assert weeks == [(date(2026, 12, 21), 1), (date(2026, 12, 28), 2), (date(2027, 1, 4), 1)]
    assert [week_label(monday) for monday, _ in weeks] == ["Dec 21", "Dec 28", "Jan 4"]


def test_now_early_monday_in_the_zone_starts_a_new_week() -> None:
    # 23:30 UTC on Sunday 6 December is 00:30 on Monday 7 December in Berlin.
    now = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
    assert incidents_per_week([], now=now, zone="Europe/Berlin", weeks=1)[0][0] == date(2026, 12, 7)
    assert incidents_per_week([], now=now, zone="UTC", weeks=1)[0][0] == date(2026, 11, 30)


# --- durations by severity -------------------------------------------------------------------


def test_medians_by_severity() -> None:
    day = NOW - timedelta(days=10)
    incidents = [
        make(day, severity="SEV2", detect=5, mitigate=20, resolve=60),
        make(day, severity="SEV2", detect=10, mitigate=40, resolve=120),
        make(day, severity="SEV2", detect=30, mitigate=90, resolve=600),
        make(day, severity="SEV1", detect=2, mitigate=30, resolve=100),
        make(day, severity="SEV1", detect=4, mitigate=50, resolve=200),
    ]
    stats = durations_by_severity(incidents, now=NOW)
    assert list(stats) == ["SEV1", "SEV2", "SEV3", "SEV4"]
    assert stats["SEV2"] == SeverityStats("SEV2", 3, minutes(10), minutes(40), minutes(120))
    # An even count takes the mean of the middle two.
    assert stats["SEV1"] == SeverityStats("SEV1", 2, minutes(3), minutes(40), minutes(150))
    assert stats["SEV3"] == SeverityStats("SEV3", 0, None, None, None)
    assert stats["SEV1"]["resolve"] == minutes(150)
    assert stats["SEV4"].durations() == {"detect": None, "mitigate": None, "resolve": None}
    with pytest.raises(KeyError):
        stats["SEV1"]["count"]


def test_incidents_older_than_the_window_are_left_out() -> None:
    incidents = [
        make(NOW - timedelta(days=91), severity="SEV2", detect=100, resolve=1000),
        make(NOW - timedelta(days=89), severity="SEV2", detect=10, resolve=100),
        make(NOW + timedelta(minutes=5), severity="SEV2", detect=50, resolve=None),
    ]
    stats = durations_by_severity(incidents, now=NOW)
    assert stats["SEV2"] == SeverityStats("SEV2", 1, minutes(10), minutes(100), minutes(100))
    wider = durations_by_severity(incidents, now=NOW, days=120)
    assert wider["SEV2"].count == 2 and wider["SEV2"].detect == minutes(55)


def test_open_incidents_count_for_detect_but_not_resolve() -> None:
    day = NOW - timedelta(days=1)
    incidents = [
        make(day, severity="SEV3", detect=6, resolve=60),
        make(day, severity="SEV3", detect=12),  # open, not mitigated
        make(day, severity="SEV3", detect=30, mitigate=45),  # open, mitigated
    ]
    stats = durations_by_severity(incidents, now=NOW)["SEV3"]
    assert stats.count == 3
    assert stats.detect == minutes(12)
    # The resolved one's mitigation is its resolution (as in compute_metrics).
    assert stats.mitigate == minutes((60 + 45) / 2)
    assert stats.resolve == minutes(60)


def test_incidents_count_under_the_highest_severity_they_reached() -> None:
    incident = make(
        NOW - timedelta(days=2), severity="SEV3", detect=8, resolve=30, raised_to="SEV1"
    )
    stats = durations_by_severity([incident], now=NOW)
    assert stats["SEV1"].count == 1 and stats["SEV3"].count == 0
    assert stats["SEV1"].detect == minutes(8)


def test_agrees_with_compute_metrics_on_the_rich_incident() -> None:
    incident = rich_incident()
    metrics = compute_metrics(incident, now=RICH_NOW)
    stats = durations_by_severity([incident], now=RICH_NOW)
    assert stats["SEV1"] == SeverityStats(
        "SEV1", 1, metrics.time_to_detect, metrics.time_to_mitigate, metrics.time_to_resolve
    )


def test_unknown_severities_are_left_out() -> None:
    stats = durations_by_severity([make(NOW, severity="P0", detect=1)], now=NOW)
    assert sum(item.count for item in stats.values()) == 0


def test_chart_groups_feed_the_grouped_bar_chart() -> None:
    day = NOW - timedelta(days=3)
    stats = durations_by_severity([make(day, severity="SEV2", detect=5, resolve=90)], now=NOW)
    groups = chart_groups(stats.values())
    assert groups[1] == (
        "SEV2 (1)",
        [("Time to detect", 300.0), ("Time to mitigate", 5400.0), ("Time to resolve", 5400.0)],
    )
    assert groups[0] == (
        "SEV1 (0)",
        [("Time to detect", None), ("Time to mitigate", None), ("Time to resolve", None)],
    )
    assert seconds_label(5400.0) == "1 h 30 min"
