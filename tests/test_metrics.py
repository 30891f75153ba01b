"""Metrics from an incident's fields and timeline: plain model instances, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from incidentbot.domain.metrics import DEFINITIONS, DURATIONS, MOMENTS, compute_metrics, humanize
from incidentbot.domain.models import EntryKind, Incident, RoleAssignment, Status, TimelineEntry

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
DECLARER = "U_ALICE"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def make_incident(
    *,
    impact_started_at: datetime = T0,
    declared_at: datetime | None = None,
    status: str = Status.INVESTIGATING,
    severity: str = "SEV3",
    mitigated_at: datetime | None = None,
    resolved_at: datetime | None = None,
    closed_at: datetime | None = None,
    reopened_count: int = 0,
) -> Incident:
    declared_at = declared_at or impact_started_at + timedelta(minutes=10)
    incident = Incident(
        number=7,
        title="Payments delayed",
        severity=severity,
        status=status,
        private=False,
        declared_by=DECLARER,
        declared_at=declared_at,
        impact_started_at=impact_started_at,
        mitigated_at=mitigated_at,
        resolved_at=resolved_at,
        closed_at=closed_at,
        reopened_count=reopened_count,
    )
    incident.roles = [
        RoleAssignment(role="lead", user_id=DECLARER, assigned_by=DECLARER, started_at=declared_at)
    ]
    incident.timeline = [
        entry(
            declared_at,
            EntryKind.DECLARED,
            author=DECLARER,
            details={"severity": severity},
        )
    ]
    return incident


def entry(
    occurred_at: datetime,
    kind: str,
    *,
    author: str | None = DECLARER,
    text: str = "",
    details: dict | None = None,
    recorded_at: datetime | None = None,
) -> TimelineEntry:
    return TimelineEntry(
        occurred_at=occurred_at,
        recorded_at=recorded_at or occurred_at,
        kind=kind,
        author_id=author,
        text=text,
        details=details,
    )


def severity_change(occurred_at: datetime, before: str, after: str) -> TimelineEntry:
    return entry(occurred_at, EntryKind.SEVERITY, details={"from": before, "to": after})


def test_multi_day_incident_counts_whole_days() -> None:
    incident = make_incident(
        status=Status.RESOLVED,
        mitigated_at=T0 + timedelta(days=2),
        resolved_at=T0 + timedelta(days=2, hours=5),
    )

    metrics = compute_metrics(incident, now=T0 + timedelta(days=9))

    assert metrics.time_to_resolve == timedelta(days=2, hours=5)
    assert humanize(metrics.time_to_resolve) == "2 d 5 h"
    assert humanize(metrics.time_to_mitigate) == "2 d"


def test_impact_ends_at_mitigation_not_at_resolution() -> None:
    incident = make_incident(
        status=Status.RESOLVED,
        mitigated_at=T0 + timedelta(minutes=40),
        resolved_at=T0 + timedelta(hours=3),
    )

    metrics = compute_metrics(incident, now=T0 + timedelta(days=1))

    assert metrics.duration == timedelta(minutes=40) == metrics.time_to_mitigate
    assert "impact ends at mitigation" in DEFINITIONS["duration"]


def test_impact_lasts_until_now_while_not_mitigated_and_stops_at_mitigation_while_open() -> None:
    open_incident = make_incident(status=Status.INVESTIGATING)
    assert compute_metrics(open_incident, now=T0 + timedelta(hours=2)).duration == timedelta(
        hours=2
    )
    monitoring = make_incident(status=Status.MONITORING, mitigated_at=T0 + timedelta(minutes=30))
    assert compute_metrics(monitoring, now=T0 + timedelta(hours=2)).duration == timedelta(
        minutes=30
    )


def test_durations_are_absolute_time_across_the_fall_back_change() -> None:
    # 2026-11-01 01:59 PDT is followed by 01:00 PST: 00:30 PDT to 02:30 PST is three hours,
    # though the wall clock moved only two.
    pacific = ZoneInfo("America/Los_Angeles")
    start = datetime(2026, 11, 1, 0, 30, tzinfo=pacific)
    end = datetime(2026, 11, 1, 2, 30, tzinfo=pacific)
    incident = make_incident(
        impact_started_at=start,
        declared_at=datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=pacific),
        status=Status.RESOLVED,
        resolved_at=end,
    )

    metrics = compute_metrics(incident, now=end + timedelta(days=1))

    assert metrics.duration == timedelta(hours=3)
    assert metrics.time_to_detect == timedelta(hours=2)  # 01:30 PST is the second 01:30
    assert humanize(metrics.time_to_resolve) == "3 h"


def test_time_in_severity_follows_each_change_until_resolution() -> None:
    incident = make_incident(
        declared_at=at(0), status=Status.RESOLVED, resolved_at=at(180), severity="SEV2"
    )
    incident.timeline[0].details = {"severity": "SEV3"}
    # Recorded out of order on purpose: the metric follows occurred_at.
    incident.timeline += [
        severity_change(at(90), "SEV1", "SEV2"),
        severity_change(at(30), "SEV3", "SEV1"),
        severity_change(at(200), "SEV2", "SEV4"),  # after resolution: not counted
    ]

    metrics = compute_metrics(incident, now=at(600))

    assert metrics.time_in_severity == {
        "SEV1": timedelta(minutes=60),
        "SEV2": timedelta(minutes=90),
        "SEV3": timedelta(minutes=30),
        "SEV4": timedelta(0),
    }
    assert metrics.highest_severity == "SEV1"


def test_time_in_severity_runs_to_now_while_open() -> None:
    incident = make_incident(declared_at=at(0))
    incident.timeline.append(severity_change(at(20), "SEV3", "SEV2"))

    metrics = compute_metrics(incident, now=at(65))

    assert metrics.time_in_severity == {
        "SEV2": timedelta(minutes=45),
        "SEV3": timedelta(minutes=20),
    }
    assert metrics.duration == timedelta(minutes=65)


def test_unknown_ends_are_none_and_shown_as_a_dash() -> None:
    incident = make_incident(status=Status.INVESTIGATING)

    metrics = compute_metrics(incident, now=at(45))

    assert metrics.mitigated_at is None
    assert metrics.resolved_at is None
    assert metrics.closed_at is None
    assert metrics.acknowledged_at is None
    for name in ("time_to_acknowledge", "time_to_mitigate", "time_to_resolve"):
        assert getattr(metrics, name) is None
        assert humanize(getattr(metrics, name)) == "—"
    assert metrics.time_to_detect == timedelta(minutes=10)
    assert metrics.duration == timedelta(minutes=45), "an open incident lasts until now"


def test_mitigation_defaults_to_resolution_when_none_was_recorded() -> None:
    incident = make_incident(status=Status.RESOLVED, resolved_at=at(50))

    metrics = compute_metrics(incident, now=at(100))

    assert metrics.mitigated_at == at(50)
    assert metrics.time_to_mitigate == timedelta(minutes=50)


def test_acknowledged_by_another_responders_note() -> None:
    incident = make_incident(declared_at=at(0))
    incident.timeline += [
        entry(at(2), EntryKind.NOTE, text="declarer talking to themselves"),
        entry(at(7), EntryKind.NOTE, author="U_BOB", text="looking"),
        entry(at(9), EntryKind.NOTE, author=None, text="bot entry"),
    ]

    metrics = compute_metrics(incident, now=at(30))

    assert metrics.acknowledged_at == at(7)
    assert humanize(metrics.time_to_acknowledge) == "7 min"


def test_a_role_the_declarer_hands_out_is_not_the_receivers_acknowledgement() -> None:
    incident = make_incident(declared_at=at(0))
    incident.roles.append(
        RoleAssignment(role="comms", user_id="U_CAROL", assigned_by=DECLARER, started_at=at(4))
    )
    incident.timeline.append(entry(at(4), EntryKind.ROLE, author=DECLARER))
    incident.timeline.append(entry(at(6), EntryKind.NOTE, author="U_BOB"))

    assert compute_metrics(incident, now=at(30)).acknowledged_at == at(6)


def test_a_role_someone_else_hands_out_is_their_acknowledgement() -> None:
    incident = make_incident(declared_at=at(0))
    incident.timeline.append(entry(at(3), EntryKind.ROLE, author="U_CAROL"))

    assert compute_metrics(incident, now=at(30)).acknowledged_at == at(3)


def test_no_acknowledgement_is_measured_for_an_incident_recorded_after_the_fact() -> None:
    incident = make_incident(declared_at=at(0), status=Status.RESOLVED, resolved_at=at(20))
    incident.after_the_fact = True
    incident.timeline.append(entry(at(5), EntryKind.NOTE, author="U_BOB"))

    assert compute_metrics(incident, now=at(30)).acknowledged_at is None


def test_deleted_entries_do_not_count() -> None:
    incident = make_incident(declared_at=at(0))
    note = entry(at(2), EntryKind.NOTE, author="U_BOB")
    note.deleted_at = at(10)
    incident.timeline += [note, entry(at(7), EntryKind.NOTE, author="U_DANA")]

    assert compute_metrics(incident, now=at(30)).acknowledged_at == at(7)


def test_detection_is_the_recorded_detection_else_the_declaration() -> None:
    incident = make_incident(impact_started_at=at(0), declared_at=at(30))
    assert compute_metrics(incident, now=at(60)).time_to_detect == timedelta(minutes=30)
    incident.detected_at = at(2)
    metrics = compute_metrics(incident, now=at(60))
    assert metrics.time_to_detect == timedelta(minutes=2)
    assert metrics.declared_at == at(30)


def test_backdated_note_by_someone_else_acknowledges_when_it_was_written() -> None:
    incident = make_incident(declared_at=at(0))
    incident.timeline.append(
        entry(at(-30), EntryKind.NOTE, author="U_BOB", text="first errors", recorded_at=at(12))
    )

    assert compute_metrics(incident, now=at(30)).time_to_acknowledge == timedelta(minutes=12)


def test_no_acknowledgement_when_only_the_declarer_acted() -> None:
    incident = make_incident(declared_at=at(0))
    incident.timeline.append(entry(at(3), EntryKind.NOTE, text="on it"))

    metrics = compute_metrics(incident, now=at(30))

    assert metrics.acknowledged_at is None
    assert metrics.time_to_acknowledge is None


def test_reopened_incident_is_counted_and_open_again() -> None:
    incident = make_incident(declared_at=at(0), status=Status.INVESTIGATING, reopened_count=1)
    incident.timeline += [
        entry(at(30), EntryKind.STATUS, details={"from": "investigating", "to": "resolved"}),
        entry(at(40), EntryKind.STATUS, details={"from": "resolved", "to": "closed"}),
        entry(
            at(60),
            EntryKind.STATUS,
            details={"from": "closed", "to": "investigating", "reopened": True},
        ),
    ]

    metrics = compute_metrics(incident, now=at(100))

    assert metrics.reopened is True
    assert metrics.reopened_count == 1
    assert metrics.resolved_at is None
    assert metrics.duration == timedelta(minutes=100)


def test_never_reopened() -> None:
    incident = make_incident(status=Status.RESOLVED, resolved_at=at(30))

    metrics = compute_metrics(incident, now=at(40))

    assert metrics.reopened is False
    assert metrics.reopened_count == 0


def test_naive_datetimes_are_refused() -> None:
    incident = make_incident()

    with pytest.raises(ValueError, match="timezone-aware"):
        compute_metrics(incident, now=datetime(2026, 3, 10, 12, 0))


def test_every_metric_has_a_definition() -> None:
    for name in (*MOMENTS, *DURATIONS, "time_in_severity", "reopened_count"):
        assert DEFINITIONS[name].strip()


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (None, "—"),
        (timedelta(seconds=0), "0 s"),
        (timedelta(seconds=30), "30 s"),
        (timedelta(seconds=59, microseconds=999), "59 s"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(minutes=45, seconds=50), "45 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(days=1, hours=3, minutes=12), "1 d 3 h 12 min"),
        (timedelta(days=2, hours=5), "2 d 5 h"),
        (timedelta(days=45, minutes=1), "45 d 1 min"),
        (timedelta(days=400), "400 d"),
    ],
)
def test_humanize(delta: timedelta | None, expected: str) -> None:
    assert humanize(delta) == expected


def test_time_in_severity_runs_from_impact_start_with_the_first_recorded_severity() -> None:
    # Impact 20 minutes before the SEV3 declaration; SEV1 from 10 minutes after it.
    incident = make_incident(
        impact_started_at=at(-20), declared_at=at(0), status=Status.RESOLVED, resolved_at=at(40)
    )
    incident.timeline.append(severity_change(at(10), "SEV3", "SEV1"))

    metrics = compute_metrics(incident, now=at(600))

    assert metrics.time_in_severity == {
        "SEV1": timedelta(minutes=30),
        "SEV3": timedelta(minutes=30),
    }
    assert list(metrics.time_in_severity) == ["SEV1", "SEV3"]  # most severe first
