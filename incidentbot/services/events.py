"""Slack's redeliveries: an event is handled once, whichever replica sees it first."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from incidentbot.models import ProcessedEvent
from incidentbot.uow import UnitOfWork


def claim_event(*, uow: UnitOfWork, event_id: str) -> bool:
    """True the first time ``event_id`` is seen; the claim commits with the work it guards."""
    if uow.session.get(ProcessedEvent, event_id) is not None:
        return False
    savepoint = uow.session.begin_nested()
    uow.session.add(ProcessedEvent(event_id=event_id, received_at=uow.now()))
    try:
        uow.session.flush()
    except IntegrityError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True
