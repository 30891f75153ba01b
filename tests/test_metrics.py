"""Metrics from an incident's fields and timeline: plain model instances, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from incidentbot.domain.metrics import DEFINITIONS, DURATIONS, MOMENTS, compute_metrics, humanize
from incidentbot.domain.models import (
    EntryKind,
    Incident,
    RoleAssignment,
    Status,
    TimelineEntry,
    TimelineRow,
)

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


# --- behaviours the mutation run found unprotected (docs/mutation.md) ---------------------------


def test_a_naive_datetime_is_refused_with_the_message_people_see() -> None:
    with pytest.raises(ValueError) as refused:
        compute_metrics(make_incident(), now=datetime(2026, 3, 10, 12, 0))
    assert str(refused.value) == "metrics need timezone-aware datetimes; got a naive one"


def test_every_moment_comes_back_in_utc_whatever_zone_it_was_recorded_in() -> None:
    pacific = ZoneInfo("America/Los_Angeles")
    incident = make_incident(
        impact_started_at=datetime(2026, 3, 10, 1, 0, tzinfo=pacific),
        declared_at=datetime(2026, 3, 10, 1, 15, tzinfo=pacific),
        status=Status.CLOSED,
        resolved_at=datetime(2026, 3, 10, 2, 0, tzinfo=pacific),
        closed_at=datetime(2026, 3, 10, 3, 0, tzinfo=pacific),
    )
    incident.detected_at = datetime(2026, 3, 10, 1, 5, tzinfo=pacific)

    metrics = compute_metrics(incident, now=datetime(2026, 3, 11, tzinfo=pacific))

    # Pacific daylight time (UTC-7) since 8 March.
    assert metrics.impact_started_at == datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    assert metrics.detected_at == datetime(2026, 3, 10, 8, 5, tzinfo=UTC)
    assert metrics.declared_at == datetime(2026, 3, 10, 8, 15, tzinfo=UTC)
    assert metrics.resolved_at == datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    assert metrics.closed_at == datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
    for name in ("impact_started_at", "detected_at", "declared_at", "resolved_at", "closed_at"):
        assert getattr(metrics, name).tzinfo is UTC, name


def test_impact_starts_at_the_declaration_when_no_start_was_recorded() -> None:
    incident = make_incident(declared_at=at(0))
    incident.impact_started_at = None

    metrics = compute_metrics(incident, now=at(30))

    assert metrics.impact_started_at == at(0)
    assert metrics.duration == timedelta(minutes=30)


def test_a_captured_message_acknowledges_at_the_time_its_author_wrote_it() -> None:
    incident = make_incident(declared_at=at(0))
    pinned = entry(at(5), EntryKind.PINNED, author=DECLARER, recorded_at=at(20))
    pinned.source_author_id = "U_BOB"
    incident.timeline.append(pinned)

    metrics = compute_metrics(incident, now=at(30))

    assert metrics.acknowledged_at == at(5)
    assert metrics.time_to_acknowledge == timedelta(minutes=5)


def test_the_declarers_own_captured_message_is_no_acknowledgement() -> None:
    incident = make_incident(declared_at=at(0))
    pinned = entry(at(5), EntryKind.PINNED, author=DECLARER)
    pinned.source_author_id = DECLARER
    incident.timeline.append(pinned)

    assert compute_metrics(incident, now=at(30)).acknowledged_at is None


def test_a_response_before_the_declaration_counts_as_at_the_declaration() -> None:
    incident = make_incident(declared_at=at(0))
    pinned = entry(at(-15), EntryKind.PINNED, author=DECLARER)
    pinned.source_author_id = "U_BOB"
    incident.timeline.append(pinned)

    metrics = compute_metrics(incident, now=at(30))

    assert metrics.acknowledged_at == at(0)
    assert metrics.time_to_acknowledge == timedelta(0)


def test_the_declared_severity_applies_until_the_first_change_whatever_the_change_says() -> None:
    incident = make_incident(declared_at=at(0), severity="SEV1")
    incident.timeline[0].details = {"severity": "SEV3"}
    incident.timeline.append(severity_change(at(10), "SEV2", "SEV1"))

    metrics = compute_metrics(incident, now=at(30))

    assert metrics.time_in_severity == {
        "SEV1": timedelta(minutes=20),
        "SEV3": timedelta(minutes=10),
    }


def test_without_a_declared_severity_the_first_changes_from_applies_until_then() -> None:
    incident = make_incident(declared_at=at(0), severity="SEV1")
    incident.timeline[0].details = None
    # Recorded out of order: the first change is the earliest by occurred_at.
    incident.timeline += [
        severity_change(at(20), "SEV2", "SEV1"),
        severity_change(at(10), "SEV4", "SEV2"),
    ]

    metrics = compute_metrics(incident, now=at(30))

    assert metrics.time_in_severity == {
        "SEV1": timedelta(minutes=10),
        "SEV2": timedelta(minutes=10),
        "SEV4": timedelta(minutes=10),
    }


def test_with_no_recorded_severity_at_all_the_incidents_own_applies_throughout() -> None:
    incident = make_incident(declared_at=at(0), severity="SEV2")
    incident.timeline[0].details = {}

    metrics = compute_metrics(incident, now=at(30))

    assert metrics.time_in_severity == {"SEV2": timedelta(minutes=30)}


def test_a_timeline_without_a_declaration_entry_uses_the_first_change() -> None:
    incident = make_incident(declared_at=at(0), severity="SEV1")
    incident.timeline = [severity_change(at(10), "SEV3", "SEV1")]

    metrics = compute_metrics(incident, now=at(30))

    assert metrics.time_in_severity == {
        "SEV1": timedelta(minutes=20),
        "SEV3": timedelta(minutes=10),
    }


def test_a_timeline_with_no_severity_entries_uses_the_incidents_severity() -> None:
    incident = make_incident(declared_at=at(0), severity="SEV4")
    incident.timeline = [entry(at(5), EntryKind.NOTE, author="U_BOB")]

    metrics = compute_metrics(incident, now=at(30))

    assert metrics.time_in_severity == {"SEV4": timedelta(minutes=30)}
    assert metrics.highest_severity == "SEV4"


def test_a_change_without_a_new_severity_is_skipped_and_later_changes_still_count() -> None:
    incident = make_incident(declared_at=at(0))
    incident.timeline += [
        entry(at(5), EntryKind.SEVERITY, details={"from": "SEV3"}),
        severity_change(at(10), "SEV3", "SEV2"),
    ]

    metrics = compute_metrics(incident, now=at(30))

    assert metrics.time_in_severity == {
        "SEV2": timedelta(minutes=20),
        "SEV3": timedelta(minutes=10),
    }


def test_time_at_a_severity_adds_up_across_each_stay_at_it() -> None:
    incident = make_incident(declared_at=at(0))
    incident.timeline += [
        severity_change(at(10), "SEV3", "SEV2"),
        severity_change(at(20), "SEV2", "SEV3"),
        severity_change(at(30), "SEV3", "SEV2"),
        severity_change(at(40), "SEV2", "SEV3"),
    ]

    metrics = compute_metrics(incident, now=at(60))

    assert metrics.time_in_severity == {
        "SEV2": timedelta(minutes=20),
        "SEV3": timedelta(minutes=40),
    }


def test_time_in_severity_lists_the_most_severe_first_and_unknown_levels_last() -> None:
    incident = make_incident(declared_at=at(0), severity="SEV4")
    incident.timeline[0].details = {"severity": "P1"}
    incident.timeline += [
        severity_change(at(10), "P1", "SEV4"),
        severity_change(at(20), "SEV4", "SEV2"),
        severity_change(at(30), "SEV2", "SEV4"),
    ]

    metrics = compute_metrics(incident, now=at(60))

    assert list(metrics.time_in_severity.items()) == [
        ("SEV2", timedelta(minutes=10)),
        ("SEV4", timedelta(minutes=40)),
        ("P1", timedelta(minutes=10)),
    ]
    assert metrics.highest_severity == "SEV2"


def test_an_unknown_level_is_never_the_highest_severity() -> None:
    incident = make_incident(declared_at=at(0), severity="SEV3")
    incident.timeline[0].details = {"severity": "P1"}
    incident.timeline.append(severity_change(at(10), "P1", "SEV3"))

    assert compute_metrics(incident, now=at(30)).highest_severity == "SEV3"


def test_the_highest_severity_counts_the_current_one_though_no_entry_records_it() -> None:
    incident = make_incident(declared_at=at(0), severity="SEV1")
    incident.timeline[0].details = {"severity": "SEV3"}

    assert compute_metrics(incident, now=at(30)).highest_severity == "SEV1"


def test_the_highest_severity_counts_the_declared_one() -> None:
    incident = make_incident(declared_at=at(0), severity="SEV3")
    incident.timeline[0].details = {"severity": "SEV1"}
    incident.timeline.append(entry(at(10), EntryKind.SEVERITY, details={"to": "SEV3"}))

    assert compute_metrics(incident, now=at(30)).highest_severity == "SEV1"


def test_the_highest_severity_counts_both_sides_of_each_change() -> None:
    came_from = make_incident(declared_at=at(0), severity="SEV3")
    came_from.timeline[0].details = None
    came_from.timeline.append(entry(at(10), EntryKind.SEVERITY, details={"from": "SEV1"}))
    assert compute_metrics(came_from, now=at(30)).highest_severity == "SEV1"

    went_to = make_incident(declared_at=at(0), severity="SEV3")
    went_to.timeline += [
        entry(at(10), EntryKind.SEVERITY, details={"to": "SEV2"}),
        entry(at(20), EntryKind.SEVERITY, details={"to": "SEV3"}),
    ]
    assert compute_metrics(went_to, now=at(30)).highest_severity == "SEV2"


def test_a_severity_in_another_kind_of_entry_is_not_a_severity_the_incident_had() -> None:
    incident = make_incident(declared_at=at(0), severity="SEV3")
    incident.timeline.append(entry(at(5), EntryKind.UPDATE, details={"severity": "SEV1"}))

    assert compute_metrics(incident, now=at(30)).highest_severity == "SEV3"


def reopening(minutes: float, before: str, after: str) -> TimelineEntry:
    return entry(at(minutes), EntryKind.STATUS, details={"from": before, "to": after})


def test_the_reopen_count_is_taken_from_the_timeline_when_the_field_is_behind() -> None:
    incident = make_incident(declared_at=at(0), status=Status.MONITORING, reopened_count=0)
    incident.timeline += [
        reopening(10, "investigating", "monitoring"),  # a move between open statuses
        reopening(20, "monitoring", "resolved"),
        reopening(30, "resolved", "closed"),  # between finished ones
        reopening(40, "closed", "investigating"),
        reopening(50, "investigating", "resolved"),
        reopening(60, "resolved", "monitoring"),
        entry(at(70), EntryKind.NOTE, author="U_BOB", details={"from": "closed", "to": "x"}),
    ]

    metrics = compute_metrics(incident, now=at(100))

    assert metrics.reopened_count == 2
    assert metrics.reopened is True


def test_the_reopen_count_field_wins_when_the_timeline_shows_fewer() -> None:
    incident = make_incident(declared_at=at(0), reopened_count=3)
    incident.timeline.append(reopening(40, "closed", "investigating"))

    assert compute_metrics(incident, now=at(100)).reopened_count == 3


def test_plain_timeline_rows_without_a_deleted_at_are_read_too() -> None:
    incident = make_incident(declared_at=at(0))
    row = TimelineRow(
        id=1,
        number=2,
        occurred_at=at(4),
        recorded_at=at(4),
        kind=EntryKind.NOTE,
        author_id="U_BOB",
        text="looking",
        source_author_id=None,
        permalink=None,
        details=None,
        also_marked_by=(),
    )

    metrics = compute_metrics(incident, now=at(30), timeline=[row])

    assert metrics.acknowledged_at == at(4)


def test_a_closed_incident_without_a_resolution_runs_its_severities_to_the_close() -> None:
    incident = make_incident(declared_at=at(0), status=Status.CLOSED, closed_at=at(40))
    incident.timeline.append(severity_change(at(10), "SEV3", "SEV2"))

    metrics = compute_metrics(incident, now=at(100))

    assert metrics.closed_at == at(40)
    assert metrics.time_in_severity == {
        "SEV2": timedelta(minutes=30),
        "SEV3": timedelta(minutes=10),
    }
    assert metrics.duration is None, "never mitigated nor resolved: no known end of impact"


def test_a_finished_incident_with_no_recorded_end_has_no_time_in_severity() -> None:
    incident = make_incident(declared_at=at(0), status=Status.CLOSED)
    incident.timeline.append(severity_change(at(10), "SEV3", "SEV2"))

    metrics = compute_metrics(incident, now=at(100))

    assert metrics.time_in_severity == {}
    assert metrics.duration is None
    assert metrics.time_to_resolve is None


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=-30), "-30 s"),
        (timedelta(minutes=-5), "-5 min"),
        (timedelta(hours=-1, minutes=-2), "-1 h 2 min"),
        (timedelta(seconds=60), "1 min"),
        (timedelta(seconds=61), "1 min"),
    ],
)
def test_humanize_negative_and_whole_minutes(delta: timedelta, expected: str) -> None:
    assert humanize(delta) == expected
