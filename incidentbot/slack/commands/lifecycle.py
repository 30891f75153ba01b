"""Where an incident stands: ``sev``/``severity`` and ``status`` (each now or ``at <time>``),
``resolve``, ``close`` (which starts the postmortem draft) and ``reopen`` (which says when the
channel is archived and must be unarchived first, :data:`UNARCHIVE_FIRST`).
"""

from __future__ import annotations

from datetime import timedelta

from slack_sdk.errors import SlackClientError

from incidentbot import services
from incidentbot.domain.errors import IncidentError, NotInIncidentChannel
from incidentbot.domain.models import Status
from incidentbot.domain.text import clip, safe_for_slack
from incidentbot.slack.commands.invocation import Invocation, Reply, at_moment, read_at, when
from incidentbot.slack.deps import Deps


def severity(invocation: Invocation, deps: Deps) -> Reply:
    """``sev <1-4> [at <time>]``."""
    level_word, _, rest = invocation.args.partition(" ")
    level = services.parse_severity(level_word)
    moment, zone = None, "UTC"
    if rest.strip():
        at_text = at_moment(rest)
        if at_text is None:
            raise IncidentError(
                f"I read {level} but not “{safe_for_slack(clip(rest.strip(), 40))}”. To say when "
                f"it changed, `/incident sev {level[-1]} at 14:05` (your time zone, or add one)."
            )
        moment, zone = read_at(deps, invocation, at_text)
        if moment.rest:
            raise IncidentError(
                f"I read the time but not “{safe_for_slack(clip(moment.rest, 40))}”. "
                f"Use `/incident sev {level[-1]} at 14:05`, optionally with a date and a zone."
            )
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        services.change_severity(
            uow=uow,
            incident=incident,
            severity=level,
            changed_by=invocation.user_id,
            at=moment.at if moment else None,
            zone=zone,
            policy=deps.settings.policy,
        )
        uow.commit()
        if moment is None:
            return Reply(f"INC-{incident.number} is now {level}.")
        return Reply(
            f"Recorded: INC-{incident.number} went to {level}{when(moment, zone, deps)}. "
            f"It is {incident.severity} now."
        )


def status(invocation: Invocation, deps: Deps) -> Reply:
    """``status <state> [at <time>] [text]``."""
    word, _, text = invocation.args.partition(" ")
    new_status = services.parse_status(word)
    return _change_status(invocation, deps, new_status, text)


def _change_status(invocation: Invocation, deps: Deps, new_status: Status, text: str) -> Reply:
    moment, zone = None, "UTC"
    at_text = at_moment(text)
    if at_text is not None:
        moment, zone = read_at(deps, invocation, at_text)
        text = moment.rest
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        services.change_status(
            uow=uow,
            incident=incident,
            status=new_status,
            changed_by=invocation.user_id,
            text=text or None,
            at=moment.at if moment else None,
            zone=zone,
            policy=deps.settings.policy,
        )
        uow.commit()
        if moment is None and new_status == Status.RESOLVED:
            return Reply(
                f"INC-{incident.number} is resolved. `/incident close` when you're ready for the "
                "postmortem."
            )
        if moment is None:
            return Reply(f"INC-{incident.number} is now {new_status}.")
        return Reply(
            f"Recorded: INC-{incident.number} was {new_status}{when(moment, zone, deps)}. "
            f"It is {incident.status} now."
        )


def resolve(invocation: Invocation, deps: Deps) -> Reply:
    """``resolve [at <time>] [text]``."""
    return _change_status(invocation, deps, Status.RESOLVED, invocation.args)


def close(invocation: Invocation, deps: Deps) -> Reply:
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        services.close(
            uow=uow,
            incident=incident,
            closed_by=invocation.user_id,
            reply_to=invocation.response_url,
            policy=deps.settings.policy,
            archive_after=(
                timedelta(days=deps.settings.archive_after_days)
                if deps.settings.archive_after_days
                else None
            ),
        )
        uow.commit()
        return Reply(
            f"INC-{incident.number} is closed. The postmortem draft will be posted in this channel "
            "in a moment."
        )


UNARCHIVE_FIRST = (
    "An incident whose channel was archived is reopened in that channel, once someone has "
    "unarchived it (apps cannot): open the channel and choose *Unarchive*, then type "
    "`/incident reopen` there."
)


def reopen(invocation: Invocation, deps: Deps) -> Reply:
    try:
        with deps.uow_factory() as uow:
            incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
            was_closed = incident.status == Status.CLOSED
            services.reopen(
                uow=uow,
                incident=incident,
                reopened_by=invocation.user_id,
                policy=deps.settings.policy,
            )
            uow.commit()
            number, channel_id = incident.number, incident.channel_id
    except NotInIncidentChannel as error:
        raise NotInIncidentChannel(f"{error.message}\n{UNARCHIVE_FIRST}") from None
    reply = f"INC-{number} is reopened and back to investigating."
    if was_closed and channel_id and _is_archived(deps, channel_id):
        reply += (
            f" Its channel <#{channel_id}> is archived, and apps cannot unarchive channels: "
            "someone needs to open it and choose *Unarchive* so the work can go on there."
        )
    return Reply(reply)


def _is_archived(deps: Deps, channel_id: str) -> bool:
    """Whether Slack says the channel is archived (False when Slack cannot say in time)."""
    try:
        channel = deps.interactive_client.conversations_info(channel=channel_id)
    except (SlackClientError, OSError):
        return False
    return bool((channel.get("channel") or {}).get("is_archived"))
