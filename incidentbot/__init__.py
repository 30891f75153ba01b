"""incidentbot: incident response and blameless postmortems in Slack.

The package root is the domain core: models, services, timeline, metrics and postmortem
rendering. It never imports Slack; the Slack app lives in ``incidentbot.slack``, the web pages
in ``incidentbot.web`` and the local Slack workspace in ``incidentbot.emulator``.
"""

__version__ = "0.1.0"
