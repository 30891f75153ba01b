"""Years of history: the views people open cost what they cost on a fresh install.

The history is written straight into the bot's database (closed incidents with a declaration,
a first response and their resolution), as a bot that has run for a long time would hold it;
the views are then opened as people open them, through Slack and the signed web link.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.error import HTTPError

from sqlalchemy import insert, select, update

from incidentbot.domain.models import Counter, Incident, RoleAssignment, TimelineEntry
from incidentbot.entrypoints.local import LocalStack
from tests.e2e import declare
from tests.test_costs import counted_statements
from tests.test_e2e_web import browser, link_from_slack

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")


def add_history(
    stack: LocalStack, count: int, *, titles: str = "Old trouble {n}", days_ago: int = 1
) -> None:
    """``count`` closed incidents, one every six hours back from ``days_ago`` days ago,
    numbered on from the counter (which is moved on past them)."""
    lead = stack.workspace.user_by_name("bob").id
    other = stack.workspace.user_by_name("chandra").id
    now = stack.runtime.deps.uow_factory().now()
    with stack.runtime.engine.begin() as conn:
        first = (
            conn.scalar(
                update(Counter).values(value=Counter.value + count).returning(Counter.value)
            )
            - count
            + 1
        )
        for index in range(count):
            number = first + index
            declared = now - timedelta(days=days_ago, hours=6 * (count - index))
            resolved = declared + timedelta(minutes=30 + index % 50)
            incident_id = conn.scalar(
                insert(Incident)
                .values(
                    number=number,
                    title=titles.format(n=number),
                    severity=SEVERITIES[index % 4],
                    status="closed",
                    private=False,
                    declared_by=lead,
                    channel_id=f"CHIST{number:06d}",
                    channel_name=f"inc-{number}-old-trouble",
                    declared_at=declared,
                    impact_started_at=declared - timedelta(minutes=5),
                    mitigated_at=resolved,
                    resolved_at=resolved,
                    closed_at=resolved + timedelta(hours=1),
                    reopened_count=0,
                    last_entry_number=3,
                )
                .returning(Incident.id)
            )
            entries = [
                (
                    "declared",
                    lead,
                    declared,
                    f"Incident declared ({SEVERITIES[index % 4]})",
                    {"severity": SEVERITIES[index % 4]},
                ),
                ("note", other, declared + timedelta(minutes=3), "Looking at the graphs", None),
                (
                    "status change",
                    lead,
                    resolved,
                    "Status changed from investigating to resolved",
                    {"from": "investigating", "to": "resolved"},
                ),
            ]
            conn.execute(
                insert(TimelineEntry),
                [
                    {
                        "incident_id": incident_id,
                        "number": position,
                        "kind": kind,
                        "author_id": author,
                        "occurred_at": when,
                        "recorded_at": when,
                        "text": text,
                        "details": details,
                        "also_marked_by": [],
                    }
                    for position, (kind, author, when, text, details) in enumerate(entries, 1)
                ],
            )
            conn.execute(
                insert(RoleAssignment).values(
                    incident_id=incident_id,
                    role="lead",
                    user_id=lead,
                    assigned_by=lead,
                    started_at=declared,
                )
            )


def numbers_listed(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<a href="/incidents/(\d+)">INC-', html)]


def open_list(stack: LocalStack, opener, query: str = "") -> str:  # type: ignore[no-untyped-def]
    with opener.open(f"{stack.base_url}/{query}") as page:
        return page.read().decode()


def signed_in(stack: LocalStack):  # type: ignore[no-untyped-def]
    opener = browser()
    opener.open(link_from_slack(stack, "alice", "#general")).read()
    return opener


def test_the_incident_list_shows_fifty_at_a_time_open_ones_first(stack: LocalStack):
    add_history(stack, 120)
    declare(stack, "Checkout is down", number=121)
    add_history(stack, 9)  # closed since, and newer: still after the open one
    opener = signed_in(stack)

    first = open_list(stack, opener)
    assert numbers_listed(first) == [121, *range(130, 121, -1), *range(120, 80, -1)]
    assert "Showing 1–50 of 130." in first and "Page 1 of 3" in first
    assert 'rel="prev"' not in first
    older = re.search(r'<a href="([^"]+)" rel="next">', first)
    assert older is not None
    second = open_list(stack, opener, older.group(1).replace("&amp;", "&").lstrip("/"))
    assert numbers_listed(second) == list(range(80, 30, -1))
    assert "Showing 51–100 of 130." in second and 'rel="prev"' in second

    last = open_list(stack, opener, "?page=3")
    assert numbers_listed(last) == list(range(30, 0, -1))
    assert 'rel="next"' not in last
    # Past the end is the last page; anything that is not a page number is the first.
    assert numbers_listed(open_list(stack, opener, "?page=999999")) == numbers_listed(last)
    for odd in ("?page=abc", "?page=-2", "?page=0", "?page=" + "9" * 40):
        assert numbers_listed(open_list(stack, opener, odd)) == numbers_listed(first)


def test_the_incident_list_filters_in_the_database_and_pages_what_matches(stack: LocalStack):
    add_history(stack, 70, titles="Search slow {n}")
    add_history(stack, 3, titles="Disk 100%_full {n}")
    opener = signed_in(stack)

    found = open_list(stack, opener, "?q=search+SLOW&severity=SEV2")
    # Every fourth incident is SEV2: 2, 6, ..., 70, newest first.
    assert numbers_listed(found) == list(range(70, 1, -4))
    assert "Showing 1–18 of 18." in found and "Page 1 of" not in found
    # % and _ are letters in a search, not patterns.
    assert numbers_listed(open_list(stack, opener, "?q=100%25_")) == [73, 72, 71]
    assert numbers_listed(open_list(stack, opener, "?q=100%25x")) == []
    assert numbers_listed(open_list(stack, opener, "?q=%25")) == [73, 72, 71]
    assert numbers_listed(open_list(stack, opener, "?q=slow_7")) == []
    assert numbers_listed(open_list(stack, opener, "?q=disk&page=2")) == [73, 72, 71]
    paged = open_list(stack, opener, "?q=slow&status=closed")
    assert "Showing 1–50 of 70." in paged
    assert 'href="/?q=slow&amp;status=closed&amp;page=2" rel="next"' in paged
    # A filter value no incident can have is ignored rather than matching nothing.
    assert "of 73." in open_list(stack, opener, "?status=bogus&severity=SEV9")


def test_the_incident_list_runs_the_same_sql_for_a_long_history(stack: LocalStack):
    opener = signed_in(stack)
    add_history(stack, 60)
    with counted_statements(stack) as short:
        assert len(numbers_listed(open_list(stack, opener))) == 50
    add_history(stack, 240)
    with counted_statements(stack) as long:
        assert len(numbers_listed(open_list(stack, opener))) == 50
    assert len(long) == len(short), (short, long)


def test_insights_reads_its_window_and_a_longer_history_changes_nothing_on_it(stack: LocalStack):
    add_history(stack, 80, days_ago=40)  # from 60 to 40 days ago: inside the 90 days
    opener = signed_in(stack)
    with opener.open(f"{stack.base_url}/insights") as page:
        before = page.read().decode()
    for severity in SEVERITIES:
        assert f"{severity} (20)" in before
    add_history(stack, 200, days_ago=120)
    with counted_statements(stack) as statements, opener.open(f"{stack.base_url}/insights") as page:
        after = page.read().decode()
    assert after == before
    # The window's incidents and what metrics read of their timelines: nothing per incident.
    assert len(statements) <= 4, statements


def test_stats_and_list_run_the_same_sql_for_a_long_history(stack: LocalStack):
    declare(stack, "Checkout is down")
    add_history(stack, 20)

    def sql_of(command: str) -> list[str]:
        with counted_statements(stack) as statements:
            response = stack.driver.command("alice", "#general", command)
            assert response.status == 200
        return statements

    commands = ("stats", "stats 365d", "list")
    for command in commands:  # the first look-ups of the asker are cached from then on
        sql_of(command)
    short = {command: sql_of(command) for command in commands}
    add_history(stack, 300, days_ago=40)
    long = {command: sql_of(command) for command in commands}
    assert {c: len(s) for c, s in long.items()} == {c: len(s) for c, s in short.items()}


def add_entries(stack: LocalStack, number: int, count: int) -> None:
    """``count`` notes by bob on incident ``number``, a second apart after its declaration."""
    bob = stack.workspace.user_by_name("bob").id
    with stack.runtime.engine.begin() as conn:
        incident = conn.execute(
            select(Incident.id, Incident.declared_at, Incident.last_entry_number).where(
                Incident.number == number
            )
        ).one()
        conn.execute(
            insert(TimelineEntry),
            [
                {
                    "incident_id": incident.id,
                    "number": incident.last_entry_number + index,
                    "kind": "note",
                    "author_id": bob,
                    "occurred_at": incident.declared_at + timedelta(seconds=index),
                    "recorded_at": incident.declared_at + timedelta(seconds=index),
                    "text": f"step {incident.last_entry_number + index}",
                    "also_marked_by": [],
                }
                for index in range(1, count + 1)
            ],
        )
        conn.execute(
            update(Incident)
            .where(Incident.id == incident.id)
            .values(last_entry_number=Incident.last_entry_number + count)
        )


def entry_numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"<tr id=\"entry-\d+\"[^>]*><td>#(\d+)</td>", html)]


def test_a_long_timeline_is_shown_two_hundred_entries_a_page(stack: LocalStack):
    declare(stack, "Checkout is down")
    add_entries(stack, 1, 449)  # with the declaration and what declaring added
    opener = signed_in(stack)
    with opener.open(f"{stack.base_url}/incidents/1") as page:
        first = page.read().decode()
    total = int(re.search(r"of ([\d,]+) \(page 1 of 3\)", first).group(1).replace(",", ""))
    assert 450 <= total <= 460
    shown = entry_numbers(first)
    assert len(shown) == 200 and shown[0] == 1
    assert 'href="/incidents/1?page=2#timeline" rel="next"' in first
    assert 'href="/incidents/1?page=3#timeline">Latest' in first
    with opener.open(f"{stack.base_url}/incidents/1?page=3") as page:
        latest = page.read().decode()
    assert entry_numbers(latest) == sorted(entry_numbers(latest))
    assert len(entry_numbers(latest)) == total - 400 and max(entry_numbers(latest)) == total
    assert 'rel="prev"' in latest and 'rel="next"' not in latest
    # The whole timeline is still on the picture, and pages past the end show the latest.
    assert "Timeline at a glance" in latest
    with opener.open(f"{stack.base_url}/incidents/1?page=99") as page:
        assert entry_numbers(page.read().decode()) == entry_numbers(latest)


def test_an_incident_page_and_a_missing_postmortem_cost_the_same_sql_for_a_long_timeline(
    stack: LocalStack,
):
    declare(stack, "Checkout is down")
    opener = signed_in(stack)

    def sql_of(path: str, status: int = 200) -> list[str]:
        with counted_statements(stack) as statements:
            try:
                with opener.open(f"{stack.base_url}{path}") as page:
                    assert page.status == status
            except HTTPError as error:
                assert error.code == status
        return statements

    add_entries(stack, 1, 30)
    short = [sql_of("/incidents/1"), sql_of("/incidents/1/postmortem", 404)]
    add_entries(stack, 1, 900)
    long = [sql_of("/incidents/1"), sql_of("/incidents/1/postmortem", 404)]
    assert [len(s) for s in long] == [len(s) for s in short]
    # A postmortem that is not there: the incident and its postmortems, nothing of the record.
    assert len(long[1]) <= 3, long[1]
    assert not any("timeline_entries" in statement for statement in long[1])
