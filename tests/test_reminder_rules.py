"""When reminders are due: the rules alone, with no database and no Slack."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from incidentbot.domain.models import ReminderKind
from incidentbot.domain.reminder_rules import (
    ReminderRules,
    Situation,
    add_business_days,
    parse_business_days,
    parse_clock_time,
    parse_duration,
    parse_per_severity,
    when_due,
)
from incidentbot.infra.config import ConfigError, load_settings

DECLARED = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)  # a Friday
RULES = ReminderRules()
OPEN = Situation(
    severity="SEV1", is_open=True, closed=False, lead="UALICE", recipient="UALICE", since=DECLARED
)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


# ---------------------------------------------------------------------- stakeholder updates


def test_sev1_and_sev2_updates_are_due_after_their_interval_from_the_declaration():
    assert when_due(ReminderKind.UPDATE, OPEN, RULES) == DECLARED + minutes(30)
    sev2 = replace(OPEN, severity="SEV2")
    assert when_due(ReminderKind.UPDATE, sev2, RULES) == DECLARED + minutes(60)


@pytest.mark.parametrize("severity", ["SEV3", "SEV4"])
def test_sev3_and_sev4_get_no_update_reminders_by_default(severity):
    assert when_due(ReminderKind.UPDATE, replace(OPEN, severity=severity), RULES) is None


def test_an_update_counts_from_the_latest_update():
    after_update = replace(OPEN, since=DECLARED + minutes(20))
    assert when_due(ReminderKind.UPDATE, after_update, RULES) == DECLARED + minutes(50)


def test_an_unanswered_nudge_comes_again_after_another_interval():
    nudged = replace(OPEN, last_sent_at=DECLARED + minutes(31))
    assert when_due(ReminderKind.UPDATE, nudged, RULES) == DECLARED + minutes(61)


def test_a_severity_change_changes_the_interval_but_not_where_it_counts_from():
    sev2 = replace(OPEN, severity="SEV2")
    assert when_due(ReminderKind.UPDATE, sev2, RULES) == DECLARED + minutes(60)
    # Raised to SEV1 40 minutes in with no update: already overdue, so it is due at once.
    assert when_due(ReminderKind.UPDATE, replace(sev2, severity="SEV1"), RULES) == (
        DECLARED + minutes(30)
    )
    assert when_due(ReminderKind.UPDATE, replace(sev2, severity="SEV3"), RULES) is None


def test_a_snooze_names_the_next_nudge_until_that_nudge_is_sent():
    sent = DECLARED + minutes(31)
    snoozed = replace(OPEN, last_sent_at=sent, snoozed_until=sent + minutes(15))
    assert when_due(ReminderKind.UPDATE, snoozed, RULES) == sent + minutes(15)
    resent = replace(snoozed, last_sent_at=sent + minutes(15))
    assert when_due(ReminderKind.UPDATE, resent, RULES) == sent + minutes(45)


@pytest.mark.parametrize(
    "change",
    [
        {"is_open": False},  # resolved
        {"is_open": False, "closed": True},
        {"lead": None, "recipient": None},  # nobody to tell; the lead reminder covers it
    ],
)
def test_no_update_reminder_without_an_open_incident_and_a_lead(change):
    assert when_due(ReminderKind.UPDATE, replace(OPEN, **change), RULES) is None


def test_configured_intervals_replace_the_defaults():
    rules = ReminderRules(update_intervals={"SEV3": timedelta(hours=2)})
    assert when_due(ReminderKind.UPDATE, OPEN, rules) is None
    sev3 = replace(OPEN, severity="SEV3")
    assert when_due(ReminderKind.UPDATE, sev3, rules) == DECLARED + timedelta(hours=2)


# ---------------------------------------------------------------------- nobody leads


def test_a_missing_lead_is_pointed_out_once_ten_minutes_after_the_declaration():
    leaderless = replace(OPEN, lead=None, recipient=None)
    assert when_due(ReminderKind.LEAD, leaderless, RULES) == DECLARED + minutes(10)
    told = replace(leaderless, last_sent_at=DECLARED + minutes(10))
    assert when_due(ReminderKind.LEAD, told, RULES) is None
    assert when_due(ReminderKind.LEAD, OPEN, RULES) is None
    assert when_due(ReminderKind.LEAD, leaderless, replace(RULES, lead_after=None)) is None


# ---------------------------------------------------------------------- business days


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (date(2026, 11, 27), 5, date(2026, 12, 4)),  # Friday + 5 = next Friday
        (date(2026, 11, 25), 5, date(2026, 12, 2)),  # Wednesday + 5 = next Wednesday
        (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Friday + 1 = Monday
        (date(2026, 11, 28), 1, date(2026, 11, 30)),  # Saturday + 1 = Monday
        (date(2026, 11, 28), 0, date(2026, 11, 30)),  # a weekend day is not a business day
        (date(2026, 11, 26), 0, date(2026, 11, 26)),
    ],
)
def test_business_days_skip_weekends(start, count, expected):
    assert add_business_days(start, count) == expected


# ---------------------------------------------------------------------- postmortems


def closed(**change) -> Situation:
    situation = replace(
        OPEN, severity="SEV2", is_open=False, closed=True, recipient="UBOB", since=DECLARED
    )
    return replace(situation, **change)


def test_the_postmortem_is_due_in_the_morning_five_business_days_after_the_close():
    berlin = ReminderRules(zone="Europe/Berlin")
    # Closed Friday 27 Nov at 15:00 in Berlin: due Friday 4 Dec, reminded 09:00 Berlin.
    assert when_due(ReminderKind.POSTMORTEM, closed(), berlin) == datetime(
        2026, 12, 4, 8, 0, tzinfo=UTC
    )


def test_the_postmortem_is_reminded_of_each_business_day_after_until_final():
    first = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)  # Friday
    after_first = closed(last_sent_at=first)
    monday = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert when_due(ReminderKind.POSTMORTEM, after_first, RULES) == monday
    after_monday = closed(last_sent_at=monday + minutes(1))
    assert when_due(ReminderKind.POSTMORTEM, after_monday, RULES) == monday + timedelta(days=1)
    assert when_due(ReminderKind.POSTMORTEM, closed(postmortem_final=True), RULES) is None


def test_postmortem_reminders_follow_the_severity_and_need_someone_to_tell():
    assert when_due(ReminderKind.POSTMORTEM, closed(severity="SEV3"), RULES) is None
    assert when_due(ReminderKind.POSTMORTEM, closed(recipient=None), RULES) is None
    resolved_only = closed(closed=False)
    assert when_due(ReminderKind.POSTMORTEM, resolved_only, RULES) is None
    ten_days = ReminderRules(postmortem_days={"SEV2": 10}, morning=time(8, 30))
    assert when_due(ReminderKind.POSTMORTEM, closed(), ten_days) == datetime(
        2026, 12, 11, 8, 30, tzinfo=UTC
    )


# ---------------------------------------------------------------------- action items


def test_an_action_item_is_reminded_of_once_on_its_due_date_unless_done():
    item = replace(OPEN, item_open=True, item_due=date(2026, 11, 30))
    assert when_due(ReminderKind.ACTION_ITEM, item, RULES) == datetime(
        2026, 11, 30, 9, 0, tzinfo=UTC
    )
    reminded = replace(item, last_sent_at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    assert when_due(ReminderKind.ACTION_ITEM, reminded, RULES) is None
    # A new due date starts a new count (since moves), so it is reminded of again.
    moved = replace(reminded, since=datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
    moved = replace(moved, item_due=date(2026, 12, 2))
    assert when_due(ReminderKind.ACTION_ITEM, moved, RULES) == datetime(
        2026, 12, 2, 9, 0, tzinfo=UTC
    )
    assert when_due(ReminderKind.ACTION_ITEM, replace(item, item_open=False), RULES) is None
    assert when_due(ReminderKind.ACTION_ITEM, replace(item, item_due=None), RULES) is None


# ---------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30m", minutes(30)), ("1h", minutes(60)), ("1h30m", minutes(90)), ("90m", minutes(90))],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "0m", "8d", "h", "1.5h", "-5m", "9999h"])
def test_malformed_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_per_severity_values_change_the_defaults_and_off_drops_them():
    defaults = {"SEV1": 1, "SEV2": 2}
    assert parse_per_severity("SEV3=3, sev1=9", defaults=defaults, parse=int) == {
        "SEV1": 9,
        "SEV2": 2,
        "SEV3": 3,
    }
    assert parse_per_severity("2=off", defaults=defaults, parse=int) == {"SEV1": 1}
    assert parse_per_severity("off", defaults=defaults, parse=int) == {}
    for bad in ("SEV5=1", "SEV1", "SEV1=", "=1"):
        with pytest.raises(ValueError):
            parse_per_severity(bad, defaults=defaults, parse=int)
    assert parse_business_days("5d") == parse_business_days("5") == 5
    assert parse_clock_time("9:30") == time(9, 30)


def test_reminder_settings_are_read_from_the_environment():
    settings = load_settings(
        {
            "INCIDENTBOT_UPDATE_REMINDERS": "SEV1=15m,SEV2=off,SEV3=2h",
            "INCIDENTBOT_LEAD_REMINDER": "off",
            "INCIDENTBOT_POSTMORTEM_DUE": "SEV1=3,SEV3=10d",
            "INCIDENTBOT_REMINDER_TIME": "08:30",
            "INCIDENTBOT_TIMEZONE": "Europe/Berlin",
        },
        dotenv=None,
    )
    rules = settings.reminder_rules
    assert rules.update_intervals == {"SEV1": minutes(15), "SEV3": timedelta(hours=2)}
    assert rules.lead_after is None
    assert rules.postmortem_days == {"SEV1": 3, "SEV2": 5, "SEV3": 10}
    assert (rules.morning, rules.zone) == (time(8, 30), "Europe/Berlin")
    defaults = load_settings({}, dotenv=None).reminder_rules
    assert defaults.update_intervals == {"SEV1": minutes(30), "SEV2": minutes(60)}
    assert defaults.lead_after == minutes(10)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("INCIDENTBOT_UPDATE_REMINDERS", "SEV1=30"),
        ("INCIDENTBOT_UPDATE_REMINDERS", "SEV9=30m"),
        ("INCIDENTBOT_LEAD_REMINDER", "ten minutes"),
        ("INCIDENTBOT_POSTMORTEM_DUE", "SEV1=five"),
        ("INCIDENTBOT_REMINDER_TIME", "25:00"),
    ],
)
def test_a_malformed_reminder_setting_stops_start_up_with_one_line_naming_it(variable, value):
    with pytest.raises(ConfigError) as raised:
        load_settings({variable: value}, dotenv=None)
    message = str(raised.value)
    assert message.startswith(f"{variable} is malformed: expected ")
    assert "\n" not in message
