"""The postmortem tells the story: its timeline, its narrative starting points and its metrics'
wording. In-memory incidents only; no database, no Slack."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from incidentbot.domain.metrics import DEFINITIONS
from incidentbot.domain.models import (
    EntryKind,
    Incident,
    Person,
    RoleAssignment,
    Status,
    TimelineEntry,
)
from incidentbot.postmortem.render import AROUND, PostmortemRenderer, TimelineItem, build_context

# 21:50 UTC on 27 November 2026; the postmortems are in UTC, so times read as written here.
T0 = datetime(2026, 11, 27, 21, 50, tzinfo=UTC)
NOW = T0 + timedelta(days=3)
BUILTIN = ("default", "lightweight", "pagerduty")
PEOPLE = {
    user_id: Person(user_id=user_id, display_name=name, timezone="UTC")
    for user_id, name in [("U1", "alice"), ("U2", "bob"), ("U3", "carol")]
}
BOOKKEEPING = (
    "Action item: add a canary stage",
    "Summary set: a bad deploy broke checkout",
    "Impact set: a third of checkouts failed",
    "Postmortem marked in review",
)
DELETED = "A wrong guess, deleted"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def clock(minutes: float) -> str:
    return f"{at(minutes):%Y-%m-%d %H:%M} UTC"


def entry(
    minutes: float,
    kind: str,
    text: str,
    *,
    author: str | None = "U2",
    recorded: float | None = None,
    details: dict | None = None,
    number: int | None = None,
    deleted: bool = False,
) -> TimelineEntry:
    return TimelineEntry(
        occurred_at=at(minutes),
        recorded_at=at(minutes if recorded is None else recorded),
        kind=kind,
        author_id=author,
        text=text,
        details=details,
        number=number,
        deleted_at=at(150) if deleted else None,
        deleted_by="U1" if deleted else None,
    )


def story_incident(**overrides: object) -> Incident:
    """Impact starts at 0, is detected at 20, declared at 25, mitigated at 90, resolved at 120
    and closed at 200, with notes near each milestone and some far from all of them."""
    fields: dict[str, object] = {
        "number": 9,
        "title": "Checkout failing after a deploy",
        "severity": "SEV2",
        "status": Status.CLOSED,
        "private": False,
        "summary": None,
        "impact": None,
        "declared_by": "U1",
        "channel_id": "C9",
        "channel_name": "inc-9-checkout-failing",
        "declared_at": at(25),
        "impact_started_at": at(0),
        "detected_at": at(20),
        "mitigated_at": at(90),
        "resolved_at": at(120),
        "closed_at": at(200),
        "reopened_count": 0,
    }
    fields.update(overrides)
    incident = Incident(**fields)
    incident.roles = [
        RoleAssignment(role="lead", user_id="U1", assigned_by="U1", started_at=at(25)),
        RoleAssignment(
            role="comms", user_id="U3", assigned_by="U1", started_at=at(30), ended_at=at(100)
        ),
        RoleAssignment(role="scribe", user_id="U2", assigned_by="U1", started_at=at(40)),
    ]
    status = EntryKind.STATUS
    entries = [
        entry(25, EntryKind.DECLARED, "Incident declared", author="U1"),
        entry(0, EntryKind.IMPACT_START, "Impact started", author="U1", recorded=30),
        entry(20, EntryKind.DETECTED, "Detected: the checkout alert", author="U1", recorded=30),
        entry(-40, EntryKind.NOTE, "Unrelated: the office move began", recorded=50),
        entry(-10, EntryKind.NOTE, "Deploy 4411 rolled out", recorded=50),
        entry(8, EntryKind.NOTE, "Latency graphs climbing", recorded=50),
        # As near the impact start as the detection: the earlier milestone has it.
        entry(10, EntryKind.PINNED, "Errors in the payment logs"),
        entry(12, EntryKind.NOTE, "Alert fired: checkout p99 above 5 s", recorded=50),
        entry(14, EntryKind.NOTE, "Paging the payments on-call", recorded=50),
        entry(22, EntryKind.NOTE, "Opened the incident channel", recorded=50),
        # The fourth nearest the detection: left out.
        entry(30, EntryKind.UPDATE, "We are investigating failed checkouts"),
        entry(60, EntryKind.ACTION, BOOKKEEPING[0], author="U1"),
        entry(61, EntryKind.SUMMARY, BOOKKEEPING[1], author="U1"),
        entry(62, EntryKind.IMPACT, BOOKKEEPING[2], author="U1"),
        entry(85, EntryKind.NOTE, "Rolled back deploy 4411"),
        entry(86, EntryKind.NOTE, DELETED, deleted=True),
        entry(90, EntryKind.MITIGATED, "Mitigated: the impact ended", author="U1"),
        entry(95, EntryKind.ALERT, "Alert resolved: checkout p99", author=None),
        entry(118, EntryKind.NOTE, "Error rate back to baseline"),
        entry(120, status, "Status: monitoring → resolved", details={"to": "resolved"}),
        entry(130, EntryKind.NOTE, "Confirmed with support: no new tickets"),
        entry(140, EntryKind.NOTE, "Wrote up the first notes for the review"),
        entry(200, status, "Status: resolved → closed", details={"to": "closed"}),
        entry(210, EntryKind.POSTMORTEM, BOOKKEEPING[3], author="U1"),
    ]
    for number, recorded in enumerate(entries, start=1):
        recorded.id = recorded.number = number
    incident.timeline = entries
    incident.action_items = []
    return incident


def context(incident: Incident | None = None, **kwargs: object) -> dict[str, object]:
    return build_context(
        incident=incident or story_incident(),
        people=PEOPLE,
        zone="UTC",
        base_url="https://incidents.example.com",
        now=NOW,
        **kwargs,  # type: ignore[arg-type]
    )


def render(
    incident: Incident | None = None, *, template: str = "default", fmt: str = "md", **kw: object
) -> str:
    return PostmortemRenderer(zone="UTC").render(
        incident=incident or story_incident(),
        people=PEOPLE,
        template=template,
        fmt=fmt,
        now=NOW,
        **kw,  # type: ignore[arg-type]
    )


def section(document: str, heading: str, fmt: str = "md") -> str:
    if fmt == "md":
        return document.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return document.split(f"<h2>{heading}</h2>", 1)[1].split("</section>", 1)[0]


def texts(items: object) -> list[str]:
    assert isinstance(items, list) and all(isinstance(item, TimelineItem) for item in items)
    return [item.text for item in items]


# The timeline


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("template", BUILTIN)
def test_the_postmortem_timeline_leaves_out_bookkeeping_and_deleted_entries(
    template: str, fmt: str
) -> None:
    timeline = section(render(template=template, fmt=fmt), "Timeline", fmt)

    for text in ("Deploy 4411 rolled out", "Rolled back deploy 4411", "Mitigated: the impact"):
        assert text in timeline
    for text in (*BOOKKEEPING, DELETED):
        assert text not in timeline


def test_bookkeeping_is_left_out_of_every_timeline_list_but_its_people_took_part() -> None:
    incident = story_incident()
    incident.timeline.append(entry(63, EntryKind.ACTION, "Action item: runbook", author="U9"))
    found = context(incident)

    shown = texts(found["timeline"])
    days = [item.text for day in found["timeline_days"] for item in day.entries]  # type: ignore[attr-defined]
    assert days == shown
    assert not set(BOOKKEEPING) & set(shown)
    assert found["participants"] == ["U9"], "adding an action item is taking part"


def test_key_moments_hold_the_milestones_and_resolution_the_mitigation() -> None:
    found = context()

    assert texts(found["key_moments"]) == [
        "Impact started",
        "Detected: the checkout alert",
        "Incident declared",
        "Mitigated: the impact ended",
        "Status: monitoring → resolved",
        "Status: resolved → closed",
    ]
    assert texts(found["resolution"])[0] == "Mitigated: the impact ended"


def test_edited_entries_are_marked_in_the_timeline() -> None:
    incident = story_incident()
    latency = next(e for e in incident.timeline if e.text == "Latency graphs climbing")

    markdown = render(incident, edited={latency.id})
    html = render(incident, fmt="html", edited={latency.id})

    rows = [line for line in section(markdown, "Timeline").splitlines() if "(edited)" in line]
    assert len(rows) == 1 and "Latency graphs climbing" in rows[0]
    assert "_(recorded 2026-11-27 22:40 UTC)_ _(edited)_" in rows[0]
    assert html.count('<span class="recorded">(edited)</span>') == 1
    assert "(edited)" not in render(incident)


# Metrics in the same words as their definitions


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("template", BUILTIN)
def test_the_impact_sentence_ends_impact_at_mitigation(template: str, fmt: str) -> None:
    document = render(template=template, fmt=fmt)

    assert f"lasted 1 h 30 min, until it was mitigated at {clock(90)}." in document
    assert "until resolution" not in document
    assert DEFINITIONS["duration"] in section(
        document, "Overview" if template == "pagerduty" else "Impact", fmt
    )


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("template", BUILTIN)
def test_an_impact_not_mitigated_yet_says_so(template: str, fmt: str) -> None:
    incident = story_incident(
        status=Status.IDENTIFIED, mitigated_at=None, resolved_at=None, closed_at=None
    )
    incident.timeline = [e for e in incident.timeline if e.kind not in ("mitigated", "status")]

    document = render(incident, template=template, fmt=fmt)

    assert "has lasted 3 d so far, not mitigated yet." in document


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_a_recorded_detection_is_shown_apart_from_the_declaration(fmt: str) -> None:
    document = render(fmt=fmt)
    undetected = render(story_incident(detected_at=None), fmt=fmt)

    if fmt == "md":
        assert f"- **Detected:** {clock(20)}\n- **Declared:** {clock(25)} by alice" in document
        assert "**Detected:**" not in undetected
    else:
        assert f"<dt>Detected</dt><dd>{clock(20)}</dd>" in document
        assert "<dt>Detected</dt>" not in undetected
    detection = section(document, "Detection", fmt)
    assert f"it was detected {clock(20)}, 20 min later, and alice declared" in detection
    assert DEFINITIONS["detected_at"] in detection


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("template", ["default", "pagerduty"])
def test_acknowledgement_is_the_first_action_by_someone_other_than_the_declarer(
    template: str, fmt: str
) -> None:
    document = render(template=template, fmt=fmt)

    assert "first response" not in document.lower()
    assert "first action by someone other than the declarer" in document.lower()


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_roles_still_held_at_close_end_at_the_close_and_run_on_while_open(fmt: str) -> None:
    closed = render(fmt=fmt)
    still_open = render(story_incident(status=Status.RESOLVED, closed_at=None), fmt=fmt)

    cell = "| {} |" if fmt == "md" else "<td>{}</td>"
    lead = re.search(r".*\balice\b.*" + re.escape(clock(25)) + ".*", closed.split("Who held")[1])
    assert lead and cell.format(clock(200)) in lead[0]
    assert cell.format(clock(100)) in closed, "a role handed back ends when it was"
    assert cell.format("now") not in closed
    assert cell.format("now") in still_open
    found = context()["role_history"]
    assert [change.ended_at for change in found] == [clock(200), clock(100), clock(200)]  # type: ignore[attr-defined]


# Narrative starting points


def test_around_offers_each_milestone_its_nearest_notes_and_none_far_away() -> None:
    around = context()["around"]

    assert texts(around.impact_start) == [  # type: ignore[attr-defined]
        "Deploy 4411 rolled out",
        "Latency graphs climbing",
        "Errors in the payment logs",
    ]
    assert texts(around.detection) == [  # type: ignore[attr-defined]
        "Alert fired: checkout p99 above 5 s",
        "Paging the payments on-call",
        "Opened the incident channel",
    ], "the 3 nearest (the update 10 min after is the fourth), in the order they happened"
    assert texts(around.mitigation) == [  # type: ignore[attr-defined]
        "Rolled back deploy 4411",
        "Alert resolved: checkout p99",
    ]
    assert texts(around.resolution) == [  # type: ignore[attr-defined]
        "Error rate back to baseline",
        "Confirmed with support: no new tickets",
    ]
    offered = texts(around.all)  # type: ignore[attr-defined]
    assert offered == [
        *texts(around.impact_start),  # type: ignore[attr-defined]
        *texts(around.detection),  # type: ignore[attr-defined]
        *texts(around.mitigation),  # type: ignore[attr-defined]
        *texts(around.resolution),  # type: ignore[attr-defined]
    ]
    for far in (
        "Unrelated: the office move began",
        "Wrote up the first notes for the review",
        "We are investigating failed checkouts",
        DELETED,
    ):
        assert far not in offered
    assert not {"Impact started", "Incident declared"} & set(offered), "only people's entries"


def test_around_is_defined_by_one_rule() -> None:
    assert AROUND.window == timedelta(minutes=15)
    assert AROUND.at_most == 3
    assert {EntryKind.NOTE, EntryKind.PINNED, EntryKind.UPDATE, EntryKind.ALERT} == AROUND.kinds


def test_the_start_is_not_offered_what_came_after_the_resolution() -> None:
    # Resolved 10 minutes after it started: a note 4 minutes after the resolution is nearer
    # the start than 15 minutes, but it belongs to the resolution.
    incident = story_incident(mitigated_at=at(10), resolved_at=at(10), detected_at=None)
    incident.timeline = [
        entry(0, EntryKind.NOTE, "Before the fix"),
        entry(14, EntryKind.NOTE, "After the fix"),
    ]

    around = context(incident)["around"]

    assert texts(around.impact_start) == ["Before the fix"]  # type: ignore[attr-defined]
    assert "After the fix" in texts(around.all)  # type: ignore[attr-defined]
    assert "After the fix" not in texts(around.impact_start)  # type: ignore[attr-defined]


def test_milestones_not_reached_have_no_starting_points() -> None:
    incident = story_incident(
        status=Status.INVESTIGATING, mitigated_at=None, resolved_at=None, closed_at=None
    )
    around = context(incident)["around"]

    assert around.mitigation == [] and around.resolution == []  # type: ignore[attr-defined]
    assert "Rolled back deploy 4411" not in texts(around.all)  # type: ignore[attr-defined]


MARK = "From the timeline (a starting point; rewrite it in your own words):"


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_the_default_narrative_sections_start_from_the_notes_near_their_milestone(
    fmt: str,
) -> None:
    document = render(fmt=fmt)
    trigger = section(document, "Trigger", fmt)
    resolution = section(document, "Resolution", fmt)
    detection = section(document, "Detection", fmt)

    for part in (trigger, resolution, detection):
        assert MARK in part
    assert "Deploy 4411 rolled out" in trigger and "Alert fired" not in trigger
    assert "Alert fired: checkout p99 above 5 s" in detection
    assert "Deploy 4411" not in detection
    assert "Rolled back deploy 4411" in resolution
    assert "Confirmed with support: no new tickets" in resolution
    assert "Wrote up the first notes" not in resolution
    if fmt == "md":
        assert f"- {clock(10)}, bob (pinned message): Errors in the payment logs\n\n_Not" in trigger


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_pagerduty_what_happened_and_lightweight_summary_start_from_the_notes(fmt: str) -> None:
    happened = section(render(template="pagerduty", fmt=fmt), "What happened", fmt)
    summary = section(render(template="lightweight", fmt=fmt), "Summary", fmt)
    written = section(
        render(story_incident(summary="We wrote it."), template="lightweight", fmt=fmt),
        "Summary",
        fmt,
    )

    for part in (happened, summary):
        assert MARK in part
        assert "Deploy 4411 rolled out" in part and "Confirmed with support" in part
        assert "Unrelated: the office move began" not in part
    assert MARK not in written


def test_no_starting_point_is_offered_when_no_one_wrote_anything_near() -> None:
    incident = story_incident()
    incident.timeline = [e for e in incident.timeline if e.kind not in AROUND.kinds]

    assert MARK not in render(incident)
    assert MARK not in render(incident, fmt="html")


# Recorded after the fact


def past_incident() -> Incident:
    """Recorded on 1 December about an outage on 27 November that is over."""
    incident = story_incident(status=Status.RESOLVED, closed_at=None, after_the_fact=True)
    recorded = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    for past in incident.timeline:
        past.recorded_at = recorded
    incident.timeline[0].text = "Incident recorded after the fact: Checkout failing"
    incident.timeline = [e for e in incident.timeline if e.kind != EntryKind.POSTMORTEM]
    return incident


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("template", BUILTIN)
def test_an_incident_recorded_after_the_fact_is_labelled_so(template: str, fmt: str) -> None:
    document = render(past_incident(), template=template, fmt=fmt)
    header = document.split("## Summary" if fmt == "md" else "<main>", 1)[0]

    assert "Recorded after the fact on 2026-12-01 09:30 UTC." in header
    assert "Recorded after the fact" not in render(template=template, fmt=fmt)


def test_an_incident_recorded_after_the_fact_has_its_facts_and_no_acknowledgement() -> None:
    facts = context(past_incident())["incident"]
    markdown = render(past_incident())

    assert facts.after_the_fact is True  # type: ignore[attr-defined]
    assert facts.recorded_at == "2026-12-01 09:30 UTC"  # type: ignore[attr-defined]
    assert context()["incident"].recorded_at is None  # type: ignore[attr-defined]
    assert (
        f"- **Declared:** {clock(25)} (recorded after the fact on 2026-12-01 09:30 UTC by alice)"
    ) in markdown
    detection = section(markdown, "Detection")
    assert "Acknowledgement is not measured: the incident was recorded after the fact." in (
        detection
    )
    assert "first action by someone" not in detection
    assert "acknowledgement not measured" in render(past_incident(), template="pagerduty")


def test_the_declaration_of_an_incident_recorded_after_the_fact_sits_where_it_happened() -> None:
    timeline = section(render(past_incident()), "Timeline")
    rows = [line for line in timeline.splitlines() if line.startswith("| 20")]
    whens = [row.split(" | ")[0].removeprefix("| ") for row in rows]

    declared = next(row for row in rows if "Incident recorded after the fact" in row)
    assert declared.startswith(f"| {clock(25)} |")
    assert "_(recorded 2026-12-01 09:30 UTC)_" in declared
    assert whens == sorted(whens)
    place = rows.index(declared)
    assert "Opened the incident channel" in rows[place - 1], "after what happened before it"
    assert "We are investigating failed checkouts" in rows[place + 1]
