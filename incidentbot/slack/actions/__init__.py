"""Buttons and other interactive elements in messages."""

from slack_bolt import App

from incidentbot.slack.actions import impact
from incidentbot.slack.deps import Deps


def register(app: App, deps: Deps) -> None:
    impact.register(app, deps)
