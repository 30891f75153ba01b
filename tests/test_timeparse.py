"""The time grammar of ``note at <time> <text>`` and of action item due dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from incidentbot.errors import IncidentError
from incidentbot.timeparse import (
    ACCEPTED_FORMS,
    SKEW_TOLERANCE,
    TimeParseError,
    format_moment,
    get_zone,
    parse_date,
    parse_moment,
    zone_label,
)

LA = "America/Los_Angeles"
BERLIN = "Europe/Berlin"
KOLKATA = "Asia/Kolkata"
# 2026-11-27 18:00 UTC is 10:00 PST in Los Angeles and 19:00 CET in Berlin.
NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    """Shorthand for an aware UTC datetime."""
    return datetime(*args, tzinfo=UTC)


def parse(text: str, *, now: datetime = NOW, zone: str = "UTC") -> tuple[datetime, str]:
    """parse_moment with the test defaults."""
    return parse_moment(text, now=now, default_zone=zone)


# --- accepted forms -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14:05 x", utc(2026, 11, 27, 14, 5)),
        ("9:05 x", utc(2026, 11, 27, 9, 5)),
        ("09:05 x", utc(2026, 11, 27, 9, 5)),
        ("0:00 x", utc(2026, 11, 27, 0, 0)),
        ("2:05pm x", utc(2026, 11, 27, 14, 5)),
        ("2:05 pm x", utc(2026, 11, 27, 14, 5)),
        ("2:05PM x", utc(2026, 11, 27, 14, 5)),
        ("2:05 p.m. x", utc(2026, 11, 27, 14, 5)),
        ("9:05am x", utc(2026, 11, 27, 9, 5)),
        ("2pm x", utc(2026, 11, 27, 14, 0)),
        ("2 pm x", utc(2026, 11, 27, 14, 0)),
        ("12am x", utc(2026, 11, 27, 0, 0)),
        ("12:30am x", utc(2026, 11, 27, 0, 30)),
        ("12pm x", utc(2026, 11, 27, 12, 0)),
        ("14:05:30 x", utc(2026, 11, 27, 14, 5, 30)),
        ("2026-11-27 14:05 x", utc(2026, 11, 27, 14, 5)),
        ("2026-11-27T14:05 x", utc(2026, 11, 27, 14, 5)),
        ("2026-11-27T14:05:30 x", utc(2026, 11, 27, 14, 5, 30)),
        ("2026-11-20 2:05pm x", utc(2026, 11, 20, 14, 5)),
        ("2026-11-26   23:59:59 x", utc(2026, 11, 26, 23, 59, 59)),
        ("14:05: x", utc(2026, 11, 27, 14, 5)),
        ("14:05, x", utc(2026, 11, 27, 14, 5)),
    ],
)
def test_accepted_forms(text: str, expected: datetime) -> None:
    moment, rest = parse(text)
    assert moment == expected
    assert rest == "x"


def test_result_is_aware_utc() -> None:
    moment, _ = parse("9:15 x", zone=LA)
    assert moment.tzinfo is UTC
    assert moment.utcoffset() == timedelta(0)


def test_time_alone_leaves_empty_text() -> None:
    assert parse("14:05") == (utc(2026, 11, 27, 14, 5), "")
    assert parse("  14:05   ") == (utc(2026, 11, 27, 14, 5), "")


def test_now_need_not_be_utc_but_must_be_aware() -> None:
    berlin_now = NOW.astimezone(ZoneInfo(BERLIN))
    assert parse("14:05 x", now=berlin_now) == (utc(2026, 11, 27, 14, 5), "x")
    with pytest.raises(ValueError):
        parse("14:05 x", now=NOW.replace(tzinfo=None))


# --- zones --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14:05 UTC x", utc(2026, 11, 27, 14, 5)),
        ("14:05 utc x", utc(2026, 11, 27, 14, 5)),
        ("14:05 GMT x", utc(2026, 11, 27, 14, 5)),
        ("14:05 Z x", utc(2026, 11, 27, 14, 5)),
        ("14:05Z x", utc(2026, 11, 27, 14, 5)),
        ("2026-11-27T14:05:00Z x", utc(2026, 11, 27, 14, 5)),
        ("14:05 +01:00 x", utc(2026, 11, 27, 13, 5)),
        ("14:05+01:00 x", utc(2026, 11, 27, 13, 5)),
        ("14:05 +0100 x", utc(2026, 11, 27, 13, 5)),
        ("14:05 +1 x", utc(2026, 11, 27, 13, 5)),
        ("14:05 +05:30 x", utc(2026, 11, 27, 8, 35)),
        ("14:05 UTC+5:30 x", utc(2026, 11, 27, 8, 35)),
        ("14:05 GMT-8 x", utc(2026, 11, 26, 22, 5)),  # 22:05 UTC today is still ahead
        ("9:05 -0800 x", utc(2026, 11, 27, 17, 5)),
        ("9:05 \u221208:00 x", utc(2026, 11, 27, 17, 5)),
        ("14:05 Europe/Berlin x", utc(2026, 11, 27, 13, 5)),
        ("14:05 europe/berlin x", utc(2026, 11, 27, 13, 5)),
        ("9:00 America/New_York x", utc(2026, 11, 27, 14, 0)),
        ("2026-11-27 08:00 Asia/Tokyo x", utc(2026, 11, 26, 23, 0)),
        ("2pm Europe/Berlin x", utc(2026, 11, 27, 13, 0)),
        ("14:05 UTC: x", utc(2026, 11, 27, 14, 5)),
    ],
)
def test_explicit_zone_overrides_the_default(text: str, expected: datetime) -> None:
    assert parse(text, zone=LA) == (expected, "x")


def test_without_a_zone_the_default_zone_applies() -> None:
    assert parse("14:05 x", zone=BERLIN) == (utc(2026, 11, 27, 13, 5), "x")
    assert parse("9:05 x", zone=LA) == (utc(2026, 11, 27, 17, 5), "x")


def test_responder_in_los_angeles_note_at_9_15() -> None:
    moment, text = parse("9:15 paged the DB team", zone=LA)
    assert moment == utc(2026, 11, 27, 17, 15)
    assert text == "paged the DB team"


@pytest.mark.parametrize(
    ("token", "suggestion"),
    [
        ("PST", "America/Los_Angeles"),
        ("PDT", "America/Los_Angeles"),
        ("CET", "Europe/Berlin"),
        ("CEST", "Europe/Berlin"),
        ("EST", "America/New_York"),
        ("IST", "Asia/Kolkata"),
        ("BST", "Europe/London"),
        ("pst", "America/Los_Angeles"),
        ("cest", "Europe/Berlin"),
    ],
)
def test_ambiguous_abbreviations_are_refused(token: str, suggestion: str) -> None:
    with pytest.raises(TimeParseError) as caught:
        parse(f"14:05 {token} x")
    message = str(caught.value)
    assert f"“{token}”" in message
    assert suggestion in message
    assert "offset" in message


@pytest.mark.parametrize("word", ["est", "west", "Ist", "wet"])
def test_abbreviations_that_are_words_pass_as_text_unless_capitalised(word: str) -> None:
    assert parse(f"14:05 {word} side") == (utc(2026, 11, 27, 14, 5), f"{word} side")


def test_unknown_iana_zone_is_refused() -> None:
    with pytest.raises(TimeParseError, match="Europe/Berln"):
        parse("14:05 Europe/Berln x")


def test_slashed_words_that_are_not_zones_are_text() -> None:
    assert parse("14:05 read/write errors") == (utc(2026, 11, 27, 14, 5), "read/write errors")


@pytest.mark.parametrize("offset", ["+15", "-13:00", "+14:30", "+01:75"])
def test_impossible_offsets_are_refused(offset: str) -> None:
    with pytest.raises(TimeParseError, match="offset"):
        parse(f"14:05 {offset} x")


# --- latest moment that is not in the future ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("18:00", utc(2026, 11, 27, 18, 0)),  # equal to now: today
        ("17:59", utc(2026, 11, 27, 17, 59)),
        ("18:01", utc(2026, 11, 27, 18, 1)),  # within the clock-skew tolerance: today
        ("18:02", utc(2026, 11, 26, 18, 2)),  # later than now: yesterday
        ("23:59", utc(2026, 11, 26, 23, 59)),
        ("0:00", utc(2026, 11, 27, 0, 0)),
    ],
)
def test_latest_moment_not_in_the_future(text: str, expected: datetime) -> None:
    assert parse(text)[0] == expected


def test_skew_tolerance_is_a_minute() -> None:
    assert timedelta(seconds=60) == SKEW_TOLERANCE


def test_later_today_in_the_authors_zone_means_yesterday() -> None:
    # 10:00 PST now; 11:30 PST today has not happened yet.
    assert parse("11:30 x", zone=LA)[0] == utc(2026, 11, 26, 19, 30)


def test_day_crossing_in_kolkata() -> None:
    # 2026-11-26 19:30 UTC is 01:00 IST on the 27th; 23:50 means the previous local day.
    now = utc(2026, 11, 26, 19, 30)
    assert parse("23:50 alerts fired", now=now, zone=KOLKATA) == (
        utc(2026, 11, 26, 18, 20),
        "alerts fired",
    )
    assert parse("00:30 x", now=now, zone=KOLKATA)[0] == utc(2026, 11, 26, 19, 0)


def test_explicit_zone_chooses_the_day_in_that_zone() -> None:
    # Now is 19:00 in Berlin: 18:30 Berlin is today even though the author is in Los Angeles.
    assert parse("18:30 Europe/Berlin x", zone=LA)[0] == utc(2026, 11, 27, 17, 30)


# --- the future ---------------------------------------------------------------------------------


def test_explicit_future_date_is_refused_in_the_authors_zone() -> None:
    with pytest.raises(TimeParseError) as caught:
        parse("2026-11-28 09:00 x", zone=LA)
    message = str(caught.value)
    assert "future" in message
    assert "2026-11-28 09:00 PST" in message
    assert "2026-11-27 10:00 PST" in message


def test_future_moment_with_explicit_zone_is_shown_in_the_authors_zone() -> None:
    with pytest.raises(TimeParseError, match="2026-11-27 12:00 PST"):
        parse("2026-11-27 20:00 UTC x", zone=LA)


def test_a_few_seconds_ahead_is_clock_skew_not_the_future() -> None:
    assert parse("2026-11-27 10:00:30 x", zone=LA)[0] == utc(2026, 11, 27, 18, 0, 30)
    with pytest.raises(TimeParseError, match="future"):
        parse("2026-11-27 10:05 x", zone=LA)


# --- daylight saving time -----------------------------------------------------------------------


def test_spring_forward_gap_is_refused() -> None:
    # 2026-03-08 in Los Angeles: 02:00 PST jumps to 03:00 PDT.
    with pytest.raises(TimeParseError) as caught:
        parse("2:30 x", now=utc(2026, 3, 8, 18, 0), zone=LA)
    message = str(caught.value)
    assert "didn't happen" in message
    assert "2026-03-08" in message
    assert "03:30 PDT" in message


def test_spring_forward_gap_with_explicit_date_is_refused() -> None:
    with pytest.raises(TimeParseError, match="daylight saving"):
        parse("2026-03-08 02:30 x", now=utc(2026, 3, 9, 0, 0), zone=LA)


def test_eu_spring_forward_gap_is_refused() -> None:
    # 2026-03-29 in Berlin: 02:00 CET jumps to 03:00 CEST.
    with pytest.raises(TimeParseError, match="Europe/Berlin"):
        parse("2026-03-29 02:30 Europe/Berlin x", now=utc(2026, 3, 30, 0, 0))


def test_gap_still_ahead_today_means_yesterday() -> None:
    # 01:00 PST on the changeover day: today's 02:30 lies ahead anyway, yesterday's existed.
    assert parse("2:30 x", now=utc(2026, 3, 8, 9, 0), zone=LA)[0] == utc(2026, 3, 7, 10, 30)


def test_just_after_spring_forward() -> None:
    assert parse("3:30 x", now=utc(2026, 3, 8, 18, 0), zone=LA)[0] == utc(2026, 3, 8, 10, 30)
    assert parse("1:30 x", now=utc(2026, 3, 8, 18, 0), zone=LA)[0] == utc(2026, 3, 8, 9, 30)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # 2026-11-01 in Los Angeles: 01:30 PDT = 08:30 UTC, then 01:30 PST = 09:30 UTC.
        (utc(2026, 11, 1, 12, 0), utc(2026, 11, 1, 9, 30)),  # both past: the later one
        (utc(2026, 11, 1, 9, 30), utc(2026, 11, 1, 9, 30)),  # the later one is exactly now
        (utc(2026, 11, 1, 8, 45), utc(2026, 11, 1, 8, 30)),  # only the first is past
        (utc(2026, 11, 1, 8, 15), utc(2026, 10, 31, 8, 30)),  # neither: yesterday
    ],
)
def test_fall_back_ambiguity_resolves_to_latest_past_occurrence(
    now: datetime, expected: datetime
) -> None:
    assert parse("1:30 x", now=now, zone=LA)[0] == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2026, 11, 2, 0, 0), utc(2026, 11, 1, 9, 30)),
        (utc(2026, 11, 1, 8, 45), utc(2026, 11, 1, 8, 30)),
    ],
)
def test_fall_back_ambiguity_with_explicit_date(now: datetime, expected: datetime) -> None:
    assert parse("2026-11-01 01:30 x", now=now, zone=LA)[0] == expected


def test_fall_back_ambiguity_with_explicit_date_entirely_ahead_is_future() -> None:
    with pytest.raises(TimeParseError, match="future"):
        parse("2026-11-01 01:30 x", now=utc(2026, 11, 1, 8, 15), zone=LA)


def test_eu_fall_back_ambiguity() -> None:
    # 2026-10-25 in Berlin: 02:30 CEST = 00:30 UTC, then 02:30 CET = 01:30 UTC.
    now = utc(2026, 10, 25, 12, 0)
    assert parse("2:30 x", now=now, zone=BERLIN)[0] == utc(2026, 10, 25, 1, 30)
    assert parse("2:30 x", now=utc(2026, 10, 25, 1, 0), zone=BERLIN)[0] == utc(2026, 10, 25, 0, 30)


def test_explicit_utc_sidesteps_dst() -> None:
    now = utc(2026, 3, 8, 18, 0)
    assert parse("2026-03-08 10:30 UTC x", now=now, zone=LA)[0] == utc(2026, 3, 8, 10, 30)


# --- garbage ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("25:00 x", "25:00"),
        ("14:61 x", "14:61"),
        ("2:05xm x", "2:05xm"),
        ("24:00 x", "24:00"),
        ("14 x", "14"),
        ("13pm x", "13pm"),
        ("0am x", "0am"),
        ("14:5 x", "14:5"),
        ("14.05 x", "14.05"),
        ("14:05:60 x", "14:05:60"),
        ("14:05x failover", "14:05x"),
        ("soon x", "soon"),
        ("yesterday at noon", "yesterday"),
    ],
)
def test_garbage_times_are_refused_helpfully(text: str, quoted: str) -> None:
    with pytest.raises(TimeParseError) as caught:
        parse(text)
    message = str(caught.value)
    assert f"I couldn't read “{quoted}” as a time." in message
    assert ACCEPTED_FORMS in message


@pytest.mark.parametrize("text", ["2026-13-40 14:05 x", "2026-02-30 14:05 x", "2026-00-10 14:05"])
def test_impossible_dates_are_refused(text: str) -> None:
    with pytest.raises(TimeParseError) as caught:
        parse(text)
    assert "as a date" in str(caught.value)
    assert ACCEPTED_FORMS in str(caught.value)


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_nothing_after_at_is_refused(text: str) -> None:
    with pytest.raises(TimeParseError, match="after “at”") as caught:
        parse(text)
    assert ACCEPTED_FORMS in str(caught.value)


def test_date_without_time_is_refused() -> None:
    with pytest.raises(TimeParseError, match="Add a time after the date"):
        parse("2026-11-27")


def test_garbage_after_the_date_is_refused() -> None:
    with pytest.raises(TimeParseError, match="I couldn't read “2026-11-27 lunch” as a time"):
        parse("2026-11-27 lunch")


def test_errors_are_incident_errors() -> None:
    assert issubclass(TimeParseError, IncidentError)
    with pytest.raises(IncidentError):
        parse("25:00")


# --- the rest of the text -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rest"),
    [
        ("14:05 restarted at 14:10", "restarted at 14:10"),
        ("14:05 UTC 2pm deploy was rolled back", "2pm deploy was rolled back"),
        ("14:05 Café ☕ 数据库 failover 🔥", "Café ☕ 数据库 failover 🔥"),
        ("14:05   spaces  inside   kept  ", "spaces  inside   kept"),
        ("14:05 line one\nline two", "line one\nline two"),
        ("2:05 amazon S3 errors", "amazon S3 errors"),
        ("14:05 - DB failover", "- DB failover"),
        ("14:05 <@U123|alice> paged <!here>", "<@U123|alice> paged <!here>"),
        ("14:05 {{ 7*7 }} {% for %}", "{{ 7*7 }} {% for %}"),
    ],
)
def test_rest_of_text_is_returned_intact(text: str, rest: str) -> None:
    assert parse(text)[1] == rest


# --- format_moment, zone_label, get_zone --------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "zone", "expected"),
    [
        (utc(2026, 11, 27, 22, 5), LA, "2026-11-27 14:05 PST"),
        (utc(2026, 7, 1, 21, 5), LA, "2026-07-01 14:05 PDT"),
        (utc(2026, 11, 27, 13, 5), BERLIN, "2026-11-27 14:05 CET"),
        (utc(2026, 11, 27, 22, 5), "UTC", "2026-11-27 22:05 UTC"),
        (utc(2026, 11, 27, 20, 0), KOLKATA, "2026-11-28 01:30 IST"),
        (utc(2026, 11, 27, 11, 5), "Europe/Istanbul", "2026-11-27 14:05 UTC+03:00"),
        (utc(2026, 11, 1, 8, 30), LA, "2026-11-01 01:30 PDT"),
        (utc(2026, 11, 1, 9, 30), LA, "2026-11-01 01:30 PST"),
    ],
)
def test_format_moment(moment: datetime, zone: str, expected: str) -> None:
    assert format_moment(moment, zone) == expected


def test_format_moment_needs_aware_datetime() -> None:
    with pytest.raises(ValueError):
        format_moment(datetime(2026, 11, 27, 14, 5), "UTC")


@pytest.mark.parametrize(
    ("zone", "at", "expected"),
    [
        (BERLIN, None, "Europe/Berlin"),
        ("utc", None, "UTC"),
        ("Etc/UTC", None, "UTC"),
        (BERLIN, NOW, "Europe/Berlin (CET, UTC+01:00)"),
        (LA, utc(2026, 7, 1), "America/Los_Angeles (PDT, UTC-07:00)"),
        (KOLKATA, NOW, "Asia/Kolkata (IST, UTC+05:30)"),
        ("Europe/Istanbul", NOW, "Europe/Istanbul (UTC+03:00)"),
        ("UTC", NOW, "UTC"),
        ("+05:30", NOW, "UTC+05:30"),
    ],
)
def test_zone_label(zone: str, at: datetime | None, expected: str) -> None:
    assert zone_label(zone, at=at) == expected


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Nowhere", "", "PST"])
def test_unknown_zones_are_refused(zone: str) -> None:
    with pytest.raises(TimeParseError):
        zone_label(zone)
    with pytest.raises(TimeParseError):
        parse("14:05 x", zone=zone)


def test_get_zone_accepts_iana_utc_and_offsets() -> None:
    assert get_zone(BERLIN) == ZoneInfo(BERLIN)
    assert get_zone("UTC") is UTC
    assert get_zone("+01:00").utcoffset(None) == timedelta(hours=1)


# --- due dates ----------------------------------------------------------------------------------

TODAY = date(2026, 11, 27)  # a Friday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01", date(2026, 12, 1)),
        ("today", TODAY),
        ("Today", TODAY),
        ("tomorrow", date(2026, 11, 28)),
        ("friday", date(2026, 12, 4)),  # today is Friday: the next one
        ("Fri", date(2026, 12, 4)),
        ("saturday", date(2026, 11, 28)),
        ("monday", date(2026, 11, 30)),
        ("next monday", date(2026, 11, 30)),
        ("thursday", date(2026, 12, 3)),
        ("in 3 days", date(2026, 11, 30)),
        ("in 1 day", date(2026, 11, 28)),
        ("in a week", date(2026, 12, 4)),
        ("in 2 weeks", date(2026, 12, 11)),
        ("in 1 month", date(2026, 12, 27)),
        ("in 3 months", date(2027, 2, 27)),
        ("dec 1", date(2026, 12, 1)),
        ("Dec 1st", date(2026, 12, 1)),
        ("december 1", date(2026, 12, 1)),
        ("1 dec", date(2026, 12, 1)),
        ("december 1, 2027", date(2027, 12, 1)),
        ("nov 27", TODAY),
        ("nov 1", date(2027, 11, 1)),  # already past this year
        ("feb 29", date(2028, 2, 29)),
        ("  in   3   days ", date(2026, 11, 30)),
    ],
)
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text, today=TODAY) == expected


def test_in_a_month_clamps_to_month_end() -> None:
    assert parse_date("in 1 month", today=date(2026, 1, 31)) == date(2026, 2, 28)


@pytest.mark.parametrize(
    "text", ["someday", "2026-13-40", "yesterday", "feb 30", "2026-02-30", "in -3 days", "foo 1"]
)
def test_parse_date_refuses_garbage(text: str) -> None:
    with pytest.raises(TimeParseError) as caught:
        parse_date(text, today=TODAY)
    assert "2026-12-01" in str(caught.value)


@pytest.mark.parametrize("text", ["2026-11-26", "2020-01-01", "nov 1 2026"])
def test_parse_date_refuses_the_past(text: str) -> None:
    with pytest.raises(TimeParseError, match="already passed"):
        parse_date(text, today=TODAY)


def test_parse_date_refuses_empty() -> None:
    with pytest.raises(TimeParseError, match="Add a date"):
        parse_date("  ", today=TODAY)
