"""The pinned summary's "Correct the timeline" button opens the correction form."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App
from slack_sdk.errors import SlackClientError

from incidentbot import services
from incidentbot.slack import corrections, ids
from incidentbot.slack.client import answer_privately
from incidentbot.slack.deps import Deps

log = logging.getLogger(__name__)

COULD_NOT_OPEN = (
    "Slack did not open the *Correct the timeline* form in time, so nothing was changed. "
    "Please click the button again."
)


def register(app: App, deps: Deps) -> None:
    @app.action(ids.CORRECT_TIMELINE)
    def open_correction_form(ack: Ack, body: dict) -> None:
        """The form lists the latest entries in the clicker's zone; who may correct what is
        decided when it is submitted. A refusal (not an incident channel, say) is told
        privately by the app's error handler."""
        ack()
        user_id = (body.get("user") or {}).get("id")
        channel_id = (body.get("container") or {}).get("channel_id")
        trigger_id = body.get("trigger_id")
        if not user_id or not channel_id or not trigger_id:
            return
        zone = deps.directory.zone_of(user_id)
        with deps.uow_factory(read_only=True) as uow:
            incident = services.incident_in_channel(uow=uow, channel_id=channel_id)
            view = corrections.correction_modal(
                incident,
                services.correctable_entries(uow=uow, incident=incident),
                zone=zone,
                now=uow.now(),
                private_metadata={"channel": channel_id},
            )
        try:
            deps.interactive_client.views_open(trigger_id=trigger_id, view=view)
        except (SlackClientError, OSError):
            # The trigger lasts 3 seconds; the button can simply be clicked again.
            log.warning("could not open the correction form", exc_info=True)
            answer_privately(body.get("response_url"), COULD_NOT_OPEN)
