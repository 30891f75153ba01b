"""Who does what: ``lead @person`` and ``role <role> @person``, both one assignment of a
configured role to one person (apps are refused).
"""

from __future__ import annotations

from incidentbot import services
from incidentbot.domain.errors import IncidentError
from incidentbot.slack.commands.invocation import Invocation, Reply, one_person
from incidentbot.slack.deps import Deps


def lead(invocation: Invocation, deps: Deps) -> Reply:
    return _assign(invocation, deps, role="lead", rest=invocation.args)


def role(invocation: Invocation, deps: Deps) -> Reply:
    role_word, _, rest = invocation.args.partition(" ")
    if not role_word:
        raise IncidentError(
            f"Say which role and who: `/incident role comms @person`. "
            f"Roles: {', '.join(deps.settings.roles)}."
        )
    return _assign(
        invocation, deps, role=services.parse_role(role_word, roles=deps.settings.roles), rest=rest
    )


def _assign(invocation: Invocation, deps: Deps, *, role: str, rest: str) -> Reply:
    user_id = one_person(
        deps,
        rest,
        usage=f"`/incident role {role} @person`"
        + (" (or `/incident lead @person`)." if role == "lead" else "."),
        not_an_app="roles are for people.",
    )
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        services.assign_role(
            uow=uow,
            incident=incident,
            role=role,
            user_id=user_id,
            assigned_by=invocation.user_id,
            policy=deps.settings.policy,
        )
        uow.commit()
        return Reply(f"<@{user_id}> is now {role} of INC-{incident.number}.")
