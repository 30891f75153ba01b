"""Reminders: nudges that come due later, stored so that restarts and replicas lose or repeat none.

One row per incident and kind (per action item for action item reminders). The services that
change an incident call ``incident_changed`` (or ``action_item_changed``) in their unit of work:
it records what restarts a count (an update posted, a reopening, the close, a new due date) and
makes the incident's reminders due at once, to be looked at again. Looking (``fire_due``, run by
the runtime's ``ReminderLoop``) reads the incident as it then is, asks the rules
(``reminder_rules.when_due``) when the nudge is due, and either sends it, by queueing a Slack job
in the same transaction that records it as sent, or stores when to look next. So the rules, which
are configuration, are applied in one place, and nothing here needs them but ``fire_due``.

Claiming is ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so replicas share the due rows
without waiting for each other; SQLite has no row locks, but there a ``FOR UPDATE`` read takes
the database's write lock before it runs (see ``db.make_engine``), so one claimer at a time reads
and marks them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, insert, literal, select, update

from incidentbot.domain.errors import IncidentError
from incidentbot.domain.models import (
    ActionItem,
    ActionStatus,
    DocumentStatus,
    Incident,
    JSONObject,
    Reminder,
    ReminderKind,
    ReminderState,
    Status,
    table_of,
)
from incidentbot.domain.reminder_rules import ReminderRules, Situation, when_due
from incidentbot.domain.text import clip
from incidentbot.infra import jobs
from incidentbot.infra.uow import UnitOfWork

# The reminders every incident has (action items have their own).
INCIDENT_KINDS = (ReminderKind.UPDATE, ReminderKind.LEAD, ReminderKind.POSTMORTEM)
# Enough per transaction to keep row locks short; the loop claims again while any are due.
CLAIM_BATCH = 50
MAX_SNOOZE = timedelta(hours=24)

_REMINDERS = table_of(Reminder)
_INSERT = insert(_REMINDERS)


def _new_row(
    incident_id: int,
    kind: ReminderKind,
    *,
    since: datetime,
    now: datetime,
    action_item_id: int | None = None,
) -> dict[str, object]:
    return {
        "kind": kind,
        "incident_id": incident_id,
        "action_item_id": action_item_id,
        "state": ReminderState.PENDING,
        "due_at": now,
        "since": since,
        "sent_count": 0,
    }


def arm_incident(*, uow: UnitOfWork, incident: Incident) -> None:
    """A newly declared incident's reminders, counting from its declaration."""
    now = uow.now()
    uow.session.execute(
        _INSERT,
        [
            _new_row(incident.id, kind, since=incident.declared_at, now=now)
            for kind in INCIDENT_KINDS
        ],
    )


def incident_changed(
    *, uow: UnitOfWork, incident: Incident, restart: Collection[ReminderKind] = ()
) -> None:
    """Something the reminders depend on changed: look at them again now.

    ``restart``: reminders whose count starts over now (an update restarts the update
    reminder, and undoes a snooze); the others keep theirs.
    """
    now = uow.now()
    restarting = Reminder.kind.in_([str(kind) for kind in restart])
    values: dict[str, object] = {"state": ReminderState.PENDING, "due_at": now}
    if restart:
        values |= {
            "since": case(
                (restarting, literal(now, _REMINDERS.c.since.type)), else_=Reminder.since
            ),
            "snoozed_until": case((restarting, None), else_=Reminder.snoozed_until),
            "snoozed_by": case((restarting, None), else_=Reminder.snoozed_by),
        }
    found = uow.session.scalars(
        update(Reminder)
        .where(Reminder.incident_id == incident.id, Reminder.action_item_id.is_(None))
        .values(**values)
        .returning(Reminder.kind)
        .execution_options(synchronize_session=False)
    ).all()
    missing = set(INCIDENT_KINDS) - {ReminderKind(kind) for kind in found}
    if missing:
        _add_missing(uow, incident, missing, now=now)


def _add_missing(
    uow: UnitOfWork,
    incident: Incident,
    missing: set[ReminderKind],
    *,
    now: datetime,
) -> None:
    """Reminders of an incident declared before there were reminders, made on its first change.

    Their counts start now rather than at the declaration or close, so upgrading does not send
    a burst of overdue nudges for old incidents. The incident's row is locked first (FOR NO KEY
    UPDATE, which queuing a job for the incident does not wait for) so that two replicas
    changing it at once add them once.
    """
    uow.session.execute(
        select(Incident.id).where(Incident.id == incident.id).with_for_update(key_share=True)
    )
    present = set(
        uow.session.scalars(
            select(Reminder.kind).where(
                Reminder.incident_id == incident.id, Reminder.action_item_id.is_(None)
            )
        )
    )
    rows = [
        _new_row(
            incident.id,
            kind,
            since=incident.declared_at if kind == ReminderKind.LEAD else now,
            now=now,
        )
        for kind in sorted(missing)
        if kind not in present
    ]
    if rows:
        uow.session.execute(_INSERT, rows)


def action_item_changed(
    *, uow: UnitOfWork, incident: Incident, item: ActionItem, restart: bool = False
) -> None:
    """An action item was filed, done, reopened or given a new due date: look at its reminder
    again now. ``restart``: its count starts over (a new due date is reminded of anew)."""
    uow.session.flush()  # a new item needs its id
    now = uow.now()
    values: dict[str, object] = {"state": ReminderState.PENDING, "due_at": now}
    if restart:
        values["since"] = now
    found = uow.session.execute(
        update(Reminder)
        .where(Reminder.action_item_id == item.id)
        .values(**values)
        .returning(Reminder.id)
        .execution_options(synchronize_session=False)
    ).first()
    if found is None:
        # Items are filed once, in one transaction, so nothing races to add the same row.
        uow.session.execute(
            _INSERT,
            _new_row(
                incident.id, ReminderKind.ACTION_ITEM, since=now, now=now, action_item_id=item.id
            ),
        )


@dataclass(frozen=True)
class Snoozed:
    incident: Incident
    until: datetime


def snooze_reminder(
    *, uow: UnitOfWork, reminder_id: int, snoozed_by: str, delay: timedelta
) -> Snoozed:
    """Put off the next stakeholder-update nudge until ``delay`` from now (an update posted
    meanwhile starts the count over, as always). Only the incident's lead may."""
    if not timedelta(minutes=1) <= delay <= MAX_SNOOZE:
        raise IncidentError("A reminder can be snoozed for a minute up to a day.")
    reminder = uow.session.get(Reminder, reminder_id, with_for_update=True)
    if reminder is None or reminder.kind != ReminderKind.UPDATE:
        raise IncidentError("That reminder no longer exists.")
    incident = uow.session.get(Incident, reminder.incident_id)
    assert incident is not None
    if not incident.is_open:
        raise IncidentError(
            f"INC-{incident.number} is {incident.status}: no more update reminders come for it."
        )
    lead = incident.holder("lead")
    if lead != snoozed_by:
        raise IncidentError(
            f"Only INC-{incident.number}'s lead can snooze its update reminders"
            + (f", and that is <@{lead}> now." if lead else "; nobody leads it now.")
        )
    now = uow.now()
    reminder.snoozed_until = now + delay
    reminder.snoozed_by = snoozed_by
    reminder.state = ReminderState.PENDING
    reminder.due_at = now
    return Snoozed(incident=incident, until=now + delay)


def next_due(*, uow: UnitOfWork) -> datetime | None:
    """When the earliest pending reminder is to be looked at (by any replica)."""
    return uow.session.scalar(
        select(Reminder.due_at)
        .where(Reminder.state == ReminderState.PENDING)
        .order_by(Reminder.due_at)
        .limit(1)
    )


def fire_due(*, uow: UnitOfWork, rules: ReminderRules, limit: int = CLAIM_BATCH) -> int:
    """Claim up to ``limit`` due reminders and act on each: send it (queue its Slack job and
    record it as sent), or store when it is due, or set it idle. The caller commits, which
    releases the claim; returns how many were claimed."""
    now = uow.now()
    claimed = uow.session.scalars(
        select(Reminder)
        .where(Reminder.state == ReminderState.PENDING, Reminder.due_at <= now)
        .order_by(Reminder.due_at, Reminder.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # SQLite renders none; it takes the write lock
    ).all()
    for reminder in claimed:
        _act_on(uow, reminder, rules=rules, now=now)
    return len(claimed)


def _act_on(uow: UnitOfWork, reminder: Reminder, *, rules: ReminderRules, now: datetime) -> None:
    incident = uow.session.get(Incident, reminder.incident_id)
    assert incident is not None
    item = (
        uow.session.get(ActionItem, reminder.action_item_id)
        if reminder.action_item_id is not None
        else None
    )
    kind = ReminderKind(reminder.kind)
    due = when_due(kind, _situation(reminder, incident, item), rules)
    if due is not None and due <= now:
        _send(uow, reminder, incident, item, rules=rules, now=now)
        reminder.last_sent_at = now
        reminder.sent_count += 1
        due = when_due(kind, _situation(reminder, incident, item), rules)
    if due is None:
        reminder.state = ReminderState.IDLE
    else:
        reminder.state = ReminderState.PENDING
        reminder.due_at = due


def _situation(reminder: Reminder, incident: Incident, item: ActionItem | None) -> Situation:
    lead = incident.holder("lead")
    recipient = lead
    if reminder.kind == ReminderKind.POSTMORTEM:
        recipient = incident.postmortem_owner_id or lead
    elif item is not None:
        recipient = item.owner_id or lead
    return Situation(
        severity=incident.severity,
        is_open=incident.is_open,
        closed=incident.status == Status.CLOSED,
        lead=lead,
        recipient=recipient,
        # The postmortem counts from the close even if its reminder was made later.
        since=(
            max(reminder.since, incident.closed_at)
            if reminder.kind == ReminderKind.POSTMORTEM and incident.closed_at is not None
            else reminder.since
        ),
        last_sent_at=reminder.last_sent_at,
        snoozed_until=reminder.snoozed_until,
        postmortem_final=incident.postmortem_status == DocumentStatus.FINAL,
        item_open=item is not None and item.status == ActionStatus.OPEN,
        item_due=item.due_date if item is not None else None,
    )


def _send(
    uow: UnitOfWork,
    reminder: Reminder,
    incident: Incident,
    item: ActionItem | None,
    *,
    rules: ReminderRules,
    now: datetime,
) -> None:
    """Queue the Slack job that shows the nudge: what it says is decided now, as a retry of the
    job must say the same."""
    situation = _situation(reminder, incident, item)
    payload: JSONObject = {
        "reminder": reminder.kind,
        "reminder_id": reminder.id,
        "incident_id": incident.id,
        "user_id": situation.recipient,
    }
    if reminder.kind == ReminderKind.LEAD:
        payload["minutes"] = _minutes(now - incident.declared_at)
        # In the incident's channel: queued with the incident, so it comes after the channel.
        uow.enqueue(jobs.SEND_REMINDER, incident=incident, **payload)
        return
    if reminder.kind == ReminderKind.UPDATE:
        interval = rules.update_intervals[incident.severity]
        payload |= {
            "quiet_minutes": _minutes(now - reminder.since),
            "interval_minutes": _minutes(interval),
        }
    elif reminder.kind == ReminderKind.POSTMORTEM:
        assert incident.closed_at is not None
        due_day = rules.postmortem_due_day(severity=incident.severity, closed_at=situation.since)
        assert due_day is not None
        payload |= {
            "as_lead": incident.postmortem_owner_id is None,
            "due": due_day.isoformat(),
            "today": rules.local_day(now).isoformat(),
            "business_days": rules.postmortem_days[incident.severity],
            "closed": rules.local_day(incident.closed_at).isoformat(),
            "status": incident.postmortem_status,
        }
    elif item is not None and item.due_date is not None:
        payload |= {
            "as_lead": item.owner_id is None,
            "item_number": incident.action_items.index(item) + 1,
            "item_text": clip(item.text, 500),
            "due": item.due_date.isoformat(),
            "today": rules.local_day(now).isoformat(),
        }
    # A direct message: not queued behind the incident's channel work, which it does not need.
    uow.enqueue(jobs.SEND_REMINDER, **payload)


def _minutes(delta: timedelta) -> int:
    return max(0, round(delta.total_seconds() / 60))
