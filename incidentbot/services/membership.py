"""Who is in an incident's channel, as far as we know: it decides who sees private incidents."""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, delete, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from incidentbot.domain.models import Incident, Member, Status
from incidentbot.infra.uow import UnitOfWork
from incidentbot.services.paging import Page, page_of


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


PER_PAGE = 50


def incident_page(
    *,
    uow: UnitOfWork,
    user_id: str | None,
    page: int = 1,
    per_page: int = PER_PAGE,
    title_contains: str = "",
    status: str = "",
    severity: str = "",
    number: int | None = None,
) -> Page[Incident]:
    """Page ``page`` (from 1; past the end, the last) of the incidents ``user_id`` may see that
    match the filters, open ones first, newest first: the database filters, counts and pages,
    so a page costs the same whatever the history holds. ``number``: that incident alone (an
    incident's own link, which shows it even if it is private)."""
    where: list[ColumnElement[bool]] = []
    if number is not None:
        where.append(Incident.number == number)
    else:
        where.append(visible_to(user_id))
    if title_contains:
        escaped = re.sub(r"([\\%_])", r"\\\1", title_contains)
        where.append(Incident.title.ilike(f"%{escaped}%", escape="\\"))
    if status:
        where.append(Incident.status == status)
    if severity:
        where.append(Incident.severity == severity)
    query = (
        select(Incident)
        .where(*where)
        .options(selectinload(Incident.roles))
        .order_by(Incident.status == Status.CLOSED, Incident.number.desc())
    )
    return page_of(uow.session, query, page=page, per_page=per_page)
