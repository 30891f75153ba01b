"""The postmortem document: ``postmortem`` generates a version, and ``postmortem template
<name>``, ``postmortem status <draft|review|final>`` and ``postmortem owner @person`` shape it.
"""

from __future__ import annotations

from incidentbot import services
from incidentbot.domain.errors import IncidentError
from incidentbot.slack.commands.invocation import Invocation, Reply, one_person
from incidentbot.slack.deps import Deps


def postmortem(invocation: Invocation, deps: Deps) -> Reply:
    """``postmortem`` generates a version; ``postmortem template <name>`` and
    ``postmortem status <draft|review|final>`` shape the document."""
    action, _, rest = invocation.args.partition(" ")
    action = action.lower()
    if action in ("template", "templates"):
        return _postmortem_template(invocation, deps, rest.strip())
    if action == "status":
        return _postmortem_status(invocation, deps, rest.strip())
    if action == "owner":
        return _postmortem_owner(invocation, deps, rest.strip())
    if action:
        raise IncidentError(
            "Use `/incident postmortem` to generate it, `/incident postmortem template <name>` "
            "to choose its template, `/incident postmortem status <draft|review|final>`, or "
            "`/incident postmortem owner @person` to say who sees it through."
        )
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        services.request_postmortem(
            uow=uow,
            incident=incident,
            requested_by=invocation.user_id,
            trigger="command",
            reply_to=invocation.response_url,
        )
        uow.commit()
        return Reply(
            f"Generating the INC-{incident.number} postmortem; it will be posted in this channel "
            "in a moment."
        )


def _postmortem_template(invocation: Invocation, deps: Deps, name: str) -> Reply:
    available = deps.renderer.available_templates()
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        current = services.template_for(
            incident, severity_templates=deps.settings.severity_templates, available=available
        )
        if not name:
            return Reply(
                f"INC-{incident.number}'s postmortem uses the *{current}* template. "
                f"Templates: {', '.join(sorted(available))}. Choose one with "
                "`/incident postmortem template <name>`."
            )
        services.choose_template(
            uow=uow,
            incident=incident,
            name=name,
            available=available,
            chosen_by=invocation.user_id,
            policy=deps.settings.policy,
        )
        uow.commit()
        return Reply(
            f"INC-{incident.number}'s postmortem will use the *{incident.postmortem_template}* "
            "template. `/incident postmortem` generates a new version with it."
        )


def _postmortem_status(invocation: Invocation, deps: Deps, status: str) -> Reply:
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        chosen = services.set_document_status(
            uow=uow,
            incident=incident,
            status=status,
            set_by=invocation.user_id,
            policy=deps.settings.policy,
        )
        uow.commit()
        return Reply(
            f"INC-{incident.number}'s postmortem is now marked {chosen}; the next version "
            "generated shows it."
        )


def _postmortem_owner(invocation: Invocation, deps: Deps, rest: str) -> Reply:
    """``postmortem owner @person``: who sees the postmortem through to final, and so gets
    its reminders (the lead does when nobody owns it)."""
    user_id = one_person(
        deps,
        rest,
        usage="`/incident postmortem owner @person`.",
        not_an_app="a postmortem needs a person to own it.",
    )
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        services.set_postmortem_owner(
            uow=uow,
            incident=incident,
            owner_id=user_id,
            set_by=invocation.user_id,
            policy=deps.settings.policy,
        )
        uow.commit()
        return Reply(
            f"<@{user_id}> owns INC-{incident.number}'s postmortem: its reminders go to them "
            "until it is marked final."
        )
