"""``/incident stats`` through the real HTTP endpoint: what the person asking sees, privately."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from incidentbot.domain.models import Incident, Job, TimelineEntry
from incidentbot.entrypoints.local import LocalStack
from tests.conftest import Clock
from tests.e2e import declare, ephemeral_texts


@pytest.fixture
def clocked(db_url: str) -> Iterator[tuple[LocalStack, Clock]]:
    """A stack whose clock moves only when the test says so."""
    clock = Clock(datetime(2026, 11, 27, 14, 0, tzinfo=UTC))
    with LocalStack(database_url=db_url, timezone="Europe/Berlin", clock=clock) as stack:
        yield stack, clock


def command(stack: LocalStack, user: str, channel: str, text: str) -> None:
    response = stack.driver.command(user, channel, text)
    assert response.status == 200, response.body
    stack.settle()


def table_rows(reply: str) -> list[list[str]]:
    return [line.split() for line in reply.split("```")[1].strip("\n").splitlines()[2:]]


def test_stats_show_counts_medians_and_p90s_to_the_asker_only(clocked):
    stack, clock = clocked
    first = declare(stack, "Checkout errors")
    clock.advance(minutes=4)
    # Handing bob a role is alice's action; bob acknowledges by acting himself.
    command(stack, "alice", first.id, f"lead {stack.driver.mention('bob')}")
    command(stack, "bob", first.id, "note looking at the checkout logs")
    clock.advance(minutes=56)
    command(stack, "alice", first.id, "resolve")

    clock.advance(hours=1)
    second = declare(stack, "Search is slow", number=2)
    clock.advance(minutes=10)
    command(stack, "alice", second.id, f"role comms {stack.driver.mention('bob')}")
    command(stack, "bob", second.id, "update Search is slow for some users; on it")
    clock.advance(hours=2)
    command(stack, "alice", second.id, "resolve")

    third = declare(stack, "Payments down", number=3)
    command(stack, "alice", third.id, "sev 1")
    posted_before = len(stack.workspace.calls("chat.postMessage"))

    response = stack.driver.command("erik", "#general", "stats")
    assert response.status == 200
    assert response.json()["response_type"] == "ephemeral"
    reply = ephemeral_texts(stack, "erik", "#general")[-1]
    assert reply.startswith(
        "*Incidents declared in the last 30 days* (since 2026-10-28 19:10 CET): 3"
    )
    assert table_rows(reply) == [
        ["SEV1", "1", *["–"] * 6],
        ["SEV2", "0", *["–"] * 6],
        ["SEV3", "2", "7m", "10m", "1h35m", "2h10m", "1h35m", "2h10m"],
        ["SEV4", "0", *["–"] * 6],
        ["All", "3", "7m", "10m", "1h35m", "2h10m", "1h35m", "2h10m"],
    ]
    stack.settle()
    assert len(stack.workspace.calls("chat.postMessage")) == posted_before
    assert not any("Incidents declared" in text for text in ephemeral_texts(stack, "alice"))
    assert not any("Incidents declared" in m.text for m in stack.workspace.messages(first.id))

    # A window people choose, in an incident's channel too; older incidents fall out.
    clock.advance(days=40)
    command(stack, "alice", third.id, "stats")
    assert ephemeral_texts(stack, "alice", third.id)[-1].startswith(
        "No incidents were declared in the last 30 days"
    )
    command(stack, "alice", third.id, "stats 90d")
    assert table_rows(ephemeral_texts(stack, "alice", third.id)[-1])[-1][:2] == ["All", "3"]


def counts(stack: LocalStack) -> tuple[int, ...]:
    with stack.runtime.uow() as uow:
        return (
            uow.session.scalar(select(func.count(Incident.id))),
            uow.session.scalar(select(func.count(TimelineEntry.id))),
            uow.session.scalar(select(func.count(Job.id))),
            len(stack.workspace.calls("chat.postMessage")),
        )


@pytest.mark.parametrize("window", ["7w", "0d", "400d", "last quarter"])
def test_a_window_it_cannot_count_over_is_explained_privately_and_changes_nothing(stack, window):
    channel = declare(stack, "Search is slow")
    before = counts(stack)
    response = stack.driver.command("alice", channel.id, f"stats {window}")
    assert response.status == 200
    assert response.json()["response_type"] == "ephemeral"
    reply = ephemeral_texts(stack, "alice", channel.id)[-1]
    assert "from 1 to 365" in reply and "`/incident stats 30d` (the default)" in reply
    stack.settle()
    assert counts(stack) == before


def test_help_mentions_stats(stack):
    stack.driver.command("erik", "#general", "help")
    assert "/incident stats [30d|90d]" in ephemeral_texts(stack, "erik", "#general")[-1]
