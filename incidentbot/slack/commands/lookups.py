"""Reading without changing anything: ``stats [window]``, ``list`` (the open incidents),
``link`` (a signed link to the web pages) and ``help``, plus :func:`unknown` for any word that
is not a subcommand.
"""

from __future__ import annotations

from incidentbot import services
from incidentbot.domain import links
from incidentbot.domain.errors import NotInIncidentChannel
from incidentbot.domain.text import clip, safe_for_slack
from incidentbot.slack import blocks
from incidentbot.slack.commands.invocation import Invocation, Reply
from incidentbot.slack.deps import Deps
from incidentbot.slack.stats_reply import stats_reply


def stats(invocation: Invocation, deps: Deps) -> Reply:
    """``stats [30d|90d|<N>d]``: incidents and how fast they went, for the asker; any channel."""
    days = services.parse_window(invocation.args)
    with deps.uow_factory(read_only=True) as uow:
        report = services.incident_stats(uow=uow, viewer=invocation.user_id, days=days)
    return Reply(stats_reply(report, zone=deps.settings.timezone))


def list_open(invocation: Invocation, deps: Deps) -> Reply:
    """``list``: the open incidents that fit in a reply, and a link to the web list for all."""
    zone = deps.directory.zone_of(invocation.user_id)
    token = links.issue_token(secret=deps.settings.link_secret, user_id=invocation.user_id)
    with deps.uow_factory() as uow:
        incidents = services.open_incidents(uow=uow, viewer=invocation.user_id)
        return Reply(
            blocks.incident_list(
                incidents,
                now=uow.now(),
                zone=zone,
                list_url=f"{deps.settings.base_url}/?token={token}",
            )
        )


def link(invocation: Invocation, deps: Deps) -> Reply:
    """A private link to the web pages, signed for this person and valid for a day."""
    base = deps.settings.base_url
    token = links.issue_token(secret=deps.settings.link_secret, user_id=invocation.user_id)
    with deps.uow_factory() as uow:
        try:
            incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        except NotInIncidentChannel:
            return Reply(f"<{base}/?token={token}|Open the incidents page> (valid for 24 hours).")
        return Reply(
            f"<{base}/incidents/{incident.number}?token={token}|Open INC-{incident.number}'s page> "
            "(valid for 24 hours, just for you)."
        )


def help_(invocation: Invocation, deps: Deps) -> Reply:
    return Reply(blocks.HELP)


def unknown(invocation: Invocation, deps: Deps) -> Reply:
    if not invocation.name:
        return Reply(blocks.HELP)
    shown = safe_for_slack(clip(invocation.name, 40))
    return Reply(f"I don't know the command “{shown}”.\n\n{blocks.HELP}")
