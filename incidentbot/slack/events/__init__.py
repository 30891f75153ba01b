"""Events API listeners: capturing the conversation into the timeline, following what Slack
changes in it, and the Home tab."""

from slack_bolt import App

from incidentbot.slack.deps import Deps
from incidentbot.slack.events import capture, home, members, messages


def register(app: App, deps: Deps) -> None:
    capture.register(app, deps)
    messages.register(app, deps)
    members.register(app, deps)
    home.register(app, deps)
