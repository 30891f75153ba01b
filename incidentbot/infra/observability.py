"""What operators watch: Prometheus metrics (the log format is in ``incidentbot.infra.logs``).

Each runtime has its own ``CollectorRegistry`` (never prometheus_client's global one), so tests
and several runtimes in one process keep their numbers apart. Request and Slack Web API
figures are counted as they happen; open incidents and the reminder backlog are read from the
database when Prometheus scrapes, so every replica reports the same, current values.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from incidentbot.domain.models import Incident, Reminder, ReminderState, Severity, Status
from incidentbot.infra import db

log = logging.getLogger(__name__)

# Slack wants an acknowledgement within 3 s; past 1 s a command already feels slow.
SLOW_ACK_SECONDS = 1.0
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)


class Telemetry:
    """The process's metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.request_seconds = Histogram(
            "incidentbot_request_duration_seconds",
            "Time to answer an HTTP request, by route and Slack payload type.",
            ["route", "payload_type"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.requests = Counter(
            "incidentbot_requests",
            "HTTP requests answered, by route, Slack payload type and status code.",
            ["route", "payload_type", "status"],
            registry=self.registry,
        )
        self.slow_acks = Counter(
            "incidentbot_slow_acknowledgements",
            f"Slack requests acknowledged after more than {SLOW_ACK_SECONDS:g} s.",
            ["payload_type"],
            registry=self.registry,
        )
        self.slack_calls = Counter(
            "incidentbot_slack_api_calls",
            "Slack Web API calls made, by method (retries inside one call count once).",
            ["method"],
            registry=self.registry,
        )
        self.slack_errors = Counter(
            "incidentbot_slack_api_errors",
            "Slack Web API calls that failed, by method and Slack's error (or the exception).",
            ["method", "error"],
            registry=self.registry,
        )

        self.slack_refusals = Counter(
            "incidentbot_slack_refusals",
            "Steps given up because Slack refused them for good (a missing scope, a guest who "
            "may not join, ...), by method and Slack's error; see docs/reliability.md.",
            ["method", "error"],
            registry=self.registry,
        )

    def observe_request(
        self, *, route: str, payload_type: str, status: int, seconds: float, slack: bool
    ) -> None:
        self.request_seconds.labels(route=route, payload_type=payload_type).observe(seconds)
        self.requests.labels(route=route, payload_type=payload_type, status=str(status)).inc()
        if slack and seconds > SLOW_ACK_SECONDS:
            self.slow_acks.labels(payload_type=payload_type).inc()

    def observe_slack_call(self, method: str, *, error: str | None) -> None:
        self.slack_calls.labels(method=method).inc()
        if error is not None:
            self.slack_errors.labels(method=method, error=error).inc()

    def observe_refusal(self, method: str, *, error: str) -> None:
        self.slack_refusals.labels(method=method, error=error).inc()

    def watch_database(
        self, session_factory: sessionmaker[Session], *, clock: Callable[[], datetime]
    ) -> None:
        """Report the database's gauges at every scrape."""
        self.registry.register(DatabaseCollector(session_factory, clock=clock))


class DatabaseCollector(Collector):
    """Gauges read from the database when Prometheus scrapes."""

    def __init__(
        self, session_factory: sessionmaker[Session], *, clock: Callable[[], datetime]
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock

    def describe(self) -> list[Metric]:
        # Described without touching the database, so registering needs no connection.
        return [
            GaugeMetricFamily("incidentbot_database_up", ""),
            GaugeMetricFamily("incidentbot_open_incidents", "", labels=["severity"]),
            GaugeMetricFamily("incidentbot_reminder_backlog", ""),
        ]

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "incidentbot_database_up", "1 if the database answered this scrape, else 0."
        )
        try:
            with self._session_factory() as session:
                db.read_only(session)
                by_severity = dict(
                    session.execute(
                        select(Incident.severity, func.count())
                        .where(Incident.status != Status.CLOSED)
                        .group_by(Incident.severity)
                    ).all()
                )
                backlog = session.scalar(
                    select(func.count())
                    .select_from(Reminder)
                    .where(
                        Reminder.state == ReminderState.PENDING,
                        Reminder.due_at <= self._clock(),
                    )
                )
        except Exception:
            # A scrape must still answer (and say the database is down) when it is.
            log.warning("metrics: the database did not answer", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        incidents = GaugeMetricFamily(
            "incidentbot_open_incidents",
            "Incidents not closed yet (as /incident list shows them), by severity.",
            labels=["severity"],
        )
        for severity in Severity:
            incidents.add_metric([severity.value], by_severity.get(severity.value, 0))
        yield incidents
        yield GaugeMetricFamily(
            "incidentbot_reminder_backlog",
            "Reminders due now that no replica has looked at yet (sent or rescheduled).",
            value=backlog or 0,
        )
