"""Slash command listeners."""

from slack_bolt import App

from incidentbot.slack.commands import incident
from incidentbot.slack.deps import Deps


def register(app: App, deps: Deps) -> None:
    incident.register(app, deps)
