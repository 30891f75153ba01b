"""Alerts from monitoring declaring and updating incidents, through the real webhook endpoints
and seen from the local Slack workspace."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, update

from incidentbot.domain.models import AlertGroup, Incident, Job, Status, TimelineEntry
from incidentbot.emulator import BOT_USER_ID, DriverResponse
from incidentbot.entrypoints.local import LocalStack
from incidentbot.web.hooks import SIGNATURE_HEADER, signed
from tests.e2e import incident_channel, texts

SECRET = "test-webhook-secret-0123456789"


def firing(
    group: str = "HighErrorRate",
    *,
    severity: str = "critical",
    fingerprint: str = "f1a2b3c4d5e6f708",
    starts_at: str = "2026-11-27T13:58:00.123456789Z",
    summary: str = "Checkout 5xx above 5%",
    extra_labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An Alertmanager (version 4) notification of one firing alert, as Alertmanager sends it."""
    labels = {"alertname": group, "severity": severity, "service": "checkout"}
    labels.update(extra_labels or {})
    return {
        "version": "4",
        "groupKey": f'{{}}/{{severity=~".+"}}:{{alertname="{group}"}}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "incidentbot",
        "groupLabels": {"alertname": group},
        "commonLabels": labels,
        "commonAnnotations": {"summary": summary},
        "externalURL": "http://alertmanager.internal:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": summary, "description": "5xx ratio is 7.2%"},
                "startsAt": starts_at,
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.internal:9090/graph?g0.expr=rate",
                "fingerprint": fingerprint,
            }
        ],
    }


def resolved(notification: dict[str, Any]) -> dict[str, Any]:
    """The same notification once its alerts stopped firing."""
    later = copy.deepcopy(notification)
    later["status"] = "resolved"
    for alert in later["alerts"]:
        alert["status"] = "resolved"
        alert["endsAt"] = "2026-11-27T14:20:00Z"
    return later


def post(
    stack: LocalStack,
    payload: object,
    *,
    path: str = "/hooks/alertmanager",
    auth: str = "bearer",
    secret: str = SECRET,
    raw: bytes | None = None,
) -> DriverResponse:
    """POST to a webhook as a monitoring system would: Bearer token, HMAC signature or none."""
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {}
    if auth == "bearer":
        headers["Authorization"] = f"Bearer {secret}"
    elif auth == "hmac":
        headers[SIGNATURE_HEADER] = signed(secret, body)
    return stack.driver.raw(body, headers, signature="none", url=f"{stack.base_url}{path}")


def incidents(stack: LocalStack) -> list[Incident]:
    with stack.runtime.uow(read_only=True) as uow:
        return list(uow.session.scalars(select(Incident).order_by(Incident.number)))


def alert_entries(stack: LocalStack, number: int) -> list[str]:
    with stack.runtime.uow(read_only=True) as uow:
        return list(
            uow.session.scalars(
                select(TimelineEntry.text)
                .join(Incident)
                .where(Incident.number == number, TimelineEntry.kind == "alert")
                .order_by(TimelineEntry.occurred_at, TimelineEntry.id)
            )
        )


def incident_channels(stack: LocalStack) -> list[str]:
    return sorted(c.name for c in stack.workspace.channels() if c.name.startswith("inc-"))


@pytest.fixture
def alerting(db_url: str) -> Iterator[LocalStack]:
    with LocalStack(database_url=db_url, webhook_secret=SECRET) as running:
        yield running


def test_a_firing_alert_declares_an_incident_at_its_mapped_severity(alerting: LocalStack):
    response = post(alerting, firing())
    assert response.status == 200, response.body
    assert response.json() == {"ok": True, "incident": 1, "declared": True, "recorded": 1}
    alerting.settle()

    channel = incident_channel(alerting, 1)
    assert channel.name == "inc-1-checkout-5xx-above-5"
    summary = str(alerting.workspace.messages(channel.id)[0].blocks)
    for fact in ("Checkout 5xx above 5%", "SEV1", "investigating", "nobody yet"):
        assert fact in summary
    announcement = alerting.workspace.messages("#incidents")[-1].text
    assert "INC-1" in announcement and "SEV1" in announcement
    assert f"declared by <@{BOT_USER_ID}>" in announcement and f"<#{channel.id}>" in announcement
    echoed = texts(alerting.workspace.messages(channel.id))
    assert any(
        "Alert firing: HighErrorRate: Checkout 5xx above 5%" in text
        and "http://prometheus.internal:9090/graph" in text
        for text in echoed
    ), echoed
    (incident,) = incidents(alerting)
    assert incident.declared_by == BOT_USER_ID
    assert incident.summary == "5xx ratio is 7.2%"
    # The impact started when the alert began firing, so time to detect is the real delay.
    assert incident.impact_started_at.replace(microsecond=0) == datetime(
        2026, 11, 27, 13, 58, tzinfo=UTC
    )
    assert incident.impact_started_at < incident.declared_at
    # Nobody to invite: the bot declared it and is in the channel it created.
    assert not [
        call
        for call in alerting.workspace.calls("conversations.invite")
        if call.params.get("users") == BOT_USER_ID
    ]


def test_the_same_group_firing_again_adds_to_its_incident_and_repeats_are_recorded_once(
    alerting: LocalStack,
):
    first = firing()
    assert post(alerting, first).json()["declared"] is True
    # Alertmanager repeats the group while it fires, and resends it whole when it grows.
    assert post(alerting, first).json() == {
        "ok": True,
        "incident": 1,
        "declared": False,
        "recorded": 0,
    }
    grown = copy.deepcopy(first)
    second = copy.deepcopy(first["alerts"][0])
    second["fingerprint"] = "0000aaaa1111bbbb"
    second["labels"]["instance"] = "checkout-2"
    second["annotations"]["summary"] = "Checkout 5xx above 5% on checkout-2"
    grown["alerts"].append(second)
    response = post(alerting, grown, auth="hmac")
    assert response.json() == {"ok": True, "incident": 1, "declared": False, "recorded": 1}
    alerting.settle()

    assert incident_channels(alerting) == ["inc-1-checkout-5xx-above-5"]
    assert alert_entries(alerting, 1) == [
        "Alert firing: HighErrorRate: Checkout 5xx above 5% "
        "(http://prometheus.internal:9090/graph?g0.expr=rate)",
        "Alert firing: HighErrorRate: Checkout 5xx above 5% on checkout-2 "
        "(http://prometheus.internal:9090/graph?g0.expr=rate)",
    ]
    echoed = "\n".join(texts(alerting.workspace.messages(incident_channel(alerting, 1).id)))
    assert echoed.count("on checkout-2") == 1


def test_resolved_alerts_are_noted_and_leave_the_incident_open(alerting: LocalStack):
    notification = firing()
    post(alerting, notification)
    response = post(alerting, resolved(notification))
    assert response.json() == {"ok": True, "incident": 1, "declared": False, "recorded": 1}
    assert post(alerting, resolved(notification)).json()["recorded"] == 0
    alerting.settle()

    channel = incident_channel(alerting, 1)
    assert any(
        "Alert resolved: HighErrorRate" in text
        for text in texts(alerting.workspace.messages(channel.id))
    )
    (incident,) = incidents(alerting)
    assert incident.status == Status.INVESTIGATING and incident.resolved_at is None
    with alerting.runtime.uow(read_only=True) as uow:
        entry = uow.session.scalars(
            select(TimelineEntry).where(TimelineEntry.text.startswith("Alert resolved"))
        ).one()
        assert entry.occurred_at.isoformat() == "2026-11-27T14:20:00+00:00"

    # Resolved alerts of a group nobody declared for add nothing anywhere.
    stray = post(alerting, resolved(firing("DiskFull", fingerprint="dddd")))
    assert stray.status == 200 and stray.json()["incident"] is None
    assert len(incidents(alerting)) == 1


def test_once_its_incident_is_closed_the_group_declares_a_new_one(alerting: LocalStack):
    notification = firing(severity="warning")
    post(alerting, notification)
    alerting.settle()
    channel = incident_channel(alerting, 1)
    alerting.driver.join("alice", channel.id)
    # Nobody leads an incident an alert declared, so the first responder may take the lead.
    taken = alerting.driver.command("alice", channel.id, f"lead {alerting.driver.mention('alice')}")
    assert taken.status == 200
    alerting.settle()
    assert alerting.driver.command("alice", channel.id, "close").status == 200
    alerting.settle()
    assert incidents(alerting)[0].status == Status.CLOSED
    (postmortem,) = alerting.workspace.files_in(channel.id)
    markdown = (postmortem.content or b"").decode()
    assert "Alert firing: HighErrorRate: Checkout 5xx above 5%" in markdown

    again = post(alerting, notification)
    assert again.json() == {"ok": True, "incident": 2, "declared": True, "recorded": 1}
    assert post(alerting, notification).json()["incident"] == 2
    alerting.settle()
    assert incident_channels(alerting) == [
        "inc-1-checkout-5xx-above-5",
        "inc-2-checkout-5xx-above-5",
    ]
    assert [i.severity for i in incidents(alerting)] == ["SEV3", "SEV3"]
    assert len(alert_entries(alerting, 2)) == 1


def test_the_severity_label_is_configurable_and_unknown_values_declare_at_sev3(db_url: str):
    with LocalStack(
        database_url=db_url, webhook_secret=SECRET, alert_severity_label="priority"
    ) as stack:
        post(stack, firing("A", extra_labels={"priority": "2"}, fingerprint="a1"))
        post(stack, firing("B", extra_labels={"priority": "SEV4"}, fingerprint="b1"))
        # "critical" is in the severity label, which this stack does not read.
        post(stack, firing("C", severity="critical", fingerprint="c1"))
        post(stack, firing("D", extra_labels={"priority": "whenever"}, fingerprint="d1"))
        assert [i.severity for i in incidents(stack)] == ["SEV2", "SEV4", "SEV3", "SEV3"]


def test_generic_alerts_declare_and_an_id_makes_a_retry_harmless(alerting: LocalStack):
    alert = {
        "title": "Queue depth above 10k",
        "group": "orders-queue",
        "severity": "SEV2",
        "summary": "Orders wait more than 5 minutes",
        "url": "https://grafana.example.com/d/queues",
        "id": "evt-1",
    }
    response = post(alerting, alert, path="/hooks/generic")
    assert response.json() == {"ok": True, "incident": 1, "declared": True, "recorded": 1}
    assert post(alerting, alert, path="/hooks/generic", auth="hmac").json()["recorded"] == 0
    done = {**alert, "status": "resolved", "id": "evt-2"}
    assert post(alerting, done, path="/hooks/generic").json()["recorded"] == 1
    alerting.settle()

    (incident,) = incidents(alerting)
    assert (incident.title, incident.severity) == ("Queue depth above 10k", "SEV2")
    channel = incident_channel(alerting, 1)
    echoed = texts(alerting.workspace.messages(channel.id))
    assert any(
        "Alert firing: Queue depth above 10k: Orders wait more than 5 minutes "
        "(https://grafana.example.com/d/queues)" in t
        for t in echoed
    ), echoed
    assert any("Alert resolved: Queue depth above 10k" in t for t in echoed)


def test_mass_mentions_in_alert_text_do_not_ping(alerting: LocalStack):
    post(alerting, firing(summary="<!channel> checkout down @here"))
    alerting.settle()
    channel = incident_channel(alerting, 1)
    shown = "\n".join(texts(alerting.workspace.messages(channel.id)))
    shown += "\n".join(texts(alerting.workspace.messages("#incidents")))
    assert "<!channel>" not in shown and "@here" not in shown


@pytest.mark.parametrize(
    ("payload", "headers_auth", "status", "says"),
    [
        (firing(), "none", 401, "Authorization: Bearer"),
        (firing(), "wrong-bearer", 401, "credentials"),
        (firing(), "wrong-hmac", 401, "credentials"),
        (firing(), "hmac-of-other-body", 401, "credentials"),
        (firing(), "basic", 401, "credentials"),
        (b"{not json", "bearer", 400, "not JSON"),
        (b"\xff\xfe", "bearer", 400, "not JSON"),
        ([1, 2], "bearer", 400, "the body must be a JSON object"),
        ({**firing(), "groupKey": None}, "bearer", 400, "groupKey must be a string"),
        ({**firing(), "version": "3"}, "bearer", 400, "version"),
        ({**firing(), "alerts": []}, "bearer", 400, "alerts must be a non-empty list"),
        ({**firing(), "commonLabels": {"a": 1}}, "bearer", 400, "commonLabels"),
        ({**firing(), "truncatedAlerts": -1}, "bearer", 400, "truncatedAlerts"),
    ],
)
def test_bad_credentials_and_bodies_are_refused_and_change_nothing(
    alerting: LocalStack, payload: object, headers_auth: str, status: int, says: str
):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    if headers_auth == "wrong-bearer":
        response = post(alerting, None, raw=raw, secret="not-the-secret-at-all")
    elif headers_auth == "wrong-hmac":
        response = post(alerting, None, raw=raw, auth="hmac", secret="not-the-secret-at-all")
    elif headers_auth == "hmac-of-other-body":
        response = alerting.driver.raw(
            raw,
            {SIGNATURE_HEADER: signed(SECRET, raw + b" ")},
            signature="none",
            url=f"{alerting.base_url}/hooks/alertmanager",
        )
    elif headers_auth == "basic":
        response = alerting.driver.raw(
            raw,
            {"Authorization": f"Basic {SECRET}"},
            signature="none",
            url=f"{alerting.base_url}/hooks/alertmanager",
        )
    else:
        response = post(alerting, None, raw=raw, auth=headers_auth)
    assert response.status == status, response.body
    assert response.json()["ok"] is False and says in response.json()["error"]
    assert_nothing_changed(alerting)


@pytest.mark.parametrize(
    ("alert", "says"),
    [
        ({"status": "pending", "labels": {}}, "alerts[0].status must be firing or resolved"),
        ({"status": "firing", "labels": {"severity": 2}}, "alerts[0].labels must be an object"),
        (
            {"status": "firing", "labels": {}, "startsAt": "yesterday"},
            "alerts[0].startsAt must be an RFC 3339 time",
        ),
        ({"status": "firing", "labels": {}, "fingerprint": 7}, "alerts[0].fingerprint"),
        ("firing", "alerts[0] must be a JSON object"),
    ],
)
def test_malformed_alerts_are_named_in_the_refusal(alerting: LocalStack, alert: Any, says: str):
    response = post(alerting, {**firing(), "alerts": [alert]})
    assert response.status == 400 and says in response.json()["error"], response.body
    assert_nothing_changed(alerting)


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        ({"severity": "SEV1"}, "title must be a string (missing)"),
        ({"title": "  "}, "title is empty"),
        ({"title": "x", "status": "ok"}, "status must be firing or resolved"),
        ({"title": "x", "url": "javascript:alert(1)"}, "url must be an http"),
        ({"title": "x", "group": ["a"]}, "group must be a string (a list)"),
    ],
)
def test_malformed_generic_alerts_are_refused(alerting: LocalStack, payload: dict, says: str):
    response = post(alerting, payload, path="/hooks/generic")
    assert response.status == 400 and says in response.json()["error"], response.body
    assert_nothing_changed(alerting)


def test_an_oversized_body_is_refused_before_anything_else(alerting: LocalStack):
    response = post(alerting, None, raw=b"{" + b" " * (2 * 1024 * 1024) + b"}")
    assert response.status == 413 and response.json()["ok"] is False
    assert_nothing_changed(alerting)


def test_when_slack_cannot_say_who_the_bot_is_the_sender_is_asked_to_retry(
    alerting: LocalStack,
):
    alerting.workspace.inject_fault("auth.test", status=500)
    response = post(alerting, firing())
    assert response.status == 503 and response.headers["retry-after"] == "30"
    assert "try again" in response.json()["error"]
    assert_nothing_changed(alerting)
    assert post(alerting, firing()).json()["declared"] is True


def test_webhooks_are_off_without_a_secret(stack: LocalStack):
    for path in ("/hooks/alertmanager", "/hooks/generic"):
        response = post(stack, firing(), path=path)
        assert response.status == 404
        assert "INCIDENTBOT_WEBHOOK_SECRET" in response.json()["error"]
    assert_nothing_changed(stack)


def assert_nothing_changed(stack: LocalStack) -> None:
    with stack.runtime.uow(read_only=True) as uow:
        for model in (Incident, AlertGroup, TimelineEntry, Job):
            assert uow.session.scalar(select(func.count()).select_from(model)) == 0, model
    assert incident_channels(stack) == []
    assert stack.workspace.messages("#incidents") == []


def deliver_at_once(stack: LocalStack, payload: dict, copies: int) -> list[DriverResponse]:
    """``copies`` deliveries of one notification, released together."""
    start = threading.Barrier(copies)
    responses: list[DriverResponse] = []
    lock = threading.Lock()

    def deliver() -> None:
        start.wait()
        response = post(stack, payload)
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=deliver) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


def test_concurrent_deliveries_of_a_new_group_declare_one_incident(alerting: LocalStack):
    for round_, group in enumerate(("Storm1", "Storm2", "Storm3"), start=1):
        responses = deliver_at_once(alerting, firing(group, fingerprint=group), copies=6)
        assert [r.status for r in responses] == [200] * 6, [r.body for r in responses]
        answers = [r.json() for r in responses]
        assert {a["incident"] for a in answers} == {round_}
        assert sum(a["declared"] for a in answers) == 1
        assert sum(a["recorded"] for a in answers) == 1
    alerting.settle()
    assert [i.number for i in incidents(alerting)] == [1, 2, 3]
    assert len(incident_channels(alerting)) == 3
    with alerting.runtime.uow(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(AlertGroup)) == 3

    # The same once the group's incident is closed: one new incident, not one per delivery.
    with alerting.runtime.uow() as uow:
        uow.session.execute(
            update(Incident).where(Incident.number == 1).values(status=Status.CLOSED)
        )
        uow.commit()
    responses = deliver_at_once(alerting, firing("Storm1", fingerprint="Storm1"), copies=6)
    assert [r.status for r in responses] == [200] * 6
    assert {r.json()["incident"] for r in responses} == {4}
    assert sum(r.json()["declared"] for r in responses) == 1
    assert len(incidents(alerting)) == 4
