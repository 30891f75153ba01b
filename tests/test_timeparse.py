"""The time grammar of ``note at <time> <text>`` and of action item due dates."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from incidentbot.domain.errors import IncidentError
from incidentbot.domain.timeparse import (
    ACCEPTED_FORMS,
    AMBIGUOUS_ZONE_ABBREVIATIONS,
    GENERIC_ZONE_ABBREVIATIONS,
    OUT_OF_RANGE,
    SKEW_TOLERANCE,
    TOO_OLD,
    ZONE_ABBREVIATIONS,
    Moment,
    MomentFormatter,
    TimeParseError,
    day_label,
    describe_moment,
    format_moment,
    get_zone,
    parse_date,
    parse_moment,
    read_moment,
    starts_with_moment,
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


def read(text: str, *, now: datetime = NOW, zone: str = "UTC") -> Moment:
    """read_moment with the test defaults."""
    return read_moment(text, now=now, default_zone=zone)


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


@pytest.mark.parametrize("word", ["est", "west", "Ist", "wet", "ast", "pkt", "pt", "Met", "et"])
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


# --- zone abbreviations -------------------------------------------------------------------------

CHICAGO = "America/Chicago"
DUBLIN = "Europe/Dublin"


@pytest.mark.parametrize(
    ("token", "offset_hours", "offset_minutes", "shown_in"),
    [
        ("PST", -8, 0, LA),
        ("PDT", -7, 0, LA),
        ("pst", -8, 0, LA),
        ("MST", -7, 0, "America/Denver"),
        ("MDT", -6, 0, "America/Denver"),
        ("EST", -5, 0, "America/New_York"),
        ("EDT", -4, 0, "America/New_York"),
        ("AKST", -9, 0, "America/Anchorage"),
        ("AKDT", -8, 0, "America/Anchorage"),
        ("HST", -10, 0, "Pacific/Honolulu"),
        ("WET", 0, 0, "Europe/Lisbon"),
        ("WEST", 1, 0, "Europe/Lisbon"),
        ("CET", 1, 0, BERLIN),
        ("CEST", 2, 0, BERLIN),
        ("cest", 2, 0, BERLIN),
        ("MET", 1, 0, BERLIN),
        ("MEST", 2, 0, BERLIN),
        ("EET", 2, 0, "Europe/Athens"),
        ("EEST", 3, 0, "Europe/Athens"),
        ("MSK", 3, 0, "Europe/Moscow"),
        ("PKT", 5, 0, "Asia/Karachi"),
        ("SGT", 8, 0, "Asia/Singapore"),
        ("HKT", 8, 0, "Asia/Hong_Kong"),
        ("JST", 9, 0, "Asia/Tokyo"),
        ("KST", 9, 0, "Asia/Seoul"),
        ("AWST", 8, 0, "Australia/Perth"),
        ("ACST", 9, 30, "Australia/Adelaide"),
        ("ACDT", 10, 30, "Australia/Adelaide"),
        ("AEST", 10, 0, "Australia/Sydney"),
        ("AEDT", 11, 0, "Australia/Sydney"),
        ("NZST", 12, 0, "Pacific/Auckland"),
        ("NZDT", 13, 0, "Pacific/Auckland"),
    ],
)
def test_table_abbreviations_are_fixed_offsets_for_anyone(
    token: str, offset_hours: int, offset_minutes: int, shown_in: str
) -> None:
    sign = -1 if offset_hours < 0 else 1
    offset = timedelta(hours=offset_hours, minutes=sign * offset_minutes)
    moment = read(f"2026-11-20 12:00 {token} x")
    assert moment.at == utc(2026, 11, 20, 12, 0) - offset
    assert moment.rest == "x"
    assert moment.zone == shown_in


def test_pst_for_a_utc_author_uses_the_table() -> None:
    # 18:00 UTC is 10:00 PST: 09:05 PST today is 17:05 UTC.
    assert read("9:05 PST paged") == Moment(at=utc(2026, 11, 27, 17, 5), rest="paged", zone=LA)
    assert parse("9:05 PST paged") == (utc(2026, 11, 27, 17, 5), "paged")


def test_abbreviation_attached_to_the_time() -> None:
    assert parse("9:05PST x") == (utc(2026, 11, 27, 17, 5), "x")


def test_daylight_abbreviation_means_what_was_written_even_in_winter() -> None:
    # PDT is -07:00 even on a November date, for a UTC author and for one in Los Angeles.
    assert parse("2026-11-20 09:00 PDT x")[0] == utc(2026, 11, 20, 16, 0)
    assert parse("2026-11-20 09:00 PDT x", zone=LA)[0] == utc(2026, 11, 20, 16, 0)
    assert parse("2026-07-01 09:00 PST x", zone=LA)[0] == utc(2026, 7, 1, 17, 0)


def test_pdt_and_pst_tell_the_repeated_autumn_hour_apart() -> None:
    # 2026-11-01 in Los Angeles: 01:30 happens twice, first as PDT, then as PST.
    now = utc(2026, 11, 1, 12, 0)
    pdt = parse("2026-11-01 01:30 PDT x", now=now, zone=LA)[0]
    pst = parse("2026-11-01 01:30 PST x", now=now, zone=LA)[0]
    assert pdt == utc(2026, 11, 1, 8, 30)
    assert pst == utc(2026, 11, 1, 9, 30)
    assert pst - pdt == timedelta(hours=1)
    # Without the date too; and untagged 01:30 is still the later of the two.
    assert parse("1:30 PDT x", now=now, zone=LA)[0] == utc(2026, 11, 1, 8, 30)
    assert parse("1:30 PST x", now=now, zone=LA)[0] == utc(2026, 11, 1, 9, 30)
    assert parse("1:30 x", now=now, zone=LA)[0] == utc(2026, 11, 1, 9, 30)


def test_own_zone_ist_differs_between_kolkata_and_dublin() -> None:
    kolkata = read("17:15 IST x", zone=KOLKATA)
    dublin = read("17:15 IST x", zone=DUBLIN)
    assert kolkata == Moment(at=utc(2026, 11, 27, 11, 45), rest="x", zone=KOLKATA)
    # Irish Standard Time is +01:00 (in winter Dublin is on GMT, but IST is what was written).
    assert dublin == Moment(at=utc(2026, 11, 27, 16, 15), rest="x", zone=DUBLIN)


def test_own_zone_ist_in_israel() -> None:
    assert parse("17:15 IST x", zone="Asia/Jerusalem")[0] == utc(2026, 11, 27, 15, 15)


def test_own_zone_abbreviation_formats_with_its_name() -> None:
    # The fixed offset carries the abbreviation, so format_moment shows it back.
    moment = read("19:15 IST x", now=utc(2026, 11, 27, 18, 0), zone=KOLKATA)
    assert moment.at == utc(2026, 11, 27, 13, 45)
    assert format_moment(moment.at, moment.zone) == "2026-11-27 19:15 IST"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9:00 CST x", utc(2026, 11, 27, 15, 0)),
        ("9:00 cst x", utc(2026, 11, 27, 15, 0)),
        ("9:00 CDT x", utc(2026, 11, 27, 14, 0)),
        ("9:00 CT x", utc(2026, 11, 27, 15, 0)),
    ],
)
def test_cst_is_fine_for_an_author_in_us_central(text: str, expected: datetime) -> None:
    assert read(text, zone=CHICAGO) == Moment(at=expected, rest="x", zone=CHICAGO)


def test_cst_is_ambiguous_for_an_author_in_berlin() -> None:
    with pytest.raises(TimeParseError) as caught:
        parse("9:00 CST x", zone=BERLIN)
    assert str(caught.value) == (
        "“CST” could mean US Central (America/Chicago, -06:00), China (Asia/Shanghai, +08:00) "
        "or Cuba (America/Havana, -05:00). Write the zone as an IANA name such as "
        "America/Chicago, or as an offset such as -06:00."
    )


def test_cst_in_china_and_cuba_is_their_own() -> None:
    assert parse("9:00 CST x", zone="Asia/Shanghai")[0] == utc(2026, 11, 27, 1, 0)
    assert parse("9:00 CST x", zone="America/Havana")[0] == utc(2026, 11, 27, 14, 0)


@pytest.mark.parametrize(
    ("token", "meanings"),
    [
        (
            "IST",
            [
                "India (Asia/Kolkata, +05:30)",
                "Ireland (Europe/Dublin, +01:00)",
                "Israel (Asia/Jerusalem, +02:00)",
            ],
        ),
        (
            "BST",
            ["British Summer Time (Europe/London, +01:00)", "Bangladesh (Asia/Dhaka, +06:00)"],
        ),
        ("bst", ["British Summer Time (Europe/London, +01:00)", "Bangladesh (Asia/Dhaka, +06:00)"]),
        ("AST", ["Atlantic (America/Halifax, -04:00)", "Arabia (Asia/Riyadh, +03:00)"]),
        ("CDT", ["US Central (America/Chicago, -05:00)", "Cuba (America/Havana, -04:00)"]),
    ],
)
def test_ambiguous_abbreviations_are_refused_naming_each_meaning(
    token: str, meanings: list[str]
) -> None:
    with pytest.raises(TimeParseError) as caught:
        parse(f"14:05 {token} x")
    message = str(caught.value)
    assert message.startswith(f"“{token}” could mean ")
    for meaning in meanings:
        assert meaning in message
    assert "IANA name" in message
    assert "offset" in message


@pytest.mark.parametrize(
    ("zone", "text", "expected"),
    [
        # tzdata calls these zones "+06"/"+03", but the abbreviation's meaning names them.
        ("Asia/Dhaka", "2026-11-27 14:05 BST x", utc(2026, 11, 27, 8, 5)),
        ("Asia/Riyadh", "2026-11-27 14:05 AST x", utc(2026, 11, 27, 11, 5)),
        ("America/Halifax", "2026-11-27 14:05 AST x", utc(2026, 11, 27, 18, 5)),
        ("Europe/London", "2026-11-20 14:05 BST x", utc(2026, 11, 20, 13, 5)),
    ],
)
def test_ambiguous_abbreviations_are_fine_in_their_own_zone(
    zone: str, text: str, expected: datetime
) -> None:
    assert read(text, now=utc(2026, 11, 28, 0, 0), zone=zone) == Moment(
        at=expected, rest="x", zone=zone, date_given=True
    )


@pytest.mark.parametrize(
    ("token", "winter", "summer", "shown_in"),
    [
        ("PT", utc(2026, 1, 15, 17, 0), utc(2026, 7, 15, 16, 0), LA),
        ("MT", utc(2026, 1, 15, 16, 0), utc(2026, 7, 15, 15, 0), "America/Denver"),
        ("CT", utc(2026, 1, 15, 15, 0), utc(2026, 7, 15, 14, 0), CHICAGO),
        ("ET", utc(2026, 1, 15, 14, 0), utc(2026, 7, 15, 13, 0), "America/New_York"),
    ],
)
def test_generic_abbreviations_follow_daylight_saving(
    token: str, winter: datetime, summer: datetime, shown_in: str
) -> None:
    assert read(f"2026-01-15 09:00 {token} x", zone=BERLIN) == Moment(
        at=winter, rest="x", zone=shown_in, date_given=True
    )
    assert read(f"2026-07-15 09:00 {token} x", zone=BERLIN).at == summer


def test_lowercase_west_stays_text_even_where_it_is_the_zone() -> None:
    # Lisbon's summer abbreviation is WEST; only the capitals are read as a zone.
    assert parse("14:05 west region failed", zone="Europe/Lisbon") == (
        utc(2026, 11, 27, 14, 5),
        "west region failed",
    )
    assert parse("14:05 WEST region failed") == (utc(2026, 11, 27, 13, 5), "region failed")


def test_own_zone_abbreviations_only_tzdata_knows_must_be_written_as_tzdata_does() -> None:
    now = utc(2026, 11, 27, 18, 0)  # 04:00 on the 28th in Guam (ChST, +10:00)
    for token in ["ChST", "CHST"]:
        assert parse(f"2026-11-27 14:05 {token} x", now=now, zone="Pacific/Guam") == (
            utc(2026, 11, 27, 4, 5),
            "x",
        )
    # Lowercase it could be a word, and tzdata's rarer names are not in the table.
    assert parse("2026-11-27 14:05 chst x", now=now, zone="Pacific/Guam")[1] == "chst x"
    assert parse("14:05 ChST x")[1] == "ChST x"


def test_cst_is_fine_in_other_zones_that_use_it() -> None:
    # Winnipeg is on CST/CDT too; it is not one of the meanings listed, but its own abbreviation.
    assert read("9:00 CST x", zone="America/Winnipeg") == Moment(
        at=utc(2026, 11, 27, 15, 0), rest="x", zone="America/Winnipeg"
    )
    assert parse("9:00 CST x", zone="Asia/Taipei")[0] == utc(2026, 11, 27, 1, 0)


def test_own_zone_abbreviations_are_those_of_the_moments_year() -> None:
    # Moscow was on MSK = +04:00 from 2011 to 2014; the table's MSK is today's +03:00.
    assert parse("2013-06-01 12:00 MSK x", zone="Europe/Moscow")[0] == utc(2013, 6, 1, 8, 0)
    assert parse("2013-06-01 12:00 MSK x")[0] == utc(2013, 6, 1, 9, 0)
    assert parse("2026-06-01 12:00 MSK x", zone="Europe/Moscow")[0] == utc(2026, 6, 1, 9, 0)


def test_abbreviation_tables_agree_with_tzdata() -> None:
    def offsets(key: str) -> dict[timedelta, set[str]]:
        seen: dict[timedelta, set[str]] = {}
        for day in range(0, 365, 7):
            local = (utc(2026, 1, 1) + timedelta(days=day)).astimezone(ZoneInfo(key))
            seen.setdefault(local.utcoffset() or timedelta(0), set()).add(local.tzname() or "")
        return seen

    def delta(text: str) -> timedelta:
        sign = -1 if text[0] == "-" else 1
        return sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:6]))

    for token, (offset, key) in ZONE_ABBREVIATIONS.items():
        names = offsets("MET" if token in {"MET", "MEST"} else key).get(delta(offset))
        assert names is not None, token
        assert any(name == token or not name.isalpha() for name in names), (token, names)
    for token, key in GENERIC_ZONE_ABBREVIATIONS.items():
        assert token[0] + "ST" in {name for names in offsets(key).values() for name in names}
    for token, meanings in AMBIGUOUS_ZONE_ABBREVIATIONS.items():
        for _, key, offset in meanings:
            assert delta(offset) in offsets(key), (token, key)


def test_configured_zones_still_refuse_abbreviations() -> None:
    with pytest.raises(TimeParseError) as caught:
        get_zone("CET")
    assert str(caught.value) == (
        "“CET” is an abbreviation, not a time zone name. "
        "Use an IANA name such as Europe/Berlin, an offset such as +01:00, or UTC."
    )
    with pytest.raises(TimeParseError, match="Asia/Kolkata"):
        get_zone("IST")


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
        ("yesterday at noon", "yesterday at noon"),
        ("last night 23:10", "last"),
        ("mon noon", "mon noon"),
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


# --- day words before the time ------------------------------------------------------------------

# NOW is Friday 2026-11-27 18:00 UTC (10:00 PST in Los Angeles).


@pytest.mark.parametrize(
    ("text", "expected", "day_word"),
    [
        ("yesterday 14:05 x", utc(2026, 11, 26, 14, 5), "yesterday"),
        ("Yesterday 23:59 x", utc(2026, 11, 26, 23, 59), "yesterday"),
        ("YESTERDAY 0:00 x", utc(2026, 11, 26, 0, 0), "yesterday"),
        ("yesterday at 23:10 x", utc(2026, 11, 26, 23, 10), "yesterday"),
        ("yesterday   2:05pm x", utc(2026, 11, 26, 14, 5), "yesterday"),
        ("today 09:10 x", utc(2026, 11, 27, 9, 10), "today"),
        ("Today 18:00 x", utc(2026, 11, 27, 18, 0), "today"),
        # Today is Friday: a Friday time already past is today, one still ahead a week ago.
        ("friday 14:05 x", utc(2026, 11, 27, 14, 5), "friday"),
        ("fri 14:05 x", utc(2026, 11, 27, 14, 5), "friday"),
        ("Friday 19:00 x", utc(2026, 11, 20, 19, 0), "friday"),
        ("last friday 14:05 x", utc(2026, 11, 27, 14, 5), "friday"),
        ("Last Fri 19:00 x", utc(2026, 11, 20, 19, 0), "friday"),
        ("thursday 23:59 x", utc(2026, 11, 26, 23, 59), "thursday"),
        ("thurs 9:00 x", utc(2026, 11, 26, 9, 0), "thursday"),
        ("wed 9:00 x", utc(2026, 11, 25, 9, 0), "wednesday"),
        ("tues 1pm x", utc(2026, 11, 24, 13, 0), "tuesday"),
        ("monday 09:30 x", utc(2026, 11, 23, 9, 30), "monday"),
        ("Mon 9:30 x", utc(2026, 11, 23, 9, 30), "monday"),
        ("last monday 09:30 x", utc(2026, 11, 23, 9, 30), "monday"),
        ("sun 10:00 x", utc(2026, 11, 22, 10, 0), "sunday"),
        ("saturday 10:00 x", utc(2026, 11, 21, 10, 0), "saturday"),
    ],
)
def test_day_words_before_the_time(text: str, expected: datetime, day_word: str) -> None:
    assert read(text) == Moment(at=expected, rest="x", zone="UTC", day_word=day_word)


def test_day_words_combine_with_zones() -> None:
    assert read("yesterday 23:59 UTC x", zone=LA) == Moment(
        at=utc(2026, 11, 26, 23, 59), rest="x", zone="UTC", day_word="yesterday"
    )
    # It is Friday 19:00 in Berlin: Friday 14:05 Berlin is today, 13:05 UTC.
    assert read("friday 2:05pm Europe/Berlin x", zone=LA) == Moment(
        at=utc(2026, 11, 27, 13, 5), rest="x", zone=BERLIN, day_word="friday"
    )
    assert parse("yesterday 9:00 PST x")[0] == utc(2026, 11, 26, 17, 0)


def test_day_words_use_the_authors_day() -> None:
    # 10:00 PST on Friday: "yesterday" is Thursday in Los Angeles.
    assert parse("yesterday 23:30 x", zone=LA)[0] == utc(2026, 11, 27, 7, 30)
    assert parse("thursday 23:30 x", zone=LA)[0] == utc(2026, 11, 27, 7, 30)


def test_today_later_than_now_is_the_future() -> None:
    with pytest.raises(TimeParseError) as caught:
        parse("today 23:00 x", zone=LA)
    assert str(caught.value) == (
        "That's in the future: 2026-11-27 23:00 PST (it's now 2026-11-27 10:00 PST). "
        "Give a time that has already happened."
    )


def test_yesterday_in_a_dst_gap_is_refused() -> None:
    # 2026-03-08 in Los Angeles: 02:00 PST jumps to 03:00 PDT.
    with pytest.raises(TimeParseError) as caught:
        parse("yesterday 2:30 x", now=utc(2026, 3, 9, 18, 0), zone=LA)
    message = str(caught.value)
    assert message.startswith("02:30 didn't happen on 2026-03-08 in America/Los_Angeles")
    assert "03:30 PDT" in message


def test_weekday_whose_gap_is_still_ahead_today_means_a_week_ago() -> None:
    # 01:00 PST on Sunday 2026-03-08: today's 02:30 lies ahead; last Sunday's existed.
    assert parse("sunday 2:30 x", now=utc(2026, 3, 8, 9, 0), zone=LA)[0] == utc(2026, 3, 1, 10, 30)
    with pytest.raises(TimeParseError, match="didn't happen on 2026-03-08"):
        parse("sunday 2:30 x", now=utc(2026, 3, 8, 18, 0), zone=LA)


def test_day_word_without_a_time_is_refused() -> None:
    with pytest.raises(TimeParseError) as caught:
        parse("yesterday")
    assert str(caught.value) == "Add a time after “yesterday”, e.g. yesterday 14:05."


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("yesterday noon x", "yesterday noon"),
        ("today lunch", "today lunch"),
        ("last 14:05 x", "last"),
        ("last yesterday 14:05", "last"),
        ("todays 14:05", "todays"),
        ("2026-11-27 yesterday 14:05", "2026-11-27 yesterday"),
    ],
)
def test_day_word_garbage_is_refused(text: str, quoted: str) -> None:
    with pytest.raises(TimeParseError) as caught:
        parse(text)
    assert str(caught.value) == f"I couldn't read “{quoted}” as a time. {ACCEPTED_FORMS}"


# --- Moment, read_moment, describe_moment -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("14:05 x", "UTC", Moment(utc(2026, 11, 27, 14, 5), "x", "UTC")),
        ("9:05 x", LA, Moment(utc(2026, 11, 27, 17, 5), "x", LA)),
        ("14:05 x", "utc", Moment(utc(2026, 11, 27, 14, 5), "x", "UTC")),
        ("14:05 x", "europe/berlin", Moment(utc(2026, 11, 27, 13, 5), "x", BERLIN)),
        ("14:05 x", "+05:30", Moment(utc(2026, 11, 27, 8, 35), "x", "+05:30")),
        ("14:05 Z x", LA, Moment(utc(2026, 11, 27, 14, 5), "x", "UTC")),
        ("14:05 GMT x", LA, Moment(utc(2026, 11, 27, 14, 5), "x", "UTC")),
        ("14:05 +01:00 x", LA, Moment(utc(2026, 11, 27, 13, 5), "x", "+01:00")),
        ("14:05 UTC+5:30 x", LA, Moment(utc(2026, 11, 27, 8, 35), "x", "+05:30")),
        ("9:05 -0800 x", LA, Moment(utc(2026, 11, 27, 17, 5), "x", "-08:00")),
        ("14:05 europe/berlin x", LA, Moment(utc(2026, 11, 27, 13, 5), "x", BERLIN)),
        ("14:05 +00:00 x", LA, Moment(utc(2026, 11, 27, 14, 5), "x", "UTC")),
        (
            "2026-11-20 14:05 x",
            "UTC",
            Moment(utc(2026, 11, 20, 14, 5), "x", "UTC", date_given=True),
        ),
        ("23:59 x", "UTC", Moment(utc(2026, 11, 26, 23, 59), "x", "UTC", inferred_yesterday=True)),
        ("today 0:00 x", "UTC", Moment(utc(2026, 11, 27, 0, 0), "x", "UTC", day_word="today")),
    ],
)
def test_read_moment(text: str, zone: str, expected: Moment) -> None:
    assert read(text, zone=zone) == expected
    assert parse(text, zone=zone) == (expected.at, expected.rest)


def test_moment_is_frozen_and_utc() -> None:
    moment = read("9:15 x", zone=LA)
    assert moment.at.tzinfo is UTC
    with pytest.raises(FrozenInstanceError):
        moment.at = NOW  # type: ignore[misc]


def test_read_moment_needs_an_aware_now() -> None:
    with pytest.raises(ValueError):
        read("14:05 x", now=NOW.replace(tzinfo=None))


# 00:10 PST on Wednesday 2026-12-02.
JUST_AFTER_MIDNIGHT = utc(2026, 12, 2, 8, 10)


def test_time_before_midnight_is_inferred_as_yesterday() -> None:
    moment = read("23:59 paged", now=JUST_AFTER_MIDNIGHT, zone=LA)
    assert moment == Moment(
        at=utc(2026, 12, 2, 7, 59), rest="paged", zone=LA, inferred_yesterday=True
    )
    assert (
        describe_moment(moment, zone=LA, now=JUST_AFTER_MIDNIGHT) == "yesterday, 1 Dec, 23:59 PST"
    )


def test_time_earlier_today_is_not_inferred_yesterday() -> None:
    moment = read("00:05 paged", now=JUST_AFTER_MIDNIGHT, zone=LA)
    assert moment.at == utc(2026, 12, 2, 8, 5)
    assert moment.inferred_yesterday is False
    assert describe_moment(moment, zone=LA, now=JUST_AFTER_MIDNIGHT) == "2026-12-02 00:05 PST"


@pytest.mark.parametrize("text", ["yesterday 23:59 x", "2026-12-01 23:59 x", "tue 23:59 x"])
def test_days_that_were_typed_are_not_inferred(text: str) -> None:
    moment = read(text, now=JUST_AFTER_MIDNIGHT, zone=LA)
    assert moment.at == utc(2026, 12, 2, 7, 59)
    assert moment.inferred_yesterday is False
    assert describe_moment(moment, zone=LA, now=JUST_AFTER_MIDNIGHT) == "2026-12-01 23:59 PST"


def test_describe_moment_shown_in_another_zone_where_it_was_not_yesterday() -> None:
    moment = read("23:59 x", now=JUST_AFTER_MIDNIGHT, zone=LA)
    # In Tokyo both the moment and now fall on 2 Dec: the full date is shown instead.
    assert describe_moment(moment, zone="Asia/Tokyo", now=JUST_AFTER_MIDNIGHT) == (
        "2026-12-02 16:59 JST"
    )


def test_describe_moment_yesterday_with_an_offset_zone_and_two_digit_day() -> None:
    now = utc(2026, 11, 12, 0, 30)
    moment = read("23:00 x", now=now, zone="Europe/Istanbul")  # 03:30 on the 12th there
    assert moment.at == utc(2026, 11, 11, 20, 0)
    assert describe_moment(moment, zone="Europe/Istanbul", now=now) == (
        "yesterday, 11 Nov, 23:00 UTC+03:00"
    )


def test_describe_moment_needs_an_aware_now() -> None:
    moment = read("14:05 x")
    with pytest.raises(ValueError):
        describe_moment(moment, zone="UTC", now=NOW.replace(tzinfo=None))


# --- how far back ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018-10-21 22:52 UTC outage", utc(2018, 10, 21, 22, 52)),
        ("2025-11-01 09:00 UTC outage", utc(2025, 11, 1, 9, 0)),
        ("1970-01-01 00:00 UTC outage", utc(1970, 1, 1, 0, 0)),
        ("2018-07-01 09:00 PDT outage", utc(2018, 7, 1, 16, 0)),
    ],
)
def test_full_dates_may_be_long_ago(text: str, expected: datetime) -> None:
    assert parse(text, zone=LA) == (expected, "outage")


def test_old_dates_in_the_authors_zone_use_that_years_rules() -> None:
    assert parse("2018-10-21 15:52 outage", zone=LA)[0] == utc(2018, 10, 21, 22, 52)


@pytest.mark.parametrize(
    "text", ["1969-07-20 20:17 UTC x", "1970-01-01 00:30 +01:00 x", "0001-01-01 00:00 x"]
)
def test_moments_before_1970_are_refused(text: str) -> None:
    with pytest.raises(TimeParseError) as caught:
        parse(text)
    assert str(caught.value) == TOO_OLD
    assert "1970" in TOO_OLD


def test_dates_overflowing_the_calendar_are_out_of_range() -> None:
    with pytest.raises(TimeParseError) as caught:
        parse("9999-12-31 23:59 -05:00 x")
    assert str(caught.value) == OUT_OF_RANGE


def test_without_a_date_a_weekday_reaches_back_at_most_a_week() -> None:
    assert parse("friday 18:02 x")[0] == utc(2026, 11, 20, 18, 2)
    assert NOW - parse("friday 18:02 x")[0] < timedelta(days=7)


# --- starts_with_moment -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14:05 x", True),
        ("2:05pm x", True),
        ("2026-11-27 14:05 x", True),
        ("  9:30 x", True),
        ("yesterday 23:10 x", True),
        ("Yesterday\t23:10", True),
        ("today 9:10", True),
        ("Monday 9:30", True),
        ("mon 9:30", True),
        ("thurs 9:30", True),
        ("last friday 14:05", True),
        ("Last Fri 14:05", True),
        ("yesterday at 23:10", True),
        ("today we decided to roll back", False),
        ("sun is shining", False),
        ("yesterday noon", False),
        ("least five nodes", False),
        ("last night 23:10", False),
        ("last", False),
        ("noon", False),
        ("todays", False),
        ("today", False),
        ("monday's standup", False),
        ("yesterday", False),
        ("", False),
        ("   ", False),
        ("the 14:05 deploy", False),
        ("\u0661\u0664:05", False),  # Arabic-Indic digits are not the digits we read
    ],
)
def test_starts_with_moment(text: str, expected: bool) -> None:
    assert starts_with_moment(text) is expected


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


# --- behaviours the mutation run found unprotected (docs/mutation.md) ---------------------------


def refusal(text: str, **kwargs) -> str:
    """The exact message read_moment refuses ``text`` with."""
    with pytest.raises(TimeParseError) as refused:
        read(text, **kwargs)
    return str(refused.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1pm x", utc(2026, 11, 27, 13, 0)),
        ("1:05am x", utc(2026, 11, 27, 1, 5)),
        ("12am x", utc(2026, 11, 27, 0, 0)),
        ("12:30pm x", utc(2026, 11, 27, 12, 30)),
    ],
)
def test_twelve_hour_clock_times_without_and_with_minutes(text: str, expected: datetime) -> None:
    assert read(text).at == expected


@pytest.mark.parametrize("clock", ["14:60", "13pm", "0am"])
def test_an_impossible_clock_is_refused_by_quoting_it(clock: str) -> None:
    assert refusal(f"{clock} x") == f"I couldn't read “{clock}” as a time. {ACCEPTED_FORMS}"


def test_a_long_unreadable_text_is_quoted_cut_to_forty_characters() -> None:
    assert refusal("x" * 60) == f"I couldn't read “{'x' * 39}…” as a time. {ACCEPTED_FORMS}"


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        ("+14:00", utc(2026, 11, 26, 19, 0)),
        ("+13:00", utc(2026, 11, 26, 20, 0)),
        ("-12:00", utc(2026, 11, 26, 21, 0)),
        ("+05:59", utc(2026, 11, 27, 3, 1)),
    ],
)
def test_the_edge_offsets_are_accepted(offset: str, expected: datetime) -> None:
    moment = read(f"09:00 {offset} x")
    assert moment.at == expected
    assert moment.zone == offset


@pytest.mark.parametrize("offset", ["+14:30", "+15:00", "-12:30", "-13:00", "+05:60"])
def test_offsets_beyond_the_edges_are_refused_with_the_range(offset: str) -> None:
    assert refusal(f"09:00 {offset} x") == (
        f"“{offset}” is not a UTC offset. Offsets run from -12:00 to +14:00."
    )


def test_an_unknown_iana_zone_is_refused_with_examples() -> None:
    assert refusal("14:05 Europe/Atlantis x") == (
        "I don't know the time zone “Europe/Atlantis”. Use an IANA name such as Europe/Berlin "
        "or America/Los_Angeles, or an offset such as +01:00."
    )


def test_a_zone_with_three_parts_is_read() -> None:
    moment = read("14:05 America/Argentina/Buenos_Aires x")
    assert moment.at == utc(2026, 11, 27, 17, 5)
    assert moment.zone == "America/Argentina/Buenos_Aires"


def test_etc_zulu_is_shown_as_utc() -> None:
    assert read("14:05 Etc/Zulu x").zone == "UTC"
    assert zone_label("Etc/Zulu") == "UTC"
    assert zone_label("Etc/Zulu", at=NOW) == "UTC"


def test_a_generic_abbreviation_as_configured_zone_suggests_its_iana_name() -> None:
    with pytest.raises(TimeParseError) as refused:
        get_zone("PT")
    assert str(refused.value) == (
        "“PT” is an abbreviation, not a time zone name. Use an IANA name such as "
        "America/Los_Angeles, an offset such as +01:00, or UTC."
    )


def test_a_zone_whose_abbreviation_is_a_zero_offset_shows_utc_plus_zero() -> None:
    # Antarctica/Troll is "+00" in tzdata in the southern summer.
    assert format_moment(NOW, "Antarctica/Troll") == "2026-11-27 18:00 UTC+00:00"
    assert zone_label("Antarctica/Troll", at=NOW) == "Antarctica/Troll (UTC+00:00)"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: format_moment(datetime(2026, 1, 1), "UTC"),
            "format_moment needs an aware datetime",
        ),
        (
            lambda: MomentFormatter("UTC")(datetime(2026, 1, 1)),
            "format_moment needs an aware datetime",
        ),
        (
            lambda: zone_label("UTC", at=datetime(2026, 1, 1)),
            "zone_label needs an aware datetime for at=",
        ),
        (
            lambda: read_moment("14:05 x", now=datetime(2026, 1, 1), default_zone="UTC"),
            "read_moment needs an aware now",
        ),
        (
            lambda: describe_moment(
                Moment(at=NOW, rest="", zone="UTC"), zone="UTC", now=datetime(2026, 1, 1)
            ),
            "describe_moment needs an aware now",
        ),
    ],
)
def test_naive_datetimes_are_programming_errors_that_say_which_call(call, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        call()
    assert str(refused.value) == message


def test_the_moment_formatter_shows_what_format_moment_shows() -> None:
    shown = MomentFormatter(LA)
    moments = [utc(2026, 11, 1, 8, 30), utc(2026, 11, 1, 9, 30), NOW, NOW + timedelta(seconds=5)]
    assert [shown(moment) for moment in moments] == [format_moment(m, LA) for m in moments]
    assert shown(utc(2026, 11, 1, 8, 30)) == "2026-11-01 01:30 PDT"
    assert shown(utc(2026, 11, 1, 9, 30)) == "2026-11-01 01:30 PST"  # the repeated hour
    assert shown(NOW) == "2026-11-27 10:00 PST"


GAP_MESSAGE = (
    "02:30 didn't happen on 2026-03-08 in America/Los_Angeles: the clocks jumped forward for "
    "daylight saving time. Did you mean 03:30 PDT? You can also add a zone such as UTC or an "
    "offset such as -08:00."
)


def test_a_time_in_the_spring_gap_is_refused_with_the_time_meant() -> None:
    assert refusal("2026-03-08 02:30 x", zone=LA) == GAP_MESSAGE


def test_a_dated_time_in_a_gap_still_ahead_is_refused_as_a_gap_not_as_the_future() -> None:
    # 01:00 PST: the gap at 02:00 is an hour ahead.
    assert refusal("2026-03-08 02:30 x", now=utc(2026, 3, 8, 9, 0), zone=LA) == GAP_MESSAGE


def test_a_time_only_in_todays_gap_still_ahead_is_yesterdays() -> None:
    moment = read("02:30 x", now=utc(2026, 3, 8, 9, 0), zone=LA)
    assert moment.at == utc(2026, 3, 7, 10, 30)
    assert moment.inferred_yesterday is True


def test_a_time_only_in_todays_gap_just_reached_is_refused() -> None:
    # 03:29 PDT: the time the gap resolves to (03:30) is exactly now plus the skew tolerance.
    assert refusal("02:30 x", now=utc(2026, 3, 8, 10, 29), zone=LA) == GAP_MESSAGE


def test_a_weekday_word_followed_by_other_words_is_prose() -> None:
    assert starts_with_moment("friday is 5 days away") is False
    assert starts_with_moment("5€ refund") is True


def test_an_impossible_date_is_refused_by_name() -> None:
    with pytest.raises(TimeParseError) as refused:
        parse_date("feb 30", today=date(2026, 11, 27))
    assert str(refused.value) == (
        "There is no feb 30. Use 2026-12-01, today, tomorrow, friday, in 3 days or dec 1."
    )


def test_feb_29_is_the_next_leap_day() -> None:
    assert parse_date("feb 29", today=date(2026, 11, 27)) == date(2028, 2, 29)
    assert parse_date("feb 29", today=date(2028, 2, 29)) == date(2028, 2, 29)


def test_this_friday_is_the_coming_friday() -> None:
    assert parse_date("this friday", today=date(2026, 11, 25)) == date(2026, 11, 27)
    # Said on the day itself: "this friday" is today, "friday" and "next friday" next week's.
    assert parse_date("this friday", today=date(2026, 11, 27)) == date(2026, 11, 27)
    assert parse_date("friday", today=date(2026, 11, 27)) == date(2026, 12, 4)
    assert parse_date("next friday", today=date(2026, 11, 27)) == date(2026, 12, 4)
    assert parse_date("this monday", today=date(2026, 11, 27)) == date(2026, 11, 30)


def test_a_date_too_far_away_is_refused_as_out_of_range() -> None:
    with pytest.raises(TimeParseError) as refused:
        parse_date("in 99999999 days", today=date(2026, 11, 27))
    assert str(refused.value) == OUT_OF_RANGE
    assert OUT_OF_RANGE == "That date is out of range: use a date near today, such as 2026-11-27."


def test_a_configured_offset_is_read_by_get_zone() -> None:
    # An offset no other test configures, so get_zone's cache cannot answer for it.
    assert get_zone("+05:45") == timezone(timedelta(hours=5, minutes=45))


def test_a_configured_abbreviation_is_refused_in_lower_case_too() -> None:
    with pytest.raises(TimeParseError) as refused:
        get_zone("pst")
    assert str(refused.value) == (
        "“pst” is an abbreviation, not a time zone name. Use an IANA name such as "
        "America/Los_Angeles, an offset such as +01:00, or UTC."
    )


def test_a_word_like_abbreviation_in_lower_case_is_an_unknown_zone() -> None:
    with pytest.raises(TimeParseError) as refused:
        get_zone("west")
    assert str(refused.value) == (
        "I don't know the time zone “west”. Use an IANA name such as Europe/Berlin or "
        "America/Los_Angeles, or UTC."
    )


def test_an_impossible_date_with_a_year_is_refused_by_name() -> None:
    with pytest.raises(TimeParseError) as refused:
        parse_date("feb 30 2027", today=date(2026, 11, 27))
    assert str(refused.value) == (
        "There is no feb 30 2027. Use 2026-12-01, today, tomorrow, friday, in 3 days or dec 1."
    )


def test_a_zone_with_nothing_after_it_leaves_no_rest() -> None:
    moment = read("14:05 UTC")
    assert (moment.at, moment.rest, moment.zone) == (utc(2026, 11, 27, 14, 5), "", "UTC")


def test_a_zone_attached_to_the_time_may_be_followed_by_a_colon() -> None:
    moment = read("14:05Z: deploy")
    assert (moment.at, moment.rest, moment.zone) == (utc(2026, 11, 27, 14, 5), "deploy", "UTC")


def test_an_attached_abbreviation_is_read_in_the_authors_zone() -> None:
    # IST is ambiguous (India, Ireland, Israel); in Asia/Kolkata it is India's.
    moment = read("09:30IST x", zone=KOLKATA)
    assert (moment.at, moment.zone) == (utc(2026, 11, 27, 4, 0), KOLKATA)


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (date(2026, 11, 27), "Friday 27 November 2026"),
        (date(2026, 1, 1), "Thursday 1 January 2026"),
        (date(2026, 12, 31), "Thursday 31 December 2026"),
    ],
)
def test_day_label_names_the_weekday_and_month(day: date, label: str) -> None:
    assert day_label(day) == label


def test_a_zone_with_only_a_numeric_abbreviation_shows_its_offset() -> None:
    # Europe/Istanbul is "+03" in tzdata.
    assert format_moment(NOW, "Europe/Istanbul") == "2026-11-27 21:00 UTC+03:00"
