"""Reading severities, statuses and roles as people type them."""

from __future__ import annotations

import re

from incidentbot.domain.errors import IncidentError
from incidentbot.domain.models import Severity, Status

SEVERITY_HELP = "Severity goes from SEV1 (most severe) to SEV4: try `sev 2` or `sev SEV2`."


def parse_severity(text: str) -> Severity:
    """``2``, ``sev2``, ``SEV2``, ``sev 2`` and ``S2`` all mean SEV2."""
    match = re.fullmatch(r"(?:sev|s)?\s*([0-9]+)", text.strip(), flags=re.IGNORECASE)
    if match and match.group(1) in {"1", "2", "3", "4"}:
        return Severity(f"SEV{match.group(1)}")
    shown = text.strip() or "nothing"
    raise IncidentError(f"“{shown[:40]}” is not a severity. {SEVERITY_HELP}")


_STATUS_WORDS = {
    "investigating": Status.INVESTIGATING,
    "identified": Status.IDENTIFIED,
    "monitoring": Status.MONITORING,
    "resolved": Status.RESOLVED,
    "resolve": Status.RESOLVED,
}


def parse_status(text: str) -> Status:
    word = text.strip().lower()
    if word in _STATUS_WORDS:
        return _STATUS_WORDS[word]
    if word == "closed":
        raise IncidentError("To close the incident, use `/incident close`.")
    shown = text.strip() or "nothing"
    raise IncidentError(
        f"“{shown[:40]}” is not a status. Use one of: investigating, identified, monitoring, "
        "resolved."
    )


def parse_role(text: str, *, roles: tuple[str, ...]) -> str:
    role = text.strip().lower()
    if role in roles:
        return role
    shown = text.strip() or "nothing"
    raise IncidentError(f"“{shown[:40]}” is not a role here. Roles: {', '.join(roles)}.")
