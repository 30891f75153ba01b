"""The Home tab's "Declare incident" button opens the same form as ``/incident declare``."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App
from slack_sdk.errors import SlackClientError

from incidentbot.domain.errors import IncidentError
from incidentbot.slack import blocks, ids
from incidentbot.slack.deps import Deps

log = logging.getLogger(__name__)

# Read back by the declare form's submission: there is no channel to reply in from Home.
FROM_HOME = {"from_home": True}


def register(app: App, deps: Deps) -> None:
    @app.action(ids.HOME_DECLARE)
    def declare_from_home(ack: Ack, body: dict) -> None:
        ack()
        user_id = (body.get("user") or {}).get("id")
        trigger_id = body.get("trigger_id")
        if not user_id or not trigger_id:
            return
        try:
            zone: str | None = deps.directory.zone_of(user_id)
        except IncidentError:
            zone = None  # the form's hints then say "your Slack time zone"
        try:
            deps.interactive_client.views_open(
                trigger_id=trigger_id,
                view=blocks.declare_modal(
                    declared_by=user_id, private_metadata=FROM_HOME, zone=zone
                ),
            )
        except (SlackClientError, OSError):
            # The trigger lasts 3 seconds; the button can simply be clicked again.
            log.warning("could not open the declare form from the Home tab", exc_info=True)
