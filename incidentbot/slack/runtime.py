"""The composition root: builds the database, Slack client, Bolt app, job runner and web app
from settings. Entry points (CLI, tests, the demo) start here."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from incidentbot.domain.blameless import Rule, load_rules
from incidentbot.domain.models import utcnow
from incidentbot.infra import db
from incidentbot.infra.config import Settings
from incidentbot.infra.jobs import JobRunner, Traffic
from incidentbot.infra.observability import Telemetry
from incidentbot.infra.uow import Clock, UnitOfWork
from incidentbot.infra.wakeups import Listener
from incidentbot.postmortem.render import PostmortemRenderer
from incidentbot.services.reminder_loop import ReminderLoop
from incidentbot.slack.app import build_app
from incidentbot.slack.client import make_client, make_interactive_client
from incidentbot.slack.deps import Deps
from incidentbot.slack.directory import Directory
from incidentbot.slack.effects import Effects
from incidentbot.slack.nudges import Nudges

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    client: WebClient
    deps: Deps
    bolt: App
    jobs: JobRunner
    # Sends reminders when they come due (see services/reminders.py).
    reminders: ReminderLoop
    # This runtime's own Prometheus registry and metrics (served at /metrics).
    telemetry: Telemetry
    # Requests being answered now: the job runner gives way to them.
    traffic: Traffic
    # Hears of jobs other replicas queue (PostgreSQL only), so they start without a poll.
    wakeups: Listener
    _started: bool = field(default=False, repr=False)

    def uow(self, *, read_only: bool = False) -> UnitOfWork:
        return self.deps.uow_factory(read_only=read_only)

    def start(self) -> None:
        if not self._started:
            self.jobs.start()
            self.wakeups.start()
            self.reminders.start()
            self._started = True

    def warm_up(self) -> None:
        """Compile the review rules in the background, so that the first postmortem after a
        start (a close people wait for) does not spend about 0.3 s doing it. For long-running
        processes (``serve``, ``socket``); tests and one-off commands leave it to first use."""
        threading.Thread(
            target=self.deps.review_rules, name="incidentbot-warm-up", daemon=True
        ).start()

    def stop(self) -> None:
        if self._started:
            self.reminders.stop()  # first: what it fires, the job runner sends
            self.wakeups.stop()
            self.jobs.stop()
            self._started = False
        self.engine.dispose()


def _review_rules(settings: Settings) -> Callable[[], list[Rule]]:
    """The rules a postmortem's review uses. A team's file is read now, so that a mistake in it
    stops the start naming the file and rule; the built-in rules alone (proven by the test
    suite) are compiled when the first postmortem needs them, once per process: about 0.3 s
    that a start, and a process that never writes a postmortem, need not spend."""
    if settings.blameless_rules is None:
        return load_rules
    rules = load_rules(extra=settings.blameless_rules)
    return lambda: rules


def create_runtime(
    settings: Settings,
    *,
    migrate: bool = True,
    clock: Clock = utcnow,
    check_templates: bool = True,
) -> Runtime:
    """Everything one process needs; call ``start()`` to begin running queued Slack work.

    A broken postmortem template stops the process here, at start-up, never mid-incident.
    """
    renderer = PostmortemRenderer(
        zone=settings.timezone, base_url=settings.base_url, templates_dir=settings.templates_dir
    )
    if check_templates:
        renderer.check(required=set(settings.severity_templates.values()), builtin=False)
    review_rules = _review_rules(settings)
    engine = db.make_engine(settings.database_url)
    if migrate:
        db.upgrade(engine)
    session_factory = db.make_session_factory(engine)
    runner_ref: list[JobRunner] = []

    def wake_runner(at: datetime) -> None:
        if runner_ref:
            runner_ref[0].wake(at)

    uow_factory = partial(UnitOfWork, session_factory, clock=clock, on_jobs_committed=wake_runner)
    telemetry = Telemetry()
    telemetry.watch_database(session_factory, clock=clock)
    client = make_client(settings, telemetry=telemetry)
    interactive_client = make_interactive_client(settings, telemetry=telemetry)
    deps = Deps(
        settings=settings,
        uow_factory=uow_factory,
        directory=Directory(client=interactive_client, uow_factory=uow_factory),
        renderer=renderer,
        review_rules=review_rules,
        interactive_client=interactive_client,
        clock=clock,
        telemetry=telemetry,
    )
    effects = Effects(deps=deps, client=client)
    traffic = Traffic()
    runner = JobRunner(
        session_factory=session_factory,
        handlers={
            **effects.handlers(),
            **Nudges(effects=effects, client=client, settings=settings).handlers(),
        },
        workers=settings.job_workers,
        clock=clock,
        lease=timedelta(seconds=settings.job_lease_seconds),
        traffic=traffic,
    )
    runner_ref.append(runner)
    bolt = build_app(deps, client=client)
    return Runtime(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        client=client,
        deps=deps,
        bolt=bolt,
        jobs=runner,
        reminders=ReminderLoop(uow_factory=uow_factory, rules=settings.reminder_rules, clock=clock),
        telemetry=telemetry,
        traffic=traffic,
        wakeups=Listener(engine, runner.wake),
    )
