"""Incident statistics over a recent window, as ``/incident stats`` shows them to one person."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from incidentbot.domain import insights
from incidentbot.domain.errors import IncidentError
from incidentbot.domain.models import Incident
from incidentbot.infra.uow import UnitOfWork
from incidentbot.services.membership import visible_to
from incidentbot.services.timeline import metric_timelines

DEFAULT_WINDOW_DAYS = 30
# A year covers any review cycle; beyond that the incidents and the team are not the same.
MAX_WINDOW_DAYS = 365
_WINDOW = re.compile(r"(?P<days>\d{1,6})\s*(?:d|days?)?", flags=re.IGNORECASE)


def parse_window(text: str) -> int:
    """``30d``, ``90d``, ``7 days``, ``14``: a number of days from 1 to 365; 30 when empty."""
    words = text.strip()
    if not words:
        return DEFAULT_WINDOW_DAYS
    match = _WINDOW.fullmatch(words)
    if match and 1 <= int(match.group("days")) <= MAX_WINDOW_DAYS:
        return int(match.group("days"))
    shown = words if len(words) <= 20 else words[:20] + "…"
    raise IncidentError(
        f"I can't count over “{shown}”. Give a number of days from 1 to {MAX_WINDOW_DAYS}: "
        f"`/incident stats 30d` (the default), `/incident stats 90d`, `/incident stats 7d`."
    )


def incidents_declared(
    *,
    uow: UnitOfWork,
    user_id: str | None,
    since: datetime,
    until: datetime,
    number: int | None = None,
) -> Sequence[Incident]:
    """The incidents declared from ``since`` to ``until`` that ``user_id`` may see (or
    incident ``number`` alone, for its own link), found by the declaration's index: a window's
    cost follows what it holds, not how long the history is. Their roles and timelines are not
    loaded; what metrics read of the timelines is ``metric_timelines``'s."""
    where = [Incident.declared_at >= since, Incident.declared_at <= until]
    where.append(Incident.number == number if number is not None else visible_to(user_id))
    return uow.session.scalars(select(Incident).where(*where)).all()


def incident_stats(*, uow: UnitOfWork, viewer: str, days: int) -> insights.SpeedReport:
    """Incidents declared in the last ``days`` days and how fast they were handled.

    Private incidents count only for people in their channel, as on the web pages: even a
    number can say more than its members meant to share.
    """
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise IncidentError(f"Statistics cover 1 to {MAX_WINDOW_DAYS} days.")
    now = uow.now()
    since = now - timedelta(days=days)
    incidents = incidents_declared(uow=uow, user_id=viewer, since=since, until=now)
    timelines = metric_timelines(uow=uow, incident_ids=[incident.id for incident in incidents])
    return insights.speed_report(incidents, now=now, days=days, timelines=timelines)
