"""A pinned message or a :pushpin: reaction puts the message on the incident's timeline.

Each listener records the entry before Slack gets its acknowledgement (the app processes before
responding), and claims the ``event_id`` in the same transaction, so a redelivery is a no-op
and a failure makes Slack deliver again rather than lose the entry.
"""

from __future__ import annotations

from slack_bolt import App, BoltContext

from incidentbot import services
from incidentbot.domain.errors import NotInIncidentChannel
from incidentbot.slack import ids
from incidentbot.slack.deps import Deps
from incidentbot.slack.message_text import message_text


def register(app: App, deps: Deps) -> None:
    @app.event("pin_added")
    def message_pinned(body: dict, event: dict, context: BoltContext) -> None:
        item = event.get("item") or {}
        message = item.get("message") or {}
        channel_id = event.get("channel_id") or item.get("channel")
        ts = message.get("ts")
        if item.get("type") != "message" or not channel_id or not ts:
            return
        _capture(
            deps,
            event_id=body.get("event_id"),
            bot_user_id=context.bot_user_id,
            channel_id=channel_id,
            ts=ts,
            marked_by=event.get("user") or "",
            message_author_id=message.get("user"),
            text=message_text(message) if message else None,
        )

    @app.event("reaction_added")
    def message_reacted(body: dict, event: dict, context: BoltContext) -> None:
        item = event.get("item") or {}
        if event.get("reaction") != ids.PUSHPIN_REACTION or item.get("type") != "message":
            return
        if not item.get("channel") or not item.get("ts"):
            return
        _capture(
            deps,
            event_id=body.get("event_id"),
            bot_user_id=context.bot_user_id,
            channel_id=item["channel"],
            ts=item["ts"],
            marked_by=event.get("user") or "",
            message_author_id=event.get("item_user"),
            text=None,
        )

    @app.event("pin_removed")
    @app.event("reaction_removed")
    def mark_removed() -> None:
        """Unpinning keeps the entry: what people recorded is never lost."""


def _capture(
    deps: Deps,
    *,
    event_id: str | None,
    bot_user_id: str | None,
    channel_id: str,
    ts: str,
    marked_by: str,
    message_author_id: str | None,
    text: str | None,
) -> None:
    if not marked_by or marked_by == bot_user_id:
        return
    with deps.uow_factory() as uow:
        try:
            incident = services.incident_in_channel(uow=uow, channel_id=channel_id)
        except NotInIncidentChannel:
            return
        if event_id and not services.claim_event(uow=uow, event_id=event_id):
            return
        services.capture_message(
            uow=uow,
            incident=incident,
            channel_id=channel_id,
            ts=ts,
            message_author_id=message_author_id,
            text=text,
            marked_by=marked_by,
        )
        uow.commit()
