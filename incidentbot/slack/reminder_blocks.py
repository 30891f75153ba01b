"""Block Kit for reminders, built by pure functions from plain values (see ``slack/blocks.py``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from incidentbot.domain.metrics import humanize
from incidentbot.domain.models import Incident
from incidentbot.domain.text import clip, safe_for_slack
from incidentbot.domain.timeparse import format_moment
from incidentbot.slack import ids

# What each snooze button puts the next update reminder off by.
SNOOZES = {
    ids.REMINDER_SNOOZE_SHORT: timedelta(minutes=15),
    ids.REMINDER_SNOOZE_LONG: timedelta(hours=1),
}


def _title(incident: Incident) -> str:
    return clip(safe_for_slack(incident.title), 200)


def _where(incident: Incident) -> str:
    return f"<#{incident.channel_id}>" if incident.channel_id else "its channel"


def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def update_nudge(
    incident: Incident,
    *,
    reminder_id: int,
    quiet: timedelta,
    interval: timedelta,
    page_url: str,
    command: str,
) -> tuple[str, list[dict]]:
    """The DM to the lead when stakeholders have heard nothing for the severity's interval."""
    text = (
        f":loudspeaker: *INC-{incident.number}* ({incident.severity}) {_title(incident)}: no "
        f"stakeholder update for {humanize(quiet)}. {incident.severity} incidents get one every "
        f"{humanize(interval)}."
    )
    how = (
        f"Post one in {_where(incident)} with `{command} update <where things stand, what's "
        f"next>`. Without one I'll remind you again in {humanize(interval)}."
    )
    buttons = [
        {
            "type": "button",
            "action_id": action_id,
            "text": {"type": "plain_text", "text": f"Snooze {humanize(delay)}"},
            "value": str(reminder_id),
        }
        for action_id, delay in SNOOZES.items()
    ]
    return text, [
        _section(f"{text}\n{how}"),
        _context(f"<{page_url}|Open INC-{incident.number}'s page>"),
        {"type": "actions", "elements": buttons},
    ]


def snoozed(
    incident: Incident, *, snoozed_by: str, until: datetime, zone: str, command: str
) -> str:
    """What an update reminder says once snoozed, in place of its buttons."""
    # Slack shows <!date^…> in each reader's own time zone; the fallback names the bot's.
    moment = f"<!date^{int(until.timestamp())}^{{time}}|{format_moment(until, zone)}>"
    return (
        f":zzz: <@{snoozed_by}> snoozed the update reminder for *INC-{incident.number}* "
        f"({incident.severity}) {_title(incident)} until {moment}. An update "
        f"(`{command} update …` in {_where(incident)}) starts the count over."
    )


def lead_nudge(incident: Incident, *, waited: timedelta, command: str) -> tuple[str, list[dict]]:
    """Posted in the incident channel when nobody has taken the lead."""
    text = (
        f":bust_in_silhouette: Nobody is leading *INC-{incident.number}* yet, "
        f"{humanize(waited)} after it was declared. Whoever takes it on: `{command} lead @you`. "
        "The lead coordinates the response and keeps stakeholders updated."
    )
    return text, [_section(text)]


def postmortem_nudge(
    incident: Incident,
    *,
    due: date,
    today: date,
    closed: date,
    business_days: int,
    status: str,
    as_lead: bool,
    page_url: str,
    command: str,
) -> tuple[str, list[dict]]:
    """The DM to the postmortem's owner (or the lead) from its due day until it is final."""
    when = "is due today" if today <= due else f"was due on {_day(due)}"
    text = (
        f":memo: The postmortem of *INC-{incident.number}* ({incident.severity}) "
        f"{_title(incident)} {when}, {business_days} business days after the incident closed "
        f"on {_day(closed)}. It is still *{status}*."
    )
    how = (
        f"Once it has been reviewed, mark it final in {_where(incident)} with `{command} "
        "postmortem status final`; until then I'll remind you each business day."
    )
    if as_lead:
        how += (
            f"\nIt has no owner, so this comes to you as the lead: `{command} postmortem owner "
            "@person` hands it on."
        )
    return text, [
        _section(f"{text}\n{how}"),
        _context(f"<{page_url}|Open the postmortem>"),
    ]


def action_item_nudge(
    incident: Incident,
    *,
    number: int,
    item_text: str,
    due: date,
    today: date,
    as_lead: bool,
    command: str,
) -> tuple[str, list[dict]]:
    """The DM to an action item's owner (or the lead) on its due date."""
    when = f"is due today ({_day(due)})" if today <= due else f"was due on {_day(due)}"
    item = clip(safe_for_slack(item_text), 500)
    text = (
        f":white_check_mark: Action item {number} of *INC-{incident.number}* "
        f"{_title(incident)} {when}: {item}"
    )
    how = f"Done? `{command} action {number} done` in {_where(incident)} marks it."
    if as_lead:
        how += "\nIt has no owner, so this comes to you as the lead."
    return text, [_section(f"{text}\n{how}")]
