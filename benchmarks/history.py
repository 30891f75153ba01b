"""A year of history: what reading it costs at 500 and at 5,000 incidents, and the big incident.

Per database, two fresh databases are seeded with bulk inserts at the same pace, one incident
every 1.7 hours: 500 incidents (the last 36 days) and 5,000 (the last 360 days), of 20 timeline
entries each (``postmortem._timeline``'s realistic mix), the newest eight still open, and the
newest of all one of 20,000 entries (in both, so that the recent windows hold the same). Against
each, ``incidentbot serve`` is started and every view people open is timed from the client's
side, a few times, the median counting:

- ``/incident stats`` (its default 30 days), ``/incident stats 365d`` and ``/incident list``:
  signed slash commands, answered within the acknowledgement, so their time is the
  acknowledgement's (Slack gives up at 3 s);
- the incident list page (``/``), ``/insights``, the 20,000-entry incident's page, and a 404 for
  a postmortem that does not exist (which should cost one look-up);
- App Home as ``publish_home`` builds it (the open incidents for one person), in this process.

A longer history must not make a view slower when what it shows is the same: targets at 5,000
incidents are 300 ms and 1.3x the time at 500. ``stats 365d`` shows ten times as many incidents
at 5,000 as at 500, so it has its own target instead: half of Slack's 3 s. The big incident's
page: 300 ms and 500 KB. After everything, the serve process's resident memory (``rss``) is
reported against 150 MB.
"""

from __future__ import annotations

import random
import statistics
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

from benchmarks import servers
from benchmarks.common import Options, Row, Target, fresh_database
from benchmarks.postmortem import _person_id, _timeline

SUITE = "history"
SIZES = (500, 5_000)
ENTRIES = 20
BIG = 20_000
PEOPLE = 40
TIMES = 5
# However long the history, the same few incidents are open: the rest are closed.
OPEN = 8
# One incident every 1.7 hours: 5,000 fill the last 360 days, 500 the last 36.
EVERY = timedelta(days=360) / 5_000
MB = 2**20


def seed(url: str, incidents: int, *, big: bool) -> int | None:
    """``incidents`` incidents over the last 360 days (and one of ``BIG`` entries when ``big``,
    whose number is returned). Numbers run from 1; the counter continues after them."""
    from sqlalchemy import insert, update

    from incidentbot.domain.models import (
        ActionItem,
        Counter,
        Incident,
        Person,
        RoleAssignment,
        TimelineEntry,
    )
    from incidentbot.infra.db import make_engine, upgrade

    engine = make_engine(url)
    upgrade(engine)
    rng = random.Random(incidents)
    people = [_person_id(index) for index in range(PEOPLE)]
    now = datetime.now(UTC)
    sizes = [ENTRIES] * incidents + ([BIG] if big else [])
    with engine.begin() as conn:
        conn.execute(
            insert(Person.__table__),
            [
                {
                    "user_id": user_id,
                    "display_name": f"person-{index}",
                    "real_name": f"Person {index}",
                    "timezone": "UTC",
                    "is_bot": False,
                    "refreshed_at": now,
                }
                for index, user_id in enumerate(people)
            ],
        )
        for number, size in enumerate(sizes, start=1):
            declared = now - EVERY * (len(sizes) - number + 1)
            still_open = incidents - OPEN < number <= incidents
            declarer = rng.choice(people)
            incident_id = conn.execute(
                insert(Incident.__table__).returning(Incident.__table__.c.id),
                {
                    "number": number,
                    "title": f"{rng.choice(('Checkout', 'Search', 'Login', 'Payments'))} "
                    f"errors in {rng.choice(('EU', 'US', 'APAC'))} #{number}",
                    "severity": rng.choice(("SEV1", "SEV2", "SEV3", "SEV3", "SEV4")),
                    "status": "investigating" if still_open else "closed",
                    "private": False,
                    "summary": "Card payments failed for some customers.",
                    "declared_by": declarer,
                    "channel_id": f"CH{number:07d}",
                    "channel_name": f"inc-{number}-errors",
                    "declared_at": declared,
                    "impact_started_at": declared - timedelta(minutes=rng.randint(2, 40)),
                    "reopened_count": 0,
                    "last_entry_number": size,
                },
            ).scalar_one()
            entries, resolved = _timeline(rng, incident_id, size, declared, people)
            if still_open:
                entries = entries[:-2]
            for index, entry in enumerate(entries, start=1):
                entry["number"] = index
            conn.execute(insert(TimelineEntry.__table__), entries)
            if not still_open:
                conn.execute(
                    update(Incident.__table__)
                    .where(Incident.__table__.c.id == incident_id)
                    .values(
                        mitigated_at=resolved,
                        resolved_at=resolved,
                        closed_at=entries[-1]["occurred_at"],
                        last_entry_number=len(entries),
                    )
                )
            conn.execute(
                insert(RoleAssignment.__table__),
                {
                    "incident_id": incident_id,
                    "role": "lead",
                    "user_id": declarer,
                    "assigned_by": declarer,
                    "started_at": declared,
                },
            )
            conn.execute(
                insert(ActionItem.__table__),
                {
                    "incident_id": incident_id,
                    "text": "Alert on saturation before it pages",
                    "status": "open",
                    "created_by": declarer,
                    "created_at": declared + timedelta(hours=1),
                },
            )
        conn.execute(update(Counter.__table__).values(value=len(sizes)))
    engine.dispose()
    return len(sizes) if big else None


def _median_ms(measure: Callable[[], Any], times: int = TIMES) -> tuple[float, Any]:
    measure()  # warm: the first of each view compiles its queries and templates
    seconds, last = [], None
    for _ in range(times):
        started = time.perf_counter()
        last = measure()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds) * 1000, last


def _browser(base_url: str, token: str) -> Callable[[str], tuple[int, int]]:
    """A GET as a signed-in browser makes it: the link's token once, then its cookie."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    with opener.open(f"{base_url}/?token={token}", timeout=60) as response:
        response.read()

    def get(path: str) -> tuple[int, int]:
        return _get(opener, f"{base_url}{path}")

    return get


def _get(opener: urllib.request.OpenerDirector, url: str) -> tuple[int, int]:
    try:
        with opener.open(url, timeout=60) as response:
            return response.status, len(response.read())
    except urllib.error.HTTPError as error:
        return error.code, len(error.read())


def _measure(slack: Any, url: str, workdir: Path, big_number: int | None) -> dict[str, float]:
    from incidentbot import services
    from incidentbot.domain import links
    from incidentbot.infra.db import make_engine, make_session_factory
    from incidentbot.infra.uow import UnitOfWork
    from incidentbot.slack import home

    figures: dict[str, float] = {}
    with servers.bot(slack, url, workdir) as bot:
        alice = slack.workspace.user_by_name("alice").id
        token = links.issue_token(secret=servers.SIGNING_SECRET, user_id=alice)

        def command(text: str) -> Callable[[], int]:
            def send() -> int:
                response = bot.driver.command("alice", "#general", text)
                if response.status != 200:
                    raise RuntimeError(f"/incident {text}: {response.status} {response.body}")
                return len(response.body)

            return send

        figures["stats ms"], _ = _median_ms(command("stats"))
        figures["stats 365d ms"], _ = _median_ms(command("stats 365d"))
        figures["list ms"], _ = _median_ms(command("list"))
        get = _browser(bot.base_url, token)
        figures["index ms"], (_, size) = _median_ms(lambda: get("/"))
        figures["index kb"] = size / 1024
        figures["insights ms"], _ = _median_ms(lambda: get("/insights"))
        figures["404 ms"], (status, _) = _median_ms(lambda: get("/incidents/999999/postmortem"))
        if status != 404:
            raise RuntimeError(f"a missing postmortem answered {status}")
        if big_number is not None:
            page = f"/incidents/{big_number}"
            figures["big page ms"], (_, size) = _median_ms(lambda: get(page), times=3)
            figures["big page kb"] = size / 1024
            missing = f"/incidents/{big_number}/postmortem"
            figures["big 404 ms"], _ = _median_ms(lambda: get(missing))
        figures["rss mb"] = _rss_of_port(int(bot.base_url.rsplit(":", 1)[1])) / MB
    engine = make_engine(url)
    uow = lambda: UnitOfWork(make_session_factory(engine), read_only=True)  # noqa: E731

    def home_tab() -> int:
        with uow() as work:
            view = home.home_view(
                services.open_incidents(uow=work, viewer=alice),
                now=work.now(),
                zone="UTC",
                base_url="http://127.0.0.1",
                token=token,
            )
        return len(view["blocks"])

    figures["home ms"], _ = _median_ms(home_tab)
    engine.dispose()
    return figures


def _rss_of_port(port: int) -> int:
    """The resident memory of the ``serve`` listening on ``port`` (found by its arguments)."""
    for status in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = status.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in args and str(port).encode() in args:
            for line in (status.parent / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    return 0


VIEWS = ("stats", "stats 365d", "list", "index", "insights", "404", "home")


def run(options: Options) -> list[Row]:
    rows: list[Row] = []
    with servers.local_slack() as slack:
        for db in options.databases:
            measured: dict[int, dict[str, float]] = {}
            for size in SIZES:
                with fresh_database(db, options.workdir) as url:
                    big = seed(url, size, big=True)
                    measured[size] = _measure(slack, url, options.workdir, big)
            small, large = measured[SIZES[0]], measured[SIZES[-1]]
            for view in VIEWS:
                key = f"{view} ms"
                figures = {
                    f"at {SIZES[0]:,}": small[key],
                    f"at {SIZES[-1]:,}": large[key],
                    "growth": large[key] / small[key],
                }
                if view == "index":
                    figures["kb"] = large["index kb"]
                rows.append(
                    Row(
                        suite=SUITE,
                        name=f"{view}, {db}",
                        figures=figures,
                        units={
                            f"at {SIZES[0]:,}": "ms",
                            f"at {SIZES[-1]:,}": "ms",
                            "growth": "x",
                            "kb": "KB",
                        },
                        targets=[Target(f"at {SIZES[-1]:,}", "<=", 1500)]
                        if view == "stats 365d"
                        else [
                            Target(f"at {SIZES[-1]:,}", "<=", 300),
                            Target("growth", "<=", 1.3),
                        ],
                    )
                )
            rows.append(
                Row(
                    suite=SUITE,
                    name=f"incident of {BIG:,} entries: page and a missing postmortem, {db}",
                    figures={
                        "page": large["big page ms"],
                        "size": large["big page kb"],
                        "404": large["big 404 ms"],
                    },
                    units={"page": "ms", "size": "KB", "404": "ms"},
                    targets=[
                        Target("page", "<=", 300),
                        Target("size", "<=", 500),
                        Target("404", "<=", 50),
                    ],
                )
            )
            rows.append(
                Row(
                    suite=SUITE,
                    name=f"serve's memory after all of the above at {SIZES[-1]:,}, {db}",
                    figures={"rss": large["rss mb"]},
                    units={"rss": "MB"},
                    targets=[Target("rss", "<=", 150)],
                )
            )
    return rows
