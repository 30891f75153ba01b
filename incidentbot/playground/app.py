"""The playground's own web app: the page, and a JSON API that acts through the driver.

Every action a person takes in the page becomes what Slack would send the bot: the
``SlackDriver`` signs it and POSTs it to the bot's real ``/slack/events`` endpoint, then applies
the bot's answer to the workspace. Nothing here calls the bot's services or reads its database;
what the page shows comes from the ``Workspace`` alone (``screen.py``), so what works here works
in Slack.

API (JSON in, JSON out; ``user`` is the id of the person acting):

- ``GET /api/state?user=U&channel=C[&thread=TS][&home=1]``: what that person sees;
- ``POST /api/command`` ``{user, channel, text}``: ``text`` as typed (``/incident …``);
- ``POST /api/message`` ``{user, channel, text[, thread_ts]}``: a plain message;
- ``POST /api/join`` ``{user, channel}``;
- ``POST /api/pin`` / ``/api/unpin`` ``{user, channel, ts}``;
- ``POST /api/react`` / ``/api/unreact`` ``{user, channel, ts[, name]}`` (default ``pushpin``);
- ``POST /api/shortcut`` ``{user, channel, ts, callback_id}``: a message shortcut;
- ``POST /api/action`` ``{user, action_id[, block_id, value], channel+message_ts | view_id}``;
- ``POST /api/view/submit`` ``{user, view_id, values: {action_id: value}}``;
- ``POST /api/view/close`` ``{user, view_id}``;
- ``POST /api/home`` ``{user}``: opens the app's Home tab (``app_home_opened``);
- ``GET /api/files/<id>?user=U``: a file shared where that person can see it, rendered;
  ``GET /api/files/<id>/raw?user=U`` downloads it.

Whatever a person could not do in Slack (write in a channel they are not in, see a private
channel...) is refused with HTTP 400 and ``{"error": "<why>"}``, which the page shows.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request, send_from_directory
from flask.json.provider import DefaultJSONProvider
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from incidentbot.emulator import Delivery, DriverResponse, EmulatorError, User, Workspace, mention
from incidentbot.entrypoints.local import LocalStack
from incidentbot.slack.manifest import build_manifest

from .render import markdown_to_html
from .screen import Screen, can_see

__all__ = ["create_playground_app", "typed_text"]

STATIC = Path(__file__).resolve().parent / "static"
_LOOPBACK_NAMES = {"127.0.0.1", "localhost", "[::1]", "::1"}
# The page loads nothing from elsewhere and runs only its own script.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'none'"
)
_MENTION = re.compile(r"(?<![\w@.])@([a-z0-9][a-z0-9._-]*)", re.I)
_CHANNEL = re.compile(r"(?<![\w#&])#([a-z0-9][a-z0-9_-]*)")
_SPECIAL = {"here", "channel", "everyone"}


class Refused(Exception):
    """A request the page should not have sent, or one a person could not make in Slack."""


def typed_text(text: str, ws: Workspace, *, command: bool) -> str:
    """Typed text with ``@name`` and ``#channel`` linked as Slack's client links them; the
    driver escapes the rest (``&<>``) as Slack does.

    Slash commands (``should_escape``) get ``<@U123|name>``; messages get ``<@U123>``.
    """

    def person(match: re.Match[str]) -> str:
        name = match.group(1).rstrip(".")
        rest = match.group(1)[len(name) :]
        if name.lower() in _SPECIAL:
            return f"<!{name.lower()}>{rest}"
        user = ws.user_by_name(name)
        if user is None:
            return match.group(0)
        return mention(user.id, user.name if command else None) + rest

    def channel(match: re.Match[str]) -> str:
        found = ws.channel_by_name(match.group(1))
        if found is None:
            return match.group(0)
        return f"<#{found.id}|{found.name}>" if command else f"<#{found.id}>"

    return _CHANNEL.sub(channel, _MENTION.sub(person, text))


def create_playground_app(stack: LocalStack, *, bind_host: str = "127.0.0.1") -> Flask:
    app = Flask(__name__, static_folder=None)
    if isinstance(app.json, DefaultJSONProvider):  # Flask's own, unless told otherwise
        app.json.sort_keys = False
    driver = stack.driver
    ws = stack.workspace
    settings = stack.settings
    manifest = build_manifest(settings)
    shortcuts = tuple(
        {"callback_id": s["callback_id"], "name": s["name"], "type": s["type"]}
        for s in manifest["features"].get("shortcuts", [])
    )
    message_shortcuts = {s["callback_id"] for s in shortcuts if s["type"] == "message"}
    bot_events = manifest["settings"]["event_subscriptions"].get("bot_events", [])
    # Slack sends people's messages only to an app subscribed to them.
    message_events = any(str(e).startswith("message.") for e in bot_events)
    # One action at a time, in the order clicked, as one person's Slack client sends them.
    acting = threading.Lock()
    loopback_only = bind_host in _LOOPBACK_NAMES

    @app.before_request
    def refuse_other_hosts() -> Response | None:
        # Bound to loopback, a Host header naming anything else is a DNS-rebinding page.
        if loopback_only and (request.host or "").rsplit(":", 1)[0] not in _LOOPBACK_NAMES:
            return _error(403, "the playground answers only on this machine")
        if request.method == "POST" and not request.is_json:
            # Other sites cannot send JSON here without the browser asking first (CORS).
            return _error(415, "send JSON (Content-Type: application/json)")
        return None

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = _CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(Refused)
    def refused(error: Refused) -> Response:
        return _error(400, str(error))

    @app.errorhandler(EmulatorError)
    def impossible(error: EmulatorError) -> Response:
        return _error(400, str(error))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        return _error(error.code or 500, error.description or error.name)

    # ------------------------------------------------------------------ helpers

    def body() -> dict[str, Any]:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise Refused("the request body must be a JSON object")
        return data

    def field(data: dict[str, Any], name: str) -> str:
        value = data.get(name)
        if not isinstance(value, str) or not value:
            raise Refused(f"missing {name!r}")
        return value

    def person(user_id: str | None) -> User:
        user = ws.user(user_id or "")
        if user is None or user.is_bot or user.deleted:
            raise Refused(f"no person {user_id!r} in the local workspace")
        return user

    def channel_of(data: dict[str, Any], user: User) -> str:
        channel = ws.channel(field(data, "channel"))
        if channel is None or not can_see(channel, user.id):
            raise Refused(f"no channel {data.get('channel')!r} that {user.name} can see")
        return channel.id

    def answered(response: DriverResponse | None) -> Response:
        """The bot's answer, checked: Slack shows people an error when an app fails."""
        if response is not None and not response.ok:
            return _error(
                502, f"incidentbot answered HTTP {response.status}; see the playground's log"
            )
        return jsonify({"ok": True})

    def act(run: Callable[[], DriverResponse | None]) -> Response:
        with acting:
            return answered(run())

    # ------------------------------------------------------------------ the page

    @app.get("/")
    def page() -> Response:
        return send_from_directory(STATIC, "index.html")

    @app.get("/static/<path:name>")
    def static_file(name: str) -> Response:
        return send_from_directory(STATIC, name)

    @app.get("/api/state")
    def state() -> Response:
        user = person(request.args.get("user"))
        screen = Screen(
            ws,
            user,
            channel_id=request.args.get("channel") or None,
            thread_ts=request.args.get("thread") or None,
            home=request.args.get("home") == "1",
            shortcuts=shortcuts,
        )
        return jsonify(screen.to_json())

    # ------------------------------------------------------------------ typing

    @app.post("/api/command")
    def command() -> Response:
        data = body()
        user = person(data.get("user"))
        channel = channel_of(data, user)
        typed = field(data, "text").strip()
        name, _, text = typed.partition(" ")
        if name != settings.command:
            raise Refused(
                f"{name} is not a command in this workspace; the app installs "
                f"{settings.command} (try {settings.command} help)"
            )
        text = typed_text(text.strip(), ws, command=True)
        return act(lambda: driver.command(user.id, channel, text, command=name))

    @app.post("/api/message")
    def message() -> Response:
        data = body()
        user = person(data.get("user"))
        channel = channel_of(data, user)
        text = field(data, "text")
        if not text.strip():
            raise Refused("an empty message is not sent")
        thread_ts = data.get("thread_ts") or None
        if thread_ts is not None and ws.message(channel, str(thread_ts)) is None:
            raise Refused("that thread is gone")
        with acting:
            ts = driver.post_message(
                user.id,
                channel,
                typed_text(text, ws, command=False),
                str(thread_ts) if thread_ts else None,
                send_event=message_events,
            )
            delivery = driver.last_delivery if message_events else None
            if delivery is not None and not delivery.response.ok:
                return answered(delivery.response)
        return jsonify({"ok": True, "ts": ts})

    @app.post("/api/join")
    def join() -> Response:
        data = body()
        user = person(data.get("user"))
        channel = channel_of(data, user)
        return act(lambda: driver.join(user.id, channel).response)

    # ------------------------------------------------------------------ message actions

    def message_target(data: dict[str, Any]) -> tuple[User, str, str]:
        user = person(data.get("user"))
        channel = channel_of(data, user)
        ts = field(data, "ts")
        if ws.message(channel, ts) is None:
            raise Refused("that message is gone")
        return user, channel, ts

    @app.post("/api/pin")
    def pin() -> Response:
        user, channel, ts = message_target(body())
        return act(lambda: driver.pin(user.id, channel, ts).response)

    @app.post("/api/unpin")
    def unpin() -> Response:
        user, channel, ts = message_target(body())
        return act(lambda: driver.unpin(user.id, channel, ts).response)

    def reaction(send: Callable[[str, str, str, str], Delivery]) -> Response:
        data = body()
        user, channel, ts = message_target(data)
        name = str(data.get("name") or "pushpin").strip(":")
        if not re.fullmatch(r"[a-z0-9_+-]{1,100}", name):
            raise Refused(f"{name!r} is not an emoji name")
        return act(lambda: send(user.id, channel, ts, name).response)

    @app.post("/api/react")
    def react() -> Response:
        return reaction(driver.react)

    @app.post("/api/unreact")
    def unreact() -> Response:
        return reaction(driver.unreact)

    @app.post("/api/shortcut")
    def shortcut() -> Response:
        data = body()
        user, channel, ts = message_target(data)
        callback_id = field(data, "callback_id")
        if callback_id not in message_shortcuts:
            raise Refused(f"the app has no message shortcut {callback_id!r}")
        return act(lambda: driver.message_shortcut(user.id, callback_id, channel, ts))

    # ------------------------------------------------------------------ interactivity

    @app.post("/api/action")
    def action() -> Response:
        data = body()
        user = person(data.get("user"))
        action_id = field(data, "action_id")
        value = data.get("value")
        block_id = data.get("block_id") or None
        view_id = data.get("view_id") or None
        if view_id is not None:
            return act(
                lambda: driver.block_action(
                    user.id, action_id, value, view_id=str(view_id), block_id=block_id
                )
            )
        channel = channel_of(data, user)
        message_ts = field(data, "message_ts")
        return act(
            lambda: driver.block_action(
                user.id,
                action_id,
                value,
                channel=channel,
                message_ts=message_ts,
                block_id=block_id,
            )
        )

    @app.post("/api/view/submit")
    def submit_view() -> Response:
        data = body()
        user = person(data.get("user"))
        values = data.get("values") or {}
        if not isinstance(values, dict):
            raise Refused("values must map action ids to what was entered")
        view_id = field(data, "view_id")
        return act(lambda: driver.submit_view(user.id, view_id, values))

    @app.post("/api/view/close")
    def close_view() -> Response:
        data = body()
        user = person(data.get("user"))
        view_id = field(data, "view_id")
        return act(lambda: driver.close_view(user.id, view_id))

    @app.post("/api/home")
    def home() -> Response:
        user = person(body().get("user"))
        return act(lambda: driver.open_home(user.id).response)

    # ------------------------------------------------------------------ files

    def visible_file(file_id: str) -> Any:
        user = person(request.args.get("user"))
        with ws.lock:
            file = ws.file(file_id)
            shared = [ws.channel(c) for c in file.channels] if file is not None else []
            if file is None or not any(c is not None and can_see(c, user.id) for c in shared):
                raise Refused(f"{user.name} cannot see a file {file_id!r}")
            if file.content is None:
                raise Refused(f"{file.name} is still uploading")
            return file

    @app.get("/api/files/<file_id>")
    def file_view(file_id: str) -> Response:
        file = visible_file(file_id)
        content: bytes = file.content
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is None:
            html = "<p>This file is not text; download it to open it.</p>"
        elif file.filetype == "markdown" or file.mimetype == "text/markdown":
            html = str(markdown_to_html(text))
        else:
            html = str(Markup("<pre>{}</pre>").format(text))
        return jsonify(
            {
                "id": file.id,
                "name": file.name,
                "title": file.title,
                "size": len(content),
                "mimetype": file.mimetype,
                "html": html,
                "text": text,
            }
        )

    @app.get("/api/files/<file_id>/raw")
    def file_raw(file_id: str) -> Response:
        file = visible_file(file_id)
        safe_name = re.sub(r"[^\w.-]", "_", file.name) or "file"
        return Response(
            file.content,
            mimetype="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{safe_name}"'},
        )

    return app


def _error(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response
