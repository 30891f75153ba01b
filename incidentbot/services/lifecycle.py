"""Severity and status: where an incident is in its life, and how bad it is."""

from __future__ import annotations

from datetime import datetime, timedelta

from incidentbot.domain.errors import IncidentError
from incidentbot.domain.milestones import severity_at, status_at
from incidentbot.domain.models import (
    EntryKind,
    Incident,
    ReminderKind,
    Severity,
    Status,
    TimelineEntry,
)
from incidentbot.domain.policy import DEFAULT_POLICY, Action, Policy
from incidentbot.domain.timeparse import format_moment
from incidentbot.infra import jobs
from incidentbot.infra.uow import UnitOfWork
from incidentbot.services.record import (
    lifecycle_of,
    refuse_before_impact,
    replay_of,
    settle,
    state_entries,
)
from incidentbot.services.reminders import incident_changed
from incidentbot.services.timeline import ensure_changeable_at, record


def change_severity(
    *,
    uow: UnitOfWork,
    incident: Incident,
    severity: Severity,
    changed_by: str,
    at: datetime | None = None,
    zone: str = "UTC",
    policy: Policy = DEFAULT_POLICY,
) -> TimelineEntry:
    """Change the severity now, or ``at`` the moment it changed (``sev 1 at 22:55``)."""
    ensure_changeable_at(incident, at, zone=zone)
    policy.check(incident, changed_by, Action.SEVERITY)
    moment = at or uow.now()
    entries = state_entries(uow=uow, incident=incident)
    before = replay_of(incident, entries)
    in_effect = severity_at(entries, moment, default=str(incident.severity))
    if in_effect == severity:
        then = "" if at is None else f" at {format_moment(moment, zone)}"
        raise IncidentError(f"INC-{incident.number} was already {severity}{then}.")
    if at is not None:
        refuse_before_impact(before, moment, what=f"Going to {severity}", zone=zone)
    entry = record(
        uow=uow,
        incident=incident,
        kind=EntryKind.SEVERITY,
        author_id=changed_by,
        text=f"Severity changed from {in_effect} to {severity}",
        occurred_at=at,
        details={"from": in_effect, "to": str(severity), **_backdated(at)},
    )
    settle(uow=uow, incident=incident, before=before, zone=zone)
    incident_changed(uow=uow, incident=incident)  # the update interval is the severity's
    uow.enqueue(jobs.ECHO_ENTRY, incident=incident, entry_id=entry.id)
    uow.enqueue(jobs.REFRESH_SUMMARY, incident=incident)
    return entry


def _backdated(at: datetime | None) -> dict[str, bool]:
    return {} if at is None else {"backdated": True}


_SETS = {Status.MONITORING: "mitigated_at", Status.RESOLVED: "resolved_at"}


def change_status(
    *,
    uow: UnitOfWork,
    incident: Incident,
    status: Status,
    changed_by: str,
    text: str | None = None,
    at: datetime | None = None,
    zone: str = "UTC",
    policy: Policy = DEFAULT_POLICY,
) -> TimelineEntry:
    """Move the lifecycle on (or back, when a fix did not hold), now or ``at`` a moment.

    Metrics use the latest mitigation and resolution, so moving back clears them.
    """
    ensure_changeable_at(incident, at, zone=zone)
    policy.check(incident, changed_by, Action.STATUS)
    if status == Status.CLOSED:
        raise IncidentError("To close the incident, use `/incident close`.")
    moment = at or uow.now()
    entries = state_entries(uow=uow, incident=incident)
    before = replay_of(incident, entries)
    in_effect = str(incident.status) if at is None else status_at(entries, moment)
    if in_effect == status:
        then = "" if at is None else f" at {format_moment(moment, zone)}"
        raise IncidentError(f"INC-{incident.number} was already {status}{then}.")
    if at is not None:
        refuse_before_impact(before, moment, what=f"Moving to {status}", zone=zone)
    typed = text.strip() if text and text.strip() else None
    message = f"Status changed from {in_effect} to {status}"
    if typed:
        message += f": {typed}"
    entry = record(
        uow=uow,
        incident=incident,
        kind=EntryKind.STATUS,
        author_id=changed_by,
        text=message,
        occurred_at=at,
        # What the person typed, on its own: the blameless review reads it, not the sentence.
        details={"from": in_effect, "to": str(status), "text": typed, **_backdated(at)},
    )
    after = settle(uow=uow, incident=incident, before=before, zone=zone, changing=_SETS.get(status))
    # Back from resolved, stakeholders are owed news again: counted from now, not from the
    # last update before the resolution.
    reopened = before.status == Status.RESOLVED and after.status != Status.RESOLVED
    incident_changed(uow=uow, incident=incident, restart=[ReminderKind.UPDATE] if reopened else [])
    uow.enqueue(jobs.ECHO_ENTRY, incident=incident, entry_id=entry.id)
    uow.enqueue(jobs.REFRESH_SUMMARY, incident=incident)
    return entry


def resolve(
    *,
    uow: UnitOfWork,
    incident: Incident,
    resolved_by: str,
    text: str | None,
    at: datetime | None = None,
    zone: str = "UTC",
    policy: Policy = DEFAULT_POLICY,
) -> TimelineEntry:
    return change_status(
        uow=uow,
        incident=incident,
        status=Status.RESOLVED,
        changed_by=resolved_by,
        text=text,
        at=at,
        zone=zone,
        policy=policy,
    )


def close(
    *,
    uow: UnitOfWork,
    incident: Incident,
    closed_by: str,
    reply_to: str | None = None,
    policy: Policy = DEFAULT_POLICY,
    archive_after: timedelta | None = None,
) -> None:
    """Close; an incident closed without being resolved counts as resolved now.

    With ``archive_after``, its channel is archived that long after, unless it is reopened
    meanwhile.
    """
    if incident.status == Status.CLOSED:
        raise IncidentError(
            f"INC-{incident.number} is already closed. `/incident postmortem` regenerates the "
            "postmortem; `/incident reopen` reopens it."
        )
    policy.check(incident, closed_by, Action.CLOSE)
    lifecycle = lifecycle_of(uow=uow, incident=incident)
    before = incident.status
    entry = record(
        uow=uow,
        incident=incident,
        kind=EntryKind.STATUS,
        author_id=closed_by,
        text=f"Incident closed (was {before})",
        details={"from": str(before), "to": str(Status.CLOSED)},
    )
    settle(uow=uow, incident=incident, before=lifecycle)
    # The postmortem's business days count from this close (the latest, if it was reopened).
    incident_changed(uow=uow, incident=incident, restart=[ReminderKind.POSTMORTEM])
    # The postmortem first: it is what people wait for, and an incident's jobs run in order,
    # so queued behind the echo (and its gather window) and the summary it would wait for both.
    request_postmortem(
        uow=uow, incident=incident, requested_by=closed_by, trigger="close", reply_to=reply_to
    )
    uow.enqueue(jobs.ECHO_ENTRY, incident=incident, entry_id=entry.id)
    uow.enqueue(jobs.REFRESH_SUMMARY, incident=incident)
    if archive_after is not None:
        # Queued without the incident: its jobs run strictly in order, and one due days from
        # now would hold back everything queued for it meanwhile. The reopen count tells the
        # job whether this close still stands when it runs.
        uow.enqueue(
            jobs.ARCHIVE_CHANNEL,
            delay=archive_after,
            incident_id=incident.id,
            reopened_count=incident.reopened_count,
        )


def request_postmortem(
    *,
    uow: UnitOfWork,
    incident: Incident,
    requested_by: str | None,
    trigger: str,
    reply_to: str | None = None,
) -> None:
    """Queue generating (and uploading) the next postmortem version; ``reply_to`` hears back."""
    uow.enqueue(
        jobs.GENERATE_POSTMORTEM,
        incident=incident,
        requested_by=requested_by,
        trigger=trigger,
        reply_to=reply_to,
    )


def reopen(
    *, uow: UnitOfWork, incident: Incident, reopened_by: str, policy: Policy = DEFAULT_POLICY
) -> None:
    if incident.status not in (Status.RESOLVED, Status.CLOSED):
        raise IncidentError(
            f"INC-{incident.number} is still open ({incident.status}); there is nothing to reopen."
        )
    policy.check(incident, reopened_by, Action.REOPEN)
    lifecycle = lifecycle_of(uow=uow, incident=incident)
    before = incident.status
    entry = record(
        uow=uow,
        incident=incident,
        kind=EntryKind.STATUS,
        author_id=reopened_by,
        text=f"Incident reopened (was {before})",
        details={"from": str(before), "to": str(Status.INVESTIGATING), "reopened": True},
    )
    settle(uow=uow, incident=incident, before=lifecycle)
    incident_changed(uow=uow, incident=incident, restart=[ReminderKind.UPDATE])
    uow.enqueue(jobs.ECHO_ENTRY, incident=incident, entry_id=entry.id)
    uow.enqueue(jobs.REFRESH_SUMMARY, incident=incident)
