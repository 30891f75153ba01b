"""The Web API client: one per process, retrying what Slack says is worth retrying."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from incidentbot.config import Settings


def make_client(settings: Settings) -> WebClient:
    """For background jobs: retries connection errors, 5xx and 429 (honouring Retry-After)."""
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url or WebClient.BASE_URL,
        timeout=settings.slack_timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def make_interactive_client(settings: Settings) -> WebClient:
    """For calls made before acknowledging a request: Slack allows 3 seconds in all, so this
    fails fast rather than waiting out a Retry-After."""
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url or WebClient.BASE_URL,
        timeout=2,
        retry_handlers=[],
    )
