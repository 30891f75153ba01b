"""Incident metrics, computed in one place so Slack, the web pages and postmortems agree.

Every duration is absolute elapsed time: moments are compared in UTC, so a change of clocks
(daylight saving) never adds or removes an hour.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import overload

from dateutil.relativedelta import relativedelta

from incidentbot.domain.models import EntryKind, Incident, Severity, Status, TimelineRecord

# Each metric's definition, written once: Slack, the pages and every postmortem show these
# words beside the figure.
DEFINITIONS: dict[str, str] = {
    "impact_started_at": (
        "When users or systems were first affected: the recorded impact start, else the "
        "declaration."
    ),
    "detected_at": "When the incident was detected: the recorded detection, else the declaration.",
    "declared_at": "When the incident was declared.",
    "acknowledged_at": (
        "The first action on record by someone other than the declarer (a role given to them "
        "is not their action); not measured for incidents recorded after the fact."
    ),
    "mitigated_at": (
        "When the impact ended: the recorded mitigation, else the first move to monitoring, "
        "else the resolution."
    ),
    "resolved_at": "When the incident was marked resolved (the latest time, if it was reopened).",
    "closed_at": "When the incident was closed and its postmortem generated.",
    "time_to_detect": "From impact start to detection.",
    "time_to_acknowledge": "From declaration to the first action by someone else.",
    "time_to_mitigate": "From impact start to mitigation.",
    "time_to_resolve": "From impact start to resolution.",
    "duration": (
        "How long the impact lasted: from impact start to mitigation (impact ends at "
        "mitigation), or to now while not yet mitigated."
    ),
    "time_in_severity": (
        "Time spent at each severity, from impact start to resolution (or now while open); "
        "the first recorded severity applies until it was first changed."
    ),
    "highest_severity": "The most severe level the incident reached (SEV1 is the most severe).",
    "reopened_count": "How many times the incident was reopened after being resolved or closed.",
}

LABELS: dict[str, str] = {
    "impact_started_at": "Impact started",
    "detected_at": "Detected",
    "declared_at": "Declared",
    "acknowledged_at": "Acknowledged",
    "mitigated_at": "Mitigated",
    "resolved_at": "Resolved",
    "closed_at": "Closed",
    "time_to_detect": "Time to detect",
    "time_to_acknowledge": "Time to acknowledge",
    "time_to_mitigate": "Time to mitigate",
    "time_to_resolve": "Time to resolve",
    "duration": "Impact duration",
    "time_in_severity": "Time in severity",
    "highest_severity": "Highest severity",
    "reopened_count": "Times reopened",
}

MOMENTS = (
    "impact_started_at",
    "detected_at",
    "declared_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
    "closed_at",
)
DURATIONS = (
    "time_to_detect",
    "time_to_acknowledge",
    "time_to_mitigate",
    "time_to_resolve",
    "duration",
)

_SEVERITY_ORDER = [str(s) for s in Severity]
_DONE = {str(Status.RESOLVED), str(Status.CLOSED)}


@dataclass(frozen=True)
class Metrics:
    """Moments are UTC; durations are None when their end is not known yet."""

    impact_started_at: datetime
    detected_at: datetime
    declared_at: datetime
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    time_to_detect: timedelta
    time_to_acknowledge: timedelta | None
    time_to_mitigate: timedelta | None
    time_to_resolve: timedelta | None
    duration: timedelta | None
    time_in_severity: dict[str, timedelta]
    highest_severity: str
    reopened: bool
    reopened_count: int


@overload
def _utc(moment: datetime) -> datetime: ...
@overload
def _utc(moment: datetime | None) -> datetime | None: ...
def _utc(moment: datetime | None) -> datetime | None:
    """Aware datetimes in UTC; subtracting two in one ``ZoneInfo`` would ignore DST changes."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("metrics need timezone-aware datetimes; got a naive one")
    return moment.astimezone(UTC)


def _between(start: datetime | None, end: datetime | None) -> timedelta | None:
    if start is None or end is None:
        return None
    return end - start


def _acknowledged_at(
    incident: Incident, timeline: Sequence[TimelineRecord], *, declared_at: datetime
) -> datetime | None:
    """The first action on record by someone besides the declarer. A role the declarer hands
    someone is the declarer's action, not theirs; it shows in the timeline as the declarer's."""
    if incident.after_the_fact:
        return None  # entered once it was over: nobody acknowledged it here
    declarer = incident.declared_by
    candidates: list[datetime | None] = []
    for entry in timeline:
        # recorded_at is when they acted; a backdated note's occurred_at is not a response.
        if entry.author_id and entry.author_id != declarer:
            candidates.append(_utc(entry.recorded_at or entry.occurred_at))
        # A captured message was written by its source author at the message's own time.
        if entry.source_author_id and entry.source_author_id != declarer:
            candidates.append(_utc(entry.occurred_at))
    # Nobody can respond to an incident before it exists; earlier moments count as at once.
    responses = [max(moment, declared_at) for moment in candidates if moment is not None]
    return min(responses, default=None)


def _ordered(entries: Iterable[TimelineRecord], kind: str) -> list[TimelineRecord]:
    return sorted((e for e in entries if e.kind == kind), key=lambda e: _utc(e.occurred_at))


def _time_in_severity(
    incident: Incident, timeline: Sequence[TimelineRecord], *, start: datetime, end: datetime
) -> dict[str, timedelta]:
    declared = _ordered(timeline, EntryKind.DECLARED)
    changes = _ordered(timeline, EntryKind.SEVERITY)
    declared_details = (declared[0].details or {}) if declared else {}
    first_change_details = (changes[0].details or {}) if changes else {}
    if declared_details.get("severity"):
        current = str(declared_details["severity"])
    elif first_change_details.get("from"):
        current = str(first_change_details["from"])
    else:
        current = str(incident.severity)

    totals: dict[str, timedelta] = {}
    since = start
    for change in changes:
        to = (change.details or {}).get("to")
        if not to:
            continue
        at = min(max(_utc(change.occurred_at), start), end)
        totals[current] = totals.get(current, timedelta()) + (at - since)
        current, since = str(to), at
    totals[current] = totals.get(current, timedelta()) + max(end - since, timedelta())
    return dict(sorted(totals.items(), key=lambda item: _severity_rank(item[0])))


def _severity_rank(severity: str) -> tuple[int, str]:
    if severity in _SEVERITY_ORDER:
        return (_SEVERITY_ORDER.index(severity), severity)
    return (len(_SEVERITY_ORDER), severity)


def _severities_seen(incident: Incident, timeline: Sequence[TimelineRecord]) -> set[str]:
    seen = {str(incident.severity)}
    for entry in timeline:
        details = entry.details or {}
        if entry.kind == EntryKind.DECLARED and details.get("severity"):
            seen.add(str(details["severity"]))
        if entry.kind == EntryKind.SEVERITY:
            seen.update(str(details[key]) for key in ("from", "to") if details.get(key))
    return seen


def _reopen_count(incident: Incident, timeline: Sequence[TimelineRecord]) -> int:
    from_timeline = sum(
        1
        for entry in timeline
        if entry.kind == EntryKind.STATUS
        and str((entry.details or {}).get("from")) in _DONE
        and str((entry.details or {}).get("to")) not in _DONE
    )
    return max(incident.reopened_count or 0, from_timeline)


def compute_metrics(
    incident: Incident, *, now: datetime, timeline: Sequence[TimelineRecord] | None = None
) -> Metrics:
    """All of an incident's metrics as of ``now``.

    ``timeline`` is its timeline when the caller has read it already (as rows, for instance);
    by default ``incident.timeline``. Deleted entries do not count.
    """
    if timeline is None:
        timeline = incident.timeline
    timeline = [entry for entry in timeline if getattr(entry, "deleted_at", None) is None]
    now = _utc(now)
    declared_at = _utc(incident.declared_at)
    impact_started_at = _utc(incident.impact_started_at or incident.declared_at)
    detected_at = _utc(incident.detected_at) or declared_at
    resolved_at = _utc(incident.resolved_at)
    closed_at = _utc(incident.closed_at)
    mitigated_at = _utc(incident.mitigated_at) or resolved_at
    acknowledged_at = _acknowledged_at(incident, timeline, declared_at=declared_at)

    if incident.is_open:
        end: datetime | None = now
    else:
        end = resolved_at or closed_at

    # A finished incident with no recorded end has no measurable time at each severity.
    time_in_severity = (
        _time_in_severity(incident, timeline, start=impact_started_at, end=end)
        if end is not None
        else {}
    )
    reopened_count = _reopen_count(incident, timeline)
    return Metrics(
        impact_started_at=impact_started_at,
        detected_at=detected_at,
        declared_at=declared_at,
        acknowledged_at=acknowledged_at,
        mitigated_at=mitigated_at,
        resolved_at=resolved_at,
        closed_at=closed_at,
        time_to_detect=detected_at - impact_started_at,
        time_to_acknowledge=_between(declared_at, acknowledged_at),
        time_to_mitigate=_between(impact_started_at, mitigated_at),
        time_to_resolve=_between(impact_started_at, resolved_at),
        # Impact ends at mitigation.
        duration=_between(impact_started_at, mitigated_at or (now if incident.is_open else None)),
        time_in_severity=time_in_severity,
        highest_severity=min(_severities_seen(incident, timeline), key=_severity_rank),
        reopened=reopened_count > 0,
        reopened_count=reopened_count,
    )


def humanize(delta: timedelta | None) -> str:
    """``1 d 3 h 12 min``, ``45 min``, ``30 s`` under a minute, ``—`` when unknown."""
    if delta is None:
        return "—"
    sign = "-" if delta < timedelta() else ""
    total = int(abs(delta).total_seconds())
    if total < 60:
        return f"{sign}{total} s"
    # From seconds alone relativedelta carries into days but never into months or years.
    parts = relativedelta(seconds=total).normalized()
    pieces = [
        f"{value} {unit}"
        for value, unit in ((parts.days, "d"), (parts.hours, "h"), (parts.minutes, "min"))
        if value
    ]
    return sign + " ".join(pieces)
