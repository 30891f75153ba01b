"""``GET /metrics``, and timing and logging every request.

Each request is timed into the runtime's metrics and logged as one line: method, route (the
rule, such as ``/incidents/<int:number>``, never the query string, which may carry a page
token), Slack payload type, status and duration. Bodies and headers are never logged: they hold
signatures, tokens and what people typed.

``/metrics`` is open unless ``INCIDENTBOT_METRICS_TOKEN`` is set, when it wants that token as
``Authorization: Bearer``. It reports counts only (no titles, no people); the token is its own so
that a Prometheus server never holds a credential that opens the incident pages.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
from urllib.parse import parse_qs

from flask import Flask, Response, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from incidentbot.slack.runtime import Runtime

log = logging.getLogger("incidentbot.requests")

SLACK_ROUTE = "/slack/events"
# Probes and scrapes come every few seconds; their lines would drown the rest at INFO.
QUIET_ROUTES = frozenset({"/healthz", "/metrics"})
# Only names like Slack's become label values, so a forged request cannot mint new series.
_PAYLOAD_TYPE = re.compile(r"[a-z][a-z0-9_:.]{0,63}")


def slack_payload_type(status: int) -> str:
    """What kind of Slack request this was: ``slash_command``, ``block_actions``,
    ``view_submission``, ``shortcut``, ``event:pin_added``, ``url_verification``, ...

    A request that failed verification (401) is ``unverified``: what it claims to be is not
    worth a series of its own.
    """
    if status == 401:
        return "unverified"
    try:
        text = request.get_data(cache=True).decode("utf-8")
        if request.mimetype == "application/x-www-form-urlencoded":
            fields = parse_qs(text)
            if "payload" in fields:
                kind = json.loads(fields["payload"][0]).get("type")
            elif "command" in fields:
                kind = "slash_command"
            else:
                kind = "ssl_check" if "ssl_check" in fields else None
        else:
            body = json.loads(text)
            kind = body.get("type")
            if kind == "event_callback":
                kind = f"event:{(body.get('event') or {}).get('type')}"
    except Exception:  # too large, not UTF-8, not JSON, not an object: Flask refused it
        return "malformed"
    return kind if isinstance(kind, str) and _PAYLOAD_TYPE.fullmatch(kind) else "other"


def register(app: Flask, runtime: Runtime) -> None:
    telemetry = runtime.telemetry
    token = runtime.settings.metrics_token

    @app.before_request
    def start_timing() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def observe(response: Response) -> Response:
        started = g.pop("request_started", None)
        if started is None:
            return response
        seconds = time.perf_counter() - started
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        slack = route == SLACK_ROUTE
        payload_type = slack_payload_type(response.status_code) if slack else "none"
        status = response.status_code
        telemetry.observe_request(
            route=route, payload_type=payload_type, status=status, seconds=seconds, slack=slack
        )
        log.log(
            logging.DEBUG if route in QUIET_ROUTES else logging.INFO,
            "%s %s %s %s %.1f ms",
            request.method,
            route,
            payload_type,
            status,
            seconds * 1000,
            extra={
                "method": request.method,
                "route": route,
                "payload_type": payload_type,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
            },
        )
        return response

    @app.get("/metrics")
    def metrics() -> Response | tuple[Response, int]:
        if token is not None:
            scheme, _, given = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode(), token.encode()
            ):
                response = jsonify(
                    ok=False, error="send Authorization: Bearer <INCIDENTBOT_METRICS_TOKEN>"
                )
                response.headers["WWW-Authenticate"] = 'Bearer realm="incidentbot metrics"'
                return response, 401
        return Response(generate_latest(telemetry.registry), content_type=CONTENT_TYPE_LATEST)
