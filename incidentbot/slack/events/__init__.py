"""Events API listeners: capturing the conversation into the timeline, and the Home tab."""

from slack_bolt import App

from incidentbot.slack.deps import Deps
from incidentbot.slack.events import capture, home, members


def register(app: App, deps: Deps) -> None:
    capture.register(app, deps)
    members.register(app, deps)
    home.register(app, deps)
