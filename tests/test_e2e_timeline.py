"""Notes, captured messages and updates reach the timeline once, at the right moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from incidentbot.domain.models import EntryKind, TimelineEntry
from incidentbot.entrypoints.local import LocalStack
from tests.e2e import declare, ephemeral_texts, mention


def entries(stack: LocalStack, kind: EntryKind | None = None) -> list[TimelineEntry]:
    with stack.runtime.uow() as uow:
        stmt = select(TimelineEntry).order_by(TimelineEntry.id)
        if kind is not None:
            stmt = stmt.where(TimelineEntry.kind == kind)
        return list(uow.session.scalars(stmt))


def test_a_note_is_recorded_and_shown_in_the_channel(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.join("bob", channel.id)
    response = stack.driver.command("bob", channel.id, "note Restarted search-7")
    assert response.status == 200
    assert "Added to the INC-1 timeline" in ephemeral_texts(stack, "bob", channel.id)[-1]
    stack.settle()
    (note,) = entries(stack, EntryKind.NOTE)
    assert (note.text, note.author_id) == ("Restarted search-7", "UBOB")
    assert any(
        "Restarted search-7" in m.text and "<@UBOB>" in m.text
        for m in stack.workspace.messages(channel.id)
    )


def test_a_backdated_note_lands_at_the_right_utc_moment_for_a_responder_in_los_angeles(
    stack: LocalStack,
):
    channel = declare(stack, "Search is slow")
    la = ZoneInfo("America/Los_Angeles")
    # A wall-clock time 20 minutes ago in Los Angeles, typed without a zone by alice (LA).
    wall = (datetime.now(UTC) - timedelta(minutes=20)).astimezone(la)
    stack.driver.command("alice", channel.id, f"note at {wall:%H:%M} error rate started climbing")
    stack.settle()
    (note,) = entries(stack, EntryKind.NOTE)
    expected = wall.replace(second=0, microsecond=0).astimezone(UTC)
    assert note.occurred_at == expected
    assert note.text == "error rate started climbing"
    reply = ephemeral_texts(stack, "alice", channel.id)[-1]
    assert f"{wall:%H:%M}" in reply and ("PST" in reply or "PDT" in reply)


def test_a_backdated_note_with_an_explicit_zone_ignores_the_authors_zone(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.join("chandra", channel.id)
    moment = (datetime.now(UTC) - timedelta(hours=1)).replace(second=0, microsecond=0)
    stack.driver.command("chandra", channel.id, f"note at {moment:%Y-%m-%d %H:%M} UTC cache cold")
    stack.settle()
    (note,) = entries(stack, EntryKind.NOTE)
    assert note.occurred_at == moment


def test_a_message_pinned_and_reacted_to_is_recorded_once(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    for person in ("bob", "dana"):
        stack.driver.join(person, channel.id)
    ts = stack.driver.post_message("bob", channel.id, "p99 latency is back under 200 ms")
    assert stack.driver.pin("bob", channel.id, ts).response.status == 200
    assert stack.driver.react("dana", channel.id, ts, "pushpin").response.status == 200
    assert stack.driver.react("bob", channel.id, ts, "pushpin").response.status == 200
    stack.settle()
    (captured,) = entries(stack, EntryKind.PINNED)
    assert captured.text == "p99 latency is back under 200 ms"
    assert captured.occurred_at == datetime.fromtimestamp(float(ts), tz=UTC)
    assert captured.also_marked_by == ["UDANA"]
    assert captured.permalink and ts.replace(".", "") in captured.permalink
    thread = stack.workspace.replies(channel.id, ts)
    assert [m.text for m in thread] == [":pushpin: Added to the INC-1 timeline."]


def test_a_reaction_alone_fetches_the_message_text(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.join("erik", channel.id)
    ts = stack.driver.post_message("erik", channel.id, "rolled back to build 4411")
    stack.driver.react("erik", channel.id, ts, "pushpin")
    stack.driver.react("erik", channel.id, ts, "eyes")  # other reactions are not captured
    stack.settle()
    (captured,) = entries(stack, EntryKind.PINNED)
    assert (captured.text, captured.source_author_id) == ("rolled back to build 4411", "UERIK")


def test_slacks_redelivery_of_an_event_is_acknowledged_and_recorded_once(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.join("bob", channel.id)
    ts = stack.driver.post_message("bob", channel.id, "DNS TTL was 1 day")
    delivery = stack.driver.react("bob", channel.id, ts, "pushpin")
    for attempt in (1, 2, 3):
        again = stack.driver.redeliver(delivery, retry_num=attempt)
        assert again.response.status == 200
    stack.settle()
    assert len(entries(stack, EntryKind.PINNED)) == 1
    assert len(stack.workspace.replies(channel.id, ts)) == 1


def test_pins_outside_incident_channels_are_ignored(stack: LocalStack):
    declare(stack, "Search is slow")
    ts = stack.driver.post_message("bob", "#general", "lunch?")
    assert stack.driver.pin("bob", "#general", ts).response.status == 200
    stack.settle()
    assert entries(stack, EntryKind.PINNED) == []


def test_summary_impact_update_and_action_items(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    run = stack.driver.command
    assert run("alice", channel.id, "summary Search p99 went from 200 ms to 9 s").status == 200
    assert run("alice", channel.id, "impact 30% of searches timed out").status == 200
    assert run("alice", channel.id, "update Rolled back; watching latency").status == 200
    owner = mention("UBOB")
    assert (
        run("alice", channel.id, f"action Alert on search p99 {owner} due 2099-01-15").status == 200
    )
    stack.settle()
    summary = str(stack.workspace.messages(channel.id)[0].blocks)
    assert "Search p99 went from 200 ms to 9 s" in summary and "30% of searches" in summary
    announcement = stack.workspace.messages("#incidents")[-1]
    (thread_reply,) = stack.workspace.replies("#incidents", announcement.ts)
    assert "Rolled back; watching latency" in thread_reply.text
    assert "owned by <@UBOB>, due 2099-01-15" in ephemeral_texts(stack, "alice", channel.id)[-1]
    kinds = [e.kind for e in entries(stack)]
    for kind in (EntryKind.SUMMARY, EntryKind.IMPACT, EntryKind.UPDATE, EntryKind.ACTION):
        assert kind in kinds


def test_the_summary_message_shows_the_latest_stakeholder_update(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    run = stack.driver.command
    assert run("alice", channel.id, "update Rolled back; watching latency").status == 200
    stack.settle()
    summary = stack.workspace.messages(channel.id)[0]
    assert "Latest update" in str(summary.blocks) and "watching latency" in str(summary.blocks)
    stack.driver.join("bob", channel.id)
    assert run("bob", channel.id, "update Latency normal; monitoring").status == 200
    stack.settle()
    summary = str(stack.workspace.messages(channel.id)[0].blocks)
    assert "Latency normal; monitoring" in summary and "<@UBOB>" in summary
    assert "watching latency" not in summary


def test_someone_joining_late_is_briefed_privately(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.command("alice", channel.id, "sev 2")
    stack.driver.join("erik", channel.id)
    stack.settle()
    (briefing,) = stack.workspace.ephemerals("UERIK", channel.id)
    assert "Welcome to the incident" in str(briefing.blocks) and "SEV2" in str(briefing.blocks)
    assert not stack.workspace.ephemerals("UERIK", "#general")


def test_a_rate_limited_lookup_before_the_ack_fails_fast_and_explains(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.join("chandra", channel.id)
    stack.workspace.inject_fault("users.info", status=429, retry_after=30)
    response = stack.driver.command("chandra", channel.id, "note at 0:01 cache went cold")
    assert response.status == 200
    assert "try again" in ephemeral_texts(stack, "chandra", channel.id)[-1]
    lookups = [c for c in stack.workspace.calls("users.info") if c.params.get("user") == "UCHANDRA"]
    assert len(lookups) == 1  # not retried while Slack waits for the acknowledgement
    assert entries(stack, EntryKind.NOTE) == []


def test_a_rate_limited_post_after_the_ack_is_retried_and_lands(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.workspace.inject_fault("chat.postMessage", status=429, retry_after=1)
    stack.driver.command("alice", channel.id, "note survived a rate limit")
    stack.settle()
    assert any("survived a rate limit" in m.text for m in stack.workspace.messages(channel.id))
    statuses = [c.status for c in stack.workspace.calls("chat.postMessage")]
    assert 429 in statuses


def test_an_action_items_due_date_is_the_last_due_in_the_text(stack: LocalStack):
    from incidentbot.domain.models import ActionItem

    channel = declare(stack, "Search is slow")
    owner = mention("UDANA")
    stack.driver.command(
        "alice", channel.id, f"action Document due diligence for vendors {owner} due 2099-03-01"
    )
    with stack.runtime.uow() as uow:
        (item,) = uow.session.scalars(select(ActionItem)).all()
        assert item.text == "Document due diligence for vendors"
        assert (item.owner_id, item.due_date.isoformat()) == ("UDANA", "2099-03-01")


def test_action_items_get_a_type_a_tracking_link_and_a_status(stack: LocalStack):
    from incidentbot.domain.models import ActionItem

    channel = declare(stack, "Search is slow")
    run = stack.driver.command
    run("alice", channel.id, "action Alert on search p99")
    run("alice", channel.id, "action 1 type detect")
    run("alice", channel.id, "action 1 link <https://tracker.example.com/SRCH-7>")
    run("alice", channel.id, "action 1 done")
    assert (
        "tracked at https://tracker.example.com/SRCH-7"
        in ephemeral_texts(stack, "alice", channel.id)[-1]
    )
    for bad, says in (
        ("action 2 done", "no action item 2"),
        ("action 1 type blame", "Types: prevent"),
        ("action 1 link not-a-url", "web address"),
    ):
        run("alice", channel.id, bad)
        assert says in ephemeral_texts(stack, "alice", channel.id)[-1]
    with stack.runtime.uow() as uow:
        (item,) = uow.session.scalars(select(ActionItem)).all()
        assert (item.kind, item.tracking_url, item.status) == (
            "detect",
            "https://tracker.example.com/SRCH-7",
            "done",
        )


def test_notes_added_faster_than_slack_takes_messages_are_echoed_together_in_order(
    stack: LocalStack,
):
    """Slack posts about one message per second per channel; a burst of notes is echoed in as
    few messages as fit, each entry once, in the order they were added."""
    channel = declare(stack, "Search is slow")
    stack.settle()
    stack.runtime.jobs.stop()  # the notes pile up as they would behind a slow Slack
    for i in range(12):
        stack.driver.command("alice", channel.id, f"note burst step {i}")
    # Echoes wait a moment for company (jobs.GATHER_WINDOW); ten entries fit one message.
    assert stack.runtime.jobs.run_pending(ahead=timedelta(seconds=1)) == 2
    echoes = [m.text for m in stack.workspace.messages(channel.id) if "burst step" in m.text]
    assert len(echoes) == 2
    lines = [line for echo in echoes for line in echo.splitlines()]
    assert [line.rsplit(" ", 1)[-1] for line in lines] == [str(i) for i in range(12)]
    assert all(line.startswith(":memo: Note from <@UALICE>") for line in lines)
    assert len(entries(stack, EntryKind.NOTE)) == 12


def test_messages_pinned_faster_than_slack_answers_are_completed_together_each_once(
    stack: LocalStack,
):
    """A pinning spree: each message gets its text, its permalink and one threaded reply."""
    channel = declare(stack, "Search is slow")
    stack.settle()
    stack.runtime.jobs.stop()  # the captures pile up as they would behind a slow Slack
    stamps = [stack.driver.post_message("alice", channel.id, f"graph {i}") for i in range(25)]
    for i, ts in enumerate(stamps):
        if i % 2:
            stack.driver.react("alice", channel.id, ts)
        else:
            stack.driver.pin("alice", channel.id, ts)
    assert stack.runtime.jobs.run_pending() == 25
    captured = entries(stack, EntryKind.PINNED)
    assert sorted(entry.text for entry in captured) == sorted(f"graph {i}" for i in range(25))
    assert all(entry.permalink for entry in captured)
    for ts in stamps:
        (reply,) = stack.workspace.replies(channel.id, ts)
        assert reply.text == ":pushpin: Added to the INC-1 timeline."
