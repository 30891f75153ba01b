"""Postmortem drafts rendered from an incident, as Markdown or as a standalone HTML page.

Templates only ever see a plain context of strings built by ``build_context``; what people typed
is passed in as data and is never part of a template's source, so ``{{ 7*7 }}`` stays literal.
Every template, built-in or the team's own, runs in Jinja2's immutable sandbox with
``StrictUndefined``; ``PostmortemRenderer.check`` renders them all against sample incidents so a
broken or hostile template stops the process at start-up rather than failing mid-incident.
"""

from __future__ import annotations

import heapq
import logging
import re
import traceback
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
    meta,
    nodes,
)
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from incidentbot.domain.errors import IncidentError
from incidentbot.domain.metrics import (
    DEFINITIONS,
    DURATIONS,
    LABELS,
    MOMENTS,
    Metrics,
    compute_metrics,
    humanize,
)
from incidentbot.domain.milestones import STATE_KINDS
from incidentbot.domain.models import (
    ActionStatus,
    DocumentStatus,
    EntryKind,
    Incident,
    Person,
    Status,
    TimelineRecord,
)
from incidentbot.domain.text import mention_to_plain
from incidentbot.domain.timeparse import abbreviation, day_label, format_moment, get_zone
from incidentbot.infra.paths import data_dir

logger = logging.getLogger(__name__)

FORMATS = ("md", "html")
# Built-in templates stay reachable under this prefix even when a team overrides their names.
BUILTIN_PREFIX = "builtin"
_TEMPLATE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_SLACK_REDIRECT = "https://slack.com/app_redirect?channel="
_DOCUMENT_STATUS = {
    DocumentStatus.DRAFT: "Draft",
    DocumentStatus.IN_REVIEW: "In review",
    DocumentStatus.FINAL: "Final",
}


class TemplateError(IncidentError):
    """A postmortem template cannot be used; the message names the template and the line.

    ``problems`` holds one line per problem found (``check`` reports them all at once).
    """

    def __init__(self, message: str, *, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems) or [message]


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
    # None when no detection was recorded: it was detected when it was declared.
    detected_at: str | None
    mitigated_at: str | None
    resolved_at: str | None
    closed_at: str | None
    lead: str | None
    date: str
    dates: str
    document_status: str
    reopened: bool
    reopened_count: int
    # Entered once it was over (``/incident record``), on ``recorded_at``.
    after_the_fact: bool
    recorded_at: str | None


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


# Slots: a long timeline holds one of these per entry, and a __dict__ each would double them.
@dataclass(frozen=True, slots=True)
class TimelineItem:
    when: str
    iso: str
    date: str
    time: str
    zone_abbr: str
    day_label: str
    day_changed: bool
    author: str
    kind: str
    text: str
    permalink: str | None
    backdated: bool
    recorded_when: str
    edited: bool


@dataclass(frozen=True)
class TimelineDay:
    """The entries of one calendar day in the postmortem's zone."""

    date: str
    label: str
    entries: list[TimelineItem]


@dataclass(frozen=True)
class AroundMilestones:
    """People's entries near each milestone, offered as a starting point for the narrative
    sections; ``AROUND`` says which. ``all`` holds them all once, in the order they happened."""

    impact_start: list[TimelineItem]
    detection: list[TimelineItem]
    mitigation: list[TimelineItem]
    resolution: list[TimelineItem]
    all: list[TimelineItem]


@dataclass(frozen=True)
class Around:
    """What "around a milestone" means for the narrative starting points (``around``).

    The milestones are the impact start, the detection, the mitigation and the resolution, at
    the moments the metrics use. An entry is offered for a milestone when:

    - people wrote or brought it in: a note, a pinned message, an update or an alert
      (``kinds``). The bot's own records of what changed are the milestones themselves;
    - it happened within ``window`` of the milestone, before or after;
    - that milestone is the one nearest to it (of two as near, the earlier milestone), so no
      entry is offered twice, and the start is never offered what came after the resolution;
    - it is one of the ``at_most`` entries nearest the milestone (of two as near, the earlier
      entry). They are listed in the order they happened.

    A milestone not reached yet (no mitigation, no resolution) has none.
    """

    kinds: frozenset[str]
    window: timedelta
    at_most: int


AROUND = Around(
    kinds=frozenset({EntryKind.NOTE, EntryKind.PINNED, EntryKind.UPDATE, EntryKind.ALERT}),
    window=timedelta(minutes=15),
    at_most=3,
)

# Entries that keep the record rather than tell the story (the summary or impact text set, an
# action item added, the postmortem's own changes): the incident's page lists them, the
# postmortem's timeline leaves them out (its own sections show what they set).
BOOKKEEPING_KINDS = frozenset(
    {EntryKind.SUMMARY, EntryKind.IMPACT, EntryKind.ACTION, EntryKind.POSTMORTEM}
)
# The entries ``key_moments`` holds: the declaration, what changed and the milestones set.
KEY_KINDS = STATE_KINDS


@dataclass(frozen=True)
class ActionItemView:
    number: int
    text: str
    kind: str | None
    owner: str
    has_owner: bool
    due: str | None
    status: str
    overdue: bool
    tracking_url: str | None
    tracking_label: str | None


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
    declared_at: MetricRow
    acknowledged_at: MetricRow
    mitigated_at: MetricRow
    resolved_at: MetricRow
    closed_at: MetricRow
    time_to_detect: MetricRow
    time_to_acknowledge: MetricRow
    time_to_mitigate: MetricRow
    time_to_resolve: MetricRow
    duration: MetricRow
    highest_severity: MetricRow
    reopened_count: MetricRow
    reopened: bool
    reopened_note: str | None
    moments: list[MetricRow]
    durations: list[MetricRow]
    time_in_severity: list[SeverityTime]
    time_in_severity_definition: str


@dataclass(frozen=True)
class ReviewNote:
    """A phrase the blameless-language review flagged, for the "Review notes" section."""

    rule_id: str
    category: str
    phrase: str
    where: str
    excerpt: str
    why: str
    suggestion: str


# The dataclasses ``build_context`` makes, with their fields: all a template can read of them.
_CONTEXT_FIELDS: dict[type, frozenset[str]] = {
    view: frozenset(field.name for field in fields(view))
    for view in (
        IncidentFacts,
        RoleHolder,
        RoleChange,
        TimelineItem,
        TimelineDay,
        AroundMilestones,
        ActionItemView,
        MetricRow,
        SeverityTime,
        MetricsView,
        ReviewNote,
    )
}

# Every top-level name a template may use; docs/templates.md describes each one.
CONTEXT_VARIABLES = (
    "incident",
    "authors",
    "participants",
    "roles",
    "role_history",
    "timeline",
    "timeline_days",
    "key_moments",
    "updates",
    "pinned",
    "resolution",
    "around",
    "action_items",
    "metrics",
    "summary",
    "impact",
    "review_notes",
    "zone",
    "generated_at",
    "version",
    "template",
)


def build_context(
    *,
    incident: Incident,
    people: Mapping[str, Person],
    zone: str,
    base_url: str,
    now: datetime,
    version: int | None = None,
    review: Sequence[object] = (),
    template: str = "default",
    timeline: Sequence[TimelineRecord] | None = None,
    edited: Collection[int] = (),
) -> dict[str, object]:
    """Everything a postmortem template may use, as plain strings and small dataclasses.

    ``timeline`` is the incident's timeline if the caller has read it already (as rows, say);
    deleted entries are left out. ``edited`` holds the ids of entries whose text or time was
    corrected, which the timeline marks.
    """
    tz = get_zone(zone)
    if timeline is None:
        timeline = incident.timeline
    timeline = [entry for entry in timeline if getattr(entry, "deleted_at", None) is None]
    names = {user_id: person.display_name for user_id, person in people.items()}

    def name(user_id: str | None) -> str:
        if not user_id:
            return "incidentbot"
        return names.get(user_id) or user_id

    def moment(value: datetime | None) -> str | None:
        return None if value is None else format_moment(value, tz)

    def readable(text: str | None) -> str:
        return mention_to_plain(text or "", names).strip()

    metrics = compute_metrics(incident, now=now, timeline=timeline)
    entries = _chronological(timeline)
    lead_id = incident.holder("lead")
    after_the_fact = bool(incident.after_the_fact)
    declaration = next((entry for entry in entries if entry.kind == EntryKind.DECLARED), None)
    first_day = metrics.impact_started_at.astimezone(tz).date()
    last_day = (metrics.resolved_at or metrics.closed_at or now).astimezone(tz).date()
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
        declared_at=format_moment(incident.declared_at, tz),
        impact_started_at=format_moment(metrics.impact_started_at, tz),
        detected_at=(
            moment(incident.detected_at)
            if incident.detected_at is not None and incident.detected_at != incident.declared_at
            else None
        ),
        mitigated_at=moment(metrics.mitigated_at),
        resolved_at=moment(incident.resolved_at),
        closed_at=moment(incident.closed_at),
        lead=name(lead_id) if lead_id else None,
        date=incident.declared_at.astimezone(tz).date().isoformat(),
        dates=(
            first_day.isoformat()
            if last_day <= first_day
            else f"{first_day.isoformat()} to {last_day.isoformat()}"
        ),
        document_status=_document_status(incident.postmortem_status),
        reopened=metrics.reopened,
        reopened_count=metrics.reopened_count,
        after_the_fact=after_the_fact,
        recorded_at=(
            moment(declaration.recorded_at or declaration.occurred_at)
            if after_the_fact and declaration is not None
            else None
        ),
    )

    roles = [
        RoleHolder(
            role=assignment.role,
            label=_role_label(assignment.role),
            person=name(assignment.user_id),
            since=format_moment(assignment.started_at, tz),
        )
        # The lead first, then the other roles in the order they were given.
        for assignment in sorted(incident.roles, key=lambda held: held.role != "lead")
        if assignment.ended_at is None
    ]
    # A role still held when the incident closed was held until the close, not until now.
    roles_end = incident.closed_at if incident.status == Status.CLOSED else None
    role_history = [
        RoleChange(
            role=assignment.role,
            label=_role_label(assignment.role),
            person=name(assignment.user_id),
            assigned_by=name(assignment.assigned_by),
            started_at=format_moment(assignment.started_at, tz),
            ended_at=moment(assignment.ended_at or roles_end),
        )
        for assignment in incident.roles
    ]
    authors = list(dict.fromkeys(name(assignment.user_id) for assignment in incident.roles))

    minutes = _Minutes(tz)
    edited = set(edited)
    items: list[TimelineItem] = []
    told: list[TimelineRecord] = []
    timeline_days: list[TimelineDay] = []
    # Who took part, in the order they first did: bookkeeping counts, though it is not shown.
    involved: list[str] = []
    previous_day: _Day | None = None
    for entry in entries:
        if entry.kind in BOOKKEEPING_KINDS:
            involved.append(name(entry.source_author_id or entry.author_id))
            continue
        occurred, recorded = entry.occurred_at, entry.recorded_at
        shown = minutes.of(occurred)
        item = TimelineItem(
            when=shown.when,
            iso=shown.iso,
            date=shown.day.date,
            time=shown.time,
            zone_abbr=shown.zone_abbr,
            day_label=shown.day.label,
            day_changed=shown.day != previous_day,
            author=name(entry.source_author_id or entry.author_id),
            kind=_kind_label(entry.kind),
            text=(
                readable(entry.text)
                if not (entry.details and entry.details.get("notes"))
                else _with_notes(readable(entry.text), entry.details["notes"], name, readable)
            ),
            permalink=_safe_url(entry.permalink),
            backdated=backdated(occurred, recorded),
            recorded_when=(
                shown.when
                if recorded is None or recorded == occurred
                else minutes.of(recorded).when
            ),
            edited=entry.id in edited,
        )
        if item.day_changed:
            timeline_days.append(TimelineDay(date=item.date, label=item.day_label, entries=[]))
        timeline_days[-1].entries.append(item)
        items.append(item)
        told.append(entry)
        involved.append(item.author)
        previous_day = shown.day
    participants = [
        person
        for person in dict.fromkeys(involved)
        if person not in authors and person != "incidentbot"
    ]
    paired = list(zip(told, items, strict=True))

    today = now.astimezone(tz).date()
    action_items = []
    for index, action in enumerate(incident.action_items, start=1):
        tracking_url = _safe_url(action.tracking_url)
        action_items.append(
            ActionItemView(
                number=index,
                text=readable(action.text),
                kind=str(action.kind) if action.kind else None,
                owner=name(action.owner_id) if action.owner_id else "unassigned",
                has_owner=bool(action.owner_id),
                due=action.due_date.isoformat() if action.due_date else None,
                status=str(action.status or ActionStatus.OPEN),
                overdue=_overdue(action.due_date, action.status, today),
                tracking_url=tracking_url,
                tracking_label=_link_label(tracking_url),
            )
        )

    return {
        "incident": facts,
        "authors": authors,
        "participants": participants,
        "roles": roles,
        "role_history": role_history,
        "timeline": items,
        "timeline_days": timeline_days,
        "key_moments": [item for entry, item in paired if entry.kind in KEY_KINDS],
        "updates": [item for entry, item in paired if entry.kind == EntryKind.UPDATE],
        "pinned": [item for entry, item in paired if entry.kind == EntryKind.PINNED],
        "resolution": [item for entry, item in paired if _ends_impact(entry)],
        "around": _around(paired, metrics),
        "action_items": action_items,
        "metrics": _metrics_view(metrics, tz),
        "summary": readable(incident.summary) or None,
        "impact": readable(incident.impact) or None,
        "review_notes": [_review_note(flag, readable) for flag in review],
        "zone": zone,
        "generated_at": format_moment(now, tz),
        "version": version,
        "template": template,
    }


def release_context(context: dict[str, object]) -> None:
    """Empties a ``build_context`` context once it has been rendered, so nothing it held
    outlives it.

    Rendering leaves reference cycles behind (the contexts Jinja2 makes for imports ``with
    context`` and for macros), which keep a copy of the context's top level until the garbage
    collector's next full pass: for a long timeline, every entry it shows. Emptying the lists
    those copies share lets the entries go as soon as the caller lets the context go.
    """
    for value in context.values():
        if isinstance(value, AroundMilestones):
            for field in fields(value):
                getattr(value, field.name).clear()
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, TimelineDay):
                    item.entries.clear()
            value.clear()
    context.clear()


def _around(
    paired: Sequence[tuple[TimelineRecord, TimelineItem]], metrics: Metrics
) -> AroundMilestones:
    """The entries ``AROUND`` offers for each milestone."""
    milestones = {
        "impact_start": metrics.impact_started_at,
        "detection": metrics.detected_at,
        "mitigation": metrics.mitigated_at,
        "resolution": metrics.resolved_at,
    }
    reached = [(key, moment) for key, moment in milestones.items() if moment is not None]
    near: dict[str, list[tuple[timedelta, int]]] = {key: [] for key in milestones}
    for index, (entry, _item) in enumerate(paired):
        if entry.kind not in AROUND.kinds or not reached:
            continue
        # min keeps the first of equals: the earlier milestone.
        key, moment = min(reached, key=lambda milestone: abs(entry.occurred_at - milestone[1]))
        distance = abs(entry.occurred_at - moment)
        if distance <= AROUND.window:
            near[key].append((distance, index))
    chosen = {
        key: sorted(index for _distance, index in heapq.nsmallest(AROUND.at_most, found))
        for key, found in near.items()
    }
    return AroundMilestones(
        **{key: [paired[index][1] for index in indexes] for key, indexes in chosen.items()},
        all=[paired[index][1] for index in sorted(i for found in chosen.values() for i in found)],
    )


def _with_notes(
    text: str,
    notes: Sequence[Mapping[str, str]],
    name: Callable[[str | None], str],
    readable: Callable[[str | None], str],
) -> str:
    """A captured message with the notes people added it with ("Add to incident timeline")."""
    added = "; ".join(f"{name(note.get('by'))}: {readable(note.get('text'))}" for note in notes)
    return f"{text} (noted by {added})"


def _metrics_view(metrics: Metrics, tz: tzinfo) -> MetricsView:
    def row(key: str, value: str) -> MetricRow:
        return MetricRow(key=key, label=LABELS[key], value=value, definition=DEFINITIONS[key])

    rows = {key: row(key, _format_optional(getattr(metrics, key), tz)) for key in MOMENTS}
    rows.update({key: row(key, humanize(getattr(metrics, key))) for key in DURATIONS})
    reopened_note = None
    if metrics.reopened:
        times = "1 time" if metrics.reopened_count == 1 else f"{metrics.reopened_count} times"
        last = (
            f" ({format_moment(metrics.resolved_at, tz)})"
            if metrics.resolved_at is not None
            else ""
        )
        reopened_note = f"Reopened {times}; the metrics use the last resolution{last}."
    return MetricsView(
        **rows,
        highest_severity=row("highest_severity", metrics.highest_severity),
        reopened_count=row("reopened_count", str(metrics.reopened_count)),
        reopened=metrics.reopened,
        reopened_note=reopened_note,
        moments=[rows[key] for key in MOMENTS],
        durations=[rows[key] for key in DURATIONS],
        time_in_severity=[
            SeverityTime(severity=severity, value=humanize(spent))
            for severity, spent in metrics.time_in_severity.items()
        ],
        time_in_severity_definition=DEFINITIONS["time_in_severity"],
    )


def _review_note(flag: object, readable: Callable[[str | None], str]) -> ReviewNote:
    """A plain copy of a review flag, read by attribute so any object with the fields works."""

    def text(field: str) -> str:
        value = getattr(flag, field, "")
        return "" if value is None else str(value)

    return ReviewNote(
        rule_id=text("rule_id"),
        category=text("category"),
        phrase=readable(text("phrase")),
        where=text("where"),
        excerpt=readable(text("excerpt")),
        why=text("why"),
        suggestion=text("suggestion"),
    )


# Sizes a template may build with * and **; enough for any document, too small to exhaust memory.
_MAX_REPEAT = 100_000
_MAX_EXPONENT = 1_000


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, also refusing huge repetitions and powers."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and _is_int(right) and _is_number(left):
            if right > _MAX_EXPONENT and abs(left) > 1:
                raise SecurityError(f"the sandbox refuses powers above {_MAX_EXPONENT}")
        elif operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if not (isinstance(sequence, str | list | tuple) and _is_int(times)):
                    continue
                if len(sequence) * times > _MAX_REPEAT:
                    raise SecurityError(
                        f"the sandbox refuses to repeat a value to more than {_MAX_REPEAT} items"
                    )
        return self.binop_table[operator](left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        # A field of the context's own frozen dataclasses is always safe to read; the general
        # check (is it internal? does it modify a known mutable?) cost more than the rest of
        # rendering a timeline row, for a result that is always "yes".
        if attribute in _CONTEXT_FIELDS.get(type(obj), ()):
            return getattr(obj, attribute)
        return super().getattr(obj, attribute)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class PostmortemRenderer:
    """Renders postmortems from the team's templates, falling back to the built-in ones.

    Template ``<name>.<fmt>.j2`` is looked up in ``templates_dir`` first, then among the built-in
    templates; ``builtin/<name>.<fmt>.j2`` always means the built-in one.
    """

    def __init__(
        self,
        *,
        zone: str = "UTC",
        base_url: str = "http://localhost:3000",
        templates_dir: Path | None = None,
    ) -> None:
        get_zone(zone)  # an unknown zone stops start-up, not the first postmortem
        self.zone = zone
        self.base_url = base_url
        self._team_dir = Path(templates_dir) if templates_dir else None
        self._builtin_dir = data_dir("templates")
        self._search_path = [folder for folder in (self._team_dir, self._builtin_dir) if folder]
        builtin = FileSystemLoader(str(self._builtin_dir))
        loaders: list[BaseLoader] = [PrefixLoader({BUILTIN_PREFIX: builtin})]
        if self._team_dir is not None:
            loaders.append(FileSystemLoader(str(self._team_dir)))
        loaders.append(builtin)
        common: dict[str, Any] = {
            "loader": ChoiceLoader(loaders),
            "undefined": StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "keep_trailing_newline": True,
        }
        markdown = _Sandbox(autoescape=False, **common)
        markdown.filters.update(md_cell=md_cell, md_inline=md_inline, md_block=md_block)
        self._environments = {"md": markdown, "html": _Sandbox(autoescape=True, **common)}

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
        review: Sequence[object] = (),
        timeline: Sequence[TimelineRecord] | None = None,
        edited: Collection[int] = (),
    ) -> str:
        """The postmortem as text; ``review`` holds blameless-language flags to list.

        A team template that fails here (on a branch ``check`` could not reach) is logged and
        replaced by the built-in one, so closing an incident never fails on a template.
        ``timeline`` is the incident's timeline if the caller has read it already; ``edited``
        the ids of entries that were corrected.
        """
        self._require(template, fmt)
        context = self.context(
            incident=incident,
            people=people,
            template=template,
            now=now,
            version=version,
            review=review,
            timeline=timeline,
            edited=edited,
        )
        return self.render_context(context, fmt=fmt)

    def context(
        self,
        *,
        incident: Incident,
        people: Mapping[str, Person],
        template: str = "default",
        now: datetime,
        version: int | None = None,
        review: Sequence[object] = (),
        timeline: Sequence[TimelineRecord] | None = None,
        edited: Collection[int] = (),
    ) -> dict[str, object]:
        """What the templates see, in this renderer's zone; ``render_context`` renders it.

        The same context serves every format: for a long timeline, building it is most of the
        work of rendering.
        """
        return build_context(
            incident=incident,
            people=people,
            zone=self.zone,
            base_url=self.base_url,
            now=now,
            version=version,
            review=review,
            template=template,
            timeline=timeline,
            edited=edited,
        )

    def render_context(self, context: Mapping[str, object], *, fmt: str) -> str:
        """Renders a ``context()`` as ``fmt`` with the template it names, falling back as
        ``render`` does."""
        template = str(context["template"])
        self._require(template, fmt)
        try:
            return self._render(f"{template}.{fmt}.j2", context)
        except TemplateError as problem:
            if not self._is_team(f"{template}.{fmt}.j2"):
                raise
            fallback = template if self._builtin_exists(template, fmt) else "default"
            logger.warning(
                "%s; rendering the built-in %r template instead", problem.message, fallback
            )
            return self._render(f"{BUILTIN_PREFIX}/{fallback}.{fmt}.j2", context)

    def _require(self, template: str, fmt: str) -> None:
        if fmt not in FORMATS:
            raise IncidentError(f"Unknown postmortem format {fmt!r}: use one of md, html.")
        if template not in self.available_templates(fmt=fmt):
            names = ", ".join(self.available_templates(fmt=fmt)) or "none"
            raise IncidentError(
                f"There is no postmortem template {template!r} for {fmt}. Available: {names}."
            )

    def check(self, *, required: Iterable[str] = (), builtin: bool = True) -> None:
        """Raises ``TemplateError`` naming every template (and line) that cannot be used.

        ``required`` names templates the configuration refers to (e.g. per severity); each
        must exist in both formats. ``builtin=False`` renders only a team's own templates
        (the built-in ones are proven by the test suite): what start-up checks.
        """
        problems = self.problems(required=required, builtin=builtin)
        if len(problems) == 1:
            raise TemplateError(problems[0], problems=problems)
        if problems:
            listing = "\n".join(f"- {problem}" for problem in problems)
            raise TemplateError(
                f"{len(problems)} problems in the postmortem templates:\n{listing}",
                problems=problems,
            )

    def problems(self, *, required: Iterable[str] = (), builtin: bool = True) -> list[str]:
        """What ``check`` would report: syntax, unknown variables, sandbox and render errors."""
        from incidentbot.postmortem.sample import (
            SAMPLE_NOW,
            sample_incidents,
            sample_people,
            sample_review,
        )

        found: list[str] = []
        if self._team_dir is not None and not self._team_dir.is_dir():
            found.append(f"the templates folder {str(self._team_dir)!r} is not a folder")
        found.extend(self._static_problems(builtin=builtin))
        for name in dict.fromkeys(required):
            if name not in self.available_templates():
                found.append(
                    f"postmortem template {name!r} is configured but does not exist; "
                    f"available: {', '.join(self.available_templates()) or 'none'}"
                )
        names = [
            name
            for name in self.available_templates()
            if builtin or any(self._is_team(f"{name}.{f}.j2") for f in FORMATS)
        ]
        # The samples cost a few milliseconds to build: only when something is rendered.
        contexts = [
            build_context(
                incident=incident,
                people=sample_people(),
                zone=self.zone,
                base_url=self.base_url,
                now=SAMPLE_NOW,
                version=version,
                # The first sample has review notes; the others show the "none found" branch.
                review=sample_review() if version == 1 else (),
            )
            for version, incident in enumerate(sample_incidents() if names else (), start=1)
        ]
        for name in names:
            for fmt in FORMATS:
                if name not in self.available_templates(fmt=fmt):
                    other = next(f for f in FORMATS if f != fmt)
                    found.append(
                        f'team template "{name}.{other}.j2" has no {fmt.upper()} variant: add '
                        f'"{name}.{fmt}.j2" (it may just extend '
                        f'"{BUILTIN_PREFIX}/default.{fmt}.j2")'
                    )
                    continue
                for context in contexts:
                    try:
                        self._render(f"{name}.{fmt}.j2", {**context, "template": name})
                    except TemplateError as problem:
                        found.append(problem.message)
        return list(dict.fromkeys(found))

    def _render(self, name: str, context: Mapping[str, object]) -> str:
        fmt = name.rsplit(".", 2)[-2]
        try:
            source: Template = self._environments[fmt].get_template(name)
            return _joined(source.generate(context))
        except TemplateError:
            raise
        except Exception as error:
            raise TemplateError(self._located(error, name)) from error

    def _static_problems(self, *, builtin: bool = True) -> list[str]:
        """Syntax errors and unknown variables, found whichever branches the samples take
        (in the team's templates only with ``builtin=False``, as ``check`` says)."""
        found = []
        for folder in self._search_path:
            if not folder.is_dir() or (not builtin and folder == self._builtin_dir):
                continue
            for path in sorted(folder.glob("**/*.j2")):
                fmt = "html" if path.name.endswith(".html.j2") else "md"
                environment = self._environments[fmt]
                known = set(CONTEXT_VARIABLES) | set(environment.globals)
                try:
                    tree = environment.parse(path.read_text(encoding="utf-8"), path.name, str(path))
                except TemplateSyntaxError as error:
                    found.append(self._located(error, path.name))
                    continue
                except (OSError, UnicodeDecodeError) as error:
                    found.append(f"{self._label(str(path), path.name)}: cannot be read ({error})")
                    continue
                unknowns = meta.find_undeclared_variables(tree) - known - _declared_names(tree)
                for unknown in sorted(unknowns):
                    line = min(
                        (
                            node.lineno
                            for node in tree.find_all(nodes.Name)
                            if node.name == unknown and node.ctx == "load"
                        ),
                        default=None,
                    )
                    found.append(
                        f"{self._label(str(path), path.name)}{_line(line)}: "
                        f"'{unknown}' is undefined"
                    )
        return found

    def _located(self, error: Exception, name: str) -> str:
        """``team template "x.md.j2", line 7: what went wrong``."""
        if isinstance(error, TemplateSyntaxError):
            where = self._label(error.filename, error.name or name)
            return f"{where}{_line(error.lineno)}: {error.message}"
        frames = [
            frame
            for frame in traceback.extract_tb(error.__traceback__)
            if frame.filename.endswith(".j2")
        ]
        if frames:
            where = self._label(frames[-1].filename, name) + _line(frames[-1].lineno)
        else:
            where = self._label(None, name)
        if isinstance(error, TemplateNotFound):
            message = f"there is no template {error.name!r} to extend, include or import"
        elif isinstance(error, RecursionError):
            message = 'it extends or includes itself (use "builtin/<name>" for a built-in one)'
        else:
            message = _friendly(str(error) or type(error).__name__)
        return f"{where}: {message}"

    def _label(self, filename: str | None, name: str) -> str:
        if filename:
            path = Path(filename).resolve()
            if self._team_dir is not None and path.is_relative_to(self._team_dir.resolve()):
                return f'team template "{path.relative_to(self._team_dir.resolve())}"'
            if path.is_relative_to(self._builtin_dir.resolve()):
                return f'built-in template "{path.relative_to(self._builtin_dir.resolve())}"'
        return f'template "{name}"'

    def _is_team(self, name: str) -> bool:
        return self._team_dir is not None and (self._team_dir / name).is_file()

    def _builtin_exists(self, template: str, fmt: str) -> bool:
        return (self._builtin_dir / f"{template}.{fmt}.j2").is_file()


# How many rendered pieces are joined at a time: fewer than the garbage collector's first
# threshold (700 new objects), so pieces are joined before it ever has to look at them.
_JOIN_BATCH = 256


def _joined(pieces: Iterator[str]) -> str:
    """What ``Template.render`` returns, built up as the template streams out.

    ``render`` keeps every piece until the end. For a long timeline that is millions of small
    strings (in HTML each an escaped ``Markup``, an object the garbage collector tracks): they
    pile up into its oldest generation, which it then scans in full again and again, and took
    more memory than the document. Joined a few at a time, they go as they come.
    """
    joined = []
    while batch := list(islice(pieces, _JOIN_BATCH)):
        joined.append("".join(batch))
    return "".join(joined)


_OBJECT_NAMES = {
    "IncidentFacts": "incident",
    "MetricsView": "metrics",
    "MetricRow": "a metric row",
    "SeverityTime": "a severity time",
    "TimelineItem": "a timeline entry",
    "TimelineDay": "a timeline day",
    "AroundMilestones": "around",
    "ActionItemView": "an action item",
    "RoleHolder": "a role holder",
    "RoleChange": "a role change",
    "ReviewNote": "a review note",
}


def _friendly(message: str) -> str:
    """Names context objects as templates know them: ``'incident' has no attribute 'x'``."""
    return re.sub(
        r"'(?:\w+\.)*(\w+) object'",
        lambda match: f"'{_OBJECT_NAMES[match[1]]}'" if match[1] in _OBJECT_NAMES else match[0],
        message,
    )


def _declared_names(tree: nodes.Template) -> set[str]:
    """Names a template sets, imports or takes as a parameter anywhere.

    ``find_undeclared_variables`` treats each block as its own scope, so a top-level import used
    inside a block, or a ``set`` inside an ``if`` in a macro, would look undefined; a name the
    template declares somewhere is left for rendering the samples to judge.
    """
    names = {node.name for node in tree.find_all(nodes.Name) if node.ctx in ("store", "param")}
    names.update(node.target for node in tree.find_all(nodes.Import))
    for node in tree.find_all(nodes.FromImport):
        names.update(name if isinstance(name, str) else name[1] for name in node.names)
    names.update(node.name for node in tree.find_all(nodes.Macro))
    return names


def _line(line: int | None) -> str:
    return f", line {line}" if line else ""


# Lines that Markdown would turn into a heading or a rule (or a setext underline).
_STRUCTURAL_LINE = re.compile(r"^(\s{0,3})(#|=+\s*$|[-*_](?:\s*[-*_]){2,}\s*$)")
_STRUCTURAL_STARTS = ("#", "=", "-", "*", "_")
_FENCE = re.compile(r"^(\s{0,3})(`{3,}|~{3,})")
# "<" that could open raw HTML (a tag, comment or declaration), which Markdown would pass through.
_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?])")


def _no_raw_html(text: str) -> str:
    return _TAG_OPEN.sub(r"\\<", text)


def md_inline(text: str | None) -> str:
    """One line of user text, for a list item or a heading: newlines collapse to spaces."""
    line = " ".join((text or "").split())
    # Cheap tests first, as this runs for every cell of the timeline: the substitutions can
    # only change a line with a "<", or one starting with a character that can begin a heading
    # or a rule (it has no leading space left).
    if "<" in line:
        line = _no_raw_html(line)
    if line.startswith(_STRUCTURAL_STARTS):
        # A list item that starts with "# " would still be a heading inside the item.
        line = _STRUCTURAL_LINE.sub(r"\1\\\2", line, count=1)
    return line


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


def _chronological(timeline: Iterable[TimelineRecord]) -> list[TimelineRecord]:
    """By when it happened; entries at the same moment keep the order they were recorded."""
    return sorted(timeline, key=lambda entry: (entry.occurred_at, entry.id is None, entry.id or 0))


def _ends_impact(entry: TimelineRecord) -> bool:
    """A recorded mitigation, a move to monitoring or resolved, or closing an incident nobody
    had marked resolved."""
    if entry.kind == EntryKind.MITIGATED:
        return True
    if entry.kind != EntryKind.STATUS:
        return False
    details = entry.details or {}
    after, before = str(details.get("to")), str(details.get("from"))
    if after == Status.CLOSED:
        return before != Status.RESOLVED
    return after in (Status.MONITORING, Status.RESOLVED)


@dataclass(frozen=True, slots=True)
class _Day:
    """One calendar day in local time as the timeline shows it."""

    date: str
    label: str


@dataclass(frozen=True, slots=True)
class _Minute:
    """One minute of local time as the timeline shows it."""

    when: str
    iso: str
    time: str
    zone_abbr: str
    day: _Day


class _Minutes:
    """Shows moments in one zone, formatting each minute (and each day) once.

    Every string shown for a timeline entry depends only on its minute in local time; a long
    timeline has many entries a minute, and formatting each one was most of the time spent
    building the context (and shared strings take less memory).
    """

    def __init__(self, tz: tzinfo) -> None:
        self._tz = tz
        self._minutes: dict[tuple[int, ...], _Minute] = {}
        self._days: dict[tuple[int, ...], _Day] = {}

    def of(self, moment: datetime) -> _Minute:
        local = moment.astimezone(self._tz)
        # Wall time and fold fix the offset and the zone's name (fold tells the hour repeated
        # in autumn apart); a tuple of them is much cheaper to make than a formatted key.
        key = (local.year, local.month, local.day, local.hour, local.minute, local.fold)
        shown = self._minutes.get(key)
        if shown is None:
            day = self._days.get(key[:3])
            if day is None:
                day = _Day(date=local.strftime("%Y-%m-%d"), label=day_label(local.date()))
                self._days[key[:3]] = day
            time = f"{local.hour:02d}:{local.minute:02d}"
            zone_abbr = abbreviation(local)
            shown = _Minute(
                when=f"{day.date} {time} {zone_abbr}",
                iso=local.isoformat(timespec="minutes"),
                time=time,
                zone_abbr=zone_abbr,
                day=day,
            )
            self._minutes[key] = shown
        return shown


def _format_optional(moment: datetime | None, tz: tzinfo) -> str:
    return "—" if moment is None else format_moment(moment, tz)


def _document_status(status: str | None) -> str:
    if not status:
        return _DOCUMENT_STATUS[DocumentStatus.DRAFT]
    try:
        return _DOCUMENT_STATUS[DocumentStatus(status)]
    except ValueError:
        return status.capitalize()


def backdated(occurred_at: datetime, recorded_at: datetime | None) -> bool:
    """Recorded noticeably later than it happened, e.g. a ``note at`` or a late pin."""
    return recorded_at is not None and (recorded_at - occurred_at).total_seconds() > 300


def _overdue(due: date | None, status: str | None, today: date) -> bool:
    return due is not None and status != ActionStatus.DONE and due < today


def _role_label(role: str) -> str:
    return role.replace("_", " ").capitalize()


@lru_cache(maxsize=64)
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


def _link_label(url: str | None) -> str | None:
    """A short name for a tracking link: its last path segment (``PAY-101``), else its host."""
    if url is None:
        return None
    parts = urlsplit(url)
    segments = [segment for segment in parts.path.split("/") if segment]
    return segments[-1] if segments else parts.hostname or url
