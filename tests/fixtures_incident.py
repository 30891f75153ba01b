"""A rich incident, in memory, for tests of postmortems and anything else that reads incidents.

INC-7 starts on the evening of Friday 27 November 2026 (New York time) and is resolved, reopened
and resolved again on Saturday 28 November. It goes SEV3 → SEV1 → SEV2, the lead is handed over,
three people in three time zones add backdated notes, messages are pinned, updates are posted,
and action items come with and without owners, types and tracking links. One note holds template
syntax, an HTML tag and table pipes. All times are fixed and in UTC.

Timeline entries carry ids in the order they were recorded, and ``incident.timeline`` lists them
out of order on purpose: whatever renders them has to sort by when things happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from incidentbot.domain.models import (
    ActionItem,
    DocumentStatus,
    EntryKind,
    Incident,
    Person,
    RoleAssignment,
    Status,
    TimelineEntry,
)

ALICE, HANS, PRIYA, BOB = "UALICE", "UHANS", "UPRIYA", "UBOB"
# When the golden postmortems are "generated": action item 1 (due 4 December) is overdue by then.
NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
PERMALINK_ROLLBACK = "https://example.slack.com/archives/C777/p1764281400000200"
PERMALINK_CERT = "https://example.slack.com/archives/C777/p1764320400000300"
NOTE_WITH_MARKUP = "Saw {{ 7*7 }} in the gateway logs | errors | timeouts <script>alert(1)</script>"
SAME_MINUTE = (
    "Severity SEV3 → SEV1",
    "Card network reports elevated declines in the EU",
    "Paging the payments on-call",
)
# Entries corrected after the fact (by id): hans's backdated note on the expired certificate.
EDITED_ENTRY_IDS = frozenset({20})


@dataclass(frozen=True)
class Flag:
    """Shaped like the blameless-language review's flags."""

    rule_id: str
    category: str
    phrase: str
    where: str
    excerpt: str
    why: str
    suggestion: str


def utc(day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


def people() -> dict[str, Person]:
    return {
        user_id: Person(user_id=user_id, display_name=name, timezone=zone, is_bot=False)
        for user_id, name, zone in (
            (ALICE, "alice", "America/Los_Angeles"),
            (HANS, "hans", "Europe/Berlin"),
            (PRIYA, "priya", "Asia/Kolkata"),
            (BOB, "bob", "America/New_York"),
        )
    }


def review_flags() -> list[Flag]:
    return [
        Flag(
            rule_id="hindsight-should-have",
            category="hindsight",
            phrase="should have",
            where="summary",
            excerpt="We should have noticed the certificate",
            why="Hindsight judges a decision by an outcome nobody knew at the time.",
            suggestion="Describe what people knew then and why their actions made sense.",
        ),
        Flag(
            rule_id="blame-human-error",
            category="blame",
            phrase="human error",
            where="timeline entry at 2026-11-28 08:58",
            excerpt="Certificate expiry was a <human error> | again",
            why="Naming a person's error stops the search for the conditions behind it.",
            suggestion="Ask which conditions made the mistake easy to make.",
        ),
    ]


def _status(
    when: datetime,
    author: str,
    before: str,
    after: str,
    text: str,
    *,
    recorded: datetime | None = None,
) -> tuple[datetime, datetime, str, str, str, dict, str | None, str | None]:
    return (
        when,
        recorded or when,
        EntryKind.STATUS,
        author,
        text,
        {"from": before, "to": after},
        None,
        None,
    )


def rich_incident() -> Incident:
    """INC-7, closed, as it stands after the second day; see the module docstring."""
    incident = Incident(
        id=7,
        number=7,
        title="Checkout payments failing for EU customers",
        severity="SEV2",
        status=Status.CLOSED,
        private=False,
        summary=(
            "An expired certificate on the EU card gateway made card payments fail.\n"
            "A failover to the US gateway mitigated it; rotating the certificate the next "
            "morning fixed it."
        ),
        impact=None,
        declared_by=ALICE,
        channel_id="C777",
        channel_name="inc-7-checkout-payments-failing-for-eu-customers",
        declared_at=utc(27, 22, 10),
        impact_started_at=utc(27, 21, 58),
        mitigated_at=utc(28, 11, 10),
        resolved_at=utc(28, 11, 30),
        closed_at=utc(28, 15, 0),
        reopened_count=1,
        postmortem_status=DocumentStatus.IN_REVIEW,
    )
    incident.roles = [
        RoleAssignment(
            id=1,
            role="lead",
            user_id=ALICE,
            assigned_by=ALICE,
            started_at=utc(27, 22, 10),
            ended_at=utc(28, 9, 5),
        ),
        RoleAssignment(
            id=2, role="comms", user_id=HANS, assigned_by=ALICE, started_at=utc(27, 22, 12)
        ),
        RoleAssignment(
            id=3, role="scribe", user_id=BOB, assigned_by=ALICE, started_at=utc(27, 22, 30)
        ),
        RoleAssignment(
            id=4, role="lead", user_id=HANS, assigned_by=ALICE, started_at=utc(28, 9, 5)
        ),
    ]

    # (occurred, recorded, kind, author, text, details, permalink, source author), in the order
    # they were recorded; ids follow this order.
    recorded = [
        (utc(27, 22, 10), utc(27, 22, 10), EntryKind.DECLARED, ALICE,
         "Incident declared: Checkout payments failing for EU customers (SEV3)",
         {"severity": "SEV3"}, None, None),
        (utc(27, 22, 10), utc(27, 22, 10), EntryKind.ROLE, ALICE, "alice is now lead",
         {"role": "lead", "to": ALICE}, None, None),
        (utc(27, 22, 12), utc(27, 22, 12), EntryKind.ROLE, ALICE, "hans is now comms",
         {"role": "comms", "to": HANS}, None, None),
        (utc(27, 22, 15, 5), utc(27, 22, 15, 5), EntryKind.SEVERITY, ALICE, SAME_MINUTE[0],
         {"from": "SEV3", "to": "SEV1"}, None, None),
        (utc(27, 22, 15, 30), utc(27, 22, 15, 30), EntryKind.NOTE, HANS, SAME_MINUTE[1],
         None, None, None),
        (utc(27, 22, 15, 30), utc(27, 22, 15, 31), EntryKind.NOTE, PRIYA, SAME_MINUTE[2],
         None, None, None),
        (utc(27, 22, 20), utc(27, 22, 26), EntryKind.PINNED, BOB,
         "Rolled back payments-api to v2.14.1", None, PERMALINK_ROLLBACK, PRIYA),
        (utc(27, 22, 25), utc(27, 22, 25), EntryKind.UPDATE, HANS,
         "We are investigating failed card payments for EU customers. Next update in 30 minutes.",
         None, None, None),
        (utc(27, 22, 30), utc(27, 22, 30), EntryKind.ROLE, ALICE, "bob is now scribe",
         {"role": "scribe", "to": BOB}, None, None),
        # Backdated by priya (Asia/Kolkata): she typed it at 04:01 IST about 03:32 IST.
        (utc(27, 22, 2), utc(27, 22, 31), EntryKind.NOTE, PRIYA,
         "First alerts: payment authorisation p99 above 8 s", None, None, None),
        (utc(27, 22, 40), utc(27, 22, 40), EntryKind.NOTE, ALICE, NOTE_WITH_MARKUP,
         None, None, None),
        # Backdated by alice (America/Los_Angeles): typed at 14:48 PST about 14:05 PST.
        (utc(27, 22, 5), utc(27, 22, 48), EntryKind.NOTE, ALICE,
         "Checkout error rate spiking on the EU dashboard", None, None, None),
        _status(utc(27, 23, 5), ALICE, "investigating", "identified",
                "Status: investigating → identified: the EU gateway rejects TLS handshakes"),
        (utc(27, 23, 30), utc(27, 23, 30), EntryKind.SEVERITY, ALICE, "Severity SEV1 → SEV2",
         {"from": "SEV1", "to": "SEV2"}, None, None),
        _status(utc(27, 23, 45), ALICE, "identified", "monitoring",
                "Status: identified → monitoring: failed over to the US gateway"),
        _status(utc(28, 3, 10), ALICE, "monitoring", "resolved",
                "Status: monitoring → resolved: error rate back to baseline"),
        _status(utc(28, 9, 0), HANS, "resolved", "investigating",
                "Reopened: declines are back in the EU"),
        (utc(28, 9, 5), utc(28, 9, 5), EntryKind.ROLE, ALICE, "Lead handed over from alice to hans",
         {"role": "lead", "from": ALICE, "to": HANS}, None, None),
        (utc(28, 9, 20), utc(28, 9, 20), EntryKind.ACTION, HANS,
         "Action item added: Alert on certificate expiry for every gateway", None, None, None),
        # Backdated by hans (Europe/Berlin): typed at 11:15 CET about 09:58 CET.
        (utc(28, 8, 58), utc(28, 10, 15), EntryKind.NOTE, HANS,
         "EU card gateway certificate expired at 08:55 UTC", None, None, None),
        (utc(28, 10, 40), utc(28, 10, 41), EntryKind.PINNED, HANS,
         "Certificate rotated on eu-gw-1 and eu-gw-2", None, PERMALINK_CERT, BOB),
        _status(utc(28, 11, 10), HANS, "investigating", "monitoring",
                "Status: investigating → monitoring: new certificate serving"),
        _status(utc(28, 11, 30), HANS, "monitoring", "resolved",
                "Status: monitoring → resolved: payments succeeding in all regions"),
        (utc(28, 11, 35), utc(28, 11, 35), EntryKind.UPDATE, HANS,
         "Resolved: card payments are working again for all customers.", None, None, None),
        _status(utc(28, 15, 0), HANS, "resolved", "closed", "Status: resolved → closed"),
    ]  # fmt: skip
    entries = [
        TimelineEntry(
            id=index,
            occurred_at=occurred,
            recorded_at=noted,
            kind=kind,
            author_id=author,
            text=text,
            details=details,
            permalink=permalink,
            source_author_id=source,
        )
        for index, (occurred, noted, kind, author, text, details, permalink, source) in enumerate(
            recorded, start=1
        )
    ]
    # Newest first, as a careless query might return them.
    incident.timeline = list(reversed(entries))

    incident.action_items = [
        ActionItem(
            id=1,
            text="Alert on certificate expiry for every gateway",
            owner_id=HANS,
            due_date=date(2026, 12, 4),
            kind="detect",
            tracking_url="https://tracker.example.com/browse/PAY-101",
            status="open",
        ),
        ActionItem(
            id=2,
            text="Automate certificate rotation for the card gateways",
            owner_id=PRIYA,
            due_date=date(2026, 12, 18),
            kind="prevent",
            tracking_url=None,
            status="open",
        ),
        ActionItem(
            id=3,
            text="Write a runbook for card network declines | escalation paths",
            owner_id=None,
            due_date=None,
            kind=None,
            tracking_url=None,
            status="open",
        ),
        ActionItem(
            id=4,
            text="Review the SEV1 paging policy",
            owner_id=None,
            due_date=date(2026, 11, 20),
            kind="process",
            tracking_url="https://tracker.example.com/browse/OPS-7",
            status="done",
        ),
    ]
    return incident
