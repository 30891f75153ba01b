"""What a command costs: Slack Web API calls and SQL statements, asserted so regressions fail.

Counts, not timings: they are the same on a busy machine as on an idle one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from incidentbot.entrypoints.local import LocalStack
from tests.e2e import declare


def web_api_calls(stack: LocalStack) -> list[str]:
    return [c.method for c in stack.workspace.calls() if c.kind == "api"]


@contextmanager
def counted_statements(stack: LocalStack) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        # Only the request's own work: the job runner shares the engine from its threads.
        if not threading.current_thread().name.startswith("incidentbot-job"):
            statements.append(statement)

    event.listen(stack.runtime.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(stack.runtime.engine, "before_cursor_execute", count)


def note_statements(stack: LocalStack, text: str, channel_id: str) -> list[str]:
    """The SQL one note runs while it is being acknowledged."""
    with counted_statements(stack) as statements:
        stack.driver.command("alice", channel_id, f"note {text}")
    return statements


def test_slack_calls_per_command_stay_within_budget(stack: LocalStack):
    declare(stack, "Warm-up incident")  # first use looks up the announcement channel and joins it
    stack.workspace.clear_calls()
    channel = declare(stack, "Search is slow", number=2)
    assert len(web_api_calls(stack)) <= 8, web_api_calls(stack)

    stack.workspace.clear_calls()
    stack.driver.command("alice", channel.id, "note rolled back")
    stack.settle()
    assert len(web_api_calls(stack)) <= 2, web_api_calls(stack)


def test_a_persons_time_zone_is_looked_up_once(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.join("bob", channel.id)
    stack.workspace.clear_calls()
    for minute in (10, 11, 12):
        stack.driver.command("bob", channel.id, f"note at 0:{minute} UTC step {minute}")
    lookups = [c for c in stack.workspace.calls("users.info") if c.params.get("user") == "UBOB"]
    assert len(lookups) == 1


def test_a_note_costs_the_same_sql_on_a_long_timeline(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.settle()
    short = note_statements(stack, "first", channel.id)
    for i in range(150):
        stack.driver.command("alice", channel.id, f"note filler {i}")
    stack.settle()
    long = note_statements(stack, "after many", channel.id)
    assert len(long) == len(short), f"{len(short)} statements on a short timeline, {len(long)} long"
    # Adding an entry must not read the timeline it is added to (that grows with the incident).
    reads = [s for s in long if s.lstrip().upper().startswith("SELECT") and "timeline_entries" in s]
    assert reads == [], reads
