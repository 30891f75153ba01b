"""The incident channel looks after itself: a current topic, a bookmark to the incident's page,
and, if configured, archiving some days after the incident is closed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from incidentbot.emulator import BOT_USER_ID
from incidentbot.entrypoints.local import LocalStack
from incidentbot.infra.config import ConfigError, load_settings
from tests.conftest import Clock
from tests.e2e import declare, ephemeral_texts, mention


def topic(stack: LocalStack, channel_id: str) -> str:
    channel = stack.workspace.channel(channel_id)
    assert channel is not None
    return channel.topic["value"]


def topic_changes(stack: LocalStack, channel_id: str) -> list[str]:
    return [
        m.text
        for m in stack.workspace.messages(channel_id, include_system=True)
        if m.subtype == "channel_topic"
    ]


def bookmarks(stack: LocalStack, channel_id: str) -> list[dict]:
    channel = stack.workspace.channel(channel_id)
    assert channel is not None
    return channel.bookmarks


def test_the_topic_names_severity_status_and_lead_from_the_start(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    assert topic(stack, channel.id) == "SEV3 | investigating | lead: <@UALICE>"


def test_the_topic_follows_severity_status_and_lead_changes(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.command("alice", channel.id, "sev 2")
    stack.settle()
    assert topic(stack, channel.id) == "SEV2 | investigating | lead: <@UALICE>"
    stack.driver.command("alice", channel.id, "status identified")
    stack.settle()
    assert topic(stack, channel.id) == "SEV2 | identified | lead: <@UALICE>"
    stack.driver.command("alice", channel.id, f"lead {mention('UBOB')}")
    stack.settle()
    assert topic(stack, channel.id) == "SEV2 | identified | lead: <@UBOB>"
    stack.driver.command("bob", channel.id, "close")  # closing is for role holders
    stack.settle()
    assert topic(stack, channel.id) == "SEV2 | closed | lead: <@UBOB>"
    assert len(topic(stack, channel.id)) <= 250


def test_the_topic_is_set_only_when_it_changes(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    # Neither changes the topic: Slack would announce a topic "change" in the channel.
    stack.driver.command("alice", channel.id, "summary Search p99 went from 200 ms to 9 s")
    stack.driver.command("alice", channel.id, "impact 30% of searches timed out")
    # A burst of changes: each job reads the incident as it is then, so the topic is set for
    # the final state and not again for the changes already included.
    for command in ("sev 1", "status identified", "status monitoring"):
        stack.driver.command("alice", channel.id, command)
    stack.settle()
    changes = topic_changes(stack, channel.id)
    assert changes[0].endswith("SEV3 | investigating | lead: <@UALICE>")
    assert changes[-1].endswith("SEV1 | monitoring | lead: <@UALICE>")
    assert len(changes) == len(set(changes)), changes


def test_the_channel_bookmarks_the_incident_page_once(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    (bookmark,) = bookmarks(stack, channel.id)
    assert bookmark["title"] == "INC-1 page"
    assert bookmark["link"].startswith(f"{stack.base_url}/incidents/1?token=")
    # Later changes refresh the summary and the topic, never the bookmark.
    stack.driver.command("alice", channel.id, "sev 2")
    stack.settle()
    assert len(bookmarks(stack, channel.id)) == 1


@pytest.fixture
def quick_stack(db_url: str) -> Iterator[LocalStack]:
    """Background calls time out after a second, so the timeout test stays short."""
    with LocalStack(database_url=db_url, slack_timeout=1.0, virtual_time=True) as running:
        yield running


def test_a_bookmark_whose_answer_timed_out_is_not_added_again_on_retry(quick_stack: LocalStack):
    stack = quick_stack
    # Slack adds the bookmark but answers after 2 s: the client gave up after 1 s, so the job
    # is retried, and the retry finds the bookmark there already.
    stack.workspace.inject_fault("bookmarks.add", delay=2)
    channel = declare(stack, "Search is slow")
    stack.settle(timeout=30)
    assert len(stack.workspace.calls("bookmarks.list")) == 1
    assert [b["title"] for b in bookmarks(stack, channel.id)] == ["INC-1 page"]
    assert topic(stack, channel.id) == "SEV3 | investigating | lead: <@UALICE>"
    assert len(topic_changes(stack, channel.id)) == 1
    assert any("INC-1 is open" in text for text in ephemeral_texts(stack, "alice"))


def test_slack_refusing_topic_and_bookmark_does_not_hold_up_the_incident(stack: LocalStack):
    stack.workspace.inject_fault("conversations.setTopic", error="missing_scope")
    stack.workspace.inject_fault("bookmarks.add", error="missing_scope")
    channel = declare(stack, "Search is slow")
    stack.driver.command("alice", channel.id, "note still works")
    stack.settle()
    assert bookmarks(stack, channel.id) == []
    assert any("still works" in m.text for m in stack.workspace.messages(channel.id))
    assert any("INC-1 is open" in text for text in ephemeral_texts(stack, "alice"))


# -- archiving ---------------------------------------------------------------------------------


def clocked(db_url: str, clock: Clock, **settings: object) -> LocalStack:
    return LocalStack(database_url=db_url, clock=clock, **settings)


def test_the_channel_is_archived_the_configured_days_after_close(db_url: str, clock: Clock):
    with clocked(db_url, clock, archive_after_days=3) as stack:
        channel = declare(stack, "Search is slow")
        stack.driver.command("alice", channel.id, "close")
        stack.settle()
        # Meanwhile the incident's other work is not held back by the archive waiting its turn.
        stack.driver.command("alice", channel.id, "postmortem")
        stack.settle()
        assert len(stack.workspace.files_in(channel.id)) == 2

        clock.advance(days=2, hours=23)
        stack.settle()
        assert not stack.workspace.channel(channel.id).is_archived

        clock.advance(hours=2)
        stack.settle()
        archived = stack.workspace.channel(channel.id)
        assert archived.is_archived
        notice = [m for m in stack.workspace.messages(channel.id) if m.user == BOT_USER_ID][-1]
        assert "INC-1 was closed 3 days ago" in notice.text and "archiving" in notice.text
        assert len(stack.workspace.calls("conversations.archive")) == 1


def test_nothing_is_archived_when_the_setting_is_off(db_url: str, clock: Clock):
    with clocked(db_url, clock) as stack:
        channel = declare(stack, "Search is slow")
        stack.driver.command("alice", channel.id, "close")
        stack.settle()
        clock.advance(days=400)
        stack.settle()
        assert not stack.workspace.channel(channel.id).is_archived
        assert stack.workspace.calls("conversations.archive") == []


def test_a_reopened_incident_keeps_its_channel(db_url: str, clock: Clock):
    with clocked(db_url, clock, archive_after_days=1) as stack:
        channel = declare(stack, "Search is slow")
        stack.driver.command("alice", channel.id, "close")
        stack.settle()  # the close's postmortem is done before the hours pass
        clock.advance(hours=12)
        stack.driver.command("alice", channel.id, "reopen")
        stack.settle()
        clock.advance(days=2)
        stack.settle()
        assert not stack.workspace.channel(channel.id).is_archived
        assert stack.workspace.calls("conversations.archive") == []


def test_closed_again_after_reopening_the_channel_is_archived_after_the_last_close(
    db_url: str, clock: Clock
):
    with clocked(db_url, clock, archive_after_days=2) as stack:
        channel = declare(stack, "Search is slow")
        stack.driver.command("alice", channel.id, "close")
        stack.settle()  # the close's postmortem is done before the day passes
        clock.advance(days=1)
        stack.driver.command("alice", channel.id, "reopen")
        stack.driver.command("alice", channel.id, "close")
        stack.settle()
        clock.advance(days=1, hours=1)  # two days after the first close only
        stack.settle()
        assert not stack.workspace.channel(channel.id).is_archived
        clock.advance(days=1)
        stack.settle()
        assert stack.workspace.channel(channel.id).is_archived
        assert len(stack.workspace.calls("conversations.archive")) == 1


def test_a_channel_someone_archived_already_is_left_alone(db_url: str, clock: Clock):
    with clocked(db_url, clock, archive_after_days=1) as stack:
        channel = declare(stack, "Search is slow")
        stack.driver.command("alice", channel.id, "close")
        stack.settle()
        stack.workspace.channel(channel.id).is_archived = True
        clock.advance(days=2)
        stack.settle()
        assert stack.workspace.calls("conversations.archive") == []


def test_reopening_in_an_archived_channel_says_a_person_must_unarchive_it(
    db_url: str, clock: Clock
):
    with clocked(db_url, clock, archive_after_days=1) as stack:
        channel = declare(stack, "Search is slow")
        stack.driver.command("alice", channel.id, "close")
        stack.settle()
        clock.advance(days=1, hours=1)
        stack.settle()
        assert stack.workspace.channel(channel.id).is_archived
        stack.driver.command("alice", channel.id, "reopen")
        reply = ephemeral_texts(stack, "alice", channel.id)[-1]
        assert "INC-1 is reopened" in reply
        assert "archived" in reply and "Unarchive" in reply


def test_reopen_typed_elsewhere_explains_how_to_reopen_an_archived_incident(stack: LocalStack):
    declare(stack, "Search is slow")
    stack.driver.command("alice", "#general", "reopen")
    reply = ephemeral_texts(stack, "alice", "#general")[-1]
    assert "incident's channel" in reply and "unarchive" in reply.lower()


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", "99999", "²"])
def test_a_malformed_archive_setting_stops_start_up_naming_it(value: str):
    with pytest.raises(ConfigError, match="INCIDENTBOT_ARCHIVE_AFTER_DAYS"):
        load_settings({"INCIDENTBOT_ARCHIVE_AFTER_DAYS": value}, dotenv=None)


def test_the_archive_setting_is_off_unless_set():
    assert load_settings({}, dotenv=None).archive_after_days is None
    assert (
        load_settings({"INCIDENTBOT_ARCHIVE_AFTER_DAYS": ""}, dotenv=None).archive_after_days
        is None
    )
    assert (
        load_settings({"INCIDENTBOT_ARCHIVE_AFTER_DAYS": "14"}, dotenv=None).archive_after_days
        == 14
    )
