"""The Bolt app factory."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from incidentbot.domain.errors import IncidentError
from incidentbot.slack import actions, commands, events, shortcuts, views
from incidentbot.slack.blocks import private_reply
from incidentbot.slack.client import answer_privately
from incidentbot.slack.deps import Deps

log = logging.getLogger(__name__)


def build_app(deps: Deps, *, client: WebClient) -> App:
    """An App whose listeners record before acknowledging; Slack work runs as jobs after."""
    settings = deps.settings
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret,
        # Listeners only touch the database (and open modals), so finishing before the HTTP
        # response stays well inside Slack's 3 seconds, and an event is acknowledged only once
        # its timeline entry is committed.
        process_before_response=True,
        token_verification_enabled=False,
        request_verification_enabled=settings.slack_signing_secret is not None,
        logger=logging.getLogger("incidentbot.bolt"),
    )

    @app.error
    def explain(error: Exception, body: dict) -> BoltResponse | None:
        """Domain refusals become a private reply; anything else is logged, never shown."""
        if isinstance(error, IncidentError):
            if body.get("command"):
                return BoltResponse(
                    status=200,
                    # Refusals quote what people typed; none of it may become a mass mention.
                    body={"response_type": "ephemeral", "text": private_reply(error.message)},
                    headers={"content-type": "application/json"},
                )
            log.info("refused %s: %s", body.get("type", "request"), error.message)
            if body.get("type") == "block_actions" and body.get("response_url"):
                answer_privately(body["response_url"], private_reply(error.message))
            return BoltResponse(status=200, body="")
        log.exception("listener failed", exc_info=error)
        if body.get("command"):
            return BoltResponse(
                status=200,
                body={
                    "response_type": "ephemeral",
                    "text": "Something went wrong on my side and nothing was changed. "
                    "Please try again; if it keeps failing, tell whoever runs incidentbot.",
                },
                headers={"content-type": "application/json"},
            )
        return None

    actions.register(app, deps)
    commands.register(app, deps)
    events.register(app, deps)
    shortcuts.register(app, deps)
    views.register(app, deps)
    return app
