"""Reminder messages as Block Kit JSON: valid for Slack, stable ids, typed text made harmless."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from incidentbot.domain.models import Incident
from incidentbot.emulator import validate_blocks
from incidentbot.slack import ids, reminder_blocks

INCIDENT = Incident(
    number=7,
    title="Checkout <!channel> down",
    severity="SEV1",
    status="investigating",
    channel_id="C0INC7",
)


def test_the_update_nudge_has_two_snooze_buttons_carrying_the_reminder():
    text, blocks = reminder_blocks.update_nudge(
        INCIDENT,
        reminder_id=42,
        quiet=timedelta(minutes=31),
        interval=timedelta(minutes=30),
        page_url="https://incidents.example.com/incidents/7?token=t",
        command="/incident",
    )
    assert validate_blocks(blocks) == []
    assert "<!channel>" not in text and "no stakeholder update for 31 min" in text
    assert blocks[-1] == {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": ids.REMINDER_SNOOZE_SHORT,
                "text": {"type": "plain_text", "text": "Snooze 15 min"},
                "value": "42",
            },
            {
                "type": "button",
                "action_id": ids.REMINDER_SNOOZE_LONG,
                "text": {"type": "plain_text", "text": "Snooze 1 h"},
                "value": "42",
            },
        ],
    }
    assert "<#C0INC7>" in blocks[0]["text"]["text"]


def test_the_snoozed_text_shows_the_time_in_each_readers_zone():
    until = datetime(2026, 11, 27, 14, 46, tzinfo=UTC)
    text = reminder_blocks.snoozed(
        INCIDENT, snoozed_by="UALICE", until=until, zone="Europe/Berlin", command="/inc"
    )
    assert f"<!date^{int(until.timestamp())}^{{time}}|2026-11-27 15:46 CET>" in text
    assert "<@UALICE> snoozed" in text and "`/inc update …`" in text


def test_postmortem_and_action_item_nudges_are_valid_and_say_when():
    _, postmortem = reminder_blocks.postmortem_nudge(
        INCIDENT,
        due=date(2026, 12, 4),
        today=date(2026, 12, 7),
        closed=date(2026, 11, 27),
        business_days=5,
        status="in review",
        as_lead=True,
        page_url="https://incidents.example.com/incidents/7/postmortem?token=t",
        command="/incident",
    )
    assert validate_blocks(postmortem) == []
    assert "was due on Fri 4 Dec" in postmortem[0]["text"]["text"]
    assert "postmortem owner @person" in postmortem[0]["text"]["text"]

    text, item = reminder_blocks.action_item_nudge(
        INCIDENT,
        number=2,
        item_text="Alert on <!here> 5xx",
        due=date(2026, 11, 30),
        today=date(2026, 11, 30),
        as_lead=False,
        command="/incident",
    )
    assert validate_blocks(item) == []
    assert "is due today (Mon 30 Nov)" in text and "<!here>" not in text

    lead_text, lead = reminder_blocks.lead_nudge(
        INCIDENT, waited=timedelta(minutes=10), command="/incident"
    )
    assert validate_blocks(lead) == [] and "10 min after it was declared" in lead_text
