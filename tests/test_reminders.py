"""The reminders core against a real database, no Slack: rows, claims and the jobs they queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from incidentbot import services
from incidentbot.domain.errors import IncidentError
from incidentbot.domain.models import Job, Reminder, ReminderKind, ReminderState, Severity
from incidentbot.domain.reminder_rules import ReminderRules
from incidentbot.infra import jobs
from incidentbot.services import reminders
from incidentbot.services.incidents import get_incident

RULES = ReminderRules()


def declare(uow_factory, **kwargs) -> int:
    with uow_factory() as uow:
        incident = services.declare_incident(
            uow=uow, title="Checkout API returning 500s", declared_by="UALICE", **kwargs
        )
        incident.channel_id = f"C{incident.number:04d}"
        uow.commit()
        return incident.number


def fire(uow_factory) -> int:
    with uow_factory() as uow:
        claimed = reminders.fire_due(uow=uow, rules=RULES)
        uow.commit()
        return claimed


def rows(uow_factory) -> dict[str, Reminder]:
    with uow_factory() as uow:
        return {r.kind: r for r in uow.session.scalars(select(Reminder))}


def sent_jobs(uow_factory) -> list[Job]:
    with uow_factory() as uow:
        return list(uow.session.scalars(select(Job).where(Job.kind == jobs.SEND_REMINDER)))


def test_a_declared_incident_has_its_reminders_looked_at_at_once(uow_factory, clock):
    declare(uow_factory)
    armed = rows(uow_factory)
    assert set(armed) == {ReminderKind.UPDATE, ReminderKind.LEAD, ReminderKind.POSTMORTEM}
    assert {(r.state, r.due_at, r.since) for r in armed.values()} == {
        (ReminderState.PENDING, clock.now, clock.now)
    }
    assert fire(uow_factory) == 3
    # SEV3, a lead, not closed: nothing is due until something changes.
    assert {r.state for r in rows(uow_factory).values()} == {ReminderState.IDLE}
    assert fire(uow_factory) == 0


def test_a_due_update_reminder_queues_one_dm_job_and_is_rescheduled(uow_factory, clock):
    number = declare(uow_factory, severity=Severity.SEV1)
    fire(uow_factory)
    assert rows(uow_factory)[ReminderKind.UPDATE].due_at == clock.now + timedelta(minutes=30)

    clock.advance(minutes=31)
    assert fire(uow_factory) == 1
    assert fire(uow_factory) == 0  # claimed and sent once
    (job,) = sent_jobs(uow_factory)
    # A DM waits behind none of the incident's channel work.
    assert job.incident_id is None
    assert job.payload | {"reminder_id": 0} == {
        "reminder": "update",
        "reminder_id": 0,
        "incident_id": 1,
        "user_id": "UALICE",
        "quiet_minutes": 31,
        "interval_minutes": 30,
    }
    update = rows(uow_factory)[ReminderKind.UPDATE]
    assert (update.sent_count, update.last_sent_at) == (1, clock.now)
    assert update.due_at == clock.now + timedelta(minutes=30)

    with uow_factory() as uow:
        incident = get_incident(uow=uow, number=number)
        services.post_update(uow=uow, incident=incident, author_id="UALICE", text="Rolled back")
        uow.commit()
    update = rows(uow_factory)[ReminderKind.UPDATE]
    assert (update.since, update.due_at, update.state) == (
        clock.now,
        clock.now,
        ReminderState.PENDING,
    )
    fire(uow_factory)
    assert rows(uow_factory)[ReminderKind.UPDATE].due_at == clock.now + timedelta(minutes=30)


def test_nobody_leading_queues_a_channel_message_behind_the_incidents_work(uow_factory, clock):
    declare(uow_factory, without_lead=True)
    clock.advance(minutes=10)
    fire(uow_factory)
    (job,) = sent_jobs(uow_factory)
    assert (job.incident_id, job.payload["reminder"], job.payload["minutes"]) == (1, "lead", 10)


def test_an_action_item_reminder_is_made_when_it_has_a_due_date_and_set_idle_once_done(
    uow_factory, clock
):
    number = declare(uow_factory)
    with uow_factory() as uow:
        incident = get_incident(uow=uow, number=number)
        services.add_action_item(
            uow=uow, incident=incident, created_by="UALICE", text="No due date"
        )
        item = services.add_action_item(
            uow=uow,
            incident=incident,
            created_by="UALICE",
            text="Add canary analysis",
            owner_id="UBOB",
            due_text="monday",
        )
        uow.commit()
        item_id = item.id
    fire(uow_factory)
    reminder = rows(uow_factory)[ReminderKind.ACTION_ITEM]
    assert (reminder.action_item_id, reminder.state) == (item_id, ReminderState.PENDING)
    assert reminder.due_at.isoformat() == "2026-11-30T09:00:00+00:00"
    with uow_factory() as uow:
        incident = get_incident(uow=uow, number=number)
        services.update_action_item(
            uow=uow, incident=incident, number=2, updated_by="UBOB", status="done"
        )
        uow.commit()
    fire(uow_factory)
    assert rows(uow_factory)[ReminderKind.ACTION_ITEM].state == ReminderState.IDLE


def test_an_incident_from_before_reminders_gets_them_on_its_next_change_counted_from_then(
    uow_factory, clock
):
    number = declare(uow_factory)
    with uow_factory() as uow:
        uow.session.execute(delete(Reminder))
        uow.commit()
    clock.advance(hours=5)
    with uow_factory() as uow:
        incident = get_incident(uow=uow, number=number)
        services.change_severity(
            uow=uow, incident=incident, severity=Severity.SEV1, changed_by="UALICE"
        )
        uow.commit()
    made = rows(uow_factory)
    assert set(made) == {ReminderKind.UPDATE, ReminderKind.LEAD, ReminderKind.POSTMORTEM}
    assert made[ReminderKind.UPDATE].since == clock.now  # no burst of overdue nudges
    fire(uow_factory)
    assert sent_jobs(uow_factory) == []


def test_snoozing_is_for_the_lead_of_an_open_incident(uow_factory, clock):
    number = declare(uow_factory, severity=Severity.SEV1)
    reminder_id = rows(uow_factory)[ReminderKind.UPDATE].id

    def snooze(user: str, delay: timedelta = timedelta(minutes=15), reminder: int = reminder_id):
        with uow_factory() as uow:
            snoozed = reminders.snooze_reminder(
                uow=uow, reminder_id=reminder, snoozed_by=user, delay=delay
            )
            uow.commit()
            return snoozed

    with pytest.raises(IncidentError, match="Only INC-1's lead can snooze"):
        snooze("UBOB")
    with pytest.raises(IncidentError, match="no longer exists"):
        snooze("UALICE", reminder=rows(uow_factory)[ReminderKind.LEAD].id)
    with pytest.raises(IncidentError, match="a minute up to a day"):
        snooze("UALICE", delay=timedelta(days=2))
    assert snooze("UALICE").until == clock.now + timedelta(minutes=15)
    assert rows(uow_factory)[ReminderKind.UPDATE].snoozed_by == "UALICE"
    with uow_factory() as uow:
        incident = get_incident(uow=uow, number=number)
        services.post_update(uow=uow, incident=incident, author_id="UALICE", text="Rolled back")
        uow.commit()
    update = rows(uow_factory)[ReminderKind.UPDATE]
    assert (update.snoozed_until, update.snoozed_by, update.since) == (None, None, clock.now)
    assert snooze("UALICE").until == clock.now + timedelta(minutes=15)

    with uow_factory() as uow:
        incident = get_incident(uow=uow, number=number)
        services.resolve(uow=uow, incident=incident, resolved_by="UALICE", text=None)
        uow.commit()
    with pytest.raises(IncidentError, match="INC-1 is resolved"):
        snooze("UALICE")
