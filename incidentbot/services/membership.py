"""Who is in an incident's channel, as far as we know: it decides who sees private incidents."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, delete, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from incidentbot.domain.models import Incident, Member, Status
from incidentbot.infra.uow import UnitOfWork


def add_member(*, uow: UnitOfWork, incident_id: int, user_id: str) -> None:
    if is_member(uow=uow, incident_id=incident_id, user_id=user_id):
        return
    savepoint = uow.session.begin_nested()
    uow.session.add(Member(incident_id=incident_id, user_id=user_id, since=uow.now()))
    try:
        uow.session.flush()
    except IntegrityError:
        savepoint.rollback()  # recorded meanwhile by another delivery of the same join
    else:
        savepoint.commit()


def remove_member(*, uow: UnitOfWork, incident_id: int, user_id: str) -> None:
    uow.session.execute(
        delete(Member).where(Member.incident_id == incident_id, Member.user_id == user_id)
    )


def is_member(*, uow: UnitOfWork, incident_id: int, user_id: str) -> bool:
    return (
        uow.session.scalar(
            select(Member.id).where(Member.incident_id == incident_id, Member.user_id == user_id)
        )
        is not None
    )


def can_see(*, uow: UnitOfWork, incident: Incident, user_id: str | None) -> bool:
    """Public incidents are for everyone; private ones for their channel's members."""
    if not incident.private:
        return True
    return user_id is not None and is_member(uow=uow, incident_id=incident.id, user_id=user_id)


def visible_to(user_id: str | None) -> ColumnElement[bool]:
    """A filter for incidents ``user_id`` may see."""
    member = exists().where(Member.incident_id == Incident.id, Member.user_id == user_id)
    return or_(Incident.private.is_(False), member) if user_id else Incident.private.is_(False)


def incidents_visible_to(*, uow: UnitOfWork, user_id: str | None) -> Sequence[Incident]:
    """Every incident ``user_id`` may see, open ones first, newest first."""
    incidents = uow.session.scalars(
        select(Incident)
        .where(visible_to(user_id))
        .options(selectinload(Incident.roles))
        .order_by(Incident.number.desc())
    ).all()
    return sorted(incidents, key=lambda i: i.status == Status.CLOSED)
