"""One Flask app: ``POST /slack/events`` for Slack, ``GET /healthz``, the incident pages, the
alert webhooks (``/hooks/...``) and ``GET /metrics``."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs, parse_qsl

from flask import Flask, Response, jsonify, request
from slack_bolt import BoltContext, BoltRequest
from slack_bolt.adapter.flask.handler import to_bolt_request, to_flask_response
from slack_bolt.request.internals import build_context
from werkzeug.exceptions import HTTPException

from incidentbot.infra import db
from incidentbot.slack.runtime import Runtime
from incidentbot.web import hooks, monitoring, pages

log = logging.getLogger(__name__)

# Slack's own payloads are far smaller; anything bigger is refused before Bolt sees it.
MAX_BODY_BYTES = 1024 * 1024


def malformed(mimetype: str, body: bytes) -> str | None:
    """Why a body cannot be a Slack request, checked before Bolt parses it (None if it can)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "body is not UTF-8"
    if mimetype == "application/json":
        try:
            parsed = json.loads(text)
        except ValueError:
            return "body is not JSON"
        return None if isinstance(parsed, dict) else "body is not a JSON object"
    if mimetype == "application/x-www-form-urlencoded":
        payload = parse_qs(text).get("payload")
        if payload is None:
            return None
        try:
            parsed = json.loads(payload[0])
        except ValueError:
            return "payload is not JSON"
        return None if isinstance(parsed, dict) else "payload is not a JSON object"
    return "content type must be application/json or application/x-www-form-urlencoded"


def slack_request() -> BoltRequest:
    """The request as Bolt should see it.

    Bolt takes any form body containing the word "payload" for an interactivity payload, so
    ``/incident note the payload service is down`` would reach no listener; a form without a
    ``payload`` field is given to Bolt as the plain fields it is. The raw body, which the
    signature covers, is unchanged.
    """
    bolt_request = to_bolt_request(request)
    raw = bolt_request.raw_body
    if request.mimetype == "application/x-www-form-urlencoded" and "payload" in raw:
        fields = dict(parse_qsl(raw, keep_blank_values=True))
        if "payload" not in fields:
            bolt_request.body = fields
            bolt_request.context = build_context(BoltContext({}), fields)
    return bolt_request


def create_web_app(runtime: Runtime) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    @app.post("/slack/events")
    def slack_events() -> Response | tuple[Response, int]:
        problem = malformed(request.mimetype, request.get_data())
        if problem is not None:
            return jsonify(ok=False, error=problem), 400
        with runtime.traffic.answering():
            return to_flask_response(runtime.bolt.dispatch(slack_request()))

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        try:
            current = db.migrations_current(runtime.engine)
        except Exception:
            log.warning("health check: database unreachable", exc_info=True)
            return jsonify(ok=False, database="unreachable"), 503
        if not current:
            return jsonify(ok=False, database="migrations pending"), 503
        return jsonify(ok=True), 200

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        return jsonify(ok=False, error=error.name), error.code or 500

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response, int]:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return jsonify(ok=False, error="internal error"), 500

    pages.register(app, runtime)
    hooks.register(app, runtime)
    monitoring.register(app, runtime)
    return app
