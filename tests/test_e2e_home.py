"""The app's Home tab, seen by people in the local workspace: open incidents and a way to
declare one."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pytest

from incidentbot.domain import links
from incidentbot.entrypoints.local import LocalStack
from incidentbot.slack import ids
from tests.conftest import Clock
from tests.e2e import declare, ephemeral_texts, incident_channel, mention


def home_text(stack: LocalStack, user: str) -> str:
    home = stack.workspace.home_view(user)
    assert home is not None, f"no Home tab was published for {user}"
    return json.dumps(home.view["blocks"])


def open_home(stack: LocalStack, user: str) -> str:
    delivery = stack.driver.open_home(user)
    assert delivery.response.status == 200, delivery.response.body
    stack.settle()
    return home_text(stack, user)


def declare_private(stack: LocalStack, title: str, *, user: str, number: int) -> None:
    stack.driver.command(user, "#general", "declare")
    (modal,) = stack.workspace.open_views(user)
    stack.driver.submit_view(
        user, modal.id, {"title_input": title, "private_checkbox": ["private"]}
    )
    stack.settle()
    incident_channel(stack, number)


def test_the_home_tab_lists_open_incidents_most_severe_first_with_their_links(
    stack: LocalStack,
):
    quiet = declare(stack, "Search is slow", number=1)
    loud = declare(stack, "Checkout API returning 500s", user="bob", number=2)
    stack.driver.command("bob", loud.id, "sev 1")
    stack.driver.command("bob", loud.id, "status identified")
    stack.driver.command("bob", loud.id, f"lead {mention('UCHANDRA')}")
    declare(stack, "Old and closed", number=3)
    stack.driver.command("alice", incident_channel(stack, 3).id, "close")
    stack.settle()

    shown = open_home(stack, "dana")
    home = stack.workspace.home_view("dana")
    assert home is not None and home.view["type"] == "home"
    assert shown.index("INC-2") < shown.index("INC-1"), "SEV1 comes before SEV3"
    assert "INC-3" not in shown and "Old and closed" not in shown
    for fact in ("Checkout API returning 500s", "SEV1", "identified", "<@UCHANDRA>"):
        assert fact in shown
    assert f"<#{loud.id}>" in shown and f"<#{quiet.id}>" in shown
    assert re.search(r"open \d+ s", shown), "each incident says how long it has been open"

    # Each incident links its web page, signed for the person looking.
    (section,) = [
        block
        for block in home.view["blocks"]
        if block["type"] == "section" and "INC-2" in block["text"]["text"]
    ]
    url = section["text"]["text"].split("<", 2)[1].split("|")[0]
    assert url.startswith(f"{stack.base_url}/incidents/2?token=")
    token = parse_qs(urlparse(url).query)["token"][0]
    viewer = links.check_token(token, secret=stack.settings.link_secret)
    assert viewer is not None and viewer.user_id == "UDANA"


@pytest.fixture
def clocked_stack(db_url: str, clock: Clock) -> Iterator[LocalStack]:
    with LocalStack(database_url=db_url, clock=clock) as running:
        yield running


def test_the_home_tab_says_how_long_each_incident_has_been_open(
    clocked_stack: LocalStack, clock: Clock
):
    stack = clocked_stack
    declare(stack, "Search is slow")
    clock.advance(hours=2, minutes=5)
    assert "open 2 h 5 min" in open_home(stack, "alice")


def test_a_private_incident_shows_only_on_its_members_home_tabs(stack: LocalStack):
    declare(stack, "Public slowness", number=1)
    declare_private(stack, "Credential leak", user="bob", number=2)

    assert "Credential leak" in open_home(stack, "bob")
    seen_by_erik = open_home(stack, "erik")
    assert "Public slowness" in seen_by_erik
    assert "Credential leak" not in seen_by_erik and "INC-2" not in seen_by_erik


def test_an_empty_home_tab_says_so_and_offers_to_declare(stack: LocalStack):
    shown = open_home(stack, "erik")
    assert "No open incidents" in shown
    home = stack.workspace.home_view("erik")
    assert home is not None
    buttons = [
        element
        for block in home.view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    assert [button["action_id"] for button in buttons] == [ids.HOME_DECLARE]


def test_the_home_tab_is_refreshed_each_time_it_is_opened(stack: LocalStack):
    assert "No open incidents" in open_home(stack, "alice")
    declare(stack, "Search is slow")
    assert "Search is slow" in open_home(stack, "alice")
    stack.driver.command("alice", incident_channel(stack, 1).id, "close")
    stack.settle()
    assert "No open incidents" in open_home(stack, "alice")


def test_declare_from_the_home_tab_opens_the_form_and_declares(stack: LocalStack):
    open_home(stack, "bob")
    home = stack.workspace.home_view("bob")
    assert home is not None
    response = stack.driver.block_action("bob", ids.HOME_DECLARE, view_id=home.id)
    assert response.status == 200
    (modal,) = stack.workspace.open_views("bob")
    assert modal.view["callback_id"] == ids.DECLARE_VIEW

    answer = stack.driver.submit_view(
        "bob",
        modal.id,
        {"title_input": "Payments delayed", "severity_select": "SEV2", "lead_select": "UDANA"},
    )
    assert answer.status == 200
    # Home has no channel to answer in: the form itself says what happened.
    (shown,) = stack.workspace.open_views("bob")
    confirmation = json.dumps(shown.view["blocks"])
    assert "INC-1" in confirmation and "Payments delayed" in confirmation
    assert "<@UDANA> leads it" in confirmation
    stack.settle()

    channel = incident_channel(stack, 1)
    assert {"UBOB", "UDANA"} <= stack.workspace.members(channel.id)
    summary = str(stack.workspace.messages(channel.id)[0].blocks)
    assert "SEV2" in summary and "<@UDANA>" in summary
    # Once the channel is open, the declarer's Home tab shows the incident and links it.
    assert f"<#{channel.id}>" in home_text(stack, "bob")
    assert ephemeral_texts(stack, "bob") == []

    # A double click on the form's button still declares once.
    assert stack.driver.resubmit_view(modal.id).status == 200
    stack.settle()
    assert len([c for c in stack.workspace.channels() if c.name.startswith("inc-")]) == 1


def test_the_form_opened_from_home_refuses_an_empty_title_as_from_a_command(stack: LocalStack):
    open_home(stack, "bob")
    home = stack.workspace.home_view("bob")
    assert home is not None
    stack.driver.block_action("bob", ids.HOME_DECLARE, view_id=home.id)
    (modal,) = stack.workspace.open_views("bob")
    response = stack.driver.submit_view("bob", modal.id, {"title_input": "  "})
    assert response.json()["response_action"] == "errors"
    stack.settle()
    assert not [c for c in stack.workspace.channels() if c.name.startswith("inc-")]


def test_a_redelivered_home_event_is_acknowledged_and_publishes_once(stack: LocalStack):
    delivery = stack.driver.open_home("alice")
    assert stack.driver.redeliver(delivery).response.status == 200
    stack.settle()
    assert len(stack.workspace.calls("views.publish")) == 1


def test_a_home_button_whose_form_slack_does_not_open_is_still_acknowledged(stack: LocalStack):
    open_home(stack, "bob")
    home = stack.workspace.home_view("bob")
    assert home is not None
    stack.workspace.inject_fault("views.open", error="expired_trigger_id")
    assert stack.driver.block_action("bob", ids.HOME_DECLARE, view_id=home.id).status == 200
    assert stack.workspace.open_views("bob") == []
    # Clicking again works.
    assert stack.driver.block_action("bob", ids.HOME_DECLARE, view_id=home.id).status == 200
    assert len(stack.workspace.open_views("bob")) == 1
