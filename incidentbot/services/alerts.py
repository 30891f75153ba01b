"""Alerts from monitoring: Prometheus Alertmanager's webhook, and a small generic format.

A firing alert declares an incident through ``declare_incident``, as ``/incident declare``
does, unless its group (Alertmanager's ``groupKey``, the generic format's ``group``) already
has an incident that is not closed: then it joins that incident's timeline. Resolved alerts are
noted on the timeline; whether the incident is over is for people to say.

Alertmanager repeats a group's notification while its alerts keep firing and resends all of
them whenever one changes, so each alert is recorded once per state: firing from a start time,
and resolved. Entries carry a ``source_key`` naming that state, which the database keeps unique
per incident.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dateutil.parser import isoparse
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from incidentbot.domain.errors import IncidentError
from incidentbot.domain.models import (
    AlertGroup,
    EntryKind,
    Incident,
    Severity,
    Status,
)
from incidentbot.domain.text import clip, printable
from incidentbot.infra import jobs
from incidentbot.infra.uow import UnitOfWork
from incidentbot.services.impact import set_milestone
from incidentbot.services.incidents import MAX_TITLE, declare_incident
from incidentbot.services.timeline import MAX_TEXT, record_once
from incidentbot.services.vocabulary import parse_severity

ALERTMANAGER = "alertmanager"
GENERIC = "generic"
FIRING = "firing"
RESOLVED = "resolved"
ALERT_STATES = (FIRING, RESOLVED)

# An alert without a usable severity label declares at the severity `/incident declare` uses.
DEFAULT_SEVERITY = Severity.SEV3
# Words monitoring tools put in a severity label; SEV1..4 and 1..4 are read as they are.
SEVERITY_WORDS = {
    "critical": Severity.SEV1,
    "error": Severity.SEV2,
    "major": Severity.SEV2,
    "warning": Severity.SEV3,
    "info": Severity.SEV4,
}

# Go's zero time: what Alertmanager sends as the end of an alert that has not ended.
_UNSET_YEAR = 1


class AlertPayloadError(IncidentError):
    """A webhook body that is not a notification we understand; the message says what is
    wrong, for whoever configures the sender."""


@dataclass(frozen=True)
class Alert:
    """One alert's state, as the sender reported it."""

    status: str
    name: str
    summary: str | None = None
    description: str | None = None
    severity: Severity | None = None
    url: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    # What identifies this alert across notifications (None: nothing does, record each time).
    identity: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    def text(self) -> str:
        """How the timeline shows it: "Alert firing: HighErrorRate: checkout 5xx above 5%"."""
        text = f"Alert {self.status}: {self.name}"
        if self.summary and self.summary != self.name:
            text += f": {self.summary}"
        if self.url:
            text += f" ({self.url})"
        return clip(text, MAX_TEXT)


@dataclass(frozen=True)
class Notification:
    """One delivery: a group's alerts, and what to call an incident declared for them."""

    source: str
    group_key: str
    title: str
    alerts: tuple[Alert, ...]
    summary: str | None = None

    @property
    def open_key(self) -> str:
        return hashlib.sha256(f"{self.source}\0{self.group_key}".encode()).hexdigest()

    @property
    def severity(self) -> Severity:
        """The most severe of the firing alerts' severities (SEV1 sorts first)."""
        known = [a.severity for a in self.alerts if a.status == FIRING and a.severity]
        return min(known, default=DEFAULT_SEVERITY)


@dataclass(frozen=True)
class Outcome:
    """What a delivery did: the incident it declared or joined (None: none), and how many
    timeline entries it added."""

    incident_number: int | None
    declared: bool
    recorded: int


# -- reading the senders' formats ---------------------------------------------------------


def severity_from(value: object) -> Severity | None:
    """``critical``→SEV1, ``error``/``major``→SEV2, ``warning``→SEV3, ``info``→SEV4, and
    ``SEV2``/``2`` as they are; None for anything else."""
    if not isinstance(value, str) or not value.strip():
        return None
    word = value.strip().lower()
    if word in SEVERITY_WORDS:
        return SEVERITY_WORDS[word]
    try:
        return parse_severity(word)
    except IncidentError:
        return None


def parse_alertmanager(body: object, *, severity_label: str = "severity") -> Notification:
    """Alertmanager's webhook payload (version 4), or ``AlertPayloadError`` naming what is
    wrong with it."""
    payload = _object(body, "the body")
    version = payload.get("version")
    if version is not None and version != "4":
        raise AlertPayloadError(
            f"version is {_shown(version)}; this endpoint reads Alertmanager's webhook version 4."
        )
    group_key = _text(payload, "groupKey", where="the body", required=True)
    assert group_key is not None
    receiver = _text(payload, "receiver", where="the body")
    _one_of(payload, "status", ALERT_STATES, where="the body")
    common_labels = _labels(payload, "commonLabels", where="the body")
    common_annotations = _labels(payload, "commonAnnotations", where="the body")
    _labels(payload, "groupLabels", where="the body")
    _text(payload, "externalURL", where="the body")
    truncated = payload.get("truncatedAlerts", 0)
    if not isinstance(truncated, int) or isinstance(truncated, bool) or truncated < 0:
        raise AlertPayloadError(f"truncatedAlerts must be a whole number, not {_shown(truncated)}.")
    raw_alerts = payload.get("alerts")
    if not isinstance(raw_alerts, list) or not raw_alerts:
        raise AlertPayloadError("alerts must be a non-empty list of alerts.")

    alerts = []
    for index, raw in enumerate(raw_alerts):
        where = f"alerts[{index}]"
        item = _object(raw, where)
        status = _one_of(item, "status", ALERT_STATES, where=where, required=True)
        labels = _labels(item, "labels", where=where)
        annotations = _labels(item, "annotations", where=where)
        starts_at = _moment(item, "startsAt", where=where)
        ends_at = _moment(item, "endsAt", where=where)
        fingerprint = _text(item, "fingerprint", where=where)
        url = _text(item, "generatorURL", where=where)
        merged = {**common_labels, **labels}
        identity = fingerprint or json.dumps(merged, sort_keys=True)
        alerts.append(
            Alert(
                status=status,
                name=labels.get("alertname") or common_labels.get("alertname") or "alert",
                summary=annotations.get("summary") or None,
                description=annotations.get("description") or None,
                severity=severity_from(merged.get(severity_label)),
                # Only a web link is worth showing; anything else is not followed anywhere.
                url=url if url and _is_web_url(url) else None,
                starts_at=starts_at,
                ends_at=ends_at,
                identity=f"{identity}\0{starts_at.isoformat() if starts_at else ''}",
                labels=merged,
            )
        )
    first = next((a for a in alerts if a.status == FIRING), alerts[0])
    title = (
        common_annotations.get("summary")
        or first.summary
        or first.labels.get("alertname")
        or f"Alert from {receiver or 'Alertmanager'}"
    )
    summary = common_annotations.get("description") or first.description
    if truncated:
        more = f"Alertmanager left out {truncated} more alert{'s' if truncated != 1 else ''}."
        summary = f"{summary}\n\n{more}" if summary else more
    return Notification(
        source=ALERTMANAGER,
        group_key=group_key,
        title=title,
        alerts=tuple(alerts),
        summary=summary,
    )


GENERIC_FORMAT = (
    '{"title": "...", "status": "firing" or "resolved", "group": "...", "severity": "SEV2" or '
    '"critical", "summary": "...", "url": "https://...", "id": "..."}, title required'
)


def parse_generic(body: object) -> Notification:
    """The generic format (see ``GENERIC_FORMAT`` and the README), or ``AlertPayloadError``."""
    payload = _object(body, "the body")
    title = _text(payload, "title", where="the body", required=True)
    assert title is not None
    status = _one_of(payload, "status", ALERT_STATES, where="the body") or FIRING
    group = _text(payload, "group", where="the body") or title
    severity_text = _text(payload, "severity", where="the body")
    summary = _text(payload, "summary", where="the body")
    url = _text(payload, "url", where="the body")
    if url and not _is_web_url(url):
        raise AlertPayloadError(f"url must be an http:// or https:// address, not {_shown(url)}.")
    event_id = _text(payload, "id", where="the body")
    alert = Alert(
        status=status,
        name=title,
        summary=summary,
        severity=severity_from(severity_text),
        url=url,
        identity=f"{group}\0{event_id}" if event_id else None,
    )
    return Notification(
        source=GENERIC, group_key=group, title=title, alerts=(alert,), summary=summary
    )


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise AlertPayloadError(f"{where} must be a JSON object, not {_kind(value)}.")
    return value


def _text(
    payload: Mapping[str, Any], name: str, *, where: str, required: bool = False
) -> str | None:
    value = payload.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        what = "missing" if value is None else _kind(value)
        raise AlertPayloadError(f"{_field(where, name)} must be a string ({what}).")
    value = printable(value).strip()
    if required and not value:
        raise AlertPayloadError(f"{_field(where, name)} is empty.")
    return value


def _one_of(
    payload: Mapping[str, Any],
    name: str,
    choices: Sequence[str],
    *,
    where: str,
    required: bool = False,
) -> str:
    value = _text(payload, name, where=where, required=required)
    if value is None:
        return ""
    if value not in choices:
        raise AlertPayloadError(
            f"{_field(where, name)} must be {' or '.join(choices)}, not {_shown(value)}."
        )
    return value


def _labels(payload: Mapping[str, Any], name: str, *, where: str) -> dict[str, str]:
    value = payload.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise AlertPayloadError(f"{_field(where, name)} must be an object of strings.")
    return {printable(k): printable(v) for k, v in value.items()}


def _moment(payload: Mapping[str, Any], name: str, *, where: str) -> datetime | None:
    value = _text(payload, name, where=where)
    if not value:
        return None
    try:
        moment = isoparse(value)
    except (ValueError, OverflowError):
        raise AlertPayloadError(
            f"{_field(where, name)} must be an RFC 3339 time such as 2026-11-30T10:00:00Z, "
            f"not {_shown(value)}."
        ) from None
    if moment.tzinfo is None:
        raise AlertPayloadError(f"{_field(where, name)} must name its zone (Z or +01:00).")
    return None if moment.year == _UNSET_YEAR else moment


def _field(where: str, name: str) -> str:
    return name if where == "the body" else f"{where}.{name}"


def _kind(value: object) -> str:
    return {
        type(None): "null",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _shown(value: object) -> str:
    shown = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return f"“{clip(shown, 60)}”"


def _is_web_url(value: str) -> bool:
    return re.match(r"https?://[^\s/]", value, flags=re.IGNORECASE) is not None


# -- recording them -------------------------------------------------------------------------


def receive_alerts(*, uow: UnitOfWork, notification: Notification, declared_by: str) -> Outcome:
    """Declare an incident for the notification's group, or add to the one it has; record
    each alert's new state on its timeline. ``declared_by`` (the bot's user) is the declarer
    and the author of the entries. The caller commits."""
    firing = any(alert.status == FIRING for alert in notification.alerts)
    incident = _group_incident(uow, notification.open_key)
    declared = False
    if incident is None:
        if not firing:
            # Resolved alerts of a group with no incident open: nothing to add them to.
            return Outcome(incident_number=None, declared=False, recorded=0)
        incident, declared = _declare(uow, notification, declared_by=declared_by)
    recorded = sum(
        _record(uow, incident, notification, alert, author_id=declared_by)
        for alert in notification.alerts
    )
    return Outcome(incident_number=incident.number, declared=declared, recorded=recorded)


def _group_incident(uow: UnitOfWork, open_key: str) -> Incident | None:
    """The incident the group's alerts go to; a closed one frees the group."""
    group = uow.session.scalar(select(AlertGroup).where(AlertGroup.open_key == open_key))
    if group is None:
        return None
    incident = uow.session.get(Incident, group.incident_id)
    assert incident is not None
    if incident.status != Status.CLOSED:
        return incident
    # Conditional, so that of deliveries racing here one frees it; PostgreSQL makes the
    # others wait for that one's commit and then find nothing left to free.
    uow.session.execute(
        update(AlertGroup)
        .where(AlertGroup.id == group.id, AlertGroup.open_key == open_key)
        .values(open_key=None)
        .execution_options(synchronize_session=False)
    )
    return None


_CLAIM_GROUP = {
    name: dialect.insert(AlertGroup.__table__)
    .on_conflict_do_nothing(index_elements=["open_key"])
    .returning(AlertGroup.__table__.c.id)
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
}


def _declare(
    uow: UnitOfWork, notification: Notification, *, declared_by: str
) -> tuple[Incident, bool]:
    """Declare the group's incident and claim the group for it; if another delivery claimed
    it first, undo this declaration and use that one's incident (False: not declared here)."""
    for _ in range(3):
        savepoint = uow.session.begin_nested()
        incident = declare_incident(
            uow=uow,
            title=clip(" ".join(notification.title.split()), MAX_TITLE) or "Alert",
            declared_by=declared_by,
            severity=notification.severity,
            summary=clip(notification.summary, MAX_TEXT) if notification.summary else None,
            without_lead=True,
        )
        claimed = uow.session.execute(
            _CLAIM_GROUP[uow.session.get_bind().dialect.name],
            {
                "source": notification.source,
                "group_key": notification.group_key,
                "open_key": notification.open_key,
                "incident_id": incident.id,
                "created_at": uow.now(),
            },
        ).scalar()
        if claimed is not None:
            savepoint.commit()
            # The users were affected from when the alert started firing, not from when it
            # reached us: time to detect measures exactly that gap.
            started = [
                a.starts_at for a in notification.alerts if a.status == FIRING and a.starts_at
            ]
            if started and min(started) < incident.declared_at:
                set_milestone(
                    uow=uow,
                    incident=incident,
                    kind=EntryKind.IMPACT_START,
                    moment=min(started),
                    set_by=declared_by,
                    comment=f"the alert started firing ({notification.source})",
                    policy=None,
                )
            return incident, True
        # Another delivery of this group declared at the same time and committed first (on
        # PostgreSQL the insert waited for it): its incident is the group's.
        savepoint.rollback()
        existing = _group_incident(uow, notification.open_key)
        if existing is not None:
            return existing, False
    raise RuntimeError(f"alert group {notification.open_key} kept changing hands")


def _record(
    uow: UnitOfWork,
    incident: Incident,
    notification: Notification,
    alert: Alert,
    *,
    author_id: str,
) -> bool:
    """Put the alert's state on the timeline, unless it is there already; True if added."""
    key = None
    if alert.identity is not None:
        digest = hashlib.sha256(
            f"{notification.source}\0{notification.group_key}\0{alert.identity}\0{alert.status}".encode()
        ).hexdigest()
        key = f"alert:{digest[:40]}"
    now = uow.now()
    moment = alert.starts_at if alert.status == FIRING else alert.ends_at
    details: dict[str, object] = {
        "source": notification.source,
        "group": clip(notification.group_key, 500),
        "status": alert.status,
        "alert": alert.name,
        "labels": dict(alert.labels),
    }
    if alert.description:
        details["description"] = clip(alert.description, MAX_TEXT)
    if alert.url:
        details["url"] = alert.url
    entry = record_once(
        uow=uow,
        incident=incident,
        kind=EntryKind.ALERT,
        author_id=author_id,
        text=alert.text(),
        source_key=key,
        # At the alert's own time, so the timeline shows when it really fired; a clock
        # ahead of ours cannot put it in the future.
        occurred_at=min(moment, now) if moment else now,
        details=details,
    )
    if entry is None:
        return False  # recorded before, or by a concurrent delivery of the same state
    uow.enqueue(jobs.ECHO_ENTRY, incident=incident, entry_id=entry.id)
    return True
