"""Close to postmortem, against a local workspace where every Web API call takes L.

Per database and per latency L (80 and 250 ms, ``Workspace.latency``): ``incidentbot serve``
with one declared incident whose timeline is then grown to 50 or 5,000 entries (bulk inserts,
as a long incident leaves it). Once its Slack work is done, a signed ``/incident close`` is
sent from its channel, and the harness looks every 5 ms for the postmortem's file in that
channel: the figure is the time from just before the POST to the file being there.

The floor is what the close cannot do without: the upload, Slack's three calls (ask for an
upload address, send the bytes, complete it), 3L, plus generating the postmortem itself, measured
in this process on the same incident and database (``generate_postmortem``, both formats,
without the upload). Target: within the floor and 200 ms.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, insert, select, update

from benchmarks import servers
from benchmarks.common import Options, Row, Target, fresh_database, median_of
from benchmarks.postmortem import _generation
from incidentbot.domain.models import Incident, Job, JobState, TimelineEntry
from incidentbot.emulator import LocalSlack

LATENCIES = (0.08, 0.25)
SIZES = (50, 5_000)
LOOK_EVERY = 0.005
PEOPLE = ("bob", "chandra", "dana")


def _grow(slack: LocalSlack, engine: Engine, number: int, size: int) -> int:
    """Notes by several people until incident ``number`` has ``size`` entries; its id."""
    ids = [slack.workspace.resolve_user(person).id for person in PEOPLE]
    with engine.begin() as conn:
        incident = conn.execute(
            select(Incident.id, Incident.declared_at, Incident.last_entry_number).where(
                Incident.number == number
            )
        ).one()
        more = max(size - incident.last_entry_number, 0)
        conn.execute(
            insert(TimelineEntry),
            [
                {
                    "incident_id": incident.id,
                    "number": incident.last_entry_number + index,
                    "kind": "note",
                    "author_id": ids[index % len(ids)],
                    "occurred_at": incident.declared_at + timedelta(seconds=index),
                    "recorded_at": incident.declared_at + timedelta(seconds=index),
                    "text": f"Step {index}: <@{ids[(index + 1) % len(ids)]}> checked the pods",
                    "also_marked_by": [],
                }
                for index in range(1, more + 1)
            ],
        )
        conn.execute(
            update(Incident)
            .where(Incident.id == incident.id)
            .values(last_entry_number=Incident.last_entry_number + more)
        )
        return int(incident.id)


def _quiet(engine: Engine, timeout: float = 60.0) -> None:
    """Wait until no job is pending or running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            busy = conn.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.state.in_([JobState.PENDING, JobState.RUNNING]))
            )
        if not busy:
            return
        time.sleep(0.05)
    raise TimeoutError("the bot's Slack work never finished")


def _close_to_file(slack: LocalSlack, bot: servers.Server, channel_id: str) -> float:
    before = len(slack.workspace.files_in(channel_id))
    started = time.monotonic()
    response = bot.driver.command("alice", channel_id, "close")
    if response.status != 200:
        raise RuntimeError(f"close failed: {response.status} {response.body}")
    deadline = started + 60
    while time.monotonic() < deadline:
        if len(slack.workspace.files_in(channel_id)) > before:
            return time.monotonic() - started
        time.sleep(LOOK_EVERY)
    raise TimeoutError("no postmortem was uploaded")


def _measure(options: Options, db: str, latency: float, size: int) -> dict[str, float]:
    from incidentbot.infra.db import make_engine, make_session_factory

    rounds = max(2, options.rounds)
    seconds, generation = [], []
    for _ in range(rounds):
        with ExitStack() as stack:
            url = stack.enter_context(fresh_database(db, options.workdir))
            slack = stack.enter_context(servers.local_slack())
            bot = stack.enter_context(servers.bot(slack, url, options.workdir))
            engine = create_engine(url)
            stack.callback(engine.dispose)
            response = bot.driver.command("alice", "#general", "declare Checkout API down")
            if response.status != 200:
                raise RuntimeError(f"declare failed: {response.status}")
            _quiet(engine)
            with engine.connect() as conn:
                channel_id = conn.scalar(select(Incident.channel_id).where(Incident.number == 1))
            incident_id = _grow(slack, engine, 1, size)
            slack.workspace.latency = latency
            _quiet(engine)
            seconds.append(_close_to_file(slack, bot, str(channel_id)))
            slack.workspace.latency = 0.0
            bench_engine = make_engine(url)
            stack.callback(bench_engine.dispose)
            work = _generation(make_session_factory(bench_engine), "both")
            work(incident_id)  # warm: templates compiled, rules loaded, as in a running bot
            started = time.perf_counter()
            work(incident_id)
            generation.append(time.perf_counter() - started)
    figures = median_of(
        [{"close to file": s, "generation": g} for s, g in zip(seconds, generation, strict=True)]
    )
    floor = 3 * latency + figures["generation"]
    figures["floor 3L + generation"] = floor
    figures["over the floor"] = (figures["close to file"] - floor) * 1000
    return figures


def run(options: Options) -> list[Row]:
    rows = []
    for db in options.databases:
        for latency in LATENCIES:
            for size in SIZES:
                figures = _measure(options, db, latency, size)
                rows.append(
                    Row(
                        suite="close",
                        name=f"close to postmortem, {size:,} entries, "
                        f"L = {latency * 1000:.0f} ms, {db}",
                        figures=figures,
                        units={
                            "close to file": "s",
                            "generation": "s",
                            "floor 3L + generation": "s",
                            "over the floor": "ms",
                        },
                        targets=[Target("over the floor", "<=", 200)],
                    )
                )
    return rows


if __name__ == "__main__":
    import argparse

    from benchmarks.common import table

    parser = argparse.ArgumentParser()
    parser.add_argument("--databases", default="sqlite")
    args = parser.parse_args()
    opts = Options(
        rounds=1, quick=True, databases=tuple(args.databases.split(",")), workdir=Path("/tmp")
    )
    print(table(run(opts)))
