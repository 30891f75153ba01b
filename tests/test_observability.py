"""What operators watch: /metrics after real traffic, and the request log lines."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete

from incidentbot.domain.models import Reminder, ReminderKind, ReminderState
from incidentbot.emulator import LocalSlack, Workspace
from incidentbot.entrypoints.local import LocalStack
from incidentbot.infra.config import ConfigError, load_settings
from incidentbot.infra.logs import JsonFormatter
from incidentbot.infra.observability import DatabaseCollector, Telemetry
from incidentbot.infra.uow import UnitOfWork
from incidentbot.services import declare_incident
from tests.e2e import declare
from tests.test_e2e_alerts import firing
from tests.test_secrets import free_port, secret_env, wait_for_health

Series = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(base_url: str, token: str | None = None) -> Series:
    request = Request(f"{base_url}/metrics")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urlopen(request, timeout=10) as answer:
        assert answer.headers["Content-Type"].startswith("text/plain; version=")
        text = answer.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(series: Series, name: str, **labels: str) -> float:
    return series.get((name, tuple(sorted(labels.items()))), 0.0)


def slack_requests(series: Series, payload_type: str, status: str = "200") -> float:
    return value(
        series,
        "incidentbot_requests_total",
        route="/slack/events",
        payload_type=payload_type,
        status=status,
    )


def test_metrics_after_commands_count_requests_acks_slack_calls_and_open_incidents(
    stack: LocalStack,
):
    ws = stack.workspace
    channel = declare(stack, "Checkout API returning 500s")
    stack.driver.command("alice", channel.id, "sev 1")
    ws.inject_fault("chat.postMessage", error="invalid_auth")
    stack.driver.command("alice", channel.id, "note rolled back deploy 1234")
    message = stack.driver.post_message("alice", channel.id, "error rate is falling")
    stack.driver.pin("alice", channel.id, message)
    stack.driver.url_verification("challenge")
    stack.driver.raw(b'{"type": "event_callback"}', signature="bad")
    # Opening the form calls Slack before acknowledging; a slow Slack makes a slow ack.
    ws.inject_fault("views.open", delay=1.3)
    stack.driver.command("bob", "#general", "declare")
    (form,) = ws.open_views("bob")
    stack.driver.submit_view("bob", form.id, {"title_input": "Search is slow"})
    stack.settle()

    series = scrape(stack.base_url)
    assert slack_requests(series, "slash_command") == 4
    assert slack_requests(series, "event:pin_added") == 1
    assert slack_requests(series, "url_verification") == 1
    assert slack_requests(series, "view_submission") == 1
    assert slack_requests(series, "unverified", status="401") == 1
    duration = "incidentbot_request_duration_seconds"
    assert (
        value(series, f"{duration}_count", route="/slack/events", payload_type="slash_command") == 4
    )
    assert (
        value(
            series,
            f"{duration}_bucket",
            route="/slack/events",
            payload_type="slash_command",
            le="1.0",
        )
        == 3
    )
    assert (
        value(series, "incidentbot_slow_acknowledgements_total", payload_type="slash_command") == 1
    )
    assert value(series, "incidentbot_slack_api_calls_total", method="conversations.create") == 2
    assert value(series, "incidentbot_slack_api_calls_total", method="views.open") == 1
    assert (
        value(
            series,
            "incidentbot_slack_api_errors_total",
            method="chat.postMessage",
            error="invalid_auth",
        )
        == 1
    )
    assert value(series, "incidentbot_database_up") == 1
    assert value(series, "incidentbot_open_incidents", severity="SEV1") == 1
    assert value(series, "incidentbot_open_incidents", severity="SEV3") == 1
    assert value(series, "incidentbot_open_incidents", severity="SEV2") == 0

    stack.driver.command("alice", channel.id, "close")
    stack.settle()
    series = scrape(stack.base_url)
    assert value(series, "incidentbot_open_incidents", severity="SEV1") == 0
    assert (
        value(
            series,
            "incidentbot_requests_total",
            route="/metrics",
            payload_type="none",
            status="200",
        )
        == 1
    )


def test_the_metrics_token_guards_metrics_when_set(db_url: str):
    token = "metrics-token-for-tests"
    with LocalStack(database_url=db_url, metrics_token=token) as stack:
        for given in (None, "wrong"):
            request = Request(f"{stack.base_url}/metrics")
            if given:
                request.add_header("Authorization", f"Bearer {given}")
            with pytest.raises(HTTPError) as refused:
                urlopen(request, timeout=10)
            assert refused.value.code == 401
            assert "INCIDENTBOT_METRICS_TOKEN" in json.loads(refused.value.read())["error"]
        assert value(scrape(stack.base_url, token), "incidentbot_database_up") == 1


def test_the_reminder_backlog_counts_reminders_due_now_at_scrape_time(session_factory, clock):
    with UnitOfWork(session_factory, clock=clock) as uow:
        incident = declare_incident(uow=uow, title="Checkout down", declared_by="UALICE")
        now = uow.now()
        for kind, state, due in (
            (ReminderKind.UPDATE, ReminderState.PENDING, now),
            (ReminderKind.LEAD, ReminderState.PENDING, now + timedelta(minutes=5)),
            (ReminderKind.POSTMORTEM, ReminderState.IDLE, now),
        ):
            uow.session.execute(delete(Reminder).where(Reminder.kind == kind))
            uow.session.add(
                Reminder(
                    kind=kind,
                    incident_id=incident.id,
                    state=state,
                    due_at=due,
                    since=now,
                    sent_count=0,
                )
            )
        uow.commit()
    telemetry = Telemetry()
    telemetry.watch_database(session_factory, clock=clock)
    assert telemetry.registry.get_sample_value("incidentbot_reminder_backlog") == 1
    clock.advance(minutes=10)
    assert telemetry.registry.get_sample_value("incidentbot_reminder_backlog") == 2
    assert (
        telemetry.registry.get_sample_value("incidentbot_open_incidents", {"severity": "SEV3"}) == 1
    )


def test_a_scrape_still_answers_when_the_database_does_not(tmp_path: Path):
    from incidentbot.infra import db

    engine = db.make_engine(f"sqlite:///{tmp_path / 'missing' / 'incidentbot.db'}")
    telemetry = Telemetry()
    telemetry.registry.register(
        DatabaseCollector(db.make_session_factory(engine), clock=lambda: datetime.now(UTC))
    )
    assert telemetry.registry.get_sample_value("incidentbot_database_up") == 0
    assert (
        telemetry.registry.get_sample_value("incidentbot_open_incidents", {"severity": "SEV1"})
        is None
    )
    engine.dispose()


def test_runtimes_in_one_process_keep_their_own_numbers():
    first, second = Telemetry(), Telemetry()
    first.observe_slack_call("chat.postMessage", error=None)
    assert (
        first.registry.get_sample_value(
            "incidentbot_slack_api_calls_total", {"method": "chat.postMessage"}
        )
        == 1
    )
    assert (
        second.registry.get_sample_value(
            "incidentbot_slack_api_calls_total", {"method": "chat.postMessage"}
        )
        is None
    )


def test_json_log_lines_carry_the_fields_given_and_the_traceback():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("incidentbot.requests").makeRecord(
            "incidentbot.requests",
            logging.ERROR,
            __file__,
            1,
            "%s %s",
            ("POST", "/slack/events"),
            sys.exc_info(),
            extra={"route": "/slack/events", "status": 500, "duration_ms": 12.5},
        )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "POST /slack/events"
    assert (line["level"], line["logger"]) == ("ERROR", "incidentbot.requests")
    assert (line["route"], line["status"], line["duration_ms"]) == ("/slack/events", 500, 12.5)
    assert "ValueError: boom" in line["exception"] and line["time"].endswith("+00:00")


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("INCIDENTBOT_LOG_FORMAT", "yaml", "INCIDENTBOT_LOG_FORMAT is malformed"),
        ("INCIDENTBOT_WEBHOOK_SECRET", "short-secret", "at least 16 characters"),
        ("INCIDENTBOT_ALERT_SEVERITY_LABEL", "sev-level", "a Prometheus label name"),
    ],
)
def test_malformed_observability_settings_stop_start_up(variable: str, value: str, says: str):
    with pytest.raises(ConfigError) as error:
        load_settings({variable: value}, dotenv=None)
    assert variable in error.value.message and says in error.value.message
    assert value not in error.value.message or variable != "INCIDENTBOT_WEBHOOK_SECRET"


BOT_TOKEN = "xoxb-jsonlogs-bot-1234567890"
SIGNING_SECRET = "jsonlogs-signing-secret-abcdef"
WEBHOOK_SECRET = "jsonlogs-webhook-secret-abcdef"


@contextmanager
def serving(tmp_path: Path, slack: LocalSlack, **extra_env: str) -> Iterator[tuple[str, list]]:
    """``incidentbot serve`` as a real process; yields its URL and, once it stopped, its
    stderr lines (in the list)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = secret_env(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'incidentbot.db'}",
        INCIDENTBOT_BASE_URL=base_url,
        INCIDENTBOT_WEBHOOK_SECRET=WEBHOOK_SECRET,
        **extra_env,
    )
    lines: list[str] = []
    process = subprocess.Popen(
        [sys.executable, "-m", "incidentbot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_health(f"{base_url}/healthz", process)
        yield base_url, lines
    finally:
        process.terminate()
        try:
            _, err = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
        lines.extend(line for line in err.splitlines() if line.strip())


def test_serve_logs_one_json_line_per_request_and_no_secret(tmp_path: Path):
    with (
        LocalSlack(Workspace(bot_token=BOT_TOKEN)) as slack,
        serving(tmp_path, slack, INCIDENTBOT_LOG_FORMAT="json") as (base_url, lines),
    ):
        driver = slack.driver(f"{base_url}/slack/events", SIGNING_SECRET)
        assert driver.command("alice", "#general", "declare Checkout down").status == 200
        assert driver.command("alice", "#general", "list").status == 200
        assert driver.raw(b'{"type": "event_callback"}', signature="bad").status == 401
        hook = driver.raw(
            json.dumps(firing()).encode(),
            {"Authorization": f"Bearer {WEBHOOK_SECRET}"},
            signature="none",
            url=f"{base_url}/hooks/alertmanager",
        )
        assert hook.status == 200, hook.body
        urlopen(f"{base_url}/metrics", timeout=10).read()

    parsed = [json.loads(line) for line in lines]  # every line is one JSON object
    requests = [entry for entry in parsed if entry["logger"] == "incidentbot.requests"]
    seen = {(r["method"], r["route"], r["payload_type"], r["status"]) for r in requests}
    assert {
        ("POST", "/slack/events", "slash_command", 200),
        ("POST", "/slack/events", "unverified", 401),
        ("POST", "/hooks/alertmanager", "none", 200),
    } <= seen, seen
    assert sum(r["payload_type"] == "slash_command" for r in requests) == 2
    assert all(isinstance(r["duration_ms"], float) and r["duration_ms"] >= 0 for r in requests)
    # Scrapes and health probes are logged at DEBUG, below the default level.
    assert not any(r["route"] in ("/metrics", "/healthz") for r in requests)
    everything = "\n".join(lines)
    for secret in (BOT_TOKEN, SIGNING_SECRET, WEBHOOK_SECRET):
        assert secret not in everything


def test_logs_stay_human_readable_by_default(tmp_path: Path):
    with (
        LocalSlack(Workspace(bot_token=BOT_TOKEN)) as slack,
        serving(tmp_path, slack) as (base_url, lines),
    ):
        driver = slack.driver(f"{base_url}/slack/events", SIGNING_SECRET)
        driver.command("alice", "#general", "list")
    (line,) = [line for line in lines if "incidentbot.requests" in line]
    assert " INFO incidentbot.requests: POST /slack/events slash_command 200 " in line
    assert line.endswith(" ms")
