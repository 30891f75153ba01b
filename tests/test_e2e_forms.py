"""Forms in Slack that keep the record true: "Correct the timeline" on the pinned summary, and
the declare form's "Already over?" times, driven through the real endpoint.

The clock is the test's (the local workspace's too): 2026-11-27 14:00 UTC, 06:00 for alice in
America/Los_Angeles, 15:00 for bob in Europe/Berlin.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from incidentbot.domain.models import (
    EntryKind,
    Incident,
    Status,
    TimelineEntry,
    TimelineRevision,
)
from incidentbot.emulator import BOT_USER_ID, Message
from incidentbot.entrypoints.local import LocalStack
from incidentbot.slack import ids
from tests.conftest import Clock
from tests.e2e import declare, ephemeral_texts, incident_channel

NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


@pytest.fixture
def stack(db_url: str, clock: Clock):
    with LocalStack(database_url=db_url, clock=clock, timezone="America/Los_Angeles") as running:
        yield running


def entry(stack: LocalStack, number: int, incident: int = 1) -> TimelineEntry:
    with stack.runtime.uow() as uow:
        found = uow.session.scalar(
            select(TimelineEntry)
            .join(Incident, Incident.id == TimelineEntry.incident_id)
            .where(Incident.number == incident, TimelineEntry.number == number)
        )
        assert found is not None
        return found


def revisions(stack: LocalStack) -> list[TimelineRevision]:
    with stack.runtime.uow() as uow:
        return list(uow.session.scalars(select(TimelineRevision).order_by(TimelineRevision.id)))


def incidents(stack: LocalStack) -> list[Incident]:
    with stack.runtime.uow() as uow:
        return list(uow.session.scalars(select(Incident).order_by(Incident.number)))


def summary(stack: LocalStack, channel_id: str) -> Message:
    (pinned,) = stack.workspace.pins(channel_id)
    found = stack.workspace.channel(channel_id).message(pinned)  # type: ignore[union-attr]
    assert found is not None
    return found


def open_correction_form(stack: LocalStack, user: str, channel_id: str) -> str:
    """``user`` clicks the pinned summary's "Correct the timeline"; returns the form's id."""
    response = stack.driver.block_action(
        user, ids.CORRECT_TIMELINE, channel=channel_id, message_ts=summary(stack, channel_id).ts
    )
    assert response.status == 200, response.body
    (modal,) = stack.workspace.open_views(user)
    assert modal.view["callback_id"] == ids.CORRECTION_VIEW
    return modal.id


def options(stack: LocalStack, view_id: str) -> list[str]:
    view = stack.workspace.view(view_id)
    assert view is not None
    select_block = next(
        b for b in view.view["blocks"] if b.get("block_id") == ids.CORRECTION_ENTRY_BLOCK
    )
    return [option["text"]["text"] for option in select_block["element"]["options"]]


def errors(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    answer = response.json()
    assert answer["response_action"] == "errors", answer
    return answer["errors"]


def incident_with_a_note(stack: LocalStack, text: str = "Restarted search-7") -> str:
    """INC-1, led by alice, whose note is entry #2; returns its channel's id."""
    channel = declare(stack, "Search is slow")
    assert stack.driver.command("alice", channel.id, f"note {text}").status == 200
    stack.settle()
    assert entry(stack, 2).text == text
    return channel.id


# ---------------------------------------------------------------- correcting the timeline


def test_correcting_an_entrys_text_from_the_summary_keeps_a_revision_and_says_so_privately(
    stack: LocalStack,
):
    channel_id = incident_with_a_note(stack)
    form = open_correction_form(stack, "alice", channel_id)
    # Newest first, the time in alice's zone (14:00 UTC is 06:00 in Los Angeles).
    assert options(stack, form)[0] == "#2 06:00 note: Restarted search-7"

    response = stack.driver.submit_view(
        "alice",
        form,
        {ids.CORRECTION_ENTRY_INPUT: "2", ids.CORRECTION_TEXT_INPUT: "Restarted search-7 and -8"},
    )
    assert response.status == 200 and not response.body.strip()
    assert stack.workspace.open_views("alice") == []
    stack.settle()

    assert entry(stack, 2).text == "Restarted search-7 and -8"
    (revision,) = revisions(stack)
    assert (revision.source, revision.change, revision.revised_by) == ("form", "text", "UALICE")
    assert (revision.old_text, revision.new_text) == (
        "Restarted search-7",
        "Restarted search-7 and -8",
    )
    (told,) = [t for t in ephemeral_texts(stack, "alice", channel_id) if "Corrected" in t]
    assert "INC-1 entry #2" in told and "Restarted search-7 and -8" in told


def test_a_new_time_moves_the_entry_read_in_the_persons_own_zone(stack: LocalStack):
    channel_id = incident_with_a_note(stack)
    stack.driver.join("bob", channel_id)
    stack.driver.command("bob", channel_id, "note Failover started")
    stack.settle()
    form = open_correction_form(stack, "bob", channel_id)
    assert options(stack, form)[0] == "#3 15:00 note: Failover started"  # bob: Europe/Berlin

    stack.driver.submit_view(
        "bob", form, {ids.CORRECTION_ENTRY_INPUT: "3", ids.CORRECTION_TIME_INPUT: "14:35"}
    )
    stack.settle()
    assert entry(stack, 3).occurred_at == datetime(2026, 11, 27, 13, 35, tzinfo=UTC)
    (revision,) = revisions(stack)
    assert (revision.source, revision.change) == ("form", "time")
    assert revision.old_occurred_at == NOW
    (told,) = [t for t in ephemeral_texts(stack, "bob", channel_id) if "Corrected" in t]
    assert "it now sits at 2026-11-27 14:35 CET" in told


def test_a_bare_time_later_than_now_is_yesterdays_and_the_answer_says_so(stack: LocalStack):
    channel_id = incident_with_a_note(stack)
    form = open_correction_form(stack, "alice", channel_id)
    stack.driver.submit_view(
        "alice", form, {ids.CORRECTION_ENTRY_INPUT: "2", ids.CORRECTION_TIME_INPUT: "23:10"}
    )
    stack.settle()
    # 06:00 in Los Angeles: 23:10 has not come yet today, so it was last night.
    assert entry(stack, 2).occurred_at == datetime(2026, 11, 27, 7, 10, tzinfo=UTC)
    (told,) = [t for t in ephemeral_texts(stack, "alice", channel_id) if "Corrected" in t]
    assert "it now sits at yesterday, 26 Nov, 23:10 PST" in told


def test_deleting_an_entry_with_a_reason_takes_it_off_the_timeline_and_out_of_the_form(
    stack: LocalStack,
):
    channel_id = incident_with_a_note(stack)
    stack.driver.command("alice", channel_id, "note Paged the search team")
    stack.settle()
    form = open_correction_form(stack, "alice", channel_id)
    assert [o[:3] for o in options(stack, form)] == ["#3 ", "#2 "]
    stack.driver.submit_view(
        "alice",
        form,
        {
            ids.CORRECTION_ENTRY_INPUT: "2",
            ids.CORRECTION_DELETE_INPUT: ["delete"],
            ids.CORRECTION_REASON_INPUT: "Wrong incident",
        },
    )
    stack.settle()
    gone = entry(stack, 2)
    assert gone.deleted_at is not None and gone.deleted_by == "UALICE"
    assert entry(stack, 3).deleted_at is None
    (revision,) = revisions(stack)
    assert (revision.source, revision.change, revision.reason) == (
        "form",
        "delete",
        "Wrong incident",
    )
    (told,) = [t for t in ephemeral_texts(stack, "alice", channel_id) if "Deleted" in t]
    assert "INC-1 entry #2 (Wrong incident)" in told
    # The next form no longer offers it.
    assert [o[:3] for o in options(stack, open_correction_form(stack, "alice", channel_id))] == [
        "#3 "
    ]


def test_someone_who_may_not_correct_is_refused_beside_the_entry_and_nothing_changes(
    stack: LocalStack,
):
    channel_id = incident_with_a_note(stack)
    stack.driver.join("erik", channel_id)
    form = open_correction_form(stack, "erik", channel_id)
    response = stack.driver.submit_view(
        "erik", form, {ids.CORRECTION_ENTRY_INPUT: "2", ids.CORRECTION_TEXT_INPUT: "Not mine"}
    )
    refused = errors(response)
    assert list(refused) == [ids.CORRECTION_ENTRY_BLOCK]
    assert refused[ids.CORRECTION_ENTRY_BLOCK].startswith("Only the entry's author")
    assert stack.workspace.open_views("erik")  # the form stays open to say so
    stack.settle()
    assert entry(stack, 2).text == "Restarted search-7"
    assert revisions(stack) == []
    assert not [t for t in ephemeral_texts(stack, "erik", channel_id) if "Corrected" in t]


@pytest.mark.parametrize(
    ("values", "block", "said"),
    [
        ({ids.CORRECTION_TIME_INPUT: "quarter past two"}, ids.CORRECTION_TIME_BLOCK, ""),
        ({ids.CORRECTION_TIME_INPUT: "2026-11-28 09:00 UTC"}, ids.CORRECTION_TIME_BLOCK, "future"),
        ({ids.CORRECTION_TIME_INPUT: "05:30 and then"}, ids.CORRECTION_TIME_BLOCK, "and then"),
        (
            {ids.CORRECTION_TEXT_INPUT: "x", ids.CORRECTION_DELETE_INPUT: ["delete"]},
            ids.CORRECTION_TEXT_BLOCK,
            "not both",
        ),
        ({ids.CORRECTION_REASON_INPUT: "why"}, ids.CORRECTION_REASON_BLOCK, "Delete this entry"),
        ({}, ids.CORRECTION_TEXT_BLOCK, "Say what to change"),
        ({ids.CORRECTION_TEXT_INPUT: "Restarted search-7"}, ids.CORRECTION_TEXT_BLOCK, "already"),
    ],
)
def test_a_correction_the_form_cannot_make_is_refused_beside_its_field_and_changes_nothing(
    stack: LocalStack, values: dict, block: str, said: str
):
    channel_id = incident_with_a_note(stack)
    form = open_correction_form(stack, "alice", channel_id)
    response = stack.driver.submit_view("alice", form, {ids.CORRECTION_ENTRY_INPUT: "2", **values})
    refused = errors(response)
    assert list(refused) == [block] and said in refused[block]
    assert len(refused[block]) <= 150
    stack.settle()
    note = entry(stack, 2)
    assert (note.text, note.occurred_at, note.deleted_at) == ("Restarted search-7", NOW, None)
    assert revisions(stack) == []


def test_moving_the_impact_start_from_the_form_moves_the_incidents_milestone(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.command("alice", channel.id, "started at 05:00")
    stack.settle()
    form = open_correction_form(stack, "alice", channel.id)
    assert options(stack, form) == ["#2 05:00 impact start: Impact started"]
    stack.driver.submit_view(
        "alice", form, {ids.CORRECTION_ENTRY_INPUT: "2", ids.CORRECTION_TIME_INPUT: "04:40"}
    )
    stack.settle()
    (incident,) = incidents(stack)
    assert incident.impact_started_at == datetime(2026, 11, 27, 12, 40, tzinfo=UTC)
    # The pinned summary is refreshed with the incident's state.
    assert summary(stack, channel.id).edited is not None


def test_the_button_outside_an_incident_channel_explains_privately(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    ts = stack.driver.post_message("alice", "#general", "look at this")
    response = stack.driver.block_action(
        "alice", ids.CORRECT_TIMELINE, "1", channel="#general", message_ts=ts
    )
    assert response.status == 200
    assert stack.workspace.open_views("alice") == []
    assert any("incident's channel" in t for t in ephemeral_texts(stack, "alice", "#general"))
    assert incident_channel(stack, 1).id == channel.id


# ---------------------------------------------------------------- the declare form's times


def declare_form(stack: LocalStack, user: str) -> str:
    assert stack.driver.command(user, "#general", "declare").status == 200
    (modal,) = stack.workspace.open_views(user)
    return modal.id


def dms(stack: LocalStack, user: str) -> list[Message]:
    person = stack.workspace.user_by_name(user)
    assert person is not None
    channel = stack.workspace.dm_channel(person.id)
    return [m for m in stack.workspace.messages(channel.id) if m.user == BOT_USER_ID]


def test_the_declare_form_with_resolved_filled_in_records_the_incident_after_the_fact(
    stack: LocalStack, clock: Clock
):
    # A live SEV1 beside it, whose lead is nudged: the same clock leaves the past one alone.
    live = declare(stack, "Payments delayed", user="alice")
    stack.driver.command("alice", live.id, "sev 1")
    stack.settle()

    form = declare_form(stack, "bob")
    response = stack.driver.submit_view(
        "bob",
        form,
        {
            ids.TITLE_INPUT: "Checkout 500s <!here>",
            ids.SEVERITY_INPUT: "SEV1",
            ids.PAST_STARTED_INPUT: "yesterday 09:00",
            ids.PAST_DETECTED_INPUT: "2026-11-26 09:20",
            ids.PAST_MITIGATED_INPUT: "thursday 10:05",
            ids.PAST_RESOLVED_INPUT: "2026-11-26 10:30 UTC",
        },
    )
    assert response.status == 200 and stack.workspace.open_views("bob") == []
    stack.settle()

    past = incidents(stack)[1]
    assert past.after_the_fact and past.status == Status.RESOLVED
    # Bob's times are in Europe/Berlin (UTC+1) but for the resolution, given in UTC; it is
    # Friday 27 November for him, so yesterday and Thursday are the 26th.
    assert past.impact_started_at == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    assert past.detected_at == past.declared_at == datetime(2026, 11, 26, 8, 20, tzinfo=UTC)
    assert past.mitigated_at == datetime(2026, 11, 26, 9, 5, tzinfo=UTC)
    assert past.resolved_at == datetime(2026, 11, 26, 10, 30, tzinfo=UTC)

    channel = incident_channel(stack, 2)
    announced = [m for m in stack.workspace.messages("#incidents") if "INC-2" in m.text]
    (announcement,) = announced
    shown = announcement.text + json.dumps(announcement.blocks)
    assert "recorded after the fact" in shown and "Impact 2026-11-26 00:00 PST" in shown
    assert "<@" not in shown and "<!" not in shown and "Join" not in shown
    pinned = json.dumps(summary(stack, channel.id).blocks)
    assert "Recorded after the fact" in pinned and "*Impact*" in pinned
    assert "recorded after the fact" in stack.workspace.channel(channel.id).topic["value"]  # type: ignore[union-attr]
    (told,) = [t for t in ephemeral_texts(stack, "bob", "#general") if "INC-2" in t]
    assert "Nobody was paged" in told

    # Hours on, the live incident's lead has been reminded and bob never.
    for _ in range(4):
        clock.advance(minutes=31)
        assert stack.runtime.reminders.wait_idle()
        stack.settle()
    assert dms(stack, "alice") and any("INC-1" in m.text for m in dms(stack, "alice"))
    assert dms(stack, "bob") == []


def test_only_an_impact_start_declares_a_live_incident_that_began_then(stack: LocalStack):
    form = declare_form(stack, "alice")
    stack.driver.submit_view(
        "alice", form, {ids.TITLE_INPUT: "Search is slow", ids.PAST_STARTED_INPUT: "05:10"}
    )
    stack.settle()
    (incident,) = incidents(stack)
    assert not incident.after_the_fact and incident.status == Status.INVESTIGATING
    assert incident.declared_at == NOW
    assert incident.impact_started_at == datetime(2026, 11, 27, 13, 10, tzinfo=UTC)
    assert entry(stack, 2).kind == EntryKind.IMPACT_START
    announcement = [m for m in stack.workspace.messages("#incidents") if "INC-1" in m.text][0]
    assert "declared by <@UALICE>" in announcement.text


def test_a_second_submission_of_the_form_sets_the_milestones_once(stack: LocalStack):
    form = declare_form(stack, "alice")
    stack.driver.submit_view(
        "alice", form, {ids.TITLE_INPUT: "Search is slow", ids.PAST_STARTED_INPUT: "05:10"}
    )
    assert stack.driver.resubmit_view(form).status == 200
    stack.settle()
    (incident,) = incidents(stack)
    assert incident.impact_started_at == datetime(2026, 11, 27, 13, 10, tzinfo=UTC)
    with stack.runtime.uow() as uow:
        kinds = uow.session.scalars(
            select(TimelineEntry.kind).where(TimelineEntry.incident_id == incident.id)
        ).all()
    assert sorted(kinds) == sorted([EntryKind.DECLARED, EntryKind.IMPACT_START])


@pytest.mark.parametrize(
    ("times", "refused"),
    [
        # Recorded after the fact, the wrong way round: beside the later of the two.
        (
            {ids.PAST_STARTED_INPUT: "04:00", ids.PAST_RESOLVED_INPUT: "03:00"},
            {ids.PAST_RESOLVED_BLOCK: "before the impact start"},
        ),
        (
            {
                ids.PAST_STARTED_INPUT: "03:00",
                ids.PAST_MITIGATED_INPUT: "05:00",
                ids.PAST_RESOLVED_INPUT: "04:00",
            },
            {ids.PAST_RESOLVED_BLOCK: "before the mitigation"},
        ),
        # Declared now, having begun earlier: the milestone that would come too early.
        (
            {ids.PAST_STARTED_INPUT: "04:00", ids.PAST_MITIGATED_INPUT: "03:30"},
            {ids.PAST_MITIGATED_BLOCK: "before the impact start"},
        ),
        # Every unreadable or future time at once, each beside its own field.
        (
            {
                ids.PAST_STARTED_INPUT: "half past nine",
                ids.PAST_DETECTED_INPUT: "04:00",
                ids.PAST_RESOLVED_INPUT: "2026-11-28 09:00 UTC",
            },
            {ids.PAST_STARTED_BLOCK: "", ids.PAST_RESOLVED_BLOCK: "future"},
        ),
        ({ids.PAST_RESOLVED_INPUT: "05:00"}, {ids.PAST_STARTED_BLOCK: "impact started"}),
        ({ids.PAST_DETECTED_INPUT: "05:00"}, {ids.PAST_STARTED_BLOCK: "impact started"}),
    ],
)
def test_times_that_cannot_be_read_or_are_out_of_order_are_refused_and_nothing_is_recorded(
    stack: LocalStack, times: dict, refused: dict
):
    form = declare_form(stack, "alice")
    response = stack.driver.submit_view("alice", form, {ids.TITLE_INPUT: "Search is slow", **times})
    answer = errors(response)
    assert set(answer) == set(refused), answer
    for block, said in refused.items():
        assert said in answer[block], answer[block]
    assert stack.workspace.open_views("alice")
    stack.settle()
    assert incidents(stack) == []
    assert not [c for c in stack.workspace.channels() if c.name.startswith("inc-")]


def test_the_form_that_opens_with_record_refuses_to_record_without_a_resolution(
    stack: LocalStack,
):
    """The form ``/incident record`` opens carries ``after_the_fact`` in its metadata: without
    a resolution (a client that skipped Slack's required check) nothing is declared."""
    form = declare_form(stack, "alice")
    record = stack.workspace.view(form)
    assert record is not None
    record.view["private_metadata"] = json.dumps({"after_the_fact": True})
    answer = errors(
        stack.driver.submit_view(
            "alice", form, {ids.TITLE_INPUT: "Old outage", ids.PAST_STARTED_INPUT: "05:00"}
        )
    )
    assert list(answer) == [ids.PAST_RESOLVED_BLOCK]
    stack.settle()
    assert incidents(stack) == []


def test_the_channel_ready_answer_after_declaring_mentions_the_record_form(stack: LocalStack):
    declare(stack, "Search is slow")
    told = [t for t in ephemeral_texts(stack, "alice", "#general") if "is open in" in t]
    assert told and "`/incident record`" in told[-1]


def test_times_are_read_at_the_runtimes_clock(stack: LocalStack, clock: Clock):
    clock.advance(hours=3)  # 09:00 for alice
    form = declare_form(stack, "alice")
    stack.driver.submit_view(
        "alice", form, {ids.TITLE_INPUT: "Search is slow", ids.PAST_STARTED_INPUT: "08:30"}
    )
    stack.settle()
    (incident,) = incidents(stack)
    assert incident.impact_started_at == NOW + timedelta(hours=2, minutes=30)


def test_the_lead_chosen_in_the_form_leads_the_incident_recorded_after_the_fact(
    stack: LocalStack,
):
    form = declare_form(stack, "bob")
    stack.driver.submit_view(
        "bob",
        form,
        {
            ids.TITLE_INPUT: "Checkout 500s",
            ids.LEAD_INPUT: "UCHANDRA",
            ids.PAST_STARTED_INPUT: "09:00",
            ids.PAST_RESOLVED_INPUT: "10:00",
        },
    )
    stack.settle()
    (incident,) = incidents(stack)
    with stack.runtime.uow() as uow:
        stored = uow.session.get(Incident, incident.id)
        assert stored is not None and stored.holder("lead") == "UCHANDRA"
    assert "UCHANDRA" in stack.workspace.members(incident_channel(stack, 1).id)
