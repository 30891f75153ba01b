"""The snooze buttons of a stakeholder-update reminder, in the lead's DM."""

from __future__ import annotations

from slack_bolt import Ack, App

from incidentbot.infra import jobs
from incidentbot.services import reminders
from incidentbot.slack import ids, reminder_blocks
from incidentbot.slack.deps import Deps


def register(app: App, deps: Deps) -> None:
    @app.action(ids.REMINDER_SNOOZE_SHORT)
    def snooze_short(ack: Ack, body: dict, action: dict) -> None:
        _snooze(deps, body, action)
        ack()

    @app.action(ids.REMINDER_SNOOZE_LONG)
    def snooze_long(ack: Ack, body: dict, action: dict) -> None:
        _snooze(deps, body, action)
        ack()


def _snooze(deps: Deps, body: dict, action: dict) -> None:
    """Put the reminder off and replace the buttons with what was chosen, so nobody presses
    them twice. A refusal (the incident is resolved, the presser no longer leads it) is told
    privately by the app's error handler and changes nothing."""
    user_id = (body.get("user") or {}).get("id")
    container = body.get("container") or {}
    channel_id, message_ts = container.get("channel_id"), container.get("message_ts")
    delay = reminder_blocks.SNOOZES.get(action.get("action_id", ""))
    if not user_id or not channel_id or not message_ts or delay is None:
        return
    try:
        reminder_id = int(action.get("value", ""))
    except ValueError:
        return
    with deps.uow_factory() as uow:
        snoozed = reminders.snooze_reminder(
            uow=uow, reminder_id=reminder_id, snoozed_by=user_id, delay=delay
        )
        outcome = reminder_blocks.snoozed(
            snoozed.incident,
            snoozed_by=user_id,
            until=snoozed.until,
            zone=deps.settings.timezone,
            command=deps.settings.command,
        )
        # A DM, not the incident's channel: it waits behind none of the incident's work.
        uow.enqueue(jobs.SETTLE_PROMPT, channel_id=channel_id, ts=message_ts, text=outcome)
        uow.commit()
