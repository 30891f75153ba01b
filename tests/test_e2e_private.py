"""Private incidents stay with their members: no public announcement, listing or page."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.error import HTTPError

import pytest

from incidentbot.entrypoints.local import LocalStack
from tests.e2e import ephemeral_texts, incident_channel
from tests.test_e2e_web import browser, link_from_slack


@pytest.fixture
def private_stack(db_url: str) -> Iterator[LocalStack]:
    with LocalStack(database_url=db_url) as stack:
        stack.workspace.add_channel(
            "security-incidents", members=["UBOB", "UDANA"], creator="UDANA"
        )
        stack.settle()
        yield stack


def declare_private(stack: LocalStack, title: str = "Credential leak") -> str:
    stack.driver.command("bob", "#general", "declare")
    (modal,) = stack.workspace.open_views("bob")
    stack.driver.submit_view(
        "bob", modal.id, {"title_input": title, "private_checkbox": ["private"]}
    )
    stack.settle()
    return incident_channel(stack, 1).id


def test_a_private_incident_is_listed_only_for_its_members(private_stack: LocalStack):
    stack = private_stack
    channel_id = declare_private(stack)
    stack.driver.command("erik", "#general", "list")
    assert "INC-1" not in ephemeral_texts(stack, "erik", "#general")[-1]
    stack.driver.command("bob", "#general", "list")
    assert "INC-1" in ephemeral_texts(stack, "bob", "#general")[-1]
    stack.driver.join("dana", channel_id, inviter="bob")
    stack.driver.command("dana", "#general", "list")
    assert "INC-1" in ephemeral_texts(stack, "dana", "#general")[-1]
    stack.workspace.channel(channel_id).members.discard("UDANA")
    stack.driver.event({"type": "member_left_channel", "user": "UDANA", "channel": channel_id})
    stack.driver.command("dana", "#general", "list")
    assert "INC-1" not in ephemeral_texts(stack, "dana", "#general")[-1]


def test_a_private_incident_page_is_for_members_only(private_stack: LocalStack):
    stack = private_stack
    channel_id = declare_private(stack)
    member = browser()
    member.open(link_from_slack(stack, "bob", channel_id)).read()
    with member.open(f"{stack.base_url}/") as page:
        assert "Credential leak" in page.read().decode()
    outsider = browser()
    outsider.open(link_from_slack(stack, "erik", "#general")).read()
    with outsider.open(f"{stack.base_url}/") as page:
        assert "Credential leak" not in page.read().decode()
    for path in ("/incidents/1", "/incidents/1/postmortem", "/incidents/1/postmortem.md"):
        with pytest.raises(HTTPError) as hidden:
            outsider.open(f"{stack.base_url}{path}")
        assert hidden.value.code == 404


def test_a_private_incident_is_announced_only_in_the_private_channel(db_url):
    with LocalStack(database_url=db_url, private_announce_channel="#security-incidents") as stack:
        stack.workspace.add_channel("security-incidents", members=["UBOB"], creator="UBOB")
        stack.workspace.join("security-incidents", "UBOT")
        declare_private(stack)
        assert any("INC-1" in m.text for m in stack.workspace.messages("#security-incidents"))
        assert not any("INC-1" in m.text for m in stack.workspace.messages("#incidents"))
