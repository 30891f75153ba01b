"""The local Slack Web API on a real HTTP port.

The bot talks to it exactly as to Slack: point ``slack_sdk.WebClient(base_url=...)`` (or
``SLACK_API_URL``) at ``LocalSlack.api_url``. Endpoints:

- ``POST /api/<method>``: Web API methods (form, JSON or multipart bodies, query parameters;
  token in ``Authorization: Bearer`` or a ``token`` parameter). Unknown methods get HTTP 404
  ``unknown_method`` like Slack.
- ``POST /upload/v1/<key>``: the ``upload_url`` from ``files.getUploadURLExternal``. slack_sdk's
  ``files_upload_v2`` posts the raw bytes here (urllib labels them form-encoded, so the body is
  never parsed as a form); a multipart body with a file part is accepted too.
- ``POST /response/<id>``: ``response_url`` endpoints handed out in driver payloads.
- ``GET /files-pri/...``: ``url_private``/``url_private_download`` of uploaded files (bearer auth).
- ``GET /archives/<channel>/p<ts>``: where permalinks point; a plain-text view of the message.
- ``GET /link/?ticket=...`` with ``Upgrade: websocket``: the Socket Mode WebSocket that
  ``apps.connections.open`` hands out (see ``socket_mode.py``); the handler thread keeps the
  socket for as long as the app stays connected.

Every request is recorded in the workspace call log; injected faults apply to API methods, to
``"upload"`` and to ``"response_url"``.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .api import ApiRequest, WebAPI
from .socket_mode import SocketConnection, SocketModeHub
from .workspace import TEAM_ID, Call, Fault, SlackError, Workspace

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from .driver import SlackDriver

__all__ = ["LocalSlack"]

_DEFAULT_ERRORS = {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}


def _parse_multipart(body: bytes, content_type: str) -> dict[str, Any]:
    """Form fields of a multipart body; file parts come back as bytes."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.message_from_bytes(head + body, policy=email.policy.HTTP)
    fields: dict[str, Any] = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True)  # bytes, or None for a multipart part
        if not isinstance(payload, bytes):
            payload = b""
        if part.get_filename() is not None:
            fields[str(name)] = payload
        else:
            fields[str(name)] = payload.decode(part.get_content_charset() or "utf-8", "replace")
    return fields


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], slack: LocalSlack) -> None:
        super().__init__(address, _Handler)
        self.slack = slack


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "LocalSlack/1.0"

    # ------------------------------------------------------------------ plumbing

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if self.server.slack.verbose:
            super().log_message(format, *args)

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch()

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch()

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(
        self,
        status: int,
        data: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. its timeout fired during an injected delay)

    def _send_json(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        self._send(status, json.dumps(body).encode(), "application/json; charset=utf-8", headers)

    def _send_text(self, status: int, text: str) -> None:
        self._send(status, text.encode(), "text/plain; charset=utf-8")

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        token: str | None,
        status: int,
        response: Any,
        kind: str,
    ) -> None:
        slack = self.server.slack
        call = Call(method, params, token, status, response, slack.workspace.now(), kind)
        slack.workspace.record_call(call)

    def _reset_connection(self) -> None:
        """Drop the connection without answering (RST), as a crashed proxy would."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _apply_fault(
        self, fault: Fault, *, method: str, params: dict[str, Any], token: str | None, kind: str
    ) -> bool:
        """Misbehave as planned; True when the fault answered (or dropped) the request."""
        if fault.delay:
            time.sleep(fault.delay)
        if fault.reset:
            self._record(method, params, token, 0, None, kind)
            self._reset_connection()
            return True
        if fault.status:
            body = {"ok": False, "error": fault.error or _DEFAULT_ERRORS.get(fault.status, "")}
            if not body["error"]:
                body["error"] = "fatal_error"
            headers: dict[str, str] = {}
            if fault.status == 429 or fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after if fault.retry_after else 1)
            self._record(method, params, token, fault.status, body, kind)
            self._send_json(fault.status, body, headers)
            return True
        if fault.error:
            body = {"ok": False, "error": fault.error}
            self._record(method, params, token, 200, body, kind)
            self._send_json(200, body)
            return True
        return False

    # ------------------------------------------------------------------ routing

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        if path.rstrip("/") == "/link" and "websocket" in self.headers.get("Upgrade", "").lower():
            self.server.slack.socket_mode.serve(self, parts.query)
            return
        body = self._read_body()
        try:
            if path.startswith("/api/"):
                self._api(path[len("/api/") :], parts.query, body)
            elif path.startswith("/upload/v1/"):
                self._upload(path[len("/upload/v1/") :], body)
            elif path.startswith("/response/"):
                self._response_url(path[len("/response/") :], body)
            elif path.startswith("/files-pri/"):
                self._download(path[len("/files-pri/") :])
            elif path.startswith("/archives/"):
                self._archive(path[len("/archives/") :])
            elif path.rstrip("/") == "/link":
                self._send_text(426, "Socket Mode: connect with a WebSocket (Upgrade: websocket)\n")
            elif path in ("", "/"):
                slack = self.server.slack
                self._send_text(200, f"Local Slack workspace. Web API at {slack.api_url}\n")
            else:
                self._send_text(404, "not found\n")
        except Exception as exc:  # keep serving; show the bug in the call log and response
            self._record(path, {}, None, 500, {"ok": False, "error": repr(exc)}, "crash")
            self._send_json(500, {"ok": False, "error": "fatal_error", "detail": repr(exc)})
            raise

    # ------------------------------------------------------------------ /api/<method>

    def _params(self, query: str, body: bytes) -> tuple[dict[str, Any], str | None]:
        params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        if not body:
            return params, None
        ctype = self.headers.get_content_type()
        charset = self.headers.get_content_charset() or "utf-8"
        if ctype == "application/json":
            try:
                data = json.loads(body.decode(charset))
            except (ValueError, UnicodeDecodeError):
                return params, "invalid_json"
            if not isinstance(data, dict):
                return params, "invalid_json"
            params.update(data)
        elif ctype == "multipart/form-data":
            params.update(_parse_multipart(body, self.headers.get("Content-Type", "")))
        else:
            try:
                params.update(parse_qsl(body.decode(charset), keep_blank_values=True))
            except UnicodeDecodeError:
                return params, "invalid_form_data"
        return params, None

    def _token(self, params: dict[str, Any]) -> str | None:
        token = params.pop("token", None)
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("bearer "):
            return auth[len("bearer ") :].strip() or None
        return str(token) if token else None

    def _api(self, method: str, query: str, body: bytes) -> None:
        slack = self.server.slack
        if latency := slack.workspace.latency:
            time.sleep(latency)  # outside the workspace's lock: calls wait side by side
        params, problem = self._params(query, body)
        token = self._token(params)
        if not slack.api.knows(method):
            response = {"ok": False, "error": "unknown_method", "req_method": method}
            self._record(method, params, token, 404, response, "api")
            self._send_json(404, response)
            return
        if problem is not None:
            response = {"ok": False, "error": problem}
            self._record(method, params, token, 200, response, "api")
            self._send_json(200, response)
            return
        try:
            actor = slack.api.authenticate(token, method)
        except SlackError as err:
            self._record(method, params, token, err.status, err.body(), "api")
            self._send_json(err.status, err.body())
            return
        fault = slack.workspace.take_fault(method)
        if fault is not None and self._apply_fault(
            fault, method=method, params=params, token=token, kind="api"
        ):
            return
        request = ApiRequest(method, params, actor, token or "", slack.base_url)
        headers: dict[str, str] = {}
        status, response = slack.api.call(request, headers)
        self._record(method, params, token, status, response, "api")
        self._send_json(status, response, headers)

    # ------------------------------------------------------------------ uploads and downloads

    def _upload(self, key: str, body: bytes) -> None:
        slack = self.server.slack
        file = slack.workspace.file_by_upload_key(unquote(key))
        params: dict[str, Any] = {"file_id": file.id if file else None, "length": len(body)}
        fault = slack.workspace.take_fault("upload")
        if fault is not None and self._apply_fault(
            fault, method="upload", params=params, token=None, kind="upload"
        ):
            return
        if file is None:
            self._record("upload", params, None, 404, "unknown upload URL", "upload")
            self._send_text(404, "unknown upload URL\n")
            return
        data = body
        if self.headers.get_content_type() == "multipart/form-data":
            fields = _parse_multipart(body, self.headers.get("Content-Type", ""))
            parts = [v for v in fields.values() if isinstance(v, bytes)]
            data = parts[0] if parts else b""
        with slack.workspace.lock:
            file.content = data
        text = f"OK - {len(data)}"
        self._record("upload", params, None, 200, text, "upload")
        self._send_text(200, text)

    def _download(self, rest: str) -> None:
        slack = self.server.slack
        auth = self.headers.get("Authorization") or ""
        token = auth[len("Bearer ") :].strip() if auth.lower().startswith("bearer ") else None
        first = rest.split("/", 1)[0]
        file_id = first[len(TEAM_ID) + 1 :] if first.startswith(f"{TEAM_ID}-") else ""
        params = {"file": file_id}
        file = slack.workspace.file(file_id)
        if token is None or slack.workspace.token_user(token) is None:
            self._record("files.download", params, token, 403, "forbidden", "download")
            self._send_text(403, "authentication required\n")
            return
        if file is None or file.content is None:
            self._record("files.download", params, token, 404, "not found", "download")
            self._send_text(404, "file not found\n")
            return
        self._record("files.download", params, token, 200, f"{len(file.content)} bytes", "download")
        self._send(200, file.content, file.mimetype)

    # ------------------------------------------------------------------ response_url

    def _response_url(self, target_id: str, body: bytes) -> None:
        slack = self.server.slack
        try:
            payload: Any = json.loads(body.decode("utf-8")) if body else None
        except (ValueError, UnicodeDecodeError):
            payload = None
        params = payload if isinstance(payload, dict) else {"raw": body.decode("utf-8", "replace")}
        params = {"response_url_id": target_id, **params}
        fault = slack.workspace.take_fault("response_url")
        if fault is not None and self._apply_fault(
            fault, method="response_url", params=params, token=None, kind="response_url"
        ):
            return
        status, response = slack.api.respond(target_id, payload)
        self._record("response_url", params, None, status, response, "response_url")
        self._send_json(status, response)

    # ------------------------------------------------------------------ permalinks

    def _archive(self, rest: str) -> None:
        ws = self.server.slack.workspace
        channel_id, _, stamp = rest.partition("/")
        channel = ws.channel(channel_id)
        if channel is None:
            self._send_text(404, "channel not found\n")
            return
        lines = [f"#{channel.name} ({channel.id})"]
        if stamp.startswith("p") and len(stamp) > 7:
            ts = f"{stamp[1:-6]}.{stamp[-6:]}"
            message = channel.message(ts)
            if message is None:
                self._send_text(404, "message not found\n")
                return
            lines.append(f"{message.ts} <{message.user}> {message.text}")
        else:
            lines += [f"{m.ts} <{m.user}> {m.text}" for m in ws.messages(channel.id)]
        self._send_text(200, "\n".join(lines) + "\n")


class LocalSlack:
    """A local Slack workspace served over HTTP (``http.server`` in a daemon thread).

    ``port=0`` picks a free port; read ``api_url`` after ``start()``. Use as a context manager to
    stop it reliably::

        with LocalSlack() as slack:
            client = WebClient(token=slack.bot_token, base_url=slack.api_url)

    Socket Mode apps connect with ``slack.app_token`` through ``apps.connections.open`` on the
    same port; ``socket_mode`` is their side of the server and ``socket_driver()`` delivers to
    them. ``socket_ping_interval`` is how often the server pings app sockets (None: never).
    """

    def __init__(
        self,
        workspace: Workspace | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        verbose: bool = False,
        socket_ping_interval: float | None = 0.25,
    ) -> None:
        self.workspace = workspace if workspace is not None else Workspace()
        self.api = WebAPI(self.workspace)
        self.socket_mode = SocketModeHub(self.workspace, ping_interval=socket_ping_interval)
        self.host = host
        self.requested_port = port
        self.verbose = verbose
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> LocalSlack:
        if self._server is not None:
            return self
        self.socket_mode.start()
        self._server = _Server((self.host, self.requested_port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"LocalSlack:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        self.socket_mode.stop()  # app sockets hold handler threads until closed
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> LocalSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("LocalSlack is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://host:port`` (no trailing slash): permalinks, uploads and response URLs."""
        host = self.host if self.host not in ("0.0.0.0", "") else "127.0.0.1"
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        """What the bot gets as ``SLACK_API_URL`` / ``WebClient(base_url=...)``."""
        return f"{self.base_url}/api/"

    @property
    def bot_token(self) -> str:
        return self.workspace.bot_token

    @property
    def app_token(self) -> str:
        """The app-level token (``xapp-...``) a Socket Mode app connects with."""
        return self.workspace.app_token

    # ------------------------------------------------------------------ helpers

    def issue_response_url(
        self,
        *,
        user: str,
        channel: str,
        source: str,
        message_ts: str | None = None,
        is_ephemeral: bool = False,
        thread_ts: str | None = None,
    ) -> str:
        """A fresh ``response_url`` that posts into ``channel`` for ``user``."""
        target = self.workspace.add_response_target(
            user=user,
            channel=channel,
            source=source,
            message_ts=message_ts,
            is_ephemeral=is_ephemeral,
            thread_ts=thread_ts,
        )
        return f"{self.base_url}/response/{target.id}"

    def client(self, **kwargs: Any) -> WebClient:
        """A ``slack_sdk.WebClient`` with the bot token, pointed at this server."""
        from slack_sdk import WebClient

        kwargs.setdefault("token", self.bot_token)
        return WebClient(base_url=self.api_url, **kwargs)

    def driver(self, app_url: str, signing_secret: str, **kwargs: Any) -> SlackDriver:
        """A ``SlackDriver`` that sends this workspace's users' actions to the app."""
        from .driver import SlackDriver

        return SlackDriver(self, app_url, signing_secret, **kwargs)

    def socket_driver(self, **kwargs: Any) -> SlackDriver:
        """A ``SlackDriver`` that delivers over Socket Mode to the connected app (the same
        methods as ``driver()``; each waits for the app's ack, ``timeout`` 10 s by default)."""
        from .driver import SlackDriver

        return SlackDriver(self, transport="socket", **kwargs)

    def wait_for_socket_connection(self, timeout: float = 5.0) -> SocketConnection:
        """Block until a Socket Mode app is connected; its (newest) connection."""
        return self.socket_mode.wait_for_connection(timeout)
