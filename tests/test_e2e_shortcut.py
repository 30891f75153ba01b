"""The "Add to incident timeline" message shortcut, used from the local workspace."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from incidentbot.domain.models import EntryKind, TimelineEntry
from incidentbot.entrypoints.local import LocalStack
from incidentbot.slack import ids
from tests.e2e import declare, ephemeral_texts


def captured(stack: LocalStack) -> list[TimelineEntry]:
    with stack.runtime.uow() as uow:
        return list(
            uow.session.scalars(
                select(TimelineEntry)
                .where(TimelineEntry.kind == EntryKind.PINNED)
                .order_by(TimelineEntry.id)
            )
        )


def answers(stack: LocalStack, user: str, channel: str) -> list[str]:
    """What ``user`` was told privately about the timeline (not, say, a newcomer's briefing)."""
    return [text for text in ephemeral_texts(stack, user, channel) if "INC-1 timeline" in text]


def run_shortcut(stack: LocalStack, user: str, channel: str, ts: str) -> str:
    """``user`` runs the shortcut on message ``ts``; returns the modal it opened."""
    response = stack.driver.message_shortcut(user, ids.ADD_TO_TIMELINE, channel, ts)
    assert response.status == 200, response.body
    (modal,) = stack.workspace.open_views(user)
    return modal.id


def test_a_message_added_with_a_note_lands_at_its_own_time_with_its_author(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    for person in ("bob", "dana"):
        stack.driver.join(person, channel.id)
    ts = stack.driver.post_message("bob", channel.id, "p99 latency jumped to 9 s at the edge")

    modal_id = run_shortcut(stack, "dana", channel.id, ts)
    form = stack.workspace.view(modal_id)
    assert form is not None and "INC-1" in json.dumps(form.view["blocks"])
    assert "p99 latency jumped" in json.dumps(form.view["blocks"])
    answer = stack.driver.submit_view(
        "dana", modal_id, {ids.TIMELINE_NOTE_INPUT: "First sign of the problem"}
    )
    assert answer.status == 200
    assert stack.workspace.open_views("dana") == []
    stack.settle()

    (entry,) = captured(stack)
    assert entry.text == "p99 latency jumped to 9 s at the edge"
    assert entry.occurred_at == datetime.fromtimestamp(float(ts), tz=UTC)
    assert (entry.source_author_id, entry.author_id) == ("UBOB", "UDANA")
    assert entry.details == {"notes": [{"by": "UDANA", "text": "First sign of the problem"}]}
    assert entry.permalink and ts.replace(".", "") in entry.permalink
    # Told privately, in the channel where the shortcut was used.
    (told,) = answers(stack, "dana", channel.id)
    assert "Added to the INC-1 timeline" in told and "with your note" in told
    assert answers(stack, "bob", channel.id) == []


def test_the_note_shows_in_the_postmortem_timeline(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.join("bob", channel.id)
    ts = stack.driver.post_message("bob", channel.id, "cache hit rate fell to 3%")
    modal_id = run_shortcut(stack, "alice", channel.id, ts)
    stack.driver.submit_view(
        "alice", modal_id, {ids.TIMELINE_NOTE_INPUT: "cold cache after deploy"}
    )
    stack.driver.command("alice", channel.id, "close")
    stack.settle()
    (upload,) = stack.workspace.files_in(channel.id)
    markdown = stack.workspace.file_content(upload.id).decode()
    rows = [line for line in markdown.splitlines() if "cache hit rate fell to 3%" in line]
    timeline_row = [row for row in rows if row.startswith("|")]
    assert timeline_row and all("noted by alice: cold cache after deploy" in r for r in rows)


def test_without_a_note_and_on_a_thread_reply_it_works_the_same(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.join("erik", channel.id)
    parent = stack.driver.post_message("erik", channel.id, "looking at the dashboards")
    reply = stack.driver.post_message("erik", channel.id, "found it: build 4411", thread_ts=parent)
    modal_id = run_shortcut(stack, "erik", channel.id, reply)
    stack.driver.submit_view("erik", modal_id, {})
    stack.settle()
    (entry,) = captured(stack)
    assert entry.text == "found it: build 4411"
    assert entry.occurred_at == datetime.fromtimestamp(float(reply), tz=UTC)
    assert entry.details is None
    (told,) = answers(stack, "erik", channel.id)
    assert "Added to the INC-1 timeline" in told and "note" not in told


def test_a_message_already_pinned_is_not_added_twice_and_keeps_the_note(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    for person in ("bob", "dana"):
        stack.driver.join(person, channel.id)
    ts = stack.driver.post_message("bob", channel.id, "DNS TTL was 1 day")
    stack.driver.pin("bob", channel.id, ts)
    stack.settle()

    modal_id = run_shortcut(stack, "dana", channel.id, ts)
    stack.driver.submit_view("dana", modal_id, {ids.TIMELINE_NOTE_INPUT: "why failover was slow"})
    stack.settle()
    # Submitting the same form again (a double click) changes nothing more.
    assert stack.driver.resubmit_view(modal_id).status == 200
    # A shortcut on the same message again, without a note: still one entry.
    stack.driver.submit_view("dana", run_shortcut(stack, "dana", channel.id, ts), {})
    stack.settle()

    (entry,) = captured(stack)
    assert entry.author_id == "UBOB" and entry.also_marked_by == ["UDANA"]
    assert entry.details == {"notes": [{"by": "UDANA", "text": "why failover was slow"}]}
    assert len(stack.workspace.replies(channel.id, ts)) == 1  # one ":pushpin: Added" reply
    told = answers(stack, "dana", channel.id)
    assert len(told) == 2
    assert "already on the INC-1 timeline" in told[0] and "your note is kept" in told[0]
    assert "nothing changed" in told[-1]


def test_outside_an_incident_channel_it_explains_privately_and_changes_nothing(
    stack: LocalStack,
):
    declare(stack, "Search is slow")
    ts = stack.driver.post_message("bob", "#general", "is search slow for anyone else?")
    modal_id = run_shortcut(stack, "bob", "#general", ts)
    notice = stack.workspace.view(modal_id)
    assert notice is not None
    shown = json.dumps(notice.view["blocks"])
    assert "incident's channel" in shown and "/incident list" in shown
    assert notice.view.get("submit") is None  # nothing to submit
    stack.settle()
    assert captured(stack) == []
    assert stack.workspace.replies("#general", ts) == []


def test_when_notes_are_restricted_the_form_refuses_and_stays_open(db_url: str):
    with LocalStack(database_url=db_url, restricted_actions=frozenset({"notes"})) as stack:
        channel = declare(stack, "Search is slow")
        stack.driver.join("erik", channel.id)
        ts = stack.driver.post_message("erik", channel.id, "I restarted it")
        modal_id = run_shortcut(stack, "erik", channel.id, ts)
        answer = stack.driver.submit_view("erik", modal_id, {ids.TIMELINE_NOTE_INPUT: "fixed"})
        assert answer.json()["response_action"] == "errors"
        assert ids.TIMELINE_NOTE_BLOCK in answer.json()["errors"]
        stack.settle()
        assert captured(stack) == []


def test_when_slack_does_not_open_the_form_the_person_is_told_to_try_again(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    ts = stack.driver.post_message("alice", channel.id, "error rate 40%")
    stack.workspace.inject_fault("views.open", error="expired_trigger_id")
    response = stack.driver.message_shortcut("alice", ids.ADD_TO_TIMELINE, channel.id, ts)
    assert response.status == 200
    assert "try the shortcut again" in ephemeral_texts(stack, "alice", channel.id)[-1]
    assert stack.workspace.open_views("alice") == []
    stack.settle()
    assert captured(stack) == []
