"""``POST /hooks/alertmanager`` and ``POST /hooks/generic``: alerts from monitoring.

Both want the shared secret ``INCIDENTBOT_WEBHOOK_SECRET``, either as ``Authorization: Bearer
<secret>`` (what Alertmanager's ``http_config.authorization`` sends) or as an HMAC of the raw
body, ``X-Incidentbot-Signature: sha256=<hex>``; both are compared in constant time. Without
the setting the endpoints answer 404. What a sender gets wrong is answered 4xx with a JSON error
saying what, and changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable

from flask import Flask, Response, jsonify, request
from slack_sdk.errors import SlackApiError

from incidentbot.services import alerts
from incidentbot.slack.runtime import Runtime

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Incidentbot-Signature"
UNAUTHORIZED = (
    "missing or wrong credentials: send Authorization: Bearer <INCIDENTBOT_WEBHOOK_SECRET>, or "
    f"{SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of the body keyed with the secret>"
)


def bot_user_id(runtime: Runtime) -> str | None:
    """The bot's own Slack user, in whose name alerts are declared (so Slack shows the app as
    the declarer, and the metrics count the first person to act as the response); None if
    Slack cannot say now. It is the only Slack call a webhook may wait for, once per process;
    everything Slack shows of the incident is done by jobs after the commit."""
    try:
        return runtime.deps.directory.bot_user_id()
    except Exception as error:  # whatever it was, the sender may retry
        reason = error.response.get("error") if isinstance(error, SlackApiError) else None
        log.warning("auth.test failed: %s", reason or type(error).__name__)
        return None


def signed(secret: str, body: bytes) -> str:
    """The ``X-Incidentbot-Signature`` value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def authentic(secret: str, body: bytes) -> bool:
    """Whether the request carries the secret (Bearer) or a signature of ``body`` made with it."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return hmac.compare_digest(token.strip().encode(), secret.encode())
    signature = request.headers.get(SIGNATURE_HEADER, "").strip().lower()
    if signature:
        return hmac.compare_digest(signature.encode(), signed(secret, body).encode())
    return False


def register(app: Flask, runtime: Runtime) -> None:
    settings = runtime.settings

    def receive(parse: Callable[[object], alerts.Notification]) -> tuple[Response, int]:
        secret = settings.webhook_secret
        if secret is None:
            return jsonify(
                ok=False,
                error="alert webhooks are off: set INCIDENTBOT_WEBHOOK_SECRET to turn them on",
            ), 404
        body = request.get_data()
        if not authentic(secret, body):
            response = jsonify(ok=False, error=UNAUTHORIZED)
            response.headers["WWW-Authenticate"] = 'Bearer realm="incidentbot"'
            return response, 401
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return jsonify(ok=False, error="the body is not JSON"), 400
        try:
            notification = parse(payload)
        except alerts.AlertPayloadError as error:
            return jsonify(ok=False, error=error.message), 400
        declared_by = bot_user_id(runtime)
        if declared_by is None:
            response = jsonify(
                ok=False,
                error="Slack did not say which user this bot is (auth.test); nothing was "
                "recorded, try again",
            )
            response.headers["Retry-After"] = "30"
            return response, 503
        with runtime.uow() as uow:
            outcome = alerts.receive_alerts(
                uow=uow, notification=notification, declared_by=declared_by
            )
            uow.commit()
        if outcome.incident_number is None:
            return jsonify(
                ok=True,
                incident=None,
                declared=False,
                recorded=0,
                note="no incident is open for this group, and resolved alerts declare none",
            ), 200
        log.info(
            "%s alerts: INC-%s %s, %s timeline entries",
            notification.source,
            outcome.incident_number,
            "declared" if outcome.declared else "updated",
            outcome.recorded,
        )
        return jsonify(
            ok=True,
            incident=outcome.incident_number,
            declared=outcome.declared,
            recorded=outcome.recorded,
        ), 200

    @app.post("/hooks/alertmanager")
    def alertmanager_hook() -> tuple[Response, int]:
        return receive(
            lambda payload: alerts.parse_alertmanager(
                payload, severity_label=settings.alert_severity_label
            )
        )

    @app.post("/hooks/generic")
    def generic_hook() -> tuple[Response, int]:
        return receive(alerts.parse_generic)
