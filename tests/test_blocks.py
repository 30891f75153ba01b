"""Block Kit builders are pure: the same incident always gives the same JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from incidentbot.emulator import validate_blocks, validate_view
from incidentbot.models import EntryKind, Incident, RoleAssignment, TimelineEntry
from incidentbot.slack import blocks, ids

DECLARED = datetime(2026, 11, 27, 21, 50, tzinfo=UTC)


def incident(**overrides) -> Incident:
    values = dict(
        number=7,
        title="Checkout API returning 500s",
        severity="SEV2",
        status="identified",
        private=False,
        declared_by="UALICE",
        declared_at=DECLARED,
        impact_started_at=DECLARED,
        channel_id="C0007",
        reopened_count=0,
    )
    values.update(overrides)
    made = Incident(**values)
    made.roles = [
        RoleAssignment(role="lead", user_id="UBOB", assigned_by="UALICE", started_at=DECLARED),
        RoleAssignment(role="comms", user_id="UDANA", assigned_by="UBOB", started_at=DECLARED),
    ]
    return made


def test_summary_message_blocks():
    built = blocks.summary_blocks(
        incident(summary="Token validation rejected every card"),
        page_url="https://incidents.example.com/incidents/7?token=t",
        zone="America/Los_Angeles",
    )
    assert built == [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": "INC-7: Checkout API returning 500s",
                "emoji": True,
            },
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": "*Severity*\n:large_orange_circle: SEV2"},
                {"type": "mrkdwn", "text": "*Status*\nidentified"},
                {"type": "mrkdwn", "text": "*Lead*\n<@UBOB>"},
                {"type": "mrkdwn", "text": "*Declared*\n2026-11-27 13:50 PST"},
            ],
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": "comms: <@UDANA>"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*Summary*\nToken validation rejected every card"},
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "<https://incidents.example.com/incidents/7?token=t|Incident page> · "
                    "`/incident help` for commands",
                }
            ],
        },
    ]
    assert validate_blocks(built) == []


def test_a_very_long_title_fits_the_header_limit():
    header = blocks.summary_blocks(incident(title="x" * 300), page_url="http://h", zone="UTC")[0]
    assert len(header["text"]["text"]) == 150 and header["text"]["text"].endswith("…")


def test_declare_modal_is_a_valid_view_with_stable_ids():
    view = blocks.declare_modal(declared_by="UALICE", private_metadata={"reply_to": "https://r"})
    assert validate_view(view) == []
    assert view["callback_id"] == ids.DECLARE_VIEW
    assert [b["block_id"] for b in view["blocks"]] == [
        ids.TITLE_BLOCK,
        ids.SEVERITY_BLOCK,
        ids.SUMMARY_BLOCK,
        ids.LEAD_BLOCK,
        ids.PRIVATE_BLOCK,
    ]
    assert json.loads(view["private_metadata"]) == {"reply_to": "https://r"}
    lead = next(b for b in view["blocks"] if b["block_id"] == ids.LEAD_BLOCK)
    assert lead["element"]["initial_user"] == "UALICE"


def test_backdated_notes_say_when_they_happened():
    entry = TimelineEntry(
        kind=EntryKind.NOTE,
        author_id="UBOB",
        text="alerts fired <!channel>",
        occurred_at=DECLARED,
        recorded_at=DECLARED,
        details={"backdated": True},
    )
    assert blocks.entry_message(entry, zone="Europe/Berlin") == (
        ":memo: Note from <@UBOB> (backdated to 2026-11-27 22:50 CET): alerts fired @\u200bchannel"
    )
