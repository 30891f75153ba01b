"""Sample incidents that ``PostmortemRenderer.check`` renders every template against.

Two extremes, so that a template's branches for "known" and "nothing known yet" both run: a
closed incident with everything (several days, reopened, severity changes, a handover, recorded
milestones with notes around them, pinned messages, updates, action items with and without
owners) and one declared a minute ago with nothing at all; and a third recorded after the fact,
whose acknowledgement is not measured. In-memory model objects only; no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from incidentbot.domain.models import (
    ActionItem,
    DocumentStatus,
    EntryKind,
    Incident,
    Person,
    RoleAssignment,
    Severity,
    Status,
    TimelineEntry,
)

SAMPLE_NOW = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)
_START = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)


@dataclass(frozen=True)
class SampleFlag:
    """Shaped like a blameless-language review flag."""

    rule_id: str
    category: str
    phrase: str
    where: str
    excerpt: str
    why: str
    suggestion: str


def sample_people() -> dict[str, Person]:
    return {
        user_id: Person(user_id=user_id, display_name=name, timezone=zone, is_bot=False)
        for user_id, name, zone in (
            ("USAMPLE1", "sam", "America/Los_Angeles"),
            ("USAMPLE2", "kim", "Europe/Berlin"),
            ("USAMPLE3", "ravi", "Asia/Kolkata"),
        )
    }


def sample_review() -> list[SampleFlag]:
    return [
        SampleFlag(
            rule_id="hindsight-should-have",
            category="hindsight",
            phrase="should have",
            where="timeline",
            excerpt="We should have checked the certificate",
            why="Hindsight judges a decision by an outcome nobody knew at the time.",
            suggestion="Describe what people knew and why the action made sense then.",
        )
    ]


def sample_incidents() -> list[Incident]:
    return [sample_incident(), sample_fresh_incident(), sample_past_incident()]


def _at(minutes: float) -> datetime:
    return _START + timedelta(minutes=minutes)


def _entry(
    minutes: float,
    kind: str,
    text: str,
    author: str | None = "USAMPLE1",
    *,
    recorded: float | None = None,
    details: dict | None = None,
    permalink: str | None = None,
    source_author: str | None = None,
) -> TimelineEntry:
    return TimelineEntry(
        occurred_at=_at(minutes),
        recorded_at=_at(minutes if recorded is None else recorded),
        kind=kind,
        author_id=author,
        source_author_id=source_author,
        text=text,
        details=details,
        permalink=permalink,
    )


def sample_incident() -> Incident:
    """A closed, reopened SEV3→SEV1→SEV2 incident over two days, with everything recorded."""
    day = 24 * 60
    incident = Incident(
        number=1,
        title="Sample: card payments failing",
        severity=Severity.SEV2,
        status=Status.CLOSED,
        private=False,
        summary="Card payments failed after a gateway certificate expired.",
        impact="About 8% of card payments failed for two hours.",
        declared_by="USAMPLE1",
        channel_id="CSAMPLE",
        channel_name="inc-1-sample-card-payments-failing",
        declared_at=_at(10),
        impact_started_at=_at(0),
        detected_at=_at(5),
        mitigated_at=_at(day + 60),
        resolved_at=_at(day + 90),
        closed_at=_at(day + 120),
        reopened_count=1,
        postmortem_status=DocumentStatus.IN_REVIEW,
    )
    incident.roles = [
        RoleAssignment(
            role="lead",
            user_id="USAMPLE1",
            assigned_by="USAMPLE1",
            started_at=_at(10),
            ended_at=_at(day),
        ),
        RoleAssignment(
            role="comms", user_id="USAMPLE2", assigned_by="USAMPLE1", started_at=_at(12)
        ),
        RoleAssignment(
            role="lead", user_id="USAMPLE3", assigned_by="USAMPLE1", started_at=_at(day)
        ),
    ]
    permalink = "https://example.slack.com/archives/CSAMPLE/p1773173100000100"
    incident.timeline = [
        _entry(10, EntryKind.DECLARED, "Incident declared", details={"severity": "SEV3"}),
        _entry(0, EntryKind.IMPACT_START, "Impact started", recorded=35),
        _entry(5, EntryKind.DETECTED, "Detected: the payments alert fired", recorded=35),
        _entry(2, EntryKind.NOTE, "First alerts fired", "USAMPLE3", recorded=30),
        _entry(12, EntryKind.ROLE, "kim is now comms", details={"role": "comms"}),
        _entry(15, EntryKind.SEVERITY, "SEV3 → SEV1", details={"from": "SEV3", "to": "SEV1"}),
        _entry(
            20, EntryKind.PINNED, "Rolled back", None, permalink=permalink, source_author="USAMPLE2"
        ),
        _entry(25, EntryKind.UPDATE, "We are investigating failed card payments.", "USAMPLE2"),
        _entry(30, EntryKind.ACTION, "Action item added: alert on expiry"),
        _entry(40, EntryKind.SEVERITY, "SEV1 → SEV2", details={"from": "SEV1", "to": "SEV2"}),
        _entry(
            60,
            EntryKind.STATUS,
            "investigating → resolved",
            details={"from": "investigating", "to": "resolved"},
        ),
        _entry(
            day - 30,
            EntryKind.STATUS,
            "resolved → investigating",
            "USAMPLE3",
            details={"from": "resolved", "to": "investigating"},
        ),
        _entry(day, EntryKind.ROLE, "ravi is now lead", details={"role": "lead"}),
        _entry(day + 55, EntryKind.NOTE, "Failed over to the standby gateway", "USAMPLE3"),
        _entry(
            day + 60,
            EntryKind.STATUS,
            "investigating → monitoring",
            "USAMPLE3",
            details={"from": "investigating", "to": "monitoring"},
        ),
        _entry(
            day + 90,
            EntryKind.STATUS,
            "monitoring → resolved",
            "USAMPLE3",
            details={"from": "monitoring", "to": "resolved"},
        ),
        _entry(day + 95, EntryKind.UPDATE, "Card payments are working again.", "USAMPLE2"),
        _entry(
            day + 120,
            EntryKind.STATUS,
            "resolved → closed",
            details={"from": "resolved", "to": "closed"},
        ),
    ]
    incident.action_items = [
        ActionItem(
            text="Alert on certificate expiry",
            owner_id="USAMPLE2",
            due_date=date(2026, 3, 20),
            kind="detect",
            tracking_url="https://tracker.example.com/browse/PAY-1",
            status="open",
        ),
        ActionItem(text="Rotate certificates automatically", owner_id=None, status="done"),
        ActionItem(
            text="Review paging", owner_id="USAMPLE3", due_date=date(2026, 3, 1), kind="process"
        ),
    ]
    return incident


def sample_fresh_incident() -> Incident:
    """Declared a moment before ``SAMPLE_NOW``: no channel, roles, timeline or action items."""
    moment = SAMPLE_NOW - timedelta(minutes=1)
    incident = Incident(
        number=2,
        title="Sample: just declared",
        severity=Severity.SEV4,
        status=Status.INVESTIGATING,
        private=True,
        summary=None,
        impact=None,
        declared_by="USAMPLE1",
        channel_id=None,
        channel_name=None,
        declared_at=moment,
        impact_started_at=moment,
        mitigated_at=None,
        resolved_at=None,
        closed_at=None,
        reopened_count=0,
        postmortem_status=None,
    )
    incident.roles = []
    incident.timeline = []
    incident.action_items = []
    return incident


def sample_past_incident() -> Incident:
    """Recorded the day before ``SAMPLE_NOW``, about an outage a week earlier that is over."""
    start = _START - timedelta(days=7)
    recorded = SAMPLE_NOW - timedelta(days=1)

    def past(minutes: float, kind: str, text: str, **details: str) -> TimelineEntry:
        return TimelineEntry(
            occurred_at=start + timedelta(minutes=minutes),
            recorded_at=recorded,
            kind=kind,
            author_id="USAMPLE2",
            text=text,
            details=details or None,
        )

    incident = Incident(
        number=3,
        title="Sample: search outage, recorded after the fact",
        severity=Severity.SEV3,
        status=Status.RESOLVED,
        private=False,
        summary=None,
        impact=None,
        declared_by="USAMPLE2",
        channel_id="CPAST",
        channel_name="inc-3-sample-search-outage",
        declared_at=start + timedelta(minutes=20),
        impact_started_at=start,
        detected_at=start + timedelta(minutes=20),
        mitigated_at=start + timedelta(minutes=50),
        resolved_at=start + timedelta(minutes=70),
        closed_at=None,
        reopened_count=0,
        after_the_fact=True,
        postmortem_status=None,
    )
    incident.roles = [
        RoleAssignment(role="lead", user_id="USAMPLE2", assigned_by="USAMPLE2", started_at=recorded)
    ]
    incident.timeline = [
        past(20, EntryKind.DECLARED, "Incident recorded after the fact", severity="SEV3"),
        past(0, EntryKind.IMPACT_START, "Impact started"),
        past(20, EntryKind.DETECTED, "Detected"),
        past(10, EntryKind.NOTE, "Search latency climbed after the index rebuild"),
        past(50, EntryKind.MITIGATED, "Mitigated: the impact ended"),
        past(70, EntryKind.STATUS, "investigating → resolved", to="resolved"),
    ]
    incident.action_items = []
    return incident
