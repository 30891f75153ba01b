"""The declare form: submitted once or twice, it declares one incident."""

from __future__ import annotations

import json

from slack_bolt import Ack, App

from incidentbot import jobs, services
from incidentbot.errors import IncidentError
from incidentbot.models import Severity
from incidentbot.services.incidents import clean_title
from incidentbot.slack import blocks, ids
from incidentbot.slack.deps import Deps
from incidentbot.text import printable


def read_form(view: dict) -> dict:
    """The form's values as plain Python, from Slack's ``view.state.values``."""
    values = view.get("state", {}).get("values", {})

    def element(block: str, action: str) -> dict:
        return values.get(block, {}).get(action, {}) or {}

    severity = (element(ids.SEVERITY_BLOCK, ids.SEVERITY_INPUT).get("selected_option") or {}).get(
        "value"
    )
    checked = element(ids.PRIVATE_BLOCK, ids.PRIVATE_INPUT).get("selected_options") or []
    summary = element(ids.SUMMARY_BLOCK, ids.SUMMARY_INPUT).get("value")
    return {
        "title": printable(element(ids.TITLE_BLOCK, ids.TITLE_INPUT).get("value") or ""),
        "severity": severity or "SEV3",
        "summary": printable(summary) if isinstance(summary, str) else None,
        "lead": element(ids.LEAD_BLOCK, ids.LEAD_INPUT).get("selected_user"),
        "private": any(option.get("value") == "private" for option in checked),
    }


def register(app: App, deps: Deps) -> None:
    @app.view(ids.DECLARE_VIEW)
    def declare_submitted(ack: Ack, body: dict, view: dict) -> None:
        form = read_form(view)
        user_id = (body.get("user") or {}).get("id")
        if not user_id or not view.get("id"):
            ack()
            return
        try:
            clean_title(form["title"])
            severity = Severity(form["severity"])
        except (IncidentError, ValueError) as error:
            message = error.message if isinstance(error, IncidentError) else "Pick a severity."
            ack(response_action="errors", errors={ids.TITLE_BLOCK: message[:150]})
            return
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            metadata = {}
        if not isinstance(metadata, dict):
            metadata = {}
        # Opened from the Home tab there is no channel to reply in privately: the form shows
        # what happened instead, and the Home tab is published again once the channel is open.
        from_home = metadata.get("from_home") is True
        lead = form["lead"] or user_id
        with deps.uow_factory() as uow:
            incident = services.declare_incident(
                uow=uow,
                title=form["title"],
                declared_by=user_id,
                severity=severity,
                summary=form["summary"],
                private=form["private"],
                lead=lead,
                request_key=f"view:{view['id']}",
                reply_to=metadata.get("reply_to"),
            )
            if from_home:
                # Queued with the incident, so it runs once its channel has been opened.
                uow.enqueue(jobs.PUBLISH_HOME, incident=incident, user_id=user_id)
                confirmation = blocks.declared_from_home(incident)
            uow.commit()
        if from_home:
            ack(response_action="update", view=confirmation)
        else:
            ack()
