"""The hand-written SVG charts: structure, accessibility, escaping and determinism."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from incidentbot.domain.metrics import humanize
from incidentbot.domain.models import EntryKind, Incident, Status, TimelineEntry, TimelineRow
from incidentbot.domain.timeparse import format_moment
from incidentbot.web.charts import _GROUP_COLOURS as GROUP_COLOURS
from incidentbot.web.charts import (
    DURATION_TICK_STEPS,
    KIND_COLOURS,
    SERIES_COLOURS,
    SEVERITY_COLOURS,
    STATUS_COLOURS,
    bar_chart_svg,
    grouped_bar_svg,
    time_ticks,
    timeline_svg,
)
from tests.fixtures_incident import NOTE_WITH_MARKUP, NOW, people, rich_incident

SVG = "{http://www.w3.org/2000/svg}"
ZONE = "America/New_York"


def names() -> dict[str, str]:
    return {user_id: person.display_name for user_id, person in people().items()}


def rich_svg(zone: str = ZONE) -> str:
    return str(timeline_svg(rich_incident(), zone=zone, names=names(), now=NOW))


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def entries_of(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "entry"]


def tick_texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]


def assert_safe(svg: str, *, role: str = "img") -> None:
    assert not re.search(r"\sstyle\s*=", svg)
    assert "<style" not in svg
    assert "<script" not in svg.lower()
    assert "javascript:" not in svg.lower()
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == role
    assert root.get("width") == "100%"
    assert root.get("viewBox", "").startswith("0 0 ")
    if role == "img":
        title_id, desc_id = root.get("aria-labelledby", "").split()
    else:
        # Focusable markers inside: a group (an img's children would be presentational).
        title_id, desc_id = root.get("aria-labelledby", ""), root.get("aria-describedby", "")
    ids = {element.get("id"): element for element in root.iter() if element.get("id")}
    assert ids[title_id].tag == f"{SVG}title" and (ids[title_id].text or "").strip()
    assert ids[desc_id].tag == f"{SVG}desc" and (ids[desc_id].text or "").strip()


# --- timeline --------------------------------------------------------------------------------


def test_one_marker_per_timeline_entry() -> None:
    incident = rich_incident()
    svg = rich_svg()
    assert svg.count("data-entry-id=") == len(incident.timeline)
    markers = entries_of(parse(svg))
    assert sorted(int(g.get("data-entry-id", "")) for g in markers) == sorted(
        e.id for e in incident.timeline
    )


def test_markers_are_focusable_labelled_and_in_time_order() -> None:
    root = parse(rich_svg())
    markers = entries_of(root)
    # Only the markers reach assistive technology; the rest is hidden decoration.
    visible = [c for c in root if c.tag not in (f"{SVG}title", f"{SVG}desc")]
    assert [c.get("role") or c.get("aria-hidden") for c in visible] == ["true", "list", "true"]
    lists = [g for g in root.iter(f"{SVG}g") if g.get("role") == "list"]
    assert len(lists) == 1 and lists[0].get("aria-label")
    assert markers == [child for child in lists[0] if child.get("class") == "entry"]
    for marker in markers:
        assert marker.get("tabindex") == "0"
        assert marker.get("role") == "listitem"
        title = marker[0]
        assert title.tag == f"{SVG}title"
        assert title.text and title.text == marker.get("aria-label")
        assert title.text.count(" — ") >= 2
        assert marker.find(f"{SVG}circle") is not None
    # Tab order follows time: 21:58 impact, first entry is priya's backdated 22:02 note.
    first = markers[0][0].text or ""
    assert first.startswith("2026-11-27 17:02 EST — priya — note: First alerts")
    labels = [marker[0].text or "" for marker in markers]
    assert labels == sorted(labels, key=lambda text: text[:16])


def test_marker_title_reads_time_author_kind_text() -> None:
    root = parse(rich_svg())
    titles = [marker[0].text or "" for marker in entries_of(root)]
    assert "2026-11-27 17:15 EST — alice — severity change: Severity SEV3 → SEV1" in titles
    assert "2026-11-28 04:05 EST — alice — role change: Lead handed over from alice to hans" in (
        titles
    )


def test_markers_sharing_a_moment_do_not_hide_each_other() -> None:
    root = parse(rich_svg())
    points = []
    for marker in entries_of(root):
        circle = [c for c in marker.iter(f"{SVG}circle") if c.get("class") != "focus-ring"][0]
        points.append((float(circle.get("cx", "")), float(circle.get("cy", ""))))
        radius = float(circle.get("r", ""))
    for (x1, y1), (x2, y2) in itertools.combinations(points, 2):
        assert math.hypot(x1 - x2, y1 - y2) >= 2 * radius
    # The three entries within one minute (22:15) are stacked, not spread apart in time.
    assert len({y for _, y in points}) >= 3


def test_severity_bands_cover_every_severity_in_order() -> None:
    root = parse(rich_svg())
    bands = [g for g in root.iter(f"{SVG}g") if g.get("class") == "severity-band"]
    assert [g.get("data-severity") for g in bands] == ["SEV3", "SEV1", "SEV2"]
    for band in bands:
        rect = band.find(f"{SVG}rect")
        assert rect is not None
        assert rect.get("fill") == SEVERITY_COLOURS[band.get("data-severity", "")]
        assert float(rect.get("width", "0")) > 0
        assert (band[0].text or "").startswith("Severity " + band.get("data-severity", ""))
    sev1 = bands[1][0].text or ""
    assert sev1 == "Severity SEV1: 2026-11-27 17:15 EST to 2026-11-27 18:30 EST (1 h 14 min)"
    assert bands[2][0].text == "Severity SEV2: since 2026-11-27 18:30 EST"
    desc = parse(rich_svg()).find(f"{SVG}desc")
    assert desc is not None
    assert (desc.text or "").startswith(
        "25 timeline entries from 2026-11-27 16:58 EST to 2026-11-28 10:00 EST. "
        "Severity: SEV3 from 2026-11-27 17:10 EST, SEV1 from 2026-11-27 17:15 EST"
    )
    # Bands follow one another without gaps.
    rects = [band.find(f"{SVG}rect") for band in bands]
    for left, right in itertools.pairwise(rects):
        assert left is not None and right is not None
        end = float(left.get("x", "")) + float(left.get("width", ""))
        assert abs(end - float(right.get("x", ""))) < 0.2


def test_status_phases_follow_the_status_changes() -> None:
    root = parse(rich_svg())
    phases = [
        g.get("data-status") for g in root.iter(f"{SVG}g") if g.get("class") == "status-phase"
    ]
    assert phases == [
        "investigating",
        "identified",
        "monitoring",
        "resolved",
        "investigating",
        "monitoring",
        "resolved",
        "closed",
    ]


def test_axis_ticks_are_in_the_zone_with_dates_on_multi_day_spans() -> None:
    svg = rich_svg()
    root = parse(svg)
    texts = tick_texts(root)
    # 16:58 EST to 10:00 EST the next day, every two hours.
    assert texts[:2] == ["18:00", "Fri 27 Nov"]
    assert "00:00" in texts and "Sat 28 Nov" in texts
    assert texts.index("Sat 28 Nov") == texts.index("00:00") + 1
    assert "Times in America/New_York (EST)" in svg

    berlin = tick_texts(parse(rich_svg("Europe/Berlin")))
    assert berlin[:2] == ["00:00", "Sat 28 Nov"] and "Fri 27 Nov" not in berlin
    utc = rich_svg("UTC")
    assert "Times in UTC<" in utc and "22:00" in tick_texts(parse(utc))


def test_legend_names_kinds_severities_and_statuses() -> None:
    root = parse(rich_svg())
    legend = [g for g in root.iter(f"{SVG}g") if g.get("class") == "legend"][0]
    words = {t.text for t in legend.iter(f"{SVG}text")}
    assert {"declared", "note", "pinned message", "severity change", "update"} <= words
    assert {"SEV1", "SEV2", "SEV3", "investigating", "closed"} <= words


def test_hostile_text_is_escaped() -> None:
    svg = rich_svg()
    assert "<script>alert(1)</script>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    root = parse(svg)
    titles = [marker[0].text or "" for marker in entries_of(root)]
    assert any(NOTE_WITH_MARKUP in title for title in titles)


def test_hostile_names_titles_and_kinds_are_escaped() -> None:
    incident = rich_incident()
    incident.title = '"><script>alert(2)</script>'
    incident.timeline[0].kind = '"><g onload="x'
    svg = str(timeline_svg(incident, zone=ZONE, names={"UHANS": "<b>hans</b>"}, now=NOW))
    assert_safe(svg, role="group")
    assert not [name for el in parse(svg).iter() for name in el.attrib if name.startswith("on")]
    assert "<b>" not in svg and "&lt;b&gt;hans&lt;/b&gt;" in svg
    assert len(entries_of(parse(svg))) == len(incident.timeline)


def test_timeline_is_safe_and_deterministic() -> None:
    svg = rich_svg()
    assert_safe(svg, role="group")
    assert rich_svg() == svg
    # The order the timeline comes in does not matter.
    incident = rich_incident()
    incident.timeline = sorted(incident.timeline, key=lambda e: e.id)
    assert str(timeline_svg(incident, zone=ZONE, names=names(), now=NOW)) == svg


def test_width_sets_the_view_box() -> None:
    svg = str(timeline_svg(rich_incident(), zone=ZONE, names=names(), now=NOW, width=640))
    assert parse(svg).get("viewBox", "").startswith("0 0 640 ")
    assert svg.count("data-entry-id=") == len(rich_incident().timeline)


def _open_incident(now: datetime, *, minutes: int) -> Incident:
    declared = now - timedelta(minutes=minutes)
    incident = Incident(
        number=12,
        title="Search slow",
        severity="SEV4",
        status=Status.INVESTIGATING,
        private=False,
        declared_by="UALICE",
        declared_at=declared,
        impact_started_at=declared - timedelta(minutes=3),
    )
    incident.roles = []
    incident.timeline = [
        TimelineEntry(
            id=1,
            occurred_at=declared,
            recorded_at=declared,
            kind=EntryKind.DECLARED,
            author_id="UALICE",
            text="Incident declared: Search slow (SEV4)",
            details={"severity": "SEV4"},
        ),
        TimelineEntry(
            id=2,
            occurred_at=declared + timedelta(minutes=1),
            recorded_at=declared + timedelta(minutes=1),
            kind=EntryKind.NOTE,
            author_id=None,
            text="no author <@UALICE>",
        ),
    ]
    return incident


def test_open_incident_runs_to_now_with_minute_ticks() -> None:
    now = datetime(2026, 3, 10, 7, 20, tzinfo=UTC)
    incident = _open_incident(now, minutes=20)
    svg = str(timeline_svg(incident, zone=ZONE, names={"UALICE": "alice"}, now=now))
    assert_safe(svg, role="group")
    root = parse(svg)
    assert len(entries_of(root)) == 2
    texts = tick_texts(root)
    assert texts[:3] == ["03:00", "Tue 10 Mar", "03:05"] and texts[-1] == "03:20"
    assert [g.get("data-severity") for g in root.iter(f"{SVG}g") if g.get("data-severity")] == [
        "SEV4"
    ]
    now_lines = [g for g in root.iter(f"{SVG}g") if g.get("class") == "marker-line now"]
    assert len(now_lines) == 1
    band_title = [g for g in root.iter(f"{SVG}g") if g.get("class") == "severity-band"][0][0]
    assert (band_title.text or "").endswith("SEV4: since 2026-03-10 03:00 EDT (ongoing)")
    titles = [marker[0].text or "" for marker in entries_of(root)]
    assert titles[1].endswith("— unknown author — note: no author @alice")


def test_just_declared_incident_without_entries() -> None:
    now = datetime(2026, 3, 8, 7, 20, tzinfo=UTC)
    incident = _open_incident(now, minutes=0)
    incident.timeline = []
    svg = str(timeline_svg(incident, zone=ZONE, names={}, now=now))
    assert_safe(svg, role="group")
    assert "data-entry-id" not in svg and "No timeline entries yet." in svg


def groups_of(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "entry-group"]


def _row(entry_id: int, at: datetime, author: str | None, text: str) -> TimelineRow:
    return TimelineRow(
        entry_id, entry_id, at, at, EntryKind.NOTE, author, text, None, None, None, ()
    )


BIG_START = datetime(2026, 11, 27, 13, 0, tzinfo=UTC)


def _big_timeline() -> tuple[Incident, list[TimelineRow], list[TimelineRow]]:
    """A day-long incident: four bursts of 4,990 entries in 10 minutes each, and 40 quiet
    entries an hour or more apart from anything else; rows out of time order."""
    incident = Incident(
        number=99,
        title="Queue meltdown",
        severity="SEV2",
        status=Status.RESOLVED,
        private=False,
        declared_by="U0",
        declared_at=BIG_START,
        impact_started_at=BIG_START,
        resolved_at=BIG_START + timedelta(hours=24),
    )
    incident.roles = []
    authors = ["U0"] * 5 + ["U1"] * 3 + ["U2", "U3"]
    rows: list[TimelineRow] = []
    quiet: list[TimelineRow] = []
    next_id = itertools.count(1)
    for burst in range(4):
        burst_start = BIG_START + timedelta(hours=1 + 6 * burst)
        for i in range(4990):
            at = burst_start + timedelta(milliseconds=120 * i)
            rows.append(_row(next(next_id), at, authors[i % 10], f"burst {burst} message {i}"))
        for hour in range(10):  # 2 h after the burst, then hourly: far from everything.
            at = burst_start + timedelta(hours=2, minutes=0) + timedelta(minutes=20 * hour)
            row = _row(next(next_id), at, "U1", f"quiet note {burst}.{hour}")
            quiet.append(row)
    rows += quiet
    assert len(rows) == 20_000
    rows.reverse()
    return incident, rows, quiet


def test_a_huge_timeline_is_grouped_small_and_accounts_for_every_entry() -> None:
    incident, rows, quiet = _big_timeline()
    deleted = [
        TimelineEntry(
            id=900_000 + i,
            occurred_at=BIG_START + timedelta(hours=1, seconds=i),
            recorded_at=BIG_START,
            kind=EntryKind.NOTE,
            author_id="U0",
            text="deleted",
            deleted_at=BIG_START + timedelta(hours=2),
        )
        for i in range(5)
    ]
    people = {"U0": "alice", "U1": "bob"}
    svg = str(timeline_svg(incident, zone=ZONE, names=people, now=NOW, timeline=[*rows, *deleted]))
    assert len(svg) < 60_000
    assert_safe(svg, role="group")
    root = parse(svg)
    assert 'data-entry-id="90000' not in svg  # No deleted entry.

    # Markers in time order; each group stands for the next data-count entries.
    ordered = sorted(rows, key=lambda r: (r.occurred_at, r.id))
    listing = next(g for g in root.iter(f"{SVG}g") if g.get("role") == "list")
    markers = [g for g in listing if g.get("class") in ("entry", "entry-group")]
    position = 0
    wide_groups = 0
    for marker in markers:
        assert marker.get("tabindex") == "0" and marker.get("role") == "listitem"
        assert marker.get("data-entry-id") == str(ordered[position].id)
        title = marker.find(f"{SVG}title")
        assert title is not None and title.text == marker.get("aria-label")
        if marker.get("class") == "entry":
            position += 1
            continue
        count = int(marker.get("data-count") or 0)
        assert count > 1
        members = ordered[position : position + count]
        first, last = members[0].occurred_at, members[-1].occurred_at
        local_last = last.astimezone(ZoneInfo(ZONE))
        span = f"{format_moment(first, ZONE)} to {local_last:%H:%M}"
        assert (title.text or "").startswith(f"{count} entries, {span} — ")
        if count >= 100:
            wide_groups += 1
            assert title.text == f"{count} entries, {span} — alice, bob and 2 others"
        position += count
    assert position == len(ordered) == 20_000
    groups = groups_of(root)
    assert sum(int(g.get("data-count") or 0) for g in groups) + len(entries_of(root)) == 20_000
    assert wide_groups >= 4 and len(groups) < 100
    # A busy stretch's group shows its number; quiet entries keep their own markers.
    assert any(t.text == g.get("data-count") for g in groups for t in g.iter(f"{SVG}text"))
    singles = {m.get("data-entry-id") for m in entries_of(root)}
    assert {str(row.id) for row in quiet} <= singles
    quiet_titles = {m.get("data-entry-id"): m[0].text for m in entries_of(root)}
    row = quiet[0]
    assert quiet_titles[str(row.id)] == (
        f"{format_moment(row.occurred_at, ZONE)} — bob — note: {row.text}"
    )
    assert "darker for more" in svg


def test_a_tiny_timeline_of_rows_draws_one_marker_per_entry() -> None:
    incident, _, _ = _big_timeline()
    rows = [
        _row(1, BIG_START + timedelta(minutes=5), "U0", "first"),
        _row(2, BIG_START + timedelta(minutes=5), "U1", "same moment"),
        _row(3, BIG_START + timedelta(hours=3), None, "later"),
    ]
    svg = str(timeline_svg(incident, zone=ZONE, names={"U0": "alice"}, now=NOW, timeline=rows))
    root = parse(svg)
    assert not groups_of(root) and "data-count" not in svg
    markers = entries_of(root)
    assert [m.get("data-entry-id") for m in markers] == ["1", "2", "3"]
    assert (markers[1][0].text or "").endswith("— U1 — note: same moment")
    # Passing the incident's own entries draws what reading them from the incident draws.
    own = rich_incident()
    assert str(timeline_svg(own, zone=ZONE, names=names(), now=NOW, timeline=own.timeline)) == (
        rich_svg()
    )


def test_time_ticks_pick_sensible_steps() -> None:
    start = datetime(2026, 11, 27, 21, 58, tzinfo=UTC)
    minutes = time_ticks(start, start + timedelta(minutes=20), zone="UTC", max_ticks=4)
    assert [t.strftime("%H:%M") for t in minutes] == ["22:00", "22:05", "22:10", "22:15"]
    days = time_ticks(start, start + timedelta(days=5), zone="UTC", max_ticks=6)
    assert [t.day for t in days] == [28, 29, 30, 1, 2]
    assert all(t.hour == 0 and t.minute == 0 for t in days)
    weeks = time_ticks(start, start + timedelta(days=60), zone="UTC", max_ticks=10)
    assert all(t.weekday() == 0 for t in weeks) and 6 <= len(weeks) <= 10
    for span in (timedelta(minutes=7), timedelta(hours=5), timedelta(days=3), timedelta(days=400)):
        ticks = time_ticks(start, start + span, zone=ZONE, max_ticks=8)
        assert 2 <= len(ticks) <= 9
        assert ticks == sorted(set(ticks))
        assert all(start <= t <= start + span for t in ticks)


def test_time_ticks_stay_on_local_wall_clock_across_dst() -> None:
    # Clocks in New York went forward at 02:00 on 8 March 2026: 01:00, 03:00, 04:00 ...
    start = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)  # 00:00 EST
    ticks = time_ticks(start, start + timedelta(hours=6), zone=ZONE, max_ticks=8)
    local = [t.astimezone(ZoneInfo(ZONE)) for t in ticks]
    assert [f"{t:%H:%M}" for t in local] == [
        "00:00",
        "01:00",
        "03:00",
        "04:00",
        "05:00",
        "06:00",
        "07:00",
    ]


def test_minute_ticks_run_evenly_through_the_repeated_hour() -> None:
    # Clocks in New York went back at 02:00 EDT on 1 November 2026: 01:00-02:00 happened twice.
    start = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    ticks = time_ticks(start, start + timedelta(hours=1), zone=ZONE, max_ticks=4)
    assert [b - a for a, b in itertools.pairwise(ticks)] == [timedelta(minutes=15)] * 4
    local = [f"{t.astimezone(ZoneInfo(ZONE)):%H:%M %Z}" for t in ticks]
    assert local == ["01:30 EDT", "01:45 EDT", "01:00 EST", "01:15 EST", "01:30 EST"]


def test_multi_day_incident_shows_dates_and_both_abbreviations_across_dst() -> None:
    now = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)
    incident = _open_incident(now, minutes=5 * 24 * 60)  # from 31 October, EDT, to EST
    svg = str(timeline_svg(incident, zone=ZONE, names={}, now=now))
    assert_safe(svg, role="group")
    texts = tick_texts(parse(svg))
    assert "Sun 1 Nov" in texts and "Wed 4 Nov" in texts
    assert "Times in America/New_York (EDT → EST)" in svg


@pytest.mark.parametrize(
    "palette",
    [
        SEVERITY_COLOURS,
        STATUS_COLOURS,
        KIND_COLOURS,
        dict(enumerate(SERIES_COLOURS)),
        dict(enumerate(GROUP_COLOURS)),
    ],
)
def test_colours_contrast_with_white(palette: dict[object, str]) -> None:
    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    for colour in palette.values():
        # 4.5:1 both for markers on the white page and for white text on the bands.
        assert 1.05 / (luminance(colour) + 0.05) >= 4.5, colour


def test_every_kind_has_a_colour() -> None:
    assert set(KIND_COLOURS) == {str(kind) for kind in EntryKind}
    assert set(STATUS_COLOURS) == {str(status) for status in Status}


# --- bar charts ------------------------------------------------------------------------------

WEEKS = [("Nov 2", 1), ("Nov 9", 0), ("Nov 16", 3), ("Nov 23", 2)]


def count_label(value: float) -> str:
    return str(int(value))


def test_bar_chart_prints_every_value() -> None:
    svg = str(bar_chart_svg(title="Incidents per week", bars=WEEKS, value_label=count_label))
    assert_safe(svg)
    root = parse(svg)
    values = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "value"]
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "label"]
    assert values == ["1", "0", "3", "2"]
    assert labels == ["Nov 2", "Nov 9", "Nov 16", "Nov 23"]
    assert len(list(root.iter(f"{SVG}rect"))) == 3  # No bar for the zero week.
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert ticks == ["0", "1", "2", "3"]
    desc = root.find(f"{SVG}desc")
    assert desc is not None and "Nov 16: 3" in (desc.text or "")
    bars = [g for g in root.iter(f"{SVG}g") if g.get("class") == "bar"]
    assert [g[0].text for g in bars] == ["Nov 2: 1", "Nov 9: 0", "Nov 16: 3", "Nov 23: 2"]


def test_bar_heights_are_proportional() -> None:
    root = parse(str(bar_chart_svg(title="t", bars=WEEKS, value_label=count_label)))
    heights = [float(r.get("height", "")) for r in root.iter(f"{SVG}rect")]
    assert heights[1] == pytest.approx(3 * heights[0], rel=0.01)
    assert heights[2] == pytest.approx(2 * heights[0], rel=0.01)


@pytest.mark.parametrize("bars", [[], [("Nov 2", 0), ("Nov 9", 0)]])
def test_bar_chart_without_data_says_so(bars: list[tuple[str, float]]) -> None:
    svg = str(bar_chart_svg(title="Incidents per week", bars=bars, value_label=count_label))
    assert_safe(svg)
    assert "No incidents in this period." in svg
    assert 'class="value"' not in svg


def test_bar_chart_escapes_and_is_deterministic() -> None:
    bars = [("<b>x</b>", 2.5), ("y & z", 1.0)]
    svg = str(bar_chart_svg(title="<script>t</script>", bars=bars, value_label=lambda v: f"{v}"))
    assert_safe(svg)
    assert "&lt;b&gt;x&lt;/b&gt;" in svg and "y &amp; z" in svg
    assert svg == str(bar_chart_svg(title="<script>t</script>", bars=bars, value_label=str))


def test_two_charts_on_a_page_have_distinct_ids() -> None:
    one = parse(str(bar_chart_svg(title="Per week", bars=WEEKS, value_label=count_label)))
    two = parse(str(bar_chart_svg(title="Per month", bars=WEEKS, value_label=count_label)))
    assert one.get("aria-labelledby") != two.get("aria-labelledby")


def seconds(value: float) -> str:
    return humanize(timedelta(seconds=value))


GROUPS = [
    (
        "SEV1 (2)",
        [("Time to detect", 600.0), ("Time to mitigate", 5400.0), ("Time to resolve", 90000.0)],
    ),
    ("SEV2 (1)", [("Time to detect", 0.0), ("Time to mitigate", None), ("Time to resolve", None)]),
]


def test_grouped_bars_show_durations_and_dashes() -> None:
    svg = str(
        grouped_bar_svg(
            title="How fast, by severity",
            groups=GROUPS,
            value_label=seconds,
            tick_steps=DURATION_TICK_STEPS,
        )
    )
    assert_safe(svg)
    root = parse(svg)
    values = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "value"]
    assert values == ["10 min", "1 h 30 min", "1 d 1 h", "0 s", "—", "—"]
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "group"]
    assert [g.get("data-group") for g in groups] == ["SEV1 (2)", "SEV2 (1)"]
    bars = [g for g in root.iter(f"{SVG}g") if g.get("class") == "bar"]
    assert [len(list(g.iter(f"{SVG}rect"))) for g in bars] == [1, 1, 1, 1, 0, 0]
    assert bars[4][0].text == "SEV2 (1) — Time to mitigate: no data"
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert ticks == ["0 s", "12 h", "1 d", "1 d 12 h"]
    legend = [g for g in root.iter(f"{SVG}g") if g.get("class") == "legend"][0]
    assert [t.text for t in legend.iter(f"{SVG}text")] == [
        "Time to detect",
        "Time to mitigate",
        "Time to resolve",
    ]


def test_grouped_bars_without_any_value_say_so() -> None:
    empty = [("SEV1 (0)", [("Time to detect", None)]), ("SEV2 (0)", [("Time to detect", None)])]
    for groups in (empty, []):
        svg = str(grouped_bar_svg(title="How fast", groups=groups, value_label=seconds))
        assert_safe(svg)
        assert "No incidents in this period." in svg


def test_grouped_bars_with_only_zero_values_still_have_an_axis() -> None:
    groups = [("SEV1 (1)", [("Time to detect", 0.0), ("Time to resolve", None)])]
    svg = str(
        grouped_bar_svg(
            title="How fast", groups=groups, value_label=seconds, tick_steps=DURATION_TICK_STEPS
        )
    )
    assert_safe(svg)
    root = parse(svg)
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tick"] == ["0 s", "1 s"]
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "value"] == ["0 s", "—"]


def test_grouped_bars_are_deterministic() -> None:
    first = grouped_bar_svg(title="How fast", groups=GROUPS, value_label=seconds)
    assert str(first) == str(grouped_bar_svg(title="How fast", groups=GROUPS, value_label=seconds))
