"""The Web API client: one per process, retrying what Slack says is worth retrying."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.web.slack_response import SlackResponse
from slack_sdk.webhook import WebhookClient

from incidentbot.infra.config import Settings
from incidentbot.infra.observability import Telemetry

log = logging.getLogger(__name__)


class CountingWebClient(WebClient):
    """A ``WebClient`` that counts its calls and their failures by method.

    Every Web API method goes through ``api_call`` (``files_upload_v2`` too, for its two API
    steps), after the retry handlers have had their go: one call is counted once.
    """

    def __init__(self, *args: Any, telemetry: Telemetry, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._telemetry = telemetry

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        try:
            response = super().api_call(api_method, **kwargs)
        except SlackApiError as error:
            code = error.response.get("error") if isinstance(error.response.data, dict) else None
            self._telemetry.observe_slack_call(
                api_method, error=str(code or error.response.status_code)
            )
            raise
        except Exception as error:
            self._telemetry.observe_slack_call(api_method, error=type(error).__name__)
            raise
        self._telemetry.observe_slack_call(api_method, error=None)
        return response


def _client(settings: Settings, telemetry: Telemetry | None, **options: Any) -> WebClient:
    token = settings.slack_bot_token
    base_url = settings.slack_api_url or WebClient.BASE_URL
    if telemetry is None:
        return WebClient(token=token, base_url=base_url, **options)
    return CountingWebClient(token=token, base_url=base_url, **options, telemetry=telemetry)


def make_client(settings: Settings, *, telemetry: Telemetry | None = None) -> WebClient:
    """For background jobs: retries connection errors and 500/503 at once, but not 429.

    A job's worker holds a lease on it: sleeping out a Retry-After (up to minutes) inside the
    call could outlast the lease and let another worker run the same job. A 429 reaches the
    job (``effects.slack_call``), which is given back, due after the Retry-After. The retries
    kept are short: two, after about 0.5-1.5 s and 1-2 s, so at most 3.5 s asleep per call,
    far inside a lease; a read timeout is not retried here at all.
    """
    return _client(
        settings,
        telemetry,
        timeout=settings.slack_timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def make_interactive_client(settings: Settings, *, telemetry: Telemetry | None = None) -> WebClient:
    """For calls made before acknowledging a request: Slack allows 3 seconds in all, so this
    fails fast rather than waiting out a Retry-After."""
    return _client(settings, telemetry, timeout=2, retry_handlers=[])


def answer_privately(response_url: object, text: str) -> None:
    """An ephemeral answer through a request's ``response_url``, while Slack waits for the
    acknowledgement (so a short timeout, no retries); fine if it cannot be sent."""
    if not isinstance(response_url, str) or not response_url:
        return
    try:
        WebhookClient(response_url, timeout=2).send(
            text=text, response_type="ephemeral", replace_original=False
        )
    except Exception:
        log.warning("could not answer through a response_url", exc_info=True)
