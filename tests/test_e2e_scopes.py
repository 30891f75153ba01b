"""The bot against a workspace that enforces scopes: what each manifest scope is needed for.

Every end-to-end test runs with the bot token granted exactly the manifest's scopes, so each
passing test proves the manifest is enough for what it does; these take one scope away and show
the call Slack then refuses.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from incidentbot.domain.models import Job, JobState
from incidentbot.emulator import BOT_USER_ID, Call
from incidentbot.entrypoints.local import LocalStack
from tests.conftest import Clock
from tests.e2e import declare, wait_for


@pytest.fixture
def stack(db_url: str, clock: Clock) -> Iterator[LocalStack]:
    with LocalStack(database_url=db_url, clock=clock, timezone="UTC") as running:
        yield running


def refused(stack: LocalStack, method: str) -> list[Call]:
    return [c for c in stack.workspace.calls(method) if c.error == "missing_scope"]


def test_without_pins_write_slack_refuses_the_summary_pin(stack):
    stack.workspace.bot_scopes.discard("pins:write")
    channel = declare(stack, "Checkout API returning 500s")
    (pin,) = refused(stack, "pins.add")
    assert pin.response["needed"] == "pins:write"
    assert "pins:write" not in pin.response["provided"].split(",")
    assert stack.workspace.pins(channel.id) == []


def test_with_the_manifests_scopes_the_summary_is_pinned(stack):
    channel = declare(stack, "Checkout API returning 500s")
    assert refused(stack, "pins.add") == []
    assert len(stack.workspace.pins(channel.id)) == 1


def retry_pending(stack: LocalStack) -> bool:
    """A job failed once and waits for its retry (its due time set by the runtime's clock)."""
    with stack.runtime.uow() as uow:
        waiting = select(Job.id).where(Job.state == JobState.PENDING, Job.attempts == 1)
        return uow.session.scalar(waiting.where(Job.last_error.is_not(None))) is not None


def _retried_reminder_dm(stack: LocalStack, clock: Clock) -> str:
    """A SEV1 lead's reminder DM whose first post Slack fails for now, so the job is retried.

    Returns the DM's channel id.
    """
    channel = declare(stack, "Checkout API returning 500s")
    stack.driver.command("alice", channel.id, "sev 1")
    stack.settle()
    clock.advance(minutes=31)
    stack.workspace.inject_fault("chat.postMessage", error="internal_error")
    assert stack.runtime.reminders.wait_idle(), "reminders still due"
    wait_for(lambda: retry_pending(stack), what="the reminder's retry")
    clock.advance(seconds=5)  # the retry's backoff, by the runtime's clock
    stack.settle()
    return stack.workspace.dm_channel("UALICE").id


def dm_history_calls(stack: LocalStack, dm: str) -> list[Call]:
    return [c for c in stack.workspace.calls("conversations.history") if c.params["channel"] == dm]


def test_a_retried_reminder_dm_looks_for_its_earlier_post_which_needs_im_history(stack, clock):
    stack.workspace.bot_scopes.discard("im:history")
    dm = _retried_reminder_dm(stack, clock)
    lookups = dm_history_calls(stack, dm)
    assert lookups, "the retry did not look for its earlier post"
    assert lookups[0].error == "missing_scope"
    assert lookups[0].response["needed"] == "im:history"


def test_with_im_history_the_retried_reminder_dm_arrives_once(stack, clock):
    dm = _retried_reminder_dm(stack, clock)
    lookups = dm_history_calls(stack, dm)
    assert lookups and all(c.ok for c in lookups)
    sent = [m for m in stack.workspace.messages(dm) if m.user == BOT_USER_ID]
    assert len(sent) == 1 and "*INC-1* (SEV1)" in sent[0].text
