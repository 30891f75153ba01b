"""The timeline: notes, captured Slack messages, summary, impact and stakeholder updates."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from incidentbot import jobs
from incidentbot.errors import IncidentError
from incidentbot.models import EntryKind, Incident, Status, TimelineEntry
from incidentbot.policy import DEFAULT_POLICY, Action, Policy
from incidentbot.text import printable
from incidentbot.timeparse import parse_moment
from incidentbot.uow import UnitOfWork

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
    now = uow.now()
    entry = TimelineEntry(
        incident_id=incident.id,
        occurred_at=occurred_at or now,
        recorded_at=now,
        kind=kind,
        author_id=author_id,
        text=text,
        details=details,
        also_marked_by=[],
    )
    if "timeline" in inspect(incident).unloaded:
        # Adding an entry must not read the whole timeline, which grows with the incident.
        uow.session.add(entry)
    else:
        incident.timeline.append(entry)
    uow.session.flush()
    return entry


def ensure_changeable(incident: Incident) -> None:
    if incident.status == Status.CLOSED:
        raise IncidentError(
            f"INC-{incident.number} is closed. Use `/incident reopen` first if it needs more work."
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
    policy.check(incident, author_id, Action.NOTES)
    ensure_changeable(incident)
    occurred_at, text = parse_moment(moment_and_text, now=uow.now(), default_zone=author_zone)
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
    if occurred_at < incident.impact_started_at:
        # It may mean the impact began earlier than thought; the responders decide.
        uow.enqueue(jobs.ASK_IMPACT_START, incident=incident, entry_id=entry.id)
    return entry


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
    existing = _captured(uow, incident, key)
    if existing is None:
        savepoint = uow.session.begin_nested()
        entry = TimelineEntry(
            incident_id=incident.id,
            occurred_at=message_time(ts),
            recorded_at=uow.now(),
            kind=EntryKind.PINNED,
            author_id=marked_by,
            source_author_id=message_author_id,
            text=printable(text or "").strip() or PENDING_TEXT,
            source_key=key,
            also_marked_by=[],
        )
        uow.session.add(entry)
        try:
            uow.session.flush()
        except IntegrityError:
            # Another delivery of the same message won the race; fall through to marking it.
            savepoint.rollback()
            existing = _captured(uow, incident, key)
            if existing is None:
                raise
        else:
            savepoint.commit()
            uow.enqueue(
                jobs.CAPTURE_DETAILS,
                incident=incident,
                entry_id=entry.id,
                channel_id=channel_id,
                ts=ts,
                fetch_text=entry.text == PENDING_TEXT,
            )
            return entry, True
    if marked_by != existing.author_id and marked_by not in existing.also_marked_by:
        existing.also_marked_by = [*existing.also_marked_by, marked_by]
    return existing, False


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
    return entry
