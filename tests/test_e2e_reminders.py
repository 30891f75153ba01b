"""Reminders as people see them: DMs to the lead, the postmortem owner and action item owners,
and a word in the incident channel when nobody leads. Time moves by the runtime's clock, never
by sleeping; the reminder loop is woken to look at it."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.request import Request, urlopen

import pytest
import time_machine
from sqlalchemy import select

from incidentbot.domain.models import Incident, Reminder, ReminderKind
from incidentbot.emulator import BOT_USER_ID, Message, Workspace
from incidentbot.entrypoints.local import LocalStack
from incidentbot.slack import ids
from incidentbot.slack.runtime import create_runtime
from tests.conftest import Clock
from tests.e2e import declare, ephemeral_texts, incident_channel, mention

WEBHOOK_SECRET = "reminders-test-webhook-secret"


@pytest.fixture
def stack(db_url: str, clock: Clock):
    with LocalStack(
        database_url=db_url, clock=clock, timezone="UTC", webhook_secret=WEBHOOK_SECRET
    ) as running:
        yield running


def remind(stack: LocalStack) -> None:
    """Let the reminder loop act on what is due by the test's clock, then let Slack work end."""
    assert stack.runtime.reminders.wait_idle(), "reminders still due"
    stack.settle()


def later(stack: LocalStack, clock: Clock, **delta: float) -> None:
    clock.advance(**delta)
    remind(stack)


def at(stack: LocalStack, clock: Clock, moment: datetime) -> None:
    clock.now = moment
    remind(stack)


def dms(stack: LocalStack, user: str) -> list[Message]:
    """What the bot has said to ``user`` in their DM."""
    person = stack.workspace.user_by_name(user)
    assert person is not None
    channel = stack.workspace.dm_channel(person.id)
    return [m for m in stack.workspace.messages(channel.id) if m.user == BOT_USER_ID]


def buttons(message: Message) -> list[str]:
    return [
        element["action_id"]
        for block in message.blocks
        if block.get("type") == "actions"
        for element in block["elements"]
    ]


def command(stack: LocalStack, user: str, channel_id: str, text: str) -> None:
    response = stack.driver.command(user, channel_id, text)
    assert response.status == 200, response.body
    stack.settle()


def sev1_incident(stack: LocalStack, title: str = "Checkout API returning 500s", number: int = 1):
    channel = declare(stack, title, number=number)
    command(stack, "alice", channel.id, "sev 1")
    remind(stack)
    return channel


# ---------------------------------------------------------------------- stakeholder updates


def test_a_sev1_lead_gets_a_dm_30_minutes_after_the_last_update_and_not_before(stack, clock):
    sev1_incident(stack)
    later(stack, clock, minutes=29)
    assert dms(stack, "alice") == []

    later(stack, clock, minutes=2)
    (nudge,) = dms(stack, "alice")
    assert "*INC-1* (SEV1)" in nudge.text
    assert "no stakeholder update for 31 min" in nudge.text
    assert "`/incident update" in nudge.blocks[0]["text"]["text"]
    assert buttons(nudge) == [ids.REMINDER_SNOOZE_SHORT, ids.REMINDER_SNOOZE_LONG]

    # Still no update: again after another interval, not sooner.
    later(stack, clock, minutes=29)
    assert len(dms(stack, "alice")) == 1
    later(stack, clock, minutes=2)
    assert len(dms(stack, "alice")) == 2
    assert "no stakeholder update for 1 h 2 min" in dms(stack, "alice")[-1].text


def test_with_the_real_wall_clock_the_nudge_comes_when_the_machine_time_passes_30_minutes(
    db_url: str,
):
    """In production nothing passes a clock: the runtime reads the machine's. time-machine moves
    that clock (for the bot, the local workspace and request signatures alike)."""
    start = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    with (
        time_machine.travel(start, tick=True) as traveller,
        LocalStack(database_url=db_url, timezone="UTC") as running,
    ):
        sev1_incident(running)
        traveller.shift(timedelta(minutes=29))
        remind(running)
        assert dms(running, "alice") == []
        traveller.shift(timedelta(minutes=2))
        remind(running)
        (nudge,) = dms(running, "alice")
        assert "no stakeholder update for 31 min" in nudge.text


def test_an_update_starts_the_count_over(stack, clock):
    channel = sev1_incident(stack)
    later(stack, clock, minutes=20)
    command(stack, "alice", channel.id, "update Rolled back; error rate falling")
    later(stack, clock, minutes=11)  # 31 minutes after the declaration, 11 after the update
    assert dms(stack, "alice") == []
    later(stack, clock, minutes=20)
    (nudge,) = dms(stack, "alice")
    assert "no stakeholder update for 31 min" in nudge.text


def test_sev3_incidents_get_no_update_reminders(stack, clock):
    declare(stack, "Search is a little slow")
    remind(stack)
    later(stack, clock, hours=6)
    assert dms(stack, "alice") == []


def test_a_severity_change_changes_the_interval(stack, clock):
    channel = declare(stack, "Search is slow")
    command(stack, "alice", channel.id, "sev 2")
    later(stack, clock, minutes=40)
    assert dms(stack, "alice") == []  # SEV2: an hour

    command(stack, "alice", channel.id, "sev 1")  # 40 minutes without an update: overdue now
    remind(stack)
    (nudge,) = dms(stack, "alice")
    assert "(SEV1)" in nudge.text and "no stakeholder update for 40 min" in nudge.text

    command(stack, "alice", channel.id, "sev 3")
    later(stack, clock, hours=3)
    assert len(dms(stack, "alice")) == 1


def test_a_resolved_incident_gets_no_update_reminders_until_reopened(stack, clock):
    channel = sev1_incident(stack)
    later(stack, clock, minutes=10)
    command(stack, "alice", channel.id, "resolve Rolled back")
    later(stack, clock, hours=2)
    assert dms(stack, "alice") == []
    command(stack, "alice", channel.id, "reopen")
    later(stack, clock, minutes=29)  # the count starts at the reopening
    assert dms(stack, "alice") == []
    later(stack, clock, minutes=2)
    assert len(dms(stack, "alice")) == 1


def test_snoozing_puts_the_next_nudge_off_and_replaces_the_buttons(stack, clock):
    sev1_incident(stack)
    later(stack, clock, minutes=31)
    (nudge,) = dms(stack, "alice")
    dm = nudge.channel

    response = stack.driver.block_action(
        "alice", ids.REMINDER_SNOOZE_SHORT, channel=dm, message_ts=nudge.ts
    )
    assert response.status == 200
    stack.settle()
    settled = stack.workspace.get_message(dm, nudge.ts)
    assert buttons(settled) == []
    assert "snoozed the update reminder for *INC-1*" in settled.text
    assert "<!date^" in settled.text and "14:46 UTC" in settled.text

    # The next nudge comes 15 minutes after the press rather than after the usual 30.
    later(stack, clock, minutes=14)
    assert len(dms(stack, "alice")) == 1
    later(stack, clock, minutes=2)
    second = dms(stack, "alice")[-1]
    assert len(dms(stack, "alice")) == 2 and buttons(second)

    stack.driver.block_action("alice", ids.REMINDER_SNOOZE_LONG, channel=dm, message_ts=second.ts)
    stack.settle()
    assert buttons(stack.workspace.get_message(dm, second.ts)) == []
    later(stack, clock, minutes=59)
    assert len(dms(stack, "alice")) == 2
    later(stack, clock, minutes=2)
    assert len(dms(stack, "alice")) == 3


def test_only_the_lead_can_snooze_and_a_refusal_changes_nothing(stack, clock):
    sev1_incident(stack)
    later(stack, clock, minutes=31)
    (nudge,) = dms(stack, "alice")

    stack.driver.block_action(
        "bob", ids.REMINDER_SNOOZE_LONG, channel=nudge.channel, message_ts=nudge.ts
    )
    stack.settle()
    assert "Only INC-1's lead can snooze" in ephemeral_texts(stack, "bob")[-1]
    assert buttons(stack.workspace.get_message(nudge.channel, nudge.ts))
    later(stack, clock, minutes=30)  # not put off by an hour
    assert len(dms(stack, "alice")) == 2

    forged = stack.driver.block_action(
        "alice",
        ids.REMINDER_SNOOZE_SHORT,
        "not-a-reminder",
        channel=nudge.channel,
        message_ts=nudge.ts,
    )
    assert forged.status == 200
    stack.settle()
    assert buttons(stack.workspace.get_message(nudge.channel, nudge.ts))


# ---------------------------------------------------------------------- nobody leads


def post_alert(stack: LocalStack, title: str, *, severity: str = "critical") -> None:
    """Monitoring declares an incident: nobody leads it until a person takes it."""
    body = json.dumps({"title": title, "severity": severity}).encode()
    request = Request(
        f"{stack.base_url}/hooks/generic",
        data=body,
        headers={"Authorization": f"Bearer {WEBHOOK_SECRET}", "Content-Type": "application/json"},
    )
    with urlopen(request, timeout=10) as answer:
        assert answer.status < 300
    stack.settle()


def lead_nudges(stack: LocalStack, channel_id: str) -> list[str]:
    return [m.text for m in stack.workspace.messages(channel_id) if "Nobody is leading" in m.text]


def test_an_incident_nobody_leads_is_pointed_out_in_its_channel_after_10_minutes(stack, clock):
    post_alert(stack, "Checkout error rate above 5%")
    channel = incident_channel(stack, 1)
    remind(stack)
    later(stack, clock, minutes=9)
    assert lead_nudges(stack, channel.id) == []
    later(stack, clock, minutes=2)
    (nudge,) = lead_nudges(stack, channel.id)
    assert "*INC-1*" in nudge and "`/incident lead @you`" in nudge
    later(stack, clock, hours=1)
    assert len(lead_nudges(stack, channel.id)) == 1  # once
    # Nobody to send stakeholder-update reminders to either.
    assert [m for user in ("alice", "bob") for m in dms(stack, user)] == []


def test_no_missing_lead_nudge_once_someone_takes_the_lead(stack, clock):
    post_alert(stack, "Checkout error rate above 5%")
    channel = incident_channel(stack, 1)
    remind(stack)
    later(stack, clock, minutes=5)
    stack.driver.join("bob", channel.id)
    command(stack, "bob", channel.id, f"lead {mention('UBOB')}")
    later(stack, clock, minutes=6)
    assert lead_nudges(stack, channel.id) == []
    # The new lead is reminded of updates, counted from the alert's declaration (SEV1).
    later(stack, clock, minutes=20)
    (nudge,) = dms(stack, "bob")
    assert "no stakeholder update for 31 min" in nudge.text


# ---------------------------------------------------------------------- postmortems


def test_the_postmortem_owner_is_reminded_from_the_deadline_each_business_day_until_final(
    db_url, clock
):
    with LocalStack(database_url=db_url, clock=clock, timezone="Europe/Berlin") as stack:
        channel = declare(stack, "Search is slow")
        command(stack, "alice", channel.id, "sev 2")
        command(stack, "alice", channel.id, f"postmortem owner {mention('UBOB')}")
        clock.advance(minutes=30)
        command(stack, "alice", channel.id, "update Fixed")
        command(stack, "alice", channel.id, "close")  # Friday 27 Nov, 15:30 in Berlin
        remind(stack)

        # Due five business days later, on Friday 4 Dec, reminded at 09:00 Berlin (08:00 UTC).
        at(stack, clock, datetime(2026, 12, 4, 7, 59, tzinfo=UTC))
        assert dms(stack, "bob") == []
        at(stack, clock, datetime(2026, 12, 4, 8, 1, tzinfo=UTC))
        (first,) = dms(stack, "bob")
        assert "The postmortem of *INC-1* (SEV2)" in first.text
        assert "is due today, 5 business days after the incident closed on Fri 27 Nov" in (
            first.text
        )
        assert "still *draft*" in first.text and "no owner" not in first.blocks[0]["text"]["text"]

        at(stack, clock, datetime(2026, 12, 6, 12, 0, tzinfo=UTC))  # Sunday: no reminder
        assert len(dms(stack, "bob")) == 1
        at(stack, clock, datetime(2026, 12, 7, 8, 1, tzinfo=UTC))
        assert len(dms(stack, "bob")) == 2
        assert "was due on Fri 4 Dec" in dms(stack, "bob")[-1].text

        command(stack, "alice", channel.id, "postmortem status final")
        at(stack, clock, datetime(2026, 12, 10, 8, 1, tzinfo=UTC))
        assert len(dms(stack, "bob")) == 2
        assert dms(stack, "alice") == []


def test_without_an_owner_the_postmortem_reminder_goes_to_the_lead(stack, clock):
    channel = sev1_incident(stack)
    command(stack, "alice", channel.id, "close")
    remind(stack)
    at(stack, clock, datetime(2026, 12, 4, 9, 1, tzinfo=UTC))
    (nudge,) = dms(stack, "alice")
    assert "The postmortem of *INC-1* (SEV1)" in nudge.text
    assert "It has no owner, so this comes to you as the lead" in nudge.blocks[0]["text"]["text"]


def test_sev3_postmortems_get_no_reminders(stack, clock):
    channel = declare(stack, "Search is a little slow")
    command(stack, "alice", channel.id, "close")
    remind(stack)
    at(stack, clock, datetime(2026, 12, 31, 9, 1, tzinfo=UTC))
    assert dms(stack, "alice") == []


def test_naming_a_postmortem_owner_needs_one_person(stack, clock):
    channel = declare(stack, "Search is slow")
    for text, says in (
        ("postmortem owner", "Mention exactly one person"),
        (f"postmortem owner {mention('UBOB')} and {mention('UDANA')}", "exactly one person"),
        ("postmortem owner bob", "exactly one person"),
    ):
        command(stack, "alice", channel.id, text)
        assert says in ephemeral_texts(stack, "alice", channel.id)[-1]
    with stack.runtime.uow(read_only=True) as uow:
        assert uow.session.scalars(select(Incident.postmortem_owner_id)).one() is None
    command(stack, "alice", channel.id, f"postmortem owner {mention('UBOB')}")
    assert "owns INC-1's postmortem" in ephemeral_texts(stack, "alice", channel.id)[-1]
    assert "Postmortem owner: <@UBOB>" in stack.workspace.messages(channel.id)[-1].text


# ---------------------------------------------------------------------- action items


def test_an_action_item_owner_is_reminded_once_on_the_due_date_unless_done(stack, clock):
    channel = declare(stack, "Search is slow")  # Friday 27 Nov
    command(stack, "alice", channel.id, f"action Add canary analysis {mention('UBOB')} due monday")
    command(stack, "alice", channel.id, f"action Alert on 5xx {mention('UCHANDRA')} due monday")
    command(stack, "alice", channel.id, f"action Write a runbook {mention('UDANA')} due monday")
    command(stack, "alice", channel.id, "action 2 done")
    command(stack, "alice", channel.id, "action 3 due tuesday")
    remind(stack)

    at(stack, clock, datetime(2026, 11, 30, 8, 59, tzinfo=UTC))
    assert dms(stack, "bob") == []
    at(stack, clock, datetime(2026, 11, 30, 9, 1, tzinfo=UTC))
    (nudge,) = dms(stack, "bob")
    assert "Action item 1 of *INC-1*" in nudge.text
    assert "is due today (Mon 30 Nov): Add canary analysis" in nudge.text
    assert "`/incident action 1 done`" in nudge.blocks[0]["text"]["text"]
    assert dms(stack, "chandra") == []  # done
    assert dms(stack, "dana") == []  # moved to Tuesday

    at(stack, clock, datetime(2026, 12, 1, 9, 1, tzinfo=UTC))
    assert len(dms(stack, "bob")) == 1  # once
    (moved,) = dms(stack, "dana")
    assert "Action item 3" in moved.text and "Write a runbook" in moved.text
    at(stack, clock, datetime(2026, 12, 8, 9, 1, tzinfo=UTC))
    assert (len(dms(stack, "bob")), len(dms(stack, "dana"))) == (1, 1)


def test_a_due_date_in_the_past_is_refused_and_changes_nothing(stack, clock):
    channel = declare(stack, "Search is slow")
    command(stack, "alice", channel.id, f"action Add canary analysis {mention('UBOB')} due monday")
    command(stack, "alice", channel.id, "action 1 due 2026-11-01")
    assert "has already passed" in ephemeral_texts(stack, "alice", channel.id)[-1]
    at(stack, clock, datetime(2026, 11, 30, 9, 1, tzinfo=UTC))
    assert len(dms(stack, "bob")) == 1


# ---------------------------------------------------------------------- replicas and restarts


def test_two_replicas_send_each_due_reminder_exactly_once(db_url, clock):
    with LocalStack(database_url=db_url, clock=clock) as stack:
        for number in range(1, 7):
            sev1_incident(stack, f"Outage {number}", number=number)
        other = create_runtime(stack.settings, clock=clock, check_templates=False)
        other.start()
        try:
            clock.advance(minutes=31)
            # Both replicas' loops, and more claimers beside them, go for the same reminders.
            runtimes = [stack.runtime, other] * 4
            with ThreadPoolExecutor(len(runtimes)) as pool:
                for runtime in runtimes:
                    runtime.reminders.wake()
                handled = sum(pool.map(lambda runtime: runtime.reminders.run_due(), runtimes))
            assert handled <= 6
            assert other.reminders.wait_idle()
            remind(stack)
            assert other.jobs.wait_idle()
            nudges = sorted(m.text.split("*")[1] for m in dms(stack, "alice"))
            assert nudges == [f"INC-{n}" for n in range(1, 7)]
            with stack.runtime.uow(read_only=True) as uow:
                sent = uow.session.scalars(
                    select(Reminder.sent_count).where(Reminder.kind == ReminderKind.UPDATE)
                ).all()
            assert sorted(sent) == [1] * 6
        finally:
            other.stop()


def test_a_reminder_that_came_due_while_the_bot_was_down_is_sent_after_a_restart(db_url, clock):
    workspace = Workspace(clock=lambda: clock().timestamp())
    with LocalStack(database_url=db_url, clock=clock, workspace=workspace) as before:
        sev1_incident(before)
        later(before, clock, minutes=20)
    clock.advance(minutes=25)  # down while the reminder came due

    with LocalStack(database_url=db_url, clock=clock, workspace=workspace) as after:
        remind(after)
        (nudge,) = dms(after, "alice")
        assert "*INC-1* (SEV1)" in nudge.text and "no stakeholder update for 45 min" in nudge.text
        later(after, clock, minutes=1)
        assert len(dms(after, "alice")) == 1
