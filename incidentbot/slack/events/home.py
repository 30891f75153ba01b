"""Opening the app's Home tab publishes it afresh: the open incidents that person may see."""

from __future__ import annotations

from slack_bolt import App, BoltContext

from incidentbot import services
from incidentbot.infra import jobs
from incidentbot.slack.deps import Deps


def register(app: App, deps: Deps) -> None:
    @app.event("app_home_opened")
    def home_opened(body: dict, event: dict, context: BoltContext) -> None:
        """Publishing is a Web API call, so it is queued: the event is acknowledged at once and
        the job publishes the tab a moment later."""
        user_id = event.get("user")
        if event.get("tab") != "home" or not user_id or user_id == context.bot_user_id:
            return  # the Messages and About tabs are Slack's to show
        with deps.uow_factory() as uow:
            event_id = body.get("event_id")
            if event_id and not services.claim_event(uow=uow, event_id=event_id):
                return  # a redelivery: the tab is already being published
            uow.enqueue(jobs.PUBLISH_HOME, user_id=user_id)
            uow.commit()
