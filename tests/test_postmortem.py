"""Postmortem rendering from in-memory incidents: no database, no Slack."""

from __future__ import annotations

import dataclasses
import gc
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from incidentbot.domain.errors import IncidentError
from incidentbot.domain.metrics import DEFINITIONS
from incidentbot.domain.models import (
    ActionItem,
    Base,
    EntryKind,
    Incident,
    Person,
    RoleAssignment,
    Status,
    TimelineEntry,
)
from incidentbot.postmortem.render import (
    PostmortemRenderer,
    TimelineItem,
    build_context,
    md_block,
    md_cell,
    release_context,
)

# 21:50 UTC on 27 November 2026 is 13:50 PST in Los Angeles.
T0 = datetime(2026, 11, 27, 21, 50, tzinfo=UTC)
# The contract's sections, in the order the default template (Google SRE book style) has them.
SECTIONS = [
    "Summary",
    "Impact",
    "Root causes and contributing factors",
    "Resolution",
    "Detection",
    "Action items",
    "Lessons learned",
    "Timeline",
]
# Every level-2 heading of the default template, contract sections included.
DEFAULT_HEADINGS = [
    "Summary",
    "Impact",
    "Root causes and contributing factors",
    "Trigger",
    "Resolution",
    "Detection",
    "Action items",
    "Lessons learned",
    "Timeline",
    "Metrics",
    "Supporting information",
    "Review notes",
]
PEOPLE = {
    user_id: Person(user_id=user_id, display_name=name, timezone="America/Los_Angeles")
    for user_id, name in [("U1", "alice"), ("U2", "bob"), ("U3", "carol")]
}


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def entry(
    minutes: float,
    kind: str,
    text: str,
    *,
    author: str | None = "U1",
    recorded: float | None = None,
    details: dict | None = None,
    permalink: str | None = None,
    source_author: str | None = None,
) -> TimelineEntry:
    return TimelineEntry(
        occurred_at=at(minutes),
        recorded_at=at(minutes if recorded is None else recorded),
        kind=kind,
        author_id=author,
        source_author_id=source_author,
        text=text,
        details=details,
        permalink=permalink,
    )


def checkout_incident(**overrides: object) -> Incident:
    """INC-42 as it might look after an afternoon's work, timeline appended as recorded."""
    fields: dict[str, object] = {
        "number": 42,
        "title": "Checkout API returning 500s",
        "severity": "SEV2",
        "status": Status.RESOLVED,
        "private": False,
        "summary": None,
        "impact": "About 30% of checkout attempts failed for US customers.",
        "declared_by": "U1",
        "channel_id": "C42",
        "channel_name": "inc-42-checkout-api-returning-500s",
        "declared_at": at(15),
        "impact_started_at": at(0),
        "mitigated_at": at(70),
        "resolved_at": at(95),
        "closed_at": None,
        "reopened_count": 0,
    }
    fields.update(overrides)
    incident = Incident(**fields)
    incident.roles = [
        RoleAssignment(role="lead", user_id="U1", assigned_by="U1", started_at=at(15)),
        RoleAssignment(role="comms", user_id="U3", assigned_by="U1", started_at=at(18)),
    ]
    incident.timeline = [
        entry(15, EntryKind.DECLARED, "Declared: Checkout API", details={"severity": "SEV3"}),
        entry(20, EntryKind.NOTE, "<@U2|bob> is rolling back deploy 1234", author="U2"),
        entry(
            30, EntryKind.SEVERITY, "Severity SEV3 → SEV2", details={"from": "SEV3", "to": "SEV2"}
        ),
        # Backdated: written at +50 about something at +2.
        entry(2, EntryKind.NOTE, "First 5xx alerts fired", author="U3", recorded=50),
        entry(
            60,
            EntryKind.PINNED,
            "DB failover complete",
            source_author="U2",
            permalink="https://example.slack.com/archives/C42/p1764280200000100",
        ),
        entry(
            95,
            EntryKind.STATUS,
            "Status changed from monitoring to resolved: cache warmed",
            details={"from": "monitoring", "to": "resolved"},
        ),
    ]
    incident.action_items = [
        ActionItem(text="Alert on checkout 5xx rate", owner_id="U2", due_date=date(2026, 12, 4)),
        ActionItem(text="Write a failover runbook", owner_id=None, due_date=None),
    ]
    for item in incident.action_items:
        item.status = "open"
    return incident


def render(incident: Incident, *, fmt: str = "md", zone: str = "America/Los_Angeles") -> str:
    renderer = PostmortemRenderer(zone=zone, base_url="https://incidents.example.com/")
    return renderer.render(incident=incident, people=PEOPLE, fmt=fmt, now=at(300), version=1)


def headings(markdown: str, level: int) -> list[str]:
    prefix = "#" * level + " "
    return [line[len(prefix) :] for line in markdown.splitlines() if line.startswith(prefix)]


def timeline_rows(markdown: str) -> list[list[str]]:
    section = markdown.split("## Timeline", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| 20")]
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows]


def test_markdown_starts_with_the_title_as_the_only_level_one_heading() -> None:
    markdown = render(checkout_incident())

    assert markdown.splitlines()[0] == "# INC-42: Checkout API returning 500s"
    assert headings(markdown, 1) == ["INC-42: Checkout API returning 500s"]


def test_every_contract_section_is_present_in_order() -> None:
    found = headings(render(checkout_incident()), 2)

    assert found == DEFAULT_HEADINGS
    assert [heading for heading in found if heading in SECTIONS] == SECTIONS


def test_header_names_number_severity_status_roles_and_dates() -> None:
    markdown = render(checkout_incident())
    header = markdown.split("## Summary", 1)[0]

    assert "INC-42" in header
    assert "**Severity:** SEV2" in header
    assert "**Status:** resolved" in header
    assert "**Lead:** alice" in header
    assert "**Comms:** carol" in header
    assert "**Declared:** 2026-11-27 14:05 PST by alice" in header
    assert "**Resolved:** 2026-11-27 15:25 PST" in header
    assert "**Closed:** not yet" in header
    assert "https://incidents.example.com/incidents/42" in header
    assert "https://slack.com/app_redirect?channel=C42" in header


def test_timeline_is_in_order_of_occurrence_not_recording() -> None:
    rows = timeline_rows(render(checkout_incident()))

    assert [row[3].split(" _(")[0] for row in rows] == [
        "First 5xx alerts fired",
        "Declared: Checkout API",
        "@bob is rolling back deploy 1234",
        "Severity SEV3 → SEV2",
        "DB failover complete ([message](https://example.slack.com/archives/C42/p1764280200000100))",
        "Status changed from monitoring to resolved: cache warmed",
    ]
    assert "_(recorded 2026-11-27 14:40 PST)_" in rows[0][3], "backdated entries say so"


def test_entries_in_the_same_minute_keep_the_order_they_were_recorded() -> None:
    incident = checkout_incident()
    same = at(40)
    incident.timeline += [
        TimelineEntry(occurred_at=same, recorded_at=same, kind="note", author_id="U1", text=text)
        for text in ("third", "first?", "second!")
    ]

    texts = [row[3] for row in timeline_rows(render(incident))]

    assert texts.index("third") < texts.index("first?") < texts.index("second!")


def test_times_are_shown_in_the_configured_zone_with_its_label() -> None:
    markdown = render(checkout_incident())

    assert "| When (America/Los_Angeles) |" in markdown
    assert [row[0] for row in timeline_rows(markdown)][:2] == [
        "2026-11-27 13:52 PST",
        "2026-11-27 14:05 PST",
    ]


def test_times_default_to_utc_with_the_label() -> None:
    rows = timeline_rows(render(checkout_incident(), zone="UTC"))

    assert rows[0][0] == "2026-11-27 21:52 UTC"


def test_a_multi_day_incident_shows_each_entrys_date() -> None:
    incident = checkout_incident(resolved_at=at(60 * 30), mitigated_at=at(60 * 29))
    incident.timeline.append(entry(60 * 26, EntryKind.NOTE, "Still failing overnight"))

    markdown = render(incident)
    rows = timeline_rows(markdown)

    assert rows[-1][0] == "2026-11-28 15:50 PST"
    assert rows[0][0].startswith("2026-11-27 ")
    assert "| Impact duration | 1 d 5 h |" in markdown, "impact ends at mitigation"


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_template_syntax_in_user_text_is_rendered_literally(fmt: str) -> None:
    incident = checkout_incident(
        title="Broken {{ 7*7 }} title",
        summary="Summary with {% raw %} and {{ config }} in it.",
    )
    incident.timeline.append(entry(40, EntryKind.NOTE, "Saw {{ 7*7 }} and {% raw %} in logs"))

    document = render(incident, fmt=fmt)

    assert "{{ 7*7 }}" in document
    assert "{% raw %}" in document
    assert "{{ config }}" in document
    assert "49" not in document


def test_html_escapes_markup_in_user_text() -> None:
    incident = checkout_incident(summary="<b>bold</b> claim")
    incident.timeline.append(entry(40, EntryKind.NOTE, "<script>alert(1)</script>"))

    html = render(incident, fmt="html")

    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt; claim" in html


def test_markdown_does_not_pass_raw_html_through() -> None:
    incident = checkout_incident()
    incident.timeline.append(entry(40, EntryKind.NOTE, "<script>alert(1)</script>"))

    markdown = render(incident)

    assert "\\<script>alert(1)\\</script>" in markdown, "shown literally by any renderer"
    assert not re.search(r"(?<!\\)<script", markdown)


def test_a_pipe_or_newline_in_a_note_does_not_break_the_table() -> None:
    incident = checkout_incident()
    incident.timeline.append(entry(40, EntryKind.NOTE, "errors | timeouts\nsecond line | more"))
    incident.action_items[0].text = "Dashboards | alerts"

    markdown = render(incident)

    assert all(len(row) == 4 for row in timeline_rows(markdown))
    assert "| errors \\| timeouts second line \\| more |" in markdown
    assert "| 1 | Dashboards \\| alerts | — | bob | — | 2026-12-04 | open |" in markdown


def test_a_line_starting_with_hash_in_user_text_is_not_a_heading() -> None:
    incident = checkout_incident(summary="We saw:\n# 500 errors\n## everywhere\nthen\n---")

    markdown = render(incident)

    assert headings(markdown, 2) == DEFAULT_HEADINGS
    assert "\\# 500 errors" in markdown
    assert "\\---" in markdown


def test_slack_markup_is_rendered_readable() -> None:
    incident = checkout_incident(
        summary="<@U2> and <@U3|carol> fixed it; see <#C9|deploys> and "
        "<https://status.example.com|the status page>. Unknown <@U99>."
    )

    markdown = render(incident)

    assert (
        "@bob and @carol fixed it; see #deploys and the status page "
        "(https://status.example.com). Unknown @U99." in markdown
    )
    assert "<@" not in markdown


def test_pinned_message_is_attributed_to_its_author_and_linked() -> None:
    rows = timeline_rows(render(checkout_incident()))
    pinned = next(row for row in rows if row[2] == "pinned message")

    assert pinned[1] == "bob"
    assert "(https://example.slack.com/archives/C42/p1764280200000100)" in pinned[3]


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_an_empty_summary_prompts_the_author(fmt: str) -> None:
    document = render(checkout_incident(summary=None, impact=None), fmt=fmt)

    assert "Not written yet." in document
    assert "what happened, who was affected" in document
    assert "Who and what was affected, and how badly?" in document
    assert "How could time to detection be cut in half?" in document


def test_a_written_summary_replaces_the_prompt() -> None:
    markdown = render(checkout_incident(summary="A bad config push broke checkout."))
    summary = markdown.split("## Summary", 1)[1].split("## Impact", 1)[0]

    assert summary.strip() == "A bad config push broke checkout."


def test_action_items_show_owner_or_unassigned() -> None:
    markdown = render(checkout_incident())

    assert "| 1 | Alert on checkout 5xx rate | — | bob | — | 2026-12-04 | open |" in markdown
    assert "| 2 | Write a failover runbook | — | unassigned | — | — | open |" in markdown
    assert "No owner yet for item 2." in markdown


def test_no_action_items_prompts_for_some() -> None:
    incident = checkout_incident()
    incident.action_items = []

    assert "No action items yet." in render(incident)


def test_metrics_section_shows_values_with_definitions() -> None:
    metrics = render(checkout_incident()).split("## Metrics", 1)[1]

    assert f"| Time to detect | 15 min | {DEFINITIONS['time_to_detect']} |" in metrics
    # Carol being made comms at 14:08 is alice's action; bob's note at 14:10 is his own.
    assert "| Time to acknowledge | 5 min |" in metrics
    assert "| Time to mitigate | 1 h 10 min |" in metrics
    assert "| Time to resolve | 1 h 35 min |" in metrics
    assert f"| Impact duration | 1 h 10 min | {DEFINITIONS['duration']} |" in metrics
    assert "| SEV3 | 30 min |" in metrics, "from impact start"
    assert "| SEV2 | 1 h 5 min |" in metrics


def test_unresolved_incident_says_so() -> None:
    incident = checkout_incident(status=Status.INVESTIGATING, mitigated_at=None, resolved_at=None)
    incident.timeline.pop()

    markdown = render(incident)

    assert "**Resolved:** not yet" in markdown
    assert "_Not resolved yet._" in markdown
    assert "| Time to resolve | — |" in markdown
    assert "and has lasted 5 h so far, not mitigated yet." in markdown


def test_html_is_a_standalone_document_with_tables() -> None:
    html = render(checkout_incident(), fmt="html")

    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in html
    assert '<meta charset="utf-8">' in html
    assert 'name="viewport"' in html
    assert "<title>INC-42: Checkout API returning 500s (postmortem)</title>" in html
    assert "<script" not in html
    assert html.count("<table>") >= 3
    assert re.findall(r"<h2>(.*?)</h2>", html) == DEFAULT_HEADINGS
    assert "<th>When (America/Los_Angeles)</th>" in html


def test_context_holds_no_database_objects() -> None:
    context = build_context(
        incident=checkout_incident(),
        people=PEOPLE,
        zone="UTC",
        base_url="http://localhost:3000",
        now=at(300),
    )

    def walk(value: object) -> None:
        assert not isinstance(value, Base), value
        if dataclasses.is_dataclass(value):
            for field in dataclasses.fields(value):
                walk(getattr(value, field.name))
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    walk(context)


def test_a_released_context_lets_its_timeline_go_without_the_garbage_collector() -> None:
    # Rendering leaves cycles (Jinja's contexts for imports and macros) holding the context's
    # lists; released, no entry outlives the context, so a long timeline's memory is free
    # before its postmortem is stored rather than at the collector's next full pass.
    renderer = PostmortemRenderer(zone="UTC")
    context = renderer.context(incident=checkout_incident(), people=PEOPLE, now=at(300))
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        rendered = [renderer.render_context(context, fmt=fmt) for fmt in ("html", "md")]
        release_context(context)
        del context
        alive = sum(1 for obj in gc.get_objects() if isinstance(obj, TimelineItem))
    finally:
        if enabled:
            gc.enable()
    assert all(rendered)
    assert alive == 0


def test_unknown_template_name_lists_the_available_ones() -> None:
    renderer = PostmortemRenderer()

    with pytest.raises(IncidentError, match=r"'nope'.*Available: default"):
        renderer.render(incident=checkout_incident(), people=PEOPLE, template="nope", now=at(300))


def test_template_names_cannot_reach_outside_the_template_folders() -> None:
    renderer = PostmortemRenderer()

    with pytest.raises(IncidentError):
        renderer.render(
            incident=checkout_incident(), people=PEOPLE, template="../README", now=at(300)
        )


def test_unknown_format_is_refused() -> None:
    with pytest.raises(IncidentError, match="md, html"):
        PostmortemRenderer().render(
            incident=checkout_incident(), people=PEOPLE, fmt="pdf", now=at(300)
        )


def test_a_teams_templates_folder_overrides_default_and_adds_names(tmp_path: Path) -> None:
    (tmp_path / "default.md.j2").write_text("# {{ incident.title }}\nOur own format.\n")
    (tmp_path / "short.md.j2").write_text(
        '{% extends "default.md.j2" %}{% block lessons %}Team lessons.{% endblock %}'
    )
    renderer = PostmortemRenderer(templates_dir=tmp_path)

    own = renderer.render(incident=checkout_incident(), people=PEOPLE, now=at(300))
    builtin_html = renderer.render(
        incident=checkout_incident(), people=PEOPLE, fmt="html", now=at(300)
    )

    assert own == "# Checkout API returning 500s\nOur own format.\n"
    assert "<!DOCTYPE html>" in builtin_html, "formats the team did not override still work"
    assert renderer.available_templates() == ["default", "lightweight", "pagerduty", "short"]
    assert renderer.available_templates(fmt="html") == ["default", "lightweight", "pagerduty"]


def test_a_team_template_can_extend_the_builtin_one_and_replace_a_block(tmp_path: Path) -> None:
    (tmp_path / "ours.md.j2").write_text(
        '{% extends "default.md.j2" %}'
        "{% block lessons %}- Follow the team's lessons format.\n{% endblock %}"
    )
    renderer = PostmortemRenderer(templates_dir=tmp_path)

    markdown = renderer.render(
        incident=checkout_incident(), people=PEOPLE, template="ours", now=at(300)
    )

    assert headings(markdown, 2) == DEFAULT_HEADINGS
    assert "- Follow the team's lessons format." in markdown
    assert "Where did we get lucky?" not in markdown


def test_unknown_zone_is_refused_at_construction() -> None:
    with pytest.raises(IncidentError, match="Mars/Olympus"):
        PostmortemRenderer(zone="Mars/Olympus")


def test_markdown_helpers() -> None:
    assert md_cell("a | b\nc") == "a \\| b c"
    assert md_cell("# not a heading") == "\\# not a heading"
    assert md_block("ok\n  ## no\n===") == "ok\n  \\## no\n\\==="
    assert md_block("```\nunclosed") == "\\```\nunclosed"
    assert md_block("```\nclosed\n```") == "```\nclosed\n```"
    assert md_block("- a list\n1. stays") == "- a list\n1. stays"


@pytest.mark.parametrize(
    ("zone", "shown"),
    [("Asia/Dubai", "UTC+04:00"), ("+05:30", "UTC+05:30"), ("America/New_York", "EST")],
)
def test_the_postmortem_shows_times_as_slack_does_in_any_zone_timeparse_reads(
    zone: str, shown: str
) -> None:
    """One time format everywhere: where tzdata has only an offset (``+04``) the postmortem says
    ``UTC+04:00`` as Slack's replies do, and a zone given as an offset is accepted."""
    from incidentbot.domain.timeparse import format_moment
    from tests.fixtures_incident import NOW, people, rich_incident

    incident = rich_incident()
    markdown = PostmortemRenderer(zone=zone).render(
        incident=incident, people=people(), fmt="md", now=NOW
    )
    declared = format_moment(incident.declared_at, zone)
    assert declared.endswith(f" {shown}")
    assert declared in markdown
    stamps = re.findall(r"\b\d\d:\d\d ([A-Z][A-Za-z]*(?:[+-]\d\d:\d\d)?)", markdown)
    assert stamps and set(stamps) <= {shown, "UTC"}, set(stamps)
