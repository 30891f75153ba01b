"""Socket Mode against the local Slack emulator, offline and end to end.

A real Bolt app connects with slack_bolt's ``SocketModeHandler`` (slack_sdk's builtin client) to
``LocalSlack``: ``apps.connections.open`` with the app-level token, the WebSocket on the same
port, envelopes from ``slack.socket_driver()`` and the app's acks. A tiny stdlib WebSocket client
checks the protocol details the sdk never exercises (fragmentation, unmasked frames, close).
"""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from incidentbot.emulator import (
    APP_ID,
    DEFAULT_APP_TOKEN,
    EmulatorError,
    LocalSlack,
    SlackDriver,
)
from incidentbot.emulator.socket_mode import (
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    accept_key,
    encode_frame,
    read_frame,
)

MODAL = {
    "type": "modal",
    "callback_id": "declare_incident",
    "title": {"type": "plain_text", "text": "Declare an incident"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "title_input"},
        }
    ],
}


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalSlack]:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)  # slack_sdk's socket client honours them
    with LocalSlack() as server:
        yield server


# ---------------------------------------------------------------------- a Bolt app


@dataclass
class BoltSocketApp:
    app: App
    handler: SocketModeHandler
    seen: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def bolt(slack: LocalSlack) -> Iterator[BoltSocketApp]:
    app = App(client=WebClient(token=slack.bot_token, base_url=slack.api_url))
    # The socket client calls apps.connections.open on its own WebClient: point it here too.
    handler = SocketModeHandler(app, slack.app_token, web_client=WebClient(base_url=slack.api_url))
    running = BoltSocketApp(app, handler)
    seen = running.seen

    @app.command("/incident")
    def on_command(ack: Any, body: dict, client: WebClient) -> None:
        if body["text"] == "declare":
            client.views_open(trigger_id=body["trigger_id"], view=MODAL)
            ack()
        else:
            ack(f"Unknown subcommand `{body['text']}`")

    @app.view("declare_incident")
    def on_submit(ack: Any, view: dict) -> None:
        title = view["state"]["values"]["title"]["title_input"]["value"]
        if len(title) < 5:
            ack(response_action="errors", errors={"title": "Too short"})
            return
        seen["title"] = title
        ack()

    @app.event("pin_added")
    def on_pin(event: dict, request: Any) -> None:
        # Bolt turns the envelope's retry_attempt back into HTTP mode's retry header.
        retry_num = request.headers.get("x-slack-retry-num", [None])[0]
        seen.setdefault("pins", []).append((event["item"]["message"]["text"], retry_num))

    handler.connect()  # non-blocking, unlike start()
    try:
        yield running
    finally:
        handler.close()


def test_slash_command_event_and_view_submission_over_socket_mode(
    slack: LocalSlack, bolt: BoltSocketApp
) -> None:
    connection = slack.wait_for_socket_connection(timeout=5)
    assert connection.hello is not None and connection.hello["type"] == "hello"
    assert connection.hello["connection_info"] == {"app_id": APP_ID}
    opened = slack.workspace.calls("apps.connections.open")
    assert [c.token for c in opened] == [slack.app_token] and opened[0].ok
    driver = slack.socket_driver()

    # Slash command: the ack's text is shown to the person, as over HTTP.
    response = driver.command("alice", "#incidents", "frobnicate")
    assert response.status == 200
    assert response.json() == {"text": "Unknown subcommand `frobnicate`"}
    (shown,) = slack.workspace.ephemerals("alice")
    assert (shown.text, shown.source) == ("Unknown subcommand `frobnicate`", "ack")
    sent = response.socket_delivery
    assert sent is not None and sent.type == "slash_commands"
    assert sent.envelope["accepts_response_payload"] is True
    assert sent.payload["command"] == "/incident" and sent.payload["user_id"] == "UALICE"
    assert sent.ack == {"envelope_id": sent.envelope_id, "payload": response.json()}

    # Events API: the event_callback envelope is the payload; an empty ack has no body.
    ts = driver.post_message("bob", "incidents", "Error rate back to normal")
    delivery = driver.pin("bob", "incidents", ts)
    assert delivery.response.status == 200 and delivery.response.body == ""
    # Bolt acks events before it runs their listeners (process_before_response=False).
    eventually(lambda: bolt.seen.get("pins") == [("Error rate back to normal", "0")])
    envelope = delivery.response.socket_delivery
    assert envelope is not None and envelope.type == "events_api"
    assert envelope.payload["type"] == "event_callback"
    assert envelope.payload["event"]["type"] == "pin_added"
    assert envelope.envelope["accepts_response_payload"] is False
    retry = driver.redeliver(delivery)
    assert retry.envelope["event_id"] == delivery.envelope["event_id"]
    sent_retry = retry.response.socket_delivery
    assert sent_retry is not None
    assert (sent_retry.envelope["retry_attempt"], sent_retry.envelope["retry_reason"]) == (
        1,
        "timeout",
    )
    eventually(lambda: len(bolt.seen["pins"]) == 2)
    assert bolt.seen["pins"][1] == ("Error rate back to normal", "1")

    # Interactivity: the modal opened from the command, errors answered, then accepted.
    assert driver.command("alice", "#incidents", "declare").body == ""
    (modal,) = slack.workspace.open_views("alice")
    refused = driver.submit_view("alice", modal.id, {"title_input": "DB"})
    assert refused.json() == {"response_action": "errors", "errors": {"title": "Too short"}}
    assert slack.workspace.view(modal.id).errors == {"title": "Too short"}  # type: ignore[union-attr]
    accepted = driver.submit_view("alice", modal.id, {"title_input": "Database down"})
    assert accepted.status == 200 and accepted.socket_delivery is not None
    assert accepted.socket_delivery.payload["type"] == "view_submission"
    assert bolt.seen["title"] == "Database down"
    assert slack.workspace.open_views("alice") == []

    # Everything went through the one socket and is in the call log.
    hub = slack.socket_mode
    assert len(hub.deliveries) == 6 and all(d.acked for d in hub.deliveries)
    assert {d.connection_id for d in hub.deliveries} == {connection.id}
    assert [a["envelope_id"] for a in hub.acks] == [d.envelope_id for d in hub.deliveries]
    methods = [c.method for c in slack.workspace.calls() if c.kind == "socket_mode"]
    assert methods[0] == "socket_mode.connect"
    assert methods.count("socket_mode.envelope") == methods.count("socket_mode.ack") == 6

    # The HTTP-only helpers refuse rather than POST somewhere.
    with pytest.raises(EmulatorError, match="HTTP transport"):
        driver.url_verification()


def test_closing_the_handler_disconnects_and_reconnects_on_request(
    slack: LocalSlack, bolt: BoltSocketApp
) -> None:
    first = slack.wait_for_socket_connection(timeout=5)
    # Slack's "disconnect" message: the client opens a new connection and drops the old one.
    assert slack.socket_mode.request_reconnect() == 1
    eventually(lambda: len(slack.socket_mode.all_connections) == 2 and not first.is_open)
    second = slack.wait_for_socket_connection()
    assert second is not first and second.is_open
    assert len(slack.workspace.calls("apps.connections.open")) == 2
    assert slack.socket_driver().command("alice", "incidents", "x").json() == {
        "text": "Unknown subcommand `x`"
    }
    assert slack.socket_mode.deliveries[-1].connection_id == second.id

    bolt.handler.close()
    slack.socket_mode.wait_for_disconnection(timeout=5)
    assert slack.socket_mode.connections == [] and not second.is_open
    assert second.closed_by == "app"
    closes = [c for c in slack.workspace.calls("socket_mode.disconnect")]
    assert [c.params["connection_id"] for c in closes] == [first.id, second.id]
    with pytest.raises(EmulatorError, match="no Socket Mode app is connected"):
        slack.socket_driver().command("alice", "incidents", "declare")


# ---------------------------------------------------------------------- tokens and tickets


def test_apps_connections_open_takes_only_app_level_tokens(slack: LocalSlack) -> None:
    client = WebClient(base_url=slack.api_url, timeout=5)

    def error(token: str) -> str:
        with pytest.raises(SlackApiError) as caught:
            client.apps_connections_open(app_token=token)
        return caught.value.response["error"]

    assert error(slack.bot_token) == "not_allowed_token_type"
    assert error("xapp-not-issued") == "invalid_auth"
    url = client.apps_connections_open(app_token=DEFAULT_APP_TOKEN)["url"]
    parts = urlsplit(url)
    assert (parts.scheme, parts.port, parts.path) == ("ws", slack.port, "/link/")
    assert "ticket=" in parts.query and f"app_id={APP_ID}" in parts.query
    app_client = WebClient(token=slack.app_token, base_url=slack.api_url, timeout=5)
    with pytest.raises(SlackApiError) as caught:
        app_client.chat_postMessage(channel="CGENERAL", text="hi")
    assert caught.value.response["error"] == "not_allowed_token_type"

    with RawSocket(url) as ws:  # the ticket is good once
        assert ws.recv_json()["type"] == "hello"
    with pytest.raises(ConnectionError, match="401"):
        RawSocket(url)


# ---------------------------------------------------------------------- the protocol itself


class RawSocket:
    """A minimal RFC 6455 client: masked frames out, any frames in."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=5)
        self.file = self.sock.makefile("rb")
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.hostname}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        status = self.file.readline().decode()
        headers = {}
        while (line := self.file.readline().decode().strip()) != "":
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if " 101 " not in status:
            self.__exit__()
            raise ConnectionError(status.strip())
        assert headers["sec-websocket-accept"] == accept_key(key)

    def __enter__(self) -> RawSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()  # the makefile() reader holds the socket open too
        self.sock.close()

    def send(self, opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True) -> None:
        mask = os.urandom(4) if masked else None
        self.sock.sendall(encode_frame(opcode, payload, fin=fin, mask=mask))

    def recv(self) -> tuple[bool, int, bytes]:
        return read_frame(self.file, require_mask=False)

    def recv_json(self) -> dict[str, Any]:
        while True:
            _, opcode, payload = self.recv()
            if opcode == OP_TEXT:
                return json.loads(payload)
            assert opcode in (OP_PING, OP_PONG), opcode

    def recv_control(self, wanted: int) -> bytes:
        while True:
            _, opcode, payload = self.recv()
            if opcode == wanted:
                return payload


def connect_raw(slack: LocalSlack) -> RawSocket:
    url = WebClient(base_url=slack.api_url).apps_connections_open(app_token=slack.app_token)["url"]
    ws = RawSocket(url)
    hello = ws.recv_json()
    assert hello["type"] == "hello" and hello["num_connections"] >= 1
    return ws


def in_background(call: Callable[[], Any]) -> Future[Any]:
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(call)
    pool.shutdown(wait=False)
    return future


def test_fragmented_ack_pings_and_close_handshake(slack: LocalSlack) -> None:
    with connect_raw(slack) as ws:
        connection = slack.wait_for_socket_connection()
        ws.send(OP_PING, b"are you there")
        assert ws.recv_control(OP_PONG) == b"are you there"
        assert ws.recv_control(OP_PING)  # the server pings its app sockets too
        ws.send(OP_PONG, b"")

        driver = slack.socket_driver(timeout=5)
        pending = in_background(lambda: driver.command("bob", "incidents", "status"))
        envelope = ws.recv_json()
        assert envelope["type"] == "slash_commands" and envelope["payload"]["text"] == "status"
        assert (envelope["retry_attempt"], envelope["retry_reason"]) == (0, "")
        ack = json.dumps(
            {"envelope_id": envelope["envelope_id"], "payload": {"text": "All quiet"}}
        ).encode()
        ws.send(OP_TEXT, ack[:10], fin=False)
        ws.send(OP_PING, b"mid-message")  # control frames may come between fragments
        ws.send(OP_CONTINUATION, ack[10:20], fin=False)
        ws.send(OP_CONTINUATION, ack[20:])
        response = pending.result(timeout=5)
        assert response.json() == {"text": "All quiet"}
        assert [e.text for e in slack.workspace.ephemerals("bob")] == ["All quiet"]
        assert ws.recv_control(OP_PONG) == b"mid-message"

        ws.send(OP_CLOSE, (1000).to_bytes(2, "big") + b"bye")
        assert ws.recv_control(OP_CLOSE)[:2] == (1000).to_bytes(2, "big")
        slack.socket_mode.wait_for_disconnection(timeout=2)
    assert (connection.closed_by, connection.close_code, connection.close_reason) == (
        "app",
        1000,
        "bye",
    )
    assert slack.socket_mode.connections == []


def test_unacknowledged_or_orphaned_envelopes_raise(slack: LocalSlack) -> None:
    driver = SlackDriver(slack, transport="socket", timeout=0.3)
    with pytest.raises(EmulatorError, match="no Socket Mode app is connected"):
        driver.command("alice", "incidents", "status")

    with connect_raw(slack) as ws:
        with pytest.raises(EmulatorError, match="no ack within 0.3s"):
            driver.command("alice", "incidents", "status")
        assert ws.recv_json()["type"] == "slash_commands"
        late = slack.socket_mode.deliveries[-1]
        assert late.failure is not None and not late.acked

        patient = SlackDriver(slack, transport="socket", timeout=5)
        pending = in_background(lambda: patient.command("alice", "incidents", "status"))
        assert ws.recv_json()["type"] == "slash_commands"
        ws.send(OP_TEXT, b'{"not": "masked"}', masked=False)  # a protocol error: server closes
        assert ws.recv_control(OP_CLOSE)[:2] == (1002).to_bytes(2, "big")
        with pytest.raises(EmulatorError, match="closed before the ack"):
            pending.result(timeout=5)


def test_stopping_the_server_closes_app_sockets(slack: LocalSlack) -> None:
    ws = connect_raw(slack)
    connection = slack.wait_for_socket_connection()
    done = threading.Event()
    threading.Thread(target=lambda: (slack.stop(), done.set()), daemon=True).start()
    with ws:
        assert ws.recv_control(OP_CLOSE)[:2] == (1001).to_bytes(2, "big")
        ws.send(OP_CLOSE, (1001).to_bytes(2, "big"))
    assert done.wait(5) and not connection.is_open
    assert connection.closed_by == "server"
