"""One Flask app: ``POST /slack/events`` for Slack, ``GET /healthz``, and the incident pages."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from slack_bolt.adapter.flask import SlackRequestHandler
from werkzeug.exceptions import HTTPException

from incidentbot import db
from incidentbot.runtime import Runtime
from incidentbot.web import pages

log = logging.getLogger(__name__)

# Slack's own payloads are far smaller; anything bigger is refused before Bolt sees it.
MAX_BODY_BYTES = 1024 * 1024


def create_web_app(runtime: Runtime) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    slack = SlackRequestHandler(runtime.bolt)

    @app.post("/slack/events")
    def slack_events() -> Response:
        return slack.handle(request)

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
    return app
