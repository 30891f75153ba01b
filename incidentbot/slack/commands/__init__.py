"""Slash command listeners.

:mod:`.incident` is the ``/incident`` listener and its table of subcommands. Each subcommand is
one function that parses the words, calls one service and says what happened, kept in one
module per feature: :mod:`.declare`, :mod:`.lifecycle` (severity, status, resolve, close,
reopen), :mod:`.roles`, :mod:`.timeline`, :mod:`.action_items`, :mod:`.postmortem` and
:mod:`.lookups`; :mod:`.invocation` holds what they share. People are looked up in Slack only
when the command needs it now (a time zone, checking that a mentioned person exists), before the
unit of work opens so no Slack call runs while the database transaction is held; names for the
postmortem are looked up later, by its job.
"""

from slack_bolt import App

from incidentbot.slack.commands import incident
from incidentbot.slack.deps import Deps


def register(app: App, deps: Deps) -> None:
    incident.register(app, deps)
