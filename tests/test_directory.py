"""Who people are: ``Directory`` looks them up in memory, the database, then Slack."""

from __future__ import annotations

import threading

import pytest
from slack_sdk import WebClient

from incidentbot.emulator import DEFAULT_BOT_TOKEN, LocalSlack
from incidentbot.slack.directory import Directory


class MeetingClient(WebClient):
    """A client whose ``users.info`` calls wait for each other: they must be in flight at
    once, or the barrier breaks (after 10 s) and the look-up fails."""

    def __init__(self, *args, parties: int, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.barrier = threading.Barrier(parties, timeout=10)
        self.asked: list[str] = []

    def users_info(self, *, user: str, **kwargs):  # type: ignore[no-untyped-def, override]
        self.asked.append(user)
        self.barrier.wait()
        return super().users_info(user=user, **kwargs)


def test_people_a_postmortem_names_are_looked_up_side_by_side(slack: LocalSlack, uow_factory):
    people = [slack.workspace.resolve_user(name).id for name in ("bob", "chandra", "dana")]
    client = MeetingClient(
        token=DEFAULT_BOT_TOKEN, base_url=slack.api_url, timeout=5, parties=len(people)
    )
    directory = Directory(client=client, uow_factory=uow_factory)
    directory.ensure(people, client=client)
    assert sorted(client.asked) == sorted(people)
    # Remembered: asked again, nobody is looked up in Slack.
    directory.ensure(people, client=client)
    assert len(client.asked) == len(people)
    assert directory.lookup(people[0]).display_name


def test_a_busy_slack_reaches_the_caller_once_every_look_up_has_ended(
    slack: LocalSlack, uow_factory
):
    from slack_sdk.errors import SlackApiError

    bob, chandra, ghost = (
        slack.workspace.resolve_user("bob").id,
        slack.workspace.resolve_user("chandra").id,
        "UNOBODY42",
    )
    slack.workspace.inject_fault("users.info", error="fatal_error")
    client = WebClient(token=DEFAULT_BOT_TOKEN, base_url=slack.api_url, timeout=5)
    directory = Directory(client=client, uow_factory=uow_factory)
    with pytest.raises(SlackApiError):
        directory.ensure([bob, chandra, ghost], client=client)
    # The look-ups that were answered are kept; someone Slack does not know is never kept.
    known = [someone for someone in (bob, chandra, ghost) if directory._memory.get(someone)]
    assert known and ghost not in known
    directory.ensure([bob, chandra, ghost], client=client)  # Slack is back: all found
    assert {bob, chandra} <= set(directory._memory)
