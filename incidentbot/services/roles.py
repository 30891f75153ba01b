"""Who leads, who talks to stakeholders, who writes things down; and since when."""

from __future__ import annotations

from incidentbot.domain.errors import IncidentError
from incidentbot.domain.models import EntryKind, Incident, RoleAssignment
from incidentbot.domain.policy import DEFAULT_POLICY, Action, Policy
from incidentbot.infra import jobs
from incidentbot.infra.uow import UnitOfWork
from incidentbot.services.reminders import incident_changed
from incidentbot.services.timeline import ensure_changeable, record


def assign_role(
    *,
    uow: UnitOfWork,
    incident: Incident,
    role: str,
    user_id: str,
    assigned_by: str,
    policy: Policy = DEFAULT_POLICY,
) -> RoleAssignment:
    """Hand ``role`` to ``user_id``; the previous holder's assignment ends now."""
    ensure_changeable(incident)
    policy.check(incident, assigned_by, Action.ROLES)
    if incident.holder(role) == user_id:
        raise IncidentError(f"<@{user_id}> is already the {role} of INC-{incident.number}.")
    now = uow.now()
    previous = None
    for assignment in incident.roles:
        if assignment.role == role and assignment.ended_at is None:
            assignment.ended_at = now
            previous = assignment.user_id
    assignment = RoleAssignment(role=role, user_id=user_id, assigned_by=assigned_by, started_at=now)
    incident.roles.append(assignment)
    text = f"<@{user_id}> is now {role}"
    if previous:
        text += f" (taking over from <@{previous}>)"
    entry = record(
        uow=uow,
        incident=incident,
        kind=EntryKind.ROLE,
        author_id=assigned_by,
        text=text,
        details={"role": role, "to": user_id, "from": previous},
    )
    uow.enqueue(
        jobs.INVITE, incident=incident, user_id=user_id, role=role, requested_by=assigned_by
    )
    uow.enqueue(jobs.ECHO_ENTRY, incident=incident, entry_id=entry.id)
    uow.enqueue(jobs.REFRESH_SUMMARY, incident=incident)
    if role == "lead":
        # Reminders go to the lead, and nobody leading is itself reminded of.
        incident_changed(uow=uow, incident=incident)
    return assignment
