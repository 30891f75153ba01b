"""The built-in postmortem templates on a rich incident, and the sandbox teams' templates run in.

Golden files: ``tests/golden/<template>.<fmt>`` hold each built-in template rendered from
``tests/fixtures_incident.rich_incident()``. After a deliberate change to a template, rewrite them
with ``UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_templates.py`` and review the diff.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
from pathlib import Path

import pytest

from incidentbot.domain.errors import IncidentError
from incidentbot.domain.models import EntryKind
from incidentbot.postmortem.render import (
    BOOKKEEPING_KINDS,
    CONTEXT_VARIABLES,
    PostmortemRenderer,
    TemplateError,
    build_context,
)
from incidentbot.postmortem.sample import SAMPLE_NOW, sample_incidents, sample_people
from tests.fixtures_incident import (
    EDITED_ENTRY_IDS,
    NOTE_WITH_MARKUP,
    NOW,
    PERMALINK_CERT,
    PERMALINK_ROLLBACK,
    SAME_MINUTE,
    people,
    review_flags,
    rich_incident,
)
from tests.test_postmortem import DEFAULT_HEADINGS, SECTIONS

GOLDEN = Path(__file__).parent / "golden"
DOCS = Path(__file__).resolve().parent.parent / "docs"
BUILTIN = ("default", "lightweight", "pagerduty")
ZONE = "America/New_York"
TITLE = "INC-7: Checkout payments failing for EU customers"
REOPENED = "Reopened 1 time; the metrics use the last resolution (2026-11-28 06:30 EST)."
HEADINGS = {
    "default": DEFAULT_HEADINGS,
    "lightweight": ["Summary", "Impact", "Timeline", "Action items", "Review notes"],
    "pagerduty": [
        "Overview",
        "What happened",
        "Contributing factors",
        "Resolution",
        "Impact",
        "Responders",
        "Timeline",
        "How did we do?",
        "Action items",
        "Messaging",
        "Review notes",
    ],
}


def renderer(templates_dir: Path | None = None) -> PostmortemRenderer:
    return PostmortemRenderer(
        zone=ZONE, base_url="https://incidents.example.com", templates_dir=templates_dir
    )


@functools.cache
def _builtin_renderer() -> PostmortemRenderer:
    return renderer()


def render(template: str, fmt: str, *, review: bool = True, **kwargs: object) -> str:
    """The rich incident's postmortem; with the built-in templates, rendered once per worker
    for every test that only reads it (a string, so no test can change another's)."""
    if not kwargs:
        return _render_builtin(template, fmt, review)
    return _render(renderer(**kwargs), template, fmt, review)  # type: ignore[arg-type]


@functools.cache
def _render_builtin(template: str, fmt: str, review: bool) -> str:
    return _render(_builtin_renderer(), template, fmt, review)


def _render(renderer: PostmortemRenderer, template: str, fmt: str, review: bool) -> str:
    return renderer.render(
        incident=rich_incident(),
        people=people(),
        fmt=fmt,
        template=template,
        now=NOW,
        version=3,
        review=review_flags() if review else (),
        edited=EDITED_ENTRY_IDS,
    )


def headings(markdown: str, level: int) -> list[str]:
    prefix = "#" * level + " "
    return [line[len(prefix) :] for line in markdown.splitlines() if line.startswith(prefix)]


def section(markdown: str, heading: str) -> str:
    return markdown.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def table_rows(text: str) -> list[list[str]]:
    rows = [line for line in text.splitlines() if line.startswith("| 20")]
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows]


# Golden files


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("template", BUILTIN)
def test_builtin_template_matches_its_golden_file(template: str, fmt: str) -> None:
    document = render(template, fmt)
    golden = GOLDEN / f"{template}.{fmt}"

    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(document, encoding="utf-8")
    assert golden.is_file(), f"{golden} is missing: run with UPDATE_GOLDEN=1 to write it"
    assert document == golden.read_text(encoding="utf-8"), (
        f"{template}.{fmt} changed; if on purpose, rerun with UPDATE_GOLDEN=1 and review the diff"
    )


# Structure every built-in template shares


@pytest.mark.parametrize("template", BUILTIN)
def test_markdown_starts_with_the_title_and_has_its_sections(template: str) -> None:
    markdown = render(template, "md")

    assert markdown.splitlines()[0] == f"# {TITLE}"
    assert headings(markdown, 1) == [TITLE]
    assert headings(markdown, 2) == HEADINGS[template]


@pytest.mark.parametrize("template", BUILTIN)
def test_html_is_a_standalone_page_with_the_same_sections(template: str) -> None:
    html = render(template, "html")

    assert html.startswith("<!DOCTYPE html>")
    assert f"<h1>{TITLE}</h1>" in html
    assert re.findall(r"<h2>(.*?)</h2>", html) == HEADINGS[template]
    assert "<script" not in html


def test_default_has_every_contract_section_in_the_sre_book_order() -> None:
    found = headings(render("default", "md"), 2)

    assert [heading for heading in found if heading in SECTIONS] == SECTIONS
    assert found.index("Lessons learned") < found.index("Timeline")
    assert found.index("Root causes and contributing factors") < found.index("Trigger")
    assert found.index("Timeline") < found.index("Supporting information")


def test_default_header_names_authors_document_status_severity_and_links() -> None:
    header = render("default", "md").split("\n## ", 1)[0]

    assert "- **Date:** 2026-11-27 to 2026-11-28" in header
    assert "- **Authors:** alice, hans, bob" in header, "everyone who held a role, once"
    assert "- **Document status:** In review" in header
    assert "- **Severity:** SEV2 (highest reached: SEV1)" in header
    assert "- **Status:** closed (reopened 1 time)" in header
    assert "https://incidents.example.com/incidents/7" in header
    assert "https://slack.com/app_redirect?channel=C777" in header


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("template", BUILTIN)
def test_every_template_says_the_incident_was_reopened(template: str, fmt: str) -> None:
    assert REOPENED in render(template, fmt)


@pytest.mark.parametrize("template", BUILTIN)
def test_timeline_marks_each_day_and_shows_date_time_and_zone_on_every_entry(
    template: str,
) -> None:
    timeline = section(render(template, "md"), "Timeline")
    rows = table_rows(timeline)

    assert headings(timeline, 3) == ["Friday 27 November 2026", "Saturday 28 November 2026"]
    told = [entry for entry in rich_incident().timeline if entry.kind not in BOOKKEEPING_KINDS]
    assert len(rows) == len(told)
    assert all(re.fullmatch(r"2026-11-2[78] \d\d:\d\d EST", row[0]) for row in rows)
    assert f"| When ({ZONE}) | Who | Kind | What happened |" in timeline
    friday, saturday = timeline.split("### Saturday 28 November 2026")
    assert all(row[0].startswith("2026-11-27") for row in table_rows(friday))
    assert all(row[0].startswith("2026-11-28") for row in table_rows(saturday))


@pytest.mark.parametrize("template", BUILTIN)
def test_timeline_is_in_order_of_occurrence_and_keeps_same_minute_order(template: str) -> None:
    rows = table_rows(section(render(template, "md"), "Timeline"))
    times = [row[0] for row in rows]
    texts = [row[3] for row in rows]

    assert times == sorted(times)
    positions = [next(i for i, text in enumerate(texts) if text.startswith(t)) for t in SAME_MINUTE]
    assert positions == sorted(positions)
    assert {times[i] for i in positions} == {"2026-11-27 17:15 EST"}


@pytest.mark.parametrize("template", BUILTIN)
def test_timeline_entries_show_author_and_kind(template: str) -> None:
    rows = table_rows(section(render(template, "md"), "Timeline"))
    by_text = {row[3].split(" ([message]")[0].split(" _(")[0]: row for row in rows}

    assert {row[2] for row in rows} == {
        str(kind)
        for kind in (
            EntryKind.DECLARED,
            EntryKind.NOTE,
            EntryKind.PINNED,
            EntryKind.STATUS,
            EntryKind.SEVERITY,
            EntryKind.ROLE,
            EntryKind.UPDATE,
        )
    }, "bookkeeping (the action item added) stays on the incident's page"
    pinned = by_text["Rolled back payments-api to v2.14.1"]
    assert pinned[1:3] == ["priya", "pinned message"], "the message's author, not who pinned it"
    backdated = by_text["EU card gateway certificate expired at 08:55 UTC"]
    assert backdated[:3] == ["2026-11-28 03:58 EST", "hans", "note"]
    assert "_(recorded 2026-11-28 05:15 EST)_ _(edited)_" in backdated[3], "corrected since"


def test_pagerduty_timeline_has_a_data_link_column_with_the_permalinks() -> None:
    timeline = section(render("pagerduty", "md"), "Timeline")
    rows = table_rows(timeline)

    assert "| What happened | Data link |" in timeline
    assert all(len(row) == 5 for row in rows)
    links = [row[4] for row in rows if row[4] != "—"]
    assert links == [f"[message]({PERMALINK_ROLLBACK})", f"[message]({PERMALINK_CERT})"]


def test_pagerduty_impact_table_has_time_in_each_severity() -> None:
    impact = section(render("pagerduty", "md"), "Impact")

    assert "| Time in SEV1 | 1 h 14 min |" in impact
    assert "| Time in SEV2 | 12 h |" in impact
    assert "| Time in SEV3 | 17 min |" in impact, "from impact start (16:58) to SEV1 (17:15)"
    assert "| Customers or accounts affected | _How many?_ |" in impact


def test_pagerduty_messaging_lists_the_updates_posted_during_the_incident() -> None:
    messaging = section(render("pagerduty", "md"), "Messaging")

    assert headings(messaging, 3) == ["Internal", "External", "Updates posted during the incident"]
    assert (
        "- 2026-11-27 17:25 EST, hans: We are investigating failed card payments for EU "
        "customers. Next update in 30 minutes." in messaging
    )
    assert "Resolved: card payments are working again for all customers." in messaging


def test_pagerduty_responders_name_the_incident_commander_and_others_involved() -> None:
    responders = section(render("pagerduty", "md"), "Responders")

    assert responders.startswith("\n- **Lead (incident commander):** hans\n")
    assert "- **Also involved:** priya" in responders
    assert "| Lead | alice | 2026-11-27 17:10 EST | 2026-11-28 04:05 EST | alice |" in responders


@pytest.mark.parametrize("template", BUILTIN)
def test_action_items_show_type_owner_tracking_and_prompt_for_gaps(template: str) -> None:
    actions = section(render(template, "md"), "Action items")

    assert "| # | Action item | Type | Owner | Tracking | Due | Status |" in actions
    assert (
        "| 1 | Alert on certificate expiry for every gateway | detect | hans | "
        "[PAY-101](https://tracker.example.com/browse/PAY-101) | 2026-12-04 | open (overdue) |"
    ) in actions
    assert (
        "| 3 | Write a runbook for card network declines \\| escalation paths | — | unassigned "
        "| — | — | open |"
    ) in actions
    assert "No owner yet for items 3, 4." in actions
    assert "No tracking link yet for items 2, 3." in actions
    assert "No type yet for item 3." in actions


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("template", BUILTIN)
def test_typed_text_stays_literal_and_harmless(template: str, fmt: str) -> None:
    document = render(template, fmt)

    assert "{{ 7*7 }}" in document
    assert "49" not in document
    assert "<script" not in document.replace("\\<script", "")
    if fmt == "md":
        assert "Saw {{ 7*7 }} in the gateway logs \\| errors \\| timeouts \\<script>" in document
    else:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    assert NOTE_WITH_MARKUP not in document, "pipes and tags never pass through unescaped"


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("template", BUILTIN)
def test_review_notes_list_the_flags_or_say_there_are_none(template: str, fmt: str) -> None:
    flagged = render(template, fmt)
    clean = render(template, fmt, review=False)

    assert "No blame or hindsight language found." in clean
    assert "No blame or hindsight language found." not in flagged
    assert "flagged 2 phrases" in flagged
    for text in ("should have", "human error", "Ask which conditions made the mistake easy"):
        assert text in flagged


def test_review_notes_in_the_context_are_plain_copies_of_the_flags() -> None:
    context = build_context(
        incident=rich_incident(),
        people=people(),
        zone=ZONE,
        base_url="https://incidents.example.com",
        now=NOW,
        review=review_flags(),
    )
    first = context["review_notes"][0]  # type: ignore[index]

    assert type(first).__name__ == "ReviewNote"
    assert (first.rule_id, first.category, first.phrase, first.where) == (
        "hindsight-should-have",
        "hindsight",
        "should have",
        "summary",
    )


@pytest.mark.parametrize("template", BUILTIN)
def test_sections_with_nothing_known_prompt_the_author(template: str) -> None:
    fresh = sample_incidents()[1]
    markdown = renderer().render(
        incident=fresh, people=sample_people(), template=template, now=SAMPLE_NOW
    )

    assert "_No timeline entries yet._" in markdown
    assert "_No action items yet._" in markdown
    assert "_Not described yet._" in markdown
    assert markdown.count("?") >= 4, "every empty section asks a question"
    for heading in headings(markdown, 2):
        assert section(markdown + "\n## ", heading).strip(), f"{heading} is empty"


def test_the_context_has_exactly_the_documented_variables() -> None:
    context = build_context(
        incident=rich_incident(),
        people=people(),
        zone=ZONE,
        base_url="https://incidents.example.com",
        now=NOW,
    )
    documented = (DOCS / "templates.md").read_text(encoding="utf-8")

    assert tuple(context) == CONTEXT_VARIABLES
    for name in CONTEXT_VARIABLES:
        assert f"`{name}`" in documented, f"{name} is not documented"


# Checking templates: the built-in ones, teams' own, and hostile ones


def write(folder: Path, name: str, source: str) -> None:
    (folder / name).write_text(source, encoding="utf-8")


def test_builtin_templates_pass_the_check() -> None:
    renderer().check()
    PostmortemRenderer().check()
    assert renderer().available_templates() == list(BUILTIN)


def test_a_team_can_override_default_and_add_a_template(tmp_path: Path) -> None:
    write(
        tmp_path,
        "default.md.j2",
        '{% extends "builtin/default.md.j2" %}{% block lessons %}Team lessons.\n{% endblock %}',
    )
    write(tmp_path, "default.html.j2", '{% extends "builtin/default.html.j2" %}')
    write(tmp_path, "custom.md.j2", "# {{ incident.title | md_inline }}\n\n{{ zone }}\n")
    write(tmp_path, "custom.html.j2", "<h1>{{ incident.title }}</h1>\n")
    team = renderer(tmp_path)

    team.check()
    assert team.available_templates() == ["custom", "default", "lightweight", "pagerduty"]
    overridden = render("default", "md", templates_dir=tmp_path)
    assert "Team lessons." in overridden
    assert "### What went well" not in overridden
    assert headings(overridden, 2) == DEFAULT_HEADINGS
    assert render("custom", "md", templates_dir=tmp_path) == (
        "# Checkout payments failing for EU customers\n\nAmerica/New_York\n"
    )


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize(
    ("template", "arguments"), [("default", ""), ("pagerduty", "data_link=true")]
)
def test_the_timeline_macro_writes_what_the_builtin_templates_include(
    tmp_path: Path, template: str, arguments: str, fmt: str
) -> None:
    # The built-in templates include _timeline.<fmt>.j2 (it streams); teams call the macro.
    write(
        tmp_path,
        f"{template}.{fmt}.j2",
        f'{{% extends "builtin/{template}.{fmt}.j2" %}}'
        f'{{% import "builtin/_macros.{fmt}.j2" as parts with context %}}'
        f"{{% block timeline %}}{{{{ parts.timeline_section({arguments}) }}}}{{% endblock %}}",
    )

    assert render(template, fmt, templates_dir=tmp_path) == render(template, fmt)


@pytest.mark.parametrize(("template", "data_link"), [("default", "false"), ("pagerduty", "true")])
def test_the_timeline_row_macro_writes_the_rows_the_builtin_timeline_writes(
    tmp_path: Path, template: str, data_link: str
) -> None:
    # _timeline.md.j2 writes its rows out rather than calling timeline_row(), for speed.
    write(
        tmp_path,
        "rows.md.j2",
        '{% import "builtin/_macros.md.j2" as parts with context %}'
        f"{{% for entry in timeline %}}{{{{ parts.timeline_row(entry, {data_link}) }}}}"
        "{% endfor %}",
    )
    write(tmp_path, "rows.html.j2", "")

    rows = render("rows", "md", templates_dir=tmp_path).splitlines()
    builtin = section(render(template, "md"), "Timeline")
    assert rows == [line for line in builtin.splitlines() if line.startswith("| 20")]


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ("ok\n{{ incident.__class__ }}\n", 2, "access to attribute '__class__'"),
        ("{{ incident.__init__.__globals__ }}", 1, "access to attribute '__init__'"),
        ("\n\n{{ cycler.__init__.__globals__ }}", 3, "access to attribute '__init__'"),
        ("{{ incident.__class__.__mro__ }}", 1, "access to attribute '__class__'"),
        ("{{ self.__init__ }}", 1, "access to attribute '__init__'"),
        ("{{ timeline.append(1) }}", 1, "access to attribute 'append'"),
        ("{% for i in range(10**9) %}{% endfor %}", 1, "Range too big"),
        ("\n{{ 'x' * 10**9 }}", 2, "refuses to repeat"),
        ("{{ 2 ** 100000000 }}", 1, "refuses powers"),
        ("a\nb\n{{ incident.secret }}", 3, "'incident' has no attribute 'secret'"),
        ("{{ metrics.duration.nope }}", 1, "'a metric row' has no attribute 'nope'"),
        ("line one\n{{ secret_variable }}", 2, "'secret_variable' is undefined"),
        ("{% if false %}\n{{ hidden_variable }}\n{% endif %}", 2, "'hidden_variable' is undefined"),
        ("{% for x in timeline %}\n{% endfor\n", 2, "unexpected"),
        ("\n{% include '../secret.txt' %}", 2, "no template '../secret.txt'"),
        ('{% extends "custom.md.j2" %}', 1, "extends or includes itself"),
    ],
)
def test_check_names_the_team_template_and_line_of_a_hostile_or_broken_template(
    tmp_path: Path, source: str, line: int, message: str
) -> None:
    write(tmp_path, "custom.md.j2", source)
    write(tmp_path, "custom.html.j2", "<p>{{ incident.title }}</p>\n")

    with pytest.raises(TemplateError) as raised:
        renderer(tmp_path).check()

    assert isinstance(raised.value, IncidentError)
    assert f'team template "custom.md.j2", line {line}: ' in raised.value.message
    assert message in raised.value.message
    assert "Traceback" not in raised.value.message


def test_check_reports_every_problem_at_once(tmp_path: Path) -> None:
    write(tmp_path, "one.md.j2", "{{ nope }}")
    write(tmp_path, "one.html.j2", "{{ incident.__class__ }}")
    write(tmp_path, "_part.md.j2", "{% if %}")

    with pytest.raises(TemplateError) as raised:
        renderer(tmp_path).check()

    problems = raised.value.problems
    assert len(problems) == 3, problems
    assert raised.value.message.startswith("3 problems in the postmortem templates:\n- ")
    assert any(p.startswith('team template "_part.md.j2", line 1: ') for p in problems)


def test_a_new_team_template_needs_both_formats(tmp_path: Path) -> None:
    write(tmp_path, "short.md.j2", "# {{ incident.title | md_inline }}\n")

    with pytest.raises(TemplateError, match=r'"short.md.j2" has no HTML variant.*short.html.j2'):
        renderer(tmp_path).check()


def test_check_reports_configured_templates_that_do_not_exist() -> None:
    renderer().check(required=["default", "lightweight"])

    with pytest.raises(TemplateError, match=r"'sev1-long' is configured but does not exist"):
        renderer().check(required=["default", "sev1-long"])


def test_overriding_one_format_of_a_builtin_name_keeps_the_other(tmp_path: Path) -> None:
    write(tmp_path, "lightweight.md.j2", "# {{ incident.title | md_inline }}\n")
    team = renderer(tmp_path)

    team.check()
    assert render("lightweight", "md", templates_dir=tmp_path).startswith("# Checkout")
    assert "<!DOCTYPE html>" in render("lightweight", "html", templates_dir=tmp_path)


def test_a_team_template_failing_mid_incident_falls_back_to_the_builtin_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The sample incidents never have number 7, so check() cannot reach the bad branch.
    source = (
        "# {{ incident.title | md_inline }}\n"
        "{% if incident.number == 7 %}{{ incident.nope }}{% endif %}\n"
    )
    write(tmp_path, "default.md.j2", source)
    renderer(tmp_path).check()

    with caplog.at_level(logging.WARNING, logger="incidentbot.postmortem.render"):
        markdown = render("default", "md", templates_dir=tmp_path)

    assert headings(markdown, 2) == DEFAULT_HEADINGS, "the built-in default was used"
    assert 'team template "default.md.j2", line 2' in caplog.text


def test_the_documented_example_template_passes_the_check(tmp_path: Path) -> None:
    for fmt in ("md", "html"):
        shutil.copy(DOCS / f"example-template.{fmt}.j2", tmp_path / f"ourteam.{fmt}.j2")
    team = renderer(tmp_path)

    team.check()
    markdown = render("ourteam", "md", templates_dir=tmp_path)
    assert markdown.startswith(f"# {TITLE}\n")
    assert REOPENED in markdown
    assert "<h1>" in render("ourteam", "html", templates_dir=tmp_path)
