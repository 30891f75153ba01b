"""Slack refusing for good: the step is given up at once, the rest still happens, and the
person who asked is told what Slack refused and what a person can do (issue 14, item 1)."""

from __future__ import annotations

from sqlalchemy import select

from incidentbot.local import LocalStack
from incidentbot.models import Job, JobState
from tests.e2e import declare, ephemeral_texts, incident_channel, wait_for
from tests.test_observability import scrape, value


def user_id(stack: LocalStack, name: str) -> str:
    person = stack.workspace.user_by_name(name)
    assert person is not None
    return person.id


def dead_jobs(stack: LocalStack) -> list[tuple[str, str | None]]:
    with stack.runtime.uow() as uow:
        return [
            (job.kind, job.last_error)
            for job in uow.session.scalars(select(Job).where(Job.state == JobState.DEAD))
        ]


def test_an_invite_slack_refuses_still_leaves_a_usable_channel_and_tells_the_declarer(
    stack: LocalStack,
):
    stack.workspace.inject_fault("conversations.invite", error="ura_max_channels")
    channel = declare(stack, "Checkout API returning 500s")
    alice = user_id(stack, "alice")
    # Everything that does not depend on alice being in the channel happened.
    summary = [m for m in stack.workspace.messages(channel.id) if "INC-1" in m.text]
    assert summary, "the summary was posted"
    assert summary[0].ts in stack.workspace.pins(channel.id)
    announcements = stack.workspace.messages("#incidents")
    assert any("INC-1" in m.text for m in announcements)
    assert alice not in stack.workspace.members(channel.id)
    told = ephemeral_texts(stack, "alice", "#general")[-1]
    assert f"I could not add <@{alice}> to the channel" in told
    assert "single-channel guest" in told
    assert "multi-channel guest" in told  # what an admin can do
    # Tried once: Slack will say the same again.
    assert len(stack.workspace.calls("conversations.invite")) == 1
    assert dead_jobs(stack) == []


def test_a_lead_slack_will_not_add_is_still_lead_and_the_later_work_is_not_held_up(
    stack: LocalStack,
):
    channel = declare(stack, "Search is slow")
    bob = user_id(stack, "bob")
    stack.workspace.inject_fault("conversations.invite", error="no_external_invite_permission")
    stack.driver.command("alice", channel.id, f"lead {stack.driver.mention('bob')}")
    stack.driver.command("alice", channel.id, "note written after the hand-over")
    stack.settle()
    (told,) = [t for t in ephemeral_texts(stack, "alice", channel.id) if "could not" in t]
    assert f"I could not add <@{bob}> to the channel" in told
    assert "Slack Connect" in told
    assert f"<@{bob}> is still the lead of INC-1" in told
    # The note behind the refused invite was echoed at once, not after two minutes of retries.
    assert any(
        "written after the hand-over" in m.text for m in stack.workspace.messages(channel.id)
    )
    with stack.runtime.uow() as uow:
        from incidentbot.models import Incident

        incident = uow.session.scalar(select(Incident))
        assert incident.holder("lead") == bob
    assert len(stack.workspace.calls("conversations.invite")) == 2  # alice's, then bob's once


def test_a_channel_slack_refuses_to_create_is_told_once_and_retried_when_asked(
    stack: LocalStack,
):
    stack.workspace.inject_fault("conversations.create", error="restricted_action")
    stack.driver.command("alice", "#general", "declare Payments down")
    stack.settle()
    told = ephemeral_texts(stack, "alice", "#general")
    refused = [t for t in told if "INC-1 is recorded, but I could not create" in t]
    assert len(refused) == 1
    assert "do not allow the bot" in refused[0]
    assert not any("keep trying" in t for t in told)
    assert len(stack.workspace.calls("conversations.create")) == 1
    assert [kind for kind, _ in dead_jobs(stack)] == ["incident.open_channel"]
    # An admin lifted the restriction: the same declare again opens the channel.
    stack.driver.command("alice", "#general", "declare Payments down")
    stack.settle()
    assert incident_channel(stack, 1).name == "inc-1-payments-down"
    assert dead_jobs(stack) == []


def test_a_final_refusal_of_a_background_step_ends_that_job_and_is_counted(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.workspace.inject_fault("chat.postMessage", error="restricted_action")
    stack.driver.command("alice", channel.id, "note first finding")
    stack.settle()
    stack.driver.command("alice", channel.id, "note second finding")
    stack.settle()
    # The first echo was refused and given up; the second was not held up behind it.
    assert any("second finding" in m.text for m in stack.workspace.messages(channel.id))
    (dead,) = dead_jobs(stack)
    assert dead[0] == "timeline.echo"
    assert "restricted_action" in (dead[1] or "")
    series = scrape(stack.base_url)
    assert (
        value(
            series,
            "incidentbot_slack_refusals_total",
            method="chat.postMessage",
            error="restricted_action",
        )
        == 1
    )


def test_a_temporary_failure_is_still_retried(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.workspace.inject_fault("chat.postMessage", error="service_unavailable", times=1)
    stack.driver.command("alice", channel.id, "note survives a hiccup")
    stack.settle(timeout=30)
    wait_for(
        lambda: any("survives a hiccup" in m.text for m in stack.workspace.messages(channel.id)),
        what="the echo after a retry",
    )
    assert dead_jobs(stack) == []
