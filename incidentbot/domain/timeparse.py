"""The time grammar people type in commands (``note at 14:05 …``), read into exact UTC moments.

Accepted (see ``ACCEPTED_FORMS``): ``<day> <time> [zone] <text>`` where

* the day is optional: nothing (the latest such moment not in the future: today or yesterday),
  ``today``, ``yesterday``, a weekday (``monday``/``mon``/``last monday``: the most recent such
  day whose moment is not in the future), or a full date ``2026-11-27`` (any day from 1970 on);
* the time is ``14:05``, ``14:05:30``, ``2:05pm`` or ``2pm``;
* the zone is optional: ``UTC``/``GMT``/``Z``, an offset (``+01:00``, ``UTC-8``), an IANA name
  (``Europe/Berlin``), one of the author's own zone's abbreviations (``IST`` in Asia/Kolkata is
  +05:30, in Europe/Dublin +01:00), or an abbreviation from ``ZONE_ABBREVIATIONS`` /
  ``GENERIC_ZONE_ABBREVIATIONS``. Abbreviations in ``AMBIGUOUS_ZONE_ABBREVIATIONS`` are refused
  unless they are the author's own. Abbreviations that are also words (``west``, ``est``) only
  count as zones in capitals.

Everything here is pure: the caller passes ``now``/``today`` and the author's zone, so the rules
(latest moment not in the future, DST gaps refused, DST overlaps resolved to the most recent past
occurrence) can be tested without a clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo, available_timezones

from dateutil import tz as dateutil_tz
from dateutil.parser import isoparse, parserinfo
from dateutil.relativedelta import FR, MO, SA, SU, TH, TU, WE, relativedelta

from incidentbot.domain.errors import IncidentError
from incidentbot.domain.text import clip

__all__ = [
    "ACCEPTED_FORMS",
    "AMBIGUOUS_ZONE_ABBREVIATIONS",
    "GENERIC_ZONE_ABBREVIATIONS",
    "MONTH_ABBREVIATIONS",
    "SKEW_TOLERANCE",
    "WEEKDAY_ABBREVIATIONS",
    "ZONE_ABBREVIATIONS",
    "Moment",
    "MomentFormatter",
    "TimeParseError",
    "abbreviation",
    "day_label",
    "describe_moment",
    "format_moment",
    "get_zone",
    "parse_date",
    "parse_moment",
    "read_moment",
    "starts_with_moment",
    "zone_label",
]

# Clocks disagree a little; a moment this far ahead of ``now`` still counts as "not in the future".
SKEW_TOLERANCE = timedelta(seconds=60)

ACCEPTED_FORMS = (
    "Use 14:05, 2:05pm, yesterday 23:10, monday 09:30 or 2026-11-27 14:05, "
    "optionally followed by a zone such as UTC, +01:00, Europe/Berlin "
    "or your own zone's abbreviation (PST)."
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

# Zone abbreviations that mean one thing wherever the author is. Each is read as the fixed UTC
# offset it names (PDT is -07:00 even on a winter date: that is what was written, and it tells the
# two 01:30s of the autumn change apart) and the moment is then shown in the IANA zone given here.
# UTC, GMT and Z are read as UTC before this table is consulted.
ZONE_ABBREVIATIONS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "PST": ("-08:00", "America/Los_Angeles"),
        "PDT": ("-07:00", "America/Los_Angeles"),
        "MST": ("-07:00", "America/Denver"),
        "MDT": ("-06:00", "America/Denver"),
        "EST": ("-05:00", "America/New_York"),
        "EDT": ("-04:00", "America/New_York"),
        "AKST": ("-09:00", "America/Anchorage"),
        "AKDT": ("-08:00", "America/Anchorage"),
        "HST": ("-10:00", "Pacific/Honolulu"),
        "WET": ("+00:00", "Europe/Lisbon"),
        "WEST": ("+01:00", "Europe/Lisbon"),
        "CET": ("+01:00", "Europe/Berlin"),
        "CEST": ("+02:00", "Europe/Berlin"),
        "MET": ("+01:00", "Europe/Berlin"),
        "MEST": ("+02:00", "Europe/Berlin"),
        "EET": ("+02:00", "Europe/Athens"),
        "EEST": ("+03:00", "Europe/Athens"),
        "MSK": ("+03:00", "Europe/Moscow"),
        "PKT": ("+05:00", "Asia/Karachi"),
        "SGT": ("+08:00", "Asia/Singapore"),
        "HKT": ("+08:00", "Asia/Hong_Kong"),
        "JST": ("+09:00", "Asia/Tokyo"),
        "KST": ("+09:00", "Asia/Seoul"),
        "AWST": ("+08:00", "Australia/Perth"),
        "ACST": ("+09:30", "Australia/Adelaide"),
        "ACDT": ("+10:30", "Australia/Adelaide"),
        "AEST": ("+10:00", "Australia/Sydney"),
        "AEDT": ("+11:00", "Australia/Sydney"),
        "NZST": ("+12:00", "Pacific/Auckland"),
        "NZDT": ("+13:00", "Pacific/Auckland"),
    }
)
# Generic names without standard/daylight: the IANA zone's own rules pick PST or PDT for the date.
GENERIC_ZONE_ABBREVIATIONS: Mapping[str, str] = MappingProxyType(
    {
        "PT": "America/Los_Angeles",
        "MT": "America/Denver",
        "CT": "America/Chicago",
        "ET": "America/New_York",
    }
)
# Abbreviations that mean different offsets in different places: (place, IANA zone, offset) each.
# Refused unless they belong to the author's own zone, which then decides which one is meant.
AMBIGUOUS_ZONE_ABBREVIATIONS: Mapping[str, tuple[tuple[str, str, str], ...]] = MappingProxyType(
    {
        "IST": (
            ("India", "Asia/Kolkata", "+05:30"),
            ("Ireland", "Europe/Dublin", "+01:00"),
            ("Israel", "Asia/Jerusalem", "+02:00"),
        ),
        "CST": (
            ("US Central", "America/Chicago", "-06:00"),
            ("China", "Asia/Shanghai", "+08:00"),
            ("Cuba", "America/Havana", "-05:00"),
        ),
        "CDT": (
            ("US Central", "America/Chicago", "-05:00"),
            ("Cuba", "America/Havana", "-04:00"),
        ),
        "BST": (
            ("British Summer Time", "Europe/London", "+01:00"),
            ("Bangladesh", "Asia/Dhaka", "+06:00"),
        ),
        "AST": (
            ("Atlantic", "America/Halifax", "-04:00"),
            ("Arabia", "Asia/Riyadh", "+03:00"),
        ),
    }
)
_KNOWN_ABBREVIATIONS = (
    frozenset(ZONE_ABBREVIATIONS)
    | frozenset(GENERIC_ZONE_ABBREVIATIONS)
    | frozenset(AMBIGUOUS_ZONE_ABBREVIATIONS)
)
# Abbreviations that are also words (or shorthand such as ast, pkt): zones only in capitals.
_WORDLIKE_ABBREVIATIONS = frozenset(
    {"ET", "MT", "CT", "PT", "EST", "IST", "MET", "WET", "WEST", "AST", "PKT"}
)

_UTC_NAMES = frozenset({"utc", "gmt", "etc/utc", "etc/gmt", "zulu"})
_OFFSET = re.compile(
    r"^(?:(?:utc|gmt))?(?P<sign>[+\-\u2212])(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class _Zone:
    """A zone read from the text, with the name replies show the moment in."""

    tz: tzinfo
    name: str


@lru_cache(maxsize=1)
def _iana_names() -> dict[str, str]:
    """Maps lowercased IANA keys to their real spelling, so ``europe/berlin`` is accepted."""
    return {name.lower(): name for name in available_timezones()}


@lru_cache(maxsize=512)
def _zoneinfo(key: str) -> ZoneInfo:
    """Caches ZoneInfo lookups (they hit the filesystem or the tzdata package)."""
    return ZoneInfo(key)


def _offset_from_text(text: str) -> timedelta:
    """``+05:30`` → ``timedelta(hours=5, minutes=30)`` (for the tables above)."""
    sign = -1 if text[0] == "-" else 1
    hours, minutes = text[1:].split(":")
    return sign * timedelta(hours=int(hours), minutes=int(minutes))


def _offset_name(offset: timedelta) -> str:
    """An offset as ``+05:30``/``-08:00`` (``UTC`` for zero), a name ``get_zone`` reads back."""
    if not offset:
        return "UTC"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _display_name(zone: tzinfo) -> str:
    """The name ``Moment.zone`` gives a zone: its IANA key, ``UTC`` or ``+01:00``."""
    if zone is UTC:
        return "UTC"
    if isinstance(zone, ZoneInfo):
        return "UTC" if zone.key in {"UTC", "Etc/UTC", "Etc/Zulu", "Zulu"} else zone.key
    return _offset_name(zone.utcoffset(None) or timedelta(0))


@lru_cache(maxsize=256)
def _zone_abbreviations(zone: tzinfo, year: int) -> Mapping[str, timedelta]:
    """The lettered abbreviations ``zone`` used in ``year`` and the year before, with offsets.

    Sampled daily (daylight saving periods last months); where a name changed offset in that
    window, the later offset wins. Numeric names such as ``+03`` are not abbreviations.
    """
    found: dict[str, timedelta] = {}
    moment = datetime(max(year - 1, 1970), 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    while moment < end:
        local = moment.astimezone(zone)
        name = local.tzname() or ""
        if name.isalpha() and name.isascii():
            found[name] = local.utcoffset() or timedelta(0)
        moment += timedelta(days=1)
    return MappingProxyType(found)


def _abbreviation_error(token: str) -> TimeParseError:
    """Refuses an abbreviation as a configured zone name, suggesting an IANA name instead."""
    upper = token.upper()
    if upper in AMBIGUOUS_ZONE_ABBREVIATIONS:
        suggestion = AMBIGUOUS_ZONE_ABBREVIATIONS[upper][0][1]
    elif upper in GENERIC_ZONE_ABBREVIATIONS:
        suggestion = GENERIC_ZONE_ABBREVIATIONS[upper]
    else:
        suggestion = ZONE_ABBREVIATIONS[upper][1]
    return TimeParseError(
        f"“{_quote(token)}” is an abbreviation, not a time zone name. "
        f"Use an IANA name such as {suggestion}, an offset such as +01:00, or UTC."
    )


def _ambiguous_error(token: str) -> TimeParseError:
    """Refuses an abbreviation that means different offsets in different places, naming them."""
    meanings = AMBIGUOUS_ZONE_ABBREVIATIONS[token.upper()]
    described = [f"{place} ({key}, {offset})" for place, key, offset in meanings]
    listed = ", ".join(described[:-1]) + " or " + described[-1]
    _, first_key, first_offset = meanings[0]
    return TimeParseError(
        f"“{_quote(token)}” could mean {listed}. Write the zone as an IANA name such as "
        f"{first_key}, or as an offset such as {first_offset}."
    )


def _is_abbreviation(token: str) -> bool:
    """Whether ``token`` is a known zone abbreviation rather than a word of the note."""
    upper = token.upper()
    if upper not in _KNOWN_ABBREVIATIONS:
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


def _named_zone(token: str) -> tzinfo | None:
    """Reads ``UTC``/``Z``, an offset or an IANA name with an area; ``None`` for anything else."""
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
    return None


def _zone_token(token: str) -> tzinfo | None:
    """Reads a configured zone token; ``None`` means it is not a zone at all.

    Abbreviations are refused here: a configured zone must follow daylight saving by itself.
    """
    zone = _named_zone(token)
    if zone is None and _is_abbreviation(token):
        raise _abbreviation_error(token)
    return zone


def _own_abbreviation(token: str, *, author_zone: tzinfo, year: int) -> _Zone | None:
    """One of the author's zone's own abbreviations (``IST`` in Asia/Kolkata), as a fixed offset."""
    upper = token.upper()
    for name, offset in _zone_abbreviations(author_zone, year).items():
        if name.upper() != upper:
            continue
        # Known abbreviations count in any case; ones only tzdata knows must be written as it does.
        if token in {name, upper} or upper in _KNOWN_ABBREVIATIONS:
            return _Zone(timezone(offset, name), _display_name(author_zone))
    return None


def _typed_zone(token: str, *, author_zone: tzinfo, year: int) -> _Zone | None:
    """Reads the zone someone typed after a time; ``None`` means it is the start of the text.

    ``year`` is the year of the moment (for which abbreviations the author's zone uses).
    """
    zone = _named_zone(token)
    if zone is not None:
        return _Zone(zone, _display_name(zone))
    if not (token.isascii() and token.isalpha() and len(token) <= 6):
        return None  # Abbreviations are a few letters; anything else is the start of the text.
    upper = token.upper()
    if upper in _WORDLIKE_ABBREVIATIONS and token != upper:
        return None  # "west region failed" is text.
    own = _own_abbreviation(token, author_zone=author_zone, year=year)
    if own is not None:
        return own
    if upper in AMBIGUOUS_ZONE_ABBREVIATIONS:
        author_key = getattr(author_zone, "key", None)
        for _, key, offset in AMBIGUOUS_ZONE_ABBREVIATIONS[upper]:
            if key == author_key:  # Asia/Dhaka is "+06" in tzdata, but BST there is Bangladesh.
                return _Zone(timezone(_offset_from_text(offset), upper), key)
        raise _ambiguous_error(token)
    if upper in GENERIC_ZONE_ABBREVIATIONS:
        key = GENERIC_ZONE_ABBREVIATIONS[upper]
        return _Zone(_zoneinfo(key), key)
    if upper in ZONE_ABBREVIATIONS:
        offset, key = ZONE_ABBREVIATIONS[upper]
        return _Zone(timezone(_offset_from_text(offset), upper), key)
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


def abbreviation(local: datetime) -> str:
    """The zone abbreviation at that moment, or ``UTC+03:00`` where tzdata only has ``+03``
    (and for a zone given as an offset): the name every place that shows a time uses."""
    name = local.tzname() or ""
    if not name or name[0] in "+-":
        return _offset_text(local.utcoffset() or timedelta(0))
    return name


def format_moment(dt: datetime, zone: str | tzinfo) -> str:
    """Shows a moment the way the timeline, replies and postmortems do: ``2026-11-27 14:05
    PST``. ``zone``: a name as ``get_zone`` reads it, or a zone it returned."""
    if dt.tzinfo is None:
        raise ValueError("format_moment needs an aware datetime")
    return _shown(dt.astimezone(get_zone(zone) if isinstance(zone, str) else zone))


def _shown(local: datetime) -> str:
    return f"{local:%Y-%m-%d %H:%M} {abbreviation(local)}"


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
            shown = _shown(local)
            self._shown[key] = shown
        return shown


_DAY_LABEL_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# fmt: off
_DAY_LABEL_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
# fmt: on


def day_label(day: date) -> str:
    """``Friday 27 November 2026``, the same whatever the process's locale."""
    weekday, month = _DAY_LABEL_WEEKDAYS[day.weekday()], _DAY_LABEL_MONTHS[day.month - 1]
    return f"{weekday} {day.day} {month} {day.year}"


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
    shown = abbreviation(local)
    if name in {"UTC", offset}:
        return name
    if shown in {name, offset}:
        return f"{name} ({offset})"
    return f"{name} ({shown}, {offset})"


# --- moments -----------------------------------------------------------------------------------

_DATE_PREFIX = re.compile(r"\d{4}-\d{1,2}-\d{1,2}(?=[T\s]|$)")
_CLOCK = re.compile(
    r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?"
    r"(?:\s*(?P<ampm>[ap])\.?m\.?(?![^\s,;:+\-\u2212Z]))?",
    re.IGNORECASE,
)
_SEPARATORS = ",;:"
_WHITESPACE = re.compile(r"\s")
_DAY_WORD = re.compile(r"(?:(?P<last>last)\s+)?(?P<word>[a-z]+)(?=\s|$)", re.IGNORECASE)
_AT = re.compile(r"at\s+", re.IGNORECASE)

_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Day words before a time, lowercased, each to its normal form (Moment.day_word).
_DAY_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "today": "today",
        "yesterday": "yesterday",
        **{name: name for name in _WEEKDAY_NAMES},
        "mon": "monday",
        "tue": "tuesday",
        "tues": "tuesday",
        "wed": "wednesday",
        "weds": "wednesday",
        "thu": "thursday",
        "thur": "thursday",
        "thurs": "thursday",
        "fri": "friday",
        "sat": "saturday",
        "sun": "sunday",
    }
)
# English month and weekday abbreviations for replies and charts, whatever the locale
# (strftime's %b and %a follow it).
# fmt: off
MONTH_ABBREVIATIONS = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)
# fmt: on
WEEKDAY_ABBREVIATIONS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# The earliest moment accepted: anything before is a typo, not an incident's timeline.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TOO_OLD = "That is before 1970, which I can't record: check the year."
OUT_OF_RANGE = "That date is out of range: use a date near today, such as 2026-11-27."


@dataclass(frozen=True, slots=True)
class Moment:
    """A moment someone typed, and how its day was chosen.

    ``at`` is the aware UTC instant; ``rest`` the text after the time and zone; ``zone`` the name
    of the zone to show it in (the typed zone, ``UTC``/``+01:00``/an IANA key, the zone of a typed
    abbreviation, else the author's zone); ``date_given`` whether a full date was typed;
    ``day_word`` ``today``, ``yesterday`` or a weekday's full lowercase name if one was typed;
    ``inferred_yesterday`` whether only a time was typed and it was taken as yesterday's.
    """

    at: datetime
    rest: str
    zone: str
    date_given: bool = False
    day_word: str | None = None
    inferred_yesterday: bool = False


@dataclass(frozen=True, slots=True)
class _Head:
    """What the front of the text said: a date or day word (or neither), a time, a zone."""

    day: date | None
    day_word: str | None
    clock: time
    zone: _Zone | None
    rest: str


def _unreadable(fragment: str, *, what: str = "a time") -> TimeParseError:
    """The refusal for anything that is not one of the accepted forms."""
    return TimeParseError(f"I couldn't read “{_quote(fragment)}” as {what}. {ACCEPTED_FORMS}")


def _word_end(text: str, start: int) -> int:
    """Index of the first whitespace at or after ``start`` (or the end of the text)."""
    match = _WHITESPACE.search(text, start)
    return match.start() if match else len(text)


def _skip_spaces(text: str, position: int) -> int:
    """Index of the first non-whitespace character at or after ``position``."""
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _day_word(text: str) -> tuple[str, int] | None:
    """A day word at the front (``yesterday``, ``Mon``, ``last fri``): its normal form and end."""
    match = _DAY_WORD.match(text)
    if match is None:
        return None
    word = _DAY_WORDS.get(match["word"].lower())
    if word is None or (match["last"] and word not in _WEEKDAY_NAMES):
        return None
    return word, match.end()


def starts_with_moment(text: str) -> bool:
    """Whether ``text`` (what follows "at ") begins like a time rather than like prose.

    True for a leading digit (``14:05 …``) or a day word followed by a digit, optionally after
    "at" (``yesterday 23:10 …``, ``Mon 9:30 …``, ``last friday at 14:05 …``); false for
    ``least five nodes``, ``noon``, ``todays`` or ``today we decided``, which are prose.
    """
    stripped = text.lstrip()
    if _starts_with_digit(stripped):
        return True
    word = _day_word(stripped)
    if word is None:
        return False
    after = stripped[word[1] :].lstrip()
    if after[:2].lower() == "at" and after[2:3].isspace():
        after = after[2:].lstrip()
    return _starts_with_digit(after)


def _starts_with_digit(text: str) -> bool:
    return text[:1].isascii() and text[:1].isdigit()


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


def _read_head(text: str, *, author_zone: tzinfo, now: datetime) -> _Head:
    """Splits ``[date | day word] time [zone] rest`` off the front of the text, strictly."""
    position = 0
    day: date | None = None
    day_word: str | None = None
    if date_match := _DATE_PREFIX.match(text):
        date_text = date_match.group()
        try:
            day = isoparse(date_text).date()
        except ValueError:
            raise _unreadable(date_text, what="a date") from None
        if day.year < _EPOCH.year:
            raise TimeParseError(TOO_OLD)
        if date_match.end() == len(text):
            raise TimeParseError(
                f"Add a time after the date, e.g. {date_text} 14:05. {ACCEPTED_FORMS}"
            )
        position = _skip_spaces(text, date_match.end() + 1)
    elif found := _day_word(text):
        day_word, position = found
        if position == len(text):
            raise TimeParseError(f"Add a time after “{_quote(text)}”, e.g. {text} 14:05.")
        position = _skip_spaces(text, position)
        if at := _AT.match(text, position):  # "yesterday at 23:10"
            position = at.end()

    clock_match = _CLOCK.match(text, position)
    end = clock_match.end() if clock_match else position
    word_end = _word_end(text, end)
    fragment = text[:word_end]
    if clock_match is None:
        raise _unreadable(fragment)
    clock = _clock(clock_match, fragment)

    # Abbreviations depend on the year: zones change their names and offsets now and then.
    year = day.year if day is not None else now.astimezone(author_zone).year

    # Right after the time may come a zone (14:05Z, 14:05+01:00) or a separator (14:05: text).
    zone: _Zone | None = None
    attached = text[end:word_end].rstrip(_SEPARATORS)
    if attached:
        zone = _typed_zone(attached, author_zone=author_zone, year=year)
        if zone is None:
            raise _unreadable(fragment)
    rest = text[word_end:]
    if zone is None and (words := rest.split(maxsplit=1)):
        token = words[0].rstrip(_SEPARATORS) or words[0]
        if (zone := _typed_zone(token, author_zone=author_zone, year=year)) is not None:
            rest = words[1] if len(words) > 1 else ""
    return _Head(day=day, day_word=day_word, clock=clock, zone=zone, rest=rest.strip())


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


def _candidate_days(head: _Head, *, today: date) -> list[date]:
    """The days the moment may be on, latest first; the first whose moment is past is taken."""
    if head.day is not None:
        return [head.day]
    if head.day_word == "today":
        return [today]
    if head.day_word == "yesterday":
        return [today - timedelta(days=1)]
    if head.day_word is not None:
        back = (today.weekday() - _WEEKDAY_NAMES.index(head.day_word)) % 7
        latest = today - timedelta(days=back)
        return [latest, latest - timedelta(days=7)]
    return [today, today - timedelta(days=1)]


def parse_moment(text: str, *, now: datetime, default_zone: str) -> tuple[datetime, str]:
    """Reads ``<time> [zone] <text>`` into (aware UTC moment, remaining text) for backdating."""
    moment = read_moment(text, now=now, default_zone=default_zone)
    return moment.at, moment.rest


def read_moment(text: str, *, now: datetime, default_zone: str) -> Moment:
    """Reads ``[day] <time> [zone] <text>`` into a ``Moment``: when, and how its day was chosen.

    ``now`` must be aware; ``default_zone`` is the author's zone (IANA name, ``UTC`` or offset).
    The moment is the latest one matching the text that is not in the future.
    """
    if now.tzinfo is None:
        raise ValueError("read_moment needs an aware now")
    try:
        return _read_moment(text, now=now, default_zone=default_zone)
    except (OverflowError, ValueError):
        # Dates at the ends of the calendar overflow when moved between zones.
        raise TimeParseError(OUT_OF_RANGE) from None


def _read_moment(text: str, *, now: datetime, default_zone: str) -> Moment:
    stripped = text.strip()
    if not stripped:
        raise TimeParseError(f"Add a time after “at”. {ACCEPTED_FORMS}")
    author_zone = get_zone(default_zone)
    head = _read_head(stripped, author_zone=author_zone, now=now)
    zone = head.zone.tz if head.zone else author_zone
    limit = now + SKEW_TOLERANCE
    today = now.astimezone(zone).date()
    days = _candidate_days(head, today=today)

    earliest: datetime | None = None
    for index, day in enumerate(days):
        wall = datetime.combine(day, head.clock, tzinfo=zone)
        if not dateutil_tz.datetime_exists(wall):
            if index + 1 < len(days) and dateutil_tz.resolve_imaginary(wall) > limit:
                # This day's gap is still ahead of us anyway; the earlier day's time is meant.
                earliest = earliest or dateutil_tz.resolve_imaginary(wall)
                continue
            raise _gap_error(wall, zone=zone)
        moment = _pick(day, head.clock, zone, limit=limit)
        if moment is not None:
            if moment < _EPOCH:
                raise TimeParseError(TOO_OLD)
            return Moment(
                at=moment.astimezone(UTC),
                rest=head.rest,
                zone=head.zone.name if head.zone else _display_name(author_zone),
                date_given=head.day is not None,
                day_word=head.day_word,
                inferred_yesterday=(head.day is None and head.day_word is None and day != today),
            )
        earliest = earliest or _occurrences(day, head.clock, zone)[-1]
    assert earliest is not None
    raise _future_error(earliest, now=now, author_zone=default_zone)


def describe_moment(moment: Moment, *, zone: str, now: datetime) -> str:
    """Shows a moment in a reply: ``2026-12-01 23:59 PST`` like ``format_moment``, except that a
    day inferred as yesterday says so: ``yesterday, 1 Dec, 23:59 PST``.

    The "yesterday" is judged in ``zone`` against ``now``; where the moment is not on the day
    before ``now`` there (shown in another zone than it was typed in), the full date is shown.
    """
    if now.tzinfo is None:
        raise ValueError("describe_moment needs an aware now")
    if not moment.inferred_yesterday:
        return format_moment(moment.at, zone)
    local = moment.at.astimezone(get_zone(zone))
    if local.date() != now.astimezone(local.tzinfo).date() - timedelta(days=1):
        return format_moment(moment.at, zone)
    month = MONTH_ABBREVIATIONS[local.month - 1]
    return f"yesterday, {local.day} {month}, {local:%H:%M} {abbreviation(local)}"


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
        # The next such day strictly after today: "friday" said on a Friday means next week;
        # "this friday" said on a Friday means today.
        soonest = 0 if text.startswith("this ") else 1
        return today + relativedelta(days=soonest, weekday=_WEEKDAYS[weekday])
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
