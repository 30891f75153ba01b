"""The "Add to incident timeline" message shortcut: a form with an optional note, then the
message is on the timeline at the time it was posted, as if pinned, and the person is told
privately."""

from __future__ import annotations

import json
import logging

from slack_bolt import Ack, App
from slack_sdk.errors import SlackClientError

from incidentbot import services
from incidentbot.domain.errors import IncidentError, NotInIncidentChannel
from incidentbot.domain.text import printable
from incidentbot.infra import jobs
from incidentbot.services.timeline import message_time
from incidentbot.slack import blocks, ids
from incidentbot.slack.client import answer_privately
from incidentbot.slack.deps import Deps
from incidentbot.slack.message_text import message_text
from incidentbot.slack.payloads import private_metadata

log = logging.getLogger(__name__)

# Slack keeps at most 3,000 characters of a view's private_metadata; a longer message's text is
# left out and fetched from Slack after it is added, as for a :pushpin: reaction.
MAX_METADATA = 3000

NOT_AN_INCIDENT_CHANNEL = (
    "*Add to incident timeline* works on messages in an incident's channel, and this channel "
    "is not one, so nothing was added.\n`/incident list` shows the open incidents and their "
    "channels; `/incident declare <title>` starts one."
)


COULD_NOT_OPEN = (
    "Slack did not open the *Add to incident timeline* form in time, so nothing was added. "
    "Please try the shortcut again."
)


def register(app: App, deps: Deps) -> None:
    @app.message_shortcut(ids.ADD_TO_TIMELINE)
    def add_to_timeline(ack: Ack, body: dict) -> None:
        ack()
        trigger_id = body.get("trigger_id")
        channel_id = (body.get("channel") or {}).get("id")
        message = body.get("message") or {}
        ts = message.get("ts") or body.get("message_ts")
        if not trigger_id:
            return
        view = _form(deps, channel_id=channel_id, ts=ts, message=message)
        try:
            deps.interactive_client.views_open(trigger_id=trigger_id, view=view)
        except (SlackClientError, OSError):
            log.warning("could not open the add-to-timeline form", exc_info=True)
            answer_privately(body.get("response_url"), COULD_NOT_OPEN)

    @app.view(ids.TIMELINE_VIEW)
    def timeline_form_submitted(ack: Ack, body: dict, view: dict) -> None:
        user_id = (body.get("user") or {}).get("id")
        target = private_metadata(view)
        if not user_id or not view.get("id") or target is None:
            ack()
            return
        note = (
            view.get("state", {})
            .get("values", {})
            .get(ids.TIMELINE_NOTE_BLOCK, {})
            .get(ids.TIMELINE_NOTE_INPUT, {})
            .get("value")
        )
        channel_id, ts = str(target.get("channel")), str(target.get("ts"))
        with deps.uow_factory() as uow:
            # A double click, or Slack resending the submission, adds the note once.
            if not services.claim_event(uow=uow, event_id=f"view:{view['id']}"):
                ack()
                return
            try:
                incident = services.incident_in_channel(uow=uow, channel_id=channel_id)
                entry, new = services.add_message_to_timeline(
                    uow=uow,
                    incident=incident,
                    channel_id=channel_id,
                    ts=ts,
                    message_author_id=target.get("author"),
                    text=target.get("text"),
                    added_by=user_id,
                    note=note if isinstance(note, str) else None,
                    policy=deps.settings.policy,
                )
            except IncidentError as error:
                ack(
                    response_action="errors",
                    errors={ids.TIMELINE_NOTE_BLOCK: blocks.field_error(error.message)},
                )
                return
            uow.enqueue(
                jobs.TELL_PRIVATELY,
                incident=incident,
                channel_id=channel_id,
                user_id=user_id,
                text=blocks.added_to_timeline(
                    incident,
                    entry,
                    new=new,
                    noted=bool(note and note.strip()),
                    zone=deps.settings.timezone,
                ),
            )
            uow.commit()
        ack()


def _form(deps: Deps, *, channel_id: str | None, ts: str | None, message: dict) -> dict:
    """The form for the message, or why there is none."""
    if not channel_id or not ts:
        return blocks.notice_modal(title="Add to timeline", text=NOT_AN_INCIDENT_CHANNEL)
    with deps.uow_factory(read_only=True) as uow:
        try:
            incident = services.incident_in_channel(uow=uow, channel_id=channel_id)
        except NotInIncidentChannel:
            return blocks.notice_modal(title="Add to timeline", text=NOT_AN_INCIDENT_CHANNEL)
        try:
            posted_at = message_time(ts)
        except IncidentError as error:
            return blocks.notice_modal(title="Add to timeline", text=error.message)
        text = printable(message_text(message))
        target = {"channel": channel_id, "ts": ts, "author": message.get("user"), "text": text}
        if len(json.dumps(target)) > MAX_METADATA:
            target["text"] = None
        return blocks.timeline_shortcut_modal(
            incident,
            posted_at=posted_at,
            message_text=text,
            zone=deps.settings.timezone,
            private_metadata=target,
        )
