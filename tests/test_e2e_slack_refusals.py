"""Slack refusing for good: the step is given up at once, the rest still happens, and the
person who asked is told what Slack refused and what a person can do (issue 14, item 1)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from incidentbot.domain.models import Incident, Job, JobState
from incidentbot.entrypoints.local import LocalStack
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


def test_a_single_channel_guest_declaring_gets_a_usable_channel_and_is_told_why_not_in_it(
    stack: LocalStack,
):
    ws = stack.workspace
    # A guest whose one channel is #general: Slack will not add them to a second.
    guest = ws.add_user("gita", real_name="Gita Rao", guest="single")
    ws.join("CGENERAL", guest.id)
    channel = declare(stack, "Checkout API returning 500s", user="gita")
    # Everything that does not depend on gita being in the channel happened.
    summary = [m for m in ws.messages(channel.id) if "INC-1" in m.text]
    assert summary, "the summary was posted"
    assert summary[0].ts in ws.pins(channel.id)
    assert any("INC-1" in m.text for m in ws.messages("#incidents"))
    assert guest.id not in ws.members(channel.id)
    told = ephemeral_texts(stack, "gita", "#general")[-1]
    assert f"I could not add <@{guest.id}> to the channel" in told
    assert "single-channel guest" in told
    assert "multi-channel guest" in told  # what an admin can do
    refused = [c for c in ws.calls("conversations.invite") if c.response.get("error")]
    assert [c.response["error"] for c in refused] == ["ura_max_channels"]  # asked once
    assert dead_jobs(stack) == []


@pytest.mark.parametrize(
    ("person", "refusal", "explained"),
    [
        ({"external_team": "TPARTNER01"}, "no_external_invite_permission", "Slack Connect"),
        ({"org_team": "TSISTER001"}, "invitee_cant_see_channel", "Enterprise Grid"),
        ({"guest": "single"}, "ura_max_channels", "single-channel guest"),
    ],
)
def test_a_role_for_someone_slack_will_not_add_stays_theirs_and_holds_nothing_up(
    stack: LocalStack, person: dict, refusal: str, explained: str
):
    ws = stack.workspace
    channel = declare(stack, "Search is slow")
    someone = ws.add_user("olu", real_name="Olu Ade", **person)
    if person.get("guest") == "single":
        ws.join("CGENERAL", someone.id)
    stack.driver.command("alice", channel.id, f"lead {stack.driver.mention('olu')}")
    stack.driver.command("alice", channel.id, "note written after the hand-over")
    stack.settle()
    (told,) = [t for t in ephemeral_texts(stack, "alice", channel.id) if "could not" in t]
    assert f"I could not add <@{someone.id}> to the channel" in told
    assert explained in told
    assert f"<@{someone.id}> is still the lead of INC-1" in told
    # The note behind the refused invite was echoed at once, not after two minutes of retries.
    assert any("written after the hand-over" in m.text for m in ws.messages(channel.id))
    with stack.runtime.uow() as uow:
        incident = uow.session.scalar(select(Incident))
        assert incident.holder("lead") == someone.id
    refused = [c.response.get("error") for c in ws.calls("conversations.invite")]
    assert refused.count(refusal) == 1
    assert dead_jobs(stack) == []


def test_a_missing_scope_skips_that_step_and_names_the_scope(stack: LocalStack):
    stack.workspace.bot_scopes.discard("pins:write")
    channel = declare(stack, "Search is slow")
    assert stack.workspace.pins(channel.id) == []
    assert any("INC-1" in m.text for m in stack.workspace.messages(channel.id))
    assert any("INC-1" in m.text for m in stack.workspace.messages("#incidents"))
    told = ephemeral_texts(stack, "alice", "#general")[-1]
    assert "I could not pin the summary" in told
    assert "lacks the `pins:write` permission" in told and "reinstalls" in told
    assert len(stack.workspace.calls("pins.add")) == 1


def test_a_channel_slack_refuses_to_create_is_told_once_and_retried_when_asked(
    stack: LocalStack,
):
    # Only admins may create channels here, and the bot is not one.
    stack.workspace.policies.channel_creation_admins_only = True
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
    stack.workspace.policies.channel_creation_admins_only = False
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
