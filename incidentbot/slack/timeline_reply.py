"""``/incident timeline``: the entries people can correct, with their numbers, privately."""

from __future__ import annotations

from incidentbot.domain.models import Incident
from incidentbot.domain.text import clip, safe_for_slack
from incidentbot.domain.timeparse import MomentFormatter
from incidentbot.services.record import TimelinePage

# Slack shows at most 40,000 characters of a message's text; a page of 20 stays far below.
ENTRY_CHARACTERS = 200


def timeline_reply(incident: Incident, page: TimelinePage, *, zone: str) -> str:
    """One line an entry, in the order things happened, each with the number that
    ``edit``/``delete`` take; what people typed cannot ping anyone."""
    shown = MomentFormatter(zone)
    lines = [
        f"*INC-{incident.number} timeline* (page {page.page} of {page.pages}, "
        f"{page.total} entr{'y' if page.total == 1 else 'ies'}; times in {zone})"
    ]
    for entry in page.entries:
        author = f"<@{entry.author_id}>" if entry.author_id else "incidentbot"
        text = safe_for_slack(clip(" ".join(entry.text.split()), ENTRY_CHARACTERS))
        late = ""
        if (entry.recorded_at - entry.occurred_at).total_seconds() > 300:
            late = f" _(recorded {shown(entry.recorded_at)})_"
        lines.append(
            f"`#{entry.number}` {shown(entry.occurred_at)} · {entry.kind} · {author}: {text}{late}"
        )
    if not page.entries:
        lines.append("_Nothing on the timeline yet._")
    hints = []
    if page.page > 1:
        hints.append(f"`/incident timeline {page.page - 1}` for earlier entries")
    if page.page < page.pages:
        hints.append(f"`/incident timeline {page.page + 1}` for later ones")
    hints.append(
        "`/incident edit <N> <text>`, `/incident edit <N> at <time>` or "
        "`/incident delete <N> [reason]` to correct one"
    )
    if page.deleted:
        hints.append(
            f"{page.deleted} deleted entr{'y is' if page.deleted == 1 else 'ies are'} "
            "kept in the history on the incident's page"
        )
    lines.append("; ".join(hints) + ".")
    return "\n".join(lines)
