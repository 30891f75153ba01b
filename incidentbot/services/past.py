"""Incidents recorded after the fact: last week's outage, entered once it is over.

``/incident record <title>; started <time>; detected <time>; mitigated <time>; resolved <time>``
(or the declare form's "It is already over" fields) records an incident with the moments it
really had: it is declared at its detection, its milestones and resolution sit where they
happened, and it is labelled as recorded after the fact wherever it is shown. Nobody is paged or
nudged for the past: it is resolved from the start, so no live reminder comes due.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from incidentbot.domain.errors import IncidentError
from incidentbot.domain.models import EntryKind, Incident, Severity, Status
from incidentbot.domain.text import clip
from incidentbot.domain.timeparse import format_moment, parse_moment
from incidentbot.infra.uow import UnitOfWork
from incidentbot.services.impact import set_milestone
from incidentbot.services.incidents import DEFAULT_SEVERITY, clean_title, declare_incident
from incidentbot.services.lifecycle import change_status
from incidentbot.services.vocabulary import parse_severity

USAGE = (
    "`/incident record <title>; started <time>; detected <time>; mitigated <time>; "
    "resolved <time>` (detected and mitigated are optional; add `; sev 2` for its severity), "
    "e.g. `/incident record Checkout 500s; started 2026-11-20 14:05 UTC; "
    "resolved 2026-11-20 15:10 UTC`. Or `/incident declare` and fill in the form's "
    "“already over” times."
)


def past_usage() -> str:
    return USAGE


# Clause words and the field each fills.
_CLAUSES = {
    "started": "started",
    "start": "started",
    "impact": "started",
    "detected": "detected",
    "declared": "declared",
    "mitigated": "mitigated",
    "resolved": "resolved",
}
_CLAUSE = re.compile(r"^(?P<word>[a-z]+)(?:\s+at)?\s+(?P<time>.+)$", re.IGNORECASE | re.DOTALL)
# The order the moments must come in, with their names in refusals.
_ORDER = (
    ("started", "detected"),
    ("detected", "declared"),
    ("started", "mitigated"),
    ("mitigated", "resolved"),
    ("started", "resolved"),
)
NAMES = {
    "started": "the impact start",
    "detected": "the detection",
    "declared": "the declaration",
    "mitigated": "the mitigation",
    "resolved": "the resolution",
}


@dataclass(frozen=True)
class PastIncident:
    """What someone said of an incident that is over; moments are aware UTC."""

    title: str
    started: datetime
    resolved: datetime
    detected: datetime | None = None
    mitigated: datetime | None = None
    declared: datetime | None = None
    severity: Severity = DEFAULT_SEVERITY

    def moments(self) -> dict[str, datetime]:
        found = {
            "started": self.started,
            "detected": self.detected,
            "declared": self.declared,
            "mitigated": self.mitigated,
            "resolved": self.resolved,
        }
        return {name: moment for name, moment in found.items() if moment is not None}


def parse_past_incident(text: str, *, now: datetime, zone: str) -> PastIncident:
    """Reads ``<title>; started <time>; …; resolved <time>[; sev N]`` (``at`` optional)."""
    title, *clauses = [part.strip() for part in text.split(";")]
    if not title or not clauses:
        raise IncidentError(f"Say what happened and when: {USAGE}")
    found: dict[str, datetime] = {}
    severity = DEFAULT_SEVERITY
    for clause in clauses:
        if not clause:
            continue
        match = _CLAUSE.match(clause)
        word = (match["word"].lower() if match else clause.split()[0].lower())[:20]
        if match and word in ("sev", "severity"):
            severity = parse_severity(match["time"])
            continue
        if match is None or word not in _CLAUSES:
            raise IncidentError(
                f"I don't know “{clip(clause, 40)}”. Each part after the title is "
                f"`started`, `detected`, `mitigated` or `resolved` with a time, or `sev <1-4>`. "
                f"{USAGE}"
            )
        moment, rest = parse_moment(match["time"], now=now, default_zone=zone)
        if rest:
            raise IncidentError(
                f"I read the {word} time but not “{clip(rest, 40)}”. Give each time as "
                "`2026-11-20 14:05 UTC` (a date, a time and optionally a zone)."
            )
        found[_CLAUSES[word]] = moment
    if "resolved" not in found:
        raise IncidentError(
            "Record after the fact is for incidents that are over: add `; resolved <time>`. "
            "For one still going on, `/incident declare <title>` and then "
            "`/incident started at <time>`."
        )
    if "started" not in found:
        raise IncidentError(f"Say when the impact started: `; started <time>`. {USAGE}")
    past = PastIncident(title=clean_title(title), severity=severity, **found)
    check_past_order(past, zone=zone)
    return past


def check_past_order(past: PastIncident, *, zone: str) -> None:
    """Refuse moments the wrong way round, naming both."""
    moments = past.moments()
    if "declared" not in moments:
        moments["declared"] = moments.get("detected", past.started)
    for earlier, later in _ORDER:
        if earlier in moments and later in moments and moments[earlier] > moments[later]:
            raise IncidentError(
                f"{NAMES[later].capitalize()} ({format_moment(moments[later], zone)}) would "
                f"come before {NAMES[earlier]} ({format_moment(moments[earlier], zone)}). "
                "Check the two times; nothing was recorded."
            )


def record_past_incident(
    *,
    uow: UnitOfWork,
    past: PastIncident,
    recorded_by: str,
    zone: str = "UTC",
    summary: str | None = None,
    private: bool = False,
    request_key: str | None = None,
    reply_to: str | None = None,
    lead: str | None = None,
) -> Incident:
    """Record an incident that is over, at the moments it had; ``lead`` (by default
    ``recorded_by``) led it from its declaration."""
    check_past_order(past, zone=zone)
    declared_at = past.declared or past.detected or past.started
    incident = declare_incident(
        uow=uow,
        title=past.title,
        declared_by=recorded_by,
        severity=past.severity,
        summary=summary,
        private=private,
        request_key=request_key,
        reply_to=reply_to,
        lead=lead,
        declared_at=declared_at,
        after_the_fact=True,
    )
    if incident.after_the_fact is False or incident.resolved_at is not None:
        return incident  # the same request again: recorded already
    for kind, moment in (
        (EntryKind.IMPACT_START, past.started),
        (EntryKind.DETECTED, past.detected),
        (EntryKind.MITIGATED, past.mitigated),
    ):
        if moment is not None:
            set_milestone(
                uow=uow, incident=incident, kind=kind, moment=moment, set_by=recorded_by, zone=zone
            )
    change_status(
        uow=uow,
        incident=incident,
        status=Status.RESOLVED,
        changed_by=recorded_by,
        at=past.resolved,
        zone=zone,
    )
    return incident
