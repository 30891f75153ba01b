"""Severity and status: where an incident is in its life, and how bad it is."""

from __future__ import annotations

from datetime import timedelta

from incidentbot import jobs
from incidentbot.errors import IncidentError
from incidentbot.models import EntryKind, Incident, ReminderKind, Severity, Status
from incidentbot.policy import DEFAULT_POLICY, Action, Policy
from incidentbot.services.reminders import incident_changed
from incidentbot.services.timeline import ensure_changeable, record
from incidentbot.uow import UnitOfWork


def change_severity(
    *,
    uow: UnitOfWork,
    incident: Incident,
    severity: Severity,
    changed_by: str,
    policy: Policy = DEFAULT_POLICY,
) -> None:
    ensure_changeable(incident)
    policy.check(incident, changed_by, Action.SEVERITY)
    if incident.severity == severity:
        raise IncidentError(f"INC-{incident.number} is already {severity}.")
    before = incident.severity
    incident.severity = severity
    entry = record(
        uow=uow,
        incident=incident,
        kind=EntryKind.SEVERITY,
        author_id=changed_by,
        text=f"Severity changed from {before} to {severity}",
        details={"from": str(before), "to": str(severity)},
    )
    incident_changed(uow=uow, incident=incident)  # the update interval is the severity's
    uow.enqueue(jobs.ECHO_ENTRY, incident=incident, entry_id=entry.id)
    uow.enqueue(jobs.REFRESH_SUMMARY, incident=incident)


def change_status(
    *,
    uow: UnitOfWork,
    incident: Incident,
    status: Status,
    changed_by: str,
    text: str | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> None:
    """Move the lifecycle on (or back, when a fix did not hold).

    Metrics use the latest mitigation and resolution, so moving back clears them.
    """
    ensure_changeable(incident)
    policy.check(incident, changed_by, Action.STATUS)
    if status == Status.CLOSED:
        raise IncidentError("To close the incident, use `/incident close`.")
    if incident.status == status:
        raise IncidentError(f"INC-{incident.number} is already {status}.")
    now = uow.now()
    before = incident.status
    incident.status = status
    if status in (Status.INVESTIGATING, Status.IDENTIFIED):
        incident.mitigated_at = None
        incident.resolved_at = None
    elif status == Status.MONITORING:
        incident.mitigated_at = now
        incident.resolved_at = None
    elif status == Status.RESOLVED:
        incident.mitigated_at = incident.mitigated_at or now
        incident.resolved_at = now
    message = f"Status changed from {before} to {status}"
    if text and text.strip():
        message += f": {text.strip()}"
    entry = record(
        uow=uow,
        incident=incident,
        kind=EntryKind.STATUS,
        author_id=changed_by,
        text=message,
        details={"from": str(before), "to": str(status)},
    )
    # Back from resolved, stakeholders are owed news again: counted from now, not from the
    # last update before the resolution.
    incident_changed(
        uow=uow,
        incident=incident,
        restart=[ReminderKind.UPDATE] if before == Status.RESOLVED else [],
    )
    uow.enqueue(jobs.ECHO_ENTRY, incident=incident, entry_id=entry.id)
    uow.enqueue(jobs.REFRESH_SUMMARY, incident=incident)


def resolve(
    *,
    uow: UnitOfWork,
    incident: Incident,
    resolved_by: str,
    text: str | None,
    policy: Policy = DEFAULT_POLICY,
) -> None:
    change_status(
        uow=uow,
        incident=incident,
        status=Status.RESOLVED,
        changed_by=resolved_by,
        text=text,
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
    now = uow.now()
    before = incident.status
    incident.mitigated_at = incident.mitigated_at or now
    incident.resolved_at = incident.resolved_at or now
    incident.closed_at = now
    incident.status = Status.CLOSED
    entry = record(
        uow=uow,
        incident=incident,
        kind=EntryKind.STATUS,
        author_id=closed_by,
        text=f"Incident closed (was {before})",
        details={"from": str(before), "to": str(Status.CLOSED)},
    )
    # The postmortem's business days count from this close (the latest, if it was reopened).
    incident_changed(uow=uow, incident=incident, restart=[ReminderKind.POSTMORTEM])
    uow.enqueue(jobs.ECHO_ENTRY, incident=incident, entry_id=entry.id)
    uow.enqueue(jobs.REFRESH_SUMMARY, incident=incident)
    request_postmortem(
        uow=uow, incident=incident, requested_by=closed_by, trigger="close", reply_to=reply_to
    )
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
    before = incident.status
    incident.status = Status.INVESTIGATING
    incident.mitigated_at = None
    incident.resolved_at = None
    incident.closed_at = None
    incident.reopened_count += 1
    entry = record(
        uow=uow,
        incident=incident,
        kind=EntryKind.STATUS,
        author_id=reopened_by,
        text=f"Incident reopened (was {before})",
        details={"from": str(before), "to": str(Status.INVESTIGATING), "reopened": True},
    )
    incident_changed(uow=uow, incident=incident, restart=[ReminderKind.UPDATE])
    uow.enqueue(jobs.ECHO_ENTRY, incident=incident, entry_id=entry.id)
    uow.enqueue(jobs.REFRESH_SUMMARY, incident=incident)
