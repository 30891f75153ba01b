"""Slack's redeliveries: an event is handled once, whichever replica sees it first."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from incidentbot.domain.models import ProcessedEvent, table_of
from incidentbot.infra.uow import UnitOfWork

_TABLE = table_of(ProcessedEvent)
# One statement, no savepoint: both databases skip a row whose key is already there and then
# return nothing (another replica's claim, committed or not, makes this one wait for it).
_CLAIM = {
    "sqlite": sqlite.insert(_TABLE).on_conflict_do_nothing().returning(_TABLE.c.event_id),
    "postgresql": postgresql.insert(_TABLE).on_conflict_do_nothing().returning(_TABLE.c.event_id),
}


def claim_event(*, uow: UnitOfWork, event_id: str) -> bool:
    """True the first time ``event_id`` is seen; the claim commits with the work it guards."""
    dialect = uow.session.get_bind().dialect.name
    result = uow.session.execute(_CLAIM[dialect], {"event_id": event_id, "received_at": uow.now()})
    return result.first() is not None
