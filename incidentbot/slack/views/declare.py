"""The declare form: submitted once or twice, it declares one incident.

With its "Already over?" times it records an incident after the fact (Resolved filled in), or
declares one that began earlier (only the impact start, detection or mitigation). A time that
cannot be read, lies ahead or comes in the wrong order is refused beside its field, and then
nothing is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slack_bolt import Ack, App

from incidentbot import services
from incidentbot.domain.errors import IncidentError
from incidentbot.domain.milestones import ORDER
from incidentbot.domain.models import EntryKind, Incident, Severity
from incidentbot.domain.policy import Policy
from incidentbot.domain.text import printable
from incidentbot.infra import jobs
from incidentbot.infra.uow import UnitOfWork
from incidentbot.services.incidents import clean_title
from incidentbot.slack import blocks, ids
from incidentbot.slack.deps import Deps
from incidentbot.slack.payloads import private_metadata
from incidentbot.slack.views.times import read_time

# The form's times and the milestones they set.
MILESTONE_OF = {
    "started": "impact_started_at",
    "detected": "detected_at",
    "mitigated": "mitigated_at",
    "resolved": "resolved_at",
}
# Set on an incident declared now that began earlier, in this order (each after the last).
LIVE_MILESTONES = {
    "started": EntryKind.IMPACT_START,
    "detected": EntryKind.DETECTED,
    "mitigated": EntryKind.MITIGATED,
}


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
    times = {}
    for name, (block, action) in ids.PAST_TIMES.items():
        typed = element(block, action).get("value")
        times[name] = (printable(typed).strip() or None) if isinstance(typed, str) else None
    return {
        "title": printable(element(ids.TITLE_BLOCK, ids.TITLE_INPUT).get("value") or ""),
        "severity": severity or "SEV3",
        "summary": printable(summary) if isinstance(summary, str) else None,
        "lead": element(ids.LEAD_BLOCK, ids.LEAD_INPUT).get("selected_user"),
        "private": any(option.get("value") == "private" for option in checked),
        "times": times,
    }


def read_times(
    times: dict[str, str | None], *, now: datetime, zone: str
) -> tuple[dict[str, datetime], dict[str, str]]:
    """The moments typed, by field, and every refusal, by block (all of them at once)."""
    moments: dict[str, datetime] = {}
    refused: dict[str, str] = {}
    for name, text in times.items():
        if not text:
            continue
        try:
            moments[name] = read_time(text, now=now, zone=zone).at
        except IncidentError as error:
            refused[ids.PAST_TIMES[name][0]] = error.message
    return moments, refused


def missing_times(moments: dict[str, datetime], *, after_the_fact: bool) -> dict[str, str]:
    """Times the others need: recording after the fact needs the resolution, and any of
    detection, mitigation or resolution needs the impact start they are measured from."""
    refused = {}
    if after_the_fact and "resolved" not in moments:
        refused[ids.PAST_RESOLVED_BLOCK] = (
            "Say when it was resolved: recording after the fact is for incidents that are over."
        )
    if moments and "started" not in moments:
        refused[ids.PAST_STARTED_BLOCK] = (
            "Say when the impact started too: detection, mitigation and resolution are measured "
            "from it."
        )
    return refused


def misordered(moments: dict[str, datetime]) -> str | None:
    """The later field of the first two times given the wrong way round, if any: where an
    order refusal belongs."""
    field_of = {MILESTONE_OF[name]: name for name in moments}
    for earlier, later in ORDER:
        first, second = field_of.get(earlier), field_of.get(later)
        if first and second and moments[first] > moments[second]:
            return second
    return None


class Refused(Exception):
    """The form's refusals, by the block (field) each is about: shown beside them."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = {block: blocks.field_error(message) for block, message in errors.items()}


@dataclass(frozen=True)
class Submission:
    """A declare form that passed its own checks: what to declare or record."""

    title: str
    severity: Severity
    summary: str | None
    private: bool
    lead: str
    moments: dict[str, datetime]
    zone: str
    request_key: str
    reply_to: str | None


def declare_submitted_incident(
    uow: UnitOfWork, submission: Submission, *, user_id: str, first: bool, policy: Policy
) -> Incident:
    """Record the incident after the fact when it has a resolution; else declare it now, at
    the impact start, detection and mitigation given. ``first``: not a repeated submission,
    whose incident already has them. Raises ``Refused`` naming the field a refusal is about."""
    moments = submission.moments
    field = ids.TITLE_BLOCK
    try:
        if "resolved" in moments:
            field = ids.PAST_TIMES[misordered(moments) or "resolved"][0]
            incident = services.record_past_incident(
                uow=uow,
                past=services.PastIncident(
                    title=submission.title,
                    severity=submission.severity,
                    started=moments["started"],
                    detected=moments.get("detected"),
                    mitigated=moments.get("mitigated"),
                    resolved=moments["resolved"],
                ),
                recorded_by=user_id,
                zone=submission.zone,
                summary=submission.summary,
                private=submission.private,
                request_key=submission.request_key,
                reply_to=submission.reply_to,
                lead=submission.lead,
            )
            return incident
        incident = services.declare_incident(
            uow=uow,
            title=submission.title,
            declared_by=user_id,
            severity=submission.severity,
            summary=submission.summary,
            private=submission.private,
            lead=submission.lead,
            request_key=submission.request_key,
            reply_to=submission.reply_to,
        )
        for name, kind in LIVE_MILESTONES.items():
            if first and name in moments:
                field = ids.PAST_TIMES[name][0]
                services.set_milestone(
                    uow=uow,
                    incident=incident,
                    kind=kind,
                    moment=moments[name],
                    set_by=user_id,
                    zone=submission.zone,
                    source="form",
                    policy=policy,
                )
        return incident
    except IncidentError as error:
        raise Refused({field: error.message}) from None


def register(app: App, deps: Deps) -> None:
    @app.view(ids.DECLARE_VIEW)
    def declare_submitted(ack: Ack, body: dict, view: dict) -> None:
        form = read_form(view)
        user_id = (body.get("user") or {}).get("id")
        if not user_id or not view.get("id"):
            ack()
            return
        metadata = _metadata(view)
        try:
            submission = _submission(deps, form, metadata, user_id=user_id, view_id=view["id"])
        except Refused as refused:
            ack(response_action="errors", errors=refused.errors)
            return
        # Opened from the Home tab there is no channel to reply in privately: the form shows
        # what happened instead, and the Home tab is published again once the channel is open.
        from_home = metadata.get("from_home") is True
        with deps.uow_factory() as uow:
            # A repeated submission finds its incident by request_key; this says whether the
            # milestones and the lead are still to be set.
            first = services.claim_event(uow=uow, event_id=submission.request_key)
            try:
                incident = declare_submitted_incident(
                    uow, submission, user_id=user_id, first=first, policy=deps.settings.policy
                )
            except Refused as refused:
                ack(response_action="errors", errors=refused.errors)
                return
            if from_home:
                # Queued with the incident, so it runs once its channel has been opened.
                uow.enqueue(jobs.PUBLISH_HOME, incident=incident, user_id=user_id)
                confirmation = blocks.declared_from_home(incident)
            uow.commit()
        if from_home:
            ack(response_action="update", view=confirmation)
        else:
            ack()


def _metadata(view: dict) -> dict:
    return private_metadata(view) or {}


def _submission(
    deps: Deps, form: dict, metadata: dict, *, user_id: str, view_id: str
) -> Submission:
    """The form read and checked on its own: title, severity and every time typed (in the
    person's zone, looked up only when a time is given)."""
    try:
        title = clean_title(form["title"])
        severity = Severity(form["severity"])
    except (IncidentError, ValueError) as error:
        message = error.message if isinstance(error, IncidentError) else "Pick a severity."
        raise Refused({ids.TITLE_BLOCK: message}) from None
    after_the_fact = metadata.get("after_the_fact") is True
    zone = deps.settings.timezone
    moments: dict[str, datetime] = {}
    if after_the_fact or any(form["times"].values()):
        try:
            zone = deps.directory.zone_of(user_id)
        except IncidentError as error:
            raise Refused({ids.PAST_STARTED_BLOCK: error.message}) from None
        moments, refused = read_times(form["times"], now=deps.clock(), zone=zone)
        refused = refused or missing_times(
            moments, after_the_fact=after_the_fact or "resolved" in moments
        )
        if refused:
            raise Refused(refused)
    reply_to = metadata.get("reply_to")
    return Submission(
        title=title,
        severity=severity,
        summary=form["summary"],
        private=form["private"],
        lead=form["lead"] or user_id,
        moments=moments,
        zone=zone,
        request_key=f"view:{view_id}",
        reply_to=reply_to if isinstance(reply_to, str) else None,
    )
