"""Keeping the record true: the incident's state follows its timeline, and entries are corrected
without losing anything.

Every change to an entry (its text, its time, deleting it; by a command, the form in Slack, or
Slack itself when a captured message is edited or deleted there) is a ``TimelineRevision`` with
who, when and the old value. A deleted entry keeps its row and number: it leaves the postmortem
and the metrics, not the history.

After anything that can move a milestone, ``settle`` replays the state entries
(``milestones.replay``), stores the result on the incident and refuses the change if it puts
two milestones the wrong way round, naming both and how to change either.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from incidentbot.domain.errors import IncidentError
from incidentbot.domain.milestones import (
    MILESTONE_COMMANDS,
    MILESTONE_NAMES,
    STATE_KINDS,
    Lifecycle,
    OrderProblem,
    order_problems,
    replay,
)
from incidentbot.domain.models import (
    EntryKind,
    Incident,
    RevisionChange,
    Status,
    TimelineEntry,
    TimelineRevision,
)
from incidentbot.domain.policy import DEFAULT_POLICY, Policy
from incidentbot.domain.text import printable
from incidentbot.domain.timeparse import format_moment
from incidentbot.infra import jobs
from incidentbot.infra.uow import UnitOfWork
from incidentbot.services.reminders import incident_changed

# Entries whose text people wrote, and may correct.
TEXT_EDITABLE = frozenset({EntryKind.NOTE, EntryKind.UPDATE, EntryKind.PINNED})
# Entries whose moment people chose, and may correct. A captured message or an alert sits at
# the moment Slack or the monitoring says it happened.
TIME_EDITABLE = STATE_KINDS | {EntryKind.NOTE, EntryKind.UPDATE}
# What each kind that cannot be deleted is changed with instead.
NOT_DELETABLE = {
    EntryKind.DECLARED: (
        "the declaration is where the incident begins; correct its time with "
        "`/incident edit {number} at <time>`"
    ),
    EntryKind.ROLE: "hand the role to someone else with `/incident role <role> @person`",
    EntryKind.ACTION: "change the action item with `/incident action <N> done|open|type|due`",
    EntryKind.SUMMARY: "set the summary again with `/incident summary <text>`",
    EntryKind.IMPACT: "set the impact again with `/incident impact <text>`",
    EntryKind.POSTMORTEM: "the postmortem's own changes stay on record",
}
PAGE_SIZE = 20


def state_entries(*, uow: UnitOfWork, incident: Incident) -> list[TimelineEntry]:
    """The live entries that make up the incident's state (a handful, however long the
    timeline)."""
    uow.session.flush()
    return list(
        uow.session.scalars(
            select(TimelineEntry).where(
                TimelineEntry.incident_id == incident.id,
                TimelineEntry.kind.in_([str(kind) for kind in STATE_KINDS]),
                TimelineEntry.deleted_at.is_(None),
            )
        )
    )


def replay_of(incident: Incident, entries: list[TimelineEntry]) -> Lifecycle:
    """The incident its state entries describe, its stored fields standing in for a missing
    declaration."""
    return replay(
        entries,
        declared_at=incident.declared_at,
        severity=str(incident.severity),
        status=str(incident.status),
    )


def lifecycle_of(*, uow: UnitOfWork, incident: Incident) -> Lifecycle:
    """The incident as its timeline tells it now."""
    return replay_of(incident, state_entries(uow=uow, incident=incident))


def settle(
    *,
    uow: UnitOfWork,
    incident: Incident,
    before: Lifecycle,
    zone: str = "UTC",
    changing: str | None = None,
) -> Lifecycle:
    """Store what the timeline now says on the incident; refuse if the change just made puts
    milestones out of order (``changing`` names the milestone it set, for the advice)."""
    after = lifecycle_of(uow=uow, incident=incident)
    known = {(p.earlier, p.later) for p in order_problems(before)}
    new = [p for p in order_problems(after) if (p.earlier, p.later) not in known]
    if new:
        raise IncidentError(_out_of_order(new[0], zone=zone, changing=changing))
    incident.declared_at = after.declared_at
    incident.severity = after.severity
    incident.status = after.status
    incident.impact_started_at = after.impact_started_at
    incident.detected_at = after.detected_at if after.detection_given else None
    incident.mitigated_at = after.mitigated_at
    incident.resolved_at = after.resolved_at
    incident.closed_at = after.closed_at
    incident.reopened_count = max(after.reopened_count, incident.reopened_count or 0)
    return after


def _out_of_order(problem: OrderProblem, *, zone: str, changing: str | None) -> str:
    earlier, later = MILESTONE_NAMES[problem.earlier], MILESTONE_NAMES[problem.later]
    first, second = format_moment(problem.earlier_at, zone), format_moment(problem.later_at, zone)
    said = f"That would put {later} ({second}) before {earlier} ({first})."
    if changing == problem.later:
        advice = (
            f"Give a time at or after {first}, or if {earlier} was earlier, change it first: "
            f"`{MILESTONE_COMMANDS[problem.earlier]}`."
        )
    elif changing == problem.earlier:
        advice = (
            f"Give a time at or before {second}, or if {later} was later, change it first: "
            f"`{MILESTONE_COMMANDS[problem.later]}`."
        )
    else:
        advice = (
            f"Change {earlier} (`{MILESTONE_COMMANDS[problem.earlier]}`) or {later} "
            f"(`{MILESTONE_COMMANDS[problem.later]}`) first."
        )
    return f"{said} {advice} Nothing was changed."


def refuse_before_impact(lifecycle: Lifecycle, moment: datetime, *, what: str, zone: str) -> None:
    """A change of severity or status cannot come before the incident began."""
    if moment < lifecycle.impact_started_at:
        start = format_moment(lifecycle.impact_started_at, zone)
        given = "" if lifecycle.impact_start_given else " (the declaration: none is recorded)"
        raise IncidentError(
            f"{what} at {format_moment(moment, zone)} would be before the impact started, "
            f"{start}{given}. If it began earlier, record that first: "
            "`/incident started at <time>`. Nothing was changed."
        )


# --- entries by number -------------------------------------------------------------------------


def entry_by_number(*, uow: UnitOfWork, incident: Incident, number: int) -> TimelineEntry:
    entry = uow.session.scalar(
        select(TimelineEntry).where(
            TimelineEntry.incident_id == incident.id, TimelineEntry.number == number
        )
    )
    if entry is None:
        raise IncidentError(
            f"INC-{incident.number} has no timeline entry #{number}. "
            "`/incident timeline` lists them with their numbers."
        )
    return entry


def parse_entry_number(text: str) -> int:
    """``7`` or ``#7``."""
    cleaned = text.strip().removeprefix("#")
    if not cleaned.isdigit() or len(cleaned) > 9:
        raise IncidentError(
            f"“{printable(text)[:20]}” is not an entry number. `/incident timeline` lists the "
            "entries with their numbers; then `/incident edit 7 <new text>`, "
            "`/incident edit 7 at 14:05` or `/incident delete 7 [reason]`."
        )
    return int(cleaned)


def _check_may_correct(
    incident: Incident, entry: TimelineEntry, user_id: str, policy: Policy
) -> None:
    policy.check_correction(
        incident, user_id, authors={a for a in (entry.author_id, entry.source_author_id) if a}
    )
    if entry.deleted_at is not None:
        raise IncidentError(
            f"Entry #{entry.number} was deleted; its history is on the incident's page."
        )


def revise(
    uow: UnitOfWork,
    entry: TimelineEntry,
    *,
    change: RevisionChange,
    by: str | None,
    source: str,
    old_text: str | None = None,
    new_text: str | None = None,
    old_occurred_at: datetime | None = None,
    new_occurred_at: datetime | None = None,
    reason: str | None = None,
) -> TimelineRevision:
    revision = TimelineRevision(
        entry_id=entry.id,
        incident_id=entry.incident_id,
        revised_at=uow.now(),
        revised_by=by,
        source=source,
        change=change,
        old_text=old_text,
        new_text=new_text,
        old_occurred_at=old_occurred_at,
        new_occurred_at=new_occurred_at,
        reason=reason,
    )
    uow.session.add(revision)
    return revision


def edit_entry_text(
    *,
    uow: UnitOfWork,
    incident: Incident,
    number: int,
    text: str,
    edited_by: str,
    source: str = "command",
    policy: Policy = DEFAULT_POLICY,
) -> TimelineEntry:
    """``edit <N> <text>``: a note, update or captured message says something else now."""
    from incidentbot.services.timeline import clean_text

    entry = entry_by_number(uow=uow, incident=incident, number=number)
    _check_may_correct(incident, entry, edited_by, policy)
    if entry.kind not in TEXT_EDITABLE:
        raise IncidentError(
            f"Entry #{number} is a {entry.kind}; its text is the bot's record of what changed. "
            f"You can move it with `/incident edit {number} at <time>`"
            + (" or delete it." if entry.kind not in NOT_DELETABLE else ".")
        )
    text = clean_text(
        printable(text), what="new text", example=f"/incident edit {number} Restarted search-7"
    )
    if text == entry.text:
        raise IncidentError(f"Entry #{number} already says that.")
    revise(
        uow,
        entry,
        change=RevisionChange.TEXT,
        by=edited_by,
        source=source,
        old_text=entry.text,
        new_text=text,
    )
    entry.text = text
    if entry.kind == EntryKind.UPDATE:
        uow.enqueue(jobs.REFRESH_SUMMARY, incident=incident)
    return entry


def edit_entry_time(
    *,
    uow: UnitOfWork,
    incident: Incident,
    number: int,
    moment: datetime,
    edited_by: str,
    zone: str = "UTC",
    source: str = "command",
    policy: Policy = DEFAULT_POLICY,
) -> TimelineEntry:
    """``edit <N> at <time>``: the entry happened at another moment. Moving a state change
    or a milestone changes the incident (and its metrics) as if recorded then."""
    entry = entry_by_number(uow=uow, incident=incident, number=number)
    _check_may_correct(incident, entry, edited_by, policy)
    if entry.kind not in TIME_EDITABLE:
        where = (
            "when it was posted in Slack"
            if entry.kind == EntryKind.PINNED
            else "when the monitoring says it happened"
            if entry.kind == EntryKind.ALERT
            else "when it was done"
        )
        raise IncidentError(f"Entry #{number} is a {entry.kind}; it sits at {where}.")
    if moment == entry.occurred_at:
        raise IncidentError(f"Entry #{number} is at {format_moment(moment, zone)} already.")
    before = lifecycle_of(uow=uow, incident=incident)
    if entry.kind in (EntryKind.SEVERITY, EntryKind.STATUS):
        refuse_before_impact(before, moment, what=f"Entry #{number}", zone=zone)
    revise(
        uow,
        entry,
        change=RevisionChange.TIME,
        by=edited_by,
        source=source,
        old_occurred_at=entry.occurred_at,
        new_occurred_at=moment,
    )
    entry.occurred_at = moment
    if entry.kind in STATE_KINDS:
        settle(uow=uow, incident=incident, before=before, zone=zone, changing=_milestone(entry))
        incident_changed(uow=uow, incident=incident)
        uow.enqueue(jobs.REFRESH_SUMMARY, incident=incident)
    return entry


_MILESTONE_OF_KIND: dict[str, str] = {
    EntryKind.IMPACT_START: "impact_started_at",
    EntryKind.DETECTED: "detected_at",
    EntryKind.MITIGATED: "mitigated_at",
    EntryKind.DECLARED: "declared_at",
}
_MILESTONE_OF_STATUS: dict[str, str] = {
    Status.MONITORING: "mitigated_at",
    Status.RESOLVED: "resolved_at",
    Status.CLOSED: "closed_at",
}


def _milestone(entry: TimelineEntry) -> str | None:
    """Which milestone moving this entry moves, if it names one."""
    if entry.kind == EntryKind.STATUS:
        return _MILESTONE_OF_STATUS.get(str((entry.details or {}).get("to") or ""))
    return _MILESTONE_OF_KIND.get(str(entry.kind))


def delete_entry(
    *,
    uow: UnitOfWork,
    incident: Incident,
    number: int,
    deleted_by: str,
    reason: str | None = None,
    zone: str = "UTC",
    source: str = "command",
    policy: Policy = DEFAULT_POLICY,
) -> TimelineEntry:
    """``delete <N> [reason]``: the entry leaves the postmortem and the metrics; its row, its
    number and its history stay."""
    entry = entry_by_number(uow=uow, incident=incident, number=number)
    _check_may_correct(incident, entry, deleted_by, policy)
    advice = NOT_DELETABLE.get(EntryKind(entry.kind)) if entry.kind in set(EntryKind) else None
    if advice is not None:
        raise IncidentError(f"Entry #{number} cannot be deleted: {advice.format(number=number)}.")
    to = str((entry.details or {}).get("to") or "")
    reopening = bool((entry.details or {}).get("reopened"))
    if entry.kind == EntryKind.STATUS and (to == Status.CLOSED or reopening):
        raise IncidentError(
            f"Entry #{number} cannot be deleted: use `/incident reopen` or `/incident close` "
            f"instead, or move it with `/incident edit {number} at <time>`."
        )
    reason = printable(reason or "").strip()[:500] or None
    before = lifecycle_of(uow=uow, incident=incident)
    revise(
        uow,
        entry,
        change=RevisionChange.DELETE,
        by=deleted_by,
        source=source,
        old_text=entry.text,
        old_occurred_at=entry.occurred_at,
        reason=reason,
    )
    entry.deleted_at = uow.now()
    entry.deleted_by = deleted_by
    if entry.kind in STATE_KINDS:
        settle(uow=uow, incident=incident, before=before, zone=zone)
        incident_changed(uow=uow, incident=incident)
    uow.enqueue(jobs.REFRESH_SUMMARY, incident=incident)
    return entry


# --- Slack's own edits and deletes -------------------------------------------------------------


def _captured_in_channel(
    uow: UnitOfWork, channel_id: str, ts: str
) -> tuple[Incident, TimelineEntry] | None:
    found = uow.session.execute(
        select(Incident, TimelineEntry)
        .join(TimelineEntry, TimelineEntry.incident_id == Incident.id)
        .where(Incident.channel_id == channel_id, TimelineEntry.source_key == f"{channel_id}:{ts}")
    ).first()
    return None if found is None else (found[0], found[1])


def follow_slack_edit(
    *,
    uow: UnitOfWork,
    channel_id: str,
    ts: str,
    text: str,
    edited_by: str | None,
    edited_ts: str | None = None,
) -> TimelineEntry | None:
    """A captured message was edited in Slack: its entry says what the message says now.

    ``edited_ts`` is Slack's time of the edit: an edit older than the last one followed (Slack
    delivered them out of order) changes nothing.
    """
    found = _captured_in_channel(uow, channel_id, ts)
    if found is None:
        return None
    _incident, entry = found
    text = printable(text or "").strip() or "(message without text)"
    if entry.deleted_at is not None or text == entry.text:
        return None
    followed = (entry.details or {}).get("slack_edited_ts")
    if edited_ts and followed and _slack_ts(edited_ts) <= _slack_ts(followed):
        return None
    if edited_ts:
        entry.details = {**(entry.details or {}), "slack_edited_ts": edited_ts}
    revise(
        uow,
        entry,
        change=RevisionChange.TEXT,
        by=edited_by,
        source="slack",
        old_text=entry.text,
        new_text=text,
        reason="edited in Slack",
    )
    entry.text = text
    return entry


def _slack_ts(ts: str) -> float:
    try:
        return float(ts)
    except ValueError:
        return 0.0


def follow_slack_delete(*, uow: UnitOfWork, channel_id: str, ts: str) -> TimelineEntry | None:
    """A captured message was deleted in Slack: its entry leaves the timeline, marked so."""
    found = _captured_in_channel(uow, channel_id, ts)
    if found is None:
        return None
    _incident, entry = found
    if entry.deleted_at is not None:
        return None
    revise(
        uow,
        entry,
        change=RevisionChange.DELETE,
        by=None,
        source="slack",
        old_text=entry.text,
        old_occurred_at=entry.occurred_at,
        reason="deleted in Slack",
    )
    entry.deleted_at = uow.now()
    return entry


# --- reading the record ------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelinePage:
    """Part of a timeline as ``/incident timeline`` lists it (1-based ``page`` of ``pages``)."""

    entries: Sequence[TimelineEntry]
    page: int
    pages: int
    total: int
    deleted: int


def timeline_page(
    *, uow: UnitOfWork, incident: Incident, page: int | None = None, size: int = PAGE_SIZE
) -> TimelinePage:
    """The live entries in the order things happened, ``size`` a page; the last page (the
    latest entries) unless ``page`` says otherwise."""
    live = (TimelineEntry.incident_id == incident.id) & TimelineEntry.deleted_at.is_(None)
    total = uow.session.scalar(select(func.count()).where(live)) or 0
    deleted = (
        uow.session.scalar(
            select(func.count()).where(
                TimelineEntry.incident_id == incident.id, TimelineEntry.deleted_at.is_not(None)
            )
        )
        or 0
    )
    pages = max(1, -(-total // size))
    if page is None:
        page = pages
    if not 1 <= page <= pages:
        raise IncidentError(
            f"INC-{incident.number}'s timeline has {pages} page{'s' if pages != 1 else ''}; "
            f"ask for one from 1 to {pages}."
        )
    entries = uow.session.scalars(
        select(TimelineEntry)
        .where(live)
        .order_by(TimelineEntry.occurred_at, TimelineEntry.id)
        .offset((page - 1) * size)
        .limit(size)
    ).all()
    return TimelinePage(entries=entries, page=page, pages=pages, total=total, deleted=deleted)


def correctable_entries(
    *, uow: UnitOfWork, incident: Incident, limit: int = 100
) -> Sequence[TimelineEntry]:
    """The latest live entries that can be edited or deleted, newest first (for the form)."""
    kinds = (TEXT_EDITABLE | TIME_EDITABLE) - {EntryKind.DECLARED}
    return uow.session.scalars(
        select(TimelineEntry)
        .where(
            TimelineEntry.incident_id == incident.id,
            TimelineEntry.deleted_at.is_(None),
            TimelineEntry.kind.in_([str(kind) for kind in kinds]),
        )
        .order_by(TimelineEntry.number.desc())
        .limit(limit)
    ).all()


def revisions(
    *, uow: UnitOfWork, incident_id: int, entry_ids: Collection[int] | None = None
) -> dict[int, list[TimelineRevision]]:
    """Every correction of the incident's entries (or of ``entry_ids`` only), by entry id,
    oldest first."""
    found: dict[int, list[TimelineRevision]] = {}
    where = [TimelineRevision.incident_id == incident_id]
    if entry_ids is not None:
        where.append(TimelineRevision.entry_id.in_(list(entry_ids)))
    for revision in uow.session.scalars(
        select(TimelineRevision).where(*where).order_by(TimelineRevision.id)
    ):
        found.setdefault(revision.entry_id, []).append(revision)
    return found


def edited_entry_ids(*, uow: UnitOfWork, incident_id: int) -> set[int]:
    """The incident's entries whose text or time was corrected (the postmortem marks them)."""
    return set(
        uow.session.scalars(
            select(TimelineRevision.entry_id).where(
                TimelineRevision.incident_id == incident_id,
                TimelineRevision.change.in_([RevisionChange.TEXT, RevisionChange.TIME]),
            )
        )
    )
