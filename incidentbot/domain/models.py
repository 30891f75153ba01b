"""The incident domain as stored: incidents, roles, timeline, action items, postmortems.

Times are timezone-aware UTC everywhere in Python; ``UTCDateTime`` makes SQLite (which keeps
no zone) hand them back aware too.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Defined with the rules, which the settings load without SQLAlchemy; kept importable here.
from incidentbot.domain.reminder_rules import ReminderKind as ReminderKind

# A JSON object column or payload: its keys are strings, its values whatever JSON holds.
JSONObject = dict[str, Any]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> Table:
    """A model's ``Table``, for Core statements. ``__table__`` is typed as any ``FromClause``;
    a declarative model's is always a ``Table``."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table


class Severity(enum.StrEnum):
    """SEV1 is the most severe."""

    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"


class Status(enum.StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    CLOSED = "closed"


class EntryKind(enum.StrEnum):
    """What a timeline entry records; the postmortem shows it beside each entry."""

    DECLARED = "declared"
    NOTE = "note"
    PINNED = "pinned message"
    STATUS = "status change"
    SEVERITY = "severity change"
    ROLE = "role change"
    ACTION = "action item"
    UPDATE = "update"
    SUMMARY = "summary"
    IMPACT = "impact"
    IMPACT_START = "impact start"
    # Milestones the metrics use besides the impact start, each set at the moment it happened.
    DETECTED = "detected"
    MITIGATED = "mitigated"
    POSTMORTEM = "postmortem"
    # An alert from monitoring (Alertmanager or a generic webhook) firing or resolving.
    ALERT = "alert"


class ActionStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"


class ActionKind(enum.StrEnum):
    """What a follow-up does, as in the Google SRE book's postmortem action item table."""

    PREVENT = "prevent"
    MITIGATE = "mitigate"
    DETECT = "detect"
    PROCESS = "process"
    OTHER = "other"


class DocumentStatus(enum.StrEnum):
    """Where the postmortem document is in its review."""

    DRAFT = "draft"
    IN_REVIEW = "in review"
    FINAL = "final"


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(300))
    severity: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20), index=True)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[str | None] = mapped_column(Text)
    impact: Mapped[str | None] = mapped_column(Text)
    declared_by: Mapped[str] = mapped_column(String(32))
    # A client-chosen key (e.g. the modal's view id) so that submitting twice declares once.
    request_key: Mapped[str | None] = mapped_column(String(100), unique=True)

    channel_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    channel_name: Mapped[str | None] = mapped_column(String(80))
    summary_ts: Mapped[str | None] = mapped_column(String(32))
    announcement_channel_id: Mapped[str | None] = mapped_column(String(32))
    announcement_ts: Mapped[str | None] = mapped_column(String(32))

    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    impact_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # None: detected when declared.
    detected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mitigated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    # Entered once it was over (``/incident record``): nobody is paged or nudged for the past,
    # and it is labelled so wherever it is shown.
    after_the_fact: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # How many timeline entries it has had: the next one's number is this plus one.
    last_entry_number: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the bot asked whether the impact started earlier (it asks once per incident).
    impact_question_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # None: the default for the incident's severity.
    postmortem_template: Mapped[str | None] = mapped_column(String(100))
    postmortem_status: Mapped[str] = mapped_column(
        String(16), default=DocumentStatus.DRAFT, server_default=DocumentStatus.DRAFT.value
    )
    # Who sees the postmortem through to final; None: the lead does.
    postmortem_owner_id: Mapped[str | None] = mapped_column(String(32))

    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="incident", order_by="RoleAssignment.id", cascade="all, delete-orphan"
    )
    timeline: Mapped[list[TimelineEntry]] = relationship(
        back_populates="incident",
        order_by="(TimelineEntry.occurred_at, TimelineEntry.id)",
        cascade="all, delete-orphan",
    )
    action_items: Mapped[list[ActionItem]] = relationship(
        back_populates="incident", order_by="ActionItem.id", cascade="all, delete-orphan"
    )
    postmortems: Mapped[list[Postmortem]] = relationship(
        back_populates="incident", order_by="Postmortem.version", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status not in (Status.RESOLVED, Status.CLOSED)

    def holder(self, role: str) -> str | None:
        """The user who holds ``role`` now, if anyone."""
        for assignment in reversed(self.roles):
            if assignment.role == role and assignment.ended_at is None:
                return assignment.user_id
        return None

    def current_roles(self) -> dict[str, str]:
        return {a.role: a.user_id for a in self.roles if a.ended_at is None}


class RoleAssignment(Base):
    """Who held a role from when to when; ``ended_at`` is None while they hold it."""

    __tablename__ = "role_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    assigned_by: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    incident: Mapped[Incident] = relationship(back_populates="roles")


class TimelineEntry(Base):
    """Something that happened, at ``occurred_at``; ``recorded_at`` is when we learned of it.

    ``source_key`` identifies a captured Slack message (``channel:ts``) so that one message is
    one entry however many pins, reactions and redeliveries arrive. ``number`` is the entry's
    number within its incident (``#7``), given in the order entries were recorded and never
    reused. A deleted entry keeps its row (``deleted_at``): it leaves the postmortem and the
    metrics, not the history.
    """

    __tablename__ = "timeline_entries"
    __table_args__ = (
        UniqueConstraint("incident_id", "source_key"),
        UniqueConstraint("incident_id", "number"),
        Index("ix_timeline_entries_incident_occurred", "incident_id", "occurred_at", "id"),
        # Who responded first (metrics' acknowledgement), found without reading the timeline.
        Index("ix_timeline_entries_incident_recorded", "incident_id", "recorded_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    number: Mapped[int | None] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    author_id: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    source_key: Mapped[str | None] = mapped_column(String(100))
    source_author_id: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(String(500))
    # Structured facts behind the text, e.g. {"from": "SEV3", "to": "SEV2"} for a severity change.
    details: Mapped[JSONObject | None] = mapped_column(JSON)
    # Others who pinned or reacted to the same captured message after the first.
    also_marked_by: Mapped[list[str]] = mapped_column(JSON, default=list)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by: Mapped[str | None] = mapped_column(String(32))

    incident: Mapped[Incident] = relationship(back_populates="timeline")


class RevisionChange(enum.StrEnum):
    TEXT = "text"
    TIME = "time"
    DELETE = "delete"
    RESTORE = "restore"


class TimelineRevision(Base):
    """One correction of a timeline entry: who, when, what it was before and after.

    ``revised_by`` is None when Slack reported it and did not say who (a deleted message).
    ``source`` is how it came: ``command``, ``form`` or ``slack`` (a captured message edited or
    deleted there).
    """

    __tablename__ = "timeline_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("timeline_entries.id"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    revised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revised_by: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    change: Mapped[str] = mapped_column(String(16))
    old_text: Mapped[str | None] = mapped_column(Text)
    new_text: Mapped[str | None] = mapped_column(Text)
    old_occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    new_occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)


class TimelineRow(NamedTuple):
    """A timeline entry's values, read-only, for code that reads a whole timeline at once.

    A postmortem reads every entry of timelines that can run to 100,000 entries; loaded as
    these plain tuples they take about half the time and a third of the memory of
    ``TimelineEntry`` objects, which the ORM tracks for changes that a reader never makes.
    """

    id: int
    number: int | None
    occurred_at: datetime
    recorded_at: datetime
    kind: str
    author_id: str | None
    text: str
    source_author_id: str | None
    permalink: str | None
    details: JSONObject | None
    also_marked_by: tuple[str, ...]


# What timeline readers (metrics, postmortems) accept: the ORM objects or the plain rows.
TimelineRecord = TimelineEntry | TimelineRow


class ActionItem(Base):
    __tablename__ = "action_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str | None] = mapped_column(String(32))
    due_date: Mapped[date | None] = mapped_column(Date)
    kind: Mapped[str | None] = mapped_column(String(16))
    tracking_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=ActionStatus.OPEN)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    incident: Mapped[Incident] = relationship(back_populates="action_items")


class Postmortem(Base):
    """One generated version of an incident's postmortem."""

    __tablename__ = "postmortems"
    __table_args__ = (UniqueConstraint("incident_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    version: Mapped[int] = mapped_column(Integer)
    template: Mapped[str] = mapped_column(String(100))
    markdown: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    generated_by: Mapped[str | None] = mapped_column(String(32))
    trigger: Mapped[str] = mapped_column(String(32))
    slack_file_id: Mapped[str | None] = mapped_column(String(32))

    incident: Mapped[Incident] = relationship(back_populates="postmortems")


class Member(Base):
    """Someone in an incident's channel, as far as we know (invites, joins and leaves).

    It decides who may see a private incident in listings and on the web pages.
    """

    __tablename__ = "incident_members"
    __table_args__ = (UniqueConstraint("incident_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime)


class Person(Base):
    """What we know of a Slack user: the name to show and the zone their times are in."""

    __tablename__ = "people"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    real_name: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Counter(Base):
    """Named counters; incrementing one row is how replicas agree on incident numbers."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class ProcessedEvent(Base):
    """Slack events already handled, by ``event_id``: redeliveries change nothing."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobState(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


class Job(Base):
    """Work for after a commit (Slack calls); persisted so a crash or restart loses none.

    Jobs of one incident run one at a time in the order they were queued.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_state_run_after", "state", "run_after"),
        # "Is an earlier job of this incident still pending or running?" is asked for every
        # claim; with the state in the index it never walks the incident's finished jobs.
        Index("ix_jobs_incident_id_state", "incident_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    payload: Mapped[JSONObject] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default=JobState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who holds the lease: a fresh value with every claim. Finishing or giving back a job
    # checks it, so a worker whose lease ran out (and was claimed again) changes nothing.
    lease_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertGroup(Base):
    """An alert group (Alertmanager's ``groupKey``, a generic sender's ``group``) and the
    incident one of its firings declared.

    ``open_key`` (a hash of the source and the group) is set while that incident takes the
    group's alerts, and cleared when a firing finds the incident closed. It is unique: however
    many deliveries of a new group race, one incident is declared for it, and a closed incident
    frees the group for the next one.
    """

    __tablename__ = "alert_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    group_key: Mapped[str] = mapped_column(Text)
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReminderState(enum.StrEnum):
    PENDING = "pending"  # look at it again at ``due_at``
    IDLE = "idle"  # nothing is due until the incident (or action item) changes


class Reminder(Base):
    """A nudge that comes due later, one per incident and kind (per action item for those).

    Kept in the database so that no restart loses one and, claimed under a row lock, no two
    replicas send one twice. ``due_at`` is when it is looked at next: a change to the incident
    makes it due at once, and looking works out when the nudge itself is due
    (``reminder_rules.when_due``).
    """

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("incident_id", "kind", "action_item_id"),
        Index("ix_reminders_state_due_at", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    action_item_id: Mapped[int | None] = mapped_column(ForeignKey("action_items.id"))
    state: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the count started: declare, the latest update or reopening, the close, a due date.
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    snoozed_by: Mapped[str | None] = mapped_column(String(32))
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_count: Mapped[int] = mapped_column(Integer, default=0)


class SlackPace(Base):
    """When the next call of a Slack rate-limit bucket may go out, shared by every worker of
    every replica (``incidentbot.slack.pacing``).

    A bucket is a Web API method (its tier sets the spacing) or a method and a channel, for
    limits Slack sets per channel such as one message a second. A caller reserves the slot
    with one compare-and-set UPDATE and moves ``next_at`` one spacing on.
    """

    __tablename__ = "slack_pace"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SlackFact(Base):
    """Something learned from Slack that is slow to learn again and changes rarely, such as
    the id behind a configured ``#name`` (found by paging ``conversations.list``): kept once
    for every replica and restart."""

    __tablename__ = "slack_facts"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    learned_at: Mapped[datetime] = mapped_column(UTCDateTime)
