"""Guests, Slack Connect and Enterprise Grid people in the local workspace, as Slack has them.

Nobody of these kinds is seeded; ``Workspace.add_user`` makes them (``guest=``,
``external_team=``, ``org_team=``, ``invited=``). ``conversations.invite`` refuses them with
Slack's documented codes, ``share_channel`` and ``ws.policies`` are the switches that decide.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from incidentbot.emulator import TEAM_ID, LocalSlack
from incidentbot.emulator.workspace import ENTERPRISE_ID, Policies

PARTNER = "TPARTNER01"  # a Slack Connect organisation's workspace
SISTER = "TSISTER001"  # another workspace of this Enterprise Grid organisation


@pytest.fixture
def channel(client: WebClient) -> str:
    """An incident channel the bot created and is in."""
    return client.conversations_create(name="inc-1-checkout")["channel"]["id"]


def refused(call: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as caught:
        call(**kwargs)
    assert caught.value.response.status_code == 200
    return dict(caught.value.response.data)


def admin_client(slack: LocalSlack) -> WebClient:
    """A workspace admin's user token."""
    admin = slack.workspace.add_user("olga", is_admin=True)
    slack.workspace.add_token("xoxp-olga", admin.id)
    return WebClient(token="xoxp-olga", base_url=slack.api_url, timeout=5)


# ---------------------------------------------------------------------- who people are


def test_the_seeded_people_are_full_members_of_a_workspace_of_its_own(client: WebClient):
    alice = client.users_info(user="UALICE")["user"]
    assert (alice["is_restricted"], alice["is_ultra_restricted"]) == (False, False)
    assert alice["team_id"] == TEAM_ID and alice["profile"]["team"] == TEAM_ID
    assert "enterprise_user" not in alice and "is_stranger" not in alice


def test_guests_show_as_slack_shows_them(slack: LocalSlack, client: WebClient):
    gail = client.users_info(user=slack.workspace.add_user("gail", guest="multi").id)["user"]
    assert (gail["is_restricted"], gail["is_ultra_restricted"]) == (True, False)
    sam = client.users_info(user=slack.workspace.add_user("sam", guest="single").id)["user"]
    assert (sam["is_restricted"], sam["is_ultra_restricted"]) == (True, True)
    assert {"gail", "sam"} <= {m["name"] for m in client.users_list()["members"]}
    with pytest.raises(ValueError, match="guest"):
        slack.workspace.add_user("tom", guest="everywhere")


def test_a_slack_connect_person_belongs_to_their_own_team_and_is_a_stranger_until_shared(
    slack: LocalSlack, client: WebClient, channel: str
):
    ws = slack.workspace
    pat = ws.add_user("pat", external_team=PARTNER)
    shown = client.users_info(user=pat.id)["user"]
    assert shown["team_id"] == PARTNER and shown["profile"]["team"] == PARTNER
    assert shown["is_stranger"] is True and "enterprise_user" not in shown
    assert "pat" not in {m["name"] for m in client.users_list()["members"]}
    ws.share_channel(channel, PARTNER)
    client.conversations_invite(channel=channel, users=pat.id)
    assert "is_stranger" not in client.users_info(user=pat.id)["user"]


def test_people_of_another_grid_workspace_make_this_one_part_of_an_org(
    slack: LocalSlack, client: WebClient
):
    ws = slack.workspace
    wes = ws.add_user("wes", org_team=SISTER)
    assert wes.id.startswith("W")  # Grid user ids
    shown = client.users_info(user=wes.id)["user"]
    assert shown["team_id"] == SISTER
    assert shown["enterprise_user"]["enterprise_id"] == ENTERPRISE_ID
    assert shown["enterprise_user"]["teams"] == [SISTER]
    alice = client.users_info(user="UALICE")["user"]
    assert alice["enterprise_user"]["teams"] == [TEAM_ID]
    assert "wes" not in {m["name"] for m in client.users_list()["members"]}
    with pytest.raises(ValueError):
        ws.add_user("pat", external_team=SISTER)


# ---------------------------------------------------------------------- invite refusals


def test_a_single_channel_guest_already_in_their_channel_cannot_be_invited(
    slack: LocalSlack, client: WebClient, channel: str
):
    ws = slack.workspace
    sam = ws.add_user("sam", guest="single")
    client.conversations_invite(channel=channel, users=sam.id)  # their one channel
    other = client.conversations_create(name="inc-2-search")["channel"]["id"]
    body = refused(client.conversations_invite, channel=other, users=sam.id)
    assert body["error"] == "ura_max_channels"
    assert body["errors"] == [{"user": sam.id, "ok": False, "error": "ura_max_channels"}]
    assert sam.id not in ws.members(other)
    with pytest.raises(ValueError, match="single-channel guest"):
        ws.join(other, sam.id)
    # A DM with the bot is no channel of theirs.
    assert client.conversations_open(users=sam.id)["ok"]


def test_guests_are_invited_unless_only_admins_may_add_guests(
    slack: LocalSlack, client: WebClient, channel: str
):
    ws = slack.workspace
    gail = ws.add_user("gail", guest="multi")
    gus = ws.add_user("gus", guest="multi")
    client.conversations_invite(channel=channel, users=gail.id)
    assert gail.id in ws.members(channel)

    ws.policies.guest_invites_admins_only = True
    body = refused(client.conversations_invite, channel=channel, users=gus.id)
    assert body["error"] == "user_is_restricted"
    assert gus.id not in ws.members(channel)

    admin = admin_client(slack)
    ws.join(channel, ws.resolve_user("olga").id)
    assert admin.conversations_invite(channel=channel, users=gus.id)["ok"]


def test_someone_invited_to_slack_who_has_not_joined_cannot_be_invited(
    slack: LocalSlack, client: WebClient, channel: str
):
    ivy = slack.workspace.add_user("ivy", invited=True)
    assert client.users_info(user=ivy.id)["user"]["is_invited_user"] is True
    assert refused(client.conversations_invite, channel=channel, users=ivy.id)["error"] == (
        "cant_invite"
    )


def test_a_slack_connect_person_joins_only_a_channel_shared_with_their_org(
    slack: LocalSlack, client: WebClient, channel: str
):
    ws = slack.workspace
    pat = ws.add_user("pat", external_team=PARTNER)
    body = refused(client.conversations_invite, channel=channel, users=pat.id)
    assert body["error"] == "no_external_invite_permission"
    info = client.conversations_info(channel=channel)["channel"]
    assert (info["is_shared"], info["is_ext_shared"]) == (False, False)

    ws.share_channel(channel, PARTNER)
    info = client.conversations_info(channel=channel)["channel"]
    assert (info["is_shared"], info["is_ext_shared"], info["is_org_shared"]) == (
        True,
        True,
        False,
    )
    assert info["shared_team_ids"] == [TEAM_ID, PARTNER]
    assert client.conversations_invite(channel=channel, users=pat.id)["ok"]
    assert pat.id in ws.members(channel)


def test_a_grid_person_of_another_workspace_joins_only_a_channel_shared_with_it(
    slack: LocalSlack, client: WebClient, channel: str
):
    ws = slack.workspace
    wes = ws.add_user("wes", org_team=SISTER)
    body = refused(client.conversations_invite, channel=channel, users=wes.id)
    assert body["error"] == "invitee_cant_see_channel"

    ws.share_channel(channel, SISTER)
    info = client.conversations_info(channel=channel)["channel"]
    assert (info["is_org_shared"], info["is_ext_shared"]) == (True, False)
    assert info["internal_team_ids"] == [TEAM_ID, SISTER]
    assert client.conversations_invite(channel=channel, users=wes.id)["ok"]


def test_when_only_admins_may_invite_the_bot_is_refused_restricted_action(
    slack: LocalSlack, client: WebClient, channel: str
):
    ws = slack.workspace
    ws.policies.invites_admins_only = True
    body = refused(client.conversations_invite, channel=channel, users="UALICE")
    assert body["error"] == "restricted_action" and "errors" not in body
    assert "UALICE" not in ws.members(channel)

    admin = admin_client(slack)
    ws.join(channel, ws.resolve_user("olga").id)
    assert admin.conversations_invite(channel=channel, users="UALICE")["ok"]


def test_when_only_admins_may_create_channels_the_bot_is_refused_restricted_action(
    slack: LocalSlack, client: WebClient
):
    ws = slack.workspace
    ws.policies.channel_creation_admins_only = True
    assert refused(client.conversations_create, name="inc-9")["error"] == "restricted_action"
    assert ws.channel_by_name("inc-9") is None
    assert admin_client(slack).conversations_create(name="inc-9")["ok"]
    ws.policies = Policies()
    assert client.conversations_create(name="inc-10")["ok"]


def test_one_refused_person_refuses_the_whole_invite_unless_forced(
    slack: LocalSlack, client: WebClient, channel: str
):
    ws = slack.workspace
    pat = ws.add_user("pat", external_team=PARTNER)
    ivy = ws.add_user("ivy", invited=True)
    users = f"UALICE,{pat.id},UBOB,{ivy.id}"
    body = refused(client.conversations_invite, channel=channel, users=users)
    assert body["error"] == "no_external_invite_permission"
    assert body["errors"] == [
        {"user": pat.id, "ok": False, "error": "no_external_invite_permission"},
        {"user": ivy.id, "ok": False, "error": "cant_invite"},
    ]
    assert ws.members(channel) & {"UALICE", "UBOB"} == set()

    forced = client.conversations_invite(channel=channel, users=users, force=True)
    assert forced["ok"] and [e["user"] for e in forced["errors"]] == [pat.id, ivy.id]
    assert {"UALICE", "UBOB"} <= ws.members(channel)
    assert pat.id not in ws.members(channel) and ivy.id not in ws.members(channel)

    # Forcing with nobody left to invite is still refused.
    body = refused(
        client.conversations_invite, channel=channel, users=f"{pat.id},{ivy.id}", force=True
    )
    assert body["error"] == "no_external_invite_permission"
    assert refused(client.conversations_invite, channel=channel, users="UALICE")["error"] == (
        "already_in_channel"
    )
