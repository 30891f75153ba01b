"""Postmortem generation for incidents with long timelines, against a bare Jinja2 floor.

One closed incident per size is seeded into a fresh SQLite database with bulk inserts: a
realistic mix of notes (some mentioning people or linking dashboards), pinned messages,
updates, status and severity changes, role changes and action items, by many authors, over
days that cross a daylight-saving change in the postmortem's zone.

Every measurement runs in a fresh subprocess, so its peak memory is its own: the process sets
up what a running bot already has (engine, renderer with compiled templates, review rules),
warms up on a tiny incident, then times the real path for one format (load the incident and its
timeline, look people up, run the blameless review, render) and reports the peak RSS above what
it held just before. ``both`` is the whole ``generate_postmortem`` service (both formats and the
stored version). The floor, measured the same way in the same round, is a plain (unsandboxed)
Jinja2 ``{% for %}`` loop over the same rows fetched with SQLAlchemy core.

``review`` (at 10,000 entries) is the blameless review alone, as ``draft_postmortem`` runs it
once it has read the incident, its timeline and its people (not timed again): the passages
people wrote (``passages_to_review``), the workspace's names among them (one query), and
``blameless.review`` with the built-in rules. Its row gives its share of ``both`` measured in the
same round, and what its time is made of.

``python -m benchmarks.postmortem [--quick] [--rounds N] [--sizes 100000]`` prints the table.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import (
    Options,
    Row,
    Target,
    fresh_database,
    median_of,
    peak_rss_bytes,
    rss_bytes,
    table,
)

SUITE = "postmortem"
SIZES = (100, 1_000, 10_000, 100_000)
QUICK_SIZES = (100, 1_000, 10_000)
GROWTH_BASE = 10_000
# PostgreSQL is measured at one size, beside SQLite: enough to see whether it changes the picture.
POSTGRES_SIZES = (10_000,)
FORMATS = ("md", "html")
# What each subprocess measures; the floors first, so each round compares neighbours.
MODES = ("floor-md", "md", "floor-html", "html", "both")
# The review alone is measured on the incident of this size, beside its whole generation.
REVIEW_SIZE = 10_000
REVIEW_MODE = "review"
ZONE = "America/New_York"
TEMPLATE = "default"
WARM_UP_NUMBER = 9_999
PEOPLE = 60
MB = 2**20
WORKER_TIMEOUT = 900

FLOOR_SOURCE = (
    "{% for e in entries %}"
    "{{ e.occurred_at }} {{ e.kind }} {{ e.author }} {{ e.text }}\n"
    "{% endfor %}"
)


# -- seeding ------------------------------------------------------------------------------------

_SERVICES = ("payments-api", "checkout", "eu-gateway", "ledger", "search", "auth", "cdn-edge")
_HOSTS = ("eu-gw-1", "eu-gw-2", "pay-db-3", "k8s-node-17", "redis-cache-2", "lb-west-4")
_REGIONS = ("eu-west-1", "eu-central-1", "us-east-1", "ap-south-1")
_STATUSES = ("investigating", "identified", "monitoring")
_SEVERITIES = ("SEV3", "SEV2", "SEV1", "SEV2")
_ROLES = ("lead", "comms", "scribe")


def _person_id(index: int) -> str:
    return f"U{index:05d}"


def _note(rng: random.Random, people: list[str]) -> str:
    """One note as people type them: numbers, hosts, mentions, links, the odd blame phrase."""
    service, host, region = rng.choice(_SERVICES), rng.choice(_HOSTS), rng.choice(_REGIONS)
    someone = rng.choice(people)
    shape = rng.randrange(12)
    if shape == 0:
        return f"{service} p99 latency at {rng.randint(200, 9000)} ms on {host}"
    if shape == 1:
        return f"Rolled back {service} to v2.{rng.randint(0, 40)}.{rng.randint(0, 9)}"
    if shape == 2:
        return (
            f"<@{someone}> can you check the {service} dashboard? "
            f"<https://grafana.example.com/d/{rng.getrandbits(32):08x}/{service}|dashboard>"
        )
    if shape == 3:
        return f"Restarted {host}; error rate {rng.uniform(0, 30):.1f}% and falling"
    if shape == 4:
        return f"Paging <@{someone}|{someone.lower()}> for {service} in {region}"
    if shape == 5:
        return f"Error budget burn: {rng.randint(1, 99)}% in the last hour | {service} | {region}"
    if shape == 6:
        return (
            f"Findings so far:\n- {service} connection pool saturated\n- {host} OOM-killed "
            f"{rng.randint(2, 9)} times\n<https://logs.example.com/q/{rng.getrandbits(40):010x}>"
        )
    if shape == 7:
        return f"The canary for {service} should have caught the config push to {region}"
    if shape == 8:
        return f"Traffic shifted {rng.randint(5, 100)}% from {region} to {rng.choice(_REGIONS)}"
    if shape == 9:
        return (
            f"Customer reports via support: checkout failing with error "
            f"E{rng.randint(1000, 9999)} (ticket #{rng.randint(10000, 99999)})"
        )
    if shape == 10:
        return f"<@{someone}> and <@{rng.choice(people)}> are looking at {host} `kubectl top`"
    depth, consumers = rng.randint(1, 500), rng.randint(1, 64)
    return f"Queue depth on {service} at {depth}k messages, consumers at {consumers}"


def _timeline(
    rng: random.Random, incident_id: int, size: int, start: datetime, people: list[str]
) -> tuple[list[dict[str, Any]], datetime]:
    """``size`` entries from ``start`` on, every ~10 s, ending with resolved and closed."""
    # A core of responders writes most entries; everyone else chimes in now and then.
    weights = [12 if index < 8 else 1 for index in range(len(people))]
    rows: list[dict[str, Any]] = []
    status, severity, when = 0, 0, start

    def add(kind: str, author: str | None, text: str, **extra: Any) -> None:
        rows.append(
            {
                "incident_id": incident_id,
                "occurred_at": extra.pop("occurred_at", when),
                "recorded_at": extra.pop("recorded_at", when),
                "kind": kind,
                "author_id": author,
                "text": text,
                "source_key": extra.pop("source_key", None),
                "source_author_id": extra.pop("source_author_id", None),
                "permalink": extra.pop("permalink", None),
                "details": extra.pop("details", None),
                "also_marked_by": extra.pop("also_marked_by", []),
            }
        )

    add(
        "declared",
        people[0],
        "Incident declared: Checkout failing (SEV3)",
        details={"severity": "SEV3"},
    )
    for index in range(1, size - 2):
        when += timedelta(seconds=rng.uniform(4, 16))
        author = rng.choices(people, weights)[0]
        roll = rng.random()
        if roll < 0.72:
            if rng.random() < 0.05:  # a backdated "note at"
                add(
                    "note",
                    author,
                    _note(rng, people),
                    occurred_at=when - timedelta(minutes=rng.randint(10, 90)),
                )
            else:
                add("note", author, _note(rng, people))
        elif roll < 0.82:
            ts = f"{int(when.timestamp())}.{index:06d}"
            channel = f"C{incident_id:06d}"
            add(
                "pinned message",
                author,
                _note(rng, people),
                recorded_at=when + timedelta(seconds=rng.randint(5, 900)),
                source_key=f"{channel}:{ts}",
                source_author_id=rng.choice(people),
                permalink=f"https://example.slack.com/archives/{channel}/p{ts.replace('.', '')}",
                also_marked_by=rng.sample(people, rng.randint(0, 2)),
            )
        elif roll < 0.87:
            add(
                "update",
                author,
                f"We are still investigating failed payments in {rng.choice(_REGIONS)}. "
                f"Next update in {rng.choice((15, 30, 60))} minutes.",
            )
        elif roll < 0.91:
            before, status = _STATUSES[status], (status + 1) % len(_STATUSES)
            after = _STATUSES[status]
            # As the bot records them, half with what the person typed (``status X <text>``);
            # their own generator, so the rest of the timeline stays as it was seeded before.
            typed = _note(random.Random(index), people) if index % 2 else None
            add(
                "status change",
                author,
                f"Status changed from {before} to {after}" + (f": {typed}" if typed else ""),
                details={"from": before, "to": after, "text": typed},
            )
        elif roll < 0.94:
            before, severity = _SEVERITIES[severity], (severity + 1) % len(_SEVERITIES)
            after = _SEVERITIES[severity]
            add(
                "severity change",
                author,
                f"Severity {before} → {after}",
                details={"from": before, "to": after},
            )
        elif roll < 0.97:
            role, holder = rng.choice(_ROLES), rng.choice(people[:8])
            add(
                "role change",
                author,
                f"<@{holder}> is now {role}",
                details={"role": role, "to": holder},
            )
        else:
            add(
                "action item",
                author,
                f"Action item added: Alert on {rng.choice(_SERVICES)} saturation",
            )
    when += timedelta(minutes=5)
    resolution = "Failover held; the canary should have caught the expired certificate"
    add(
        "status change",
        people[0],
        f"Status changed from monitoring to resolved: {resolution}",
        details={"from": "monitoring", "to": "resolved", "text": resolution},
    )
    resolved = when
    when += timedelta(hours=2)
    add(
        "status change",
        people[0],
        "Incident closed (was resolved)",
        details={"from": "resolved", "to": "closed"},
    )
    return rows[:size], resolved


def seed(url: str, sizes: tuple[int, ...]) -> dict[int, int]:
    """One closed incident per size (and a tiny one to warm up on); their ids by size."""
    from sqlalchemy import insert

    from incidentbot.domain.models import (
        ActionItem,
        Incident,
        Person,
        RoleAssignment,
        TimelineEntry,
    )
    from incidentbot.infra.db import make_engine, upgrade

    engine = make_engine(url)
    upgrade(engine)
    people = [_person_id(index) for index in range(PEOPLE)]
    zones = ("America/Los_Angeles", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "UTC")
    now = datetime.now(UTC)
    ids: dict[int, int] = {}
    with engine.begin() as conn:
        conn.execute(
            insert(Person.__table__),
            [
                {
                    "user_id": user_id,
                    "display_name": f"person-{index}" if index % 7 else f"Person {index} Smith",
                    "real_name": f"Person {index}",
                    "timezone": zones[index % len(zones)],
                    "is_bot": index == PEOPLE - 1,
                    "refreshed_at": now,
                }
                for index, user_id in enumerate(people)
            ],
        )
        for number, size in enumerate((*sizes, 5), start=1):
            # Late October, so the longest timelines cross New York's change of clocks.
            start = datetime(2026, 10, 28, 13, 0, tzinfo=UTC)
            number = WARM_UP_NUMBER if size == 5 else number
            incident_id = conn.execute(
                insert(Incident.__table__).returning(Incident.__table__.c.id),
                {
                    "number": number,
                    "title": f"Checkout payments failing for EU customers ({size:,} entries)",
                    "severity": "SEV2",
                    "status": "closed",
                    "private": False,
                    "summary": "An expired certificate on the EU card gateway made payments fail. "
                    "A failover mitigated it; rotating the certificate fixed it.",
                    "impact": "About 4% of EU card payments failed.\nSupport took 210 tickets.",
                    "declared_by": people[0],
                    "channel_id": f"C{number:06d}",
                    "channel_name": f"inc-{number}-checkout-payments-failing",
                    "declared_at": start,
                    "impact_started_at": start - timedelta(minutes=12),
                    "reopened_count": 0,
                    "postmortem_status": "draft",
                },
            ).scalar_one()
            # Seeded by size, so each database gets the same timeline for the same size.
            entries, resolved = _timeline(random.Random(size), incident_id, size, start, people)
            conn.execute(insert(TimelineEntry.__table__), entries)
            closed = entries[-1]["occurred_at"]
            conn.execute(
                Incident.__table__.update()
                .where(Incident.__table__.c.id == incident_id)
                .values(mitigated_at=resolved, resolved_at=resolved, closed_at=closed)
            )
            conn.execute(
                insert(RoleAssignment.__table__),
                [
                    {
                        "incident_id": incident_id,
                        "role": role,
                        "user_id": people[index],
                        "assigned_by": people[0],
                        "started_at": start + timedelta(minutes=index),
                        "ended_at": start + timedelta(hours=3) if index == 0 else None,
                    }
                    for index, role in enumerate(("lead", "comms", "scribe", "lead"))
                ],
            )
            conn.execute(
                insert(ActionItem.__table__),
                [
                    {
                        "incident_id": incident_id,
                        "text": f"Alert on {service} saturation before it pages",
                        "owner_id": people[index] if index % 3 else None,
                        "due_date": (start + timedelta(days=7 + index)).date(),
                        "kind": ("detect", "prevent", None, "process")[index % 4],
                        "tracking_url": f"https://tracker.example.com/browse/PAY-{100 + index}"
                        if index % 2
                        else None,
                        "status": "done" if index == 5 else "open",
                        "created_by": people[0],
                        "created_at": start + timedelta(hours=1),
                    }
                    for index, service in enumerate(_SERVICES)
                ],
            )
            ids[size if size != 5 else 0] = incident_id
    engine.dispose()
    return ids


# -- one measurement, in its own process ----------------------------------------------------------


def _measure_in_subprocess(
    url: str, incident_id: int, warm_up_id: int, mode: str
) -> dict[str, float]:
    spec = {"url": url, "incident_id": incident_id, "warm_up_id": warm_up_id, "mode": mode}
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.postmortem", "--worker", json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT,
        cwd=Path(__file__).resolve().parent.parent,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{mode} worker failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _worker(spec: dict[str, Any]) -> dict[str, float]:
    """Sets up what a running bot holds, warms up, then measures one piece of work."""
    from incidentbot.infra.db import make_engine, make_session_factory

    engine = make_engine(spec["url"])
    mode: str = spec["mode"]
    if mode.startswith("floor-"):
        work = _floor(engine, autoescape=mode == "floor-html")
    elif mode == REVIEW_MODE:
        work = _review(make_session_factory(engine))
    else:
        work = _generation(make_session_factory(engine), mode)
    work(spec["warm_up_id"])
    gc.collect()
    before = rss_bytes()
    started, cpu_started = time.perf_counter(), time.process_time()
    done = work(spec["incident_id"])
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    peak = peak_rss_bytes()
    engine.dispose()
    figures = {
        "seconds": seconds,
        "cpu_s": cpu_seconds,
        "work_mb": (peak - before) / MB,
        "peak_mb": peak / MB,
    }
    if isinstance(done, dict):
        # The review times its own steps, after the reading it shares with the generation.
        figures.update(done)
    else:
        figures["chars"] = done
    return figures


def _floor(engine: Any, *, autoescape: bool) -> Any:
    """The least any renderer could do: fetch the rows, loop over them, write each one."""
    from jinja2 import Environment
    from sqlalchemy import select

    from incidentbot.domain.models import TimelineEntry

    template = Environment(autoescape=autoescape).from_string(FLOOR_SOURCE)

    def work(incident_id: int) -> int:
        query = (
            select(
                TimelineEntry.occurred_at,
                TimelineEntry.kind,
                TimelineEntry.author_id.label("author"),
                TimelineEntry.text,
            )
            .where(TimelineEntry.incident_id == incident_id)
            .order_by(TimelineEntry.occurred_at, TimelineEntry.id)
        )
        with engine.connect() as conn:
            entries = conn.execute(query).all()
        return len(template.render(entries=entries))

    return work


def _generation(session_factory: Any, mode: str) -> Any:
    """The real path: one format as the service renders it, or the whole service (``both``)."""
    from incidentbot.domain import blameless
    from incidentbot.domain.models import Incident
    from incidentbot.infra.uow import UnitOfWork
    from incidentbot.postmortem.render import PostmortemRenderer
    from incidentbot.services import postmortems

    renderer = PostmortemRenderer(zone=ZONE, base_url="https://incidents.example.com")
    renderer.check()  # compiles every template, as start-up does
    rules = blameless.load_rules()

    def work(incident_id: int) -> int:
        # Never committed, so every round finds the incident as it was seeded.
        with UnitOfWork(session_factory) as uow:
            incident = uow.session.get(Incident, incident_id)
            assert incident is not None
            if mode == "both":
                generated = postmortems.generate_postmortem(
                    uow=uow,
                    incident=incident,
                    renderer=renderer,
                    generated_by=None,
                    trigger="benchmark",
                    template=TEMPLATE,
                    rules=rules,
                    upload=False,
                )
                return len(generated.postmortem.markdown) + len(generated.postmortem.html)
            draft = postmortems.draft_postmortem(
                uow=uow,
                incident=incident,
                renderer=renderer,
                template=TEMPLATE,
                rules=rules,
                formats=(mode,),
            )
            return len(draft.rendered[mode])

    return work


def _review(session_factory: Any) -> Any:
    """The blameless review alone, step by step as ``draft_postmortem`` runs it."""
    from incidentbot.domain import blameless
    from incidentbot.domain.models import Incident
    from incidentbot.infra.uow import UnitOfWork
    from incidentbot.services import postmortems
    from incidentbot.services.people import people_by_id, workspace_names_in
    from incidentbot.services.timeline import read_timeline

    rules = blameless.load_rules()

    def work(incident_id: int) -> dict[str, float]:
        with UnitOfWork(session_factory) as uow:
            incident = uow.session.get(Incident, incident_id)
            assert incident is not None
            # Read before the review in draft_postmortem too; the generation's figure has it.
            timeline = read_timeline(uow=uow, incident=incident)
            people = people_by_id(
                uow=uow, user_ids=postmortems.mentioned_people(incident, timeline=timeline)
            )
            names = {user_id: person.display_name for user_id, person in people.items()}
            known = [person.display_name for person in people.values() if not person.is_bot]
            assert incident.action_items is not None  # loaded, as the renderer has them
            started, cpu_started = time.perf_counter(), time.process_time()
            passages = postmortems.passages_to_review(
                incident,
                names=names,
                zone=ZONE,
                timeline=timeline,
                declared_by_alert=postmortems.declared_by_alert(uow=uow, incident=incident),
            )
            collected = time.perf_counter()
            known += workspace_names_in(uow=uow, texts=[passage.text for passage in passages])
            named = time.perf_counter()
            flags = blameless.review(passages, rules=rules, names=sorted(set(known)))
            finished, cpu_finished = time.perf_counter(), time.process_time()
        return {
            "seconds": finished - started,
            "cpu_s": cpu_finished - cpu_started,
            "passages_s": collected - started,
            "names_s": named - collected,
            "rules_s": finished - named,
            "passages": len(passages),
            "chars": sum(len(passage.text) for passage in passages),
            "flags": len(flags),
        }

    return work


# -- the report ---------------------------------------------------------------------------------


def _targets(size: int) -> list[Target]:
    if size == 10_000:
        return [Target("seconds", "<=", 1.0)]
    if size == 100_000:
        return [Target("seconds", "<=", 10.0), Target("peak_mb", "<=", 300.0)]
    return []


UNITS = {
    "seconds": "s",
    "share": "",
    "passages_s": "s",
    "names_s": "s",
    "rules_s": "s",
    "cpu_s": "s",
    "floor_s": "s",
    "vs_floor": "x",
    "us_per_entry": "µs",
    "work_mb": "MB",
    "peak_mb": "MB",
    "growth": "x",
}


def run(options: Options, *, sizes: tuple[int, ...] | None = None) -> list[Row]:
    """``sizes`` (ascending) replaces the sizes ``options.quick`` picks, to try one size."""
    sizes = sizes or (QUICK_SIZES if options.quick else SIZES)
    plan = {"sqlite": sizes}
    if "postgresql" in options.databases:
        plan["postgresql"] = POSTGRES_SIZES
    rounds: list[dict[tuple[str, int, str], dict[str, float]]] = []
    with ExitStack() as stack:
        seeded = {}
        for database, database_sizes in plan.items():
            url = stack.enter_context(fresh_database(database, options.workdir))
            seeded[database] = url, seed(url, database_sizes)
        for round_number in range(options.rounds):
            measured: dict[tuple[str, int, str], dict[str, float]] = {}
            # Alternate the order so drift on a noisy machine does not favour one side.
            modes = MODES if round_number % 2 == 0 else tuple(reversed(MODES))
            for database, database_sizes in plan.items():
                url, ids = seeded[database]
                for size in database_sizes:
                    for mode in (*modes, REVIEW_MODE) if size == REVIEW_SIZE else modes:
                        measured[database, size, mode] = _measure_in_subprocess(
                            url, ids[size], ids[0], mode
                        )
            rounds.append(measured)

    rows: list[Row] = []
    for database, database_sizes in plan.items():
        for size in database_sizes:
            for mode in (*FORMATS, "both"):
                rows.append(_row(rounds, database, size, mode))
            if size == REVIEW_SIZE:
                rows.append(_review_row(rounds, database, size))

    largest = sizes[-1]
    base = GROWTH_BASE if largest > GROWTH_BASE else sizes[-2] if len(sizes) > 1 else largest
    for mode in (*FORMATS, "both") if base in sizes and base != largest else ():
        growth = [
            {
                "growth": (measured["sqlite", largest, mode]["seconds"] / largest)
                / (measured["sqlite", base, mode]["seconds"] / base)
            }
            for measured in rounds
        ]
        rows.append(
            Row(
                SUITE,
                f"growth {mode}: per-entry time at {largest:,} / at {base:,}",
                median_of(growth),
                UNITS,
                [Target("growth", "<=", 1.5)],
            )
        )
    return rows


def _row(
    rounds: list[dict[tuple[str, int, str], dict[str, float]]], database: str, size: int, mode: str
) -> Row:
    """One size and format, its figures the medians over rounds of each round's own figures."""
    per_round = []
    for measured in rounds:
        figures = measured[database, size, mode]
        floors = [f"floor-{fmt}" for fmt in (FORMATS if mode == "both" else (mode,))]
        floor = sum(measured[database, size, name]["seconds"] for name in floors)
        per_round.append(
            {
                "seconds": figures["seconds"],
                # Far below seconds: the run waited for the CPU (a busy machine).
                "cpu_s": figures["cpu_s"],
                "floor_s": floor,
                "vs_floor": figures["seconds"] / floor,
                "us_per_entry": figures["seconds"] / size * 1e6,
                "work_mb": figures["work_mb"],
                "peak_mb": figures["peak_mb"],
            }
        )
    name = f"{size:,} entries, {mode}"
    if mode == "both":
        name += " (generate_postmortem)"
    if database != "sqlite":
        name += ", PostgreSQL"
    return Row(SUITE, name, median_of(per_round), UNITS, _targets(size))


def _review_row(
    rounds: list[dict[tuple[str, int, str], dict[str, float]]], database: str, size: int
) -> Row:
    """The review alone, and its share of the whole generation measured in the same round."""
    per_round = []
    for measured in rounds:
        review = measured[database, size, REVIEW_MODE]
        per_round.append(
            {
                "seconds": review["seconds"],
                "share": review["seconds"] / measured[database, size, "both"]["seconds"],
                "passages_s": review["passages_s"],
                "names_s": review["names_s"],
                "rules_s": review["rules_s"],
                "passages": review["passages"],
                "chars": review["chars"],
                "flags": review["flags"],
            }
        )
    name = f"{size:,} entries, review alone (passages_to_review + blameless.review)"
    if database != "sqlite":
        name += ", PostgreSQL"
    # Item 6 of issue 15: the review stays within the postmortem benchmark.
    targets = [Target("seconds", "<=", 0.25), Target("share", "<=", 0.25)]
    return Row(SUITE, name, median_of(per_round), UNITS, targets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes up to 10,000 only")
    parser.add_argument("--rounds", type=int, default=Options.rounds)
    parser.add_argument(
        "--sizes",
        type=lambda text: tuple(sorted(int(size) for size in text.split(","))),
        help="timeline sizes to measure, e.g. 100000 (default: all, or up to 10,000 if --quick)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(json.loads(args.worker))))
        return
    options = Options(quick=args.quick, rounds=args.rounds)
    print(table(run(options, sizes=args.sizes)))


if __name__ == "__main__":
    main()
