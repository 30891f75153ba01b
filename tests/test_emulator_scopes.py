"""The local workspace refuses a bot-token call lacking its scope, exactly as Slack does.

The bot token gets the manifest's scopes (``incidentbot.slack.manifest.BOT_SCOPES``); a
test takes one away with ``ws.bot_scopes.discard(...)``. Slack answers HTTP 200 ``{"ok": false,
"error": "missing_scope", "needed": ..., "provided": ...}``, naming the scope for the
conversation's kind.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from incidentbot.emulator import DEFAULT_BOT_TOKEN, LocalSlack, Workspace, scopes
from incidentbot.emulator.api import APP_TOKEN_METHODS, WebAPI
from incidentbot.slack.manifest import BOT_SCOPES


def refusal(call: Callable[..., Any], **kwargs: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(SlackApiError) as caught:
        call(**kwargs)
    return caught.value.response.status_code, dict(caught.value.response.data)


def provided(ws: Workspace) -> str:
    return ",".join(sorted(ws.bot_scopes))


def test_the_bot_token_has_exactly_the_manifests_scopes_and_a_restart_brings_them_back():
    ws = Workspace()
    assert ws.bot_scopes == set(BOT_SCOPES)
    assert Workspace(bot_scopes=scopes.ALL).bot_scopes == set(scopes.ALL)
    ws.bot_scopes.discard("pins:write")
    with ws.lock:
        restored = pickle.loads(pickle.dumps(ws))
    # like the app's event subscriptions, the scopes come from the manifest of the running bot
    assert restored.bot_scopes == set(BOT_SCOPES)


def test_every_method_the_workspace_serves_has_a_scope_entry():
    known = set(scopes.METHOD_SCOPES) | set(scopes.CONVERSATION_SCOPES)
    assert [m for m in WebAPI.methods() if m not in known and m not in APP_TOKEN_METHODS] == []
    for by_kind in scopes.CONVERSATION_SCOPES.values():
        assert set(by_kind) <= set(scopes.CONVERSATION_KINDS)


def test_a_method_without_its_scope_answers_missing_scope_naming_needed_and_provided(
    slack: LocalSlack, client: WebClient
):
    ws = slack.workspace
    client.conversations_join(channel="CINCIDENTS")
    posted = client.chat_postMessage(channel="CINCIDENTS", text="rolled back")
    ws.bot_scopes.discard("pins:write")
    status, body = refusal(client.pins_add, channel="CINCIDENTS", timestamp=posted["ts"])
    assert status == 200
    assert body == {
        "ok": False,
        "error": "missing_scope",
        "needed": "pins:write",
        "provided": provided(ws),
    }
    assert "pins:write" not in body["provided"].split(",")
    assert "chat:write" in body["provided"].split(",")
    assert ws.pins("CINCIDENTS") == []
    (logged,) = ws.calls("pins.add")
    assert logged.error == "missing_scope" and logged.status == 200

    # The scope is checked before anything else: a bad channel is still missing_scope.
    assert refusal(client.pins_add, channel="CNOPE", timestamp="1.1")[1]["needed"] == "pins:write"

    ws.bot_scopes.add("pins:write")
    client.pins_add(channel="CINCIDENTS", timestamp=posted["ts"])
    assert ws.pins("CINCIDENTS") == [posted["ts"]]


def test_a_conversation_method_needs_the_scope_of_the_conversations_kind(
    slack: LocalSlack, client: WebClient
):
    ws = slack.workspace
    public = client.conversations_create(name="inc-1-public")["channel"]["id"]
    private = client.conversations_create(name="inc-2-private", is_private=True)["channel"]["id"]
    dm = client.conversations_open(users="UALICE")["channel"]["id"]

    ws.bot_scopes.discard("groups:history")
    assert client.conversations_history(channel=public)["ok"]
    assert client.conversations_history(channel=dm)["ok"]
    body = refusal(client.conversations_history, channel=private)[1]
    assert (body["error"], body["needed"]) == ("missing_scope", "groups:history")
    body = refusal(client.conversations_replies, channel=private, ts="1.1")[1]
    assert body["needed"] == "groups:history"

    ws.bot_scopes.discard("im:history")
    assert refusal(client.conversations_history, channel=dm)[1]["needed"] == "im:history"

    ws.bot_scopes.discard("channels:read")
    assert client.conversations_info(channel=private)["ok"]
    assert refusal(client.conversations_info, channel=public)[1]["needed"] == "channels:read"
    assert refusal(client.conversations_members, channel=public)[1]["needed"] == "channels:read"


def test_a_private_channel_the_bot_is_not_in_stays_unseen_whatever_its_scopes(
    slack: LocalSlack, client: WebClient
):
    ws = slack.workspace
    secret = ws.add_channel("secret", is_private=True, members=["UALICE"])
    ws.bot_scopes.discard("groups:history")
    assert refusal(client.conversations_history, channel=secret.id)[1]["error"] == (
        "channel_not_found"
    )


def test_create_list_and_open_are_checked_for_the_kinds_they_ask_for(
    slack: LocalSlack, client: WebClient
):
    ws = slack.workspace
    ws.bot_scopes.discard("groups:write")
    body = refusal(client.conversations_create, name="inc-3", is_private=True)[1]
    assert (body["error"], body["needed"]) == ("missing_scope", "groups:write")
    assert ws.channel_by_name("inc-3") is None
    assert client.conversations_create(name="inc-3")["channel"]["is_private"] is False
    ws.bot_scopes.discard("channels:manage")
    assert refusal(client.conversations_create, name="inc-4")[1]["needed"] == "channels:manage"

    ws.bot_scopes.discard("groups:read")
    assert client.conversations_list(types="public_channel")["ok"]
    both = "public_channel,private_channel"
    assert refusal(client.conversations_list, types=both)[1]["needed"] == "groups:read"
    ws.bot_scopes.discard("channels:read")
    assert refusal(client.conversations_list, types=both)[1]["needed"] == (
        "channels:read,groups:read"
    )
    # Without types, conversations.list lists public channels.
    assert refusal(client.conversations_list)[1]["needed"] == "channels:read"

    ws.bot_scopes.discard("im:write")
    assert refusal(client.conversations_open, users="UALICE")[1]["needed"] == "im:write"
    # Several people would be a group DM, which needs mpim:write (the bot has none).
    assert refusal(client.conversations_open, users="UALICE,UBOB")[1]["needed"] == "mpim:write"


def test_a_granular_scope_is_as_good_as_the_manage_scope(slack: LocalSlack, client: WebClient):
    ws = slack.workspace
    channel = client.conversations_create(name="inc-5")["channel"]["id"]
    ws.bot_scopes.discard("channels:manage")
    body = refusal(client.conversations_setTopic, channel=channel, topic="SEV2")[1]
    assert body["needed"] == "channels:manage"
    body = refusal(client.conversations_invite, channel=channel, users="UALICE")[1]
    assert body["needed"] == "channels:manage"

    ws.bot_scopes |= {"channels:write.topic", "channels:write.invites"}
    assert client.conversations_setTopic(channel=channel, topic="SEV2")["ok"]
    assert client.conversations_invite(channel=channel, users="UALICE")["ok"]
    assert refusal(client.conversations_archive, channel=channel)[1]["needed"] == (
        "channels:manage"
    )


def test_scopes_bind_the_bot_token_only(slack: LocalSlack):
    ws = slack.workspace
    ws.add_token("xoxp-alice", "UALICE")
    alice = WebClient(token="xoxp-alice", base_url=slack.api_url, timeout=5)
    ws.bot_scopes.clear()
    assert alice.chat_postMessage(channel="CINCIDENTS", text="hello")["ok"]
    assert alice.users_info(user="UBOB")["ok"]
    bot = WebClient(token=DEFAULT_BOT_TOKEN, base_url=slack.api_url, timeout=5)
    status, body = refusal(bot.users_info, user="UBOB")
    assert (status, body["needed"], body["provided"]) == (200, "users:read", "")
    # Methods that need no scope keep working.
    assert bot.auth_test()["ok"]


def test_a_workspace_granted_every_scope_serves_every_method():
    ws = Workspace(bot_scopes=scopes.ALL)
    with LocalSlack(ws) as slack:
        bot = WebClient(token=DEFAULT_BOT_TOKEN, base_url=slack.api_url, timeout=5)
        assert bot.team_info()["ok"]
        assert bot.users_lookupByEmail(email="alice@incidentbot-local.example")["ok"]
        bot.conversations_join(channel="CINCIDENTS")
        posted = bot.chat_postMessage(channel="CINCIDENTS", text="hi")
        assert bot.reactions_add(channel="CINCIDENTS", timestamp=posted["ts"], name="eyes")["ok"]
