"""A captured message edited or deleted in Slack: its timeline entry follows, history kept.

Slack sends these as ``message`` events, only to an app subscribed to ``message.channels`` /
``message.groups`` whose bot is in the channel. A captured message heads a thread (the bot
confirms there), so deleting it leaves a tombstone and Slack reports a ``message_changed``;
only a message without replies goes with ``message_deleted``.
"""

from __future__ import annotations

from typing import cast

import pytest
from sqlalchemy import select

from incidentbot.domain.models import EntryKind, ProcessedEvent, RevisionChange, TimelineEntry
from incidentbot.domain.models import TimelineRevision as Revision
from incidentbot.entrypoints.local import LocalStack
from incidentbot.slack.deps import Deps
from incidentbot.slack.events.messages import follow_slack
from tests.e2e import declare
from tests.test_e2e_postmortem import uploaded_postmortems
from tests.test_e2e_private import declare_private


def captured(stack: LocalStack) -> list[TimelineEntry]:
    with stack.runtime.uow() as uow:
        stmt = select(TimelineEntry).where(TimelineEntry.kind == EntryKind.PINNED)
        return list(uow.session.scalars(stmt.order_by(TimelineEntry.id)))


def revisions(stack: LocalStack) -> list[Revision]:
    with stack.runtime.uow() as uow:
        return list(uow.session.scalars(select(Revision).order_by(Revision.id)))


def claimed_events(stack: LocalStack) -> set[str]:
    with stack.runtime.uow() as uow:
        return set(uow.session.scalars(select(ProcessedEvent.event_id)))


def timeline_section(markdown: str) -> str:
    """The postmortem's Timeline section, up to the next section of the same level."""
    lines = markdown.splitlines()
    start = next(
        i
        for i, line in enumerate(lines)
        if line.startswith("#") and line.lstrip("#").strip().startswith("Timeline")
    )
    level = len(lines[start]) - len(lines[start].lstrip("#"))
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if lines[i].startswith("#") and len(lines[i]) - len(lines[i].lstrip("#")) <= level
        ),
        len(lines),
    )
    return "\n".join(lines[start:end])


def pinned_message(stack: LocalStack, channel_id: str, user: str, text: str) -> str:
    """``user`` writes ``text`` and pins it; returns its ts once the bot has confirmed it."""
    stack.driver.join(user, channel_id)
    ts = stack.driver.post_message(user, channel_id, text)
    assert stack.driver.pin(user, channel_id, ts).response.status == 200
    stack.settle()
    assert [m.text for m in stack.workspace.replies(channel_id, ts)] == [
        ":pushpin: Added to the INC-1 timeline."
    ]
    return ts


def test_a_pinned_message_edited_in_slack_says_the_new_text_and_keeps_the_old(
    stack: LocalStack,
):
    channel = declare(stack, "Search is slow")
    ts = pinned_message(stack, channel.id, "bob", "p99 latency is back under 200 ms")
    delivery = stack.driver.edit_message("bob", channel.id, ts, "p99 latency is back under 300 ms")
    assert delivery is not None and delivery.response.status == 200
    stack.settle()

    (entry,) = captured(stack)
    assert entry.text == "p99 latency is back under 300 ms" and entry.deleted_at is None
    (revision,) = revisions(stack)
    assert (revision.entry_id, revision.change, revision.source) == (
        entry.id,
        RevisionChange.TEXT,
        "slack",
    )
    assert (revision.old_text, revision.new_text, revision.revised_by) == (
        "p99 latency is back under 200 ms",
        "p99 latency is back under 300 ms",
        "UBOB",
    )


def test_a_pinned_message_deleted_in_slack_leaves_the_postmortem_and_keeps_its_history(
    stack: LocalStack,
):
    channel = declare(stack, "Search is slow")
    kept = pinned_message(stack, channel.id, "erik", "rolled back to build 4411")
    gone = pinned_message(stack, channel.id, "bob", "the CDN is at fault")
    delivery = stack.driver.delete_message("bob", channel.id, gone)
    assert delivery is not None and delivery.response.status == 200
    # It heads the bot's confirmation thread: Slack keeps a tombstone and says "changed".
    event = delivery.envelope["event"]
    assert (event["subtype"], event["message"]["subtype"]) == ("message_changed", "tombstone")
    stack.settle()

    live, deleted = captured(stack)
    assert (live.source_key, live.deleted_at) == (f"{channel.id}:{kept}", None)
    assert deleted.source_key == f"{channel.id}:{gone}" and deleted.deleted_at is not None
    assert deleted.text == "the CDN is at fault"
    (revision,) = revisions(stack)
    assert (revision.entry_id, revision.change, revision.source) == (
        deleted.id,
        RevisionChange.DELETE,
        "slack",
    )
    assert revision.old_text == "the CDN is at fault"

    assert stack.driver.command("alice", channel.id, "close").status == 200
    stack.settle()
    ((_, markdown),) = uploaded_postmortems(stack, channel.id)
    timeline = timeline_section(markdown)
    assert "rolled back to build 4411" in timeline
    assert "the CDN is at fault" not in timeline
    assert len(revisions(stack)) == 1  # closing keeps the record as it was


def test_a_captured_message_without_replies_deleted_in_slack_leaves_the_timeline(
    stack: LocalStack,
):
    channel = declare(stack, "Search is slow")
    ts = pinned_message(stack, channel.id, "bob", "wrong graph, sorry")
    # A workspace admin removes the bot's confirmation; the message heads no thread any more.
    (confirmation,) = stack.workspace.replies(channel.id, ts)
    stack.workspace.add_user("root", real_name="Workspace Admin").is_admin = True
    stack.workspace.join(channel.id, stack.workspace.resolve_user("root").id)
    stack.driver.delete_message("root", channel.id, confirmation.ts)
    delivery = stack.driver.delete_message("bob", channel.id, ts)
    assert delivery is not None
    assert (delivery.envelope["event"]["subtype"], delivery.envelope["event"]["deleted_ts"]) == (
        "message_deleted",
        ts,
    )
    assert stack.workspace.message(channel.id, ts) is None
    stack.settle()
    (entry,) = captured(stack)
    assert entry.deleted_at is not None
    assert [(r.change, r.old_text) for r in revisions(stack)] == [
        (RevisionChange.DELETE, "wrong graph, sorry")
    ]


def test_edits_of_messages_nobody_captured_change_nothing(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.join("bob", channel.id)
    ts = stack.driver.post_message("bob", channel.id, "is it DNS?")
    posted = stack.driver.last_delivery  # Slack sends the new message too: acknowledged
    assert posted is not None and posted.response.status == 200
    edited = stack.driver.edit_message("bob", channel.id, ts, "is it DNS? (it is always DNS)")
    deleted = stack.driver.delete_message("bob", channel.id, ts)
    stack.settle()
    for delivery in (posted, edited, deleted):
        assert delivery is not None and delivery.response.status == 200
    assert captured(stack) == [] and revisions(stack) == []
    sent = {d.envelope["event_id"] for d in (posted, edited, deleted) if d is not None}
    assert not sent & claimed_events(stack)  # nothing to do, nothing written


def test_a_redelivered_edit_is_recorded_once_even_after_a_later_edit(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    ts = pinned_message(stack, channel.id, "bob", "error rate 40%")
    first = stack.driver.edit_message("bob", channel.id, ts, "error rate 45%")
    second = stack.driver.edit_message("bob", channel.id, ts, "error rate 50%")
    assert first is not None and second is not None
    for attempt in (1, 2):
        assert stack.driver.redeliver(first, retry_num=attempt).response.status == 200
    assert stack.driver.redeliver(second).response.status == 200
    stack.settle()

    (entry,) = captured(stack)
    assert entry.text == "error rate 50%"
    assert [(r.old_text, r.new_text) for r in revisions(stack)] == [
        ("error rate 40%", "error rate 45%"),
        ("error rate 45%", "error rate 50%"),
    ]


def test_an_older_edit_delivered_late_does_not_undo_a_newer_one(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    ts = pinned_message(stack, channel.id, "bob", "error rate 40%")
    first = stack.driver.edit_message("bob", channel.id, ts, "error rate 45%")
    stack.driver.edit_message("bob", channel.id, ts, "error rate 50%")
    assert first is not None
    # Slack's deliveries are not ordered: the first edit arrives again as a separate event.
    late = {**first.envelope, "event_id": "EvLATE0001"}
    assert stack.driver.deliver(late).response.status == 200
    stack.settle()

    (entry,) = captured(stack)
    assert entry.text == "error rate 50%"
    assert len(revisions(stack)) == 2


def test_unpinning_or_unreacting_an_edited_message_keeps_its_entry(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    ts = pinned_message(stack, channel.id, "bob", "cache hit rate fell to 3%")
    stack.driver.react("bob", channel.id, ts, "pushpin")
    stack.driver.edit_message("bob", channel.id, ts, "cache hit rate fell to 2%")
    assert stack.driver.unpin("bob", channel.id, ts).response.status == 200
    assert stack.driver.unreact("bob", channel.id, ts, "pushpin").response.status == 200
    stack.settle()

    assert stack.workspace.pins(channel.id) == [stack.workspace.messages(channel.id)[0].ts]
    (entry,) = captured(stack)
    assert (entry.text, entry.deleted_at) == ("cache hit rate fell to 2%", None)
    assert [r.change for r in revisions(stack)] == [RevisionChange.TEXT]


def test_a_message_edited_in_a_private_incident_channel_follows_too(stack: LocalStack):
    channel_id = declare_private(stack)
    stack.driver.join("dana", channel_id, inviter="bob")
    ts = stack.driver.post_message("dana", channel_id, "key rotated at 14:05")
    stack.driver.pin("dana", channel_id, ts)
    stack.settle()
    delivery = stack.driver.edit_message("dana", channel_id, ts, "key rotated at 14:07")
    assert delivery is not None and delivery.envelope["event"]["channel_type"] == "group"
    stack.settle()
    (entry,) = captured(stack)
    assert entry.text == "key rotated at 14:07"
    assert [r.revised_by for r in revisions(stack)] == ["UDANA"]


@pytest.mark.parametrize("subscription", ["message.channels", "message.groups"])
def test_without_the_message_subscription_an_edit_never_reaches_the_bot(
    stack: LocalStack, subscription: str
):
    public = subscription == "message.channels"
    channel_id = declare(stack, "Search is slow").id if public else declare_private(stack)
    person = "bob" if public else "dana"
    if public:
        ts = pinned_message(stack, channel_id, person, "queue depth 12k")
    else:
        stack.driver.join(person, channel_id, inviter="bob")
        ts = stack.driver.post_message(person, channel_id, "queue depth 12k")
        stack.driver.pin(person, channel_id, ts)
        stack.settle()
    stack.workspace.subscribed_events.discard(subscription)
    assert stack.driver.edit_message(person, channel_id, ts, "queue depth 20k") is None
    stack.settle()

    assert stack.driver.withheld[-1]["event"]["subtype"] == "message_changed"
    edited = stack.workspace.message(channel_id, ts)
    assert edited is not None and edited.text == "queue depth 20k"  # people see the edit
    (entry,) = captured(stack)
    assert entry.text == "queue depth 12k" and revisions(stack) == []


def test_the_bots_own_edits_of_its_pinned_summary_change_nothing(stack: LocalStack):
    """Slack tells the bot of its own messages too; its summary, edited on every change,
    must not turn into revisions even when someone put it on the timeline."""
    channel = declare(stack, "Search is slow")
    summary = stack.workspace.messages(channel.id)[0]
    stack.driver.react("alice", channel.id, summary.ts, "pushpin")
    stack.settle()
    (entry,) = captured(stack)
    stack.workspace.take_app_changes()
    assert stack.driver.command("alice", channel.id, "sev 1").status == 200
    stack.settle()

    sent = stack.driver.deliver_app_changes()
    edits = [d for d in sent if d.envelope["event"].get("subtype") == "message_changed"]
    assert any(d.envelope["event"]["message"]["ts"] == summary.ts for d in edits)
    assert all(d.response.status == 200 for d in sent)
    stack.settle()
    (after,) = captured(stack)
    assert after.text == entry.text and revisions(stack) == []
    assert not {d.envelope["event_id"] for d in sent} & claimed_events(stack)


class _NoDatabase:
    """Deps whose units of work fail the test: these events must not reach the database."""

    def uow_factory(self) -> None:
        raise AssertionError("opened a unit of work")


BOT = {"user": "UBOT", "bot_id": "B1", "text": "*SEV1* investigating", "ts": "1.000001"}


@pytest.mark.parametrize(
    "event",
    [
        {"type": "message", "user": "UBOB", "text": "is it DNS?", "ts": "1.000002"},
        {"type": "message", "subtype": "channel_join", "user": "UBOB", "ts": "1.000003"},
        {"type": "message", "subtype": "thread_broadcast", "user": "UBOB", "ts": "1.000004"},
        {"type": "message", "subtype": "bot_message", "bot_id": "B2", "ts": "1.000005"},
        {"type": "message", "subtype": "message_changed", "message": BOT, "previous_message": BOT},
        {
            "type": "message",
            "subtype": "message_changed",
            "message": {**BOT, "user": None},  # known by its bot_id alone
            "previous_message": {**BOT, "user": None},
        },
        {
            "type": "message",
            "subtype": "message_deleted",
            "deleted_ts": "1.0",
            "previous_message": BOT,
        },
    ],
    ids=["plain", "join", "broadcast", "other bot", "own edit", "own edit by bot_id", "own delete"],
)
def test_other_message_events_are_ignored_before_any_database_work(event: dict):
    follow_slack(
        cast(Deps, _NoDatabase()),
        event_id="Ev1",
        event={**event, "channel": "C1", "channel_type": "channel"},
        bot_user_id="UBOT",
        bot_id="B1",
    )


def test_a_follow_that_could_change_something_does_open_a_unit_of_work():
    """The guard above is not vacuous: an edit of someone's message does reach the database."""
    edit = {
        "type": "message",
        "subtype": "message_changed",
        "channel": "C1",
        "message": {"user": "UBOB", "text": "new", "ts": "1.000001"},
        "previous_message": {"user": "UBOB", "text": "old", "ts": "1.000001"},
    }
    with pytest.raises(AssertionError, match="opened a unit of work"):
        follow_slack(
            cast(Deps, _NoDatabase()),
            event_id="Ev2",
            event=edit,
            bot_user_id="UBOT",
            bot_id="B1",
        )
