"""Declaring an incident from Slack, seen from the local workspace."""

from __future__ import annotations

import pytest

from incidentbot.emulator import BOT_USER_ID
from incidentbot.entrypoints.local import LocalStack
from tests.e2e import declare, ephemeral_texts, incident_channel, mention


def test_declare_opens_a_channel_with_the_declarer_as_lead_and_announces_it(stack: LocalStack):
    response = stack.driver.command("alice", "#general", "declare Checkout API returning 500s")
    assert response.status == 200
    assert "INC-1" in ephemeral_texts(stack, "alice", "#general")[0]
    stack.settle()

    channel = incident_channel(stack, 1)
    assert channel.name == "inc-1-checkout-api-returning-500s"
    assert not channel.is_private
    assert {"UALICE", BOT_USER_ID} <= stack.workspace.members(channel.id)

    summary = stack.workspace.messages(channel.id)[0]
    assert stack.workspace.pins(channel.id) == [summary.ts]
    shown = str(summary.blocks)
    for fact in ("Checkout API returning 500s", "SEV3", "investigating", "<@UALICE>"):
        assert fact in shown

    announcement = stack.workspace.messages("#incidents")[-1]
    assert f"<#{channel.id}>" in announcement.text and "INC-1" in announcement.text
    assert BOT_USER_ID in stack.workspace.members("#incidents")  # it joined to announce
    assert any(f"<#{channel.id}>" in text for text in ephemeral_texts(stack, "alice"))


def test_a_taken_channel_name_gets_a_suffix(stack: LocalStack):
    stack.workspace.add_channel("inc-1-database-down", members=["UBOB"], creator="UBOB")
    channel = declare(stack, "Database down")
    assert channel.name == "inc-1-database-down-2"


def test_unicode_and_letterless_titles_make_valid_channel_names(stack: LocalStack):
    declare(stack, "Café Ünïcode outage 🔥", number=1)
    assert incident_channel(stack, 1).name == "inc-1-cafe-unicode-outage"
    stack.driver.command("alice", "#general", "declare 🔥🔥🔥")
    stack.settle()
    assert incident_channel(stack, 2).name == "inc-2"


def test_declare_without_a_title_opens_the_form_and_submitting_twice_declares_once(
    stack: LocalStack,
):
    response = stack.driver.command("bob", "#general", "declare")
    assert response.status == 200
    (modal,) = stack.workspace.open_views("bob")
    values = {
        "title_input": "Payments delayed",
        "severity_select": "SEV2",
        "summary_input": "Card payments queue up",
        "lead_select": "UCHANDRA",
        "private_checkbox": [],
    }
    first = stack.driver.submit_view("bob", modal.id, values)
    assert first.status == 200
    stack.settle()
    # A double click, or Slack resending a submission whose ack it missed: same view, values.
    assert stack.driver.resubmit_view(modal.id).status == 200
    stack.settle()

    channel = incident_channel(stack, 1)
    assert [c.name for c in stack.workspace.channels() if c.name.startswith("inc-")] == [
        channel.name
    ]
    assert {"UBOB", "UCHANDRA"} <= stack.workspace.members(channel.id)
    summary = str(stack.workspace.messages(channel.id)[0].blocks)
    assert "SEV2" in summary and "<@UCHANDRA>" in summary and "Card payments queue up" in summary


def test_the_form_refuses_an_empty_title_and_keeps_the_modal_open(stack: LocalStack):
    stack.driver.command("bob", "#general", "declare")
    (modal,) = stack.workspace.open_views("bob")
    response = stack.driver.submit_view("bob", modal.id, {"title_input": "   "})
    assert response.json()["response_action"] == "errors"
    assert stack.workspace.open_views("bob")
    stack.settle()
    assert not [c for c in stack.workspace.channels() if c.name.startswith("inc-")]


def test_a_private_incident_gets_a_private_channel_and_no_public_announcement(
    stack: LocalStack,
):
    stack.driver.command("bob", "#general", "declare")
    (modal,) = stack.workspace.open_views("bob")
    stack.driver.submit_view(
        "bob", modal.id, {"title_input": "Credential leak", "private_checkbox": ["private"]}
    )
    stack.settle()
    channel = incident_channel(stack, 1)
    assert channel.is_private
    assert "UBOB" in stack.workspace.members(channel.id)
    assert not any("INC-1" in m.text for m in stack.workspace.messages("#incidents"))


def test_role_assignment_invites_the_person_and_updates_the_summary(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.command("alice", channel.id, f"role comms {mention('UDANA')}")
    stack.driver.command("alice", channel.id, f"lead {mention('UBOB')}")
    stack.settle()
    assert {"UDANA", "UBOB"} <= stack.workspace.members(channel.id)
    summary = stack.workspace.messages(channel.id)[0]
    assert summary.edited is not None
    assert "<@UBOB>" in str(summary.blocks) and "comms: <@UDANA>" in str(summary.blocks)


def test_severity_and_status_changes_keep_the_summary_current(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    for text in ("sev 1", "status identified"):
        response = stack.driver.command("alice", channel.id, text)
        assert response.status == 200
    stack.settle()
    summary = str(stack.workspace.messages(channel.id)[0].blocks)
    assert "SEV1" in summary and "identified" in summary
    said = " ".join(m.text for m in stack.workspace.messages(channel.id))
    assert "Severity changed from SEV3 to SEV1" in said
    assert "Status changed from investigating to identified" in said


def test_list_shows_open_incidents(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.command("erik", "#general", "list")
    listing = ephemeral_texts(stack, "erik", "#general")[-1]
    assert "INC-1" in listing and f"<#{channel.id}>" in listing and "open for" in listing


def test_mass_mentions_in_titles_and_updates_never_ping(stack: LocalStack):
    channel = declare(stack, "<!channel> DB down <!subteam^S123|@oncall> <!here>")
    stack.driver.command("alice", channel.id, "update <!everyone> still down @here")
    stack.driver.command("alice", channel.id, "summary <!channel> summary")
    stack.settle()
    shown = [m.text + str(m.blocks) for m in stack.workspace.messages(channel.id)]
    shown += [m.text + str(m.blocks) for m in stack.workspace.messages("#incidents")]
    announcement = stack.workspace.messages("#incidents")[-1]
    shown += [m.text for m in stack.workspace.replies("#incidents", announcement.ts)]
    shown += ephemeral_texts(stack, "alice")
    for text in shown:
        for ping in ("<!channel>", "<!here>", "<!everyone>", "<!subteam^", " @here"):
            assert ping not in text, text
    assert any("DB down" in text for text in shown)


@pytest.mark.parametrize("announce", ["#no-such-channel", "CNOSUCH1"])
def test_a_missing_announcement_channel_is_reported_and_the_incident_still_opens(db_url, announce):
    with LocalStack(database_url=db_url, announce_channel=announce) as stack:
        channel = declare(stack, "Search is slow")
        stack.driver.command("alice", channel.id, "note still works")
        stack.settle()
        assert any("still works" in m.text for m in stack.workspace.messages(channel.id))
        told = ephemeral_texts(stack, "alice", "#general")[-1]
        assert "not announced" in told and announce in told
