"""Declaring incidents and finding them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from incidentbot.domain.errors import IncidentError, IncidentNotFound, NotInIncidentChannel
from incidentbot.domain.models import (
    Counter,
    EntryKind,
    Incident,
    RoleAssignment,
    Severity,
    Status,
    TimelineEntry,
)
from incidentbot.infra import jobs
from incidentbot.infra.uow import UnitOfWork
from incidentbot.services.membership import add_member, visible_to
from incidentbot.services.reminders import arm_incident

MAX_TITLE = 300
DEFAULT_SEVERITY = Severity.SEV3


def _next_number(uow: UnitOfWork) -> int:
    """Atomically take the next incident number (the counter row is locked until commit)."""
    return uow.session.execute(
        update(Counter)
        .where(Counter.name == "incident")
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    ).scalar_one()


def clean_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise IncidentError(
            "An incident needs a title: `/incident declare Checkout API returning 500s`, or "
            "`/incident declare` alone to fill in a form."
        )
    if len(title) > MAX_TITLE:
        raise IncidentError(
            f"That title is {len(title)} characters long; keep it under {MAX_TITLE} and put the "
            "detail in `/incident summary`."
        )
    return title


def declare_incident(
    *,
    uow: UnitOfWork,
    title: str,
    declared_by: str,
    severity: Severity = DEFAULT_SEVERITY,
    summary: str | None = None,
    private: bool = False,
    lead: str | None = None,
    request_key: str | None = None,
    reply_to: str | None = None,
    without_lead: bool = False,
    declared_at: datetime | None = None,
    after_the_fact: bool = False,
) -> Incident:
    """Record a new incident with its lead and queue opening its channel.

    With a ``request_key`` the same request declares once however often it arrives;
    ``reply_to`` is where to tell the declarer that the channel is ready. ``without_lead``:
    nobody leads until a person takes the role (the bot declared it for an alert).
    ``declared_at`` and ``after_the_fact`` are for an incident entered once it was over
    (``services.record_past_incident``): declared then, and nobody is nudged for the past.
    """
    title = clean_title(title)
    if request_key is not None:
        existing = uow.session.scalar(select(Incident).where(Incident.request_key == request_key))
        if existing is not None:
            return existing
    recorded = uow.now()
    now = declared_at or recorded
    savepoint = uow.session.begin_nested()
    incident = Incident(
        number=_next_number(uow),
        title=title,
        severity=severity,
        status=Status.INVESTIGATING,
        private=private,
        summary=summary.strip() if summary and summary.strip() else None,
        declared_by=declared_by,
        request_key=request_key,
        declared_at=now,
        impact_started_at=now,
        reopened_count=0,
        after_the_fact=after_the_fact,
        last_entry_number=1,  # the declaration, added below
    )
    uow.session.add(incident)
    try:
        uow.session.flush()
    except IntegrityError:
        savepoint.rollback()
        existing = uow.session.scalar(select(Incident).where(Incident.request_key == request_key))
        if existing is None:
            raise
        return existing
    savepoint.commit()
    lead = None if without_lead else lead or declared_by
    for member in {person for person in (declared_by, lead) if person is not None}:
        # They are invited as the channel opens; until then they may already see it.
        add_member(uow=uow, incident_id=incident.id, user_id=member)
    if lead is not None:
        incident.roles.append(
            RoleAssignment(role="lead", user_id=lead, assigned_by=declared_by, started_at=now)
        )
    details: dict[str, object] = {"severity": str(severity), "status": str(Status.INVESTIGATING)}
    if after_the_fact:
        details["after_the_fact"] = True
    incident.timeline.append(
        TimelineEntry(
            number=1,
            occurred_at=now,
            recorded_at=recorded,
            kind=EntryKind.DECLARED,
            author_id=declared_by,
            text=(
                f"Incident declared: {title}"
                if not after_the_fact
                else f"Incident recorded after the fact: {title}"
            ),
            details=details,
            also_marked_by=[],
        )
    )
    uow.session.flush()
    # One recorded after the fact is resolved at once, and its live nudges never come due.
    arm_incident(uow=uow, incident=incident)
    uow.enqueue(jobs.OPEN_CHANNEL, incident=incident, reply_to=reply_to)
    return incident


def retry_unopened(*, uow: UnitOfWork, title: str, declared_by: str) -> Incident | None:
    """The same person declaring the same title again, while its channel is still missing, is
    a retry: no second incident, and opening its channel is tried again now."""
    title = clean_title(title)
    waiting = uow.session.scalar(
        select(Incident)
        .where(
            Incident.declared_by == declared_by,
            Incident.title == title,
            Incident.channel_id.is_(None),
            Incident.status != Status.CLOSED,
        )
        .order_by(Incident.id.desc())
        .limit(1)
    )
    if waiting is None:
        return None
    if jobs.rearm(uow.session, incident_id=waiting.id, kind=jobs.OPEN_CHANNEL, now=uow.now()):
        uow.mark_jobs_queued()
    return waiting


def incident_in_channel(*, uow: UnitOfWork, channel_id: str) -> Incident:
    incident = uow.session.scalar(select(Incident).where(Incident.channel_id == channel_id))
    if incident is None:
        raise NotInIncidentChannel(
            "This command works inside an incident's channel. Use `/incident list` to see open "
            "incidents and their channels, or `/incident declare <title>` to start one."
        )
    return incident


def get_incident(*, uow: UnitOfWork, number: int) -> Incident:
    incident = uow.session.scalar(select(Incident).where(Incident.number == number))
    if incident is None:
        raise IncidentNotFound(f"There is no incident number {number}.")
    return incident


def open_incidents(*, uow: UnitOfWork, viewer: str | None) -> Sequence[Incident]:
    """Open (not closed) incidents ``viewer`` may see, most severe first, then newest."""
    stmt = select(Incident).where(Incident.status != Status.CLOSED, visible_to(viewer))
    stmt = stmt.order_by(Incident.severity, Incident.number.desc())
    return uow.session.scalars(stmt).all()
