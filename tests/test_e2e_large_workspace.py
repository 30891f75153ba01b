"""Large workspaces (issue 14, item 5): the announcement channel is found once for every
replica and restart, and background look-ups wait for a busy Slack instead of losing names."""

from __future__ import annotations

from sqlalchemy import delete, select

from incidentbot.domain.models import Person, SlackFact
from incidentbot.entrypoints.local import LocalStack
from tests.e2e import declare, ephemeral_texts, incident_channel
from tests.test_e2e_postmortem import uploaded_postmortems


def listings(stack: LocalStack) -> int:
    return len(stack.workspace.calls("conversations.list"))


def test_a_named_announcement_channel_is_looked_up_once_for_every_restart(
    stack: LocalStack, db_url: str
):
    declare(stack, "Search is slow")
    assert listings(stack) == 1
    with stack.runtime.uow() as uow:
        (fact,) = uow.session.scalars(select(SlackFact)).all()
        assert (fact.key, fact.value) == ("channel:#incidents", "CINCIDENTS")
    stack.runtime.stop()
    # Another process on the same database (a restart, a second replica) asks Slack nothing.
    with LocalStack(database_url=db_url, workspace=stack.workspace) as again:
        again.driver.command("bob", "#general", "declare Checkout is slow")
        again.settle()
        assert incident_channel(again, 2)
        announced = [m.text for m in again.workspace.messages("CINCIDENTS")]
        assert any("INC-2" in text for text in announced)
        assert listings(again) == 1


def test_an_announcement_channel_id_slack_no_longer_takes_is_looked_up_afresh(
    stack: LocalStack,
):
    declare(stack, "Search is slow")
    ws = stack.workspace
    # Someone archived #incidents and made a new one with the name.
    old = ws.channel("CINCIDENTS")
    old.is_archived = True
    old.name = "incidents-old"
    ws.add_channel("incidents", channel_id="CNEWINCIDENTS", members=["UALICE"], creator="UDANA")
    stack.driver.command("alice", "#general", "declare Checkout is slow")
    stack.settle()
    told = ephemeral_texts(stack, "alice", "#general")[-1]
    assert "It was not announced" in told and "archived" in told.lower()
    # The next declaration finds the new channel.
    stack.driver.command("alice", "#general", "declare Payments are slow")
    stack.settle()
    assert any("INC-3" in m.text for m in ws.messages("CNEWINCIDENTS"))
    assert listings(stack) == 2


def test_names_in_a_postmortem_wait_out_a_busy_slack_instead_of_showing_ids(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    # Pinned by someone whose name the bot never needed before the postmortem.
    stack.driver.join("chandra", channel.id)
    message = stack.driver.post_message("chandra", channel.id, "spotted the cache miss")
    stack.driver.pin("chandra", channel.id, message)
    stack.settle()
    # As if the bot had never met chandra (met them over a day ago, or in another process).
    with stack.runtime.uow() as uow:
        uow.session.execute(delete(Person).where(Person.user_id == "UCHANDRA"))
        uow.commit()
    stack.runtime.deps.directory.forget("UCHANDRA")
    stack.workspace.inject_fault("users.info", status=429, retry_after=1, times=4)
    stack.driver.command("alice", channel.id, "close")
    stack.settle(timeout=30)
    ((_, markdown),) = uploaded_postmortems(stack, channel.id)
    assert "chandra" in markdown
    assert "UCHANDRA" not in markdown
    # Slack said "not now" four times to the postmortem's look-ups; it waited them out.
    statuses = [c.status for c in stack.workspace.calls("users.info")]
    assert statuses.count(429) == 4 and statuses[-1] == 200
