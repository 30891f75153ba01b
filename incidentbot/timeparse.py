"""The time grammar people type in commands (``note at 14:05 …``), read into exact UTC moments.

Everything here is pure: the caller passes ``now``/``today`` and the author's zone, so the rules
(latest moment not in the future, DST gaps refused, DST overlaps resolved to the most recent past
occurrence) can be tested without a clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from dateutil import tz as dateutil_tz
from dateutil.parser import isoparse, parserinfo
from dateutil.relativedelta import FR, MO, SA, SU, TH, TU, WE, relativedelta

from incidentbot.errors import IncidentError
from incidentbot.text import clip

__all__ = [
    "ACCEPTED_FORMS",
    "SKEW_TOLERANCE",
    "MomentFormatter",
    "TimeParseError",
    "format_moment",
    "get_zone",
    "parse_date",
    "parse_moment",
    "zone_label",
]

# Clocks disagree a little; a moment this far ahead of ``now`` still counts as "not in the future".
SKEW_TOLERANCE = timedelta(seconds=60)

ACCEPTED_FORMS = (
    "Use 14:05, 2:05pm or 2026-11-27 14:05, "
    "optionally followed by a zone such as UTC, +01:00 or Europe/Berlin."
)
DATE_FORMS = "Use 2026-12-01, today, tomorrow, friday, in 3 days or dec 1."


class TimeParseError(IncidentError):
    """A time or date someone typed that cannot be read or is not allowed."""


# --- zones -------------------------------------------------------------------------------------

# First path segments of real IANA names; a token like ``Europe/Berln`` is a typo worth refusing,
# while ``read/write`` is just the start of the note's text.
_IANA_AREAS = frozenset(
    {
        "africa",
        "america",
        "antarctica",
        "arctic",
        "asia",
        "atlantic",
        "australia",
        "brazil",
        "canada",
        "chile",
        "etc",
        "europe",
        "indian",
        "mexico",
        "pacific",
        "us",
    }
)

# Abbreviations refused because they are ambiguous (IST, CST, BST) or hide DST mistakes (PST in
# summer); each suggests an IANA name.
_ABBREVIATIONS: dict[str, str] = {
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
    "PT": "America/Los_Angeles",
    "MST": "America/Denver",
    "MDT": "America/Denver",
    "MT": "America/Denver",
    "CST": "America/Chicago",
    "CDT": "America/Chicago",
    "CT": "America/Chicago",
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "ET": "America/New_York",
    "AKST": "America/Anchorage",
    "AKDT": "America/Anchorage",
    "HST": "Pacific/Honolulu",
    "BST": "Europe/London",
    "WET": "Europe/Lisbon",
    "WEST": "Europe/Lisbon",
    "CET": "Europe/Berlin",
    "CEST": "Europe/Berlin",
    "MET": "Europe/Berlin",
    "MEST": "Europe/Berlin",
    "EET": "Europe/Athens",
    "EEST": "Europe/Athens",
    "MSK": "Europe/Moscow",
    "IST": "Asia/Kolkata",
    "PKT": "Asia/Karachi",
    "SGT": "Asia/Singapore",
    "HKT": "Asia/Hong_Kong",
    "JST": "Asia/Tokyo",
    "KST": "Asia/Seoul",
    "AWST": "Australia/Perth",
    "ACST": "Australia/Adelaide",
    "ACDT": "Australia/Adelaide",
    "AEST": "Australia/Sydney",
    "AEDT": "Australia/Sydney",
    "NZST": "Pacific/Auckland",
    "NZDT": "Pacific/Auckland",
}
# Abbreviations that are also ordinary words: only refused when written in capitals.
_WORDLIKE_ABBREVIATIONS = frozenset({"ET", "MT", "CT", "PT", "EST", "IST", "MET", "WET", "WEST"})

_UTC_NAMES = frozenset({"utc", "gmt", "etc/utc", "etc/gmt", "zulu"})
_OFFSET = re.compile(
    r"^(?:(?:utc|gmt))?(?P<sign>[+\-\u2212])(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?$",
    re.IGNORECASE,
)


@lru_cache(maxsize=1)
def _iana_names() -> dict[str, str]:
    """Maps lowercased IANA keys to their real spelling, so ``europe/berlin`` is accepted."""
    return {name.lower(): name for name in available_timezones()}


@lru_cache(maxsize=512)
def _zoneinfo(key: str) -> ZoneInfo:
    """Caches ZoneInfo lookups (they hit the filesystem or the tzdata package)."""
    return ZoneInfo(key)


def _abbreviation_error(token: str) -> TimeParseError:
    """Explains why a zone abbreviation is refused and what to write instead."""
    suggestion = _ABBREVIATIONS[token.upper()]
    return TimeParseError(
        f"“{_quote(token)}” is ambiguous as a time zone "
        "(and easy to get wrong around daylight saving). "
        f"Use an IANA name such as {suggestion}, an offset such as +01:00, or UTC."
    )


def _is_abbreviation(token: str) -> bool:
    """Whether ``token`` is a zone abbreviation we refuse rather than a word of the note."""
    upper = token.upper()
    if upper not in _ABBREVIATIONS:
        return False
    return token == upper or upper not in _WORDLIKE_ABBREVIATIONS


def _offset_zone(match: re.Match[str], token: str) -> tzinfo:
    """Builds a fixed-offset zone from ``+01:00``/``-0800``/``+1``, refusing impossible ones."""
    hours = int(match["hours"])
    minutes = int(match["minutes"] or 0)
    largest = 14 if match["sign"] == "+" else 12  # Real offsets run from -12:00 to +14:00.
    if hours > largest or minutes > 59 or (hours == largest and minutes):
        raise TimeParseError(
            f"“{_quote(token)}” is not a UTC offset. Offsets run from -12:00 to +14:00."
        )
    delta = timedelta(hours=hours, minutes=minutes)
    if match["sign"] != "+":
        delta = -delta
    return UTC if not delta else timezone(delta)


def _zone_token(token: str) -> tzinfo | None:
    """Reads a zone token; ``None`` means it is not a zone at all but the start of the text."""
    lowered = token.lower()
    if token == "Z" or lowered in _UTC_NAMES:
        return UTC
    if match := _OFFSET.match(token):
        return _offset_zone(match, token)
    if "/" in token and lowered.split("/", 1)[0] in _IANA_AREAS:
        key = _iana_names().get(lowered)
        if key is None:
            raise TimeParseError(
                f"I don't know the time zone “{_quote(token)}”. "
                "Use an IANA name such as Europe/Berlin or America/Los_Angeles, "
                "or an offset such as +01:00."
            )
        return _zoneinfo(key)
    if _is_abbreviation(token):
        raise _abbreviation_error(token)
    return None


@lru_cache(maxsize=256)
def get_zone(name: str) -> tzinfo:
    """Resolves a configured or Slack-supplied zone name (IANA, ``UTC`` or an offset) once.

    Cached: formatting a long timeline asks for the same few zones once per entry.
    """
    token = name.strip()
    if not token:
        raise TimeParseError("No time zone given. Use an IANA name such as Europe/Berlin or UTC.")
    zone = _zone_token(token)
    if zone is not None:
        return zone
    key = _iana_names().get(token.lower())
    if key is None:
        raise TimeParseError(
            f"I don't know the time zone “{_quote(token)}”. "
            "Use an IANA name such as Europe/Berlin or America/Los_Angeles, or UTC."
        )
    return _zoneinfo(key)


def _zone_name(zone: tzinfo) -> str:
    """The name to show for a zone: its IANA key, ``UTC`` or ``UTC+01:00``."""
    if zone is UTC:
        return "UTC"
    if isinstance(zone, ZoneInfo):
        return "UTC" if zone.key in {"UTC", "Etc/UTC", "Etc/Zulu", "Zulu"} else zone.key
    return zone.tzname(None) or str(zone)


def _offset_text(offset: timedelta) -> str:
    """Formats a UTC offset as ``UTC+05:30``."""
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _abbreviation(local: datetime) -> str:
    """The zone abbreviation at that moment, or ``UTC+03:00`` where tzdata only has ``+03``."""
    name = local.tzname() or ""
    if not name or name[0] in "+-":
        return _offset_text(local.utcoffset() or timedelta(0))
    return name


def format_moment(dt: datetime, zone: str) -> str:
    """Shows a moment the way the timeline and replies do: ``2026-11-27 14:05 PST``."""
    if dt.tzinfo is None:
        raise ValueError("format_moment needs an aware datetime")
    local = dt.astimezone(get_zone(zone))
    return f"{local:%Y-%m-%d %H:%M} {_abbreviation(local)}"


class MomentFormatter:
    """``format_moment`` for many moments in one zone, formatting each minute only once.

    strftime is slow, and a long timeline has several entries in every minute.
    """

    def __init__(self, zone: str) -> None:
        self._zone = get_zone(zone)
        self._shown: dict[tuple[int, ...], str] = {}

    def __call__(self, dt: datetime) -> str:
        if dt.tzinfo is None:
            raise ValueError("format_moment needs an aware datetime")
        local = dt.astimezone(self._zone)
        # Wall time and fold (which tells the hour repeated in autumn apart) fix the offset.
        key = (local.year, local.month, local.day, local.hour, local.minute, local.fold)
        shown = self._shown.get(key)
        if shown is None:
            shown = f"{local:%Y-%m-%d %H:%M} {_abbreviation(local)}"
            self._shown[key] = shown
        return shown


def zone_label(zone: str, *, at: datetime | None = None) -> str:
    """Names a zone for headings (``Europe/Berlin``); with ``at``, adds its abbreviation then."""
    resolved = get_zone(zone)
    name = _zone_name(resolved)
    if at is None:
        return name
    if at.tzinfo is None:
        raise ValueError("zone_label needs an aware datetime for at=")
    local = at.astimezone(resolved)
    offset = _offset_text(local.utcoffset() or timedelta(0))
    abbreviation = _abbreviation(local)
    if name in {"UTC", offset}:
        return name
    if abbreviation in {name, offset}:
        return f"{name} ({offset})"
    return f"{name} ({abbreviation}, {offset})"


# --- moments -----------------------------------------------------------------------------------

_DATE_PREFIX = re.compile(r"\d{4}-\d{1,2}-\d{1,2}(?=[T\s]|$)")
_CLOCK = re.compile(
    r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?"
    r"(?:\s*(?P<ampm>[ap])\.?m\.?(?![^\s,;:+\-\u2212Z]))?",
    re.IGNORECASE,
)
_SEPARATORS = ",;:"
_WHITESPACE = re.compile(r"\s")


@dataclass(frozen=True, slots=True)
class _Head:
    """What the front of the text said: an optional date, a wall-clock time, an optional zone."""

    day: date | None
    clock: time
    zone: tzinfo | None
    rest: str


def _unreadable(fragment: str, *, what: str = "a time") -> TimeParseError:
    """The refusal for anything that is not one of the accepted forms."""
    return TimeParseError(f"I couldn't read “{_quote(fragment)}” as {what}. {ACCEPTED_FORMS}")


def _word_end(text: str, start: int) -> int:
    """Index of the first whitespace at or after ``start`` (or the end of the text)."""
    match = _WHITESPACE.search(text, start)
    return match.start() if match else len(text)


def _clock(match: re.Match[str], fragment: str) -> time:
    """Validates the numbers of a matched clock and applies am/pm."""
    hour = int(match["hour"])
    minute = int(match["minute"] or 0)
    second = int(match["second"] or 0)
    ampm = (match["ampm"] or "").lower()
    if match["minute"] is None and not ampm:
        raise _unreadable(fragment)
    if ampm:
        if not 1 <= hour <= 12:
            raise _unreadable(fragment)
        hour = hour % 12 + (12 if ampm == "p" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise _unreadable(fragment)
    return time(hour, minute, second)


def _read_head(text: str) -> _Head:
    """Splits ``[date] time [zone] rest`` off the front of the text, strictly."""
    position = 0
    day: date | None = None
    if date_match := _DATE_PREFIX.match(text):
        date_text = date_match.group()
        try:
            day = isoparse(date_text).date()
        except ValueError:
            raise _unreadable(date_text, what="a date") from None
        if date_match.end() == len(text):
            raise TimeParseError(
                f"Add a time after the date, e.g. {date_text} 14:05. {ACCEPTED_FORMS}"
            )
        position = date_match.end() + 1
        while position < len(text) and text[position].isspace():
            position += 1

    clock_match = _CLOCK.match(text, position)
    end = clock_match.end() if clock_match else position
    word_end = _word_end(text, end)
    fragment = text[:word_end]
    if clock_match is None:
        raise _unreadable(fragment)
    clock = _clock(clock_match, fragment)

    # Right after the time may come a zone (14:05Z, 14:05+01:00) or a separator (14:05: text).
    zone: tzinfo | None = None
    attached = text[end:word_end].rstrip(_SEPARATORS)
    if attached:
        zone = _zone_token(attached)
        if zone is None:
            raise _unreadable(fragment)
    rest = text[word_end:]
    if zone is None:
        words = rest.split(maxsplit=1)
        if words and (zone := _zone_token(words[0].rstrip(_SEPARATORS) or words[0])) is not None:
            rest = words[1] if len(words) > 1 else ""
    return _Head(day=day, clock=clock, zone=zone, rest=rest.strip())


def _occurrences(day: date, clock: time, zone: tzinfo) -> list[datetime]:
    """The real instants a wall time names, latest first (two in a DST overlap, one otherwise)."""
    wall = datetime.combine(day, clock, tzinfo=zone)
    if dateutil_tz.datetime_ambiguous(wall):
        return [dateutil_tz.enfold(wall, fold=1), dateutil_tz.enfold(wall, fold=0)]
    return [wall]


def _gap_error(wall: datetime, *, zone: tzinfo) -> TimeParseError:
    """Explains that the wall time was skipped when clocks sprang forward, instead of guessing."""
    shifted = dateutil_tz.resolve_imaginary(wall)
    return TimeParseError(
        f"{wall:%H:%M} didn't happen on {wall:%Y-%m-%d} in {_zone_name(zone)}: the clocks jumped "
        f"forward for daylight saving time. Did you mean {shifted:%H:%M} {shifted.tzname()}? "
        "You can also add a zone such as UTC or an offset such as -08:00."
    )


def _future_error(moment: datetime, *, now: datetime, author_zone: str) -> TimeParseError:
    """Refuses a moment after now, showing both in the author's zone."""
    return TimeParseError(
        f"That's in the future: {format_moment(moment, author_zone)} "
        f"(it's now {format_moment(now, author_zone)}). Give a time that has already happened."
    )


def _pick(day: date, clock: time, zone: tzinfo, *, limit: datetime) -> datetime | None:
    """The latest instant on ``day`` at ``clock`` that is not after ``limit``, if any."""
    for instant in _occurrences(day, clock, zone):
        if instant <= limit:
            return instant
    return None


def _quote(fragment: str, limit: int = 40) -> str:
    """What someone typed, shortened for quoting back in a reply."""
    return clip(fragment, limit)


# Anything further back is a typo, not an incident's timeline.
OLDEST = timedelta(days=366)
OUT_OF_RANGE = "That date is out of range: use a date near today, such as 2026-11-27."


def parse_moment(text: str, *, now: datetime, default_zone: str) -> tuple[datetime, str]:
    """Reads ``<time> [zone] <text>`` into (aware UTC moment, remaining text) for backdating."""
    if now.tzinfo is None:
        raise ValueError("parse_moment needs an aware now")
    try:
        moment, rest = _parse_moment(text, now=now, default_zone=default_zone)
    except (OverflowError, ValueError):
        # Dates at the ends of the calendar overflow when moved between zones.
        raise TimeParseError(OUT_OF_RANGE) from None
    if moment < now - OLDEST:
        raise TimeParseError(
            "That is more than a year ago; check the date (for example 2026-11-27 14:05)."
        )
    return moment, rest


def _parse_moment(text: str, *, now: datetime, default_zone: str) -> tuple[datetime, str]:
    stripped = text.strip()
    if not stripped:
        raise TimeParseError(f"Add a time after “at”. {ACCEPTED_FORMS}")
    author_zone = get_zone(default_zone)
    head = _read_head(stripped)
    zone = head.zone or author_zone
    limit = now + SKEW_TOLERANCE

    if head.day is not None:
        days = [head.day]
    else:
        today = now.astimezone(zone).date()
        days = [today, today - timedelta(days=1)]

    earliest: datetime | None = None
    for day in days:
        wall = datetime.combine(day, head.clock, tzinfo=zone)
        if not dateutil_tz.datetime_exists(wall):
            if head.day is None and dateutil_tz.resolve_imaginary(wall) > limit:
                # Today's gap is still ahead of us anyway; yesterday's time is meant.
                earliest = earliest or dateutil_tz.resolve_imaginary(wall)
                continue
            raise _gap_error(wall, zone=zone)
        moment = _pick(day, head.clock, zone, limit=limit)
        if moment is not None:
            return moment.astimezone(UTC), head.rest
        earliest = earliest or _occurrences(day, head.clock, zone)[-1]
    assert earliest is not None
    raise _future_error(earliest, now=now, author_zone=default_zone)


# --- dates -------------------------------------------------------------------------------------

_PARSERINFO = parserinfo()
_WEEKDAYS = (MO, TU, WE, TH, FR, SA, SU)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_RELATIVE = re.compile(r"in (?P<count>\d+|an?|one) (?P<unit>day|week|month)s?")
_ORDINAL = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_MONTH_FIRST = re.compile(rf"(?P<month>[a-z]+)\.? {_ORDINAL},?(?: (?P<year>\d{{4}}))?")
_DAY_FIRST = re.compile(rf"{_ORDINAL} (?P<month>[a-z]+)\.?,?(?: (?P<year>\d{{4}}))?")


def _month_day(text: str, *, today: date) -> date | None:
    """Reads ``dec 1``/``1 december 2026``; without a year, the next such day from today."""
    match = _MONTH_FIRST.fullmatch(text) or _DAY_FIRST.fullmatch(text)
    if match is None:
        return None
    month = _PARSERINFO.month(match["month"])
    if month is None:
        return None
    day = int(match["day"])
    if match["year"]:
        try:
            return date(int(match["year"]), month, day)
        except ValueError:
            raise TimeParseError(f"There is no {text}. {DATE_FORMS}") from None
    for year in range(today.year, today.year + 9):  # Feb 29 may be up to 8 years away.
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise TimeParseError(f"There is no {text}. {DATE_FORMS}")


def _read_date(text: str, *, today: date) -> date | None:
    """Recognises one of the accepted date forms, or returns ``None``."""
    if text == "today":
        return today
    if text == "tomorrow":
        return today + relativedelta(days=1)
    if _ISO_DATE.fullmatch(text):
        try:
            return isoparse(text).date()
        except ValueError:
            raise TimeParseError(
                f"I couldn't read “{_quote(text)}” as a date. {DATE_FORMS}"
            ) from None
    name = text.removeprefix("next ").removeprefix("this ")
    weekday = _PARSERINFO.weekday(name)
    if weekday is not None:
        # The next such day strictly after today: "friday" said on a Friday means next week.
        return today + relativedelta(days=1, weekday=_WEEKDAYS[weekday])
    if match := _RELATIVE.fullmatch(text):
        count = int(match["count"]) if match["count"].isdigit() else 1
        unit = match["unit"]
        step = {"day": relativedelta(days=count), "week": relativedelta(weeks=count)}.get(
            unit, relativedelta(months=count)
        )
        return today + step
    return _month_day(text, today=today)


def parse_date(text: str, *, today: date) -> date:
    """Reads an action item's due date (``2026-12-01``, ``tomorrow``, ``friday``, ``dec 1``)."""
    try:
        return _parse_date(text, today=today)
    except (OverflowError, ValueError):
        raise TimeParseError(OUT_OF_RANGE) from None


def _parse_date(text: str, *, today: date) -> date:
    normalized = " ".join(text.lower().split())
    if not normalized:
        raise TimeParseError(f"Add a date after “due”. {DATE_FORMS}")
    result = _read_date(normalized, today=today)
    if result is None:
        raise TimeParseError(f"I couldn't read “{_quote(text.strip())}” as a date. {DATE_FORMS}")
    if result < today:
        raise TimeParseError(f"{result:%Y-%m-%d} has already passed. {DATE_FORMS}")
    return result
