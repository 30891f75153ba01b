"""A storm of declares against a local workspace enforcing Slack's rate-limit tiers.

Time runs 10 times faster in the workspace's limits and in the bot's pacing alike (a Tier-2
method's 3 s between calls becomes 300 ms, a channel's second 100 ms), so the storm outgrows
Slack's bursts in seconds.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from incidentbot.domain.models import Incident, Job, JobState, SlackPace
from incidentbot.entrypoints.local import LocalStack
from incidentbot.slack.pacing import TIER_2

SCALE = 0.1
# More declares than the bot's Tier-2 burst, so that channel creation, pins, topics and
# bookmarks all wait for turns.
DECLARES = TIER_2.burst + 5
PEOPLE = ("alice", "bob", "chandra", "dana", "erik")


@pytest.fixture
def storm(db_url: str) -> Iterator[LocalStack]:
    with LocalStack(
        database_url=db_url, slack_pacing=True, slack_pace_scale=SCALE, virtual_time=True
    ) as running:
        running.workspace.tiers.enable(scale=SCALE)
        yield running


def _steps(stack: LocalStack, channel: str) -> Counter[object]:
    ws = stack.workspace
    return Counter(
        ((m.metadata or {}).get("event_payload") or {}).get("step")
        for m in ws.messages(channel)
        if m.user == ws.bot_user.id
    )


def test_a_storm_of_declares_makes_every_incident_usable_once_within_slacks_tiers(
    storm: LocalStack,
) -> None:
    ws = storm.workspace
    titles = {f"Storm {n:02d} checkout errors": PEOPLE[n % len(PEOPLE)] for n in range(DECLARES)}

    def declare(title: str) -> int:
        return storm.driver.command(titles[title], "#general", f"declare {title}").status

    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(declare, titles)) == {200}
    storm.settle(timeout=90)

    with storm.runtime.uow(read_only=True) as uow:
        incidents = uow.session.scalars(select(Incident)).all()
        dead = uow.session.scalar(
            select(func.count()).select_from(Job).where(Job.state == JobState.DEAD)
        )
        buckets = set(uow.session.scalars(select(SlackPace.key)))
    assert sorted(i.title for i in incidents) == sorted(titles)
    assert dead == 0
    channels = [c for c in ws.channels() if c.name.startswith("inc-")]
    assert len(channels) == DECLARES
    assert not [c.name for c in channels if re.search(r"-\d+$", c.name)], "a -2 channel"
    for incident in incidents:
        where = f"INC-{incident.number}"
        channel = ws.channel(incident.channel_id)
        assert channel is not None, where
        declarer = ws.resolve_user(titles[incident.title]).id
        assert declarer in channel.members, where
        assert incident.summary_ts in ws.pins(channel.id), where
        assert _steps(storm, channel.id)["summary"] == 1, where
        assert ws.message("CINCIDENTS", incident.announcement_ts) is not None, where
        # The decorations, after what made the incident usable.
        assert channel.topic["value"].startswith("SEV3"), where
        assert [b["title"] for b in channel.bookmarks] == [f"INC-{incident.number} page"], where
        messages = ws.messages(channel.id, include_system=True)
        topic_at = next(m.ts for m in messages if m.subtype == "channel_topic")
        assert float(incident.summary_ts) < float(topic_at), where
    assert _steps(storm, "CINCIDENTS")["announcement"] == DECLARES
    # The bot waited its turns, shared in the database: Slack refused next to nothing.
    assert {"conversations.create", "pins.add", "chat.postMessage:CINCIDENTS"} <= buckets
    assert sum(ws.tiers.refused.values()) <= 2, ws.tiers.refused
    assert ws.tiers.admitted["conversations.create"] == DECLARES
