"""Public postmortems replayed after the fact, as their responders would type them.

Each test enters a well-known incident's published timeline into the bot through the real
endpoint (notes in our own words, times as published), closes it and checks that the metrics
(on the incident and in the uploaded postmortem) are the published ones, to the minute. They
cross midnight and time zones: responders type their own local times.

- GitHub, 2018-10-21 (post-incident analysis on github.blog): the network partition at 22:52 UTC,
  monitoring alerts from 22:54, status yellow at 23:09 and red at 23:11; the failover back to
  the original topology at 16:24 UTC on 22 October, all webhooks and Pages builds processed
  and the site green at 23:03 UTC: "24 hours and 11 minutes" of degraded service.
- Cloudflare, 2019-07-02 ("Details of the Cloudflare outage on July 2, 2019"): a WAF rule
  deployed at 13:42 UTC, the first alert at 13:45, the global WAF kill at 14:07 with traffic
  back to normal by 14:09 (a 27-minute outage); the WAF re-enabled globally at 14:52.
- GitLab.com, 2017-01-31 (GitLab's postmortem of the database outage): the primary database's
  data removed around 23:30 UTC on 31 January and noticed at once; GitLab.com back around
  18:00 UTC on 1 February, as catalogued by postmortem collections.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from incidentbot.domain.metrics import compute_metrics
from incidentbot.domain.models import Incident, Postmortem
from incidentbot.entrypoints.local import LocalStack
from tests.e2e import ephemeral_texts, incident_channel


@pytest.fixture
def utc_stack(db_url: str) -> Iterator[LocalStack]:
    """The bot showing postmortem times in UTC, as the published timelines give them."""
    with LocalStack(database_url=db_url, timezone="UTC") as running:
        yield running


def run(stack: LocalStack, user: str, channel: str, text: str) -> str:
    """Type ``/incident <text>`` as ``user``; the private reply they saw."""
    response = stack.driver.command(user, channel, text)
    assert response.status == 200, response.body
    replies = ephemeral_texts(stack, user)
    assert replies, f"no reply to {text!r}"
    return replies[-1]


def incident(stack: LocalStack, number: int) -> Incident:
    with stack.runtime.uow() as uow:
        found = uow.session.scalar(select(Incident).where(Incident.number == number))
        assert found is not None
        found.timeline, found.roles  # noqa: B018 - loaded for use after the session
        return found


def postmortem(stack: LocalStack, number: int) -> str:
    with stack.runtime.uow() as uow:
        stored = uow.session.scalar(
            select(Postmortem)
            .join(Incident)
            .where(Incident.number == number)
            .order_by(Postmortem.version.desc())
        )
        assert stored is not None, "no postmortem generated"
        return stored.markdown


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def metric_rows(markdown: str) -> dict[str, str]:
    """The metrics table's value for each label."""
    rows = {}
    for line in markdown.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith(("Time to", "Impact duration")):
            rows[cells[0]] = cells[1]
    return rows


def test_github_2018_recorded_after_the_fact_gives_the_published_24_h_11_min(
    utc_stack: LocalStack,
):
    stack = utc_stack
    reply = run(
        stack,
        "dana",
        "#general",
        "record MySQL topology split after a network partition; "
        "started 2018-10-21 22:52 UTC; detected 2018-10-21 22:54 UTC; "
        "declared 2018-10-21 23:09 UTC; mitigated 2018-10-22 16:24 UTC; "
        "resolved 2018-10-22 23:03 UTC; sev 2",
    )
    assert "INC-1" in reply and "after the fact" in reply
    stack.settle()
    channel = incident_channel(stack, 1)
    for person in ("bob", "erik"):
        stack.driver.join(person, channel.id)
    # Across midnight UTC, and in the responders' own zones: bob is in Berlin (CEST in October),
    # erik in London (BST).
    run(stack, "bob", channel.id, "note at 2018-10-22 01:07 Deployment tooling locked")
    run(stack, "erik", channel.id, "sev 1 at 2018-10-22 00:11 BST")
    run(stack, "erik", channel.id, "note at 2018-10-22 00:13 Database engineers paged")
    run(stack, "dana", channel.id, "status identified at 2018-10-22 00:05 UTC")
    run(stack, "dana", channel.id, "status monitoring at 2018-10-22 16:24 UTC")
    run(stack, "dana", channel.id, "close")
    stack.settle()

    recorded = incident(stack, 1)
    assert recorded.after_the_fact
    assert recorded.impact_started_at == utc(2018, 10, 21, 22, 52)
    assert recorded.declared_at == utc(2018, 10, 21, 23, 9)
    metrics = compute_metrics(recorded, now=utc(2026, 12, 1))
    assert metrics.time_to_detect == timedelta(minutes=2)
    assert metrics.time_to_mitigate == timedelta(hours=17, minutes=32)
    assert metrics.time_to_resolve == timedelta(hours=24, minutes=11)
    assert metrics.duration == timedelta(hours=17, minutes=32)  # impact ends at mitigation
    assert metrics.acknowledged_at is None  # not measured after the fact
    assert metrics.highest_severity == "SEV1"
    assert metrics.time_in_severity == {
        "SEV1": timedelta(hours=23, minutes=52),  # from 23:11 to 23:03 the next day
        "SEV2": timedelta(minutes=19),  # from 22:52 to 23:11
    }

    document = postmortem(stack, 1)
    assert metric_rows(document) == {
        "Time to detect": "2 min",
        "Time to acknowledge": "—",
        "Time to mitigate": "17 h 32 min",
        "Time to resolve": "1 d 11 min",
        "Impact duration": "17 h 32 min",
    }
    # The timeline in the order things happened, whatever order they were typed in.
    timeline = document[document.index("## Timeline") : document.index("## Metrics")]
    order = [
        timeline.index("22:52"),
        timeline.index("22:54"),
        timeline.index("Deployment tooling locked"),
        timeline.index("Database engineers paged"),
        timeline.index("16:24"),
        timeline.index("23:03"),
    ]
    assert order == sorted(order)


def test_cloudflare_2019_replayed_in_a_live_incident_by_responders_in_two_zones(
    utc_stack: LocalStack,
):
    stack = utc_stack
    assert stack.driver.command("erik", "#general", "declare WAF rule exhausts CPU").status == 200
    stack.settle()
    channel = incident_channel(stack, 1)
    stack.driver.join("alice", channel.id)
    # erik types London time (BST, UTC+1 in July), alice Los Angeles time (PDT, UTC-7).
    run(stack, "erik", channel.id, "started at 2019-07-02 14:42 WAF rule deployed globally")
    run(stack, "alice", channel.id, "detected at 2019-07-02 06:45 First alert on the WAF probe")
    run(stack, "erik", channel.id, "note at 2019-07-02 15:02 BST Proposal: global WAF kill")
    run(stack, "erik", channel.id, "sev 1 at 2019-07-02 14:45 BST")
    run(stack, "alice", channel.id, "note at 2019-07-02 07:07 Global WAF kill executed")
    run(stack, "erik", channel.id, "mitigated at 2019-07-02 15:09 BST traffic back to normal")
    reply = run(stack, "alice", channel.id, "resolve at 2019-07-02 07:52 WAF re-enabled")
    assert "Recorded" in reply and "07:52 PDT" in reply
    # The declaration happened then too: #1 is the declaration.
    reply = run(stack, "erik", channel.id, "edit 1 at 2019-07-02 14:50 BST")
    assert "#1" in reply
    run(stack, "erik", channel.id, "close")
    stack.settle()

    recorded = incident(stack, 1)
    assert recorded.declared_at == utc(2019, 7, 2, 13, 50)
    metrics = compute_metrics(recorded, now=utc(2026, 12, 1))
    assert metrics.impact_started_at == utc(2019, 7, 2, 13, 42)
    assert metrics.time_to_detect == timedelta(minutes=3)
    assert metrics.time_to_mitigate == timedelta(minutes=27)
    assert metrics.time_to_resolve == timedelta(hours=1, minutes=10)
    assert metrics.duration == timedelta(minutes=27)
    rows = metric_rows(postmortem(stack, 1))
    assert rows["Time to detect"] == "3 min"
    assert rows["Time to mitigate"] == "27 min"
    assert rows["Time to resolve"] == "1 h 10 min"
    assert rows["Impact duration"] == "27 min"


def test_gitlab_2017_recorded_in_local_time_across_midnight(utc_stack: LocalStack):
    stack = utc_stack
    # bob is in Berlin (CET, UTC+1 in winter): 00:30 on 1 February is 23:30 UTC on 31 January.
    run(
        stack,
        "bob",
        "#general",
        "record Primary database data directory removed; started 2017-02-01 00:30; "
        "detected at 2017-02-01 00:30; resolved 2017-02-01 19:00; sev 1",
    )
    stack.settle()
    channel = incident_channel(stack, 1)
    run(stack, "bob", channel.id, "note at 2017-02-01 01:36 Copying the staging database")
    run(stack, "bob", channel.id, "close")
    stack.settle()

    recorded = incident(stack, 1)
    assert recorded.impact_started_at == utc(2017, 1, 31, 23, 30)
    metrics = compute_metrics(recorded, now=utc(2026, 12, 1))
    assert metrics.time_to_detect == timedelta(0)
    assert metrics.time_to_resolve == timedelta(hours=18, minutes=30)
    assert metrics.time_to_mitigate == timedelta(hours=18, minutes=30)  # no mitigation given
    document = postmortem(stack, 1)
    assert metric_rows(document)["Time to resolve"] == "18 h 30 min"
    assert "2017-01-31 23:30 UTC" in document
