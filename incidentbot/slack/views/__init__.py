"""Modal submissions."""

from slack_bolt import App

from incidentbot.slack.deps import Deps
from incidentbot.slack.views import corrections, declare


def register(app: App, deps: Deps) -> None:
    declare.register(app, deps)
    corrections.register(app, deps)
