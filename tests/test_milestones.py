"""The incident its timeline describes: replayed from plain entries, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from incidentbot.domain.milestones import (
    order_problems,
    replay,
    severity_at,
    status_at,
)
from incidentbot.domain.models import EntryKind

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@dataclass
class Entry:
    kind: str
    occurred_at: datetime
    details: dict | None = None
    id: int | None = None


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def declared(minutes: float = 0, severity: str = "SEV3") -> Entry:
    return Entry(EntryKind.DECLARED, at(minutes), {"severity": severity, "status": "investigating"})


def status(minutes: float, to: str, *, id: int) -> Entry:
    return Entry(EntryKind.STATUS, at(minutes), {"to": to}, id=id)


def severity(minutes: float, to: str, *, id: int) -> Entry:
    return Entry(EntryKind.SEVERITY, at(minutes), {"to": to}, id=id)


def milestone(kind: str, minutes: float, *, id: int) -> Entry:
    return Entry(kind, at(minutes), {}, id=id)


def play(*entries: Entry):  # type: ignore[no-untyped-def]
    return replay(entries, declared_at=at(0), severity="SEV3")


def test_with_only_a_declaration_everything_counts_from_it() -> None:
    life = play(declared(0))
    assert (life.impact_started_at, life.detected_at, life.declared_at) == (at(0), at(0), at(0))
    assert not life.impact_start_given and not life.detection_given
    assert (life.status, life.severity, life.mitigated_at, life.resolved_at) == (
        "investigating",
        "SEV3",
        None,
        None,
    )


def test_changes_apply_in_the_order_they_happened_not_the_order_recorded() -> None:
    # Recorded last, happened first: SEV1 at 10, SEV2 at 30 was recorded before it.
    life = play(declared(0), severity(30, "SEV2", id=2), severity(10, "SEV1", id=3))
    assert life.severity == "SEV2"
    assert life.severity_changes == ((at(10), "SEV1"), (at(30), "SEV2"))
    assert life.initial_severity == "SEV3"


def test_mitigation_is_the_recorded_one_else_the_first_monitoring_else_the_resolution() -> None:
    assert play(declared(), status(20, "resolved", id=2)).mitigated_at == at(20)
    monitoring = play(declared(), status(10, "monitoring", id=2), status(15, "identified", id=3))
    assert monitoring.mitigated_at is None  # moving back undid it
    twice = play(declared(), status(10, "monitoring", id=2), status(25, "resolved", id=3))
    assert twice.mitigated_at == at(10)
    given = play(
        declared(),
        status(10, "monitoring", id=2),
        milestone(EntryKind.MITIGATED, 5, id=3),
        status(25, "resolved", id=4),
    )
    assert (given.mitigated_at, given.mitigation_given) == (at(5), True)


def test_a_reopening_forgets_the_earlier_resolution_and_its_mitigation() -> None:
    life = play(
        declared(),
        milestone(EntryKind.MITIGATED, 5, id=2),
        status(10, "resolved", id=3),
        status(20, "investigating", id=4),
    )
    assert (life.status, life.reopened_count, life.last_reopened_at) == (
        "investigating",
        1,
        at(20),
    )
    assert life.mitigated_at is None and life.resolved_at is None
    again = play(
        declared(),
        milestone(EntryKind.MITIGATED, 5, id=2),
        status(10, "resolved", id=3),
        status(20, "investigating", id=4),
        status(40, "resolved", id=5),
    )
    assert (again.mitigated_at, again.resolved_at) == (at(40), at(40))


def test_closing_unresolved_counts_as_resolved_then() -> None:
    life = play(declared(), status(30, "closed", id=2))
    assert (life.status, life.resolved_at, life.closed_at, life.mitigated_at) == (
        "closed",
        at(30),
        at(30),
        at(30),
    )


def test_the_milestone_recorded_last_is_the_one_that_counts() -> None:
    life = play(
        declared(),
        milestone(EntryKind.IMPACT_START, -20, id=2),
        milestone(EntryKind.IMPACT_START, -30, id=3),
        milestone(EntryKind.DETECTED, -5, id=4),
    )
    assert (life.impact_started_at, life.detected_at) == (at(-30), at(-5))
    assert life.impact_start_given and life.detection_given


def test_order_problems_name_the_pair_the_wrong_way_round() -> None:
    assert order_problems(play(declared(), milestone(EntryKind.IMPACT_START, -10, id=2))) == []
    late_start = play(declared(), milestone(EntryKind.IMPACT_START, 10, id=2))
    assert [(p.earlier, p.later) for p in order_problems(late_start)] == [
        ("impact_started_at", "detected_at")
    ]
    early_fix = play(
        declared(),
        milestone(EntryKind.IMPACT_START, -10, id=2),
        milestone(EntryKind.MITIGATED, -20, id=3),
    )
    assert ("impact_started_at", "mitigated_at") in {
        (p.earlier, p.later) for p in order_problems(early_fix)
    }
    after_resolution = play(
        declared(), milestone(EntryKind.MITIGATED, 30, id=2), status(20, "resolved", id=3)
    )
    assert [(p.earlier, p.later) for p in order_problems(after_resolution)] == [
        ("mitigated_at", "resolved_at")
    ]


def test_status_and_severity_in_effect_at_a_moment() -> None:
    entries = [
        declared(0, "SEV3"),
        status(10, "identified", id=2),
        status(30, "monitoring", id=3),
        severity(20, "SEV1", id=4),
    ]
    assert status_at(entries, at(5)) == "investigating"
    assert status_at(entries, at(10)) == "identified"
    assert status_at(entries, at(29)) == "identified"
    assert status_at(entries, at(31)) == "monitoring"
    assert severity_at(entries, at(-60), default="SEV4") == "SEV3"  # the first recorded one
    assert severity_at(entries, at(25), default="SEV4") == "SEV1"
