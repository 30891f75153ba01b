"""Postmortem drafts rendered from an incident, as Markdown or as a standalone HTML page.

Templates only ever see a plain context of strings built by ``build_context``; what people typed
is passed in as data and is never part of a template's source, so ``{{ 7*7 }}`` stays literal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from incidentbot.errors import IncidentError
from incidentbot.metrics import (
    DEFINITIONS,
    DURATIONS,
    LABELS,
    MOMENTS,
    compute_metrics,
    humanize,
)
from incidentbot.models import ActionStatus, EntryKind, Incident, Person, Status, TimelineEntry
from incidentbot.paths import data_dir
from incidentbot.text import mention_to_plain

FORMATS = ("md", "html")
_TEMPLATE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_SLACK_REDIRECT = "https://slack.com/app_redirect?channel="


@dataclass(frozen=True)
class IncidentFacts:
    number: int
    reference: str
    title: str
    severity: str
    highest_severity: str
    status: str
    is_open: bool
    private: bool
    channel_name: str | None
    channel_url: str | None
    web_url: str
    declared_by: str
    declared_at: str
    impact_started_at: str
    mitigated_at: str | None
    resolved_at: str | None
    closed_at: str | None
    lead: str | None


@dataclass(frozen=True)
class RoleHolder:
    role: str
    label: str
    person: str
    since: str


@dataclass(frozen=True)
class RoleChange:
    role: str
    label: str
    person: str
    assigned_by: str
    started_at: str
    ended_at: str | None


@dataclass(frozen=True)
class TimelineItem:
    when: str
    iso: str
    date: str
    time: str
    zone_abbr: str
    author: str
    kind: str
    text: str
    permalink: str | None
    backdated: bool
    recorded_when: str


@dataclass(frozen=True)
class ActionItemView:
    number: int
    text: str
    owner: str
    due: str | None
    status: str
    overdue: bool


@dataclass(frozen=True)
class MetricRow:
    key: str
    label: str
    value: str
    definition: str


@dataclass(frozen=True)
class SeverityTime:
    severity: str
    value: str


@dataclass(frozen=True)
class MetricsView:
    """Each metric by name (``metrics.time_to_detect.value``) and in display order."""

    impact_started_at: MetricRow
    detected_at: MetricRow
    acknowledged_at: MetricRow
    mitigated_at: MetricRow
    resolved_at: MetricRow
    closed_at: MetricRow
    time_to_detect: MetricRow
    time_to_acknowledge: MetricRow
    time_to_mitigate: MetricRow
    time_to_resolve: MetricRow
    duration: MetricRow
    reopened_count: MetricRow
    moments: list[MetricRow]
    durations: list[MetricRow]
    time_in_severity: list[SeverityTime]
    time_in_severity_definition: str


def build_context(
    *,
    incident: Incident,
    people: Mapping[str, Person],
    zone: str,
    base_url: str,
    now: datetime,
    version: int | None = None,
) -> dict[str, object]:
    """Everything a postmortem template may use, as plain strings and small dataclasses."""
    tz = _zone(zone)
    names = {user_id: person.display_name for user_id, person in people.items()}

    def name(user_id: str | None) -> str:
        if not user_id:
            return "incidentbot"
        return names.get(user_id) or user_id

    def moment(value: datetime | None) -> str | None:
        return None if value is None else _format(value, tz)

    def readable(text: str | None) -> str:
        return mention_to_plain(text or "", names).strip()

    metrics = compute_metrics(incident, now=now)
    lead_id = incident.holder("lead")
    facts = IncidentFacts(
        number=incident.number,
        reference=f"INC-{incident.number}",
        title=readable(incident.title),
        severity=str(incident.severity),
        highest_severity=metrics.highest_severity,
        status=str(incident.status),
        is_open=incident.is_open,
        private=bool(incident.private),
        channel_name=incident.channel_name,
        channel_url=(
            _SLACK_REDIRECT + quote(incident.channel_id, safe="") if incident.channel_id else None
        ),
        web_url=f"{base_url.rstrip('/')}/incidents/{incident.number}",
        declared_by=name(incident.declared_by),
        declared_at=_format(incident.declared_at, tz),
        impact_started_at=_format(metrics.impact_started_at, tz),
        mitigated_at=moment(metrics.mitigated_at),
        resolved_at=moment(incident.resolved_at),
        closed_at=moment(incident.closed_at),
        lead=name(lead_id) if lead_id else None,
    )

    roles = [
        RoleHolder(
            role=assignment.role,
            label=_role_label(assignment.role),
            person=name(assignment.user_id),
            since=_format(assignment.started_at, tz),
        )
        for assignment in incident.roles
        if assignment.ended_at is None
    ]
    role_history = [
        RoleChange(
            role=assignment.role,
            label=_role_label(assignment.role),
            person=name(assignment.user_id),
            assigned_by=name(assignment.assigned_by),
            started_at=_format(assignment.started_at, tz),
            ended_at=moment(assignment.ended_at),
        )
        for assignment in incident.roles
    ]

    entries = _chronological(incident)
    timeline = [
        TimelineItem(
            when=_format(entry.occurred_at, tz),
            iso=entry.occurred_at.astimezone(tz).isoformat(timespec="minutes"),
            date=entry.occurred_at.astimezone(tz).strftime("%Y-%m-%d"),
            time=entry.occurred_at.astimezone(tz).strftime("%H:%M"),
            zone_abbr=_abbr(entry.occurred_at, tz),
            author=name(entry.source_author_id or entry.author_id),
            kind=_kind_label(entry.kind),
            text=readable(entry.text),
            permalink=_safe_url(entry.permalink),
            backdated=_backdated(entry.occurred_at, entry.recorded_at),
            recorded_when=_format(entry.recorded_at or entry.occurred_at, tz),
        )
        for entry in entries
    ]

    today = now.astimezone(tz).date()
    action_items = [
        ActionItemView(
            number=index,
            text=readable(item.text),
            owner=name(item.owner_id) if item.owner_id else "unassigned",
            due=item.due_date.isoformat() if item.due_date else None,
            status=str(item.status),
            overdue=_overdue(item.due_date, item.status, today),
        )
        for index, item in enumerate(incident.action_items, start=1)
    ]

    rows = {
        key: MetricRow(
            key=key,
            label=LABELS[key],
            value=moment(getattr(metrics, key)) or "—",
            definition=DEFINITIONS[key],
        )
        for key in MOMENTS
    }
    rows.update(
        {
            key: MetricRow(
                key=key,
                label=LABELS[key],
                value=humanize(getattr(metrics, key)),
                definition=DEFINITIONS[key],
            )
            for key in DURATIONS
        }
    )
    metrics_view = MetricsView(
        **rows,
        reopened_count=MetricRow(
            key="reopened_count",
            label=LABELS["reopened_count"],
            value=str(metrics.reopened_count),
            definition=DEFINITIONS["reopened_count"],
        ),
        moments=[rows[key] for key in MOMENTS],
        durations=[rows[key] for key in DURATIONS],
        time_in_severity=[
            SeverityTime(severity=severity, value=humanize(spent))
            for severity, spent in metrics.time_in_severity.items()
        ],
        time_in_severity_definition=DEFINITIONS["time_in_severity"],
    )

    resolution = [
        item for entry, item in zip(entries, timeline, strict=True) if _ends_impact(entry)
    ]

    return {
        "incident": facts,
        "roles": roles,
        "role_history": role_history,
        "timeline": timeline,
        "resolution": resolution,
        "action_items": action_items,
        "metrics": metrics_view,
        "summary": readable(incident.summary) or None,
        "impact": readable(incident.impact) or None,
        "zone": zone,
        "generated_at": _format(now, tz),
        "version": version,
    }


class PostmortemRenderer:
    """Renders postmortems from the team's templates, falling back to the built-in ones."""

    def __init__(
        self,
        *,
        zone: str = "UTC",
        base_url: str = "http://localhost:3000",
        templates_dir: Path | None = None,
    ) -> None:
        _zone(zone)
        self.zone = zone
        self.base_url = base_url
        self._search_path = [
            Path(folder) for folder in (templates_dir, data_dir("templates")) if folder
        ]
        loader = FileSystemLoader([str(folder) for folder in self._search_path])
        common = {
            "loader": loader,
            "undefined": StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "keep_trailing_newline": True,
        }
        markdown = Environment(autoescape=False, **common)
        markdown.filters.update(md_cell=md_cell, md_inline=md_inline, md_block=md_block)
        self._environments = {"md": markdown, "html": Environment(autoescape=True, **common)}

    def available_templates(self, *, fmt: str | None = None) -> list[str]:
        """Template names found in any searched folder (for ``fmt``, or in any format)."""
        suffixes = [f".{fmt}.j2"] if fmt else [f".{f}.j2" for f in FORMATS]
        found: set[str] = set()
        for folder in self._search_path:
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                for suffix in suffixes:
                    stem = path.name.removesuffix(suffix)
                    if stem != path.name and path.is_file() and _TEMPLATE_NAME.match(stem):
                        found.add(stem)
        return sorted(found)

    def render(
        self,
        *,
        incident: Incident,
        people: Mapping[str, Person],
        fmt: str = "md",
        template: str = "default",
        now: datetime,
        version: int | None = None,
    ) -> str:
        if fmt not in FORMATS:
            raise IncidentError(f"Unknown postmortem format {fmt!r}: use one of md, html.")
        if template not in self.available_templates(fmt=fmt):
            names = ", ".join(self.available_templates(fmt=fmt)) or "none"
            raise IncidentError(
                f"There is no postmortem template {template!r} for {fmt}. Available: {names}."
            )
        context = build_context(
            incident=incident,
            people=people,
            zone=self.zone,
            base_url=self.base_url,
            now=now,
            version=version,
        )
        source = self._environments[fmt].get_template(f"{template}.{fmt}.j2")
        return source.render(context)


# Lines that Markdown would turn into a heading or a rule (or a setext underline).
_STRUCTURAL_LINE = re.compile(r"^(\s{0,3})(#|=+\s*$|[-*_](?:\s*[-*_]){2,}\s*$)")
_FENCE = re.compile(r"^(\s{0,3})(`{3,}|~{3,})")
# "<" that could open raw HTML (a tag, comment or declaration), which Markdown would pass through.
_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?])")


def _no_raw_html(text: str) -> str:
    return _TAG_OPEN.sub(r"\\<", text)


def md_inline(text: str | None) -> str:
    """One line of user text, for a list item or a heading: newlines collapse to spaces."""
    # A list item that starts with "# " would still be a heading inside the item.
    line = _no_raw_html(" ".join((text or "").split()))
    return _STRUCTURAL_LINE.sub(r"\1\\\2", line, count=1)


def md_cell(text: str | None) -> str:
    """User text inside a Markdown table cell: one line, and ``|`` cannot end the cell."""
    return md_inline(text).replace("|", "\\|")


def md_block(text: str | None) -> str:
    """User paragraphs keep their lines, but none may become a heading, rule, fence or HTML."""
    lines = _no_raw_html(text or "").splitlines()
    unbalanced_fences = sum(1 for line in lines if _FENCE.match(line)) % 2 == 1
    safe = []
    for line in lines:
        line = _STRUCTURAL_LINE.sub(r"\1\\\2", line, count=1)
        if unbalanced_fences:
            # An unclosed fence would swallow the rest of the document.
            line = _FENCE.sub(r"\1\\\2", line, count=1)
        safe.append(line)
    return "\n".join(safe)


def _chronological(incident: Incident) -> list[TimelineEntry]:
    """By when it happened; entries at the same moment keep the order they were recorded."""
    return sorted(
        incident.timeline,
        key=lambda entry: (entry.occurred_at, entry.id is None, entry.id or 0),
    )


def _ends_impact(entry: TimelineEntry) -> bool:
    """A move to monitoring or resolved, or closing an incident nobody had marked resolved."""
    if entry.kind != EntryKind.STATUS:
        return False
    details = entry.details or {}
    after, before = str(details.get("to")), str(details.get("from"))
    if after == Status.CLOSED:
        return before != Status.RESOLVED
    return after in (Status.MONITORING, Status.RESOLVED)


def _zone(zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise IncidentError(f"Unknown time zone {zone!r}: use an IANA name such as UTC.") from error


def _abbr(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).tzname() or str(tz)


def _format(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or tz.key}"


def _backdated(occurred_at: datetime, recorded_at: datetime | None) -> bool:
    """Recorded noticeably later than it happened, e.g. a ``note at`` or a late pin."""
    return recorded_at is not None and (recorded_at - occurred_at).total_seconds() > 300


def _overdue(due: date | None, status: str, today: date) -> bool:
    return due is not None and status != ActionStatus.DONE and due < today


def _role_label(role: str) -> str:
    return role.replace("_", " ").capitalize()


def _kind_label(kind: str) -> str:
    try:
        return str(EntryKind(kind))
    except ValueError:
        return kind.replace("_", " ")


def _safe_url(url: str | None) -> str | None:
    """Only web links, with characters that would break Markdown or HTML percent-encoded."""
    if not url or not re.match(r"^https?://", url, re.IGNORECASE):
        return None
    return quote(url, safe=":/?#[]@!$&'*+,;=%~-._")
