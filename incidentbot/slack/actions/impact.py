"""The answer to "did the impact start earlier?": a responder clicks yes or no."""

from __future__ import annotations

from slack_bolt import Ack, App

from incidentbot import services
from incidentbot.domain.timeparse import format_moment
from incidentbot.infra import jobs
from incidentbot.slack import ids
from incidentbot.slack.deps import Deps


def register(app: App, deps: Deps) -> None:
    @app.action(ids.IMPACT_CONFIRM)
    def impact_started_earlier(ack: Ack, body: dict, action: dict) -> None:
        _answer(deps, body, action, confirmed=True)
        ack()

    @app.action(ids.IMPACT_KEEP)
    def impact_start_kept(ack: Ack, body: dict, action: dict) -> None:
        _answer(deps, body, action, confirmed=False)
        ack()


def _answer(deps: Deps, body: dict, action: dict, *, confirmed: bool) -> None:
    user_id = (body.get("user") or {}).get("id")
    container = body.get("container") or {}
    channel_id, message_ts = container.get("channel_id"), container.get("message_ts")
    if not user_id or not channel_id or not message_ts:
        return
    try:
        entry_id = int(action.get("value", ""))
    except ValueError:
        return
    zone = deps.settings.timezone
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=channel_id)
        if confirmed:
            services.confirm_impact_start_from(
                uow=uow,
                incident=incident,
                entry_id=entry_id,
                confirmed_by=user_id,
                policy=deps.settings.policy,
            )
            outcome = (
                f":white_check_mark: <@{user_id}> set the impact start to "
                f"{format_moment(incident.impact_started_at, zone)}."
            )
        else:
            outcome = (
                f"<@{user_id}> kept the impact start at "
                f"{format_moment(incident.impact_started_at, zone)}."
            )
        uow.enqueue(
            jobs.SETTLE_PROMPT,
            incident=incident,
            channel_id=channel_id,
            ts=message_ts,
            text=outcome,
        )
        uow.commit()
