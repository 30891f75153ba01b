"""Two ``incidentbot serve`` replicas on one PostgreSQL database, fed at the same time.

Each test starts one local Slack workspace in-process and two real ``incidentbot serve``
processes pointed at it and at the same fresh PostgreSQL schema, then sends signed Slack
requests to both replicas concurrently and checks the database and the workspace: incident
numbers come from one counter, each job runs once, and an event is handled once whichever
replica (or both) receives it.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.request import urlopen

import pytest
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session

from incidentbot.domain.models import (
    EntryKind,
    Incident,
    Job,
    JobState,
    ProcessedEvent,
    TimelineEntry,
)
from incidentbot.emulator import (
    BOT_USER_ID,
    TEAM_ID,
    Channel,
    DriverResponse,
    LocalSlack,
    SlackDriver,
    Workspace,
)
from tests.databases import database_url

pytestmark = pytest.mark.postgres

SECRET = "replica-test-secret"
PEOPLE = ("alice", "bob", "chandra", "dana", "erik")
DECLARES = 50
SETTLE_TIMEOUT = 60.0
INCIDENT_CHANNEL = re.compile(r"^inc-(\d+)-")
ANNOUNCED = re.compile(r"\*INC-(\d+)\*")
DECLARING = re.compile(r"Declaring \*INC-(\d+)\*")


# ---------------------------------------------------------------------------- the harness


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def replica_env(**values: str) -> dict[str, str]:
    """This process's environment without any incidentbot, Slack or database setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "INCIDENTBOT_"))}
    for name in ("DATABASE_URL", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        env.pop(name, None)
    env.update(values)
    return env


@dataclass
class Replica:
    name: str
    port: int
    process: subprocess.Popen
    stderr_path: Path
    driver: SlackDriver

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Replicas:
    """Two serve processes sharing one workspace and one database."""

    slack: LocalSlack
    database_url: str
    engine: Engine
    replicas: list[Replica] = field(default_factory=list)

    @property
    def workspace(self) -> Workspace:
        return self.slack.workspace

    @property
    def drivers(self) -> list[SlackDriver]:
        return [replica.driver for replica in self.replicas]

    def logs(self) -> str:
        """Both replicas' stderr, to show when an assertion fails."""
        parts = []
        for replica in self.replicas:
            try:
                text = replica.stderr_path.read_text(errors="replace")
            except OSError as error:
                text = f"(unreadable: {error})"
            state = replica.process.poll()
            status = "running" if state is None else f"exited with {state}"
            parts.append(f"----- {replica.name} ({replica.url}, {status}) stderr -----\n{text}")
        return "\n".join(parts)

    def session(self) -> Session:
        return Session(self.engine)

    def unfinished_jobs(self) -> int:
        with self.session() as session:
            return session.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.state.in_([JobState.PENDING, JobState.RUNNING]))
            )

    def wait_until(self, what: str, done: Callable[[], bool]) -> None:
        """Poll ``done`` (bounded) until it holds, then until no job is pending or running."""
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while time.monotonic() < deadline:
            for replica in self.replicas:
                if replica.process.poll() is not None:
                    raise AssertionError(f"{replica.name} exited while {what}\n{self.logs()}")
            if done() and self.unfinished_jobs() == 0:
                return
            time.sleep(0.1)
        raise AssertionError(
            f"not settled after {SETTLE_TIMEOUT:.0f} s: {what}; "
            f"{self.unfinished_jobs()} jobs pending or running\n{self.logs()}"
        )


def _wait_for_health(replica: Replica, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if replica.process.poll() is not None:
            raise AssertionError(f"{replica.name} exited early")
        try:
            with urlopen(f"{replica.url}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return
        except (URLError, ConnectionError, OSError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{replica.name} did not answer /healthz within {timeout} s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@contextmanager
def two_replicas(workdir: Path) -> Iterator[Replicas]:
    """A fresh PostgreSQL schema, one local Slack workspace and two serve processes on them."""
    with database_url("postgresql", workdir) as url, LocalSlack() as slack:
        engine = create_engine(url)
        harness = Replicas(slack=slack, database_url=url, engine=engine)
        stderr_files = []
        try:
            for name in ("replica-a", "replica-b"):
                port = free_port()
                env = replica_env(
                    SLACK_BOT_TOKEN=slack.bot_token,
                    SLACK_SIGNING_SECRET=SECRET,
                    SLACK_API_URL=slack.api_url,
                    DATABASE_URL=url,
                    INCIDENTBOT_BASE_URL=f"http://127.0.0.1:{port}",
                    # This workspace enforces no rate limits: pacing would only slow the storm.
                    INCIDENTBOT_SLACK_PACING="off",
                )
                stderr_path = workdir / f"{name}.stderr"
                stderr_file = stderr_path.open("wb")
                stderr_files.append(stderr_file)
                process = subprocess.Popen(
                    [sys.executable, "-m", "incidentbot", "serve"]
                    + ["--host", "127.0.0.1", "--port", str(port)],
                    env=env,
                    cwd=workdir,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr_file,
                )
                driver = slack.driver(f"http://127.0.0.1:{port}/slack/events", SECRET)
                harness.replicas.append(Replica(name, port, process, stderr_path, driver))
            for replica in harness.replicas:
                try:
                    _wait_for_health(replica)
                except AssertionError as error:
                    raise AssertionError(f"{error}\n{harness.logs()}") from None
            yield harness
        finally:
            for replica in harness.replicas:
                _stop(replica.process)
            for stderr_file in stderr_files:
                stderr_file.close()
            engine.dispose()


def incident_channels(replicas: Replicas) -> dict[int, Channel]:
    """The bot-created ``inc-<n>-...`` channels of the workspace, by number."""
    found: dict[int, Channel] = {}
    duplicates: list[str] = []
    for channel in replicas.workspace.channels():
        match = INCIDENT_CHANNEL.match(channel.name)
        if channel.is_im or channel.creator != BOT_USER_ID or match is None:
            continue
        number = int(match.group(1))
        if number in found:
            duplicates.append(channel.name)
        found[number] = channel
    assert not duplicates, f"two channels for one incident number: {duplicates}"
    return found


def at_once(*calls: Callable[[], DriverResponse]) -> list[DriverResponse]:
    """Run ``calls`` on their own threads, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], DriverResponse]) -> DriverResponse:
        barrier.wait(timeout=10)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def deliver_to_both(replicas: Replicas, envelope: dict[str, Any]) -> list[int]:
    """Slack's delivery of ``envelope`` reaching both replicas at the same moment, then its
    retries (``X-Slack-Retry-Num`` 1 and 2) doing the same, each on the replica the previous
    attempt did not reach; the four statuses."""
    a, b = replicas.drivers
    first = at_once(lambda: a.deliver(envelope).response, lambda: b.deliver(envelope).response)
    retried = at_once(
        lambda: b.deliver(envelope, retry_num=1, retry_reason="http_timeout").response,
        lambda: a.deliver(envelope, retry_num=2, retry_reason="http_timeout").response,
    )
    return [r.status for r in first + retried]


# ---------------------------------------------------------------------------- 50 declares


@dataclass
class DeclareLoad:
    replicas: Replicas
    responses: list[DriverResponse]
    declarers: dict[str, str]  # title -> user name
    seconds: float


@pytest.fixture(scope="module")
def declared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeclareLoad]:
    """50 ``/incident declare`` commands sent concurrently, alternating between the replicas,
    then waited for until every channel exists and no job is left."""
    with two_replicas(tmp_path_factory.mktemp("declares")) as replicas:
        drivers = replicas.drivers
        declarers = {f"Replica outage {i}": PEOPLE[i % len(PEOPLE)] for i in range(DECLARES)}

        def declare(i: int) -> DriverResponse:
            title = f"Replica outage {i}"
            return drivers[i % 2].command(declarers[title], "#general", f"declare {title}")

        started = time.monotonic()
        with ThreadPoolExecutor(16) as pool:
            responses = list(pool.map(declare, range(DECLARES)))
        replicas.wait_until(
            f"{DECLARES} incident channels",
            lambda: len(incident_channels(replicas)) >= DECLARES,
        )
        load = DeclareLoad(replicas, responses, declarers, time.monotonic() - started)
        acks = sorted(r.elapsed for r in responses)
        print(  # Slack waits 3 s for an ack; shown, not asserted (it depends on the machine)
            f"\n{DECLARES} concurrent declares on 2 replicas: acks in {acks[0]:.3f} to "
            f"{acks[-1]:.3f} s (median {acks[len(acks) // 2]:.3f} s); "
            f"settled after {load.seconds:.1f} s"
        )
        yield load


def test_concurrent_declares_on_two_replicas_number_and_open_each_incident_once(
    declared: DeclareLoad,
):
    replicas, ws = declared.replicas, declared.replicas.workspace
    logs = replicas.logs
    statuses = Counter(r.status for r in declared.responses)
    assert statuses == {200: DECLARES}, f"{statuses}\n{logs()}"
    acked = sorted(int(m.group(1)) for r in declared.responses if (m := DECLARING.search(r.body)))
    assert acked == list(range(1, DECLARES + 1)), f"numbers in the acks: {acked}\n{logs()}"

    with replicas.session() as session:
        incidents = session.scalars(select(Incident).order_by(Incident.number)).all()
        dead = session.scalars(select(Job).where(Job.state == JobState.DEAD)).all()
    assert len(incidents) == DECLARES, f"{len(incidents)} incidents\n{logs()}"
    numbers = [i.number for i in incidents]
    assert numbers == list(range(1, DECLARES + 1)), f"{numbers}\n{logs()}"
    channel_ids = [i.channel_id for i in incidents]
    assert None not in channel_ids, f"{channel_ids}\n{logs()}"
    assert len(set(channel_ids)) == DECLARES, f"{channel_ids}\n{logs()}"
    assert not dead, f"{[(j.id, j.kind, j.attempts, j.last_error) for j in dead]}\n{logs()}"

    channels = incident_channels(replicas)
    names = sorted(c.name for c in channels.values())
    assert sorted(channels) == list(range(1, DECLARES + 1)), f"{names}\n{logs()}"
    people = {u.id: u.name for u in ws.users()}
    for incident in incidents:
        channel = channels[incident.number]
        where = f"INC-{incident.number} (#{channel.name})"
        assert channel.id == incident.channel_id, f"{where}: {incident.channel_id}\n{logs()}"
        assert channel.name == incident.channel_name, f"{where}\n{logs()}"
        assert people[incident.declared_by] == declared.declarers[incident.title], where
        members = ws.members(channel.id)
        assert incident.declared_by in members, f"{where}: members {members}\n{logs()}"
        pins = ws.pins(channel.id)
        assert pins == [incident.summary_ts], f"{where}: pins {pins}\n{logs()}"
        summary = ws.message(channel.id, incident.summary_ts)
        assert summary is not None and summary.user == BOT_USER_ID, f"{where}\n{logs()}"

    announcements = [m for m in ws.messages("#incidents") if m.user == BOT_USER_ID]
    announced = Counter(int(m.group(1)) for a in announcements if (m := ANNOUNCED.search(a.text)))
    assert len(announcements) == DECLARES, f"{[a.text for a in announcements]}\n{logs()}"
    assert announced == Counter(range(1, DECLARES + 1)), f"{announced}\n{logs()}"
    stored = {i.announcement_ts for i in incidents}
    assert stored == {a.ts for a in announcements}, f"{stored}\n{logs()}"


def test_two_replicas_share_the_channel_work_without_doing_any_twice(declared: DeclareLoad):
    replicas, ws = declared.replicas, declared.replicas.workspace
    logs = replicas.logs
    creates = ws.calls("conversations.create")
    failed = [(c.params.get("name"), c.error) for c in creates if not c.ok]
    assert not failed, f"failed conversations.create calls: {failed}\n{logs()}"
    names = sorted(str(c.params.get("name")) for c in creates)
    assert len(creates) == DECLARES, f"{len(creates)} conversations.create: {names}\n{logs()}"
    assert len(set(names)) == DECLARES, f"{names}\n{logs()}"
    pins = [c.params.get("channel") for c in ws.calls("pins.add")]
    assert len(pins) == len(set(pins)) == DECLARES, f"pins.add calls: {pins}\n{logs()}"

    with replicas.session() as session:
        opened = session.scalars(select(Job).where(Job.kind == "incident.open_channel")).all()
    # Each job was claimed once: a second claim (two replicas racing) would count an attempt.
    odd = [(j.id, j.state, j.attempts, j.last_error) for j in opened if j.attempts != 1]
    assert len(opened) == DECLARES, f"{len(opened)} open_channel jobs\n{logs()}"
    assert {(j.state, j.attempts) for j in opened} == {(JobState.DONE, 1)}, f"{odd}\n{logs()}"


# ---------------------------------------------------------------------------- events


@dataclass
class OneIncident:
    replicas: Replicas
    channel: Channel


@pytest.fixture(scope="module")
def one_incident(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OneIncident]:
    """Two fresh replicas with INC-1 declared and its channel open."""
    with two_replicas(tmp_path_factory.mktemp("events")) as replicas:
        first = replicas.drivers[0]
        answer = first.command("dana", "#general", "declare Pins seen by two replicas")
        assert answer.status == 200, f"{answer.status} {answer.body}\n{replicas.logs()}"
        replicas.wait_until("the channel of INC-1", lambda: 1 in incident_channels(replicas))
        yield OneIncident(replicas, incident_channels(replicas)[1])


def _pin_event(replicas: Replicas, user_id: str, channel: Channel, ts: str) -> dict[str, Any]:
    """Pin message ``ts`` in the workspace; the ``pin_added`` event Slack would send."""
    ws = replicas.workspace
    message = ws.add_pin(channel.id, ts, user_id)
    now = int(time.time())
    return {
        "type": "pin_added",
        "user": user_id,
        "channel_id": channel.id,
        "item": {
            "type": "message",
            "created": now,
            "created_by": user_id,
            "channel": channel.id,
            "message": {
                "type": "message",
                "user": message.user,
                "text": message.text,
                "ts": message.ts,
                "pinned_to": [channel.id],
            },
        },
        "item_user": message.user,
        "pin_count": len(ws.pins(channel.id)),
        "pinned_info": {"channel": channel.id, "pinned_by": user_id, "pinned_ts": now},
        "event_ts": ws.next_ts(),
    }


def _pushpin_event(replicas: Replicas, user_id: str, channel: Channel, ts: str) -> dict[str, Any]:
    """React with :pushpin: to ``ts`` in the workspace; the ``reaction_added`` event."""
    ws = replicas.workspace
    message = ws.add_reaction(channel.id, ts, "pushpin", user_id)
    return {
        "type": "reaction_added",
        "user": user_id,
        "item": {"type": "message", "channel": channel.id, "ts": ts},
        "reaction": "pushpin",
        "item_user": message.user,
        "event_ts": ws.next_ts(),
    }


def test_one_event_delivered_to_both_replicas_at_once_is_recorded_once(one_incident: OneIncident):
    replicas, channel = one_incident.replicas, one_incident.channel
    ws, a = replicas.workspace, replicas.drivers[0]
    logs = replicas.logs
    if "UBOB" not in ws.members(channel.id):
        a.join("bob", channel.id)
    rounds = []
    for n, make_event in enumerate([_pin_event, _pushpin_event] * 3):
        ts = a.post_message("bob", channel.id, f"replica evidence {n}: p99 back under 200 ms")
        envelope = a.envelope(make_event(replicas, "UBOB", channel, ts))
        statuses = deliver_to_both(replicas, envelope)
        assert statuses == [200] * 4, f"round {n} ({envelope['event']['type']}): {statuses}"
        rounds.append((ts, envelope["event_id"], envelope["event"]["type"]))

    def replied() -> bool:
        return all(ws.replies(channel.id, ts) for ts, _, _ in rounds)

    replicas.wait_until("the :pushpin: replies", replied)
    with replicas.session() as session:
        for ts, event_id, kind in rounds:
            key = f"{channel.id}:{ts}"
            entries = session.scalars(
                select(TimelineEntry).where(TimelineEntry.source_key == key)
            ).all()
            claims = session.scalar(
                select(func.count())
                .select_from(ProcessedEvent)
                .where(ProcessedEvent.event_id == event_id)
            )
            where = f"{kind} {event_id} on {ts}"
            assert [e.kind for e in entries] == [EntryKind.PINNED], f"{where}\n{logs()}"
            marked = (entries[0].author_id, entries[0].also_marked_by)
            assert marked == ("UBOB", []), f"{where}: {marked}\n{logs()}"
            assert claims == 1, f"{where}: {claims} processed_events rows\n{logs()}"
            replies = [m.text for m in ws.replies(channel.id, ts)]
            expected = [":pushpin: Added to the INC-1 timeline."]
            assert replies == expected, f"{where}: {replies}\n{logs()}"
        dead = session.scalars(select(Job).where(Job.state == JobState.DEAD)).all()
    assert not dead, f"{[(j.id, j.kind, j.last_error) for j in dead]}\n{logs()}"


def test_a_pin_and_a_pushpin_on_one_message_at_once_on_two_replicas_make_one_entry(
    one_incident: OneIncident,
):
    replicas, channel = one_incident.replicas, one_incident.channel
    ws, (a, b) = replicas.workspace, replicas.drivers
    for person in ("bob", "chandra"):
        if ws.user_by_name(person).id not in ws.members(channel.id):
            a.join(person, channel.id)
    ts = a.post_message("chandra", channel.id, "the replica lag alert cleared at 14:20")
    pinned = a.envelope(_pin_event(replicas, "UBOB", channel, ts))
    reacted = b.envelope(_pushpin_event(replicas, "UCHANDRA", channel, ts))
    answers = at_once(lambda: a.deliver(pinned).response, lambda: b.deliver(reacted).response)
    assert [r.status for r in answers] == [200, 200], replicas.logs()

    replicas.wait_until("the :pushpin: reply", lambda: bool(ws.replies(channel.id, ts)))
    with replicas.session() as session:
        entries = session.scalars(
            select(TimelineEntry).where(TimelineEntry.source_key == f"{channel.id}:{ts}")
        ).all()
    assert len(entries) == 1, f"{[(e.id, e.author_id) for e in entries]}\n{replicas.logs()}"
    (entry,) = entries
    marked = [entry.author_id, *entry.also_marked_by]
    assert sorted(marked) == ["UBOB", "UCHANDRA"], f"{marked}\n{replicas.logs()}"
    replies = [m.text for m in ws.replies(channel.id, ts)]
    expected = [":pushpin: Added to the INC-1 timeline."]
    assert replies == expected, f"{replies}\n{replicas.logs()}"


def test_a_join_delivered_to_both_replicas_at_once_briefs_the_newcomer_once(
    one_incident: OneIncident,
):
    """Every event is deduplicated by event_id, not only pins: a redelivered
    ``member_joined_channel`` changes nothing, on any replica (one briefing, one job)."""
    replicas, channel = one_incident.replicas, one_incident.channel
    ws, a = replicas.workspace, replicas.drivers[0]
    assert ws.join(channel.id, "UERIK")
    envelope = a.envelope(
        {
            "type": "member_joined_channel",
            "user": "UERIK",
            "channel": channel.id,
            "channel_type": "C",
            "team": TEAM_ID,
        }
    )
    assert deliver_to_both(replicas, envelope) == [200] * 4, replicas.logs()

    replicas.wait_until("the briefing", lambda: bool(ws.ephemerals("UERIK", channel.id)))
    briefings = [e for e in ws.ephemerals("UERIK", channel.id) if "Welcome" in str(e.blocks)]
    with replicas.session() as session:
        jobs = session.scalars(select(Job).where(Job.kind == "channel.brief_newcomer")).all()
        erik_jobs = [j for j in jobs if j.payload.get("user_id") == "UERIK"]
    assert (len(briefings), len(erik_jobs)) == (1, 1), (
        f"one join event ({envelope['event_id']}) delivered 4 times across two replicas gave "
        f"{len(briefings)} briefings and {len(erik_jobs)} brief_newcomer jobs\n{replicas.logs()}"
    )
