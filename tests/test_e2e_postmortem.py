"""Closing an incident uploads its postmortem to the channel, stored as a version."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from incidentbot.domain.models import Postmortem
from incidentbot.entrypoints.local import LocalStack
from tests.e2e import declare, ephemeral_texts, mention
from tests.test_postmortem import SECTIONS as CONTRACT_SECTIONS


def uploaded_postmortems(stack: LocalStack, channel_id: str) -> list[tuple[str, str]]:
    return [
        (f.name, (f.content or b"").decode())
        for f in stack.workspace.files_in(channel_id)
        if f.name.endswith("-postmortem.md")
    ]


def test_close_uploads_the_postmortem_with_every_section_and_metric(stack: LocalStack):
    channel = declare(stack, "Checkout API returning 500s")
    for person in ("bob", "dana"):
        stack.driver.join(person, channel.id)
    run = stack.driver.command
    run("alice", channel.id, "summary Checkout returned 500s after deploy 4411")
    run("alice", channel.id, f"role comms {mention('UDANA')}")
    run("bob", channel.id, "sev 2")
    run("bob", channel.id, "note Rolled back deploy 4411")
    run("alice", channel.id, f"action Add a canary for checkout {mention('UBOB')}")
    run("alice", channel.id, "status monitoring")
    run("alice", channel.id, "resolve Error rate back to baseline")
    assert run("alice", channel.id, "close").status == 200
    stack.settle()

    ((name, markdown),) = uploaded_postmortems(stack, channel.id)
    assert name == "INC-1-postmortem.md"
    assert (
        markdown.splitlines()[0].startswith("# ")
        and "Checkout API returning 500s" in (markdown.splitlines()[0])
    )
    headings = [line.lstrip("# ").strip() for line in markdown.splitlines() if line.startswith("#")]
    positions = [
        next(i for i, h in enumerate(headings) if h.startswith(s)) for s in CONTRACT_SECTIONS
    ]
    assert positions == sorted(positions)
    for fact in (
        "SEV2",
        "Checkout returned 500s after deploy 4411",
        "Rolled back deploy 4411",
        "Add a canary for checkout",
        "bob",
        "dana",
        "Time to detect",
        "Time to mitigate",
        "Time to resolve",
    ):
        assert fact in markdown, fact
    assert "America/Los_Angeles" in markdown or re.search(r"\bP[SD]T\b", markdown)

    with stack.runtime.uow() as uow:
        (stored,) = uow.session.query(Postmortem).all()
        assert (stored.version, stored.trigger, stored.generated_by) == (1, "close", "UALICE")
        assert stored.markdown == markdown and stored.slack_file_id
    told = ephemeral_texts(stack, "alice", channel.id)
    assert "is closed" in told[-2]
    assert "version 1 (default template) is ready" in told[-1]


def test_postmortem_timeline_is_in_the_order_things_happened(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    la = ZoneInfo("America/Los_Angeles")
    earlier = (datetime.now(UTC) - timedelta(minutes=30)).astimezone(la)
    stack.driver.command("alice", channel.id, "note second: failover started")
    stack.driver.command("alice", channel.id, f"note at {earlier:%H:%M} first: alerts fired")
    stack.driver.command("alice", channel.id, "close")
    stack.settle()
    ((_, markdown),) = uploaded_postmortems(stack, channel.id)
    timeline = markdown.split("\n## Timeline\n", 1)[1].split("\n## ", 1)[0]
    assert timeline.index("first: alerts fired") < timeline.index("Incident declared")
    assert timeline.index("Incident declared") < timeline.index("second: failover started")


def test_typed_text_that_looks_like_templates_or_mass_mentions_is_harmless(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.command("alice", channel.id, "note {{ 7*7 }} {% for x in y %} <!channel> <!here>")
    stack.driver.command("alice", channel.id, "close")
    stack.settle()
    echoed = [m.text for m in stack.workspace.messages(channel.id) if "{{ 7*7 }}" in m.text]
    assert echoed and all("<!channel>" not in t and "<!here>" not in t for t in echoed)
    ((_, markdown),) = uploaded_postmortems(stack, channel.id)
    assert "{{ 7*7 }}" in markdown and "49" not in markdown.split("{{ 7*7 }}")[0][-5:]
    assert "{% for x in y %}" in markdown
    assert "<!channel>" not in markdown


def test_postmortem_command_makes_a_new_version(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.command("alice", channel.id, "postmortem")
    stack.settle()
    stack.driver.command("alice", channel.id, "note one more thing")
    stack.driver.command("alice", channel.id, "postmortem")
    stack.settle()
    files = uploaded_postmortems(stack, channel.id)
    assert len(files) == 2
    assert "one more thing" not in files[0][1] and "one more thing" in files[1][1]
    titles = [f.title for f in stack.workspace.files_in(channel.id)]
    assert any("version 2" in t for t in titles)


def test_reopen_and_close_again(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    run = stack.driver.command
    run("alice", channel.id, "close")
    assert run("alice", channel.id, "reopen").status == 200
    run("alice", channel.id, "close")
    stack.settle()
    assert len(uploaded_postmortems(stack, channel.id)) == 2
    assert "reopened" in " ".join(m.text for m in stack.workspace.messages(channel.id))


def test_blame_language_is_flagged_in_review_notes_and_counted_privately(stack: LocalStack):
    channel = declare(stack, "Checkout API returning 500s")
    stack.driver.join("bob", channel.id)
    stack.driver.command("bob", channel.id, "note It was obviously human error.")
    stack.driver.command("bob", channel.id, "note Error rate dropped just after 14:00.")
    stack.driver.command("alice", channel.id, "postmortem")
    stack.settle()
    ((_, markdown),) = uploaded_postmortems(stack, channel.id)
    notes = markdown.split("## Review notes", 1)[1]
    assert "human error" in notes and "obviously" in notes
    assert "just after" not in notes
    assert (
        "2 phrases of blame or hindsight language"
        in ephemeral_texts(stack, "alice", channel.id)[-1]
    )


def test_the_review_rules_are_compiled_for_the_first_postmortem_not_at_start(db_url: str):
    """Without a team rules file, starting compiles no rule (about 0.3 s a start); the first
    postmortem compiles them, and its review flags what they find."""
    from incidentbot.domain import blameless

    blameless._builtin_rules.cache_clear()
    with LocalStack(database_url=db_url, migrate=False, virtual_time=True) as stack:
        assert blameless._builtin_rules.cache_info().currsize == 0
        channel = declare(stack, "Search is slow")
        stack.driver.command("alice", channel.id, "note Bob carelessly broke the index")
        stack.driver.command("alice", channel.id, "close")
        stack.settle()
        assert blameless._builtin_rules.cache_info().currsize == 1
        ((_, markdown),) = uploaded_postmortems(stack, channel.id)
    assert "carelessly" in markdown.split("## Review notes", 1)[1]


def test_after_a_close_the_postmortem_is_uploaded_whatever_the_echo_and_summary_refresh_do(
    stack: LocalStack,
):
    """People wait for the draft; the close's echo and the summary refresh do not feed it, so
    they must not hold it up. An incident's jobs run in order, and the upload used to be queued
    behind both: here Slack keeps refusing the echo's post for now (a 503, retried with
    backoff) and the draft is in the channel all the same."""
    channel = declare(stack, "Checkout API returning 500s")
    stack.driver.command("alice", channel.id, "note Rolled back deploy 4411")
    stack.settle()
    stack.workspace.inject_fault("chat.postMessage", status=503, times=1000)
    assert stack.driver.command("alice", channel.id, "close").status == 200
    with pytest.raises(TimeoutError):
        stack.settle(timeout=3)  # the echo is still being retried
    assert [name for name, _ in uploaded_postmortems(stack, channel.id)] == ["INC-1-postmortem.md"]
    assert not [
        m for m in stack.workspace.channel(channel.id).messages if "closed" in (m.text or "")
    ]
