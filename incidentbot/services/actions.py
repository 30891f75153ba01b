"""Action items: the follow-ups that make the next incident less likely or less bad."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from incidentbot import jobs
from incidentbot.models import ActionItem, ActionStatus, EntryKind, Incident
from incidentbot.services.timeline import clean_text, record
from incidentbot.timeparse import parse_date
from incidentbot.uow import UnitOfWork


def add_action_item(
    *,
    uow: UnitOfWork,
    incident: Incident,
    created_by: str,
    text: str,
    owner_id: str | None = None,
    due_text: str | None = None,
    author_zone: str = "UTC",
) -> ActionItem:
    """File a follow-up; allowed after close too, since postmortem reviews produce them."""
    text = clean_text(text, what="action item", example="/incident action Alert on 5xx rate @bob")
    now = uow.now()
    due = None
    if due_text:
        today = datetime.astimezone(now, ZoneInfo(author_zone)).date()
        due = parse_date(due_text, today=today)
    item = ActionItem(
        text=text,
        owner_id=owner_id,
        due_date=due,
        status=ActionStatus.OPEN,
        created_by=created_by,
        created_at=now,
    )
    incident.action_items.append(item)
    uow.session.flush()
    entry = record(
        uow=uow,
        incident=incident,
        kind=EntryKind.ACTION,
        author_id=created_by,
        text=f"Action item: {text}",
        details={
            "action_item_id": item.id,
            "owner": owner_id,
            "due": due.isoformat() if due else None,
        },
    )
    uow.enqueue(jobs.ECHO_ENTRY, incident=incident, entry_id=entry.id)
    return item
