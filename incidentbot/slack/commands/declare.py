"""Starting an incident: ``declare`` (now, or the declare form when no title is given) and
``record`` (one that is already over, or the form with its "already over" times); ``declare at
<time>`` is refused with :data:`RECORD_INSTEAD`, which says how to record or backdate instead.
"""

from __future__ import annotations

from incidentbot import services
from incidentbot.domain.errors import IncidentError
from incidentbot.domain.text import safe_for_slack
from incidentbot.domain.timeparse import format_moment
from incidentbot.slack import blocks
from incidentbot.slack.commands.invocation import Invocation, Reply, at_moment
from incidentbot.slack.deps import Deps

RECORD_INSTEAD = (
    "An incident is declared now. To record one that already happened, use "
    "`/incident record <title>; started <time>; detected <time>; mitigated <time>; "
    "resolved <time>` (detected and mitigated are optional), or `/incident declare` and fill in "
    "the form's “already over” times. For one still going on that began earlier, declare it "
    "and then `/incident started at <time>`."
)


def _open_declare_form(invocation: Invocation, deps: Deps, *, after_the_fact: bool) -> Reply:
    zone = deps.directory.zone_of(invocation.user_id)
    return Reply(
        text=None,
        then=lambda: deps.interactive_client.views_open(
            trigger_id=invocation.trigger_id,
            view=blocks.declare_modal(
                declared_by=invocation.user_id,
                private_metadata={"reply_to": invocation.response_url},
                after_the_fact=after_the_fact,
                zone=zone,
            ),
        ),
    )


def declare(invocation: Invocation, deps: Deps) -> Reply:
    if at_moment(invocation.args) is not None:
        raise IncidentError(RECORD_INSTEAD)
    if not invocation.args:
        return _open_declare_form(invocation, deps, after_the_fact=False)
    with deps.uow_factory() as uow:
        waiting = services.retry_unopened(
            uow=uow, title=invocation.args, declared_by=invocation.user_id
        )
        if waiting is not None:
            uow.commit()
            return Reply(
                f"INC-{waiting.number} is already declared; I'm trying to open its channel "
                "again now and will tell you here when it's ready."
            )
        incident = services.declare_incident(
            uow=uow,
            title=invocation.args,
            declared_by=invocation.user_id,
            reply_to=invocation.response_url,
        )
        uow.commit()
        return Reply(
            f":rotating_light: Declaring *INC-{incident.number}* ({incident.severity}): "
            f"{safe_for_slack(incident.title)}. You are the lead. I'm opening its "
            "channel and will tell you here when it's ready."
        )


def record(invocation: Invocation, deps: Deps) -> Reply:
    """``record <title>; started <time>; …; resolved <time>``: an incident that is over."""
    if not invocation.args:
        return _open_declare_form(invocation, deps, after_the_fact=True)
    zone = deps.directory.zone_of(invocation.user_id)
    past = services.parse_past_incident(invocation.args, now=deps.clock(), zone=zone)
    with deps.uow_factory() as uow:
        incident = services.record_past_incident(
            uow=uow,
            past=past,
            recorded_by=invocation.user_id,
            zone=zone,
            reply_to=invocation.response_url,
        )
        uow.commit()
        return Reply(
            f":memo: Recording *INC-{incident.number}* after the fact: "
            f"{safe_for_slack(incident.title)} (impact {format_moment(past.started, zone)} to "
            f"{format_moment(past.mitigated or past.resolved, zone)}). I'm opening its channel "
            "for the notes; nobody is paged. `/incident close` there generates the postmortem."
        )
