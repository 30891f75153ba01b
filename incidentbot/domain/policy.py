"""Who may do what to an incident.

By default anyone in an incident's channel may add notes and change severity or status, while
closing, reopening and handing out roles are for the incident's current role holders and
incidentbot's admins. Both lists are settings (``INCIDENTBOT_ADMINS``,
``INCIDENTBOT_RESTRICTED_ACTIONS``). In an incident nobody holds a role in yet (one an alert
declared), anyone may hand out the first role, such as taking the lead. A timeline entry may
be corrected (edited or deleted) by whoever wrote it (or wrote the captured message), the role
holders and the admins.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from incidentbot.domain.errors import IncidentError

if TYPE_CHECKING:  # at run time only the settings need this module, and they load first
    from incidentbot.domain.models import Incident


class Action(enum.StrEnum):
    NOTES = "notes"  # notes, summary, impact, updates, action items
    SEVERITY = "severity"
    STATUS = "status"  # includes resolve and the impact start
    ROLES = "roles"
    CLOSE = "close"
    REOPEN = "reopen"


DEFAULT_RESTRICTED = frozenset({Action.CLOSE, Action.REOPEN, Action.ROLES})

_VERBS = {
    Action.NOTES: "add to the timeline of",
    Action.SEVERITY: "change the severity of",
    Action.STATUS: "change the status of",
    Action.ROLES: "hand out roles in",
    Action.CLOSE: "close",
    Action.REOPEN: "reopen",
}


class NotAllowed(IncidentError):
    """Someone tried what the policy keeps for role holders and admins."""


@dataclass(frozen=True)
class Policy:
    admins: frozenset[str] = field(default_factory=frozenset)
    restricted: frozenset[Action] = DEFAULT_RESTRICTED

    def allows(self, incident: Incident, user_id: str, action: Action) -> bool:
        if action not in self.restricted or user_id in self.admins:
            return True
        holders = incident.current_roles().values()
        if action == Action.ROLES and not holders:
            # Nobody holds a role yet (an alert declared it): the first responder may take
            # the lead, or nobody but an admin ever could.
            return True
        return user_id in holders

    def may_correct(self, incident: Incident, user_id: str, *, authors: set[str]) -> bool:
        """Whether ``user_id`` may edit or delete an entry written by ``authors``."""
        return (
            user_id in authors
            or user_id in self.admins
            or user_id in incident.current_roles().values()
        )

    def check_correction(self, incident: Incident, user_id: str, *, authors: set[str]) -> None:
        if self.may_correct(incident, user_id, authors=authors):
            return
        holders = ", ".join(
            f"{role} <@{holder}>" for role, holder in sorted(incident.current_roles().items())
        )
        raise NotAllowed(
            "Only the entry's author, INC-"
            f"{incident.number}'s role holders ({holders or 'none yet'}) or an incidentbot "
            "admin can correct it. Ask one of them, or add a note that says what is wrong."
        )

    def check(self, incident: Incident, user_id: str, action: Action) -> None:
        """Raise ``NotAllowed`` with a message that says who can do it instead."""
        if self.allows(incident, user_id, action):
            return
        holders = ", ".join(
            f"{role} <@{holder}>" for role, holder in sorted(incident.current_roles().items())
        )
        raise NotAllowed(
            f"Only INC-{incident.number}'s role holders ({holders or 'none yet'}) or an "
            f"incidentbot admin can {_VERBS[action]} it. Ask one of them, or ask them to hand "
            "you a role."
        )


DEFAULT_POLICY = Policy()
