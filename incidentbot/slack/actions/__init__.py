"""Buttons and other interactive elements in messages and the Home tab."""

from slack_bolt import App

from incidentbot.slack.actions import corrections, home, impact, reminders
from incidentbot.slack.deps import Deps


def register(app: App, deps: Deps) -> None:
    impact.register(app, deps)
    home.register(app, deps)
    reminders.register(app, deps)
    corrections.register(app, deps)
