"""Block Kit builders are pure: the same incident always gives the same JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from incidentbot.domain.models import EntryKind, Incident, RoleAssignment, TimelineEntry
from incidentbot.domain.timeparse import Moment
from incidentbot.emulator import validate_blocks, validate_view
from incidentbot.slack import blocks, corrections, ids

DECLARED = datetime(2026, 11, 27, 21, 50, tzinfo=UTC)
PAST_BLOCKS = [
    ids.PAST_INTRO_BLOCK,
    ids.PAST_STARTED_BLOCK,
    ids.PAST_DETECTED_BLOCK,
    ids.PAST_MITIGATED_BLOCK,
    ids.PAST_RESOLVED_BLOCK,
]


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
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": ids.CORRECT_TIMELINE,
                    "text": {"type": "plain_text", "text": "Correct the timeline"},
                    "value": "7",
                }
            ],
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
        *PAST_BLOCKS,
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


# ---------------------------------------------------------------- recorded after the fact


def past_incident(**overrides) -> Incident:
    """INC-7, over: impact 21:50 to 22:55 UTC, resolved at 23:10."""
    values = dict(
        status="resolved",
        after_the_fact=True,
        impact_started_at=DECLARED,
        mitigated_at=DECLARED + timedelta(hours=1, minutes=5),
        resolved_at=DECLARED + timedelta(hours=1, minutes=20),
    )
    values.update(overrides)
    return incident(**values)


def test_the_declare_form_has_optional_times_naming_the_persons_zone():
    view = blocks.declare_modal(
        declared_by="UALICE", private_metadata={}, zone="America/Los_Angeles"
    )
    assert validate_view(view) == []
    times = {b["block_id"]: b for b in view["blocks"] if b["block_id"] in PAST_BLOCKS}
    assert "Already over? Record it after the fact" in times[ids.PAST_INTRO_BLOCK]["text"]["text"]
    started = times[ids.PAST_STARTED_BLOCK]
    assert started == {
        "type": "input",
        "block_id": ids.PAST_STARTED_BLOCK,
        "optional": True,
        "label": {"type": "plain_text", "text": "Impact started"},
        "hint": {
            "type": "plain_text",
            "text": "When users were first affected. America/Los_Angeles time unless you type "
            "a zone.",
        },
        "element": {
            "type": "plain_text_input",
            "action_id": ids.PAST_STARTED_INPUT,
            "max_length": 100,
            "placeholder": {"type": "plain_text", "text": "e.g. 14:05 or yesterday 23:10"},
        },
    }
    labels = [times[b]["label"]["text"] for b in PAST_BLOCKS[1:]]
    assert labels == ["Impact started", "Detected", "Mitigated", "Resolved"]
    assert all(times[b]["optional"] for b in PAST_BLOCKS[1:])
    # Without a known zone the hint still says whose zone applies.
    hint = blocks.declare_modal(declared_by="UALICE", private_metadata={})["blocks"][6]["hint"]
    assert hint["text"].endswith("Your Slack time zone unless you type a zone.")


def test_the_record_form_is_titled_so_shows_the_times_first_and_needs_start_and_end():
    view = blocks.declare_modal(
        declared_by="UALICE",
        private_metadata={"reply_to": "https://r"},
        after_the_fact=True,
        zone="Europe/Berlin",
    )
    assert validate_view(view) == []
    assert view["title"]["text"] == "Record a past incident"
    assert view["submit"]["text"] == "Record"
    assert view["callback_id"] == ids.DECLARE_VIEW
    assert [b["block_id"] for b in view["blocks"]][:5] == PAST_BLOCKS
    assert json.loads(view["private_metadata"]) == {"reply_to": "https://r", "after_the_fact": True}
    required = {b["block_id"] for b in view["blocks"][1:5] if not b["optional"]}
    assert required == {ids.PAST_STARTED_BLOCK, ids.PAST_RESOLVED_BLOCK}
    assert "Europe/Berlin time" in view["blocks"][0]["text"]["text"]


def test_the_summary_of_an_incident_recorded_after_the_fact_shows_its_impact_window():
    built = blocks.summary_blocks(
        past_incident(), page_url="https://h/incidents/7?token=t", zone="America/Los_Angeles"
    )
    assert validate_blocks(built) == []
    assert built[1] == {
        "type": "context",
        "elements": [
            {
                "type": "mrkdwn",
                "text": ":memo: *Recorded after the fact*: entered once it was over, so nobody "
                "was paged or reminded.",
            }
        ],
    }
    assert built[2]["fields"][3] == {
        "type": "mrkdwn",
        "text": "*Impact*\n2026-11-27 13:50 PST to 14:55 PST (1 h 5 min)",
    }
    assert "Declared" not in json.dumps(built)
    assert blocks.summary_text(past_incident()) == (
        "INC-7 (recorded after the fact): Checkout API returning 500s | SEV2 | resolved | "
        "lead: <@UBOB>"
    )


def test_an_impact_window_across_midnight_keeps_both_dates_and_falls_back_to_the_resolution():
    over_night = past_incident(mitigated_at=None)
    assert blocks.impact_window(over_night, zone="UTC") == (
        "2026-11-27 21:50 UTC to 23:10 UTC (1 h 20 min)"
    )
    assert blocks.impact_window(over_night, zone="Europe/Berlin") == (
        "2026-11-27 22:50 CET to 2026-11-28 00:10 CET (1 h 20 min)"
    )


def test_the_announcement_of_a_past_incident_mentions_and_broadcasts_nothing():
    text, built = blocks.announcement(
        past_incident(title="<!here> Checkout down <!subteam^S1|@oncall>"),
        declared_by="UALICE",
        zone="UTC",
    )
    assert text == (
        ":memo: *INC-7* (SEV2) recorded after the fact: @\u200bhere Checkout down "
        "@\u200boncall\nImpact 2026-11-27 21:50 UTC to 22:55 UTC (1 h 5 min). It is over and "
        "nobody is paged; its record is in <#C0007>."
    )
    assert built == [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    assert "<@" not in text and "<!" not in text
    live, _ = blocks.announcement(incident(), declared_by="UALICE")
    assert "declared by <@UALICE>" in live and "Join <#C0007> to help." in live


def test_the_channel_ready_answer_says_nobody_was_paged_or_points_to_the_record_form():
    past = blocks.channel_ready(past_incident())
    assert "recorded after the fact in <#C0007>" in past and "Nobody was paged" in past
    live = blocks.channel_ready(incident(), problem="no such channel")
    assert "open in <#C0007>" in live and "`/incident record`" in live
    assert live.endswith(":warning: It was not announced: no such channel")


def test_the_incident_list_labels_a_past_incident_with_its_impact_window():
    listing = blocks.incident_list(
        [past_incident(), incident(number=8)],
        now=DECLARED + timedelta(hours=3),
        zone="UTC",
        list_url="http://web/?token=t",
    )
    first, second = listing.splitlines()[1:]
    assert "recorded after the fact, impact 2026-11-27 21:50 UTC to 22:55 UTC" in first
    assert "open for" not in first
    assert "open for 3 h" in second


def test_the_incident_list_shows_whole_lines_that_fit_and_counts_and_links_the_rest():
    many = [incident(number=n, title=f"Incident {n} " + "x" * 150) for n in range(1, 41)]
    listing = blocks.incident_list(
        many, now=DECLARED + timedelta(hours=1), list_url="http://web/?token=t"
    )
    lines = listing.splitlines()
    shown = [line for line in lines if line.startswith("• ")]
    assert len(listing) <= blocks.MAX_REPLY
    assert 0 < len(shown) < 40 and all(line.endswith("<#C0007>") for line in shown)
    assert lines[-1] == f"…and {40 - len(shown)} more: <http://web/?token=t|see them all>"
    assert blocks.private_reply(listing) == listing
    few = blocks.incident_list(many[:3], now=DECLARED, list_url="http://web/?token=t")
    assert "more" not in few and len(few.splitlines()) == 4


def test_long_echoes_are_split_into_messages_of_slacks_advised_size_each_entry_whole():
    lines = [f"{n:02d} " + "note text " * 250 for n in range(10)]  # about 2,500 characters each
    messages = blocks.echo_messages(lines, page_url="http://web/incidents/7?token=t")
    assert all(len(message) <= blocks.MAX_MESSAGE for message in messages)
    assert "\n".join(messages) == "\n".join(lines)
    assert len(messages) == 10
    short = blocks.echo_messages(["a", "b", "c"], page_url="http://p")
    assert short == ["a\nb\nc"]


def test_an_echoed_entry_longer_than_a_message_is_cut_whole_entities_and_points_to_the_page():
    line = "start " + "&amp; <@U123|alice> " * 400
    (message,) = blocks.echo_messages([line], page_url="http://web/incidents/7?token=t")
    assert len(message) <= blocks.MAX_MESSAGE
    assert message.startswith("start &amp; <@U123|alice>")
    assert message.endswith("<http://web/incidents/7?token=t|the incident page> has all of it)_")
    cut = message.split("…")[0]
    assert cut.endswith(" ") and cut.count("<") == cut.count(">")


def test_help_names_the_new_words_and_fits_a_reply():
    for words in (
        "sev <1-4> at <time>",
        "status <state> at <time>",
        "resolve at <time>",
        "started|detected|mitigated at <time>",
        "record <title>; started <time>; resolved <time>",
        "timeline [page]",
        "edit <N> <text>",
        "edit <N> at <time>",
        "delete <N> [reason]",
        "yesterday 23:10",
        "friday",
        "abbreviation",
        "note at 14:05",
    ):
        assert words in blocks.HELP, words
    assert len(blocks.HELP) < blocks.MAX_REPLY - 100


# ---------------------------------------------------------------- the correction form


def entry(number: int, kind: EntryKind, text: str, at: datetime) -> TimelineEntry:
    return TimelineEntry(
        number=number, kind=kind, text=text, occurred_at=at, recorded_at=at, author_id="UBOB"
    )


def test_correction_form_lists_entries_in_the_clickers_zone_within_slacks_limits():
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    entries = [
        entry(
            9, EntryKind.NOTE, "Restarted search-7 " + "and waited " * 20, now - timedelta(hours=2)
        ),
        entry(4, EntryKind.PINNED, "<!channel> see <@U123|erik> <b>", DECLARED),
    ]
    view = corrections.correction_modal(
        incident(),
        entries,
        zone="Europe/Berlin",
        now=now,
        private_metadata={"channel": "C0007"},
    )
    assert validate_view(view) == []
    assert view["callback_id"] == ids.CORRECTION_VIEW
    assert json.loads(view["private_metadata"]) == {"channel": "C0007"}
    assert [b.get("block_id") for b in view["blocks"][1:]] == [
        ids.CORRECTION_ENTRY_BLOCK,
        ids.CORRECTION_TEXT_BLOCK,
        ids.CORRECTION_TIME_BLOCK,
        ids.CORRECTION_DELETE_BLOCK,
        ids.CORRECTION_REASON_BLOCK,
    ]
    select = view["blocks"][1]["element"]
    assert select["type"] == "static_select"
    assert select["action_id"] == ids.CORRECTION_ENTRY_INPUT
    first, second = select["options"]
    assert first["value"] == "9"
    assert len(first["text"]["text"]) == 75
    assert first["text"]["text"].startswith("#9 11:00 note: Restarted search-7 and waited")
    assert first["text"]["text"].endswith("…")
    # Another day shows its date; typed markup reads as words and cannot ping.
    assert second == {
        "text": {
            "type": "plain_text",
            "text": "#4 Nov 27 22:50 pinned message: @\u200bchannel see @erik <b>",
        },
        "value": "4",
    }
    time_block = next(b for b in view["blocks"] if b.get("block_id") == ids.CORRECTION_TIME_BLOCK)
    assert "your time zone (Europe/Berlin) unless you type one" in time_block["hint"]["text"]
    assert all(b.get("optional") for b in view["blocks"][2:])
    assert not view["blocks"][1].get("optional")


def test_correction_form_offers_at_most_100_entries_and_says_where_the_rest_are():
    many = [entry(n, EntryKind.NOTE, f"note {n}", DECLARED) for n in range(150, 0, -1)]
    view = corrections.correction_modal(
        incident(), many, zone="UTC", now=DECLARED, private_metadata={}
    )
    assert validate_view(view) == []
    assert len(view["blocks"][1]["element"]["options"]) == 100
    assert "`/incident timeline`" in json.dumps(view["blocks"][2])


def test_without_correctable_entries_the_form_is_a_notice():
    view = corrections.correction_modal(
        incident(), [], zone="UTC", now=DECLARED, private_metadata={}
    )
    assert validate_view(view) == []
    assert "submit" not in view and "can be corrected" in view["blocks"][0]["text"]["text"]


def test_the_correction_answer_says_what_changed_without_pinging():
    note = entry(7, EntryKind.NOTE, "<!here> restarted it", DECLARED)
    moved = Moment(at=DECLARED, rest="", zone="UTC")
    said = corrections.corrected(
        incident(), note, text_changed=True, moved_to=moved, zone="UTC", now=DECLARED
    )
    assert said == (
        ":pencil2: Corrected INC-7 entry #7: it now reads “@\u200bhere restarted it” and it now "
        "sits at 2026-11-27 21:50 UTC. What it was before is kept in its history."
    )
    # A bare time taken as yesterday's says so.
    yesterday = Moment(at=DECLARED, rest="", zone="UTC", inferred_yesterday=True)
    later = corrections.corrected(
        incident(), note, moved_to=yesterday, zone="UTC", now=DECLARED + timedelta(hours=12)
    )
    assert "it now sits at yesterday, 27 Nov, 21:50 UTC." in later
    note.deleted_at = DECLARED
    gone = corrections.corrected(
        incident(), note, reason="<!channel> duplicate", zone="UTC", now=DECLARED
    )
    assert gone.startswith(":wastebasket: Deleted INC-7 entry #7 (@\u200bchannel duplicate).")
