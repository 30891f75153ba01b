"""Action items: the follow-ups that make the next incident less likely or less bad."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from incidentbot.domain.errors import IncidentError
from incidentbot.domain.models import ActionItem, ActionKind, ActionStatus, EntryKind, Incident
from incidentbot.domain.policy import DEFAULT_POLICY, Action, Policy
from incidentbot.domain.text import clip
from incidentbot.domain.timeparse import parse_date
from incidentbot.infra import jobs
from incidentbot.infra.uow import UnitOfWork
from incidentbot.services.reminders import action_item_changed
from incidentbot.services.timeline import clean_text, record


def add_action_item(
    *,
    uow: UnitOfWork,
    incident: Incident,
    created_by: str,
    text: str,
    owner_id: str | None = None,
    due_text: str | None = None,
    author_zone: str = "UTC",
    policy: Policy = DEFAULT_POLICY,
) -> ActionItem:
    """File a follow-up; allowed after close too, since postmortem reviews produce them."""
    policy.check(incident, created_by, Action.NOTES)
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
    if due is not None:
        action_item_changed(uow=uow, incident=incident, item=item, restart=True)
    return item


def update_action_item(
    *,
    uow: UnitOfWork,
    incident: Incident,
    number: int,
    updated_by: str,
    kind: str | None = None,
    tracking_url: str | None = None,
    status: str | None = None,
    due_text: str | None = None,
    author_zone: str = "UTC",
    policy: Policy = DEFAULT_POLICY,
) -> ActionItem:
    """Fill in an item's type, tracking link or due date, or mark it done (or open again).

    ``number`` is the item's position in the incident, as the postmortem numbers them.
    """
    policy.check(incident, updated_by, Action.NOTES)
    if not 1 <= number <= len(incident.action_items):
        raise IncidentError(
            f"INC-{incident.number} has no action item {number}"
            + (f"; it has {len(incident.action_items)}." if incident.action_items else ".")
        )
    item = incident.action_items[number - 1]
    changes = []
    if kind is not None:
        try:
            item.kind = ActionKind(kind.strip().lower())
        except ValueError:
            raise IncidentError(
                f"“{kind[:30]}” is not an action item type. Types: "
                f"{', '.join(k.value for k in ActionKind)}."
            ) from None
        changes.append(f"type {item.kind}")
    if tracking_url is not None:
        url = tracking_url.strip().strip("<>").split("|")[0]
        if not re.fullmatch(r"https?://\S+", url) or len(url) > 500:
            raise IncidentError("A tracking link is a web address, such as https://jira/INC-42.")
        item.tracking_url = url
        changes.append("tracking link")
    if status is not None:
        item.status = ActionStatus(status)
        changes.append(str(item.status))
    due_changed = False
    if due_text is not None:
        today = datetime.astimezone(uow.now(), ZoneInfo(author_zone)).date()
        due = parse_date(due_text, today=today)
        due_changed = due != item.due_date
        item.due_date = due
        changes.append(f"due {due.isoformat()}")
    record(
        uow=uow,
        incident=incident,
        kind=EntryKind.ACTION,
        author_id=updated_by,
        text=f"Action item {number} ({clip(item.text, 80)}): {', '.join(changes)}",
        details={"action_item_id": item.id, "changes": changes},
    )
    if item.due_date is not None and (status is not None or due_changed):
        # Done: no reminder; a new due date is reminded of anew.
        action_item_changed(uow=uow, incident=incident, item=item, restart=due_changed)
    return item
