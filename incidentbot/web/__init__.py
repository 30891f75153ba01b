"""The HTTP side of ``incidentbot serve``: Slack's endpoint, the health check and web pages."""

from incidentbot.web.app import create_web_app

__all__ = ["create_web_app"]
