"""Slack misbehaving: rate limits, 5xx, timeouts, resets and error codes.

Whatever Slack does, what people recorded stays recorded, retries are bounded and honour
Retry-After, and the work completes once Slack answers again, without duplicates.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from incidentbot.domain.models import Incident, Job, JobState, TimelineEntry
from incidentbot.emulator import BOT_USER_ID
from incidentbot.entrypoints.local import LocalStack
from incidentbot.slack.runtime import create_runtime
from tests.e2e import declare, ephemeral_texts, incident_channel, wait_for


@pytest.fixture
def quick_stack(db_url: str) -> Iterator[LocalStack]:
    """Background calls time out after a second, and settle() moves the clock on to retries
    instead of sleeping them out, so these tests stay short."""
    with LocalStack(database_url=db_url, slack_timeout=1.0, virtual_time=True) as running:
        yield running


def count(stack: LocalStack, model) -> int:  # type: ignore[no-untyped-def]
    with stack.runtime.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def bot_posts(stack: LocalStack, channel: str, needle: str) -> list:
    return [
        m for m in stack.workspace.messages(channel) if m.user == BOT_USER_ID and needle in m.text
    ]


def dead_jobs(stack: LocalStack) -> int:
    with stack.runtime.uow() as uow:
        return uow.session.scalar(select(func.count()).where(Job.state == "dead"))


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 429, "retry_after": 1},
        {"status": 500},
        {"status": 503},
        {"error": "ratelimited"},
        {"reset": True, "times": 2},
    ],
    ids=["429", "500", "503", "ratelimited", "reset"],
)
def test_a_post_that_fails_temporarily_lands_exactly_once(quick_stack: LocalStack, fault):
    stack = quick_stack
    channel = declare(stack, "Search is slow")
    stack.workspace.inject_fault("chat.postMessage", **fault)
    assert stack.driver.command("alice", channel.id, "note survived a fault").status == 200
    stack.settle(timeout=30)
    assert len(bot_posts(stack, channel.id, "survived a fault")) == 1
    assert dead_jobs(stack) == 0


def test_a_post_that_times_out_is_not_posted_twice(quick_stack: LocalStack):
    stack = quick_stack
    channel = declare(stack, "Search is slow")
    # Slack answers after 2 s: the client gave up after 1 s, but the post did happen.
    stack.workspace.inject_fault("chat.postMessage", delay=2)
    stack.driver.command("alice", channel.id, "note slow but sure")
    stack.settle(timeout=30)
    assert len(bot_posts(stack, channel.id, "slow but sure")) == 1


def test_retries_honour_retry_after(quick_stack: LocalStack):
    stack = quick_stack
    channel = declare(stack, "Search is slow")
    stack.workspace.inject_fault("chat.postMessage", status=429, retry_after=2, times=4)
    stack.driver.command("alice", channel.id, "note patience")
    stack.settle(timeout=30)
    calls = [c for c in stack.workspace.calls("chat.postMessage") if c.status == 429]
    later = [c for c in stack.workspace.calls("chat.postMessage") if c.at > calls[0].at]
    assert len(calls) == 4
    gaps = [b.at - a.at for a, b in zip(calls, calls[1:] + later[-1:], strict=False)]
    assert all(gap >= 1.9 for gap in gaps), gaps
    assert len(bot_posts(stack, channel.id, "patience")) == 1


def test_a_retry_after_longer_than_the_lease_is_waited_out_by_the_queue_not_the_worker(
    db_url: str,
):
    """Two replicas; Slack asks for 2 s three times, the lease is 1 s. A worker that slept
    out the Retry-After would lose its lease and another would post the same note again."""
    with LocalStack(
        database_url=db_url, slack_timeout=1.0, job_lease_seconds=1, virtual_time=True
    ) as stack:
        other = create_runtime(stack.settings, migrate=False, clock=stack.clock)
        other.start()
        try:
            channel = declare(stack, "Search is slow")
            stack.workspace.inject_fault("chat.postMessage", status=429, retry_after=2, times=3)
            stack.driver.command("alice", channel.id, "note said once")
            stack.settle(timeout=30)
        finally:
            other.stop()
        assert len(bot_posts(stack, channel.id, "said once")) == 1
        assert [c.status for c in stack.workspace.calls("chat.postMessage")].count(429) == 3
        with stack.runtime.uow() as uow:
            echo = uow.session.scalars(select(Job).where(Job.kind == "timeline.echo")).one()
        # Rate limits are given back, not counted: the one attempt that counted is the last.
        assert (echo.state, echo.attempts) == (JobState.DONE, 1)


def test_a_channel_slack_will_not_create_keeps_the_incident_and_tells_the_declarer(
    quick_stack: LocalStack,
):
    stack = quick_stack
    stack.workspace.inject_fault("conversations.create", status=500, times=1000)
    stack.driver.command("alice", "#general", "declare Payments down")
    wait_for(
        lambda: any(
            "INC-1 is recorded, but Slack has not created its channel yet" in t
            for t in ephemeral_texts(stack, "alice", "#general")
        ),
        what="the declarer to be told",
    )
    assert count(stack, Incident) == 1
    stack.workspace.clear_faults()
    # Typing the same declare again retries at once instead of declaring a second incident.
    stack.driver.command("alice", "#general", "declare Payments down")
    assert "already declared" in ephemeral_texts(stack, "alice", "#general")[-1]
    stack.settle(timeout=30)
    assert count(stack, Incident) == 1
    assert incident_channel(stack, 1).name == "inc-1-payments-down"
    assert [c.name for c in stack.workspace.channels() if c.name.startswith("inc-")] == [
        "inc-1-payments-down"
    ]


def test_a_channel_creation_that_recovers_completes_in_the_background(quick_stack: LocalStack):
    stack = quick_stack
    # Three 503s outlast the client's own retries: the job itself retries later.
    stack.workspace.inject_fault("conversations.create", status=503, times=3)
    stack.driver.command("alice", "#general", "declare Payments down")
    stack.settle(timeout=30)
    assert incident_channel(stack, 1).name == "inc-1-payments-down"
    assert count(stack, Incident) == 1


def test_an_archived_incident_channel_does_not_stall_or_lose_notes(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.workspace.channel(channel.id).is_archived = True
    stack.driver.command("alice", channel.id, "note written while archived")
    stack.driver.command("alice", channel.id, "sev 2")
    stack.settle(timeout=15)
    with stack.runtime.uow() as uow:
        notes = uow.session.scalars(
            select(TimelineEntry.text).where(TimelineEntry.kind == "note")
        ).all()
    assert notes == ["written while archived"]
    assert dead_jobs(stack) == 0


def test_already_in_channel_and_not_in_channel_are_handled(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.join("bob", channel.id)
    from tests.e2e import mention

    stack.driver.command("alice", channel.id, f"role comms {mention('UBOB')}")
    stack.settle()
    invites = [c for c in stack.workspace.calls("conversations.invite") if c.error]
    assert [c.error for c in invites] == ["already_in_channel"]
    assert dead_jobs(stack) == 0
    joins = stack.workspace.calls("conversations.join")
    assert len(joins) == 1  # joined #incidents once, to announce


def test_virtual_time_moves_the_clock_on_to_a_retry_instead_of_sleeping(quick_stack: LocalStack):
    stack = quick_stack
    channel = declare(stack, "Search is slow")
    stack.workspace.inject_fault("chat.postMessage", status=429, retry_after=30, times=1)
    stack.driver.command("alice", channel.id, "note after the wait")
    # Beyond settle's horizon: the retry is left pending and the clock is not moved.
    stack.settle(timeout=10)
    assert bot_posts(stack, channel.id, "after the wait") == []
    assert stack.time_skipped.total_seconds() == 0
    stack.settle(timeout=60)
    (refused,) = [c for c in stack.workspace.calls("chat.postMessage") if c.status == 429]
    (posted,) = bot_posts(stack, channel.id, "after the wait")
    assert float(posted.ts) - refused.at >= 30
    assert stack.time_skipped.total_seconds() >= 29
