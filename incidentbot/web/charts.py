"""Charts for the web pages, as inline SVG written by hand (no chart library, no scripts).

Everything here returns ``Markup`` holding one ``<svg>`` element:

* ``timeline_svg`` — an incident's entries along a time axis, with severity bands and status
  phases; every entry is a focusable marker whose ``<title>`` shows its text on hover.
* ``bar_chart_svg`` — one bar per label (incidents per week), the value printed above each bar.
* ``grouped_bar_svg`` — horizontal bars in groups (time to detect / mitigate / resolve by
  severity), the value printed beside each bar and ``—`` where there is none.

The pages' Content-Security-Policy forbids inline scripts and may forbid ``style`` attributes,
so the SVG is styled with presentation attributes only (``fill=``, ``stroke=``, ``font-size=``);
the stylesheet may override them. Each ``<svg>`` has the class ``chart`` (``width: 100%`` in
the stylesheet) besides ``width="100%"``, a ``viewBox`` so it scales, and ``role="img"`` with
``aria-labelledby`` naming its ``<title>`` and ``<desc>`` — except the timeline: its markers
are focusable, and ARIA makes the children of an ``img`` presentational (axe reports focusable
ones as "nested-interactive"), so it is a ``role="group"`` labelled by its ``<title>`` and
described by its ``<desc>``, holding a ``role="list"`` of ``role="listitem"`` markers.

All text goes through ``markupsafe.escape`` and the output is well-formed XML. The same input
always gives the same string: nothing depends on the clock, randomness or set order.

Colours are dark enough to read on white (4.5:1 or better), and white text on the bands too.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from dateutil import tz as dateutil_tz
from markupsafe import Markup, escape

from incidentbot.domain.metrics import humanize
from incidentbot.domain.models import (
    EntryKind,
    Incident,
    Severity,
    Status,
    TimelineRecord,
)
from incidentbot.domain.text import mention_to_plain
from incidentbot.domain.timeparse import (
    MONTH_ABBREVIATIONS,
    WEEKDAY_ABBREVIATIONS,
    MomentFormatter,
    abbreviation,
    get_zone,
    zone_label,
)

__all__ = [
    "DURATION_TICK_STEPS",
    "KIND_COLOURS",
    "SEVERITY_COLOURS",
    "STATUS_COLOURS",
    "bar_chart_svg",
    "grouped_bar_svg",
    "time_ticks",
    "timeline_svg",
]

INK = "#1d1d1f"
MUTED = "#4a4a4f"
GRID = "#d8d8de"
AXIS = "#6e6e73"
FALLBACK_COLOUR = "#57606a"

# The same colours as the ``.sev-SEVn`` classes of the stylesheet.
SEVERITY_COLOURS: dict[str, str] = {
    Severity.SEV1: "#a50e0e",
    Severity.SEV2: "#b3460b",
    Severity.SEV3: "#6b5800",
    Severity.SEV4: "#3c4043",
}
STATUS_COLOURS: dict[str, str] = {
    Status.INVESTIGATING: "#6d28d9",
    Status.IDENTIFIED: "#0b57d0",
    Status.MONITORING: "#0f6b63",
    Status.RESOLVED: "#1e6b34",
    Status.CLOSED: "#4a4a4f",
}
KIND_COLOURS: dict[str, str] = {
    EntryKind.DECLARED: "#a50e0e",
    EntryKind.NOTE: "#0b57d0",
    EntryKind.PINNED: "#7b3fbf",
    EntryKind.STATUS: "#0f6b63",
    EntryKind.SEVERITY: "#b3460b",
    EntryKind.ROLE: "#4a4a4f",
    EntryKind.ACTION: "#8a5a00",
    EntryKind.UPDATE: "#1e6b34",
    EntryKind.SUMMARY: "#9d174d",
    EntryKind.IMPACT: "#7c2d12",
    EntryKind.IMPACT_START: "#6b0f0f",
    EntryKind.DETECTED: "#0e7490",
    EntryKind.MITIGATED: "#166534",
    EntryKind.POSTMORTEM: "#1e3a8a",
    EntryKind.ALERT: "#c2410c",
}
SERIES_COLOURS = ("#0b57d0", "#b3460b", "#1e6b34", "#6d28d9", "#6b5800", "#9d174d")

# Tick steps (seconds) that read well for durations: 1 min, 5 min, 1 h, 1 d, ...
DURATION_TICK_STEPS: tuple[float, ...] = (
    1,
    5,
    10,
    15,
    30,
    60,
    2 * 60,
    5 * 60,
    10 * 60,
    15 * 60,
    30 * 60,
    3600,
    2 * 3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86400,
    2 * 86400,
    7 * 86400,
    14 * 86400,
    28 * 86400,
)

_FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"'
_CHAR = 6.6  # Rough width of a character at font-size 11, for layout.
EMPTY_TEXT = "No incidents in this period."


# --- small helpers ---------------------------------------------------------------------------


def _e(value: object) -> str:
    """Escaped text for an element or a double-quoted attribute."""
    return str(escape(str(value)))


def _n(value: float) -> str:
    """A coordinate with at most one decimal, the same on every run."""
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _chart_id(prefix: str, title: str) -> str:
    """A stable id for a chart's ``<title>``/``<desc>``, distinct for distinct titles."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:32].strip("-")
    digest = hashlib.sha1(title.encode("utf-8")).hexdigest()[:8]
    return f"{prefix}-{slug}-{digest}" if slug else f"{prefix}-{digest}"


def _text_width(text: str, size: float = 11) -> float:
    return len(text) * _CHAR * size / 11


def _svg_open(
    *, chart_id: str, width: float, height: float, extra_class: str = "", interactive: bool = False
) -> str:
    """The ``<svg>`` tag: ``role="img"`` named by its title and desc, or (when it holds
    focusable parts, whose role ``img`` would hide) ``role="group"`` named by its title and
    described by its desc."""
    classes = f"chart {extra_class}".strip()
    if interactive:
        aria = (
            f'role="group" aria-labelledby="{_e(chart_id)}-title" '
            f'aria-describedby="{_e(chart_id)}-desc"'
        )
    else:
        aria = f'role="img" aria-labelledby="{_e(chart_id)}-title {_e(chart_id)}-desc"'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{_e(classes)}" {aria} '
        f'viewBox="0 0 {_n(width)} {_n(height)}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" {_FONT} font-size="11" fill="{INK}">'
    )


def _title_desc(chart_id: str, title: str, desc: str) -> str:
    return (
        f'<title id="{_e(chart_id)}-title">{_e(title)}</title>'
        f'<desc id="{_e(chart_id)}-desc">{_e(desc)}</desc>'
    )


def _text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "start",
    size: float = 11,
    fill: str = INK,
    weight: str | None = None,
    cls: str | None = None,
) -> str:
    attributes = f'x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" fill="{fill}"'
    if anchor != "start":
        attributes += f' text-anchor="{anchor}"'
    if weight:
        attributes += f' font-weight="{weight}"'
    if cls:
        attributes += f' class="{_e(cls)}"'
    return f"<text {attributes}>{_e(content)}</text>"


def _line(x1: float, y1: float, x2: float, y2: float, *, stroke: str, dash: str = "") -> str:
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
        f'stroke="{stroke}" stroke-width="1"{dashed}/>'
    )


def _rect(x: float, y: float, w: float, h: float, *, fill: str) -> str:
    return f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" fill="{fill}"/>'


def _empty_chart(*, chart_id: str, title: str, width: float, height: float, message: str) -> str:
    height = min(height, 120)
    return (
        _svg_open(chart_id=chart_id, width=width, height=height, extra_class="chart-empty")
        + _title_desc(chart_id, title, message)
        + f'<rect x="0.5" y="0.5" width="{_n(width - 1)}" height="{_n(height - 1)}" '
        f'fill="#ffffff" stroke="{GRID}"/>'
        + _text(width / 2, height / 2 + 5, message, anchor="middle", size=14, fill=MUTED)
        + "</svg>"
    )


def _nice_step(raw: float) -> float:
    """The smallest of 1, 2, 5 × 10ⁿ that is at least ``raw``."""
    exponent = math.floor(math.log10(raw))
    base = 10.0**exponent
    for factor in (1, 2, 5, 10):
        if factor * base >= raw * (1 - 1e-9):
            return factor * base
    return 10 * base  # pragma: no cover - the loop always returns


def _value_ticks(
    maximum: float, *, target: int = 4, steps: Sequence[float] | None = None, integer: bool = False
) -> list[float]:
    """Ticks from 0 to at least ``maximum`` (non-negative) at a readable step."""
    if maximum <= 0:
        maximum = steps[0] if steps else 1.0
    raw = maximum / target
    step = next((s for s in steps if s >= raw), None) if steps else None
    if step is None:
        step = _nice_step(raw)
    if integer:
        step = max(1.0, float(math.ceil(step)))
    count = max(1, math.ceil(maximum / step - 1e-9))
    return [step * index for index in range(count + 1)]


# --- time axis -------------------------------------------------------------------------------

_MINUTE = 60
_HOUR = 3600
_DAY = 86400
_TIME_STEPS = (
    _MINUTE,
    2 * _MINUTE,
    5 * _MINUTE,
    10 * _MINUTE,
    15 * _MINUTE,
    30 * _MINUTE,
    _HOUR,
    2 * _HOUR,
    3 * _HOUR,
    6 * _HOUR,
    12 * _HOUR,
    _DAY,
    2 * _DAY,
    7 * _DAY,
    14 * _DAY,
    28 * _DAY,
)


def _choose_step(span: float, max_ticks: int) -> int:
    raw = span / max(1, max_ticks)
    for step in _TIME_STEPS:
        if step >= raw:
            return step
    return 28 * _DAY * math.ceil(raw / (28 * _DAY))


def _localize(wall: datetime, zone: tzinfo) -> datetime:
    """The instant a local wall time names (the first in an overlap, shifted out of a gap)."""
    moment = wall.replace(tzinfo=zone)
    if not dateutil_tz.datetime_exists(moment):
        moment = dateutil_tz.resolve_imaginary(moment)
    return moment.astimezone(UTC)


def time_ticks(start: datetime, end: datetime, *, zone: str, max_ticks: int) -> list[datetime]:
    """Round local times (every 5 min, 2 h, day, week, ...) between ``start`` and ``end``.

    Steps of an hour or more fall on wall-clock multiples from local midnight, so "02:00,
    04:00" stay round across a DST change (steps under an hour run evenly in real time); day
    steps fall on local midnights (weeks on Mondays). The result is UTC, ascending, and holds
    at most about ``max_ticks`` moments.
    """
    tz = get_zone(zone)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    step = _choose_step((end - start).total_seconds(), max_ticks)
    local_start = start.astimezone(tz)
    midnight = datetime.combine(local_start.date(), time())
    if step < _DAY:
        since = (local_start.replace(tzinfo=None) - midnight).total_seconds()
        wall = midnight + timedelta(seconds=math.floor(since / step) * step)
    elif step >= 7 * _DAY:
        wall = midnight - timedelta(days=midnight.weekday())
    else:
        wall = midnight
    ticks: list[datetime] = []
    if step < _HOUR:
        # Offsets change by whole half hours, so steps in real time stay on round minutes and
        # run evenly through a repeated hour.
        moment = _localize(wall, tz)
        while moment <= end:
            if moment >= start:
                ticks.append(moment)
            moment += timedelta(seconds=step)
        return ticks
    for _ in range(10_000):
        moment = _localize(wall, tz)
        if moment > end:
            break
        if moment >= start and (not ticks or moment > ticks[-1]):
            ticks.append(moment)
        wall += timedelta(seconds=step)
    return ticks


def _date_text(local: datetime) -> str:
    weekday, month = WEEKDAY_ABBREVIATIONS[local.weekday()], MONTH_ABBREVIATIONS[local.month - 1]
    return f"{weekday} {local.day} {month}"


def _abbreviation(moment: datetime, zone: str) -> str:
    return abbreviation(moment.astimezone(get_zone(zone)))


# --- timeline --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Period:
    value: str
    start: datetime
    end: datetime


def _entry_key(entry: TimelineRecord) -> tuple[datetime, int]:
    # Aware datetimes compare as instants, whatever their zones.
    return (entry.occurred_at, entry.id or 0)


def _periods(
    initial: str, changes: Iterable[tuple[datetime, str]], *, start: datetime, end: datetime
) -> list[_Period]:
    """Consecutive periods at one value, from ``start`` to ``end``, given dated changes."""
    periods: list[_Period] = []
    current, since = initial, start
    for at, value in changes:
        at = min(max(at, start), end)
        if value == current:
            continue
        periods.append(_Period(current, since, at))
        current, since = value, at
    periods.append(_Period(current, since, end))
    return periods


def _changes(entries: Sequence[TimelineRecord], kind: str) -> list[tuple[datetime, str, str]]:
    """(when, from, to) of every change of ``kind`` that says what it changed to."""
    found: list[tuple[datetime, str, str]] = []
    for entry in entries:
        details = entry.details or {}
        if entry.kind == kind and details.get("to"):
            found.append(
                (
                    entry.occurred_at.astimezone(UTC),
                    str(details.get("from") or ""),
                    str(details["to"]),
                )
            )
    return found


def _severity_periods(
    incident: Incident, entries: Sequence[TimelineRecord], *, start: datetime, end: datetime
) -> list[_Period]:
    """The same reading of the timeline as ``metrics.time_in_severity``."""
    changes = _changes(entries, EntryKind.SEVERITY)
    declared = [e for e in entries if e.kind == EntryKind.DECLARED]
    initial = str(incident.severity)
    declared_details = (declared[0].details or {}) if declared else {}
    if declared_details.get("severity"):
        initial = str(declared_details["severity"])
    elif changes and changes[0][1]:
        initial = changes[0][1]
    return _periods(initial, [(at, to) for at, _, to in changes], start=start, end=end)


def _status_periods(
    incident: Incident, entries: Sequence[TimelineRecord], *, start: datetime, end: datetime
) -> list[_Period]:
    changes = _changes(entries, EntryKind.STATUS)
    initial = (changes[0][1] or str(Status.INVESTIGATING)) if changes else str(incident.status)
    return _periods(initial, [(at, to) for at, _, to in changes], start=start, end=end)


def _rank(order: Sequence[str], value: str) -> tuple[int, str]:
    return (order.index(value) if value in order else len(order), value)


@dataclass(frozen=True)
class _Layout:
    width: float
    left: float
    right: float
    start: datetime
    end: datetime

    @property
    def plot_left(self) -> float:
        return self.left + 10

    @property
    def plot_right(self) -> float:
        return self.width - self.right - 10

    def x(self, moment: datetime) -> float:
        span = (self.end - self.start).total_seconds()
        share = (moment.astimezone(UTC) - self.start).total_seconds() / span
        return self.plot_left + share * (self.plot_right - self.plot_left)


_MARKER_R = 6
_LANE = 16


def _lanes(xs: Sequence[float]) -> list[int]:
    """Puts each marker in the lowest lane where it overlaps no earlier one."""
    last_in_lane: list[float] = []
    lanes: list[int] = []
    for x in xs:
        for lane, last in enumerate(last_in_lane):
            if x - last >= 2 * _MARKER_R + 2:
                last_in_lane[lane] = x
                lanes.append(lane)
                break
        else:
            last_in_lane.append(x)
            lanes.append(len(last_in_lane) - 1)
    return lanes


# A timeline is grouped when its markers would crowd: more entries than one per
# ``_MIN_SPACING`` pixels of the plot, or more than ``_MAX_LANES`` lanes to stack them. Then
# every ``_GROUP_SPAN`` pixels starting at an entry that hold more than ``_GROUP_MOST`` entries
# become one group marker, and the rest keep their own markers. At most ``_GROUP_MOST``
# single markers fall within any ``_GROUP_SPAN`` pixels, and groups do not overlap, so the
# picture holds a few hundred markers at most however long the timeline.
_MIN_SPACING = 4
_MAX_LANES = 16
_GROUP_SPAN = 20
_GROUP_MOST = 3
_GROUP_TEXT = 160  # A single marker's text, in characters, when the timeline is grouped.
# Darker for more entries: up to 9, up to 99, 100 or more. White text reads on all three.
_GROUP_COLOURS = ("#4f6591", "#2f4573", "#17254d")


def _group_colour(count: int) -> str:
    return _GROUP_COLOURS[0 if count < 10 else 1 if count < 100 else 2]


def _clusters(xs: Sequence[float]) -> list[tuple[int, int]]:
    """Half-open index ranges of ascending ``xs``: a group where the ``_GROUP_SPAN`` pixels
    from an entry hold more than ``_GROUP_MOST`` entries, otherwise that entry alone."""
    found: list[tuple[int, int]] = []
    count = len(xs)
    index = reach = 0
    while index < count:
        reach = max(reach, index)
        limit = xs[index] + _GROUP_SPAN
        while reach < count and xs[reach] < limit:
            reach += 1
        if reach - index > _GROUP_MOST:
            found.append((index, reach))
            index = reach
        else:
            found.append((index, index + 1))
            index += 1
    return found


def _extent(xs: Sequence[float], first: int, stop: int) -> tuple[float, float]:
    """Left and right of a marker: a single's circle, or a group's bar, which spans its
    entries and is wide enough for their number."""
    left, right = xs[first] - _MARKER_R, xs[stop - 1] + _MARKER_R
    if stop - first > 1:
        room = _text_width(str(stop - first), 9) + 6
        if right - left < room:
            middle = (left + right) / 2
            left, right = middle - room / 2, middle + room / 2
    return left, right


def _interval_lanes(spans: Sequence[tuple[float, float]]) -> list[int]:
    """Puts each (left, right) span, in order of ``left``, in the lowest lane where it
    overlaps no earlier one (2 pixels apart, as ``_lanes`` keeps markers)."""
    last_in_lane: list[float] = []
    lanes: list[int] = []
    for left, right in spans:
        for lane, last in enumerate(last_in_lane):
            if left - last >= 2:
                last_in_lane[lane] = right
                lanes.append(lane)
                break
        else:
            last_in_lane.append(right)
            lanes.append(len(last_in_lane) - 1)
    return lanes


def _people(author_ids: Iterable[str | None], names: Mapping[str, str]) -> str:
    """ "alice", "alice and bob", "alice, bob and carol", "alice, bob and 3 others": the
    authors with the most entries first (ties in order of appearance)."""
    ranked = [names.get(a, a) for a, _ in Counter(a for a in author_ids if a).most_common()]
    if not ranked:
        return "unknown author"
    if len(ranked) == 1:
        return ranked[0]
    if len(ranked) <= 3:
        return ", ".join(ranked[:-1]) + " and " + ranked[-1]
    return f"{ranked[0]}, {ranked[1]} and {len(ranked) - 2} others"


def _entry_marker(entry: TimelineRecord, *, x: float, cy: float, label: str) -> str:
    kind = str(entry.kind)
    colour = KIND_COLOURS.get(kind, FALLBACK_COLOUR)
    return (
        f'<g class="entry" data-entry-id="{_e(entry.id)}" data-kind="{_e(kind)}" '
        f'tabindex="0" role="listitem" aria-label="{_e(label)}">'
        f"<title>{_e(label)}</title>"
        f'<circle class="focus-ring" cx="{_n(x)}" cy="{_n(cy)}" r="{_MARKER_R + 2}" '
        f'fill="none" stroke="none" stroke-width="2"/>'
        f'<circle cx="{_n(x)}" cy="{_n(cy)}" r="{_MARKER_R}" fill="{colour}" '
        f'stroke="#ffffff" stroke-width="1.5"/></g>'
    )


def _group_marker(
    members: Sequence[TimelineRecord], *, x1: float, x2: float, cy: float, label: str
) -> str:
    count = len(members)
    width, top = x2 - x1, cy - _MARKER_R
    shown = str(count)
    number = ""
    if width >= _text_width(shown, 9) + 4:
        number = (
            f'<text x="{_n(x1 + width / 2)}" y="{_n(cy + 3)}" font-size="9" fill="#ffffff" '
            f'text-anchor="middle" font-weight="600" aria-hidden="true">{shown}</text>'
        )
    return (
        f'<g class="entry-group" data-entry-id="{_e(members[0].id)}" data-count="{count}" '
        f'tabindex="0" role="listitem" aria-label="{_e(label)}">'
        f"<title>{_e(label)}</title>"
        f'<rect class="focus-ring" x="{_n(x1 - 2)}" y="{_n(top - 2)}" width="{_n(width + 4)}" '
        f'height="{2 * _MARKER_R + 4}" rx="4" fill="none" stroke="none" stroke-width="2"/>'
        f'<rect x="{_n(x1)}" y="{_n(top)}" width="{_n(width)}" height="{2 * _MARKER_R}" '
        f'rx="3" fill="{_group_colour(count)}" stroke="#ffffff" stroke-width="1.5"/>'
        f"{number}</g>"
    )


def _band_row(
    periods: Sequence[_Period],
    *,
    layout: _Layout,
    y: float,
    height: float,
    cls: str,
    attribute: str,
    colours: Mapping[str, str],
    describe: Callable[[_Period], str],
) -> list[str]:
    parts = [f'<g class="{cls}s">']
    for period in periods:
        x1, x2 = layout.x(period.start), layout.x(period.end)
        width = max(x2 - x1, 1.5)
        colour = colours.get(period.value, FALLBACK_COLOUR)
        parts.append(
            f'<g class="{cls}" data-{attribute}="{_e(period.value)}">'
            f"<title>{_e(describe(period))}</title>" + _rect(x1, y, width, height, fill=colour)
        )
        if width >= _text_width(period.value) + 8:
            parts.append(
                _text(
                    x1 + width / 2, y + height / 2 + 4, period.value, anchor="middle", fill="#fff"
                )
            )
        parts.append("</g>")
    parts.append("</g>")
    return parts


def _legend_row(
    label: str | None,
    items: Sequence[tuple[str, str]],
    *,
    y: float,
    left: float,
    right: float,
    swatch: Callable[[float, float, str], str],
) -> tuple[list[str], float]:
    """One legend line (wrapping as needed); returns its parts and the y after it."""
    parts = [_text(left - 18, y + 4, label, anchor="end", size=12, weight="600")] if label else []
    x = left
    for name, colour in items:
        width = 16 + _text_width(name) + 14
        if x + width > right and x > left:
            x, y = left, y + 18
        parts.append(f'<g class="legend-item">{swatch(x, y, colour)}')
        parts.append(_text(x + 14, y + 4, name) + "</g>")
        x += width
    return parts, y + 20


def _circle_swatch(x: float, y: float, colour: str) -> str:
    return f'<circle cx="{_n(x + 5)}" cy="{_n(y)}" r="5" fill="{colour}"/>'


def _square_swatch(x: float, y: float, colour: str) -> str:
    return _rect(x, y - 5, 10, 10, fill=colour)


def timeline_svg(
    incident: Incident,
    *,
    zone: str,
    names: Mapping[str, str],
    now: datetime,
    width: int = 960,
    timeline: Sequence[TimelineRecord] | None = None,
) -> Markup:
    """The incident's timeline as a picture: severity bands, status phases and entry markers.

    The axis runs from the earliest of impact start, declaration and the first entry to the
    resolution (or ``now`` while open), stretched to the last entry if one comes later. Ticks
    are in ``zone``; the caption names it with its abbreviation(s). Each entry is a
    ``<g class="entry" data-entry-id="…" tabindex="0" role="listitem">`` whose ``<title>``
    reads "time — author — kind: text"; entries at the same spot are stacked in lanes.

    A long timeline whose markers would crowd (see ``_MIN_SPACING`` and ``_MAX_LANES``) draws
    each dense stretch as one ``<g class="entry-group" data-entry-id="<first entry's id>"
    data-count="<n>" tabindex="0" role="listitem">``, a bar shaded by its count, titled "12
    entries, 2026-11-27 14:02 CET to 14:09 — alice, bob and 3 others"; entries of its quiet
    stretches keep their own markers. The picture stays a few hundred markers at most.
    ``timeline``: the entries (``TimelineEntry`` objects or ``TimelineRow`` tuples), if the
    caller has read them; by default ``incident.timeline``.
    ``names`` maps user ids to display names (missing ones show the id).
    """
    now = now.astimezone(UTC)
    # Deleted entries are in the page's history, not on its picture of what happened.
    records = incident.timeline if timeline is None else timeline
    entries = sorted(
        (entry for entry in records if getattr(entry, "deleted_at", None) is None),
        key=_entry_key,
    )
    declared_at = incident.declared_at.astimezone(UTC)
    impact_at = (incident.impact_started_at or incident.declared_at).astimezone(UTC)
    # The first and last entries' moments: as early and as late as any (entries are sorted).
    moments = [entries[i].occurred_at.astimezone(UTC) for i in (0, -1)] if entries else []
    start = min([impact_at, declared_at, *moments])
    if incident.is_open:
        finish = now
    else:
        finish = (
            incident.resolved_at or incident.closed_at or max([declared_at, *moments])
        ).astimezone(UTC)
    last = max([finish, *moments])
    end = max(last, start + timedelta(minutes=5))
    if not incident.is_open:
        # A little room after the end, so the last phase (closed) and marker stay visible.
        end += (end - start) / 50

    layout = _Layout(width=width, left=84, right=24, start=start, end=end)
    chart_id = f"timeline-{incident.number}"

    moment = MomentFormatter(zone)

    def period_text(period: _Period) -> str:
        if period.end == end:  # The last period runs on past the axis.
            ongoing = " (ongoing)" if incident.is_open else ""
            return f"{period.value}: since {moment(period.start)}{ongoing}"
        duration = humanize(period.end - period.start)
        return f"{period.value}: {moment(period.start)} to {moment(period.end)} ({duration})"

    band_start = max(min(declared_at, end), start)
    severities = _severity_periods(incident, entries, start=band_start, end=end)
    statuses = _status_periods(incident, entries, start=band_start, end=end)

    plot_w = layout.plot_right - layout.plot_left
    grouped = len(entries) > plot_w / _MIN_SPACING
    if not grouped:
        xs = [layout.x(entry.occurred_at) for entry in entries]
        lanes = _lanes(xs)
        grouped = max(lanes, default=0) + 1 > _MAX_LANES
    clusters: list[tuple[int, int]] = []
    if grouped:
        # Many entries: the same positions as ``layout.x``, from timestamps, faster.
        origin, scale = start.timestamp(), plot_w / (end - start).total_seconds()
        xs = [layout.plot_left + (e.occurred_at.timestamp() - origin) * scale for e in entries]
        clusters = _clusters(xs)
        lanes = _interval_lanes([_extent(xs, first, stop) for first, stop in clusters])
    lane_count = max(lanes, default=0) + 1

    severity_y, status_y, row_h = 8.0, 40.0, 24.0
    entries_top = 76.0
    axis_y = entries_top + lane_count * _LANE + 8
    # Axis, bands and labels are for the eye; the desc and the markers' labels say the same.
    parts: list[str] = ['<g class="background" aria-hidden="true">']

    # Gridlines and tick labels.
    ticks = time_ticks(start, end, zone=zone, max_ticks=max(2, int(plot_w // 80)))
    tz = get_zone(zone)
    step_days = len(ticks) > 1 and (ticks[1] - ticks[0]) >= timedelta(hours=23)
    parts.append('<g class="axis">')
    parts.append(_line(layout.plot_left, axis_y, layout.plot_right, axis_y, stroke=AXIS))
    previous_date = None
    label_lines = 1
    for tick in ticks:
        x = layout.x(tick)
        local = tick.astimezone(tz)
        parts.append(_line(x, severity_y, x, axis_y, stroke=GRID))
        parts.append(_line(x, axis_y, x, axis_y + 4, stroke=AXIS))
        lines = [_date_text(local)] if step_days else [f"{local:%H:%M}"]
        if not step_days and local.date() != previous_date:
            lines.append(_date_text(local))
        previous_date = local.date()
        label_lines = max(label_lines, len(lines))
        half = max(_text_width(line) for line in lines) / 2
        anchor = "middle"
        if x + half > width - 2:
            anchor = "end"
        elif x - half < 2:
            anchor = "start"
        for index, line in enumerate(lines):
            weight = "600" if index else None
            parts.append(
                _text(x, axis_y + 16 + 13 * index, line, anchor=anchor, weight=weight, cls="tick")
            )
    parts.append("</g>")

    abbreviations = list(dict.fromkeys(_abbreviation(at, zone) for at in (start, *ticks, end)))
    zone_name = zone_label(zone)
    caption = f"Times in {zone_name}"
    shown = " → ".join(a for a in abbreviations if a != zone_name)
    if shown:
        caption += f" ({shown})"
    caption_y = axis_y + 16 + 13 * label_lines + 8
    parts.append(_text(layout.plot_left, caption_y, caption, fill=MUTED, cls="zone"))

    # Row labels.
    for label, y in (
        ("Severity", severity_y + row_h / 2 + 4),
        ("Status", status_y + row_h / 2 + 4),
        ("Entries", entries_top + 12),
    ):
        parts.append(_text(layout.left - 8, y, label, anchor="end", size=12, weight="600"))

    parts += _band_row(
        severities,
        layout=layout,
        y=severity_y,
        height=row_h,
        cls="severity-band",
        attribute="severity",
        colours=SEVERITY_COLOURS,
        describe=lambda p: "Severity " + period_text(p),
    )
    parts += _band_row(
        statuses,
        layout=layout,
        y=status_y,
        height=row_h,
        cls="status-phase",
        attribute="status",
        colours=STATUS_COLOURS,
        describe=lambda p: "Status " + period_text(p),
    )

    # Impact start and now.
    parts.append(
        f'<g class="marker-line impact-start"><title>{_e("Impact started " + moment(impact_at))}'
        "</title>"
        + _line(
            layout.x(impact_at), severity_y, layout.x(impact_at), axis_y, stroke=INK, dash="4 3"
        )
        + "</g>"
    )
    if incident.is_open and start <= now <= end:
        parts.append(
            f'<g class="marker-line now"><title>{_e("Now " + moment(now))}</title>'
            + _line(layout.x(now), severity_y, layout.x(now), axis_y, stroke=INK, dash="1 2")
            + "</g>"
        )

    parts.append("</g>")

    # Entry markers, in time order so Tab moves forward in time.
    parts.append('<g class="entries" role="list" aria-label="Timeline entries">')
    if not entries:
        parts.append(
            _text(layout.plot_left, entries_top + 12, "No timeline entries yet.", fill=MUTED)
        )

    def entry_label(entry: TimelineRecord, *, limit: int | None = None) -> str:
        author = names.get(entry.author_id, entry.author_id) if entry.author_id else None
        text = _one_line(mention_to_plain(entry.text or "", names))
        if limit is not None and len(text) > limit:
            text = text[: limit - 1].rstrip() + "…"
        kind = str(entry.kind)
        return f"{moment(entry.occurred_at)} — {author or 'unknown author'} — {kind}: {text}"

    def group_label(members: Sequence[TimelineRecord]) -> str:
        first, last = members[0].occurred_at, members[-1].occurred_at
        since, until = moment(first), moment(last)
        local_first, local_last = first.astimezone(tz), last.astimezone(tz)
        if until == since:
            span = f"at {since}"
        elif local_first.date() == local_last.date() and abbreviation(local_first) == (
            abbreviation(local_last)
        ):
            span = f"{since} to {local_last:%H:%M}"
        else:
            span = f"{since} to {until}"
        who = _people((m.author_id for m in members), names)
        return f"{len(members)} entries, {span} — {who}"

    if not grouped:
        for entry, x, lane in zip(entries, xs, lanes, strict=True):
            cy = entries_top + 8 + lane * _LANE
            parts.append(_entry_marker(entry, x=x, cy=cy, label=entry_label(entry)))
    for (first, stop), lane in zip(clusters, lanes if grouped else [], strict=True):
        cy = entries_top + 8 + lane * _LANE
        if stop - first == 1:
            entry = entries[first]
            label = entry_label(entry, limit=_GROUP_TEXT)
            parts.append(_entry_marker(entry, x=xs[first], cy=cy, label=label))
            continue
        members = entries[first:stop]
        x1, x2 = _extent(xs, first, stop)
        parts.append(_group_marker(members, x1=x1, x2=x2, cy=cy, label=group_label(members)))
    parts.append("</g>")

    # Legend.
    kinds_present = sorted(
        {str(e.kind) for e in entries}, key=lambda k: _rank([str(k) for k in EntryKind], k)
    )
    severity_present = sorted(
        {p.value for p in severities}, key=lambda s: _rank([str(s) for s in Severity], s)
    )
    status_present = sorted(
        {p.value for p in statuses}, key=lambda s: _rank([str(s) for s in Status], s)
    )
    legend_y = caption_y + 22
    legend_right = width - layout.right
    parts.append('<g class="legend" aria-hidden="true">')
    legend_rows: list[tuple[str, list[str], Mapping[str, str], Callable[..., str]]] = [
        ("Kinds", kinds_present, KIND_COLOURS, _circle_swatch),
        ("Severity", severity_present, SEVERITY_COLOURS, _square_swatch),
        ("Status", status_present, STATUS_COLOURS, _square_swatch),
    ]
    for label, present, colours, swatch in legend_rows:
        if not present:
            continue
        row, legend_y = _legend_row(
            label,
            [(name, colours.get(name, FALLBACK_COLOUR)) for name in present],
            y=legend_y,
            left=layout.left + 10,
            right=legend_right,
            swatch=swatch,
        )
        parts += row
    lines_legend = "Dashed line: impact started" + (
        "; dotted line: now" if incident.is_open and start <= now <= end else ""
    )
    parts.append(_text(layout.plot_left, legend_y + 4, lines_legend, fill=MUTED))
    group_count = sum(1 for first, stop in clusters if stop - first > 1)
    if group_count:
        legend_y += 18
        parts.append(
            _text(
                layout.plot_left,
                legend_y + 4,
                "Bars: entries close together, with their number; darker for more",
                fill=MUTED,
            )
        )
    parts.append("</g>")
    height = legend_y + 12

    title = f"Timeline of INC-{incident.number}: {incident.title}"
    severity_desc = ", ".join(f"{p.value} from {moment(p.start)}" for p in severities)
    status_desc = ", ".join(f"{p.value} from {moment(p.start)}" for p in statuses)
    count = len(entries)
    desc = (
        f"{count} timeline {'entry' if count == 1 else 'entries'} from {moment(start)} to "
        f"{moment(last)}. Severity: {severity_desc}. Status: {status_desc}."
    )
    if group_count:
        desc += (
            f" Entries close together are drawn as {group_count} "
            f"{'group' if group_count == 1 else 'groups'}."
        )
    head = _svg_open(
        chart_id=chart_id, width=width, height=height, extra_class="timeline", interactive=True
    )
    return Markup(head + _title_desc(chart_id, title, desc) + "".join(parts) + "</svg>")


# --- bar charts ------------------------------------------------------------------------------


def bar_chart_svg(
    *,
    title: str,
    bars: Sequence[tuple[str, float]],
    value_label: Callable[[float], str],
    width: int = 640,
    height: int = 260,
    empty_text: str = EMPTY_TEXT,
    chart_id: str | None = None,
) -> Markup:
    """Vertical bars with their values printed above them, a value axis and a label axis.

    All values 0 (or no bars) draws ``empty_text`` instead. Integer data gets integer ticks.
    """
    chart_id = chart_id or _chart_id("bar", title)
    values = [float(value) for _, value in bars]
    if not bars or all(value == 0 for value in values):
        return Markup(
            _empty_chart(
                chart_id=chart_id, title=title, width=width, height=height, message=empty_text
            )
        )
    integer = all(value.is_integer() for value in values)
    ticks = _value_ticks(max(values), integer=integer)
    tick_labels = [value_label(tick) for tick in ticks]
    left = max(36.0, max(_text_width(label) for label in tick_labels) + 14)
    top, right, bottom = 22.0, 8.0, 34.0
    plot_w, plot_h = width - left - right, height - top - bottom
    base_y = top + plot_h

    def y(value: float) -> float:
        return base_y - value / ticks[-1] * plot_h

    parts: list[str] = ['<g class="axis">']
    for tick, label in zip(ticks, tick_labels, strict=True):
        parts.append(_line(left, y(tick), width - right, y(tick), stroke=GRID))
        parts.append(_text(left - 6, y(tick) + 4, label, anchor="end", fill=MUTED, cls="tick"))
    parts.append(_line(left, top, left, base_y, stroke=AXIS))
    parts.append(_line(left, base_y, width - right, base_y, stroke=AXIS))
    parts.append("</g>")

    slot = plot_w / len(bars)
    label_every = max(1, math.ceil((max(_text_width(lbl) for lbl, _ in bars) + 6) / slot))
    bar_w = max(2.0, slot * 0.68)
    parts.append('<g class="bars">')
    for index, ((label, _), value) in enumerate(zip(bars, values, strict=True)):
        centre = left + slot * index + slot / 2
        shown = value_label(value)
        parts.append(f'<g class="bar"><title>{_e(f"{label}: {shown}")}</title>')
        if value > 0:
            parts.append(
                _rect(
                    centre - bar_w / 2, y(value), bar_w, base_y - y(value), fill=SERIES_COLOURS[0]
                )
            )
        parts.append(_text(centre, y(value) - 5, shown, anchor="middle", weight="600", cls="value"))
        if index % label_every == 0:
            parts.append(_text(centre, base_y + 16, label, anchor="middle", cls="label"))
        parts.append("</g>")
    parts.append("</g>")

    desc = f"{title}. " + "; ".join(
        f"{label}: {value_label(value)}" for (label, _), value in zip(bars, values, strict=True)
    )
    return Markup(
        _svg_open(chart_id=chart_id, width=width, height=height, extra_class="bar-chart")
        + _title_desc(chart_id, title, desc)
        + "".join(parts)
        + "</svg>"
    )


def grouped_bar_svg(
    *,
    title: str,
    groups: Sequence[tuple[str, Sequence[tuple[str, float | None]]]],
    value_label: Callable[[float], str],
    width: int = 640,
    tick_steps: Sequence[float] | None = None,
    empty_text: str = EMPTY_TEXT,
    chart_id: str | None = None,
) -> Markup:
    """Horizontal bars in groups (one group per severity, one bar per series).

    Each bar has its value beside it (``value_label``); a ``None`` value draws no bar and "—".
    Series are coloured in their order of first appearance, with a legend above. The height
    follows from the number of bars. ``tick_steps`` picks the axis steps (use
    ``DURATION_TICK_STEPS`` for seconds); without it, 1-2-5 steps. If no value is known at all,
    ``empty_text`` is drawn instead.
    """
    chart_id = chart_id or _chart_id("grouped", title)
    series = list(dict.fromkeys(name for _, members in groups for name, _ in members))
    known = [float(v) for _, members in groups for _, v in members if v is not None]
    if not known:
        return Markup(
            _empty_chart(
                chart_id=chart_id, title=title, width=width, height=160, message=empty_text
            )
        )
    colour = {name: SERIES_COLOURS[i % len(SERIES_COLOURS)] for i, name in enumerate(series)}
    ticks = _value_ticks(max(known), steps=tick_steps)
    tick_labels = [value_label(tick) for tick in ticks]
    shown = {
        (g, s): (value_label(float(v)) if v is not None else "—")
        for g, members in groups
        for s, v in members
    }
    left = min(width / 3, max(48.0, max(_text_width(g, 12) for g, _ in groups) + 16))
    right = max(max(_text_width(t) for t in shown.values()) + 12, _text_width(tick_labels[-1]) / 2)
    plot_w = width - left - right
    bar_h, gap, group_gap = 14.0, 3.0, 16.0

    parts: list[str] = []
    # Legend.
    legend, y = _legend_row(
        None,
        [(name, colour[name]) for name in series],
        y=12,
        left=left,
        right=width - 4,
        swatch=_square_swatch,
    )
    parts.append('<g class="legend">' + "".join(legend) + "</g>")
    top = y + 2

    def x(value: float) -> float:
        return left + value / ticks[-1] * plot_w

    body: list[str] = ['<g class="groups">']
    for group, members in groups:
        block = len(members) * (bar_h + gap) - gap
        body.append(f'<g class="group" data-group="{_e(group)}">')
        body.append(
            _text(
                left - 8, y + max(block, bar_h) / 2 + 4, group, anchor="end", size=12, weight="600"
            )
        )
        for name, value in members:
            text = shown[(group, name)]
            label = f"{group} — {name}: {text if value is not None else 'no data'}"
            body.append(f'<g class="bar"><title>{_e(label)}</title>')
            end_x = left
            if value is not None:
                end_x = x(float(value))
                body.append(_rect(left, y, max(end_x - left, 0.0), bar_h, fill=colour[name]))
            body.append(_text(end_x + 4, y + bar_h - 3, text, cls="value"))
            body.append("</g>")
            y += bar_h + gap
        body.append("</g>")
        y += group_gap - gap
    body.append("</g>")
    base_y = y

    parts.append('<g class="axis">')
    for tick, label in zip(ticks, tick_labels, strict=True):
        parts.append(_line(x(tick), top, x(tick), base_y, stroke=GRID))
        parts.append(_text(x(tick), base_y + 15, label, anchor="middle", fill=MUTED, cls="tick"))
    parts.append(_line(left, top, left, base_y, stroke=AXIS))
    parts.append(_line(left, base_y, left + plot_w, base_y, stroke=AXIS))
    parts.append("</g>")
    parts += body
    height = base_y + 24

    desc = f"{title}. " + "; ".join(
        f"{group}: " + ", ".join(f"{name} {shown[(group, name)]}" for name, _ in members)
        for group, members in groups
    )
    return Markup(
        _svg_open(chart_id=chart_id, width=width, height=height, extra_class="grouped-bar-chart")
        + _title_desc(chart_id, title, desc)
        + "".join(parts)
        + "</svg>"
    )
