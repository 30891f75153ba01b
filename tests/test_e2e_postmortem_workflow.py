"""Shaping the postmortem from Slack: impact start, template, document status, versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from incidentbot.domain.models import EntryKind, Incident, TimelineEntry
from incidentbot.entrypoints.local import LocalStack
from incidentbot.slack import ids
from tests.e2e import declare, ephemeral_texts


def incident(stack: LocalStack) -> Incident:
    with stack.runtime.uow() as uow:
        return uow.session.query(Incident).one()


def la_minutes_ago(minutes: int) -> datetime:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).astimezone(
        ZoneInfo("America/Los_Angeles")
    )


def test_started_at_sets_the_impact_start_in_the_authors_zone(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    wall = la_minutes_ago(45)
    stack.driver.command("alice", channel.id, f"started at {wall:%H:%M}")
    assert f"{wall:%H:%M}" in ephemeral_texts(stack, "alice", channel.id)[-1]
    assert incident(stack).impact_started_at == wall.replace(second=0, microsecond=0)


def test_started_at_refuses_the_future_and_unknown_zones(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    before = incident(stack).impact_started_at
    for text, says in (
        ("started at 2099-01-01 10:00 UTC", "future"),
        ("started at 10:00 Europe/Berln", "Europe/Berln"),
        ("started yesterday", "started at 14:05"),
    ):
        stack.driver.command("alice", channel.id, text)
        assert says in ephemeral_texts(stack, "alice", channel.id)[-1]
    assert incident(stack).impact_started_at == before


def test_words_after_the_impact_start_say_what_started(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    wall = la_minutes_ago(20)
    stack.driver.command("alice", channel.id, f"started at {wall:%H:%M} cache node lost")
    with stack.runtime.uow() as uow:
        (entry,) = uow.session.scalars(
            select(TimelineEntry).where(TimelineEntry.kind == EntryKind.IMPACT_START)
        )
        assert entry.text == "Impact started: cache node lost"
        assert entry.occurred_at == wall.replace(second=0, microsecond=0)


def test_an_earlier_backdated_note_asks_and_a_yes_moves_the_impact_start(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.join("bob", channel.id)
    wall = la_minutes_ago(30)
    stack.driver.command("alice", channel.id, f"note at {wall:%H:%M} first errors in the logs")
    stack.settle()
    (question,) = [
        m for m in stack.workspace.messages(channel.id) if "Did the impact start" in m.text
    ]
    assert "Did the impact start at" in question.text
    response = stack.driver.block_action(
        "bob", ids.IMPACT_CONFIRM, channel=channel.id, message_ts=question.ts
    )
    assert response.status == 200
    stack.settle()
    assert incident(stack).impact_started_at == wall.replace(second=0, microsecond=0)
    settled = stack.workspace.message(channel.id, question.ts)
    assert "<@UBOB> set the impact start" in settled.text
    assert not any(b.get("type") == "actions" for b in settled.blocks)


def test_a_no_keeps_the_impact_start(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    declared = incident(stack).impact_started_at
    stack.driver.command("alice", channel.id, f"note at {la_minutes_ago(30):%H:%M} early sign")
    stack.settle()
    question = stack.workspace.messages(channel.id)[-1]
    stack.driver.block_action("alice", ids.IMPACT_KEEP, channel=channel.id, message_ts=question.ts)
    stack.settle()
    assert incident(stack).impact_started_at == declared
    assert "kept the impact start" in stack.workspace.message(channel.id, question.ts).text


def test_many_earlier_notes_ask_once_and_none_after_the_mitigation(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    for minutes in (50, 40, 30):
        stack.driver.command("alice", channel.id, f"note at {la_minutes_ago(minutes):%H:%M} sign")
    stack.settle()
    questions = [
        m for m in stack.workspace.messages(channel.id) if "Did the impact start" in m.text
    ]
    assert len(questions) == 1


def test_a_backdated_all_clear_after_the_mitigation_asks_nothing(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    # Mitigated before anyone asked: impact start moved earlier, then an all-clear note that is
    # still before the declaration but after the mitigation.
    stack.driver.command("alice", channel.id, f"started at {la_minutes_ago(60):%H:%M}")
    stack.driver.command("alice", channel.id, f"mitigated at {la_minutes_ago(40):%H:%M}")
    stack.driver.command("alice", channel.id, f"note at {la_minutes_ago(30):%H:%M} all clear")
    stack.settle()
    assert not any("Did the impact start" in m.text for m in stack.workspace.messages(channel.id))


def test_a_later_backdated_note_asks_nothing(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.command("alice", channel.id, "note nothing unusual")
    stack.settle()
    assert not any("Did the impact start" in m.text for m in stack.workspace.messages(channel.id))


def test_postmortem_template_and_status_choose_what_the_next_version_shows(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    run = stack.driver.command
    run("alice", channel.id, "postmortem template")
    assert "Templates:" in ephemeral_texts(stack, "alice", channel.id)[-1]
    run("alice", channel.id, "postmortem template no-such-template")
    assert "no postmortem template" in ephemeral_texts(stack, "alice", channel.id)[-1]
    run("alice", channel.id, "postmortem template default")
    assert "will use the *default* template" in ephemeral_texts(stack, "alice", channel.id)[-1]
    run("alice", channel.id, "postmortem status review")
    run("alice", channel.id, "postmortem status review")
    assert "already in review" in ephemeral_texts(stack, "alice", channel.id)[-1]
    run("alice", channel.id, "postmortem status sideways")
    assert "draft, review, final" in ephemeral_texts(stack, "alice", channel.id)[-1]
    state = incident(stack)
    assert (state.postmortem_template, state.postmortem_status) == ("default", "in review")
