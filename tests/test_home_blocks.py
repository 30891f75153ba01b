"""The Home tab, topic, timeline shortcut and archive builders are pure: compared as JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from incidentbot.domain.models import EntryKind, Incident, RoleAssignment, TimelineEntry
from incidentbot.emulator import validate_view
from incidentbot.slack import blocks, ids
from incidentbot.slack.home import MAX_SHOWN, home_view

DECLARED = datetime(2026, 11, 27, 21, 50, tzinfo=UTC)
BASE = "https://incidents.example.com"


def incident(number: int = 7, *, lead: str | None = "UBOB", **overrides: object) -> Incident:
    values: dict = dict(
        number=number,
        title="Checkout API returning 500s",
        severity="SEV2",
        status="identified",
        private=False,
        declared_by="UALICE",
        declared_at=DECLARED,
        impact_started_at=DECLARED,
        channel_id=f"C000{number}",
        reopened_count=0,
    )
    values.update(overrides)
    made = Incident(**values)
    made.roles = (
        [RoleAssignment(role="lead", user_id=lead, assigned_by="UALICE", started_at=DECLARED)]
        if lead
        else []
    )
    return made


def test_home_tab_lists_each_incident_with_its_facts_and_links():
    now = DECLARED + timedelta(hours=2, minutes=5)
    view = home_view(
        [incident(severity="SEV1"), incident(8, lead=None, private=True, channel_id=None)],
        now=now,
        zone="America/Los_Angeles",
        base_url=BASE,
        token="tok",
    )
    assert view == {
        "type": "home",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Open incidents"}},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": ids.HOME_DECLARE,
                        "text": {"type": "plain_text", "text": "Declare incident"},
                        "style": "primary",
                    }
                ],
            },
            {"type": "divider"},
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f":red_circle: *<{BASE}/incidents/7?token=tok|INC-7>* Checkout API "
                    "returning 500s\nSEV1 · identified · lead <@UBOB> · open 2 h 5 min · <#C0007>",
                },
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f":large_orange_circle: *<{BASE}/incidents/8?token=tok|INC-8>* "
                    "Checkout API returning 500s :lock: private\nSEV2 · identified · lead "
                    "nobody yet · open 2 h 5 min · channel being created",
                },
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "Updated 2026-11-27 15:55 PST; this tab is refreshed each time "
                        f"you open it. <{BASE}/?token=tok|All incidents on the web> (links valid "
                        "24 hours) · `/incident help` lists the commands.",
                    }
                ],
            },
        ],
    }
    assert validate_view(view) == []


def test_home_tab_without_incidents_says_so():
    view = home_view([], now=DECLARED, zone="UTC", base_url=BASE, token="tok")
    sections = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert len(sections) == 1 and sections[0].startswith(":white_check_mark: *No open incidents.*")
    assert validate_view(view) == []


def test_home_tab_stays_within_slacks_block_limit_and_links_the_rest():
    many = [incident(n) for n in range(1, 131)]
    view = home_view(many, now=DECLARED, zone="UTC", base_url=BASE, token="tok")
    assert validate_view(view) == []
    shown = [b for b in view["blocks"] if b["type"] == "section"]
    assert len(shown) == MAX_SHOWN
    assert view["blocks"][-2]["elements"][0]["text"].startswith("…and 90 more: <")


def test_home_tab_titles_never_ping_and_are_clipped():
    loud = incident(title="<!channel> " + "x" * 400)
    view = home_view([loud], now=DECLARED, zone="UTC", base_url=BASE, token="tok")
    line = view["blocks"][3]["text"]["text"]
    assert "<!channel>" not in line and "…" in line
    assert validate_view(view) == []


def test_channel_topic():
    assert blocks.channel_topic(incident()) == "SEV2 | identified | lead: <@UBOB>"
    assert blocks.channel_topic(incident(lead=None, status="closed")) == (
        "SEV2 | closed | lead: nobody"
    )
    past = incident(status="resolved", after_the_fact=True)
    assert blocks.channel_topic(past) == (
        "SEV2 | resolved, recorded after the fact | lead: <@UBOB>"
    )


def test_home_tab_labels_an_incident_recorded_after_the_fact_with_its_impact_window():
    past = incident(
        status="resolved",
        after_the_fact=True,
        mitigated_at=DECLARED + timedelta(minutes=40),
        resolved_at=DECLARED + timedelta(hours=1),
    )
    view = home_view(
        [past], now=DECLARED + timedelta(days=3), zone="Europe/Berlin", base_url=BASE, token="t"
    )
    assert validate_view(view) == []
    line = view["blocks"][3]["text"]["text"]
    assert line.splitlines()[1] == (
        "SEV2 · resolved · lead <@UBOB> · :memo: recorded after the fact, impact "
        "2026-11-27 22:50 CET to 23:30 CET (40 min) · <#C0007>"
    )
    assert "open 3 d" not in line


def test_timeline_shortcut_form():
    posted = datetime(2026, 11, 27, 22, 5, tzinfo=UTC)
    view = blocks.timeline_shortcut_modal(
        incident(),
        posted_at=posted,
        message_text="p99 is 9 s\n<!here> look",
        zone="UTC",
        private_metadata={"channel": "C0007", "ts": "1.2"},
    )
    assert validate_view(view) == []
    assert view["callback_id"] == ids.TIMELINE_VIEW
    assert json.loads(view["private_metadata"]) == {"channel": "C0007", "ts": "1.2"}
    intro = view["blocks"][0]["text"]["text"]
    assert f"<!date^{int(posted.timestamp())}^" in intro and "|2026-11-27 22:05 UTC>" in intro
    assert ">p99 is 9 s\n>" in intro and "<!here>" not in intro
    (note,) = [b for b in view["blocks"] if b["type"] == "input"]
    assert (note["block_id"], note["optional"]) == (ids.TIMELINE_NOTE_BLOCK, True)
    assert note["element"]["action_id"] == ids.TIMELINE_NOTE_INPUT


def test_added_to_timeline_answers():
    entry = TimelineEntry(
        kind=EntryKind.PINNED, occurred_at=datetime(2026, 11, 27, 22, 5, tzinfo=UTC), text="x"
    )
    new = blocks.added_to_timeline(incident(), entry, new=True, noted=True, zone="UTC")
    assert new.startswith(":pushpin: Added to the INC-7 timeline at <!date^")
    assert new.endswith(", when it was posted, with your note.")
    kept = blocks.added_to_timeline(incident(), entry, new=False, noted=True, zone="UTC")
    assert "already on the INC-7 timeline" in kept and "your note is kept" in kept
    same = blocks.added_to_timeline(incident(), entry, new=False, noted=False, zone="UTC")
    assert same.endswith("nothing changed.")


def test_notice_and_declared_from_home_modals_are_valid():
    assert validate_view(blocks.notice_modal(title="Add to timeline", text="Not here.")) == []
    declared = blocks.declared_from_home(incident(title="<!everyone> DB down"))
    assert validate_view(declared) == []
    text = declared["blocks"][0]["text"]["text"]
    assert "*INC-7* (SEV2) is declared" in text and "<@UBOB> leads it" in text
    assert "<!everyone>" not in text


def test_archive_notice():
    text = blocks.archive_notice(incident(), closed_days=1, page_url=f"{BASE}/incidents/7")
    assert text.startswith(":file_cabinet: INC-7 was closed 1 day ago, so I'm archiving")
    assert f"<{BASE}/incidents/7|the incident page>" in text and "unarchive" in text


def test_declared_from_home_says_when_the_incident_was_recorded_after_the_fact():
    view = blocks.declared_from_home(incident(status="resolved", after_the_fact=True))
    assert validate_view(view) == []
    assert view["title"]["text"] == "Incident recorded"
    said = view["blocks"][0]["text"]["text"]
    assert "recorded after the fact" in said and "Nobody was paged" in said
    assert blocks.declared_from_home(incident())["title"]["text"] == "Incident declared"
