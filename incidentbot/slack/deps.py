"""What listeners and jobs share: built once per process by the app factory."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient

from incidentbot.blameless import Rule
from incidentbot.config import Settings
from incidentbot.postmortem import PostmortemRenderer
from incidentbot.slack.directory import Directory
from incidentbot.uow import UnitOfWorkFactory


@dataclass(frozen=True)
class Deps:
    settings: Settings
    uow_factory: UnitOfWorkFactory
    directory: Directory
    renderer: PostmortemRenderer
    review_rules: list[Rule]
    # Fails fast: for the few Slack calls made before a request is acknowledged.
    interactive_client: WebClient
