"""What listeners and jobs share: built once per process by the app factory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk import WebClient

from incidentbot.domain.blameless import Rule
from incidentbot.domain.models import utcnow
from incidentbot.infra.config import Settings
from incidentbot.infra.observability import Telemetry
from incidentbot.infra.uow import UnitOfWorkFactory
from incidentbot.postmortem.render import PostmortemRenderer
from incidentbot.slack.directory import Directory


@dataclass(frozen=True)
class Deps:
    settings: Settings
    uow_factory: UnitOfWorkFactory
    directory: Directory
    renderer: PostmortemRenderer
    # The blameless review's rules, when a postmortem first needs them (see create_runtime).
    review_rules: Callable[[], list[Rule]]
    # Fails fast: for the few Slack calls made before a request is acknowledged.
    interactive_client: WebClient
    # The units of work's clock: what "now" is when a command reads a time people typed.
    clock: Callable[[], datetime] = field(default=utcnow)
    # Where refusals are counted for /metrics; none in tests that build Deps by hand.
    telemetry: Telemetry | None = None
