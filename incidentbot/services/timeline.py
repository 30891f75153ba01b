"""The timeline: notes, captured Slack messages, summary, impact and stakeholder updates."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, exists, inspect, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased, make_transient_to_detached

from incidentbot.domain.errors import IncidentError
from incidentbot.domain.models import (
    EntryKind,
    Incident,
    ReminderKind,
    Status,
    TimelineEntry,
    TimelineRecord,
    TimelineRow,
    table_of,
)
from incidentbot.domain.policy import DEFAULT_POLICY, Action, Policy
from incidentbot.domain.text import printable
from incidentbot.domain.timeparse import format_moment, parse_moment
from incidentbot.infra import jobs
from incidentbot.infra.uow import UnitOfWork
from incidentbot.services.paging import Page, page_of
from incidentbot.services.reminders import incident_changed

MAX_TEXT = 4000
# A captured message whose text is still being fetched from Slack.
PENDING_TEXT = "(message text not fetched yet)"


def record(
    *,
    uow: UnitOfWork,
    incident: Incident,
    kind: EntryKind,
    author_id: str | None,
    text: str,
    occurred_at: datetime | None = None,
    details: dict | None = None,
) -> TimelineEntry:
    """Append an entry; every change people make to an incident leaves one."""
    entry = _record(uow, incident, kind, author_id, text, occurred_at, details, source_key=None)
    assert entry is not None
    return entry


def record_once(
    *,
    uow: UnitOfWork,
    incident: Incident,
    kind: EntryKind,
    author_id: str | None,
    text: str,
    source_key: str | None,
    occurred_at: datetime | None = None,
    details: dict | None = None,
) -> TimelineEntry | None:
    """Append an entry unless the incident has one for ``source_key`` (what it records, such
    as an alert's state) already: then None. The database decides, so two deliveries of the
    same report at once add it once. Without a key nothing identifies it: it is added."""
    return _record(uow, incident, kind, author_id, text, occurred_at, details, source_key)


def _record(
    uow: UnitOfWork,
    incident: Incident,
    kind: EntryKind,
    author_id: str | None,
    text: str,
    occurred_at: datetime | None,
    details: dict | None,
    source_key: str | None,
) -> TimelineEntry | None:
    now = uow.now()
    return _insert_entry(
        uow,
        incident,
        {
            "incident_id": incident.id,
            "occurred_at": occurred_at or now,
            "recorded_at": now,
            "kind": kind,
            "author_id": author_id,
            "text": text,
            "details": details,
            "also_marked_by": [],
            "source_key": source_key,
        },
    )


_ENTRIES = table_of(TimelineEntry)
_INCIDENTS = table_of(Incident)
_ENTRY_FIELDS = (
    "incident_id",
    "occurred_at",
    "recorded_at",
    "kind",
    "author_id",
    "text",
    "details",
    "also_marked_by",
    "source_key",
    "source_author_id",
    "permalink",
)
# An entry's number is the incident's count of entries, taken by counting it on the incident's
# row: writers to one incident take turns on that row lock, each reading the count the one
# before it left, so no two get one number. It is not counted when it would record what the
# incident has under its source_key already (a captured message, an alert's state): a pin and
# a :pushpin:, two deliveries, two replicas. Then nothing is inserted and no row comes back.
_COUNT_ENTRY = (
    update(_INCIDENTS)
    .where(
        _INCIDENTS.c.id == bindparam("numbered_in"),
        ~exists().where(
            _ENTRIES.c.incident_id == bindparam("numbered_in"),
            _ENTRIES.c.source_key == bindparam("source_key"),
        ),
    )
    .values(last_entry_number=_INCIDENTS.c.last_entry_number + 1)
    .returning(_INCIDENTS.c.last_entry_number)
)
# PostgreSQL counts and inserts in one statement (one round trip); SQLite, in-process and with
# one writer at a time, in two.
_COUNTED = _COUNT_ENTRY.cte("counted")
_INSERT_COUNTED = (
    postgresql.insert(_ENTRIES)
    .from_select(
        [*_ENTRY_FIELDS, "number"],
        select(
            *(bindparam(name, type_=_ENTRIES.c[name].type) for name in _ENTRY_FIELDS),
            _COUNTED.c.last_entry_number,
        ),
    )
    .add_cte(_COUNTED)
    # A concurrent delivery of the same source_key, counted before it committed: one insert.
    .on_conflict_do_nothing()
    .returning(_ENTRIES.c.id, _ENTRIES.c.number)
)
_INSERT_NUMBERED = (
    sqlite.insert(_ENTRIES).on_conflict_do_nothing().returning(_ENTRIES.c.id, _ENTRIES.c.number)
)


def _insert_entry(uow: UnitOfWork, incident: Incident, values: dict) -> TimelineEntry | None:
    """Write an entry with one INSERT and return it as a session object, as if loaded (None
    if the incident has an entry for its ``source_key`` already).

    Most commands add one entry and are done; adding it through the ORM's flush took longer
    than everything else such a command does before it is acknowledged. The timeline itself
    is never read for this (it grows with the incident); if this session had loaded it, it is
    reloaded when next used.
    """
    uow.session.flush()  # anything pending first, as the ORM would
    unknown = set(values) - set(_ENTRY_FIELDS)
    if unknown:
        raise ValueError(f"timeline entries have no {sorted(unknown)}")
    params = {
        **{name: values.get(name) for name in _ENTRY_FIELDS},
        "numbered_in": values["incident_id"],
    }
    if uow.session.get_bind().dialect.name == "postgresql":
        inserted = uow.session.execute(_INSERT_COUNTED, params).first()
    else:
        number = uow.session.execute(_COUNT_ENTRY, params).scalar()
        inserted = (
            None
            if number is None
            else uow.session.execute(_INSERT_NUMBERED, {**values, "number": number}).first()
        )
    if inserted is None:
        return None
    entry = TimelineEntry(id=inserted.id, number=inserted.number, **values)
    make_transient_to_detached(entry)
    uow.session.add(entry)
    if "timeline" not in inspect(incident).unloaded:
        uow.session.expire(incident, ["timeline"])
    return entry


# In TimelineRow's order.
_ROW_COLUMNS = [getattr(TimelineEntry, name) for name in TimelineRow._fields]


# The entries that set an incident's severity and status over time, which metrics replay.
_METRIC_KINDS = (EntryKind.DECLARED, EntryKind.SEVERITY, EntryKind.STATUS)


def _first_response(by: str, moment: str, incident_ids: Collection[int]) -> Any:
    """Per incident, the id of the earliest entry (by ``moment``, then id) whose ``by`` is not
    the declarer: one look along the (incident, ``moment``) index each, however long the
    timeline."""
    entry = aliased(TimelineEntry)
    first = (
        select(entry.id)
        .where(
            entry.incident_id == Incident.id,
            entry.deleted_at.is_(None),
            getattr(entry, by) != Incident.declared_by,
        )
        .order_by(getattr(entry, moment), entry.id)
        .limit(1)
        .scalar_subquery()
    )
    return select(first).where(Incident.id.in_(incident_ids))


def metric_timelines(
    *, uow: UnitOfWork, incident_ids: Collection[int]
) -> dict[int, list[TimelineRow]]:
    """Per incident, only the entries ``metrics.compute_metrics`` reads: the declaration,
    severity and status changes, and the first response by someone besides the declarer
    (as an author, and as the author of a captured message), and of them only the columns
    it reads: their ``text`` is empty, ``permalink`` None and ``also_marked_by`` empty. The
    metrics come out the same as from the whole timeline, without reading timelines that can
    run to 100,000 entries, which ``/incident stats`` has to answer within Slack's 3 seconds.
    """
    found: dict[int, list[TimelineRow]] = {incident_id: [] for incident_id in incident_ids}
    if not found:
        return found
    ids = list(found)
    rows = uow.session.execute(
        select(
            TimelineEntry.incident_id,
            TimelineEntry.id,
            TimelineEntry.number,
            TimelineEntry.occurred_at,
            TimelineEntry.recorded_at,
            TimelineEntry.kind,
            TimelineEntry.author_id,
            TimelineEntry.source_author_id,
            TimelineEntry.details,
        )
        .where(
            TimelineEntry.incident_id.in_(ids),
            TimelineEntry.deleted_at.is_(None),
            or_(
                TimelineEntry.kind.in_([str(kind) for kind in _METRIC_KINDS]),
                TimelineEntry.id.in_(_first_response("author_id", "recorded_at", ids)),
                TimelineEntry.id.in_(_first_response("source_author_id", "occurred_at", ids)),
            ),
        )
        .order_by(TimelineEntry.occurred_at, TimelineEntry.id)
    )
    for incident_id, id_, number, occurred, recorded, kind, author, source_author, details in rows:
        found[incident_id].append(
            TimelineRow(
                id_, number, occurred, recorded, kind, author, "", source_author, None, details, ()
            )
        )
    return found


ENTRIES_PER_PAGE = 200


def entry_page(
    *, uow: UnitOfWork, incident: Incident, page: int = 1, per_page: int = ENTRIES_PER_PAGE
) -> Page[TimelineEntry]:
    """Page ``page`` (from 1; past the end, the last) of the incident's entries in the order
    things happened, deleted ones included: counted and cut along the (incident, occurred_at)
    index, so only the page's entries are loaded, however long the timeline."""
    query = (
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident.id)
        .order_by(TimelineEntry.occurred_at, TimelineEntry.id)
    )
    return page_of(uow.session, query, page=page, per_page=per_page)


def read_timeline(*, uow: UnitOfWork, incident: Incident) -> Sequence[TimelineRecord]:
    """The whole timeline as it stands, deleted entries left out, for reading only (a
    postmortem): ``TimelineRow`` tuples, in order.

    A timeline already loaded in this session (or never stored) is used as it stands. Otherwise
    it is read as plain rows rather than ORM objects, which matters for timelines of tens of
    thousands of entries.
    """
    state = inspect(incident)
    if not state.persistent or "timeline" not in state.unloaded:
        return [entry for entry in incident.timeline if entry.deleted_at is None]
    uow.session.flush()  # entries added in this unit of work are read too
    # A Core query on the session's connection: each row is converted as it is fetched, where
    # the ORM would hold every raw row first (or, asked to stream, open a server-side cursor,
    # which costs PostgreSQL a round trip per batch).
    rows = uow.session.connection().execute(
        select(*_ROW_COLUMNS)
        .where(TimelineEntry.incident_id == incident.id, TimelineEntry.deleted_at.is_(None))
        .order_by(TimelineEntry.occurred_at, TimelineEntry.id)
    )
    # Each row brings its own copy of every string; kinds and authors repeat all the time.
    kinds: dict[str, str] = {}
    people: dict[str | None, str | None] = {}
    timeline = []
    for id_, number, occurred, recorded, kind, author, text, source, link, details, marked in rows:
        kind = kinds.setdefault(kind, kind)
        author = people.setdefault(author, author)
        source = people.setdefault(source, source)
        marked = tuple(marked or ())
        timeline.append(
            TimelineRow(
                id_, number, occurred, recorded, kind, author, text, source, link, details, marked
            )
        )
    return timeline


def ensure_changeable(incident: Incident) -> None:
    if incident.status == Status.CLOSED:
        raise IncidentError(
            f"INC-{incident.number} is closed. Use `/incident reopen` first if it needs more work."
        )


def ensure_changeable_at(incident: Incident, at: datetime | None, *, zone: str = "UTC") -> None:
    """Closed incidents take changes only for moments before their close: the record of what
    happened can be completed after the fact (a missed note, a severity change typed late),
    the incident itself needs reopening."""
    if at is None or incident.closed_at is None:
        ensure_changeable(incident)
    elif at > incident.closed_at:
        raise IncidentError(
            f"INC-{incident.number} was closed at {format_moment(incident.closed_at, zone)}, "
            "before that time. Use `/incident reopen` first if it needs more work."
        )


def clean_text(text: str, *, what: str, example: str) -> str:
    text = text.strip()
    if not text:
        raise IncidentError(f"The {what} is empty. Try `{example}`.")
    if len(text) > MAX_TEXT:
        raise IncidentError(
            f"That {what} is {len(text):,} characters long; the limit is {MAX_TEXT:,}. "
            "Split it into several, or link to a document."
        )
    return text


def add_note(
    *,
    uow: UnitOfWork,
    incident: Incident,
    author_id: str,
    text: str,
    policy: Policy = DEFAULT_POLICY,
) -> TimelineEntry:
    policy.check(incident, author_id, Action.NOTES)
    ensure_changeable(incident)
    text = clean_text(text, what="note", example="/incident note Rolled back deploy 1234")
    entry = record(uow=uow, incident=incident, kind=EntryKind.NOTE, author_id=author_id, text=text)
    uow.enqueue(jobs.ECHO_ENTRY, incident=incident, entry_id=entry.id)
    return entry


def add_backdated_note(
    *,
    uow: UnitOfWork,
    incident: Incident,
    author_id: str,
    moment_and_text: str,
    author_zone: str,
    policy: Policy = DEFAULT_POLICY,
) -> TimelineEntry:
    """``note at <time> <text>``: the time is read in the author's zone unless it names one."""
    occurred_at, text = parse_moment(moment_and_text, now=uow.now(), default_zone=author_zone)
    return add_note_at(
        uow=uow,
        incident=incident,
        author_id=author_id,
        occurred_at=occurred_at,
        text=text,
        policy=policy,
    )


def add_note_at(
    *,
    uow: UnitOfWork,
    incident: Incident,
    author_id: str,
    occurred_at: datetime,
    text: str,
    policy: Policy = DEFAULT_POLICY,
) -> TimelineEntry:
    """A note about something that happened at ``occurred_at`` (already read from what the
    author typed); a closed incident takes one from before its close."""
    policy.check(incident, author_id, Action.NOTES)
    ensure_changeable_at(incident, occurred_at)
    text = clean_text(
        text, what="note", example="/incident note at 14:05 Error rate started rising"
    )
    entry = record(
        uow=uow,
        incident=incident,
        kind=EntryKind.NOTE,
        author_id=author_id,
        text=text,
        occurred_at=occurred_at,
        details={"backdated": True},
    )
    uow.enqueue(jobs.ECHO_ENTRY, incident=incident, entry_id=entry.id)
    if _worth_asking_about_impact(incident, occurred_at):
        # It may mean the impact began earlier than thought; the responders decide.
        incident.impact_question_at = uow.now()
        uow.enqueue(jobs.ASK_IMPACT_START, incident=incident, entry_id=entry.id)
    return entry


def _worth_asking_about_impact(incident: Incident, moment: datetime) -> bool:
    """Whether a note at ``moment`` should ask if the impact started then: once an incident,
    for a note before the impact start as recorded, and never for one after the mitigation
    (an all-clear typed late is not a start) or in an incident recorded after the fact, whose
    impact start was given."""
    return (
        moment < incident.impact_started_at
        and incident.impact_question_at is None
        and not incident.after_the_fact
        and (incident.mitigated_at is None or moment < incident.mitigated_at)
    )


def message_time(ts: str) -> datetime:
    """A Slack message ``ts`` ("1764218000.000100") is its posting time in epoch seconds."""
    try:
        return datetime.fromtimestamp(float(ts), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        raise IncidentError(f"“{ts}” is not a Slack message timestamp.") from None


def capture_message(
    *,
    uow: UnitOfWork,
    incident: Incident,
    channel_id: str,
    ts: str,
    message_author_id: str | None,
    text: str | None,
    marked_by: str,
) -> tuple[TimelineEntry, bool]:
    """Record a pinned or :pushpin:-ed message once; later marks only add who marked it.

    The entry exists as soon as this commits; its text (when the event did not carry it) and
    permalink are filled in afterwards. Returns the entry and whether it was new.
    """
    key = f"{channel_id}:{ts}"
    entry = _insert_entry(
        uow,
        incident,
        {
            "incident_id": incident.id,
            "occurred_at": message_time(ts),
            "recorded_at": uow.now(),
            "kind": EntryKind.PINNED,
            "author_id": marked_by,
            "source_author_id": message_author_id,
            "text": printable(text or "").strip() or PENDING_TEXT,
            "source_key": key,
            "details": None,
            "also_marked_by": [],
        },
    )
    if entry is not None:
        uow.enqueue(
            jobs.CAPTURE_DETAILS,
            incident=incident,
            entry_id=entry.id,
            channel_id=channel_id,
            ts=ts,
            fetch_text=entry.text == PENDING_TEXT,
        )
        return entry, True
    # Marked before (or by another delivery that won the race): only who marked it changes.
    existing = _captured(uow, incident, key)
    if existing is None:
        raise RuntimeError(f"captured message {key} is neither new nor recorded")
    if marked_by != existing.author_id and marked_by not in existing.also_marked_by:
        existing.also_marked_by = [*existing.also_marked_by, marked_by]
    return existing, False


def add_message_to_timeline(
    *,
    uow: UnitOfWork,
    incident: Incident,
    channel_id: str,
    ts: str,
    message_author_id: str | None,
    text: str | None,
    added_by: str,
    note: str | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> tuple[TimelineEntry, bool]:
    """The "Add to incident timeline" shortcut: the message is captured as a pin would capture
    it (once, at the time it was posted), and the note of whoever added it, if any, is kept in
    the entry's ``details["notes"]`` as ``{"by": user, "text": note}``, so that a note given
    for a message pinned before is kept too. Returns the entry and whether it was new.
    """
    policy.check(incident, added_by, Action.NOTES)
    note = printable(note or "").strip()
    if note:
        note = clean_text(note, what="note", example="Error rate peaked here")
    entry, new = capture_message(
        uow=uow,
        incident=incident,
        channel_id=channel_id,
        ts=ts,
        message_author_id=message_author_id,
        text=text,
        marked_by=added_by,
    )
    if note:
        details = dict(entry.details or {})
        details["notes"] = [*details.get("notes", []), {"by": added_by, "text": note}]
        entry.details = details
    return entry, new


def fill_captured(
    *,
    uow: UnitOfWork,
    entry_id: int,
    text: str | None,
    message_author_id: str | None,
    permalink: str | None,
) -> TimelineEntry | None:
    """Complete a captured message's entry with what Slack told us after the event."""
    entry = uow.session.get(TimelineEntry, entry_id)
    if entry is None:
        return None
    if text is not None and entry.text == PENDING_TEXT:
        entry.text = printable(text).strip() or "(message without text)"
    if message_author_id and not entry.source_author_id:
        entry.source_author_id = message_author_id
    if permalink:
        entry.permalink = permalink
    return entry


def _captured(uow: UnitOfWork, incident: Incident, key: str) -> TimelineEntry | None:
    return uow.session.scalar(
        select(TimelineEntry).where(
            TimelineEntry.incident_id == incident.id, TimelineEntry.source_key == key
        )
    )


def set_summary(
    *,
    uow: UnitOfWork,
    incident: Incident,
    author_id: str,
    text: str,
    policy: Policy = DEFAULT_POLICY,
) -> None:
    policy.check(incident, author_id, Action.NOTES)
    ensure_changeable(incident)
    incident.summary = clean_text(
        text, what="summary", example="/incident summary Checkout failed for 20% of users"
    )
    record(
        uow=uow,
        incident=incident,
        kind=EntryKind.SUMMARY,
        author_id=author_id,
        text=incident.summary,
    )
    uow.enqueue(jobs.REFRESH_SUMMARY, incident=incident)


def set_impact(
    *,
    uow: UnitOfWork,
    incident: Incident,
    author_id: str,
    text: str,
    policy: Policy = DEFAULT_POLICY,
) -> None:
    policy.check(incident, author_id, Action.NOTES)
    ensure_changeable(incident)
    incident.impact = clean_text(
        text, what="impact", example="/incident impact EU customers could not pay for 40 minutes"
    )
    record(
        uow=uow, incident=incident, kind=EntryKind.IMPACT, author_id=author_id, text=incident.impact
    )
    uow.enqueue(jobs.REFRESH_SUMMARY, incident=incident)


def post_update(
    *,
    uow: UnitOfWork,
    incident: Incident,
    author_id: str,
    text: str,
    policy: Policy = DEFAULT_POLICY,
) -> TimelineEntry:
    """A stakeholder update: shown in the channel and in the announcement's thread."""
    policy.check(incident, author_id, Action.NOTES)
    ensure_changeable(incident)
    text = clean_text(
        text, what="update", example="/incident update Rollback done, error rate falling"
    )
    entry = record(
        uow=uow, incident=incident, kind=EntryKind.UPDATE, author_id=author_id, text=text
    )
    uow.enqueue(jobs.ECHO_ENTRY, incident=incident, entry_id=entry.id)
    uow.enqueue(jobs.ANNOUNCE_UPDATE, incident=incident, entry_id=entry.id)
    uow.enqueue(jobs.REFRESH_SUMMARY, incident=incident)
    incident_changed(uow=uow, incident=incident, restart=[ReminderKind.UPDATE])
    return entry


def latest_update(*, uow: UnitOfWork, incident_id: int) -> TimelineEntry | None:
    """The most recent stakeholder update, by when it was posted."""
    return uow.session.scalar(
        select(TimelineEntry)
        .where(
            TimelineEntry.incident_id == incident_id,
            TimelineEntry.kind == EntryKind.UPDATE,
            TimelineEntry.deleted_at.is_(None),
        )
        .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc())
        .limit(1)
    )
