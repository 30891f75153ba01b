"""Socket Mode: Slack delivering events, slash commands and interactivity over a WebSocket.

An app in Socket Mode has no public URL. It calls ``apps.connections.open`` with its app-level
token (``xapp-...``), gets a one-time ``wss://`` URL and keeps a WebSocket open; Slack sends each
delivery down that socket and the app acknowledges it on the same socket. Here the URL is
``ws://<LocalSlack host:port>/link/?ticket=...&app_id=...`` and the WebSocket is served by the same
``ThreadingHTTPServer`` as the Web API: the request handler thread of a ``GET /link/`` with
``Upgrade: websocket`` takes the socket over after the RFC 6455 handshake (stdlib only).

What Slack sends and expects, and so does this server:

- on connect: ``{"type": "hello", "num_connections": n, "connection_info": {"app_id": ...},
  "debug_info": {...}}``;
- each delivery: ``{"envelope_id": uuid, "type": "events_api" | "slash_commands" |
  "interactive", "payload": <what HTTP mode would POST, as JSON>, "accepts_response_payload":
  bool, "retry_attempt": n, "retry_reason": "..."}``;
- the app's ack: ``{"envelope_id": ..., "payload": {...optional response body...}}``;
- ``{"type": "disconnect", "reason": "refresh_requested" | "warning" | "link_disabled", ...}``
  asks the app to open a new connection (``SocketModeHub.request_reconnect``);
- ping frames are answered with pongs; the server pings its clients every ``ping_interval``.

Frames from the app must be masked (RFC 6455 5.1); fragmented messages and control frames between
fragments are accepted; frames to the app are never masked nor fragmented. Protocol errors close
the connection with the RFC's status codes (1002, 1003, 1007, 1009).

Everything is recorded in the workspace call log (``kind="socket_mode"``: ``socket_mode.connect``,
``socket_mode.envelope``, ``socket_mode.ack``, ``socket_mode.message``,
``socket_mode.disconnect``) and in ``SocketModeHub.deliveries`` / ``SocketModeHub.acks``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import parse_qs

from .driver import EmulatorError
from .workspace import APP_ID, Call, Workspace

if TYPE_CHECKING:
    from .server import _Handler

__all__ = [
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONTINUATION",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "SocketConnection",
    "SocketDelivery",
    "SocketModeHub",
    "WebSocketProtocolError",
    "accept_key",
    "encode_frame",
    "read_frame",
]

EnvelopeType = Literal["events_api", "slash_commands", "interactive"]

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
_CONTROL = frozenset({OP_CLOSE, OP_PING, OP_PONG})
#: Largest message accepted from an app (acks carry at most a modal or a message).
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
_DEBUG_HOST = "applink-local"
#: Interactive payload types whose ack body Slack uses (modal answers, select options).
_RESPONSE_PAYLOAD_INTERACTIONS = frozenset({"view_submission", "block_suggestion"})


class WebSocketProtocolError(Exception):
    """The peer broke RFC 6455; ``code`` is the close status to answer with."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


# ---------------------------------------------------------------------- RFC 6455 framing


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key``."""
    digest = hashlib.sha1((key.strip() + _GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def _mask(data: bytes, key: bytes) -> bytes:
    if not data:
        return data
    size = len(data)
    stream = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(size, "big")


def encode_frame(
    opcode: int, payload: bytes = b"", *, fin: bool = True, mask: bytes | None = None
) -> bytes:
    """One frame; servers send unmasked frames, clients pass a 4-byte ``mask``."""
    head = bytes([(0x80 if fin else 0) | opcode])
    size = len(payload)
    mask_bit = 0x80 if mask is not None else 0
    if size <= 125:
        head += bytes([mask_bit | size])
    elif size <= 0xFFFF:
        head += bytes([mask_bit | 126]) + struct.pack("!H", size)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", size)
    if mask is None:
        return head + payload
    if len(mask) != 4:
        raise ValueError("a frame mask is 4 bytes")
    return head + mask + _mask(payload, mask)


class ByteStream(Protocol):
    """What frames are read from: a socket's file (``makefile("rb")``, a request's ``rfile``)."""

    def read(self, size: int, /) -> bytes: ...


def _read_exactly(stream: ByteStream, size: int) -> bytes:
    data = stream.read(size) if size else b""
    if len(data) != size:
        raise EOFError("connection closed mid-frame" if data else "connection closed")
    return data


def read_frame(stream: ByteStream, *, require_mask: bool = True) -> tuple[bool, int, bytes]:
    """Read one frame: ``(fin, opcode, unmasked payload)``. ``EOFError`` when the peer is gone."""
    first, second = _read_exactly(stream, 2)
    fin, opcode = bool(first & 0x80), first & 0x0F
    if first & 0x70:
        raise WebSocketProtocolError(1002, "reserved bits set without a negotiated extension")
    masked, size = bool(second & 0x80), second & 0x7F
    if size == 126:
        (size,) = struct.unpack("!H", _read_exactly(stream, 2))
    elif size == 127:
        (size,) = struct.unpack("!Q", _read_exactly(stream, 8))
    if opcode in _CONTROL and (size > 125 or not fin):
        raise WebSocketProtocolError(1002, "control frames are short and never fragmented")
    if opcode not in _CONTROL and opcode not in (OP_CONTINUATION, OP_TEXT, OP_BINARY):
        raise WebSocketProtocolError(1002, f"reserved opcode {opcode:#x}")
    if require_mask and not masked:
        raise WebSocketProtocolError(1002, "client frames must be masked")
    if size > MAX_MESSAGE_BYTES:
        raise WebSocketProtocolError(1009, "message too big")
    key = _read_exactly(stream, 4) if masked else b""
    payload = _read_exactly(stream, size)
    return fin, opcode, _mask(payload, key) if masked else payload


# ---------------------------------------------------------------------- records


@dataclass
class SocketDelivery:
    """One envelope sent to the app over Socket Mode, and the app's ack once it came."""

    envelope: dict[str, Any]
    connection_id: str
    sent_at: float
    ack: dict[str, Any] | None = None
    ack_elapsed: float | None = None
    failure: str | None = None
    _done: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)

    @property
    def envelope_id(self) -> str:
        return str(self.envelope["envelope_id"])

    @property
    def type(self) -> str:
        return str(self.envelope["type"])

    @property
    def payload(self) -> dict[str, Any]:
        """What was delivered (the same object HTTP mode would have POSTed)."""
        payload: dict[str, Any] = self.envelope["payload"]
        return payload

    @property
    def acked(self) -> bool:
        return self.ack is not None

    @property
    def response_payload(self) -> Any:
        """The ack's ``payload`` (the response body), or None."""
        return self.ack.get("payload") if self.ack is not None else None


class SocketConnection:
    """One app WebSocket; runs its read loop on the HTTP handler thread that accepted it."""

    def __init__(
        self,
        hub: SocketModeHub,
        connection_id: str,
        sock: socket.socket,
        rfile: ByteStream,
        *,
        ticket: str,
        connected_at: float,
    ) -> None:
        self.hub = hub
        self.id = connection_id
        self.ticket = ticket
        self.connected_at = connected_at
        self.closed_at: float | None = None
        self.close_code: int | None = None
        self.close_reason: str = ""
        self.closed_by: str | None = None  # "app", "server" or None while open
        self.hello: dict[str, Any] | None = None
        self.pings_received = 0
        self.pongs_received = 0
        self.pings_sent = 0
        self.messages_received = 0
        self._sock = sock
        self._rfile = rfile
        self._send_lock = threading.Lock()
        self._close_sent = False
        self._closed = threading.Event()

    def __repr__(self) -> str:
        state = "open" if self.is_open else f"closed {self.close_code} by {self.closed_by}"
        return f"<SocketConnection {self.id} {state}>"

    @property
    def is_open(self) -> bool:
        return not self._closed.is_set() and not self._close_sent

    def wait_closed(self, timeout: float) -> bool:
        return self._closed.wait(timeout)

    # ------------------------------------------------------------------ sending

    def _write(self, data: bytes) -> None:
        with self._send_lock:
            if self._close_sent:
                raise ConnectionError(f"connection {self.id} is closing")
            self._sock.sendall(data)

    def send_json(self, message: dict[str, Any]) -> None:
        """Send one text frame holding ``message`` as JSON."""
        self._write(encode_frame(OP_TEXT, json.dumps(message).encode("utf-8")))

    def send_text(self, text: str) -> None:
        self._write(encode_frame(OP_TEXT, text.encode("utf-8")))

    def ping(self, payload: bytes = b"") -> None:
        self._write(encode_frame(OP_PING, payload))
        self.pings_sent += 1

    def _send_close(self, code: int, reason: str = "") -> None:
        with self._send_lock:
            if self._close_sent:
                return
            self._close_sent = True
            body = struct.pack("!H", code) + reason.encode("utf-8")[:123]
            with contextlib.suppress(OSError):
                self._sock.sendall(encode_frame(OP_CLOSE, body))

    def close(self, code: int = 1000, reason: str = "", *, wait: float = 1.0) -> None:
        """Close from the server side: close frame, then drop the socket if the app does not
        answer within ``wait`` seconds (slack_sdk's client just closes its end)."""
        if self._closed.is_set():
            return
        if self.closed_by is None:
            self.closed_by = "server"
            self.close_code, self.close_reason = code, reason
        self._send_close(code, reason)
        if not self._closed.wait(wait):
            self._drop()

    def _drop(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    # ------------------------------------------------------------------ receiving

    def run(self) -> None:
        """The read loop: until a close frame, EOF or a protocol error."""
        pieces: list[bytes] | None = None
        kind = OP_TEXT
        size = 0
        try:
            while True:
                fin, opcode, payload = read_frame(self._rfile)
                if opcode in _CONTROL:
                    if self._control(opcode, payload):
                        return
                    continue
                if opcode == OP_CONTINUATION:
                    if pieces is None:
                        raise WebSocketProtocolError(1002, "continuation without a message")
                    pieces.append(payload)
                else:
                    if pieces is not None:
                        raise WebSocketProtocolError(1002, "new message inside a fragmented one")
                    pieces, kind, size = [payload], opcode, 0
                size += len(payload)
                if size > MAX_MESSAGE_BYTES:
                    raise WebSocketProtocolError(1009, "message too big")
                if fin:
                    message, pieces = b"".join(pieces), None
                    self._message(kind, message)
        except WebSocketProtocolError as err:
            self._mark("server", err.code, err.reason)
            self._send_close(err.code, err.reason)
        except (EOFError, OSError, ValueError):
            # The app dropped the TCP connection without a close frame (slack_sdk's builtin
            # client does this on close()/disconnect()), or we dropped it after our close frame.
            self._mark("app", 1006, "")
        finally:
            # Closed first, then recorded, then unregistered: whoever sees the connection leave
            # ``hub.connections`` also sees it closed and logged.
            self.closed_at = self.hub.ws.now()
            self._closed.set()
            self.hub._closed(self)

    def _mark(self, by: str, code: int, reason: str) -> None:
        if self.closed_by is None:
            self.closed_by, self.close_code, self.close_reason = by, code, reason

    def _control(self, opcode: int, payload: bytes) -> bool:
        """Handle a control frame; True when the connection is over."""
        if opcode == OP_PING:
            self.pings_received += 1
            with contextlib.suppress(ConnectionError, OSError):
                self._write(encode_frame(OP_PONG, payload))
            return False
        if opcode == OP_PONG:
            self.pongs_received += 1
            return False
        code, reason = 1005, ""
        if len(payload) >= 2:
            (code,) = struct.unpack("!H", payload[:2])
            reason = payload[2:].decode("utf-8", "replace")
        elif payload:
            raise WebSocketProtocolError(1002, "malformed close frame")
        self._mark("app", code, reason)
        self._send_close(code if code not in (1005, 1006) else 1000)
        return True

    def _message(self, opcode: int, data: bytes) -> None:
        self.messages_received += 1
        if opcode == OP_BINARY:
            raise WebSocketProtocolError(1003, "Socket Mode messages are JSON text")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise WebSocketProtocolError(1007, "text message is not UTF-8") from None
        self.hub._received(self, text)


# ---------------------------------------------------------------------- the hub


class SocketModeHub:
    """The Socket Mode side of ``LocalSlack``: connected app sockets, deliveries and acks.

    ``ping_interval`` (seconds, None for never) is how often the server pings each connection,
    as Slack does; it also keeps slack_sdk's client responsive (its reader holds a lock in a
    3-second ``recv`` that ``close()`` must wait for).
    """

    def __init__(self, workspace: Workspace, *, ping_interval: float | None = 0.25) -> None:
        self.ws = workspace
        self.ping_interval = ping_interval
        self.deliveries: list[SocketDelivery] = []
        self.acks: list[dict[str, Any]] = []
        self.all_connections: list[SocketConnection] = []
        self._open: list[SocketConnection] = []
        self._pending: dict[str, SocketDelivery] = {}
        self._cond = threading.Condition()
        self._counter = 0
        self._pinger: threading.Thread | None = None
        self._stopping = threading.Event()

    # ------------------------------------------------------------------ state

    @property
    def connections(self) -> list[SocketConnection]:
        """Open connections, oldest first."""
        with self._cond:
            return list(self._open)

    def wait_for_connection(self, timeout: float = 5.0, *, count: int = 1) -> SocketConnection:
        """Block until ``count`` app sockets are open; the newest one. ``EmulatorError`` after
        ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._open) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise EmulatorError(
                        f"no Socket Mode app connected within {timeout:g}s "
                        f"({len(self._open)} open of {count} wanted)"
                    )
                self._cond.wait(left)
            return self._open[-1]

    def wait_for_disconnection(self, timeout: float = 5.0) -> None:
        """Block until no app socket is open (``EmulatorError`` after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._open:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise EmulatorError(f"{len(self._open)} app socket(s) still open")
                self._cond.wait(left)

    def _record(self, method: str, params: dict[str, Any], status: int, response: Any) -> None:
        self.ws.record_call(
            Call(method, params, None, status, response, self.ws.now(), "socket_mode")
        )

    # ------------------------------------------------------------------ delivering

    def send(
        self,
        envelope_type: EnvelopeType,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 10.0,
    ) -> SocketDelivery:
        """Send one envelope to the newest open connection and wait for its ack.

        ``accepts_response_payload`` defaults to what Slack sets: true for slash commands, view
        submissions and block suggestions. Raises ``EmulatorError`` when no app is connected, the
        connection closes first, or no ack comes within ``timeout`` seconds (the delivery, with
        ``failure`` set, stays in ``deliveries``).
        """
        if accepts_response_payload is None:
            accepts_response_payload = envelope_type == "slash_commands" or (
                envelope_type == "interactive"
                and payload.get("type") in _RESPONSE_PAYLOAD_INTERACTIONS
            )
        envelope = {
            "envelope_id": str(uuid.uuid4()),
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": retry_attempt,
            "retry_reason": retry_reason,
        }
        with self._cond:
            usable = [c for c in self._open if c.is_open]
            if not usable:
                raise EmulatorError(
                    "no Socket Mode app is connected: start the app's SocketModeHandler "
                    "(connect()) and call LocalSlack.wait_for_socket_connection() first"
                )
            connection = usable[-1]
            delivery = SocketDelivery(envelope, connection.id, self.ws.now())
            self.deliveries.append(delivery)
            self._pending[delivery.envelope_id] = delivery
        self._record("socket_mode.envelope", {"connection_id": connection.id, **envelope}, 0, None)
        started = time.monotonic()
        try:
            connection.send_json(envelope)
        except (ConnectionError, OSError) as err:
            self._fail(delivery, f"could not send on {connection.id}: {err}")
        if not delivery._done.wait(timeout):
            self._fail(delivery, f"no ack within {timeout:g}s")
        if delivery.failure is not None:
            raise EmulatorError(
                f"{envelope_type} envelope {delivery.envelope_id} not acknowledged: "
                f"{delivery.failure}"
            )
        delivery.ack_elapsed = time.monotonic() - started
        return delivery

    def _fail(self, delivery: SocketDelivery, reason: str) -> None:
        with self._cond:
            self._pending.pop(delivery.envelope_id, None)
            if delivery.ack is None and delivery.failure is None:
                delivery.failure = reason
        delivery._done.set()

    def _received(self, connection: SocketConnection, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        if not isinstance(message, dict) or "envelope_id" not in message:
            self._record(
                "socket_mode.message", {"connection_id": connection.id, "text": text}, 0, None
            )
            return
        envelope_id = str(message["envelope_id"])
        with self._cond:
            self.acks.append(message)
            delivery = self._pending.pop(envelope_id, None)
            known = delivery is not None or any(
                d.envelope_id == envelope_id for d in self.deliveries
            )
            if delivery is not None:
                delivery.ack = message
        status = 200 if known else 404
        response = {"ok": known} if known else {"ok": False, "error": "unknown_envelope_id"}
        params = {"connection_id": connection.id, **message}
        self._record("socket_mode.ack", params, status, response)
        if delivery is not None:
            delivery._done.set()

    # ------------------------------------------------------------------ connection control

    def request_reconnect(self, reason: str = "refresh_requested") -> int:
        """Send ``{"type": "disconnect"}`` to every open connection, as Slack does before it
        rotates them; slack_sdk then opens a new connection. The number of sockets told."""
        message = {
            "type": "disconnect",
            "reason": reason,
            "debug_info": {"host": _DEBUG_HOST},
        }
        told = 0
        for connection in self.connections:
            try:
                connection.send_json(message)
                told += 1
            except (ConnectionError, OSError):
                continue
            self._record(
                "socket_mode.disconnect_request",
                {"connection_id": connection.id, **message},
                0,
                None,
            )
        return told

    def close_all(self, code: int = 1001, reason: str = "going away", *, wait: float = 0.5) -> None:
        """Close every open connection from the server side."""
        for connection in self.connections:
            connection.close(code, reason, wait=wait)

    def start(self) -> None:
        self._stopping.clear()

    def stop(self) -> None:
        """Close every app socket and stop pinging (``LocalSlack.stop()`` calls this)."""
        self._stopping.set()
        self.close_all(wait=0.2)
        pinger, self._pinger = self._pinger, None
        if pinger is not None:
            pinger.join(timeout=2)

    def _ping_loop(self) -> None:
        interval = self.ping_interval or 1.0
        while not self._stopping.wait(interval):
            for connection in self.connections:
                try:
                    connection.ping(f"{connection.id}:{time.time():.3f}".encode())
                except (ConnectionError, OSError):
                    continue

    def _closed(self, connection: SocketConnection) -> None:
        params = {
            "connection_id": connection.id,
            "code": connection.close_code,
            "reason": connection.close_reason,
            "closed_by": connection.closed_by,
        }
        self._record("socket_mode.disconnect", params, connection.close_code or 0, None)
        with self._cond:
            if connection in self._open:
                self._open.remove(connection)
            orphans = [d for d in self._pending.values() if d.connection_id == connection.id]
            self._cond.notify_all()
        for delivery in orphans:
            self._fail(delivery, f"connection {connection.id} closed before the ack")

    # ------------------------------------------------------------------ the handshake

    def serve(self, handler: _Handler, query: str) -> None:
        """Take over ``handler``'s socket: handshake, hello, then the read loop until closed."""
        handler.close_connection = True
        headers = handler.headers
        ticket = (parse_qs(query).get("ticket") or [""])[0]
        key = headers.get("Sec-WebSocket-Key", "").strip()
        connection_tokens = {t.strip().lower() for t in headers.get("Connection", "").split(",")}
        params: dict[str, Any] = {"ticket": ticket}
        if handler.command != "GET" or "upgrade" not in connection_tokens or not key:
            self._record("socket_mode.connect", params, 400, "bad WebSocket handshake")
            handler._send_text(400, "bad WebSocket handshake\n")
            return
        if headers.get("Sec-WebSocket-Version", "").strip() != "13":
            self._record("socket_mode.connect", params, 426, "unsupported WebSocket version")
            handler._send(
                426,
                b"unsupported WebSocket version\n",
                "text/plain",
                {"Sec-WebSocket-Version": "13"},
            )
            return
        if not self.ws.take_socket_ticket(ticket):
            self._record("socket_mode.connect", params, 401, "invalid_ticket")
            handler._send_text(401, "invalid_ticket\n")
            return
        with self._cond:
            self._counter += 1
            connection_id = f"SM{self._counter:04d}"
        connection = SocketConnection(
            self,
            connection_id,
            handler.connection,
            handler.rfile,
            ticket=ticket,
            connected_at=self.ws.now(),
        )
        response = (
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept_key(key)}\r\n"
            "\r\n"
        ).encode("ascii")
        # The handshake and hello go out under the send lock: nothing can be sent to the
        # connection before them, although it is registered (and visible) already.
        with connection._send_lock:
            with self._cond:
                self._open.append(connection)
                self.all_connections.append(connection)
                count = len(self._open)
                self._cond.notify_all()
            hello = {
                "type": "hello",
                "num_connections": count,
                "debug_info": {
                    "host": _DEBUG_HOST,
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": APP_ID},
            }
            connection.hello = hello
            with contextlib.suppress(OSError):
                handler.connection.sendall(
                    response + encode_frame(OP_TEXT, json.dumps(hello).encode("utf-8"))
                )
        handler.log_request(101)
        self._record("socket_mode.connect", {**params, "connection_id": connection_id}, 101, hello)
        self._start_pinger()
        connection.run()

    def _start_pinger(self) -> None:
        if not self.ping_interval or self._stopping.is_set():
            return
        with self._cond:
            if self._pinger is not None:
                return
            self._pinger = threading.Thread(
                target=self._ping_loop, name="LocalSlack:socket-ping", daemon=True
            )
            self._pinger.start()
