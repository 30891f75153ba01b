"""What a due reminder shows in Slack: the job that sends its nudge.

Stakeholder-update, postmortem and action item nudges are direct messages from the bot
(``conversations.open`` + ``chat.postMessage``): an on-call lead is often looking elsewhere, and
a DM notifies them on every device and stays until read, where an ephemeral message in the
channel is seen only by someone looking at that channel then, and cannot be updated with
``chat.update`` once snoozed. The missing-lead nudge is for everyone in the incident channel.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from incidentbot.domain.models import ReminderKind
from incidentbot.infra import jobs
from incidentbot.infra.config import Settings
from incidentbot.infra.jobs import Handler, QueuedJob
from incidentbot.slack import reminder_blocks
from incidentbot.slack.effects import Effects, slack_call, unless_gone

log = logging.getLogger(__name__)


def _number(payload: Mapping[str, object], key: str) -> int:
    return int(str(payload[key]))


# Someone who cannot get a DM (gone, deactivated, an app): retrying would not change that.
UNREACHABLE = {"user_not_found", "user_disabled", "account_inactive", "cannot_dm_bot"}


class Nudges:
    """Job handlers for reminders, beside ``Effects`` (whose posting it reuses)."""

    def __init__(self, *, effects: Effects, client: WebClient, settings: Settings) -> None:
        self._effects = effects
        self._client = client
        self._settings = settings

    def handlers(self) -> dict[str, Handler]:
        return {jobs.SEND_REMINDER: self._effects.ending_on_refusal(self.send_reminder)}

    def send_reminder(self, job: QueuedJob) -> None:
        payload = job.payload
        kind = ReminderKind(str(payload["reminder"]))
        incident = self._effects._incident(_number(payload, "incident_id"))
        command = self._settings.command
        if kind == ReminderKind.LEAD:
            if incident.channel_id is None:
                return  # its channel was never opened: there is nowhere to say it
            text, message = reminder_blocks.lead_nudge(
                incident, waited=timedelta(minutes=_number(payload, "minutes")), command=command
            )
            with unless_gone("pointing out a missing lead"):
                self._effects._post(job, "reminder", incident.channel_id, text=text, blocks=message)
            return
        if kind == ReminderKind.UPDATE:
            text, message = reminder_blocks.update_nudge(
                incident,
                reminder_id=_number(payload, "reminder_id"),
                quiet=timedelta(minutes=_number(payload, "quiet_minutes")),
                interval=timedelta(minutes=_number(payload, "interval_minutes")),
                page_url=self._effects._page_url(incident),
                command=command,
            )
        elif kind == ReminderKind.POSTMORTEM:
            text, message = reminder_blocks.postmortem_nudge(
                incident,
                due=date.fromisoformat(str(payload["due"])),
                today=date.fromisoformat(str(payload["today"])),
                closed=date.fromisoformat(str(payload["closed"])),
                business_days=_number(payload, "business_days"),
                status=str(payload["status"]),
                as_lead=bool(payload["as_lead"]),
                page_url=self._effects._page_url(incident, "/postmortem"),
                command=command,
            )
        else:
            text, message = reminder_blocks.action_item_nudge(
                incident,
                number=_number(payload, "item_number"),
                item_text=str(payload["item_text"]),
                due=date.fromisoformat(str(payload["due"])),
                today=date.fromisoformat(str(payload["today"])),
                as_lead=bool(payload["as_lead"]),
                command=command,
            )
        self._direct_message(job, str(payload["user_id"]), text=text, blocks=message)

    def _direct_message(self, job: QueuedJob, user_id: str, **message: object) -> None:
        try:
            with slack_call(self._settings.slack_timeout):
                channel_id = self._client.conversations_open(users=user_id)["channel"]["id"]
        except SlackApiError as error:
            if error.response.get("error") not in UNREACHABLE:
                raise
            log.warning("reminder not sent: Slack said %s", error.response.get("error"))
            return
        self._effects._post(job, "reminder", channel_id, unfurl_links=False, **message)
