"""When the impact started: the moment every duration metric is measured from.

It defaults to the declaration. Someone can set it (``/incident started at 14:05``), and a
backdated note from before it prompts the responders (once) to confirm that the impact began
then. Detection and mitigation are milestones of the same kind (``detected at``,
``mitigated at``): each is an entry at its moment, and the incident's state follows from them.
"""

from __future__ import annotations

from datetime import datetime

from incidentbot.domain.errors import IncidentError
from incidentbot.domain.milestones import MILESTONE_NAMES
from incidentbot.domain.models import EntryKind, Incident, RevisionChange, TimelineEntry
from incidentbot.domain.policy import DEFAULT_POLICY, Action, Policy
from incidentbot.domain.text import printable
from incidentbot.domain.timeparse import SKEW_TOLERANCE, format_moment, parse_moment
from incidentbot.infra import jobs
from incidentbot.infra.uow import UnitOfWork
from incidentbot.services.record import replay_of, revise, settle, state_entries
from incidentbot.services.timeline import record

# What each milestone's entry says, and which of the incident's moments it sets.
_MILESTONES = {
    EntryKind.IMPACT_START: ("Impact started", "impact_started_at"),
    EntryKind.DETECTED: ("Detected", "detected_at"),
    EntryKind.MITIGATED: ("Mitigated: the impact ended", "mitigated_at"),
}


def set_milestone(
    *,
    uow: UnitOfWork,
    incident: Incident,
    kind: EntryKind,
    moment: datetime,
    set_by: str,
    zone: str = "UTC",
    comment: str | None = None,
    source: str = "command",
    policy: Policy | None = DEFAULT_POLICY,
) -> TimelineEntry:
    """Record when the impact started, was detected or was mitigated; allowed after close
    too, since reviews correct them. The entry sits at that moment. Setting one again moves
    it (the earlier moment stays in the entry's history). ``policy=None``: the bot itself
    records it (an alert's start)."""
    if policy is not None:
        policy.check(incident, set_by, Action.STATUS)
    if moment > uow.now() + SKEW_TOLERANCE:
        raise IncidentError("That is in the future; a milestone is something that happened.")
    label, name = _MILESTONES[kind]
    entries = state_entries(uow=uow, incident=incident)
    before = replay_of(incident, entries)
    existing = _current(entries, kind, since=before.last_reopened_at)
    comment = printable(comment or "").strip() or None
    text = f"{label}: {comment}" if comment else label
    # What a person typed with it, on its own, for the blameless review; the bot's own comment
    # (an alert's start) is not someone's words.
    typed = comment if policy is not None else None
    if existing is not None:
        if existing.occurred_at == moment and not comment:
            raise IncidentError(
                f"{MILESTONE_NAMES[name].capitalize()} is already {format_moment(moment, zone)}."
            )
        if existing.occurred_at != moment:
            revise(
                uow,
                existing,
                change=RevisionChange.TIME,
                by=set_by,
                source=source,
                old_occurred_at=existing.occurred_at,
                new_occurred_at=moment,
            )
            existing.occurred_at = moment
        if comment and existing.text != text:
            revise(
                uow,
                existing,
                change=RevisionChange.TEXT,
                by=set_by,
                source=source,
                old_text=existing.text,
                new_text=text,
            )
            existing.text = text
            existing.details = {**(existing.details or {}), "text": typed}
        entry = existing
    else:
        entry = record(
            uow=uow,
            incident=incident,
            kind=kind,
            author_id=set_by,
            text=text,
            occurred_at=moment,
            details={"milestone": name, "text": typed},
        )
    settle(uow=uow, incident=incident, before=before, zone=zone, changing=name)
    uow.enqueue(jobs.REFRESH_SUMMARY, incident=incident)
    return entry


def _current(
    entries: list[TimelineEntry], kind: EntryKind, *, since: datetime | None
) -> TimelineEntry | None:
    """The live entry that sets the milestone now (a mitigation only counts after the last
    reopening: an earlier one did not hold)."""
    candidates = [
        e
        for e in entries
        if e.kind == kind
        and (kind != EntryKind.MITIGATED or since is None or e.occurred_at > since)
    ]
    return max(candidates, key=lambda e: e.id, default=None)


def set_impact_start(
    *,
    uow: UnitOfWork,
    incident: Incident,
    moment: datetime,
    set_by: str,
    zone: str = "UTC",
    policy: Policy = DEFAULT_POLICY,
) -> TimelineEntry:
    return set_milestone(
        uow=uow,
        incident=incident,
        kind=EntryKind.IMPACT_START,
        moment=moment,
        set_by=set_by,
        zone=zone,
        policy=policy,
    )


def set_milestone_at(
    *,
    uow: UnitOfWork,
    incident: Incident,
    kind: EntryKind,
    moment_text: str,
    set_by: str,
    author_zone: str,
    policy: Policy = DEFAULT_POLICY,
) -> TimelineEntry:
    """``started at <time> [comment]``, ``detected at …``, ``mitigated at …``: the same time
    grammar as backdated notes."""
    moment, rest = parse_moment(moment_text, now=uow.now(), default_zone=author_zone)
    return set_milestone(
        uow=uow,
        incident=incident,
        kind=kind,
        moment=moment,
        set_by=set_by,
        zone=author_zone,
        comment=rest,
        policy=policy,
    )


def set_impact_start_at(
    *,
    uow: UnitOfWork,
    incident: Incident,
    moment_text: str,
    set_by: str,
    author_zone: str,
    policy: Policy = DEFAULT_POLICY,
) -> TimelineEntry:
    return set_milestone_at(
        uow=uow,
        incident=incident,
        kind=EntryKind.IMPACT_START,
        moment_text=moment_text,
        set_by=set_by,
        author_zone=author_zone,
        policy=policy,
    )


def confirm_impact_start_from(
    *,
    uow: UnitOfWork,
    incident: Incident,
    entry_id: int,
    confirmed_by: str,
    policy: Policy = DEFAULT_POLICY,
) -> TimelineEntry:
    """A responder confirmed that the impact started when entry ``entry_id`` happened."""
    entry = uow.session.get(TimelineEntry, entry_id)
    if entry is None or entry.incident_id != incident.id:
        raise IncidentError("That timeline entry is not part of this incident any more.")
    if entry.occurred_at >= incident.impact_started_at:
        raise IncidentError(
            "The impact start is already at or before that entry; nothing to change."
        )
    return set_impact_start(
        uow=uow, incident=incident, moment=entry.occurred_at, set_by=confirmed_by, policy=policy
    )
