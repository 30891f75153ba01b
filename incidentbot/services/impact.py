"""When the impact started: the moment every duration metric is measured from.

It defaults to the declaration. Someone can set it (``/incident started at 14:05``), and a
backdated note from before it prompts the responders to confirm that the impact began then.
"""

from __future__ import annotations

from datetime import datetime

from incidentbot import jobs
from incidentbot.errors import IncidentError
from incidentbot.models import EntryKind, Incident, TimelineEntry
from incidentbot.policy import DEFAULT_POLICY, Action, Policy
from incidentbot.services.timeline import record
from incidentbot.timeparse import format_moment, parse_moment
from incidentbot.uow import UnitOfWork


def set_impact_start(
    *,
    uow: UnitOfWork,
    incident: Incident,
    moment: datetime,
    set_by: str,
    zone: str = "UTC",
    policy: Policy = DEFAULT_POLICY,
) -> TimelineEntry:
    """Move the impact start; allowed after close too, since reviews correct it."""
    policy.check(incident, set_by, Action.STATUS)
    if moment > uow.now():
        raise IncidentError("The impact cannot start in the future.")
    ends = incident.mitigated_at or incident.resolved_at
    if ends is not None and moment > ends:
        raise IncidentError(
            f"That is after the impact ended ({format_moment(ends, zone)}); the impact start "
            "must come before the mitigation."
        )
    before = incident.impact_started_at
    if moment == before:
        raise IncidentError(f"The impact start is already {format_moment(moment, zone)}.")
    incident.impact_started_at = moment
    entry = record(
        uow=uow,
        incident=incident,
        kind=EntryKind.IMPACT_START,
        author_id=set_by,
        text=f"Impact start set to {format_moment(moment, 'UTC')} "
        f"(was {format_moment(before, 'UTC')})",
        details={"from": before.isoformat(), "to": moment.isoformat()},
    )
    uow.enqueue(jobs.REFRESH_SUMMARY, incident=incident)
    return entry


def set_impact_start_at(
    *,
    uow: UnitOfWork,
    incident: Incident,
    moment_text: str,
    set_by: str,
    author_zone: str,
    policy: Policy = DEFAULT_POLICY,
) -> TimelineEntry:
    """``/incident started at <time>``: the same time grammar as backdated notes."""
    moment, rest = parse_moment(moment_text, now=uow.now(), default_zone=author_zone)
    if rest:
        raise IncidentError(
            f"I read the time but not “{rest[:60]}”. Use `/incident started at 14:05`, "
            "optionally with a date and a zone."
        )
    return set_impact_start(
        uow=uow, incident=incident, moment=moment, set_by=set_by, zone=author_zone, policy=policy
    )


def confirm_impact_start_from(
    *,
    uow: UnitOfWork,
    incident: Incident,
    entry_id: int,
    confirmed_by: str,
    policy: Policy = DEFAULT_POLICY,
) -> TimelineEntry:
    """A responder confirmed that the impact started when entry ``entry_id`` happened."""
    entry = uow.session.get(TimelineEntry, entry_id)
    if entry is None or entry.incident_id != incident.id:
        raise IncidentError("That timeline entry is not part of this incident any more.")
    if entry.occurred_at >= incident.impact_started_at:
        raise IncidentError(
            "The impact start is already at or before that entry; nothing to change."
        )
    return set_impact_start(
        uow=uow, incident=incident, moment=entry.occurred_at, set_by=confirmed_by, policy=policy
    )
