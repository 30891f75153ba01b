"""Send the app what Slack would send when people act: slash commands, events, interactivity.

Every request is signed like Slack signs it (``X-Slack-Request-Timestamp`` and
``X-Slack-Signature: v0=HMAC-SHA256(secret, "v0:{ts}:{body}")``) and shaped like the payload
samples in ``shared/slack/payload-samples``: slash commands form-encoded, Events API envelopes as
JSON, interactivity form-encoded with one ``payload`` field holding JSON.

User actions (``post_message``, ``edit_message``, ``delete_message``, ``pin``, ``react``,
``join`` ...) change the workspace first and then deliver the event Slack would deliver.
``message`` events (new, edited and deleted messages, joins) go only where Slack sends them: to
an app subscribed to that kind of conversation's messages whose bot is in the conversation
(``Workspace.delivers_messages``); the others are kept in ``withheld``.

The emulator never sends events on its own: only the methods of this class send anything to the
app. The bot's own Web API calls send nothing by themselves (``pins.add`` by the bot sends no
``pin_added``), but Slack does tell an app of its own messages: the messages the app posts,
updates and deletes (and the joins and topic changes its calls cause) are kept as the
workspace's ``app_changes``, and ``deliver_app_changes()`` sends their events, as Slack would have.

Whatever the app answers to a slash command or an action (the HTTP ack body) is applied as Slack
applies it: text/blocks become an ephemeral message for the person (or an in-channel message for
``response_type: in_channel``), and ``response_action`` answers to a view submission update,
push, clear or keep the modal.

With ``transport="socket"`` (``LocalSlack.socket_driver()``) the same methods deliver over Socket
Mode instead: each payload goes in an envelope to the app's WebSocket (``socket_mode.py``) and
the driver waits for the ack; the ack's ``payload`` plays the part of the HTTP body (status 200),
so acks are applied exactly as above. Nothing is signed then: the app authenticated the socket.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import string
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from .api import message_api, permalink
from .blockkit import element_value, find_element, state_values, validate_view
from .events import message_event
from .workspace import (
    APP_ID,
    BOT_USER_ID,
    SYSTEM_SUBTYPES,
    TEAM_DOMAIN,
    TEAM_ID,
    Channel,
    Message,
    MessageChange,
    SlackError,
    User,
    ViewRecord,
)

if TYPE_CHECKING:
    from .server import LocalSlack
    from .socket_mode import SocketDelivery

__all__ = [
    "VERIFICATION_TOKEN",
    "Delivery",
    "DriverResponse",
    "EmulatorError",
    "SlackDriver",
    "as_slack_sends",
    "mention",
]

#: The legacy ``token`` field Slack still puts in payloads (apps should not rely on it).
VERIFICATION_TOKEN = "local-verification-token"

Signature = Literal["valid", "bad", "none"]
Transport = Literal["http", "socket"]
DeliveryKind = Literal["events_api", "slash_commands", "interactive"]


class EmulatorError(Exception):
    """A test asked for something a real person could not do in Slack."""


def mention(user_id: str, name: str | None = None) -> str:
    """A user mention as a slash command receives it with ``should_escape``: ``<@U123|alice>``."""
    return f"<@{user_id}|{name}>" if name else f"<@{user_id}>"


# What Slack's client makes of a mention, a channel, a broadcast, a date or a link people put in.
_SLACK_SEQUENCE = re.compile(
    r"<(?:@[UW][A-Z0-9]+|#[CG][A-Z0-9]+|!(?:here|channel|everyone)|!subteam\^[A-Z0-9]+"
    r"|!date\^[^<>|]*|(?:https?|mailto):[^<>|\s]+)(?:\|[^<>]*)?>"
)


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def as_slack_sends(text: str) -> str:
    """Typed text as Slack sends it in a slash command or a message event.

    ``&``, ``<`` and ``>`` are escaped (``Payments & checkout <EU>`` arrives as ``Payments &amp;
    checkout &lt;EU&gt;``), except in the sequences Slack itself makes of mentions, channels,
    broadcasts and links (``<@U123|alice>``, ``<#C1|general>``, ``<!here>``,
    ``<https://x?a=1&amp;b=2|docs>``), which tests put in as ``mention(...)`` gives them; a
    link's ``&`` is escaped too. Form fields (``plain_text_input``) arrive unescaped instead.
    """
    pieces: list[str] = []
    position = 0
    for match in _SLACK_SEQUENCE.finditer(text):
        pieces.append(_escaped(text[position : match.start()]))
        pieces.append(match.group().replace("&", "&amp;"))
        position = match.end()
    pieces.append(_escaped(text[position:]))
    return "".join(pieces)


@dataclass
class DriverResponse:
    """What the app answered: status, headers (lower-case names), body text, time taken.

    Over Socket Mode: status 200, the ack's ``payload`` as a JSON body ("" without one), the
    time until the ack, and ``socket_delivery`` (the envelope sent and the ack received).
    """

    status: int
    headers: dict[str, str]
    body: str
    elapsed: float = 0.0
    socket_delivery: SocketDelivery | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def slow(self) -> bool:
        """Slack gives up after 3 seconds (and, for events, retries)."""
        return self.elapsed > 3.0

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class Delivery(NamedTuple):
    """An event delivery: the app's response and the envelope sent (to redeliver it)."""

    response: DriverResponse
    envelope: dict[str, Any]


def _signature(secret: str, body: bytes, timestamp: int) -> str:
    """Slack's ``X-Slack-Signature`` of ``body`` sent at ``timestamp``, signed with ``secret``."""
    signature = SignatureVerifier(secret).generate_signature(
        timestamp=str(timestamp), body=body.decode("utf-8")
    )
    if signature is None:  # slack_sdk gives None only for a missing timestamp or body
        raise EmulatorError("could not sign the request")
    return signature


class SlackDriver:
    """Acts as Slack towards the app at ``app_url`` (its ``POST /slack/events`` URL).

    ``users`` and ``channels`` may be given as ids or as names (``alice``, ``#incidents``).
    ``timeout`` bounds each request (default 30 s over HTTP, 10 s for a Socket Mode ack); Slack
    itself waits 3 seconds (see ``DriverResponse.slow``).

    ``transport="socket"`` delivers to the app connected over Socket Mode instead of POSTing
    (``app_url`` and ``signing_secret`` are not needed then); a delivery that no connected app
    acknowledges raises ``EmulatorError``. ``raw()`` and ``url_verification()`` are HTTP only.
    """

    def __init__(
        self,
        workspace_server: LocalSlack,
        app_url: str | None = None,
        signing_secret: str | None = None,
        *,
        timeout: float | None = None,
        transport: Transport = "http",
    ) -> None:
        if transport not in ("http", "socket"):
            raise ValueError(f"transport must be 'http' or 'socket', not {transport!r}")
        if transport == "http" and (not app_url or signing_secret is None):
            raise ValueError("the HTTP transport needs the app's URL and signing secret")
        self.slack = workspace_server
        self.ws = workspace_server.workspace
        self.transport: Transport = transport
        self.app_url = app_url or ""
        self.signing_secret = signing_secret or ""
        self.timeout = timeout if timeout is not None else (30.0 if transport == "http" else 10.0)
        self.deliveries: list[Delivery] = []
        self.last_delivery: Delivery | None = None
        #: Envelopes of ``message`` events Slack would not send this app (not subscribed, or
        #: its bot is not in the conversation), oldest first.
        self.withheld: list[dict[str, Any]] = []
        self._submissions: dict[str, dict[str, Any]] = {}
        self._event_counter = itertools.count(1)

    # ------------------------------------------------------------------ low level

    def sign(self, body: bytes, timestamp: int) -> str:
        """Slack's ``X-Slack-Signature`` for ``body`` sent at ``timestamp``."""
        return _signature(self.signing_secret, body, timestamp)

    def raw(
        self,
        body: bytes,
        headers: dict[str, str] | None = None,
        *,
        content_type: str | None = "application/json",
        signature: Signature = "valid",
        stale: bool = False,
        timestamp: int | None = None,
        url: str | None = None,
    ) -> DriverResponse:
        """POST ``body`` to the app, signed unless told otherwise (for negative tests).

        ``signature="bad"`` signs with a wrong secret, ``"none"`` leaves both signing headers
        out; ``stale=True`` signs correctly but with a timestamp 6 minutes old; ``timestamp``
        forces one. ``content_type=None`` sends no Content-Type. ``headers`` are added last.
        """
        if self.transport != "http":
            raise EmulatorError(
                "raw HTTP requests need the HTTP transport; this driver delivers over Socket Mode"
            )
        ts = timestamp if timestamp is not None else int(time.time()) - (360 if stale else 0)
        sent_headers: dict[str, str] = {
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"
        }
        if content_type is not None:
            sent_headers["Content-Type"] = content_type
        if signature != "none":
            sent_headers["X-Slack-Request-Timestamp"] = str(ts)
            if signature == "valid":
                sent_headers["X-Slack-Signature"] = self.sign(body, ts)
            else:
                sent_headers["X-Slack-Signature"] = _signature(
                    f"not-{self.signing_secret}", body, ts
                )
        sent_headers.update(headers or {})
        request = urllib.request.Request(
            url or self.app_url, data=body, headers=sent_headers, method="POST"
        )
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                status = reply.status
                reply_headers = {k.lower(): v for k, v in reply.headers.items()}
                text = reply.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            status = err.code
            reply_headers = {k.lower(): v for k, v in err.headers.items()}
            text = err.read().decode("utf-8", "replace")
        return DriverResponse(status, reply_headers, text, time.monotonic() - started)

    def _form(self, fields: dict[str, Any], **options: Any) -> DriverResponse:
        body = urlencode(fields).encode()
        return self.raw(body, content_type="application/x-www-form-urlencoded", **options)

    def _interactive(self, payload: dict[str, Any]) -> DriverResponse:
        return self._send("interactive", payload)

    def _send(
        self,
        kind: DeliveryKind,
        payload: dict[str, Any],
        *,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> DriverResponse:
        """Deliver ``payload`` over the driver's transport, shaped as that transport wants it.

        HTTP: slash commands form-encoded, interactivity as a form ``payload`` field, events as
        JSON with ``X-Slack-Retry-*`` headers. Socket Mode: an envelope of type ``kind``.
        """
        if self.transport == "socket":
            return self._over_socket(kind, payload, retry_num, retry_reason)
        if kind == "slash_commands":
            return self._form(payload)
        if kind == "interactive":
            return self._form({"payload": json.dumps(payload)})
        headers: dict[str, str] = {}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        return self.raw(json.dumps(payload).encode(), headers)

    def _over_socket(
        self,
        kind: DeliveryKind,
        payload: dict[str, Any],
        retry_num: int | None,
        retry_reason: str | None,
    ) -> DriverResponse:
        delivery = self.slack.socket_mode.send(
            kind,
            payload,
            retry_attempt=retry_num or 0,
            retry_reason=(retry_reason or "timeout") if retry_num else "",
            timeout=self.timeout,
        )
        answer = delivery.response_payload
        body = "" if answer is None else json.dumps(answer)
        headers = {"content-type": "application/json"} if body else {}
        return DriverResponse(200, headers, body, delivery.ack_elapsed or 0.0, delivery)

    # ------------------------------------------------------------------ lookups

    def _user(self, user: str) -> User:
        try:
            return self.ws.resolve_user(user)
        except KeyError as err:
            raise EmulatorError(str(err)) from None

    def _channel(self, channel: str) -> Channel:
        try:
            return self.ws.resolve_channel(channel)
        except KeyError as err:
            raise EmulatorError(str(err)) from None

    def _member_channel(self, user: User, channel: str) -> Channel:
        ch = self._channel(channel)
        if user.id not in ch.members:
            raise EmulatorError(
                f"{user.name} is not a member of #{ch.name} ({ch.id}); "
                f"call driver.join({user.name!r}, {ch.id!r}) first"
            )
        return ch

    def mention(self, user: str) -> str:
        """``<@U123|alice>`` for a user id or handle, as typed into a slash command."""
        found = self._user(user)
        return mention(found.id, found.name)

    def dm(self, user: str) -> str:
        """The id of the bot's DM with ``user`` (to run a command there, for instance)."""
        return self.ws.dm_channel(self._user(user).id).id

    def _message_payload(self, ch: Channel, message: Message) -> dict[str, Any]:
        return message_api(self.ws, message, self.slack.base_url)

    def _team(self) -> dict[str, Any]:
        return {"id": TEAM_ID, "domain": TEAM_DOMAIN}

    def _user_obj(self, user: User) -> dict[str, Any]:
        return {"id": user.id, "username": user.name, "name": user.name, "team_id": TEAM_ID}

    def _channel_obj(self, ch: Channel) -> dict[str, Any]:
        return {"id": ch.id, "name": "directmessage" if ch.is_im else ch.name}

    # ------------------------------------------------------------------ slash commands

    def command_fields(
        self, user: str, channel: str, text: str, command: str = "/incident"
    ) -> dict[str, str]:
        """The form fields of a slash command (also issues its trigger and response_url)."""
        person = self._user(user)
        ch = self._member_channel(person, channel)
        response_url = self.slack.issue_response_url(
            user=person.id, channel=ch.id, source="command"
        )
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "enterprise_id": "",
            "enterprise_name": "",
            "channel_id": ch.id,
            "channel_name": "directmessage" if ch.is_im else ch.name,
            "user_id": person.id,
            "user_name": person.name,
            "command": command,
            "text": as_slack_sends(text),
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": self.ws.issue_trigger(person.id),
        }

    def command(
        self, user: str, channel: str, text: str, command: str = "/incident"
    ) -> DriverResponse:
        """Type ``/command text`` in ``channel`` as ``user``; the ack is shown as Slack shows it.

        ``text`` is what the person typed, sent escaped as Slack escapes it
        (``as_slack_sends``); put mentions in as ``mention(...)`` gives them.
        """
        fields = self.command_fields(user, channel, text, command)
        response = self._send("slash_commands", fields)
        if response.status == 200 and response.body.strip():
            target_id = fields["response_url"].rsplit("/", 1)[-1]
            self._show_ack(response, fields["user_id"], fields["channel_id"], target_id)
        return response

    def _show_ack(
        self, response: DriverResponse, user_id: str, channel_id: str, target_id: str | None
    ) -> None:
        """Show an ack body as Slack does: JSON message or plain text, for the person."""
        try:
            data = response.json()
        except ValueError:
            data = response.body
        if isinstance(data, str):
            data = {"text": data}
        if not isinstance(data, dict) or not (data.get("text") or data.get("blocks")):
            return
        text = str(data.get("text") or "")
        blocks = data.get("blocks") or []
        if data.get("response_type") == "in_channel":
            with self.ws.recording_changes():  # the app's message: Slack tells it of it too
                self.ws.post_message(channel_id, BOT_USER_ID, text, blocks=blocks)
            return
        ephemeral = self.ws.add_ephemeral(
            channel_id, user_id, text=text, blocks=blocks, source="ack"
        )
        target = self.ws.response_targets.get(target_id or "")
        if target is not None:
            target.posted.append(ephemeral.ts)

    # ------------------------------------------------------------------ events

    def _new_event_id(self) -> str:
        alphabet = string.ascii_uppercase + string.digits
        suffix = "".join(secrets.choice(alphabet) for _ in range(6))
        return f"Ev{next(self._event_counter):04d}{suffix}"

    def envelope(
        self, event: dict[str, Any], *, event_id: str | None = None, event_time: int | None = None
    ) -> dict[str, Any]:
        """The ``event_callback`` envelope Slack wraps ``event`` in."""
        event = dict(event)
        event.setdefault("event_ts", self.ws.next_ts())
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM_ID,
            "context_team_id": TEAM_ID,
            "context_enterprise_id": None,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or self._new_event_id(),
            "event_time": event_time if event_time is not None else int(self.ws.now()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{secrets.token_urlsafe(24)}",
        }

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> Delivery:
        """Deliver one Events API event; pass ``retry_num`` (and the same ``event_id``) to
        redeliver as Slack does after a missed ack."""
        return self.deliver(
            self.envelope(event, event_id=event_id),
            retry_num=retry_num,
            retry_reason=retry_reason,
        )

    def deliver(
        self,
        envelope: dict[str, Any],
        *,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> Delivery:
        """Send a prepared envelope (e.g. the one of an earlier delivery, to redeliver it).

        Over Socket Mode the ``event_callback`` envelope is the ``payload`` of an ``events_api``
        envelope, and ``retry_num``/``retry_reason`` its ``retry_attempt``/``retry_reason``.
        """
        response = self._send(
            "events_api", envelope, retry_num=retry_num, retry_reason=retry_reason
        )
        delivery = Delivery(response, envelope)
        self.deliveries.append(delivery)
        self.last_delivery = delivery
        return delivery

    def redeliver(
        self, delivery: Delivery, *, retry_num: int = 1, retry_reason: str | None = None
    ) -> Delivery:
        """Slack's retry of an earlier delivery: same envelope and event_id, retry headers
        (reason ``http_timeout`` over HTTP, ``timeout`` over Socket Mode unless given)."""
        return self.deliver(delivery.envelope, retry_num=retry_num, retry_reason=retry_reason)

    def url_verification(self, challenge: str | None = None) -> DriverResponse:
        """The handshake Slack sends when the Request URL is saved; the app echoes challenge."""
        body = {
            "token": VERIFICATION_TOKEN,
            "challenge": challenge or secrets.token_urlsafe(32),
            "type": "url_verification",
        }
        return self.raw(json.dumps(body).encode())

    # ------------------------------------------------------------------ people acting

    def post_message(
        self,
        user: str,
        channel: str,
        text: str,
        thread_ts: str | None = None,
        *,
        send_event: bool = True,
    ) -> str:
        """``user`` writes ``text`` in ``channel`` (or a thread); returns the message ts.

        The message's ``text`` is what Slack makes of it (``as_slack_sends``); its rich-text
        block holds the words as typed.

        The ``message`` event goes to the app as Slack sends it: only if it subscribes to the
        channel's messages and its bot is in the channel. ``last_delivery`` is then that
        delivery, or None when nothing was sent. ``send_event=False`` keeps the event back even
        so, for tests that set up history the app must not see arrive.
        """
        person = self._user(user)
        ch = self._member_channel(person, channel)
        changes: list[MessageChange] = []
        with self.ws.recording_changes(changes):
            message = self.ws.post_message(
                ch.id,
                person.id,
                as_slack_sends(text),
                thread_ts=thread_ts,
                blocks=_rich_text(text),
                client_msg_id=_uuid(),
            )
        self.last_delivery = self._deliver_changes(changes) if send_event else None
        return message.ts

    def edit_message(self, user: str, channel: str, ts: str, text: str) -> Delivery | None:
        """``user`` edits their message ``ts`` to say ``text``; Slack marks it ``edited`` and
        sends ``message_changed`` (None when Slack would send this app nothing)."""
        person = self._user(user)
        ch = self._member_channel(person, channel)
        message = self._own_message(person, ch, ts, doing="edit")
        changes: list[MessageChange] = []
        with self.ws.recording_changes(changes):
            self.ws.update_message(
                ch.id,
                message.ts,
                editor=person.id,
                text=as_slack_sends(text),
                blocks=_rich_text(text),
            )
        return self._deliver_changes(changes)

    def delete_message(self, user: str, channel: str, ts: str) -> Delivery | None:
        """``user`` deletes their message ``ts`` (a workspace admin may delete anyone's).

        Slack sends ``message_deleted`` and the message leaves history; a message that heads a
        thread stays as a tombstone instead, and the event is a ``message_changed`` carrying it.
        None when Slack would send this app nothing.
        """
        person = self._user(user)
        ch = self._member_channel(person, channel)
        message = self._own_message(person, ch, ts, doing="delete")
        changes: list[MessageChange] = []
        with self.ws.recording_changes(changes):
            self.ws.delete_message(ch.id, message.ts)
        return self._deliver_changes(changes)

    def deliver_app_changes(self) -> list[Delivery]:
        """Send the events of the app's own message changes so far (``Workspace.app_changes``), as
        Slack sends them: only those of conversations the app gets message events from."""
        sent = []
        for change in self.ws.take_app_changes():
            delivery = self._deliver_changes([change])
            if delivery is not None:
                sent.append(delivery)
            joined = change.message
            if change.kind == "posted" and joined.subtype == "channel_join":
                # Someone the app invited: Slack tells the app's channels of the join, naming
                # the app as the inviter, whatever its message subscriptions.
                sent.append(
                    self.event(self._joined_event(joined.user, change.channel, joined.inviter))
                )
        return sent

    def _joined_event(self, user_id: str, channel_id: str, inviter: str | None) -> dict[str, Any]:
        ch = self._channel(channel_id)
        event: dict[str, Any] = {
            "type": "member_joined_channel",
            "user": user_id,
            "channel": ch.id,
            "channel_type": "G" if ch.is_private else "C",
            "team": TEAM_ID,
            "event_ts": self.ws.next_ts(),
        }
        if inviter:
            event["inviter"] = inviter
        return event

    def _own_message(self, person: User, ch: Channel, ts: str, *, doing: str) -> Message:
        """The message ``person`` may ``edit``/``delete``: their own (admins delete any)."""
        message = ch.message(ts)
        if message is None:
            raise EmulatorError(f"no message {ts} in #{ch.name}")
        if ch.is_archived:
            raise EmulatorError(f"#{ch.name} is archived: its messages are read-only")
        if message.is_tombstone or message.subtype in SYSTEM_SUBTYPES:
            raise EmulatorError(f"Slack offers no way to {doing} message {ts} ({message.subtype})")
        if message.user != person.id and not (doing == "delete" and person.is_admin):
            raise EmulatorError(
                f"{person.name} cannot {doing} message {ts}: it is {message.user}'s, and people "
                f"{doing} their own messages only"
            )
        return message

    def _deliver_changes(self, changes: list[MessageChange]) -> Delivery | None:
        """Deliver the ``message`` events of ``changes`` where Slack would (see
        ``Workspace.delivers_messages``), keep the others in ``withheld``; returns the last
        delivery, None if nothing was sent."""
        delivered = None
        for change in changes:
            envelope = self.envelope(message_event(self.ws, change, self.slack.base_url))
            if self.ws.delivers_messages(change.channel):
                delivered = self.deliver(envelope)
            else:
                self.withheld.append(envelope)
        return delivered

    def pin(self, user: str, channel: str, ts: str) -> Delivery:
        """``user`` pins message ``ts``; sends ``pin_added``."""
        return self.deliver(self.pin_envelope(user, channel, ts))

    def pin_envelope(self, user: str, channel: str, ts: str) -> dict[str, Any]:
        """``user`` pins message ``ts`` in the workspace; returns the ``pin_added`` envelope
        Slack would deliver, unsent (for load generators that send many at once)."""
        person = self._user(user)
        ch = self._member_channel(person, channel)
        try:
            message = self.ws.add_pin(ch.id, ts, person.id)
        except SlackError as err:
            raise EmulatorError(f"cannot pin {ts} in #{ch.name}: {err.code}") from None
        return self.envelope(self._pin_event("pin_added", person, ch, message))

    def unpin(self, user: str, channel: str, ts: str) -> Delivery:
        """``user`` unpins message ``ts``; sends ``pin_removed``."""
        person = self._user(user)
        ch = self._member_channel(person, channel)
        try:
            message = self.ws.remove_pin(ch.id, ts)
        except SlackError as err:
            raise EmulatorError(f"cannot unpin {ts} in #{ch.name}: {err.code}") from None
        event = self._pin_event("pin_removed", person, ch, message)
        event["has_pins"] = bool(ch.pins)
        return self.event(event)

    def _pin_event(self, kind: str, person: User, ch: Channel, message: Message) -> dict[str, Any]:
        now = int(self.ws.now())
        pinned_by, pinned_at = ch.pin_info.get(message.ts, (person.id, now))
        item_message = self._message_payload(ch, message)
        item_message["permalink"] = permalink(self.slack.base_url, ch.id, message)
        if kind == "pin_added":
            item_message["pinned_to"] = [ch.id]
        return {
            "type": kind,
            "user": person.id,
            "channel_id": ch.id,
            "item": {
                "type": "message",
                "created": pinned_at,
                "created_by": pinned_by,
                "channel": ch.id,
                "message": item_message,
            },
            "item_user": message.user,
            "pin_count": len(ch.pins),
            "pinned_info": {"channel": ch.id, "pinned_by": pinned_by, "pinned_ts": pinned_at},
            "event_ts": self.ws.next_ts(),
        }

    def react(self, user: str, channel: str, ts: str, name: str = "pushpin") -> Delivery:
        """``user`` adds reaction ``name`` to message ``ts``; sends ``reaction_added``."""
        return self._reaction("reaction_added", user, channel, ts, name)

    def unreact(self, user: str, channel: str, ts: str, name: str = "pushpin") -> Delivery:
        """``user`` removes reaction ``name`` from message ``ts``; sends ``reaction_removed``."""
        return self._reaction("reaction_removed", user, channel, ts, name)

    def _reaction(self, kind: str, user: str, channel: str, ts: str, name: str) -> Delivery:
        return self.deliver(self.reaction_envelope(kind, user, channel, ts, name))

    def reaction_envelope(
        self, kind: str, user: str, channel: str, ts: str, name: str = "pushpin"
    ) -> dict[str, Any]:
        """Apply a ``reaction_added``/``reaction_removed`` in the workspace; returns the
        envelope Slack would deliver, unsent (for load generators that send many at once)."""
        person = self._user(user)
        ch = self._member_channel(person, channel)
        name = name.strip(":")
        try:
            if kind == "reaction_added":
                message = self.ws.add_reaction(ch.id, ts, name, person.id)
            else:
                message = self.ws.remove_reaction(ch.id, ts, name, person.id)
        except SlackError as err:
            raise EmulatorError(f"cannot change :{name}: on {ts}: {err.code}") from None
        event = {
            "type": kind,
            "user": person.id,
            "item": {"type": "message", "channel": ch.id, "ts": message.ts},
            "reaction": name,
            "item_user": message.user,
            "event_ts": self.ws.next_ts(),
        }
        return self.envelope(event)

    def join(self, user: str, channel: str, *, inviter: str | None = None) -> Delivery:
        """``user`` joins ``channel`` (private ones need an ``inviter``); sends
        ``member_joined_channel``."""
        person = self._user(user)
        ch = self._channel(channel)
        inviter_id = self._user(inviter).id if inviter else None
        if ch.is_archived:
            raise EmulatorError(f"#{ch.name} is archived")
        if ch.is_private and inviter_id is None:
            raise EmulatorError(f"#{ch.name} is private: someone in it must invite {person.name}")
        if inviter_id is not None and inviter_id not in ch.members:
            raise EmulatorError(f"the inviter is not a member of #{ch.name}")
        joined: list[MessageChange] = []
        with self.ws.recording_changes(joined):
            if not self.ws.join(ch.id, person.id, inviter=inviter_id):
                raise EmulatorError(f"{person.name} is already a member of #{ch.name}")
        delivery = self.event(self._joined_event(person.id, ch.id, inviter_id))
        # Slack also posts "<@U…> has joined the channel", a message event of its own.
        self._deliver_changes(joined)
        return delivery

    def open_home(self, user: str) -> Delivery:
        """``user`` opens the app's Home tab; sends ``app_home_opened``."""
        person = self._user(user)
        dm = self.ws.dm_channel(person.id)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": person.id,
            "channel": dm.id,
            "tab": "home",
            "event_ts": self.ws.next_ts(),
        }
        home = self.ws.home_view(person.id)
        if home is not None:
            event["view"] = json.loads(json.dumps(home.view))
        return self.event(event)

    # ------------------------------------------------------------------ interactivity

    def _view_record(self, user: User, view_id: str) -> ViewRecord:
        record = self.ws.view(view_id)
        if record is None or record.user != user.id:
            raise EmulatorError(f"{user.name} has no view {view_id!r}")
        return record

    def submit_view(
        self, user: str, view_id: str, values: dict[str, Any] | None = None
    ) -> DriverResponse:
        """``user`` fills in modal ``view_id`` (``values``: action_id → value) and submits it.

        Values are as a person chooses them: text for text inputs, the option ``value`` for
        selects/radios, a list of option values for checkboxes/multi-selects, a user id for
        ``users_select``, ``YYYY-MM-DD`` for date pickers. Untouched inputs keep their initial
        value. The app's answer (``response_action``) is applied to the modal stack.
        """
        person = self._user(user)
        record = self._view_record(person, view_id)
        if record.type != "modal" or record.closed:
            raise EmulatorError(f"view {view_id} is not an open modal")
        try:
            state = state_values(record.view.get("blocks") or [], dict(values or {}))
        except ValueError as err:
            raise EmulatorError(str(err)) from None
        view = json.loads(json.dumps(record.view))
        view["state"] = {"values": state}
        payload = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user_obj(person),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self.ws.issue_trigger(person.id),
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        self._submissions[view_id] = payload
        response = self._interactive(payload)
        if response.status == 200:
            self._apply_view_answer(record, response)
        return response

    def resubmit_view(self, view_id: str) -> DriverResponse:
        """Send a view's last submission again, unchanged: a double click on Submit, or Slack
        resending a submission whose acknowledgement it did not get."""
        if view_id not in self._submissions:
            raise EmulatorError(f"view {view_id} was never submitted")
        return self._interactive(self._submissions[view_id])

    def _apply_view_answer(self, record: ViewRecord, response: DriverResponse) -> None:
        try:
            answer = response.json() if response.body.strip() else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            answer = {}
        action = answer.get("response_action")
        with self.ws.lock:
            if action == "errors":
                record.errors = dict(answer.get("errors") or {})
                return
            if action == "clear":
                self.ws.close_view(record.id, clear=True)
                return
            if action in ("update", "push") and isinstance(answer.get("view"), dict):
                self._store_answer_view(record, answer["view"], push=action == "push")
                return
            self.ws.close_view(record.id)

    def _store_answer_view(self, record: ViewRecord, view: dict[str, Any], *, push: bool) -> None:
        problems = validate_view(view)
        if problems:
            raise EmulatorError(f"the app answered with an invalid view: {problems}")
        api = self.slack.api
        stack = self.ws.modal_stacks.setdefault(record.user, [])
        if push:
            new = api._store_view(
                json.loads(json.dumps(view)),
                user=record.user,
                root_view_id=stack[0] if stack else record.id,
                previous_view_id=record.id,
            )
            stack.append(new.id)
        else:
            api._store_view(
                json.loads(json.dumps(view)),
                user=record.user,
                view_id=record.id,
                root_view_id=record.view.get("root_view_id"),
                previous_view_id=record.view.get("previous_view_id"),
            )

    def close_view(self, user: str, view_id: str) -> DriverResponse | None:
        """``user`` closes modal ``view_id``; ``view_closed`` is sent if the view asked for it."""
        person = self._user(user)
        record = self._view_record(person, view_id)
        self.ws.close_view(record.id)
        if not record.view.get("notify_on_close"):
            return None
        payload = {
            "type": "view_closed",
            "team": self._team(),
            "user": self._user_obj(person),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "view": json.loads(json.dumps(record.view)),
            "is_cleared": False,
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return self._interactive(payload)

    def block_action(
        self,
        user: str,
        action_id: str,
        value: Any = None,
        *,
        channel: str | None = None,
        message_ts: str | None = None,
        view_id: str | None = None,
        block_id: str | None = None,
    ) -> DriverResponse:
        """``user`` clicks/selects element ``action_id`` in a message or a view.

        The element is looked up in the message (channel message or the user's ephemeral) or
        view to shape the action like Slack (button ``value``, ``selected_option`` ...). An
        unknown element is sent as a button, to allow tests of stale or forged actions.
        """
        person = self._user(user)
        blocks: list[dict[str, Any]] = []
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user_obj(person),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "trigger_id": self.ws.issue_trigger(person.id),
        }
        if view_id is not None:
            record = self._view_record(person, view_id)
            blocks = record.view.get("blocks") or []
            view = json.loads(json.dumps(record.view))
            payload["container"] = {"type": "view", "view_id": record.id}
            payload["view"] = view
        elif channel is not None and message_ts is not None:
            ch = self._channel(channel)
            message = ch.message(message_ts)
            ephemeral = self.ws.ephemeral(message_ts)
            is_ephemeral = message is None and ephemeral is not None
            container: dict[str, Any] = {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": ch.id,
                "is_ephemeral": is_ephemeral,
            }
            if message is not None:
                blocks = message.blocks
                payload["message"] = self._message_payload(ch, message)
                if message.is_reply:
                    container["thread_ts"] = message.thread_ts
            elif ephemeral is not None:
                if ephemeral.user != person.id:
                    raise EmulatorError(f"{person.name} cannot see ephemeral {message_ts}")
                blocks = ephemeral.blocks
            else:
                raise EmulatorError(f"no message {message_ts} in #{ch.name}")
            payload["container"] = container
            payload["channel"] = self._channel_obj(ch)
            payload["state"] = {"values": {}}
            payload["response_url"] = self.slack.issue_response_url(
                user=person.id,
                channel=ch.id,
                source="block_actions",
                message_ts=message_ts,
                is_ephemeral=is_ephemeral,
            )
        else:
            raise EmulatorError("block_action needs view_id, or channel and message_ts")
        found = find_element(blocks, action_id)
        if found is not None:
            block, element = found
            action = element_value(element, value) if value is not None else element_value(element)
            action_block_id = block.get("block_id")
        else:
            action = {"type": "button", "value": value}
            action_block_id = block_id
        action.update(
            {
                "action_id": action_id,
                "block_id": block_id or action_block_id or "",
                "action_ts": f"{time.time():.6f}",
            }
        )
        payload["actions"] = [action]
        if view_id is not None and "view" in payload and found is not None:
            # Slack reports the modal's current input state along with the action.
            try:
                state = state_values(blocks, {}, check_required=False)
            except ValueError:
                state = {}
            if block.get("type") == "input":
                state.setdefault(block["block_id"], {})[action_id] = {
                    k: v
                    for k, v in action.items()
                    if k not in ("action_id", "block_id", "action_ts")
                }
            payload["view"]["state"] = {"values": state}
        # Slack ignores the body of an action's ack; apps answer through response_url or the API.
        return self._interactive(payload)

    def message_shortcut(
        self, user: str, callback_id: str, channel: str, ts: str
    ) -> DriverResponse:
        """``user`` runs the message shortcut ``callback_id`` on message ``ts``."""
        person = self._user(user)
        ch = self._member_channel(person, channel)
        message = ch.message(ts)
        if message is None:
            raise EmulatorError(f"no message {ts} in #{ch.name}")
        payload = {
            "type": "message_action",
            "token": VERIFICATION_TOKEN,
            "action_ts": f"{time.time():.6f}",
            "team": self._team(),
            "user": {"id": person.id, "name": person.name, "team_id": TEAM_ID},
            "channel": self._channel_obj(ch),
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": self.ws.issue_trigger(person.id),
            "response_url": self.slack.issue_response_url(
                user=person.id, channel=ch.id, source="message_action", thread_ts=message.thread_ts
            ),
            "message_ts": message.ts,
            "message": self._message_payload(ch, message),
        }
        return self._interactive(payload)

    def shortcut(self, user: str, callback_id: str) -> DriverResponse:
        """``user`` runs the global shortcut ``callback_id`` (from the lightning menu)."""
        person = self._user(user)
        payload = {
            "type": "shortcut",
            "token": VERIFICATION_TOKEN,
            "action_ts": f"{time.time():.6f}",
            "team": self._team(),
            "user": {"id": person.id, "username": person.name, "team_id": TEAM_ID},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": self.ws.issue_trigger(person.id),
        }
        return self._interactive(payload)


def _rich_text(text: str) -> list[dict[str, Any]]:
    """The blocks Slack's composer gives a plain message."""
    return [
        {
            "type": "rich_text",
            "block_id": secrets.token_urlsafe(4)[:5],
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
            ],
        }
    ]


def _uuid() -> str:
    raw = secrets.token_hex(16)
    return f"{raw[:8]}-{raw[8:12]}-4{raw[13:16]}-a{raw[17:20]}-{raw[20:]}"
