"""The app's Home tab: the open incidents one person may see, and a button to declare one.

A pure builder, like ``blocks``: the job that publishes the tab reads the incidents and signs
the viewer's links, this turns them into the view.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from incidentbot.domain.metrics import humanize
from incidentbot.domain.models import Incident
from incidentbot.domain.text import clip, safe_for_slack
from incidentbot.domain.timeparse import format_moment
from incidentbot.slack import ids
from incidentbot.slack.blocks import (
    AFTER_THE_FACT_EMOJI,
    SEVERITY_EMOJI,
    impact_window,
    incident_label,
)

# A Home tab holds at most 100 blocks; past this many incidents the web pages list the rest.
MAX_SHOWN = 40
MAX_TITLE_SHOWN = 200


def home_view(
    incidents: Sequence[Incident], *, now: datetime, zone: str, base_url: str, token: str
) -> dict:
    """The Home tab for one viewer: ``incidents`` as ``open_incidents`` orders them (most
    severe first), each linking its channel and its web page; ``token`` is the viewer's own
    page token (``links.issue_token``), so the links open the pages they may see."""
    index_url = f"{base_url}/?token={token}"
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Open incidents"}},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": ids.HOME_DECLARE,
                    "text": {"type": "plain_text", "text": "Declare incident"},
                    "style": "primary",
                }
            ],
        },
        {"type": "divider"},
    ]
    if not incidents:
        blocks.append(
            _section(
                ":white_check_mark: *No open incidents.* If something is wrong, declare one "
                "with the button above or `/incident declare <title>` in any channel: you get "
                "a channel for it and lead it until you hand over."
            )
        )
    for incident in incidents[:MAX_SHOWN]:
        blocks.append(
            _section(
                incident_line(
                    incident, now=now, page_url=_page(base_url, incident, token), zone=zone
                )
            )
        )
    if len(incidents) > MAX_SHOWN:
        more = len(incidents) - MAX_SHOWN
        blocks.append(_context(f"…and {more} more: <{index_url}|see every incident on the web>."))
    blocks.append(
        _context(
            f"Updated {format_moment(now, zone)}; this tab is refreshed each time you open it. "
            f"<{index_url}|All incidents on the web> (links valid 24 hours) · "
            "`/incident help` lists the commands."
        )
    )
    return {"type": "home", "blocks": blocks}


def incident_line(incident: Incident, *, now: datetime, page_url: str, zone: str = "UTC") -> str:
    """``:red_circle: *INC-12* Checkout down`` over ``SEV1 · identified · lead … · open 2 h 5 min
    · #channel``; one recorded after the fact shows that and its impact window instead of how
    long it has been open."""
    title = clip(safe_for_slack(incident.title), MAX_TITLE_SHOWN)
    lead = incident.holder("lead")
    where = f"<#{incident.channel_id}>" if incident.channel_id else "channel being created"
    private = " :lock: private" if incident.private else ""
    facts = " · ".join(
        [
            incident.severity,
            incident.status,
            f"lead {f'<@{lead}>' if lead else 'nobody yet'}",
            f"{AFTER_THE_FACT_EMOJI} recorded after the fact, impact "
            f"{impact_window(incident, zone=zone)}"
            if incident.after_the_fact
            else f"open {humanize(now - incident.declared_at)}",
            where,
        ]
    )
    return (
        f"{SEVERITY_EMOJI[incident.severity]} *<{page_url}|{incident_label(incident)}>* "
        f"{title}{private}\n{facts}"
    )


def _page(base_url: str, incident: Incident, token: str) -> str:
    return f"{base_url}/incidents/{incident.number}?token={token}"


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}
