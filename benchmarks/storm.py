"""A storm of incidents against a local workspace that enforces Slack's rate-limit tiers.

Per database: 50 ``/incident declare`` commands spread evenly over one minute (``--quick``: 25
over 10 s), against ``incidentbot serve`` (one on SQLite; two replicas sharing PostgreSQL, the
declares alternating between them) and a local workspace enforcing Slack's tiers at their real
rates (``incidentbot/emulator/tiers.py``: Tier 2 takes 20 calls at once, then one every 3 s;
a channel one message a second after 3). The same storm runs twice in the same session: with
the bot pacing its calls (``slack/pacing.py``), and with ``INCIDENTBOT_SLACK_PACING=off``,
meeting Slack's 429s and their Retry-After instead: the floor for what pacing costs or saves.

An incident is *usable* once its channel exists with the declarer (its lead) in it, its summary
is posted and pinned, and it is announced in #incidents; the harness polls the workspace (and
the database, for which message is whose) and takes the first time it sees each incident so.
Afterwards: how many of each thing Slack shows (``lost``: incidents, channels or announcements
short of one per declare; ``doubled``: ``-2`` channels, second summaries, second announcements),
how many calls Slack refused with 429, jobs given up, and when the last topic and bookmark (the
decorations, queued after what makes the incident usable) were set.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field

from sqlalchemy import create_engine, func, select

from benchmarks import servers
from benchmarks.common import Options, Row, Target, fresh_database, percentile
from incidentbot.domain.models import Incident, Job, JobState
from incidentbot.emulator import LocalSlack, Workspace

PEOPLE = ("alice", "bob", "chandra", "dana", "erik")
ANNOUNCE_CHANNEL = "CINCIDENTS"
POLL = 0.25
SUFFIXED = re.compile(r"-\d+$")


@dataclass
class _Storm:
    declares: int
    seconds: float
    sent: dict[str, float] = field(default_factory=dict)  # title -> monotonic time sent
    declarers: dict[str, str] = field(default_factory=dict)  # title -> user id
    usable: dict[str, float] = field(default_factory=dict)  # title -> seconds to usable
    decorated: dict[str, float] = field(default_factory=dict)  # title -> monotonic time
    failed_acks: int = 0


def _declare_all(storm: _Storm, bots: list[servers.Server], slack: LocalSlack) -> None:
    started = time.monotonic()
    for number in range(storm.declares):
        due = started + number * storm.seconds / storm.declares
        time.sleep(max(0.0, due - time.monotonic()))
        title = f"Storm {number:02d} payments degraded"
        person = PEOPLE[number % len(PEOPLE)]
        storm.declarers[title] = slack.workspace.resolve_user(person).id
        storm.sent[title] = time.monotonic()
        response = bots[number % len(bots)].driver.command(person, "#general", f"declare {title}")
        if response.status != 200:
            storm.failed_acks += 1


def _look(storm: _Storm, ws: Workspace, engine) -> None:  # type: ignore[no-untyped-def]
    """Note every incident that became usable or decorated since the last look."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Incident.title, Incident.channel_id, Incident.summary_ts, Incident.announcement_ts
            )
        ).all()
    now = time.monotonic()
    for title, channel_id, summary_ts, announcement_ts in rows:
        if title not in storm.sent or channel_id is None:
            continue
        channel = ws.channel(channel_id)
        if channel is None:
            continue
        with ws.lock:
            members, pins = set(channel.members), list(channel.pins)
            topic, bookmarks = channel.topic.get("value"), list(channel.bookmarks)
        if title not in storm.usable and (
            storm.declarers[title] in members
            and summary_ts in pins
            and announcement_ts is not None
            and ws.message(ANNOUNCE_CHANNEL, announcement_ts) is not None
        ):
            storm.usable[title] = now - storm.sent[title]
        if title not in storm.decorated and topic and bookmarks:
            storm.decorated[title] = now


def _counts(storm: _Storm, ws: Workspace, engine) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """What Slack shows once the storm is over: what is missing, what is there twice."""
    with engine.connect() as conn:
        incidents = conn.execute(select(func.count()).select_from(Incident)).scalar_one()
        dead = conn.execute(
            select(func.count()).select_from(Job).where(Job.state == JobState.DEAD)
        ).scalar_one()
    channels = [c for c in ws.channels() if c.name.startswith("inc-")]
    suffixed = sum(1 for c in channels if SUFFIXED.search(c.name))

    def steps(channel: str) -> Counter[object]:
        return Counter(
            ((m.metadata or {}).get("event_payload") or {}).get("step")
            for m in ws.messages(channel)
            if m.user == ws.bot_user.id
        )

    summaries = [steps(c.id)["summary"] for c in channels]
    announcements = steps(ANNOUNCE_CHANNEL)["announcement"]
    lost = (
        max(0, storm.declares - incidents)
        + max(0, storm.declares - (len(channels) - suffixed))
        + max(0, storm.declares - announcements)
    )
    doubled = (
        suffixed
        + sum(max(0, count - 1) for count in summaries)
        + max(0, announcements - storm.declares)
    )
    refused = [call for call in ws.calls() if call.status == 429]
    return {"lost": lost, "doubled": doubled, "429s": len(refused), "dead jobs": dead}


def _run_storm(options: Options, db: str, *, pacing: bool) -> dict[str, float]:
    declares, seconds = (25, 10.0) if options.quick else (50, 60.0)
    timeout = 300.0 if options.quick else 600.0
    storm = _Storm(declares, seconds)
    with ExitStack() as stack:
        url = stack.enter_context(fresh_database(db, options.workdir))
        slack = stack.enter_context(servers.local_slack())
        replicas = 2 if db == "postgresql" else 1
        bots = [
            stack.enter_context(
                servers.bot(
                    slack,
                    url,
                    options.workdir,
                    INCIDENTBOT_SLACK_PACING="on" if pacing else "off",
                )
            )
            for _ in range(replicas)
        ]
        engine = create_engine(url)
        stack.callback(engine.dispose)
        ws = slack.workspace
        ws.tiers.enable()  # real rates, from now on: start-up calls met a full allowance
        sender = threading.Thread(target=_declare_all, args=(storm, bots, slack), daemon=True)
        first = time.monotonic()
        sender.start()
        deadline = first + timeout
        while time.monotonic() < deadline:
            time.sleep(POLL)
            _look(storm, ws, engine)
            if not sender.is_alive() and len(storm.decorated) == len(storm.usable) == declares:
                break
        sender.join()
        # Everything queued has had its chance: give late retries a moment, then count.
        time.sleep(2.0)
        counts = _counts(storm, ws, engine)
    usable = list(storm.usable.values())
    never = declares - len(usable)
    return {
        "usable": len(usable),
        "p50": percentile(usable, 0.50),
        "p95": percentile(usable, 0.95) if not never else float("nan"),
        "max": max(usable) if not never else float("nan"),
        "decorated": (max(storm.decorated.values()) - first)
        if len(storm.decorated) == declares
        else float("nan"),
        **counts,
        "failed acks": storm.failed_acks,
    }


def run(options: Options) -> list[Row]:
    units = {"p50": "s", "p95": "s", "max": "s", "decorated": "s"}
    rows = []
    for db in options.databases:
        replicas = "2 replicas, " if db == "postgresql" else ""
        declares, seconds = (25, 10) if options.quick else (50, 60)
        for pacing in (True, False):
            figures = _run_storm(options, db, pacing=pacing)
            targets = [
                Target("usable", ">=", declares),
                Target("lost", "<=", 0),
                Target("doubled", "<=", 0),
                Target("dead jobs", "<=", 0),
            ]
            rows.append(
                Row(
                    suite="storm",
                    name=(
                        f"{declares} declares in {seconds} s, {replicas}{db}, "
                        f"{'paced' if pacing else 'unpaced (floor)'}"
                    ),
                    figures=figures,
                    units=units,
                    targets=targets,
                )
            )
    return rows
