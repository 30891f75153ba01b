"""Slash-command acknowledgements and event ingestion over HTTP, against the floors.

Per database: one ``incidentbot serve`` and two floor apps on the same server stack (a bare
Bolt app that only acks, and the durable floor, which commits each note to one table of its own
database before acking: see ``benchmarks/floor.py``), one declared incident. Each round, at 1, 8
and 32 concurrent clients, the bare floor, the durable floor and then the bot take signed
``/incident note`` commands for a fixed time; ratios are taken within the round against the
durable floor, and the figures reported are medians over rounds. Then pin and
:pushpin: events, each on its own message, are sent once each by 8 clients: ``events/s`` is how
fast they were acknowledged, and the bot acknowledges an event only once its timeline entry is
committed (checked afterwards: every one must be on the timeline).
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select

from benchmarks import servers
from benchmarks.common import Options, Row, Target, fresh_database, median_of, percentile
from incidentbot.domain.models import TimelineEntry
from incidentbot.emulator import LocalSlack

LEVELS = (1, 8, 32)
PEOPLE = ("alice", "bob", "chandra")
EVENT_CLIENTS = 8


def _incident_channel(slack: LocalSlack, server: servers.Server, timeout: float = 30.0) -> str:
    """Declare an incident as alice and wait for its new channel, with everyone in it."""
    before = {channel.id for channel in slack.workspace.channels()}
    response = server.driver.command("alice", "#general", "declare Checkout API returning 500s")
    if response.status != 200:
        raise RuntimeError(f"declare failed: {response.status} {response.body}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for channel in slack.workspace.channels():
            if channel.id not in before and channel.name.startswith("inc-"):
                for person in PEOPLE[1:]:
                    server.driver.join(person, channel.id)
                return channel.id
        time.sleep(0.05)
    raise TimeoutError("the incident channel was not created")


def _notes(server: servers.Server, channel_id: str, count: int) -> list[dict[str, str]]:
    people = itertools.cycle(PEOPLE)
    return [
        servers.form(server.driver.command_fields(next(people), channel_id, f"note bench step {i}"))
        for i in range(count)
    ]


def _latency(result: dict) -> dict[str, float]:
    latencies = result["latencies"]
    ok = int(result["statuses"].get("200", 0))
    return {
        "p50": percentile(latencies, 0.50) * 1000,
        "p95": percentile(latencies, 0.95) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "cmd/s": ok / result["elapsed"],
        "failed": len(latencies) - ok,
    }


def _commands(
    options: Options,
    bot: servers.Server,
    floors: tuple[servers.Server, servers.Server],
    channel_id: str,
    db: str,
) -> list[Row]:
    """Each round and level: the bare floor, the durable floor, then the bot, on the same
    bodies. The targets compare the bot with the durable floor (the same stack committing the
    note before ``ack()``); the bare floor's p50 is shown beside it."""
    seconds = options.seconds
    bare, durable = floors
    # Enough distinct commands that a level rarely cycles; each carries its own response_url.
    bodies = _notes(bot, channel_id, 3000 if options.quick else 8000)
    per_level: dict[int, list[dict[str, float]]] = {level: [] for level in LEVELS}

    def measure(server: servers.Server, level: int) -> dict[str, float]:
        return _latency(
            servers.send(
                server, bodies, concurrency=level, seconds=seconds, workdir=options.workdir
            )
        )

    for _ in range(options.rounds):
        for level in LEVELS:
            base, floor, mine = measure(bare, level), measure(durable, level), measure(bot, level)
            per_level[level].append(
                {
                    **mine,
                    "bare p50": base["p50"],
                    "durable p50": floor["p50"],
                    "durable p99": floor["p99"],
                    "durable cmd/s": floor["cmd/s"],
                    "p50 ratio": mine["p50"] / floor["p50"],
                    "p99 ratio": mine["p99"] / floor["p99"],
                    "cmd/s ratio": mine["cmd/s"] / floor["cmd/s"],
                    "bare p50 ratio": mine["p50"] / base["p50"],
                }
            )
    rows = []
    units = {
        "p50": "ms",
        "p95": "ms",
        "p99": "ms",
        "bare p50": "ms",
        "durable p50": "ms",
        "durable p99": "ms",
        "cmd/s": "/s",
        "durable cmd/s": "/s",
        "p50 ratio": "x",
        "p99 ratio": "x",
        "cmd/s ratio": "x",
        "bare p50 ratio": "x",
        "failed": "",
    }
    for level in LEVELS:
        targets = [
            Target("failed", "<=", 0),
            Target("p50 ratio", "<=", 1.5),
            Target("p99 ratio", "<=", 2.0),
            Target("cmd/s ratio", ">=", 0.7),
        ]
        if level == 32:
            targets += [Target("p99", "<=", 250), Target("cmd/s", ">=", 200)]
        rows.append(
            Row(
                suite="ack",
                name=f"/incident note, {level} client{'s' if level > 1 else ''}, {db}",
                figures=median_of(per_level[level]),
                units=units,
                targets=targets,
            )
        )
    return rows


def _timeline_size(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(TimelineEntry)) or 0
    finally:
        engine.dispose()


def _pins(slack: LocalSlack, server: servers.Server, channel_id: str, count: int) -> list[dict]:
    """``count`` new messages, half pinned and half given a :pushpin:, as unsent events."""
    people = itertools.cycle(PEOPLE)
    ids = {p: slack.workspace.user_by_name(p).id for p in PEOPLE}  # type: ignore[union-attr]
    bodies = []
    for i in range(count):
        author = next(people)
        message = slack.workspace.post_message(channel_id, ids[author], f"saw error spike {i}")
        marker = next(people)
        if i % 2:
            payload = server.driver.pin_envelope(marker, channel_id, message.ts)
        else:
            payload = server.driver.reaction_envelope(
                "reaction_added", marker, channel_id, message.ts
            )
        bodies.append(servers.envelope(payload))
    return bodies


def _events(
    options: Options,
    slack: LocalSlack,
    bot: servers.Server,
    floor: servers.Server,
    channel_id: str,
    database_url: str,
    db: str,
) -> Row:
    count = 600 if options.quick else 2000
    rounds = []
    for _ in range(options.rounds):
        base = servers.send(
            floor,
            _pins(slack, floor, channel_id, count),
            concurrency=EVENT_CLIENTS,
            workdir=options.workdir,
        )
        before = _timeline_size(database_url)
        mine = servers.send(
            bot,
            _pins(slack, bot, channel_id, count),
            concurrency=EVENT_CLIENTS,
            workdir=options.workdir,
        )
        recorded = _timeline_size(database_url) - before
        rounds.append(
            {
                "events/s": int(mine["statuses"].get("200", 0)) / mine["elapsed"],
                "floor events/s": int(base["statuses"].get("200", 0)) / base["elapsed"],
                "p99": percentile(mine["latencies"], 0.99) * 1000,
                "missing": count - recorded,
            }
        )
    figures = median_of(rounds)
    figures["ratio"] = figures["floor events/s"] / figures["events/s"]
    return Row(
        suite="events",
        name=f"pin_added + reaction_added, {EVENT_CLIENTS} clients, {db}",
        figures=figures,
        units={"events/s": "/s", "floor events/s": "/s", "p99": "ms", "ratio": "x", "missing": ""},
        targets=[Target("events/s", ">=", 500), Target("missing", "<=", 0)],
    )


def run(options: Options) -> list[Row]:
    rows: list[Row] = []
    with servers.local_slack() as slack, servers.floor(slack, options.workdir) as floor:
        for db in options.databases:
            with (
                fresh_database(db, options.workdir) as database_url,
                fresh_database(db, options.workdir) as floor_database_url,
                servers.floor(slack, options.workdir, database_url=floor_database_url) as durable,
                servers.bot(slack, database_url, options.workdir) as bot,
            ):
                channel_id = _incident_channel(slack, bot)
                time.sleep(1.0)  # let the declare's Slack work finish before measuring
                rows += _commands(options, bot, (floor, durable), channel_id, db)
                rows.append(_events(options, slack, bot, floor, channel_id, database_url, db))
    return rows


if __name__ == "__main__":
    import argparse

    from benchmarks.common import table

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    opts = Options(
        rounds=1 if args.quick else 3,
        seconds=3.0 if args.quick else 8.0,
        quick=args.quick,
        databases=tuple(args.databases.split(",")),
        workdir=Path("/tmp"),
    )
    print(table(run(opts)))
