"""Someone joining an incident's channel late gets a private briefing of where things stand
(not whom the bot invited itself: they were told already)."""

from __future__ import annotations

from slack_bolt import App, BoltContext

from incidentbot import services
from incidentbot.domain.errors import NotInIncidentChannel
from incidentbot.infra import jobs
from incidentbot.services import incident_in_channel
from incidentbot.slack.deps import Deps


def register(app: App, deps: Deps) -> None:
    @app.event("member_joined_channel")
    def member_joined(body: dict, event: dict, context: BoltContext) -> None:
        user_id, channel_id = event.get("user"), event.get("channel")
        if not user_id or not channel_id or user_id == context.bot_user_id:
            return
        with deps.uow_factory() as uow:
            try:
                incident = incident_in_channel(uow=uow, channel_id=channel_id)
            except NotInIncidentChannel:
                return
            event_id = body.get("event_id")
            if event_id and not services.claim_event(uow=uow, event_id=event_id):
                return  # a redelivery: the briefing is already queued
            services.add_member(uow=uow, incident_id=incident.id, user_id=user_id)
            # Whom the bot brought in (the declarer, a new lead) has just been told where
            # things stand; a briefing is for who arrives on their own or by a colleague.
            invited_by_bot = event.get("inviter") == context.bot_user_id
            if incident.is_open and not invited_by_bot:
                uow.enqueue(jobs.BRIEF_NEWCOMER, incident=incident, user_id=user_id)
            uow.commit()

    @app.event("member_left_channel")
    def member_left(event: dict) -> None:
        user_id, channel_id = event.get("user"), event.get("channel")
        if not user_id or not channel_id:
            return
        with deps.uow_factory() as uow:
            try:
                incident = incident_in_channel(uow=uow, channel_id=channel_id)
            except NotInIncidentChannel:
                return
            services.remove_member(uow=uow, incident_id=incident.id, user_id=user_id)
            uow.commit()
