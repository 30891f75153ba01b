"""``/incident stats`` in the core: counts by severity, exact medians and p90s, the window, who
sees private incidents, and the reply's table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from incidentbot import services
from incidentbot.domain.errors import IncidentError
from incidentbot.domain.insights import Spread, speed_report, spread
from incidentbot.domain.models import EntryKind, Incident, RoleAssignment, Status, TimelineEntry
from incidentbot.slack.stats_reply import NO_DATA, short_duration, stats_reply

NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)


def minutes(value: float) -> timedelta:
    return timedelta(minutes=value)


def make(
    declared_at: datetime,
    *,
    severity: str = "SEV3",
    ack: float | None = None,
    ack_by_role: bool = False,
    mitigate: float | None = None,
    resolve: float | None = None,
    impact_before: float = 0,
    raised_to: str | None = None,
) -> Incident:
    """Declared by UALICE at ``declared_at``. ``ack``: minutes after declaring that UBOB acted
    (a note, or handing out a role); ``mitigate``/``resolve``: minutes from impact start."""
    impact = declared_at - minutes(impact_before)
    resolved_at = impact + minutes(resolve) if resolve is not None else None
    incident = Incident(
        number=1,
        title="t",
        severity=severity,
        status=Status.RESOLVED if resolved_at else Status.INVESTIGATING,
        private=False,
        declared_by="UALICE",
        declared_at=declared_at,
        impact_started_at=impact,
        mitigated_at=impact + minutes(mitigate) if mitigate is not None else None,
        resolved_at=resolved_at,
    )
    incident.roles = [
        RoleAssignment(role="lead", user_id="UALICE", assigned_by="UALICE", started_at=declared_at)
    ]
    incident.timeline = [
        TimelineEntry(
            occurred_at=declared_at,
            recorded_at=declared_at,
            kind=EntryKind.DECLARED,
            author_id="UALICE",
            text="declared",
            details={"severity": severity},
        )
    ]
    if ack is not None and ack_by_role:
        incident.roles.append(
            RoleAssignment(
                role="comms",
                user_id="UCAROL",
                assigned_by="UBOB",
                started_at=declared_at + minutes(ack),
            )
        )
        incident.timeline.append(
            TimelineEntry(
                occurred_at=declared_at + minutes(ack),
                recorded_at=declared_at + minutes(ack),
                kind=EntryKind.ROLE,
                author_id="UBOB",
                text="<@UCAROL> is now comms",
                details={"role": "comms", "to": "UCAROL"},
            )
        )
    elif ack is not None:
        incident.timeline.append(
            TimelineEntry(
                occurred_at=declared_at + minutes(ack),
                recorded_at=declared_at + minutes(ack),
                kind=EntryKind.NOTE,
                author_id="UBOB",
                text="looking",
            )
        )
    if raised_to is not None:
        incident.timeline.append(
            TimelineEntry(
                occurred_at=declared_at + minutes(1),
                recorded_at=declared_at + minutes(1),
                kind=EntryKind.SEVERITY,
                author_id="UALICE",
                text=f"Severity {severity} → {raised_to}",
                details={"from": severity, "to": raised_to},
            )
        )
    return incident


# --- median and p90 ---------------------------------------------------------------------------


def test_median_and_nearest_rank_p90_of_ten_durations():
    values = [minutes(m) for m in (10, 1, 9, 2, 8, 3, 7, 4, 6, 5)]
    # Median of an even count: the mean of the middle two; p90: the 9th of 10 in order.
    assert spread(values) == Spread(median=minutes(5.5), p90=minutes(9), samples=10)


def test_p90_of_eleven_durations_is_the_tenth():
    values = [minutes(m) for m in range(1, 12)]
    assert spread(values) == Spread(median=minutes(6), p90=minutes(10), samples=11)


def test_p90_of_few_durations_is_the_slowest():
    assert spread([minutes(3), minutes(30)]) == Spread(minutes(16.5), minutes(30), 2)
    assert spread([minutes(7)]) == Spread(minutes(7), minutes(7), 1)
    assert spread([]) == Spread(None, None, 0)


# --- the report -------------------------------------------------------------------------------


def test_report_counts_by_severity_and_gives_exact_medians_and_p90s():
    day = NOW - timedelta(days=5)
    sev2 = [
        make(day, severity="SEV2", ack=a, mitigate=m, resolve=r)
        for a, m, r in ((2, 20, 60), (4, 30, 90), (6, 40, 120), (30, 50, 600))
    ]
    sev1 = [
        make(day, severity="SEV1", ack=1, ack_by_role=True, mitigate=15, resolve=45),
        make(day, severity="SEV1", ack=3, impact_before=10, mitigate=25),  # open, mitigated
        make(day, severity="SEV1"),  # open, nobody has answered yet
    ]
    report = speed_report([*sev2, *sev1], now=NOW, days=30)

    assert [(row.label, row.count) for row in report.rows] == [
        ("SEV1", 3),
        ("SEV2", 4),
        ("SEV3", 0),
        ("SEV4", 0),
    ]
    one, two, three, four = report.rows
    assert two.acknowledge == Spread(minutes(5), minutes(30), 4)
    assert two.mitigate == Spread(minutes(35), minutes(50), 4)
    assert two.resolve == Spread(minutes(105), minutes(600), 4)
    # Acknowledging counts from declaration; mitigating and resolving from impact start.
    assert one.acknowledge == Spread(minutes(2), minutes(3), 2)
    assert one.mitigate == Spread(minutes(20), minutes(25), 2)
    assert one.resolve == Spread(minutes(45), minutes(45), 1)
    for empty in (three, four):
        assert empty.acknowledge == empty.mitigate == empty.resolve == Spread(None, None, 0)

    total = report.total
    assert (total.label, total.count) == ("All", 7)
    assert total.acknowledge == Spread(minutes(3.5), minutes(30), 6)
    assert total.mitigate == Spread(minutes(27.5), minutes(50), 6)
    assert total.resolve == Spread(minutes(90), minutes(600), 5)
    assert (report.since, report.until, report.days) == (NOW - timedelta(days=30), NOW, 30)


def test_the_window_counts_incidents_declared_in_it_only():
    incidents = [
        make(NOW - timedelta(days=31), severity="SEV2", ack=100, resolve=1000),
        make(NOW - timedelta(days=29), severity="SEV2", ack=10, resolve=100),
        make(NOW + timedelta(minutes=5), severity="SEV2", ack=50),
    ]
    month = speed_report(incidents, now=NOW, days=30)
    assert month.total.count == 1 and month.total.acknowledge.median == minutes(10)
    quarter = speed_report(incidents, now=NOW, days=90)
    assert quarter.total.count == 2
    assert quarter.total.acknowledge == Spread(minutes(55), minutes(100), 2)


def test_an_incident_counts_under_the_most_severe_level_it_reached():
    report = speed_report(
        [make(NOW - timedelta(days=1), severity="SEV3", raised_to="SEV1", resolve=30)],
        now=NOW,
        days=30,
    )
    assert [row.count for row in report.rows] == [1, 0, 0, 0]


# --- the window people type -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "days"),
    [("", 30), ("30d", 30), ("90d", 90), ("90D", 90), ("7d", 7), ("14", 14), ("7 days", 7)]
    + [("1 day", 1), ("365d", 365)],
)
def test_windows_people_type(typed, days):
    assert services.parse_window(typed) == days


@pytest.mark.parametrize("typed", ["0d", "366d", "2w", "last month", "-5d", "30d 90d", "9" * 30])
def test_other_windows_are_refused_with_what_is_accepted(typed):
    with pytest.raises(IncidentError) as refused:
        services.parse_window(typed)
    assert "from 1 to 365" in refused.value.message
    assert "`/incident stats 90d`" in refused.value.message
    assert len(refused.value.message) < 300


# --- against the database ---------------------------------------------------------------------


def _declare(uow_factory, *, title: str, private: bool = False, by: str = "UALICE") -> int:
    with uow_factory() as uow:
        incident = services.declare_incident(uow=uow, title=title, declared_by=by, private=private)
        incident.channel_id = f"C{incident.number:04d}"
        uow.commit()
        return incident.number


def _note(uow_factory, number: int, *, by: str) -> None:
    with uow_factory() as uow:
        incident = services.get_incident(uow=uow, number=number)
        services.add_note(uow=uow, incident=incident, author_id=by, text="on it")
        uow.commit()


def _resolve(uow_factory, number: int) -> None:
    with uow_factory() as uow:
        incident = services.get_incident(uow=uow, number=number)
        services.resolve(uow=uow, incident=incident, resolved_by="UALICE", text=None)
        uow.commit()


def test_stats_from_the_database_count_private_incidents_only_for_their_members(uow_factory, clock):
    old = _declare(uow_factory, title="Long ago")
    clock.advance(days=40)
    public = _declare(uow_factory, title="Checkout errors")
    secret = _declare(uow_factory, title="Credential leak", private=True, by="UCAROL")
    clock.advance(minutes=6)
    _note(uow_factory, public, by="UBOB")
    _note(uow_factory, secret, by="UDAN")
    clock.advance(minutes=54)
    _resolve(uow_factory, public)
    _resolve(uow_factory, secret)
    assert old == 1

    def stats(viewer: str, days: int = 30):
        with uow_factory(read_only=True) as uow:
            return services.incident_stats(uow=uow, viewer=viewer, days=days)

    outsider = stats("UERIK")
    assert outsider.total.count == 1
    assert outsider.rows[2].acknowledge == Spread(minutes(6), minutes(6), 1)
    assert outsider.rows[2].resolve == Spread(minutes(60), minutes(60), 1)

    member = stats("UCAROL")
    assert member.total.count == 2 and member.rows[2].count == 2
    assert member.rows[2].resolve == Spread(minutes(60), minutes(60), 2)

    # The window reaches back to the first incident only when asked to.
    assert stats("UERIK", days=90).total.count == 2
    assert stats("UERIK", days=90).rows[2].acknowledge.samples == 1


def test_metrics_from_the_few_entries_stats_read_equal_those_from_whole_timelines(
    uow_factory, clock
):
    """``/incident stats`` reads only what metrics need (``metric_timelines``); for incidents
    with every kind of history the figures must be the ones the whole timeline gives."""
    from incidentbot.domain.metrics import compute_metrics
    from incidentbot.domain.models import Severity
    from incidentbot.services.timeline import metric_timelines, read_timeline

    quiet = _declare(uow_factory, title="Nobody else came")
    busy = _declare(uow_factory, title="Everyone came")
    captured = _declare(uow_factory, title="A message said it first")
    for _ in range(3):
        clock.advance(minutes=2)
        _note(uow_factory, quiet, by="UALICE")
        _note(uow_factory, busy, by="UALICE")
    with uow_factory() as uow:
        incident = services.get_incident(uow=uow, number=busy)
        services.change_severity(
            uow=uow, incident=incident, severity=Severity.SEV1, changed_by="UALICE"
        )
        uow.commit()
    clock.advance(minutes=1)
    with uow_factory() as uow:
        # Said by someone else before Bob, then deleted: no longer a response.
        incident = services.get_incident(uow=uow, number=busy)
        slip = services.add_note(uow=uow, incident=incident, author_id="UEVE", text="wrong room")
        uow.commit()
    with uow_factory() as uow:
        incident = services.get_incident(uow=uow, number=busy)
        services.delete_entry(uow=uow, incident=incident, number=slip.number, deleted_by="UEVE")
        uow.commit()
    clock.advance(minutes=2)
    _note(uow_factory, busy, by="UBOB")  # the first response, by recording time
    clock.advance(minutes=2)
    with uow_factory() as uow:
        incident = services.get_incident(uow=uow, number=busy)
        # Backdated to before Bob's note: a response by when it was typed, not when it says.
        services.add_backdated_note(
            uow=uow,
            incident=incident,
            author_id="UDAN",
            moment_and_text=f"{(clock.now - minutes(5)):%H:%M} graphs went red",
            author_zone="UTC",
        )
        services.change_severity(
            uow=uow, incident=incident, severity=Severity.SEV2, changed_by="UBOB"
        )
        uow.commit()
    _resolve(uow_factory, busy)
    clock.advance(minutes=10)
    with uow_factory() as uow:
        incident = services.get_incident(uow=uow, number=busy)
        services.reopen(uow=uow, incident=incident, reopened_by="UALICE")
        uow.commit()
    clock.advance(minutes=10)
    _resolve(uow_factory, busy)
    with uow_factory() as uow:
        incident = services.get_incident(uow=uow, number=captured)
        # Erik's message, pinned by Alice later, was written before anyone else acted.
        services.capture_message(
            uow=uow,
            incident=incident,
            channel_id=incident.channel_id,
            ts=f"{(clock.now - minutes(1)).timestamp():.6f}",
            message_author_id="UERIK",
            text="checkout is down for me",
            marked_by="UALICE",
        )
        uow.commit()
    clock.advance(minutes=1)
    _note(uow_factory, captured, by="UBOB")

    with uow_factory(read_only=True) as uow:
        incidents = [services.get_incident(uow=uow, number=n) for n in (quiet, busy, captured)]
        reduced = metric_timelines(uow=uow, incident_ids=[i.id for i in incidents])
        read = 0
        for incident in incidents:
            whole = read_timeline(uow=uow, incident=incident)
            read += len(whole)
            assert compute_metrics(
                incident, now=clock.now, timeline=reduced[incident.id]
            ) == compute_metrics(incident, now=clock.now, timeline=whole)
        assert sum(len(rows) for rows in reduced.values()) < read
    assert metric_timelines(uow=uow, incident_ids=[]) == {}


# --- the reply --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "shown"),
    [
        (None, NO_DATA),
        (timedelta(seconds=45), "45s"),
        (minutes(12), "12m"),
        (minutes(65), "1h5m"),
        (minutes(120), "2h"),
        (timedelta(days=2, hours=3, minutes=10), "2d3h"),
        (timedelta(days=1, minutes=5), "1d"),
        (-minutes(5), "-5m"),
    ],
)
def test_short_durations(delta, shown):
    assert short_duration(delta) == shown


def test_the_reply_is_a_monospace_table_with_dashes_where_there_is_no_data():
    day = NOW - timedelta(days=2)
    report = speed_report(
        [
            make(day, severity="SEV2", ack=4, resolve=65),
            make(day, severity="SEV2", ack=10, resolve=130),
            make(day, severity="SEV1"),
        ],
        now=NOW,
        days=30,
    )
    text = stats_reply(report, zone="Europe/Berlin")
    lines = text.splitlines()
    assert lines[0] == "*Incidents declared in the last 30 days* (since 2026-11-08 13:00 CET): 3"
    table = text.split("```")[1].strip("\n").splitlines()
    assert table[0].split() == ["acknowledge", "mitigate", "resolve"]
    assert table[1].split() == ["count", "median", "p90", "median", "p90", "median", "p90"]
    assert [row.split() for row in table[2:]] == [
        ["SEV1", "1", *[NO_DATA] * 6],
        ["SEV2", "2", "7m", "10m", "1h37m", "2h10m", "1h37m", "2h10m"],
        ["SEV3", "0", *[NO_DATA] * 6],
        ["SEV4", "0", *[NO_DATA] * 6],
        ["All", "3", "7m", "10m", "1h37m", "2h10m", "1h37m", "2h10m"],
    ]
    # Columns line up: each figure starts where its heading does.
    assert table[3].index("7m") == table[1].index("median")
    assert max(len(row) for row in table) <= 60
    assert "from declaration to the first action by someone else" in text
    assert "Private incidents count only if you are in their channel." in text


def test_the_reply_says_so_when_there_were_no_incidents():
    text = stats_reply(speed_report([], now=NOW, days=1), zone="UTC")
    assert text.startswith("No incidents were declared in the last day (since 2026-12-07 12:00")
    assert "```" not in text
