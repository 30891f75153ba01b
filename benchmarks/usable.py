"""Time to a usable incident, against a local workspace where every Web API call takes L.

Per database and per latency L (80 and 250 ms, ``Workspace.latency``): ``incidentbot serve``
takes one ``/incident declare`` alone (a few times; the median counts), then ten at once. An
incident is *usable* once its channel exists with the declarer (its lead) in it, its summary is
posted and pinned, and it is announced in #incidents; the harness looks every 5 ms and takes the
first time it sees each incident so, counted from just before its signed POST was sent.

The floor is the critical path: creating the channel, then posting the summary, then pinning
it; inviting the declarer and announcing need only the channel's id, so they can go beside the
summary. Three round trips: 3L. Targets: one declare within 1.2 x 3L, and the p95 of ten at
once within twice one alone.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

from sqlalchemy import Engine, create_engine, select

from benchmarks import servers
from benchmarks.common import Options, Row, Target, fresh_database, percentile
from incidentbot.domain.models import Incident
from incidentbot.emulator import LocalSlack

LATENCIES = (0.08, 0.25)
AT_ONCE = 10
ANNOUNCE_CHANNEL = "CINCIDENTS"
LOOK_EVERY = 0.005
# Slack's one message a second in a channel, and a little more.
ANNOUNCE_SPACING = 1.2
PEOPLE = ("alice", "bob", "chandra", "dana", "erik")


def _usable_titles(slack: LocalSlack, engine: Engine, declarers: dict[str, str]) -> set[str]:
    """The titles among ``declarers`` whose incidents are usable now."""
    ws = slack.workspace
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Incident.title, Incident.channel_id, Incident.summary_ts, Incident.announcement_ts
            ).where(Incident.title.in_(list(declarers)))
        ).all()
    usable = set()
    for title, channel_id, summary_ts, announcement_ts in rows:
        channel = ws.channel(channel_id) if channel_id else None
        if channel is None or summary_ts is None or announcement_ts is None:
            continue
        with ws.lock:
            members, pins = set(channel.members), list(channel.pins)
        if (
            declarers[title] in members
            and summary_ts in pins
            and ws.message(ANNOUNCE_CHANNEL, announcement_ts) is not None
        ):
            usable.add(title)
    return usable


def _declare(
    slack: LocalSlack, bot: servers.Server, engine: Engine, titles: list[str], timeout: float
) -> list[float]:
    """Declare ``titles`` at once; seconds from each POST until its incident was usable."""
    declarers = {
        title: slack.workspace.resolve_user(PEOPLE[n % len(PEOPLE)]).id
        for n, title in enumerate(titles)
    }
    sent: dict[str, float] = {}
    lock = threading.Lock()

    def send(n: int, title: str) -> int:
        with lock:
            sent[title] = time.monotonic()
        person = PEOPLE[n % len(PEOPLE)]
        return bot.driver.command(person, "#general", f"declare {title}").status

    done: dict[str, float] = {}
    with ThreadPoolExecutor(len(titles)) as pool:
        statuses = pool.map(send, range(len(titles)), titles)
        deadline = time.monotonic() + timeout
        while len(done) < len(titles) and time.monotonic() < deadline:
            now = time.monotonic()
            for title in _usable_titles(slack, engine, declarers) - set(done):
                done[title] = now
            time.sleep(LOOK_EVERY)
        if set(statuses) != {200}:
            raise RuntimeError("a declare was not acknowledged")
    if len(done) < len(titles):
        raise TimeoutError(f"{len(titles) - len(done)} incidents never became usable")
    return [done[title] - sent[title] for title in titles]


def _measure(options: Options, db: str, latency: float) -> dict[str, float]:
    rounds = max(3, options.rounds)
    with ExitStack() as stack:
        url = stack.enter_context(fresh_database(db, options.workdir))
        slack = stack.enter_context(servers.local_slack())
        bot = stack.enter_context(servers.bot(slack, url, options.workdir))
        engine = create_engine(url)
        stack.callback(engine.dispose)
        slack.workspace.latency = latency  # after start-up: its own calls are not measured
        timeout = 60.0
        # A first declare warms the bot (directory caches, the announcement channel joined).
        _declare(slack, bot, engine, [f"Warm-up {latency}"], timeout)
        alone = []
        for n in range(rounds):
            # A lone declare is one nobody announced just before: Slack takes one message a
            # second in #incidents, and the bot keeps to it, so back to back the announcement
            # would wait out the one before it (a second) instead of measuring one declare.
            time.sleep(ANNOUNCE_SPACING)
            alone.append(_declare(slack, bot, engine, [f"Alone {n} at {latency}"], timeout)[0])
        together = _declare(
            slack, bot, engine, [f"Together {n} at {latency}" for n in range(AT_ONCE)], timeout
        )
    one = percentile(alone, 0.50)
    p95 = percentile(together, 0.95)
    floor = 3 * latency
    return {
        "alone": one,
        "floor 3L": floor,
        "alone / 3L": one / floor,
        f"p95 of {AT_ONCE}": p95,
        f"p95 of {AT_ONCE} / alone": p95 / one,
    }


def run(options: Options) -> list[Row]:
    rows = []
    for db in options.databases:
        for latency in LATENCIES:
            figures = _measure(options, db, latency)
            rows.append(
                Row(
                    suite="usable",
                    name=f"declare to usable, L = {latency * 1000:.0f} ms, {db}",
                    figures=figures,
                    units={
                        "alone": "s",
                        "floor 3L": "s",
                        "alone / 3L": "x",
                        f"p95 of {AT_ONCE}": "s",
                        f"p95 of {AT_ONCE} / alone": "x",
                    },
                    targets=[
                        Target("alone / 3L", "<=", 1.2),
                        Target(f"p95 of {AT_ONCE} / alone", "<=", 2.0),
                    ],
                )
            )
    return rows
