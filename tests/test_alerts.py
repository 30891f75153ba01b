"""The alert core: reading Alertmanager's and the generic format, and recording alerts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from incidentbot.domain.models import AlertGroup, Counter, Incident, Severity
from incidentbot.services import alerts
from incidentbot.services.alerts import AlertPayloadError, parse_alertmanager, parse_generic
from tests.test_e2e_alerts import firing, resolved


@pytest.mark.parametrize(
    ("value", "severity"),
    [
        ("critical", Severity.SEV1),
        ("CRITICAL", Severity.SEV1),
        ("error", Severity.SEV2),
        ("major", Severity.SEV2),
        ("warning", Severity.SEV3),
        ("info", Severity.SEV4),
        ("SEV1", Severity.SEV1),
        ("sev2", Severity.SEV2),
        ("3", Severity.SEV3),
        ("4", Severity.SEV4),
        ("5", None),
        ("page", None),
        ("", None),
        (None, None),
    ],
)
def test_severity_labels_map_to_severities(value: str | None, severity: Severity | None):
    assert alerts.severity_from(value) == severity


def test_an_alertmanager_notification_is_read_with_its_times_and_the_most_severe_alert():
    payload = firing(severity="warning")
    critical = {
        **payload["alerts"][0],
        "labels": {**payload["alerts"][0]["labels"], "severity": "critical"},
        "fingerprint": "other",
    }
    payload["alerts"].append(critical)
    notification = parse_alertmanager(payload)
    assert notification.source == "alertmanager"
    assert notification.title == "Checkout 5xx above 5%"
    assert notification.severity == Severity.SEV1
    first = notification.alerts[0]
    # Go's nanoseconds are cut to microseconds; its zero time means "has not ended".
    assert first.starts_at == datetime(2026, 11, 27, 13, 58, 0, 123456, tzinfo=UTC)
    assert first.ends_at is None
    assert first.url == "http://prometheus.internal:9090/graph?g0.expr=rate"


def test_without_a_summary_the_title_is_the_alert_name_or_the_receiver():
    payload = firing()
    payload["commonAnnotations"] = {}
    payload["alerts"][0]["annotations"] = {}
    assert parse_alertmanager(payload).title == "HighErrorRate"
    del payload["alerts"][0]["labels"]["alertname"]
    payload["commonLabels"] = {}
    assert parse_alertmanager(payload).title == "Alert from incidentbot"


def test_truncated_alerts_are_mentioned_in_the_summary():
    payload = {**firing(), "truncatedAlerts": 3}
    assert "left out 3 more alerts" in (parse_alertmanager(payload).summary or "")


def test_non_web_generator_urls_are_dropped():
    payload = firing()
    payload["alerts"][0]["generatorURL"] = "javascript:alert(1)"
    assert parse_alertmanager(payload).alerts[0].url is None


def test_the_generic_format_groups_by_title_unless_told():
    notification = parse_generic({"title": "Disk full", "severity": "warning"})
    assert (notification.group_key, notification.severity) == ("Disk full", Severity.SEV3)
    assert notification.alerts[0].status == "firing" and notification.alerts[0].identity is None
    with pytest.raises(AlertPayloadError, match="severity must be a string"):
        parse_generic({"title": "Disk full", "severity": 1})


def test_a_delivery_that_loses_the_race_for_a_new_group_joins_the_winners_incident(
    uow_factory, monkeypatch
):
    """What a concurrent delivery meets on PostgreSQL, made deterministic: it looked for the
    group's incident before the winner committed, so it declares too, and the group's unique
    key turns its declaration back."""
    notification = parse_alertmanager(firing())
    with uow_factory() as uow:
        won = alerts.receive_alerts(uow=uow, notification=notification, declared_by="UBOT")
        uow.commit()
    assert won.declared and won.incident_number == 1

    looked = []
    real = alerts._group_incident

    def stale_first_look(uow, open_key):  # type: ignore[no-untyped-def]
        looked.append(open_key)
        return None if len(looked) == 1 else real(uow, open_key)

    monkeypatch.setattr(alerts, "_group_incident", stale_first_look)
    with uow_factory() as uow:
        lost = alerts.receive_alerts(uow=uow, notification=notification, declared_by="UBOT")
        uow.commit()
    assert len(looked) == 2
    assert (lost.incident_number, lost.declared, lost.recorded) == (1, False, 0)
    with uow_factory() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Incident)) == 1
        assert uow.session.scalar(select(func.count()).select_from(AlertGroup)) == 1
        # The undone declaration gave its number back.
        assert uow.session.get(Counter, "incident").value == 1  # type: ignore[union-attr]


def test_resolved_alerts_after_their_incident_closed_declare_nothing(uow_factory):
    notification = parse_alertmanager(firing())
    with uow_factory() as uow:
        alerts.receive_alerts(uow=uow, notification=notification, declared_by="UBOT")
        uow.session.scalars(select(Incident)).one().status = "closed"
        uow.commit()
    with uow_factory() as uow:
        outcome = alerts.receive_alerts(
            uow=uow, notification=parse_alertmanager(resolved(firing())), declared_by="UBOT"
        )
        uow.commit()
    assert outcome.incident_number is None
    with uow_factory() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Incident)) == 1
