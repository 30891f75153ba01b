"""The local Slack emulator behaves like Slack towards slack_sdk and signs like Slack.

Web API tests drive a real ``slack_sdk.WebClient`` against ``LocalSlack`` on an ephemeral port;
driver tests send to a tiny stdlib receiver that verifies signatures with slack_sdk's
``SignatureVerifier``, i.e. exactly what Bolt does on the other side.
"""

from __future__ import annotations

import json
import pickle
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.signature import SignatureVerifier

from incidentbot.emulator import (
    BOT_USER_ID,
    DEFAULT_BOT_TOKEN,
    EmulatorError,
    LocalSlack,
    SlackDriver,
    Workspace,
    mention,
    scopes,
)
from incidentbot.slack.manifest import BOT_EVENTS

SECRET = "test-signing-secret"
SAMPLES = Path("/work/shared/slack/payload-samples")

MODAL = {
    "type": "modal",
    "callback_id": "declare_incident",
    "private_metadata": '{"channel": "CINCIDENTS"}',
    "title": {"type": "plain_text", "text": "Declare an incident"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "title_input"},
        },
        {
            "type": "input",
            "block_id": "severity",
            "label": {"type": "plain_text", "text": "Severity"},
            "element": {
                "type": "static_select",
                "action_id": "severity_select",
                "options": [
                    {"text": {"type": "plain_text", "text": f"SEV{n}"}, "value": str(n)}
                    for n in range(1, 5)
                ],
                "initial_option": {"text": {"type": "plain_text", "text": "SEV3"}, "value": "3"},
            },
        },
        {
            "type": "input",
            "block_id": "private",
            "label": {"type": "plain_text", "text": "Channel"},
            "element": {
                "type": "radio_buttons",
                "action_id": "private_radio",
                "options": [
                    {"text": {"type": "plain_text", "text": "Public"}, "value": "public"},
                    {"text": {"type": "plain_text", "text": "Private"}, "value": "private"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "lead",
            "label": {"type": "plain_text", "text": "Lead"},
            "element": {"type": "users_select", "action_id": "lead_select"},
        },
        {
            "type": "input",
            "block_id": "flags",
            "optional": True,
            "label": {"type": "plain_text", "text": "Flags"},
            "element": {
                "type": "checkboxes",
                "action_id": "flags_checks",
                "options": [
                    {"text": {"type": "plain_text", "text": "Customer facing"}, "value": "cust"},
                    {"text": {"type": "plain_text", "text": "Security"}, "value": "sec"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "started",
            "optional": True,
            "label": {"type": "plain_text", "text": "Started"},
            "element": {"type": "datepicker", "action_id": "started_date"},
        },
        {
            "type": "input",
            "block_id": "summary",
            "optional": True,
            "label": {"type": "plain_text", "text": "Summary"},
            "element": {"type": "plain_text_input", "action_id": "summary_input"},
        },
    ],
}


# ---------------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def every_scope(slack: LocalSlack) -> None:
    """Grants the bot token every scope: for tests of methods the bot has no scope for."""
    slack.workspace.bot_scopes |= scopes.ALL


def slack_error(call: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        call(*args, **kwargs)
    return caught.value.response["error"]


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.form["payload"])

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


class Receiver:
    """A stand-in app: verifies Slack's signature like Bolt, records, answers via ``reply``."""

    def __init__(self, secret: str = SECRET) -> None:
        self.verifier = SignatureVerifier(secret)
        self.received: list[Received] = []
        self.reply: Callable[[Received], tuple[int, str, str]] = lambda r: (200, "", "text/plain")
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - stdlib naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                record = Received(headers, body, outer.verifier.is_valid_request(body, headers))
                outer.received.append(record)
                status, text, ctype = outer.reply(record)
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"

    @property
    def last(self) -> Received:
        return self.received[-1]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def app() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def driver(slack: LocalSlack, app: Receiver) -> SlackDriver:
    return SlackDriver(slack, app.url, SECRET)


def sample_keys(name: str) -> set[str]:
    return set(json.loads((SAMPLES / name).read_text()).keys())


# ---------------------------------------------------------------------- workspace and auth


def test_seeded_workspace_has_people_in_zones_and_bot_outside_incidents(slack: LocalSlack) -> None:
    ws = slack.workspace
    zones = {u.name: u.tz for u in ws.users() if not u.is_bot}
    assert zones == {
        "alice": "America/Los_Angeles",
        "bob": "Europe/Berlin",
        "chandra": "Asia/Kolkata",
        "dana": "UTC",
        "erik": "Europe/London",
    }
    incidents = ws.channel_by_name("#incidents")
    assert incidents is not None and incidents.id == "CINCIDENTS"
    assert BOT_USER_ID not in ws.members("incidents")
    assert {"UALICE", "UBOB", "UCHANDRA", "UDANA", "UERIK"} <= ws.members("#general")
    assert slack.api_url == f"http://127.0.0.1:{slack.port}/api/"


def test_auth_test_and_token_errors(slack: LocalSlack, client: WebClient) -> None:
    me = client.auth_test()
    assert me["user_id"] == BOT_USER_ID and me["bot_id"] and me["team_id"]
    assert me["url"].startswith(slack.base_url)
    bad = WebClient(token="xoxb-wrong", base_url=slack.api_url)
    assert slack_error(bad.auth_test) == "invalid_auth"
    anonymous = WebClient(base_url=slack.api_url)
    assert slack_error(anonymous.auth_test) == "not_authed"
    with pytest.raises(SlackApiError) as caught:
        client.api_call("chat.noSuchMethod")
    assert caught.value.response.status_code == 404
    assert caught.value.response["error"] == "unknown_method"
    # every call is logged with its token and parsed params
    logged = slack.workspace.calls("auth.test")
    assert [c.token for c in logged] == [DEFAULT_BOT_TOKEN, "xoxb-wrong", None]


# ---------------------------------------------------------------------- conversations


def test_create_channel_name_rules_and_name_taken(slack: LocalSlack, client: WebClient) -> None:
    created = client.conversations_create(name="inc-1-db-down")["channel"]
    assert created["name"] == "inc-1-db-down" and created["is_member"] is True
    assert created["creator"] == BOT_USER_ID and created["is_private"] is False
    assert slack.workspace.members(created["id"]) == {BOT_USER_ID}
    assert slack_error(client.conversations_create, name="inc-1-db-down") == "name_taken"
    assert slack_error(client.conversations_create, name="Inc Two") == "invalid_name_specials"
    assert slack_error(client.conversations_create, name="x" * 81) == "invalid_name_maxlength"
    assert slack_error(client.conversations_create, name="") == "invalid_name_required"
    assert client.conversations_create(name="x" * 80)["ok"]

    private = client.conversations_create(name="inc-2-secret", is_private=True)["channel"]
    assert private["is_private"] is True
    client.conversations_archive(channel=private["id"])
    # archived channels still own their name
    assert slack_error(client.conversations_create, name="inc-2-secret") == "name_taken"


def test_invite_rules(slack: LocalSlack, client: WebClient) -> None:
    channel = client.conversations_create(name="inc-3")["channel"]["id"]
    client.conversations_invite(channel=channel, users="UALICE,UBOB")
    assert {"UALICE", "UBOB"} <= slack.workspace.members(channel)
    invite = client.conversations_invite
    assert slack_error(invite, channel=channel, users="UALICE") == "already_in_channel"
    assert slack_error(invite, channel=channel, users="UNOBODY") == "user_not_found"
    assert slack_error(invite, channel=channel, users=BOT_USER_ID) == "cant_invite_self"
    assert slack_error(invite, channel="CINCIDENTS", users="UALICE") == "not_in_channel"
    assert slack_error(invite, channel="CNOPE", users="UALICE") == "channel_not_found"
    client.conversations_archive(channel=channel)
    assert slack_error(invite, channel=channel, users="UDANA") == "is_archived"


def test_post_message_needs_membership_until_join(slack: LocalSlack, client: WebClient) -> None:
    post = client.chat_postMessage
    assert slack_error(post, channel="CINCIDENTS", text="hello") == "not_in_channel"
    assert slack_error(post, channel="#incidents", text="hello") == "not_in_channel"
    assert slack_error(post, channel="CNOPE", text="hello") == "channel_not_found"
    joined = client.conversations_join(channel="CINCIDENTS")
    assert joined["channel"]["is_member"] is True
    again = client.conversations_join(channel="CINCIDENTS")
    assert again["warning"] == "already_in_channel"
    with pytest.warns(UserWarning):  # slack_sdk itself warns about a missing text
        assert slack_error(post, channel="CINCIDENTS") == "no_text"

    sent = post(channel="#incidents", text="Incident declared", blocks=[{"type": "divider"}])
    assert sent["channel"] == "CINCIDENTS" and sent["message"]["bot_id"]
    reply = post(channel="CINCIDENTS", text="in thread", thread_ts=sent["ts"])
    broadcast = post(
        channel="CINCIDENTS", text="also here", thread_ts=sent["ts"], reply_broadcast=True
    )
    ws = slack.workspace
    assert [m.text for m in ws.messages("incidents")] == ["Incident declared", "also here"]
    assert [m.ts for m in ws.replies("incidents", sent["ts"])] == [reply["ts"], broadcast["ts"]]
    assert float(reply["ts"]) > float(sent["ts"])

    history = client.conversations_history(channel="CINCIDENTS")["messages"]
    assert history[0]["text"] == "also here" and history[-1]["subtype"] == "channel_join"
    thread = client.conversations_replies(channel="CINCIDENTS", ts=sent["ts"])["messages"]
    assert [m["text"] for m in thread] == ["Incident declared", "in thread", "also here"]
    assert thread[0]["reply_count"] == 2

    private = client.conversations_create(name="inc-4", is_private=True)["channel"]["id"]
    alice = slack.workspace.add_user("zoe", tz="Australia/Sydney")
    slack.workspace.add_token("xoxp-zoe", alice.id)
    zoe = WebClient(token="xoxp-zoe", base_url=slack.api_url)
    assert slack_error(zoe.conversations_join, channel=private) == "channel_not_found"
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    assert slack_error(post, channel="CINCIDENTS", text="t", blocks=too_long) == "invalid_blocks"


def test_topic_purpose_info_and_list(slack: LocalSlack, client: WebClient) -> None:
    channel = client.conversations_create(name="inc-5")["channel"]["id"]
    client.conversations_setTopic(channel=channel, topic="SEV2 | investigating")
    client.conversations_setPurpose(channel=channel, purpose="Database outage")
    info = client.conversations_info(channel=channel, include_num_members=True)["channel"]
    assert info["topic"]["value"] == "SEV2 | investigating"
    assert info["purpose"]["value"] == "Database outage" and info["num_members"] == 1
    names = [c["name"] for c in client.conversations_list()["channels"]]
    assert {"general", "incidents", "inc-5"} <= set(names)
    assert slack_error(client.conversations_setTopic, channel="CINCIDENTS", topic="x") == (
        "not_in_channel"
    )
    members = client.conversations_members(channel="CGENERAL")["members"]
    assert "UALICE" in members


def test_chat_update_rules(slack: LocalSlack, client: WebClient) -> None:
    client.conversations_join(channel="CINCIDENTS")
    sent = client.chat_postMessage(channel="CINCIDENTS", text="SEV2 investigating")
    updated = client.chat_update(channel="CINCIDENTS", ts=sent["ts"], text="SEV1 identified")
    assert updated["text"] == "SEV1 identified"
    message = slack.workspace.message("CINCIDENTS", sent["ts"])
    assert message is not None and message.text == "SEV1 identified" and message.edited
    update = client.chat_update
    assert slack_error(update, channel="CINCIDENTS", ts="1.000001", text="x") == (
        "message_not_found"
    )
    theirs = slack.workspace.post_message("CINCIDENTS", "UALICE", "my message")
    assert slack_error(update, channel="CINCIDENTS", ts=theirs.ts, text="x") == (
        "cant_update_message"
    )
    link = client.chat_getPermalink(channel="CINCIDENTS", message_ts=sent["ts"])["permalink"]
    assert link == f"{slack.base_url}/archives/CINCIDENTS/p{sent['ts'].replace('.', '')}"


def test_pins_and_reactions(slack: LocalSlack, client: WebClient, every_scope: None) -> None:
    theirs = slack.workspace.post_message("CINCIDENTS", "UALICE", "rolled back")
    pin = client.pins_add
    assert slack_error(pin, channel="CINCIDENTS", timestamp=theirs.ts) == "not_in_channel"
    client.conversations_join(channel="CINCIDENTS")
    pin(channel="CINCIDENTS", timestamp=theirs.ts)
    assert slack_error(pin, channel="CINCIDENTS", timestamp=theirs.ts) == "already_pinned"
    assert slack_error(pin, channel="CINCIDENTS", timestamp="1.000001") == "message_not_found"
    assert slack.workspace.pins("incidents") == [theirs.ts]
    items = client.pins_list(channel="CINCIDENTS")["items"]
    assert items[0]["message"]["text"] == "rolled back" and items[0]["created_by"] == BOT_USER_ID
    client.pins_remove(channel="CINCIDENTS", timestamp=theirs.ts)
    assert slack.workspace.pins("incidents") == []

    react = client.reactions_add
    react(channel="CINCIDENTS", timestamp=theirs.ts, name="eyes")
    assert slack_error(react, channel="CINCIDENTS", timestamp=theirs.ts, name="eyes") == (
        "already_reacted"
    )
    assert theirs.reactions == {"eyes": [BOT_USER_ID]}
    client.reactions_remove(channel="CINCIDENTS", timestamp=theirs.ts, name="eyes")
    assert theirs.reactions == {}

    bookmark = client.bookmarks_add(
        channel_id="CINCIDENTS", title="Postmortem", type="link", link="http://localhost/pm"
    )["bookmark"]
    listed = client.bookmarks_list(channel_id="CINCIDENTS")["bookmarks"]
    assert [b["id"] for b in listed] == [bookmark["id"]]


def test_users_info_time_zone_fields(client: WebClient) -> None:
    user = client.users_info(user="UALICE")["user"]
    expected = datetime.now(UTC).astimezone(ZoneInfo("America/Los_Angeles")).utcoffset()
    assert user["tz"] == "America/Los_Angeles"
    assert expected is not None and user["tz_offset"] == int(expected.total_seconds())
    assert user["tz_label"] in ("Pacific Standard Time", "Pacific Daylight Time")
    assert user["profile"]["display_name"] == "alice" and user["real_name"]
    chandra = client.users_info(user="UCHANDRA")["user"]
    assert chandra["tz_offset"] == 19800 and chandra["tz_label"] == "India Standard Time"
    assert slack_error(client.users_info, user="UNOBODY") == "user_not_found"
    names = {m["name"] for m in client.users_list()["members"]}
    assert {"incidentbot", "alice", "bob", "chandra", "dana", "erik"} <= names


# ---------------------------------------------------------------------- files


def test_files_upload_v2_end_to_end(
    slack: LocalSlack, client: WebClient, every_scope: None
) -> None:
    channel = client.conversations_create(name="inc-7-upload")["channel"]["id"]
    content = "# Database down\n\n## Summary\nThe primary ran out of disk. ✓\n"
    result = client.files_upload_v2(
        channel=channel,
        content=content,
        filename="INC-7-postmortem.md",
        title="INC-7 postmortem",
        initial_comment="Postmortem draft",
    )
    file_id = result["file"]["id"]
    assert result["file"]["name"] == "INC-7-postmortem.md"
    assert result["file"]["title"] == "INC-7 postmortem"
    ws = slack.workspace
    assert ws.file_content(file_id) == content.encode("utf-8")
    assert [f.id for f in ws.files_in(channel)] == [file_id]
    shared = ws.messages(channel)[-1]
    assert shared.files == [file_id] and shared.text == "Postmortem draft"
    methods = [c.method for c in ws.calls() if c.method != "conversations.create"]
    assert methods == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    upload = ws.calls("upload")[0]
    assert upload.params == {"file_id": file_id, "length": len(content.encode("utf-8"))}
    complete = ws.calls("files.completeUploadExternal")[0]
    assert isinstance(complete.params["files"], str)  # the sdk sends a JSON string
    assert json.loads(complete.params["files"])[0]["id"] == file_id
    info = client.files_info(file=file_id)["file"]
    assert info["filetype"] == "markdown" and channel in info["channels"]
    assert info["size"] == len(content.encode("utf-8"))
    # url_private serves the bytes to the bot token only
    request = urllib.request.Request(
        info["url_private_download"], headers={"Authorization": f"Bearer {DEFAULT_BOT_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=5) as download:
        assert download.read() == content.encode("utf-8")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(info["url_private_download"], timeout=5)

    with pytest.raises(SlackApiError) as caught:
        client.files_upload_v2(channel="CINCIDENTS", content="x", filename="a.md")
    assert caught.value.response["error"] == "not_in_channel"


# ---------------------------------------------------------------------- response_url


def test_response_url_ephemeral_in_channel_and_replace(slack: LocalSlack) -> None:
    url = slack.issue_response_url(user="UALICE", channel="CINCIDENTS", source="command")
    respond = Respond(response_url=url)
    assert respond(text="Only you can see this").status_code == 200
    seen = slack.workspace.ephemerals("alice", "#incidents")
    assert [(e.text, e.source) for e in seen] == [("Only you can see this", "response_url")]
    respond(text="Now it says this", replace_original=True)
    assert [e.text for e in slack.workspace.ephemerals("alice")] == ["Now it says this"]
    respond(text="Everyone sees this", response_type="in_channel")
    posted = slack.workspace.messages("incidents")[-1]
    assert posted.text == "Everyone sees this" and posted.user == BOT_USER_ID
    call = slack.workspace.calls("response_url")[-1]
    assert call.params["response_type"] == "in_channel"
    assert Respond(response_url=url + "x")(text="late").status_code == 404


# ---------------------------------------------------------------------- faults


def test_fault_injection(slack: LocalSlack, client: WebClient) -> None:
    ws = slack.workspace
    client.conversations_join(channel="CINCIDENTS")
    ws.inject_fault("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="CINCIDENTS", text="hi")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "7"
    assert caught.value.response["error"] == "ratelimited"
    assert client.chat_postMessage(channel="CINCIDENTS", text="hi")["ok"]

    ws.inject_fault("conversations.create", error="name_taken")
    assert slack_error(client.conversations_create, name="inc-9") == "name_taken"
    assert client.conversations_create(name="inc-9")["ok"]
    assert [c.error for c in ws.calls("conversations.create")] == ["name_taken", None]

    ws.inject_fault("users.info", status=503, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as caught:
            client.users_info(user="UALICE")
        assert caught.value.response.status_code == 503
    assert client.users_info(user="UALICE")["ok"]

    impatient = WebClient(token=DEFAULT_BOT_TOKEN, base_url=slack.api_url, timeout=0.3)
    impatient.retry_handlers.clear()
    ws.inject_fault("auth.test", delay=1.0)
    started = time.monotonic()
    with pytest.raises((TimeoutError, socket.timeout, OSError)):
        impatient.auth_test()
    assert time.monotonic() - started < 1.0
    # the server still finishes (and logs) the slow call after the client gave up
    logged = len(ws.calls("auth.test"))
    while len(ws.calls("auth.test")) == logged and time.monotonic() - started < 3:
        time.sleep(0.05)

    ws.inject_fault("auth.test", reset=True)
    with pytest.raises(OSError):
        impatient.auth_test()
    # slack_sdk's default connection-error retry gets through after one dropped connection
    retrying = WebClient(token=DEFAULT_BOT_TOKEN, base_url=slack.api_url, timeout=5)
    retrying.retry_handlers[:] = [ConnectionErrorRetryHandler(max_retry_count=1)]
    ws.inject_fault("auth.test", reset=True)
    assert retrying.auth_test()["ok"]
    assert [c.status for c in ws.calls("auth.test")][-2:] == [0, 200]


# ---------------------------------------------------------------------- driver: signing


def test_slash_command_is_form_encoded_signed_and_complete(
    slack: LocalSlack, driver: SlackDriver, app: Receiver
) -> None:
    text = f"lead {mention('UBOB', 'bob')} now"
    assert driver.mention("bob") == "<@UBOB|bob>"
    response = driver.command("alice", "#incidents", text)
    assert response.status == 200
    got = app.last
    assert got.signature_ok
    assert got.headers["content-type"] == "application/x-www-form-urlencoded"
    fields = got.form
    assert set(fields) >= sample_keys("SlashCommandPayload.json")
    assert fields["text"] == "lead <@UBOB|bob> now" and fields["command"] == "/incident"
    assert fields["user_id"] == "UALICE" and fields["user_name"] == "alice"
    assert fields["channel_id"] == "CINCIDENTS" and fields["channel_name"] == "incidents"
    assert fields["response_url"].startswith(f"{slack.base_url}/response/")
    assert fields["trigger_id"] in slack.workspace.triggers
    with pytest.raises(EmulatorError):
        driver.command("alice", "#general-nope", "help")


def test_slash_command_ack_is_shown_like_slack(
    slack: LocalSlack, driver: SlackDriver, app: Receiver
) -> None:
    app.reply = lambda r: (200, "Usage: /incident declare <title>", "text/plain")
    driver.command("bob", "CGENERAL", "help")
    assert [e.text for e in slack.workspace.ephemerals("bob", "general")] == [
        "Usage: /incident declare <title>"
    ]
    assert slack.workspace.ephemerals("bob")[0].source == "ack"
    app.reply = lambda r: (
        200,
        json.dumps({"response_type": "in_channel", "text": "Declared INC-1"}),
        "application/json",
    )
    driver.command("bob", "CGENERAL", "declare x")
    assert slack.workspace.messages("general")[-1].text == "Declared INC-1"


def test_bad_stale_and_missing_signatures(driver: SlackDriver, app: Receiver) -> None:
    body = json.dumps({"type": "event_callback"}).encode()
    driver.raw(body)
    assert app.last.signature_ok
    driver.raw(body, signature="bad")
    assert not app.last.signature_ok and app.last.headers["x-slack-signature"].startswith("v0=")
    driver.raw(body, signature="none")
    assert "x-slack-signature" not in app.last.headers
    driver.raw(body, stale=True)
    stale = app.last
    assert not stale.signature_ok
    assert time.time() - int(stale.headers["x-slack-request-timestamp"]) >= 355
    # a stale request is correctly signed: only its age makes it invalid
    old = int(stale.headers["x-slack-request-timestamp"])
    assert driver.sign(body, old) == stale.headers["x-slack-signature"]
    driver.raw(b"text=hi", content_type="text/plain")
    assert app.last.headers["content-type"] == "text/plain" and app.last.signature_ok


# ---------------------------------------------------------------------- driver: events


def test_events_envelope_retry_headers_and_redelivery(
    slack: LocalSlack, driver: SlackDriver, app: Receiver
) -> None:
    first = driver.event({"type": "app_mention", "user": "UALICE", "text": "hi"})
    got = app.last
    assert got.signature_ok and got.headers["content-type"] == "application/json"
    assert "x-slack-retry-num" not in got.headers
    envelope = got.json()
    assert envelope["type"] == "event_callback" and envelope["event_id"].startswith("Ev")
    assert envelope["authorizations"][0]["user_id"] == BOT_USER_ID
    assert set(envelope) >= sample_keys("PinAddedPayload.json") - {"enterprise_id"}

    driver.redeliver(first, retry_num=2, retry_reason="http_error")
    again = app.last
    assert again.headers["x-slack-retry-num"] == "2"
    assert again.headers["x-slack-retry-reason"] == "http_error"
    assert again.json()["event_id"] == envelope["event_id"]
    driver.event({"type": "app_mention"}, event_id="EvFIXED", retry_num=1)
    assert app.last.json()["event_id"] == "EvFIXED"
    assert app.last.headers["x-slack-retry-reason"] == "http_timeout"
    second = driver.event({"type": "app_mention"})
    assert second.envelope["event_id"] != envelope["event_id"]


def test_user_actions_change_workspace_and_send_events(
    slack: LocalSlack, driver: SlackDriver, app: Receiver
) -> None:
    ws = slack.workspace
    ts = driver.post_message("alice", "#incidents", "DB failover started")
    assert app.received == []  # the bot is not in #incidents: Slack sends it none of its messages
    assert [e["event"]["ts"] for e in driver.withheld] == [ts] and driver.last_delivery is None
    assert ws.messages("incidents")[-1].text == "DB failover started"

    driver.pin("bob", "incidents", ts)
    pinned = app.last.json()["event"]
    assert pinned["type"] == "pin_added" and pinned["channel_id"] == "CINCIDENTS"
    assert pinned["item"]["message"]["ts"] == ts and pinned["item"]["message"]["user"] == "UALICE"
    assert pinned["item"]["message"]["text"] == "DB failover started"
    assert pinned["pinned_info"]["pinned_by"] == "UBOB" and pinned["item_user"] == "UALICE"
    assert set(pinned) >= set(json.loads((SAMPLES / "PinAddedPayload.json").read_text())["event"])
    assert ws.pins("incidents") == [ts]

    driver.react("chandra", "CINCIDENTS", ts)
    reacted = app.last.json()["event"]
    assert reacted == {
        "type": "reaction_added",
        "user": "UCHANDRA",
        "item": {"type": "message", "channel": "CINCIDENTS", "ts": ts},
        "reaction": "pushpin",
        "item_user": "UALICE",
        "event_ts": reacted["event_ts"],
    }
    with pytest.raises(EmulatorError):
        driver.react("chandra", "CINCIDENTS", ts)  # already reacted

    slack.client().conversations_join(channel="CINCIDENTS")
    reply_ts = driver.post_message("bob", "incidents", "ack", thread_ts=ts)
    event = app.last.json()["event"]
    assert event["type"] == "message" and event["thread_ts"] == ts and event["ts"] == reply_ts
    assert event["channel_type"] == "channel" and event["parent_user_id"] == "UALICE"
    assert event["text"] == "ack" and event["user"] == "UBOB" and event["event_ts"] == reply_ts
    assert set(event) <= set(json.loads((SAMPLES / "MessagePayload.json").read_text())["event"])
    assert driver.last_delivery is not None and driver.last_delivery.envelope["event"] == event
    driver.post_message("bob", "incidents", "not for the app", send_event=False)
    assert app.last.json()["event"]["ts"] == reply_ts

    channel = slack.client().conversations_create(name="inc-8")["channel"]["id"]
    with pytest.raises(EmulatorError):
        driver.post_message("dana", channel, "not a member yet")
    driver.join("dana", channel)
    joined, join_message = (r.json()["event"] for r in app.received[-2:])
    assert joined["type"] == "member_joined_channel" and joined["user"] == "UDANA"
    assert "UDANA" in ws.members(channel)
    # Slack's "has joined" line is a message event of its own, to an app in the channel.
    assert (join_message["subtype"], join_message["user"]) == ("channel_join", "UDANA")

    driver.open_home("erik")
    home = app.last.json()["event"]
    assert home["type"] == "app_home_opened" and home["tab"] == "home"


# ---------------------------------------------------------------------- driver: message events


def message_events(app: Receiver) -> list[dict[str, Any]]:
    return [r.json()["event"] for r in app.received if r.json()["event"]["type"] == "message"]


def test_an_edit_changes_the_message_and_sends_message_changed(
    slack: LocalSlack, driver: SlackDriver, app: Receiver, client: WebClient
) -> None:
    client.conversations_join(channel="CINCIDENTS")
    ts = driver.post_message("alice", "incidents", "DB failover started")
    delivery = driver.edit_message("alice", "incidents", ts, "DB failover finished")
    assert delivery is not None and delivery.response.status == 200

    message = slack.workspace.message("incidents", ts)
    assert message is not None and message.text == "DB failover finished"
    assert message.edited is not None and message.edited["user"] == "UALICE"
    (history,) = client.conversations_history(channel="CINCIDENTS", limit=1)["messages"]
    assert history["text"] == "DB failover finished" and history["edited"] == message.edited

    event = app.last.json()["event"]
    assert event == {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "message": event["message"],
        "previous_message": event["previous_message"],
        "channel": "CINCIDENTS",
        "channel_type": "channel",
        "ts": message.edited["ts"],
        "event_ts": message.edited["ts"],
    }
    new, old = event["message"], event["previous_message"]
    assert (new["type"], new["user"], new["ts"]) == ("message", "UALICE", ts)
    assert (new["text"], new["edited"]) == ("DB failover finished", message.edited)
    assert new["blocks"][0]["elements"][0]["elements"][0]["text"] == "DB failover finished"
    assert (old["text"], old["ts"], "edited" in old) == ("DB failover started", ts, False)
    sample = set(json.loads((SAMPLES / "MessagePayload.json").read_text())["event"])
    assert set(new) <= sample and set(old) <= sample

    private = client.conversations_create(name="inc-9", is_private=True)["channel"]["id"]
    client.conversations_invite(channel=private, users="UBOB")
    reply = driver.post_message("bob", private, "on it", thread_ts=None)
    driver.edit_message("bob", private, reply, "on it, restarting")
    assert app.last.json()["event"]["channel_type"] == "group"


def test_people_edit_and_delete_only_what_slack_lets_them(
    slack: LocalSlack, driver: SlackDriver, client: WebClient
) -> None:
    ts = driver.post_message("alice", "incidents", "mine")
    with pytest.raises(EmulatorError, match="their own messages"):
        driver.edit_message("bob", "incidents", ts, "not yours")
    with pytest.raises(EmulatorError, match="their own messages"):
        driver.delete_message("bob", "incidents", ts)
    with pytest.raises(EmulatorError, match="no message"):
        driver.edit_message("alice", "incidents", "1.000001", "gone")
    client.conversations_join(channel="CINCIDENTS")
    bots = client.chat_postMessage(channel="CINCIDENTS", text="SEV2 investigating")["ts"]
    with pytest.raises(EmulatorError, match="their own messages"):
        driver.edit_message("alice", "incidents", bots, "SEV1")
    joined = slack.workspace.messages("incidents", include_system=True)[-2]
    assert joined.subtype == "channel_join"
    with pytest.raises(EmulatorError, match="no way to edit"):
        driver.edit_message("alice", "incidents", joined.ts, "hi")
    admin = slack.workspace.add_user("root", real_name="Workspace Admin")
    admin.is_admin = True
    slack.workspace.join("CINCIDENTS", admin.id)
    driver.delete_message("root", "incidents", ts)  # admins may delete anyone's message
    assert slack.workspace.message("incidents", ts) is None


def test_a_deleted_message_leaves_history_and_slack_sends_message_deleted(
    slack: LocalSlack, driver: SlackDriver, app: Receiver, client: WebClient
) -> None:
    client.conversations_join(channel="CINCIDENTS")
    ts = driver.post_message("bob", "incidents", "wrong dashboard, ignore")
    driver.pin("alice", "incidents", ts)
    delivery = driver.delete_message("bob", "incidents", ts)
    assert delivery is not None and delivery.response.status == 200

    assert slack.workspace.message("incidents", ts) is None
    assert ts not in [m.ts for m in slack.workspace.messages("incidents")]
    assert ts not in [
        m["ts"] for m in client.conversations_history(channel="CINCIDENTS")["messages"]
    ]
    assert slack.workspace.pins("incidents") == []
    event = app.last.json()["event"]
    assert event == {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "deleted_ts": ts,
        "previous_message": event["previous_message"],
        "channel": "CINCIDENTS",
        "channel_type": "channel",
        "ts": event["ts"],
        "event_ts": event["ts"],
    }
    assert float(event["ts"]) > float(ts)
    previous = event["previous_message"]
    assert (previous["text"], previous["user"], previous["ts"]) == (
        "wrong dashboard, ignore",
        "UBOB",
        ts,
    )
    with pytest.raises(EmulatorError, match="no message"):
        driver.delete_message("bob", "incidents", ts)


def test_a_deleted_message_that_heads_a_thread_stays_as_a_tombstone(
    slack: LocalSlack, driver: SlackDriver, app: Receiver, client: WebClient
) -> None:
    """Slack keeps the replies in place under "This message was deleted." and tells apps
    with a ``message_changed``, not a ``message_deleted``."""
    client.conversations_join(channel="CINCIDENTS")
    ts = driver.post_message("bob", "incidents", "p99 is 9 s")
    client.chat_postMessage(channel="CINCIDENTS", thread_ts=ts, text=":pushpin: Added")
    driver.delete_message("bob", "incidents", ts)

    tombstone = slack.workspace.message("incidents", ts)
    assert tombstone is not None and tombstone.is_tombstone
    assert (tombstone.user, tombstone.text) == ("USLACKBOT", "This message was deleted.")
    assert [m.text for m in slack.workspace.replies("incidents", ts)] == [":pushpin: Added"]
    shown = client.conversations_history(channel="CINCIDENTS", limit=1)["messages"][0]
    assert (shown["subtype"], shown["hidden"], shown["ts"]) == ("tombstone", True, ts)
    event = app.last.json()["event"]
    assert (event["subtype"], event["hidden"], event["channel"]) == (
        "message_changed",
        True,
        "CINCIDENTS",
    )
    assert event["message"]["subtype"] == "tombstone" and event["message"]["user"] == "USLACKBOT"
    assert event["message"]["text"] == "This message was deleted."
    assert event["previous_message"]["text"] == "p99 is 9 s"
    with pytest.raises(EmulatorError, match="no way to delete"):
        driver.delete_message("bob", "incidents", ts)


def test_message_events_reach_only_a_subscribed_app_in_the_conversation(
    slack: LocalSlack, driver: SlackDriver, app: Receiver, client: WebClient
) -> None:
    ws = slack.workspace
    assert ws.subscribed_events == set(BOT_EVENTS)
    assert {"message.channels", "message.groups"} <= ws.subscribed_events
    ts = driver.post_message("alice", "incidents", "before the bot joined")
    assert driver.edit_message("alice", "incidents", ts, "edited before it joined") is None
    assert message_events(app) == []
    assert [e["event"].get("subtype") for e in driver.withheld] == [None, "message_changed"]

    client.conversations_join(channel="CINCIDENTS")
    assert driver.edit_message("alice", "incidents", ts, "edited after") is not None
    ws.subscribed_events.discard("message.channels")
    assert driver.edit_message("alice", "incidents", ts, "unsubscribed") is None
    assert driver.delete_message("alice", "incidents", ts) is None
    assert [e["message"]["text"] for e in message_events(app)] == ["edited after"]
    assert [e["event"]["subtype"] for e in driver.withheld[-2:]] == [
        "message_changed",
        "message_deleted",
    ]

    private = client.conversations_create(name="inc-10", is_private=True)["channel"]["id"]
    client.conversations_invite(channel=private, users="UDANA")
    assert driver.edit_message("dana", private, driver.post_message("dana", private, "a"), "b")
    ws.subscribed_events.discard("message.groups")
    assert (
        driver.edit_message("dana", private, driver.post_message("dana", private, "c"), "d") is None
    )
    dm = driver.dm("erik")  # the app subscribes to no direct messages
    assert driver.post_message("erik", dm, "hello?") and driver.last_delivery is None


def test_the_apps_own_message_changes_wait_until_their_events_are_delivered(
    slack: LocalSlack, driver: SlackDriver, app: Receiver, client: WebClient
) -> None:
    ws = slack.workspace
    client.conversations_join(channel="CINCIDENTS")
    ts = client.chat_postMessage(channel="CINCIDENTS", text="SEV2 investigating")["ts"]
    client.chat_update(channel="CINCIDENTS", ts=ts, text="SEV1 identified")
    client.chat_delete(channel="CINCIDENTS", ts=ts)
    person = driver.post_message("alice", "incidents", "people's messages are sent at once")
    assert message_events(app)[-1]["ts"] == person
    restored = pickle.loads(pickle.dumps(ws))  # a snapshot carries no undelivered events
    assert list(restored.app_changes) == [] and restored.subscribed_events == set(BOT_EVENTS)

    assert [c.kind for c in ws.app_changes] == ["posted", "posted", "changed", "deleted"]
    sent = driver.deliver_app_changes()
    assert list(ws.app_changes) == [] and driver.deliver_app_changes() == []
    joined, member_joined, posted, changed, deleted = (d.envelope["event"] for d in sent)
    assert (joined["subtype"], joined["user"]) == ("channel_join", BOT_USER_ID)
    # A join is also told as member_joined_channel; the bot joined on its own: no inviter.
    assert (member_joined["type"], member_joined["user"]) == ("member_joined_channel", BOT_USER_ID)
    assert "inviter" not in member_joined
    assert (posted["user"], posted["bot_id"], posted["text"]) == (
        BOT_USER_ID,
        "BLOCAL0001",
        "SEV2 investigating",
    )
    assert changed["subtype"] == "message_changed" and changed["message"]["user"] == BOT_USER_ID
    assert changed["message"]["text"] == "SEV1 identified"
    assert changed["previous_message"]["text"] == "SEV2 investigating"
    assert changed["ts"] == changed["message"]["edited"]["ts"]
    assert (deleted["subtype"], deleted["deleted_ts"]) == ("message_deleted", ts)
    assert all(d.response.status == 200 for d in sent)


# ---------------------------------------------------------------------- driver: interactivity


def test_views_open_needs_a_driver_trigger_and_submission_state_shape(
    slack: LocalSlack, driver: SlackDriver, app: Receiver
) -> None:
    client = slack.client()

    def open_modal(received: Received) -> tuple[int, str, str]:
        if "payload" not in received.form:
            client.views_open(trigger_id=received.form["trigger_id"], view=MODAL)
        return 200, "", "text/plain"

    app.reply = open_modal
    driver.command("alice", "incidents", "declare")
    (record,) = slack.workspace.open_views("alice")
    assert record.view["callback_id"] == "declare_incident"
    trigger = app.last.form["trigger_id"]
    assert slack_error(client.views_open, trigger_id=trigger, view=MODAL) == "exchanged_trigger_id"
    assert slack_error(client.views_open, trigger_id="1.2.3", view=MODAL) == "invalid_trigger_id"

    app.reply = lambda r: (200, "", "text/plain")
    response = driver.submit_view(
        "alice",
        record.id,
        {
            "title_input": "Checkout errors",
            "private_radio": "private",
            "lead_select": "UBOB",
            "flags_checks": ["cust", "sec"],
            "started_date": "2026-11-27",
        },
    )
    assert response.status == 200
    got = app.last
    assert got.signature_ok and got.headers["content-type"] == "application/x-www-form-urlencoded"
    payload = got.payload
    assert payload["type"] == "view_submission" and set(payload) >= {"team", "user", "view"}
    view = payload["view"]
    assert view["callback_id"] == "declare_incident" and view["hash"]
    assert view["private_metadata"] == '{"channel": "CINCIDENTS"}'
    values = view["state"]["values"]
    assert values["title"]["title_input"] == {
        "type": "plain_text_input",
        "value": "Checkout errors",
    }
    assert values["severity"]["severity_select"] == {
        "type": "static_select",
        "selected_option": {
            "text": {"type": "plain_text", "text": "SEV3", "emoji": True},
            "value": "3",
        },
    }
    assert values["private"]["private_radio"]["selected_option"]["value"] == "private"
    assert values["lead"]["lead_select"] == {"type": "users_select", "selected_user": "UBOB"}
    assert [o["value"] for o in values["flags"]["flags_checks"]["selected_options"]] == [
        "cust",
        "sec",
    ]
    assert values["started"]["started_date"] == {
        "type": "datepicker",
        "selected_date": "2026-11-27",
    }
    assert values["summary"]["summary_input"] == {"type": "plain_text_input", "value": None}
    assert slack.workspace.open_views("alice") == []  # an empty ack closes the modal

    with pytest.raises(EmulatorError):
        driver.submit_view("alice", record.id, {"title_input": "again"})  # closed now


def test_expired_trigger_and_view_errors_answer(app: Receiver) -> None:
    now = [1_764_218_000.0]
    workspace = Workspace(clock=lambda: now[0])
    with LocalSlack(workspace) as slack:
        driver = slack.driver(app.url, SECRET)
        client = slack.client()
        fields = driver.command_fields("alice", "incidents", "declare")
        now[0] += 3.5
        error = slack_error(client.views_open, trigger_id=fields["trigger_id"], view=MODAL)
        assert error == "expired_trigger_id"
        fresh = workspace.issue_trigger("alice")
        view_id = client.views_open(trigger_id=fresh, view=MODAL)["view"]["id"]
        app.reply = lambda r: (
            200,
            json.dumps({"response_action": "errors", "errors": {"title": "Too short"}}),
            "application/json",
        )
        driver.submit_view(
            "alice",
            view_id,
            {"title_input": "x", "private_radio": "public", "lead_select": "UALICE"},
        )
        record = workspace.view(view_id)
        assert record is not None and record.errors == {"title": "Too short"}
        assert [v.id for v in workspace.open_views("alice")] == [view_id]
        with pytest.raises(EmulatorError):
            driver.submit_view("alice", view_id, {})  # required inputs left empty


def test_block_action_and_message_shortcut_payloads(
    slack: LocalSlack, driver: SlackDriver, app: Receiver
) -> None:
    client = slack.client()
    client.conversations_join(channel="CINCIDENTS")
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*INC-1* SEV2"}},
        {
            "type": "actions",
            "block_id": "controls",
            "elements": [
                {
                    "type": "button",
                    "action_id": "resolve",
                    "text": {"type": "plain_text", "text": "Resolve"},
                    "value": "inc-1",
                }
            ],
        },
    ]
    sent = client.chat_postMessage(channel="CINCIDENTS", text="INC-1", blocks=blocks)
    driver.block_action("alice", "resolve", channel="CINCIDENTS", message_ts=sent["ts"])
    payload = app.last.payload
    assert payload["type"] == "block_actions" and app.last.signature_ok
    action = payload["actions"][0]
    assert action["type"] == "button" and action["value"] == "inc-1"
    assert action["block_id"] == "controls" and action["action_id"] == "resolve"
    assert payload["container"]["message_ts"] == sent["ts"]
    assert payload["channel"] == {"id": "CINCIDENTS", "name": "incidents"}
    assert payload["message"]["blocks"][1]["block_id"] == "controls"
    Respond(response_url=payload["response_url"])(text="Resolved", replace_original=True)
    assert slack.workspace.message("CINCIDENTS", sent["ts"]).text == "Resolved"

    driver.message_shortcut("bob", "add_to_timeline", "incidents", sent["ts"])
    shortcut = app.last.payload
    assert shortcut["type"] == "message_action" and shortcut["callback_id"] == "add_to_timeline"
    assert shortcut["message"]["ts"] == sent["ts"] and shortcut["trigger_id"]
    assert set(shortcut) >= sample_keys("MessageShortcutPayload.json") - {"enterprise"}

    verification = driver.url_verification("challenge-123")
    assert verification.status == 200
    assert app.last.json() == {
        "token": app.last.json()["token"],
        "challenge": "challenge-123",
        "type": "url_verification",
    }


# ---------------------------------------------------------------------- with a real Bolt app


class BoltHost:
    """Serves a Bolt ``App`` over stdlib HTTP, the way the bot's web server hands requests on."""

    def __init__(self, bolt_app: Any) -> None:
        from slack_bolt.request import BoltRequest

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - stdlib naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                answer = bolt_app.dispatch(BoltRequest(body=body.decode(), headers=headers))
                data = answer.body.encode()
                self.send_response(answer.status)
                for key, values in answer.headers.items():
                    for value in values:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_bolt_app_accepts_what_the_driver_sends(slack: LocalSlack) -> None:
    from slack_bolt import App

    seen: dict[str, Any] = {}
    bolt = App(
        signing_secret=SECRET,
        client=slack.client(),  # Bolt calls auth.test on this at start
        process_before_response=True,
    )

    @bolt.command("/incident")
    def on_command(ack: Any, body: dict, respond: Any, client: WebClient) -> None:
        ack("Opening the form…")
        client.views_open(trigger_id=body["trigger_id"], view=MODAL)
        respond("Fill in the form")

    @bolt.view("declare_incident")
    def on_submit(ack: Any, view: dict) -> None:
        seen["title"] = view["state"]["values"]["title"]["title_input"]["value"]
        ack()

    @bolt.event("pin_added")
    def on_pin(event: dict) -> None:
        seen["pinned"] = event["item"]["message"]["text"]

    host = BoltHost(bolt)
    try:
        driver = slack.driver(host.url, SECRET)
        assert driver.command("alice", "incidents", "declare").status == 200
        # with process_before_response the listener (and respond()) finishes before the ack
        shown = {(e.text, e.source) for e in slack.workspace.ephemerals("alice")}
        assert shown == {("Opening the form…", "ack"), ("Fill in the form", "response_url")}
        (modal,) = slack.workspace.open_views("alice")
        values = {"title_input": "API slow", "private_radio": "public", "lead_select": "UALICE"}
        assert driver.submit_view("alice", modal.id, values).status == 200
        assert seen["title"] == "API slow" and slack.workspace.open_views("alice") == []
        ts = driver.post_message("bob", "incidents", "Error rate back to normal")
        assert driver.pin("bob", "incidents", ts).response.status == 200
        assert seen["pinned"] == "Error rate back to normal"
        assert driver.url_verification("abc").json() == {"challenge": "abc"}
        body = json.dumps(driver.envelope({"type": "pin_added"})).encode()
        assert driver.raw(body, signature="bad").status == 401
        assert driver.raw(body, stale=True).status == 401
        assert driver.raw(body, signature="none").status == 401
    finally:
        host.close()


def test_a_latency_delays_every_web_api_call(slack: LocalSlack) -> None:
    """``workspace.latency`` is Slack's round trip: every Web API call waits at least that long
    before it is answered (a lower bound, which load cannot break), and 0 turns it off."""
    import time

    client = WebClient(token=DEFAULT_BOT_TOKEN, base_url=slack.api_url, timeout=10)
    for latency in (0.25, 0.08):
        slack.workspace.latency = latency
        started = time.monotonic()
        assert client.auth_test()["ok"]
        assert client.users_info(user="UALICE")["ok"]
        assert time.monotonic() - started >= 2 * latency
    slack.workspace.latency = 0.0
    assert client.auth_test()["ok"]
