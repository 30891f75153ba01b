"""Shortcuts: actions people start from a message's menu (or Slack's shortcut menu)."""

from slack_bolt import App

from incidentbot.slack.deps import Deps
from incidentbot.slack.shortcuts import timeline


def register(app: App, deps: Deps) -> None:
    timeline.register(app, deps)
