"""What the timeline says happened: an incident's state and milestones, replayed from its entries.

The record is the timeline. An incident's severity, status and the moments its metrics are
measured between (impact start, detection, mitigation, resolution, close) all follow from its
live entries (deleted ones do not count), taken in the order things happened, not the order
they were typed. So a change recorded after the fact (``sev 1 at 22:55``), a corrected time
(``edit 7 at 14:05``) or a deleted entry changes the incident exactly as if it had been
recorded right at the time. ``replay`` is that rule, written once; the services store its
result on the incident, where listings and metrics read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from incidentbot.domain.models import EntryKind, JSONObject, Status

# The entries that change an incident's state or set one of its milestones.
STATE_KINDS = frozenset(
    {
        EntryKind.DECLARED,
        EntryKind.SEVERITY,
        EntryKind.STATUS,
        EntryKind.IMPACT_START,
        EntryKind.DETECTED,
        EntryKind.MITIGATED,
    }
)
# Milestones someone sets (``started at``, ``detected at``, ``mitigated at``): one counts each.
MILESTONE_KINDS = (EntryKind.IMPACT_START, EntryKind.DETECTED, EntryKind.MITIGATED)

_DONE = frozenset({str(Status.RESOLVED), str(Status.CLOSED)})
_BACK = frozenset({str(Status.INVESTIGATING), str(Status.IDENTIFIED)})

# Names of the milestones as replies and the postmortem call them.
MILESTONE_NAMES = {
    "impact_started_at": "the impact start",
    "detected_at": "the detection",
    "declared_at": "the declaration",
    "mitigated_at": "the mitigation",
    "resolved_at": "the resolution",
    "closed_at": "the close",
}
# How each one is changed, for refusals that say how to fix a conflict.
MILESTONE_COMMANDS = {
    "impact_started_at": "/incident started at <time>",
    "detected_at": "/incident detected at <time>",
    "declared_at": "/incident edit 1 at <time>",
    "mitigated_at": "/incident mitigated at <time>",
    "resolved_at": "/incident resolve at <time>",
    "closed_at": "/incident timeline, then edit <N> at <time>",
}
# Pairs that must come in this order (or at the same moment).
ORDER = (
    ("impact_started_at", "detected_at"),
    ("detected_at", "declared_at"),
    ("impact_started_at", "mitigated_at"),
    ("mitigated_at", "resolved_at"),
    ("impact_started_at", "resolved_at"),
    ("resolved_at", "closed_at"),
)


class Recorded(Protocol):
    """What replay reads of an entry (``TimelineEntry`` and ``TimelineRow`` both have it)."""

    # Read-only: an ORM entry's columns (Mapped[int], ...) are then as good as a row's fields.
    @property
    def id(self) -> int | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def details(self) -> JSONObject | None: ...


@dataclass(frozen=True)
class Lifecycle:
    """An incident as its timeline tells it. Moments are aware UTC datetimes."""

    declared_at: datetime
    initial_severity: str
    severity: str
    status: str
    impact_started_at: datetime
    impact_start_given: bool
    detected_at: datetime
    detection_given: bool
    mitigated_at: datetime | None
    mitigation_given: bool
    resolved_at: datetime | None
    closed_at: datetime | None
    reopened_count: int
    last_reopened_at: datetime | None
    # (moment, severity it changed to), in order.
    severity_changes: tuple[tuple[datetime, str], ...]

    def moment(self, name: str) -> datetime | None:
        moment: datetime | None = getattr(self, name)
        return moment


def ordered(entries: Iterable[Recorded]) -> list[Recorded]:
    """By when it happened; entries at the same moment keep the order they were recorded."""
    return sorted(entries, key=lambda e: (e.occurred_at, e.id is None, e.id or 0))


def _latest_recorded(entries: Sequence[Recorded]) -> Recorded | None:
    """Of several entries setting one milestone, the one recorded last is what people mean."""
    return max(entries, key=lambda e: (e.id is None, e.id or 0), default=None)


def replay(
    entries: Iterable[Recorded], *, declared_at: datetime, severity: str, status: str | None = None
) -> Lifecycle:
    """The incident its live state entries describe (pass only entries that were not deleted).

    ``declared_at``, ``severity`` (and ``status``) stand in when there is no declaration entry.
    Moving from resolved or closed back to an open status is a reopening: the metrics then use
    the last resolution. Mitigation is the recorded ``mitigated at`` (made since the last
    reopening), else the first move to monitoring since then, else the resolution; moving back
    to investigating or identified undoes a mitigation by monitoring.
    """
    state = ordered(e for e in entries if e.kind in STATE_KINDS)
    declarations = [e for e in state if e.kind == EntryKind.DECLARED]
    if declarations:
        first = declarations[0]
        declared_at = first.occurred_at
        severity = str((first.details or {}).get("severity") or severity)
        current_status = str((first.details or {}).get("status") or Status.INVESTIGATING)
    else:
        current_status = str(status or Status.INVESTIGATING)
    initial_severity = severity
    changes: list[tuple[datetime, str]] = []
    monitoring_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    reopened = 0
    last_reopened_at: datetime | None = None
    for entry in state:
        to = (entry.details or {}).get("to")
        if entry.kind == EntryKind.SEVERITY and to:
            severity = str(to)
            changes.append((entry.occurred_at, severity))
        elif entry.kind == EntryKind.STATUS and to:
            to = str(to)
            if current_status in _DONE and to not in _DONE:
                reopened += 1
                last_reopened_at = entry.occurred_at
                monitoring_at = resolved_at = closed_at = None
            if to in _BACK:
                monitoring_at = resolved_at = None
            elif to == Status.MONITORING:
                monitoring_at = monitoring_at or entry.occurred_at
                resolved_at = None
            elif to == Status.RESOLVED:
                resolved_at = entry.occurred_at
            elif to == Status.CLOSED:
                closed_at = entry.occurred_at
                resolved_at = resolved_at or entry.occurred_at
            current_status = to

    def milestone(kind: EntryKind) -> Recorded | None:
        return _latest_recorded([e for e in state if e.kind == kind])

    impact = milestone(EntryKind.IMPACT_START)
    detection = milestone(EntryKind.DETECTED)
    mitigations = [
        e
        for e in state
        if e.kind == EntryKind.MITIGATED
        and (last_reopened_at is None or e.occurred_at > last_reopened_at)
    ]
    mitigation = _latest_recorded(mitigations)
    if mitigation is not None:
        mitigated_at: datetime | None = mitigation.occurred_at
    else:
        mitigated_at = monitoring_at or resolved_at
    return Lifecycle(
        declared_at=declared_at,
        initial_severity=initial_severity,
        severity=severity,
        status=current_status,
        impact_started_at=impact.occurred_at if impact is not None else declared_at,
        impact_start_given=impact is not None,
        detected_at=detection.occurred_at if detection is not None else declared_at,
        detection_given=detection is not None,
        mitigated_at=mitigated_at,
        mitigation_given=mitigation is not None,
        resolved_at=resolved_at,
        closed_at=closed_at,
        reopened_count=reopened,
        last_reopened_at=last_reopened_at,
        severity_changes=tuple(changes),
    )


def status_at(entries: Iterable[Recorded], moment: datetime) -> str:
    """The status in effect at ``moment`` (after everything recorded up to then)."""
    current = str(Status.INVESTIGATING)
    for entry in ordered(entries):
        if entry.occurred_at > moment:
            break
        details = entry.details or {}
        if entry.kind == EntryKind.DECLARED and details.get("status"):
            current = str(details["status"])
        elif entry.kind == EntryKind.STATUS and details.get("to"):
            current = str(details["to"])
    return current


def severity_at(entries: Iterable[Recorded], moment: datetime, *, default: str) -> str:
    """The severity in effect at ``moment``; before the first change, the first recorded one."""
    current = default
    for entry in ordered(entries):
        details = entry.details or {}
        if entry.kind == EntryKind.DECLARED and details.get("severity"):
            current = str(details["severity"])
    for entry in ordered(entries):
        if entry.occurred_at > moment:
            break
        details = entry.details or {}
        if entry.kind == EntryKind.SEVERITY and details.get("to"):
            current = str(details["to"])
    return current


@dataclass(frozen=True)
class OrderProblem:
    """Two milestones the other way round: ``earlier`` should not come after ``later``."""

    earlier: str
    later: str
    earlier_at: datetime
    later_at: datetime


def order_problems(lifecycle: Lifecycle) -> list[OrderProblem]:
    """Milestones out of order, e.g. a mitigation before the impact started."""
    found = []
    for earlier, later in ORDER:
        first, second = lifecycle.moment(earlier), lifecycle.moment(later)
        if first is not None and second is not None and first > second:
            found.append(OrderProblem(earlier, later, first, second))
    return found
