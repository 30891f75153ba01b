"""The local workspace's rate-limit tiers (incidentbot.emulator.tiers), over real HTTP."""

from __future__ import annotations

import pickle
from collections.abc import Iterator

import pytest
from slack_sdk.errors import SlackApiError

from incidentbot.emulator import LocalSlack, Workspace, tiers
from incidentbot.emulator.api import WebAPI


@pytest.fixture
def slack() -> Iterator[LocalSlack]:
    with LocalSlack(Workspace()) as running:
        yield running


def _refusal(call, **arguments) -> SlackApiError:  # type: ignore[no-untyped-def]
    with pytest.raises(SlackApiError) as caught:
        call(**arguments)
    return caught.value


def test_tiers_are_off_unless_asked_for(slack: LocalSlack) -> None:
    client = slack.client()
    for number in range(30):
        assert client.conversations_create(name=f"inc-{number}")["ok"]
    assert not slack.workspace.tiers.refused


def test_a_tier_2_method_over_its_burst_gets_429_with_retry_after_until_it_refills(
    slack: LocalSlack,
) -> None:
    slack.workspace.tiers.enable()
    client = slack.client()
    for number in range(tiers.LIMITS[2].burst):
        assert client.conversations_create(name=f"inc-{number}")["ok"]
    refused = _refusal(client.conversations_create, name="inc-over")
    assert refused.response.status_code == 429
    assert refused.response.headers["Retry-After"] == "3"  # 20 a minute: one every 3 s
    assert refused.response.data == {"ok": False, "error": "ratelimited"}
    assert slack.workspace.channel_by_name("inc-over") is None
    # Other methods have buckets of their own.
    assert client.conversations_info(channel=slack.workspace.channel_by_name("inc-0").id)["ok"]
    assert slack.workspace.tiers.refused == {"conversations.create": 1}


def test_a_faster_time_scale_refills_sooner(slack: LocalSlack) -> None:
    # The workspace's clock stands still unless moved, so a slow machine cannot refill the
    # bucket while the burst is being sent.
    now = [1_800_000_000.0]
    slack.workspace.clock = lambda: now[0]
    slack.workspace.tiers.enable(scale=0.02)  # a minute in 1.2 s: a Tier 2 call every 60 ms
    client = slack.client()
    for _ in range(tiers.LIMITS[2].burst):
        client.pins_list(channel="CGENERAL")
    refused = _refusal(client.pins_list, channel="CGENERAL")
    assert refused.response.headers["Retry-After"] == "1"  # whole seconds, never 0
    now[0] += 0.05  # not yet a spacing
    _refusal(client.pins_list, channel="CGENERAL")
    now[0] += 0.015  # 65 ms in all: at scale 1 this would take 3 s
    assert client.pins_list(channel="CGENERAL")["ok"]


def test_messages_go_one_a_second_per_channel_after_a_short_burst(slack: LocalSlack) -> None:
    ws = slack.workspace
    client = slack.client()
    client.conversations_join(channel="CINCIDENTS")
    client.conversations_join(channel="CGENERAL")
    ws.tiers.enable()
    for number in range(tiers.POST_PER_CHANNEL.burst):
        assert client.chat_postMessage(channel="CINCIDENTS", text=f"announcement {number}")["ok"]
    refused = _refusal(client.chat_postMessage, channel="CINCIDENTS", text="one too many")
    assert refused.response.status_code == 429
    assert refused.response.headers["Retry-After"] == "1"
    assert "one too many" not in [m.text for m in ws.messages("CINCIDENTS")]
    # Another channel has its own second; the name and the id are one channel.
    assert client.chat_postMessage(channel="CGENERAL", text="elsewhere")["ok"]
    assert _refusal(client.chat_postMessage, channel="#incidents", text="by name").response
    assert ws.tiers.refused["chat.postMessage:CINCIDENTS"] == 2


def test_only_the_bots_calls_count(slack: LocalSlack) -> None:
    ws = slack.workspace
    ws.add_token("xoxp-dana", "UDANA")
    ws.tiers.enable()
    person = slack.client(token="xoxp-dana")
    for _ in range(tiers.LIMITS[2].burst + 5):
        assert person.pins_list(channel="CGENERAL")["ok"]
    assert not ws.tiers.refused


def test_every_method_the_workspace_serves_has_a_documented_tier() -> None:
    assert set(WebAPI.methods()) <= set(tiers.METHOD_TIERS)
    assert tiers.limits_for("conversations.setTopic") == {"conversations.setTopic": tiers.LIMITS[2]}
    assert tiers.limits_for("conversations.invite") == {"conversations.invite": tiers.LIMITS[3]}


def test_a_pickled_workspace_comes_back_without_limits() -> None:
    ws = Workspace(enforce_tiers=True)
    assert ws.tiers.enabled
    restored = pickle.loads(pickle.dumps(ws))
    assert not restored.tiers.enabled
    assert restored.tiers.take("pins.add", None, now=0.0) is None
