"""The web pages: opened through a signed link from Slack, closed to everyone else."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.request import HTTPCookieProcessor, build_opener, urlopen
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from incidentbot import services
from incidentbot.domain.models import TimelineEntry
from incidentbot.entrypoints.local import LocalStack
from tests.e2e import declare, ephemeral_texts, incident_channel


def link_from_slack(stack: LocalStack, user: str, channel: str) -> str:
    stack.driver.command(user, channel, "link")
    match = re.search(r"<(http[^|>]+)\|", ephemeral_texts(stack, user, channel)[-1])
    assert match, "no link in the reply"
    return match.group(1).replace("&amp;", "&")


def browser():  # type: ignore[no-untyped-def]
    return build_opener(HTTPCookieProcessor(CookieJar()))


def test_a_signed_link_from_slack_opens_the_incident_and_its_postmortem(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.command("alice", channel.id, "note <script>alert(1)</script> {{ 7*7 }}")
    stack.driver.command("alice", channel.id, "close")
    stack.settle()
    url = link_from_slack(stack, "alice", channel.id)
    assert "/incidents/1?token=" in url

    opener = browser()
    with opener.open(url) as page:
        html = page.read().decode()
        assert page.url == f"{stack.base_url}/incidents/1"  # token dropped from the address
        assert "Search is slow" in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }}" in html
        assert "<script>" not in html
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        assert page.headers["X-Content-Type-Options"] == "nosniff"
    with opener.open(f"{stack.base_url}/") as page:
        assert "INC-1" in page.read().decode()
    with opener.open(f"{stack.base_url}/incidents/1/postmortem") as page:
        assert "<h1" in page.read().decode()
    with opener.open(f"{stack.base_url}/incidents/1/postmortem.md?version=1") as download:
        assert download.headers["Content-Disposition"].endswith('INC-1-postmortem-v1.md"')
        assert download.read().decode().startswith("# INC-1: Search is slow")


@pytest.mark.parametrize("path", ["/", "/incidents/1", "/incidents/1/postmortem"])
def test_pages_without_a_link_get_401_saying_how_to_get_one(stack: LocalStack, path: str):
    declare(stack, "Search is slow")
    with pytest.raises(HTTPError) as refused:
        urlopen(f"{stack.base_url}{path}")
    assert refused.value.code == 401
    assert "/incident link" in refused.value.read().decode()


def test_a_forged_or_tampered_token_gets_401(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    url = link_from_slack(stack, "alice", channel.id)
    tampered = url.replace("token=UALICE", "token=UBOB")
    for bad in (tampered, f"{stack.base_url}/incidents/1?token=nonsense"):
        with pytest.raises(HTTPError) as refused:
            browser().open(bad)
        assert refused.value.code == 401


def test_unknown_incidents_and_versions_are_not_found(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    opener = browser()
    opener.open(link_from_slack(stack, "alice", channel.id)).read()
    for path in ("/incidents/42", "/incidents/1/postmortem?version=3"):
        with pytest.raises(HTTPError) as missing:
            opener.open(f"{stack.base_url}{path}")
        assert missing.value.code == 404


def test_the_shared_read_token_shows_public_incidents_only(db_url):
    with LocalStack(database_url=db_url, web_token="shared-read-token-for-tests") as stack:
        declare(stack, "Search is slow")
        stack.driver.command("bob", "#general", "declare")
        (modal,) = stack.workspace.open_views("bob")
        stack.driver.submit_view(
            "bob", modal.id, {"title_input": "Credential leak", "private_checkbox": ["private"]}
        )
        stack.settle()
        opener = browser()
        with opener.open(f"{stack.base_url}/?token=shared-read-token-for-tests") as page:
            html = page.read().decode()
        assert "Search is slow" in html and "Credential leak" not in html
        with pytest.raises(HTTPError) as hidden:
            opener.open(f"{stack.base_url}/incidents/2")
        assert hidden.value.code == 404


def entry_number(stack: LocalStack, text: str) -> int:
    with stack.runtime.uow(read_only=True) as uow:
        number = uow.session.scalar(
            select(TimelineEntry.number).where(TimelineEntry.text.startswith(text))
        )
    assert number is not None, f"no entry saying {text!r}"
    return number


def row_of(html: str, number: int) -> str:
    """The incident page's timeline row of entry ``#number``."""
    for row in re.findall(r"<tr id=\"entry-\d+\".*?</tr>", html, flags=re.DOTALL):
        if f"<td>#{number}</td>" in row:
            return row
    raise AssertionError(f"no row for #{number}")


def test_the_incident_page_shows_every_entry_numbered_with_its_corrections(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    run = stack.driver.command
    run("alice", channel.id, "note Restarted serach-7 <b>now</b>")
    run("alice", channel.id, "note Cache looks cold")
    run("alice", channel.id, "action Alert on search latency")
    stack.settle()
    typo, wrong = entry_number(stack, "Restarted"), entry_number(stack, "Cache looks")
    run("alice", channel.id, f"edit {typo} Restarted search-7 <i>again</i>")
    run("alice", channel.id, f"delete {wrong} it was the <script>DNS</script> after all")
    ts = stack.driver.post_message("alice", channel.id, "Rolling back the index")
    stack.driver.pin("alice", channel.id, ts)
    stack.settle()
    with stack.runtime.uow() as uow:
        services.follow_slack_delete(uow=uow, channel_id=channel.id, ts=ts)
        uow.commit()
    pinned = entry_number(stack, "Rolling back")
    run("alice", channel.id, "close")
    stack.settle()

    opener = browser()
    with opener.open(link_from_slack(stack, "alice", channel.id)) as page:
        html = page.read().decode()

    numbers = [int(n) for n in re.findall(r"<td>#(\d+)</td>", html)]
    assert numbers[0] == 1 and len(numbers) == len(set(numbers)) >= 6
    assert "Action item: Alert on search latency" in html, "bookkeeping is on the page"
    edited = row_of(html, typo)
    assert "Restarted search-7 &lt;i&gt;again&lt;/i&gt;" in edited
    assert "“Restarted serach-7 &lt;b&gt;now&lt;/b&gt;” → “Restarted search-7" in edited
    assert "alice" in edited.split("<details", 1)[1]
    deleted = row_of(html, wrong)
    assert 'class="deleted"' in deleted and "<del>Cache looks cold</del>" in deleted
    assert "by alice: it was the &lt;script&gt;DNS&lt;/script&gt; after all" in deleted
    assert "Deleted in Slack" in row_of(html, pinned)
    assert "<script>" not in html

    with opener.open(f"{stack.base_url}/incidents/1/postmortem") as page:
        postmortem = page.read().decode()
    timeline = postmortem.split('id="timeline"', 1)[1]
    assert "Restarted search-7 &lt;i&gt;again&lt;/i&gt;" in timeline
    for gone in ("serach-7", "Cache looks cold", "Rolling back the index", "Action item:"):
        assert gone not in timeline, f"{gone!r} is in the postmortem's timeline"


def test_an_incident_recorded_after_the_fact_is_labelled_on_its_page_with_its_detection(
    stack: LocalStack,
):
    response = stack.driver.command(
        "alice",
        "#general",
        "record Search outage; started 2026-11-20 14:05 UTC; detected 2026-11-20 14:20 UTC; "
        "mitigated 2026-11-20 15:00 UTC; resolved 2026-11-20 15:10 UTC",
    )
    assert response.status == 200, response.body
    stack.settle()
    channel = incident_channel(stack, 1)
    stack.driver.command("alice", channel.id, "close")
    stack.settle()

    with browser().open(link_from_slack(stack, "alice", channel.id)) as page:
        html = page.read().decode()

    assert '<p class="notice">Recorded after the fact on ' in html
    assert "<dd>2026-11-20 06:20 PST (recorded after the fact)</dd>" in html, (
        "declared at detection"
    )
    assert "<dt>Impact duration</dt><dd>55 min " in html, "impact ends at mitigation"
    declared = row_of(html, 1)
    assert "2026-11-20 06:20 PST" in declared and "recorded 20" in declared
    roles = html.split("<h2>Roles</h2>", 1)[1].split("</table>", 1)[0]
    assert "now" not in roles, "a role held at the close ends at the close"


def test_the_page_shows_a_recorded_detection_apart_from_the_declaration(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    now = datetime.now(UTC)
    started, detected = now - timedelta(minutes=20), now - timedelta(minutes=10)
    stack.driver.command("alice", channel.id, f"started at {started:%Y-%m-%d %H:%M} UTC")
    stack.driver.command("alice", channel.id, f"detected at {detected:%Y-%m-%d %H:%M} UTC")
    stack.settle()

    with browser().open(link_from_slack(stack, "alice", channel.id)) as page:
        html = page.read().decode()

    la = ZoneInfo("America/Los_Angeles")
    shown = f"{detected.astimezone(la):%Y-%m-%d %H:%M %Z}"
    assert f"<dt>Detected</dt><dd>{shown}</dd>" in html
    assert "Recorded after the fact" not in html
    roles = html.split("<h2>Roles</h2>", 1)[1].split("</table>", 1)[0]
    assert "<td>now</td>" in roles, "a role still held while the incident is open"


def test_insights_page_counts_incidents_per_week_and_medians_by_severity(db_url):
    """/insights without a browser: what the charts and the table say, from incidents recorded
    after the fact and one still open; a private incident is not counted for a token reader."""
    token = "shared-read-token-for-insights"
    with LocalStack(database_url=db_url, web_token=token) as stack:
        now = datetime.now(UTC).replace(second=0, microsecond=0)

        def at(minutes_ago: int) -> str:
            return f"{now - timedelta(minutes=minutes_ago):%Y-%m-%d %H:%M} UTC"

        # Impact start to detection 10 and 20 min, to mitigation 40 and 60, to resolution 60
        # and 120: medians 15 min, 50 min and 1 h 30 min.
        for title, detect, mitigate, resolve in (("Search", 10, 40, 60), ("Queue", 20, 60, 120)):
            start = 180
            response = stack.driver.command(
                "alice",
                "#general",
                f"record {title} outage; started {at(start)}; detected {at(start - detect)}; "
                f"mitigated {at(start - mitigate)}; resolved {at(start - resolve)}",
            )
            assert response.status == 200, response.body
        channel = declare(stack, "Checkout is down", number=3)
        stack.driver.command("alice", channel.id, "sev 1")
        stack.driver.command("bob", "#general", "declare")
        (modal,) = stack.workspace.open_views("bob")
        stack.driver.submit_view(
            "bob", modal.id, {"title_input": "Credential leak", "private_checkbox": ["private"]}
        )
        stack.settle()

        with browser().open(f"{stack.base_url}/insights?token={token}") as page:
            html = page.read().decode()

    per_week = html.split("<h2>Incidents per week</h2>", 1)[1].split("<h2>", 1)[0]
    counts = [int(n) for n in re.findall(r"<title>[^<:]+: (\d+)</title>", per_week)]
    assert len(counts) == 13 and sum(counts) == 3, counts  # the private one is not shown
    table = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = {
        cells[0]: cells[1:]
        for cells in (
            re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in table.split("</tr>") if row
        )
        if cells
    }
    assert rows["SEV3"] == ["2", "15 min", "50 min", "1 h 30 min"]
    assert rows["SEV1"] == ["1", "0 s", "—", "—"]  # open: declared as detected, not mitigated
    assert rows["SEV2"] == rows["SEV4"] == ["0", "—", "—", "—"]
    speed = html.split("<h2>How fast, by severity</h2>", 1)[1].split("<table>", 1)[0]
    assert "<svg" in speed and "SEV3" in speed
