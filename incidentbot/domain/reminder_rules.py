"""When reminders are due: pure rules over an incident's facts, a time zone and the clock.

No database and no Slack here, so that the rules (intervals per severity, business days, the
morning hour) are tested on their own. ``services/reminders.py`` stores what the rules read and
acts on what they answer.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, FR, MO, TH, TU, WE, rrule

T = TypeVar("T")

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")

# Stakeholders of the worst incidents expect news often; SEV3/SEV4 are left to the team.
DEFAULT_UPDATE_INTERVALS: dict[str, timedelta] = {
    "SEV1": timedelta(minutes=30),
    "SEV2": timedelta(minutes=60),
}
DEFAULT_LEAD_AFTER = timedelta(minutes=10)
# Business days from the close to the postmortem being final.
DEFAULT_POSTMORTEM_DAYS: dict[str, int] = {"SEV1": 5, "SEV2": 5}
DEFAULT_MORNING = time(9, 0)

_WEEKDAYS = (MO, TU, WE, TH, FR)


class ReminderKind(enum.StrEnum):
    """What a reminder is about, and so whom it nudges and where."""

    UPDATE = "update"  # the lead, by DM: stakeholders have heard nothing for too long
    LEAD = "lead"  # the incident channel: nobody leads
    POSTMORTEM = "postmortem"  # the postmortem owner (else the lead), by DM: not final yet
    ACTION_ITEM = "action item"  # the item's owner (else the lead), by DM: due today


_DURATION = re.compile(r"(?:(?P<hours>\d{1,3})h)?(?:(?P<minutes>\d{1,5})m)?")
_OFF = {"off", "none"}


def parse_duration(text: str) -> timedelta:
    """``30m``, ``1h``, ``1h30m`` or ``90m``; from a minute to a week."""
    match = _DURATION.fullmatch(text.strip().lower())
    if not match or not (match.group("hours") or match.group("minutes")):
        raise ValueError(f"not a duration: {text!r}")
    duration = timedelta(
        hours=int(match.group("hours") or 0), minutes=int(match.group("minutes") or 0)
    )
    if not timedelta(minutes=1) <= duration <= timedelta(days=7):
        raise ValueError(f"out of range: {text!r}")
    return duration


def parse_optional_duration(text: str) -> timedelta | None:
    """A duration, or None for ``off``."""
    return None if text.strip().lower() in _OFF else parse_duration(text)


def parse_business_days(text: str) -> int:
    """``5`` or ``5d``: whole business days, 0 to 60."""
    value = text.strip().lower().removesuffix("d")
    if not value.isdigit() or not 0 <= int(value) <= 60:
        raise ValueError(f"not a number of business days: {text!r}")
    return int(value)


def parse_per_severity(
    text: str, *, defaults: Mapping[str, T], parse: Callable[[str], T]
) -> dict[str, T]:
    """``SEV1=30m,SEV2=off``: the defaults with the listed severities changed (``off`` drops
    one); ``off`` alone drops them all."""
    if text.strip().lower() in _OFF:
        return {}
    chosen = dict(defaults)
    for pair in text.split(","):
        severity, sep, value = (part.strip() for part in pair.partition("="))
        severity = severity.upper()
        if severity.isdigit():
            severity = f"SEV{severity}"
        if not sep or severity not in SEVERITIES or not value:
            raise ValueError(f"not a severity=value pair: {pair!r}")
        if value.lower() in _OFF:
            chosen.pop(severity, None)
        else:
            chosen[severity] = parse(value)
    return chosen


def parse_clock_time(text: str) -> time:
    """``09:00`` or ``9:30``, a time of day."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f"not a time of day: {text!r}")
    return time(int(match.group(1)), int(match.group(2)))


def add_business_days(day: date, count: int) -> date:
    """The ``count``-th weekday after ``day`` (``count`` 0: ``day`` itself if a weekday, else
    the next weekday). Public holidays are not known and count as business days."""
    if count == 0:
        return day if day.weekday() < 5 else add_business_days(day, 1)
    start = datetime.combine(day + timedelta(days=1), time())
    return rrule(DAILY, byweekday=_WEEKDAYS, dtstart=start, count=count)[-1].date()


@dataclass(frozen=True)
class ReminderRules:
    """The configured rules (see ``Settings``)."""

    update_intervals: Mapping[str, timedelta] = field(
        default_factory=lambda: dict(DEFAULT_UPDATE_INTERVALS)
    )
    lead_after: timedelta | None = DEFAULT_LEAD_AFTER
    postmortem_days: Mapping[str, int] = field(
        default_factory=lambda: dict(DEFAULT_POSTMORTEM_DAYS)
    )
    morning: time = DEFAULT_MORNING
    zone: str = "UTC"

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.zone)).date()

    def morning_of(self, day: date) -> datetime:
        """The reminder hour on ``day`` in the bot's zone, as UTC."""
        return datetime.combine(day, self.morning, tzinfo=ZoneInfo(self.zone)).astimezone(UTC)

    def postmortem_due_day(self, *, severity: str, closed_at: datetime) -> date | None:
        days = self.postmortem_days.get(severity)
        if days is None:
            return None
        return add_business_days(self.local_day(closed_at), days)


@dataclass(frozen=True)
class Situation:
    """What the rules read: the incident (and action item) as they are now, and the reminder's
    own record. ``since`` is when the reminder's count started: the declaration, the latest
    stakeholder update or reopening (updates), the close (postmortem), filing or a new due date
    (action items)."""

    severity: str
    is_open: bool
    closed: bool
    lead: str | None
    recipient: str | None
    since: datetime
    last_sent_at: datetime | None = None
    snoozed_until: datetime | None = None
    postmortem_final: bool = False
    item_open: bool = False
    item_due: date | None = None

    @property
    def sent_this_round(self) -> bool:
        return self.last_sent_at is not None and self.last_sent_at >= self.since


def when_due(kind: ReminderKind, situation: Situation, rules: ReminderRules) -> datetime | None:
    """When the next nudge of ``kind`` is due (possibly already past), or None if none is."""
    s = situation
    if kind == ReminderKind.UPDATE:
        interval = rules.update_intervals.get(s.severity)
        if interval is None or not s.is_open or s.lead is None:
            return None
        # A snooze names the next nudge exactly; it is used up once that nudge is sent.
        if s.snoozed_until is not None and (
            s.last_sent_at is None or s.snoozed_until > s.last_sent_at
        ):
            return s.snoozed_until
        # Counted from the latest update (or declare, or reopening); then again every interval
        # for as long as no update comes.
        base = max(s.since, s.last_sent_at) if s.last_sent_at is not None else s.since
        return base + interval
    if kind == ReminderKind.LEAD:
        if rules.lead_after is None or not s.is_open or s.lead is not None:
            return None
        return None if s.sent_this_round else s.since + rules.lead_after
    if kind == ReminderKind.POSTMORTEM:
        if not s.closed or s.postmortem_final or s.recipient is None:
            return None
        due_day = rules.postmortem_due_day(severity=s.severity, closed_at=s.since)
        if due_day is None:
            return None
        first = rules.morning_of(due_day)
        if not s.sent_this_round:
            return first
        assert s.last_sent_at is not None
        # Then each business day after, until it is final.
        following = add_business_days(rules.local_day(s.last_sent_at), 1)
        return max(first, rules.morning_of(following))
    if kind == ReminderKind.ACTION_ITEM:
        if not s.item_open or s.item_due is None or s.recipient is None or s.sent_this_round:
            return None
        return rules.morning_of(s.item_due)
    raise ValueError(f"unknown reminder kind {kind!r}")
