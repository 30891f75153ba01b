"""Follow-up work: ``action <text> [@owner] [due <date>]`` files an action item, and
``action <N> done|open|type <type>|link <url>|due <date>`` updates item N.
"""

from __future__ import annotations

import re

from incidentbot import services
from incidentbot.domain.text import parse_user_mentions
from incidentbot.slack.commands.invocation import Invocation, Reply
from incidentbot.slack.deps import Deps

# The last " due <date>" is the due date, so "Review due process due friday" keeps its words.
_DUE = re.compile(r"^(?P<text>.*)\s+due\s+(?P<due>.+)$", flags=re.IGNORECASE | re.DOTALL)


_ITEM_UPDATE = re.compile(
    r"(?P<number>\d+)\s+(?:(?P<done>done|open)|type\s+(?P<kind>\S+)|link\s+(?P<url>\S+)"
    r"|due\s+(?P<due>.+?))\s*$",
    flags=re.IGNORECASE,
)


def action(invocation: Invocation, deps: Deps) -> Reply:
    """``action <text> [@owner] [due <date>]`` files one; ``action <N> done|open|type <type>|
    link <url>`` updates item N."""
    update = _ITEM_UPDATE.match(invocation.args)
    if update:
        return _update_action(invocation, deps, update)
    text = invocation.args
    due_text = None
    match = _DUE.match(text)
    if match:
        due_text = match.group("due").strip()
        text = match.group("text")
    owners = parse_user_mentions(text)
    owner = owners[-1] if owners else None
    if owner is not None:
        # The owner is the last person mentioned, written at the end: "... @bob".
        text = re.sub(rf"\s*<@{re.escape(owner)}(\|[^>]*)?>\s*$", "", text)
        deps.directory.lookup(owner)
    zone = deps.directory.zone_of(invocation.user_id)
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        item = services.add_action_item(
            uow=uow,
            incident=incident,
            created_by=invocation.user_id,
            text=text,
            owner_id=owner,
            due_text=due_text,
            author_zone=zone,
            policy=deps.settings.policy,
        )
        uow.commit()
        owner_text = f", owned by <@{item.owner_id}>" if item.owner_id else ", no owner yet"
        due = f", due {item.due_date.isoformat()}" if item.due_date else ""
        return Reply(f"Action item filed for INC-{incident.number}{owner_text}{due}.")


def _update_action(invocation: Invocation, deps: Deps, update: re.Match[str]) -> Reply:
    done = (update.group("done") or "").lower()
    due_text = update.group("due")
    zone = deps.directory.zone_of(invocation.user_id) if due_text else "UTC"
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        item = services.update_action_item(
            uow=uow,
            incident=incident,
            number=int(update.group("number")),
            updated_by=invocation.user_id,
            kind=update.group("kind"),
            tracking_url=update.group("url"),
            status=done or None,
            due_text=due_text,
            author_zone=zone,
            policy=deps.settings.policy,
        )
        uow.commit()
        return Reply(
            f"Action item {update.group('number')} of INC-{incident.number}: "
            f"{item.kind or 'no type'}, {item.status}"
            + (f", due {item.due_date.isoformat()}" if item.due_date else "")
            + (f", tracked at {item.tracking_url}" if item.tracking_url else "")
            + "."
        )
