"""The job runner: order within an incident, retries, leases, and no job run twice."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from incidentbot.domain.models import Incident, Job, JobState
from incidentbot.infra import db, jobs
from incidentbot.infra.jobs import JobRunner, QueuedJob, RetryLater, Traffic
from incidentbot.infra.uow import UnitOfWork


def queue(uow_factory, kind: str, count: int = 1, *, incident_id: int | None = None) -> None:
    with uow_factory() as uow:
        incident = uow.session.get(Incident, incident_id) if incident_id else None
        for i in range(count):
            uow.enqueue(kind, incident=incident, n=i)
        uow.commit()


def make_incident(uow_factory) -> int:
    from incidentbot import services

    with uow_factory() as uow:
        incident = services.declare_incident(uow=uow, title="t", declared_by="U1")
        uow.session.query(Job).delete()
        uow.commit()
        return incident.id


def states(session_factory) -> list[str]:
    with session_factory() as session:
        return list(session.scalars(select(Job.state).order_by(Job.id)))


def test_jobs_of_one_incident_run_in_order_even_with_many_workers(
    uow_factory, session_factory, clock
):
    incident_id = make_incident(uow_factory)
    seen: list[int] = []
    lock = threading.Lock()

    def record(job: QueuedJob) -> None:
        with lock:
            seen.append(int(job.payload["n"]))

    queue(uow_factory, "record", 20, incident_id=incident_id)
    runner = JobRunner(
        session_factory=session_factory, handlers={"record": record}, workers=4, clock=clock
    )
    runner.start()
    try:
        assert runner.wait_idle(20)
    finally:
        runner.stop()
    assert seen == list(range(20))
    assert set(states(session_factory)) == {JobState.DONE}


def test_a_job_that_asks_to_retry_runs_again_later(uow_factory, session_factory, clock):
    attempts: list[int] = []

    def flaky(job: QueuedJob) -> None:
        attempts.append(job.attempt)
        if job.attempt < 3:
            raise RetryLater("Slack said ratelimited", delay=timedelta(seconds=30))

    queue(uow_factory, "flaky")
    runner = JobRunner(session_factory=session_factory, handlers={"flaky": flaky}, clock=clock)
    assert runner.run_pending() == 1
    assert runner.run_pending() == 0  # not due yet
    clock.advance(seconds=31)
    runner.run_pending()
    clock.advance(seconds=31)
    runner.run_pending()
    assert attempts == [1, 2, 3]
    assert states(session_factory) == [JobState.DONE]


def test_a_failing_job_gives_up_after_its_attempts_and_does_not_block_the_incident(
    uow_factory, session_factory, clock
):
    incident_id = make_incident(uow_factory)
    ran: list[str] = []

    def broken(job: QueuedJob) -> None:
        raise RuntimeError("boom")

    queue(uow_factory, "broken", incident_id=incident_id)
    queue(uow_factory, "fine", incident_id=incident_id)
    runner = JobRunner(
        session_factory=session_factory,
        handlers={"broken": broken, "fine": lambda job: ran.append("fine")},
        clock=clock,
        max_attempts=3,
    )
    for _ in range(2):
        runner.run_pending()
        assert ran == []  # the later job waits behind the earlier one
        clock.advance(minutes=10)
    runner.run_pending()  # third and last attempt; then the next job's turn
    assert states(session_factory) == [JobState.DEAD, JobState.DONE]
    assert ran == ["fine"]


def test_a_job_whose_process_died_is_taken_up_after_its_lease(session_factory, clock):
    with UnitOfWork(session_factory, clock=clock) as uow:
        uow.enqueue("work")
        uow.commit()
    ran: list[int] = []
    dead = JobRunner(session_factory=session_factory, handlers={}, clock=clock)
    assert len(dead._claim(limit=1)) == 1  # claimed, then the process "dies"
    alive = JobRunner(
        session_factory=session_factory,
        handlers={"work": lambda j: ran.append(j.attempt)},
        clock=clock,
    )
    assert alive.run_pending() == 0
    clock.advance(minutes=3)
    assert alive.run_pending() == 1
    assert ran == [2]


def _runs_within(runner: JobRunner, done: threading.Event, seconds: float) -> bool:
    runner.start()
    try:
        return done.wait(seconds)
    finally:
        runner.stop()


def test_a_job_due_later_runs_when_due_not_at_the_next_poll(session_factory):
    """Woken for nothing it can claim yet (a job still in its window), the dispatcher asks the
    database when work comes due and wakes then. With an hour's poll interval, waiting for the
    poll would fail this."""
    done = threading.Event()
    with UnitOfWork(session_factory) as uow:
        uow.enqueue("later", delay=timedelta(milliseconds=300))
        uow.commit()
    runner = JobRunner(
        session_factory=session_factory,
        handlers={"later": lambda job: done.set()},
        poll_interval=3600,
    )
    runner.wake()  # "work now", as a commit says: there is none due yet
    assert _runs_within(runner, done, 20)


def test_a_dead_workers_job_is_taken_up_when_its_lease_ends_not_at_the_next_poll(session_factory):
    done = threading.Event()
    with UnitOfWork(session_factory) as uow:
        uow.enqueue("work")
        uow.commit()
    dead = JobRunner(
        session_factory=session_factory, handlers={}, lease=timedelta(milliseconds=300)
    )
    assert len(dead._claim(limit=1)) == 1  # claimed, then the process "dies"
    alive = JobRunner(
        session_factory=session_factory,
        handlers={"work": lambda job: done.set()},
        poll_interval=3600,
    )
    alive.wake()
    assert _runs_within(alive, done, 20)


def test_two_runners_never_run_the_same_job(uow_factory, session_factory, clock):
    queue(uow_factory, "count", 60)
    runs: list[int] = []
    lock = threading.Lock()

    def count(job: QueuedJob) -> None:
        with lock:
            runs.append(job.id)

    runners = [
        JobRunner(
            session_factory=session_factory, handlers={"count": count}, workers=3, clock=clock
        )
        for _ in range(2)
    ]
    for runner in runners:
        runner.start()
    try:
        for runner in runners:
            assert runner.wait_idle(30)
    finally:
        for runner in runners:
            runner.stop()
    assert sorted(runs) == sorted(set(runs))
    assert len(runs) == 60


def test_a_job_gathers_the_jobs_of_its_kind_right_behind_it(uow_factory, session_factory, clock):
    from incidentbot.infra import jobs

    incident_id = make_incident(uow_factory)
    queue(uow_factory, "echo", 3, incident_id=incident_id)
    queue(uow_factory, "other", 1, incident_id=incident_id)
    queue(uow_factory, "echo", 1, incident_id=incident_id)
    runner = JobRunner(session_factory=session_factory, handlers={}, clock=clock)
    (first,) = runner._claim(limit=1)

    with uow_factory() as uow:
        gathered = jobs.gather(uow.session, first, limit=10, now=uow.now())
        uow.commit()
    # The two echoes behind it, not the "other" job nor the echo behind that: order is kept.
    assert [p["n"] for p in gathered] == [0, 1, 2]
    assert states(session_factory) == ["running", "done", "done", "pending", "pending"]

    # A retry of the first job does the same work again: no more, no less.
    with uow_factory() as uow:
        again = jobs.gather(uow.session, first, limit=10, now=uow.now())
    assert [p["n"] for p in again] == [0, 1, 2]


def test_gathering_stops_at_the_limit_and_at_jobs_already_tried(
    uow_factory, session_factory, clock
):
    from incidentbot.infra import jobs

    incident_id = make_incident(uow_factory)
    queue(uow_factory, "echo", 5, incident_id=incident_id)
    with uow_factory() as uow:
        third = uow.session.scalars(select(Job).order_by(Job.id).offset(2).limit(1)).one()
        third.attempts = 1  # it failed once: it keeps its own retry schedule
        uow.commit()
    runner = JobRunner(session_factory=session_factory, handlers={}, clock=clock)
    (first,) = runner._claim(limit=1)
    with uow_factory() as uow:
        assert [p["n"] for p in jobs.gather(uow.session, first, limit=2, now=uow.now())] == [0, 1]
        uow.commit()
    assert states(session_factory) == ["running", "done", "pending", "pending", "pending"]


def queue_keyed(uow_factory, kind: str, *incident_ids: int) -> None:
    with uow_factory() as uow:
        for n, incident_id in enumerate(incident_ids):
            uow.enqueue(kind, incident_id=incident_id, n=n)  # in the payload, in no line
        uow.commit()


def test_the_latest_keyed_job_wins_and_none_runs_beside_an_earlier_one(
    uow_factory, session_factory, clock
):
    queue_keyed(uow_factory, "topic", 1, 2, 1)
    runner = JobRunner(session_factory=session_factory, handlers={}, clock=clock)
    first, other, last = runner._claim(limit=3)  # outside any line, all three run at once

    def place(job: QueuedJob) -> jobs.Turn:
        with uow_factory(read_only=True) as uow:
            return jobs.turn(uow.session, job, key="incident_id", now=uow.now())

    assert place(first) is jobs.Turn.SUPERSEDED  # the last one reads newer facts
    assert place(last) is jobs.Turn.WAIT  # the first may be between reading and writing
    assert place(other) is jobs.Turn.GO  # another incident's is no one's business here
    with uow_factory() as uow:
        uow.session.execute(
            Job.__table__.update().where(Job.id == first.id).values(state=JobState.DONE)
        )
        uow.commit()
    assert place(last) is jobs.Turn.GO
    # An earlier job whose worker died (lease run out) holds up nobody.
    queue_keyed(uow_factory, "topic", 3, 3)
    stale, fresh = runner._claim(limit=2)
    clock.advance(hours=1)
    assert place(fresh) is jobs.Turn.GO
    # A later job given up (dead) does not make the earlier one redundant.
    with uow_factory() as uow:
        uow.session.execute(
            Job.__table__.update().where(Job.id == fresh.id).values(state=JobState.DEAD)
        )
        uow.commit()
    assert place(stale) is jobs.Turn.GO


def test_a_burst_of_keyed_jobs_on_many_workers_writes_each_value_once(
    uow_factory, session_factory, clock
):
    """The channel topic's race: each job reads the "current" value, pauses (a Slack round
    trip), and writes only if it differs. Without ``turn`` two jobs read the same old value."""
    incident_id = make_incident(uow_factory)
    written: list[int] = []
    current = {"value": -1}
    lock = threading.Lock()

    def write_if_changed(job: QueuedJob) -> None:
        with uow_factory(read_only=True) as uow:
            place = jobs.turn(uow.session, job, key="incident_id", now=uow.now())
        if place is jobs.Turn.SUPERSEDED:
            return
        if place is jobs.Turn.WAIT:
            raise RetryLater("wait", delay=timedelta(0), counts=False)
        with uow_factory(read_only=True) as uow:
            wanted = uow.session.scalar(
                select(Job.id).where(Job.kind == "topic").order_by(Job.id.desc()).limit(1)
            )
        seen = current["value"]
        time.sleep(0.05)
        if seen != wanted:
            with lock:
                written.append(wanted)
                current["value"] = wanted

    queue_keyed(uow_factory, "topic", *[incident_id] * 8)
    runner = JobRunner(
        session_factory=session_factory,
        handlers={"topic": write_if_changed},
        workers=4,
        clock=clock,
    )
    runner.start()
    try:
        assert runner.wait_idle(20)
    finally:
        runner.stop()
    assert len(written) == len(set(written)) == 1, written
    assert set(states(session_factory)) == {JobState.DONE}


def most_at_once(uow_factory, session_factory, clock, *, busy: bool) -> int:
    """Queue jobs of unrelated work (no incident), run them on four workers, and return how
    many ran at the same time at most, with a Slack request being answered throughout or not."""
    running = 0
    most = 0
    lock = threading.Lock()

    def slow(job: QueuedJob) -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        threading.Event().wait(0.05)
        with lock:
            running -= 1

    queue(uow_factory, "slow", 12)
    traffic = Traffic()
    runner = JobRunner(
        session_factory=session_factory,
        handlers={"slow": slow},
        workers=4,
        clock=clock,
        traffic=traffic,
    )
    with traffic.answering() if busy else contextlib.nullcontext():
        runner.start()
        try:
            assert runner.wait_idle(20)
        finally:
            runner.stop()
    assert set(states(session_factory)) == {JobState.DONE}
    return most


def test_while_requests_are_answered_jobs_run_one_at_a_time(uow_factory, session_factory, clock):
    assert most_at_once(uow_factory, session_factory, clock, busy=True) == 1


def test_without_requests_jobs_use_every_worker(uow_factory, session_factory, clock):
    assert most_at_once(uow_factory, session_factory, clock, busy=False) > 1


def test_a_runner_leases_no_more_jobs_than_it_has_free_workers(uow_factory, session_factory, clock):
    """Jobs it leased but cannot start yet would sit idle while another replica could run
    them, and their lease would run out while they wait."""
    leased: list[int] = []

    def look(job: QueuedJob) -> None:
        with session_factory() as session:
            leased.append(len(session.scalars(select(Job.id).where(Job.state == "running")).all()))

    queue(uow_factory, "look", 8)
    runner = JobRunner(
        session_factory=session_factory, handlers={"look": look}, workers=2, clock=clock
    )
    runner.start()
    try:
        assert runner.wait_idle(20)
    finally:
        runner.stop()
    assert len(leased) == 8
    assert max(leased) <= 2


# ------------------------------------------------- leases, tokens, give-backs, database outages


def stored(session_factory, job_id: int | None = None) -> Job:
    with session_factory() as session:
        query = select(Job).order_by(Job.id)
        if job_id is not None:
            query = query.where(Job.id == job_id)
        return session.scalars(query.limit(1)).one()


def test_rate_limits_longer_than_the_lease_never_use_up_attempts_nor_run_the_job_twice(
    uow_factory, session_factory, clock
):
    """Two replicas share the queue; the job is rate-limited three times for longer than the
    lease, and may fail only twice: it still runs to its end once, its attempts unused."""
    queue(uow_factory, "send")
    runs: list[tuple[int, float]] = []
    sent: list[int] = []
    started = clock.now

    def send(job: QueuedJob) -> None:
        runs.append((job.attempt, (clock.now - started).total_seconds()))
        if len(runs) <= 3:
            raise RetryLater("rate limited", delay=timedelta(seconds=60), counts=False)
        sent.append(job.id)

    replicas = [
        JobRunner(
            session_factory=session_factory,
            handlers={"send": send},
            clock=clock,
            lease=timedelta(seconds=10),
            max_attempts=2,
        )
        for _ in range(2)
    ]
    for turn in range(30):  # five minutes, in steps shorter than the lease
        replicas[turn % 2].run_pending()
        clock.advance(seconds=11)
    assert len(sent) == 1
    # Each run waited out the Retry-After, whichever replica looked meanwhile; the runs are
    # numbered on (a handler's "an earlier run may have done part of this" stays true).
    assert [attempt for attempt, _ in runs] == [1, 2, 3, 4]
    gaps = [later - earlier for (_, earlier), (_, later) in zip(runs, runs[1:], strict=False)]
    assert all(gap >= 60 for gap in gaps), gaps
    job = stored(session_factory)
    assert (job.state, job.attempts) == (JobState.DONE, 1)


def test_a_job_given_back_without_end_is_given_up_after_a_day_and_logged(
    uow_factory, session_factory, clock, caplog
):
    queue(uow_factory, "paced")

    def paced(job: QueuedJob) -> None:
        raise RetryLater("rate limited: ratelimited", delay=timedelta(hours=5), counts=False)

    runner = JobRunner(session_factory=session_factory, handlers={"paced": paced}, clock=clock)
    with caplog.at_level(logging.ERROR, logger="incidentbot.infra.jobs"):
        for _ in range(6):  # 25 hours of rate limits
            runner.run_pending()
            clock.advance(hours=5, seconds=1)
    job = stored(session_factory)
    assert job.state == JobState.DEAD
    assert job.last_error == "rate limited: ratelimited"
    assert any(
        record.levelno == logging.ERROR and "given back 6 times" in record.getMessage()
        for record in caplog.records
    )


def test_a_job_given_back_in_a_loop_is_given_up_after_its_bound(
    uow_factory, session_factory, clock
):
    queue(uow_factory, "spin")
    runs: list[int] = []

    def spin(job: QueuedJob) -> None:
        runs.append(job.attempt)
        raise RetryLater("paced", delay=timedelta(0), counts=False)

    runner = JobRunner(
        session_factory=session_factory, handlers={"spin": spin}, clock=clock, max_give_backs=5
    )
    runner.run_pending()
    assert runs == [1, 2, 3, 4, 5, 6]
    assert stored(session_factory).state == JobState.DEAD


@pytest.mark.parametrize("outcome", ["done", "failed", "rate limited", "refused"])
def test_a_worker_whose_lease_ran_out_and_was_claimed_again_changes_nothing(
    uow_factory, session_factory, clock, caplog, outcome
):
    queue(uow_factory, "work")
    ran: list[str] = []

    def late(job: QueuedJob) -> None:
        ran.append("late")
        if outcome == "failed":
            raise RuntimeError("boom")
        if outcome == "rate limited":
            raise RetryLater("rate limited", delay=timedelta(minutes=5), counts=False)
        if outcome == "refused":
            raise jobs.GiveUp("missing_scope")

    slow = JobRunner(
        session_factory=session_factory,
        handlers={"work": late},
        clock=clock,
        lease=timedelta(seconds=10),
    )
    other = JobRunner(
        session_factory=session_factory,
        handlers={"work": lambda job: ran.append("current")},
        clock=clock,
        lease=timedelta(seconds=10),
    )
    (stale,) = slow._claim(limit=1)
    clock.advance(seconds=11)  # the slow worker's lease runs out
    (current,) = other._claim(limit=1)
    assert current.id == stale.id and current.lease_token != stale.lease_token
    before = stored(session_factory)

    with caplog.at_level(logging.WARNING, logger="incidentbot.infra.jobs"):
        slow._run(stale)
    after = stored(session_factory)
    assert (after.state, after.attempts, after.lease_token, after.locked_until) == (
        JobState.RUNNING,
        2,
        current.lease_token,
        before.locked_until,
    )
    assert (after.last_error, after.payload, after.run_after) == (
        None,
        before.payload,
        before.run_after,
    )
    assert any("was discarded" in record.getMessage() for record in caplog.records)

    other._run(current)
    assert ran == ["late", "current"]
    assert stored(session_factory).state == JobState.DONE


def test_a_worker_that_lost_its_lease_gathers_nothing(uow_factory, session_factory, clock):
    incident_id = make_incident(uow_factory)
    queue(uow_factory, "echo", 3, incident_id=incident_id)
    slow = JobRunner(
        session_factory=session_factory, handlers={}, clock=clock, lease=timedelta(seconds=10)
    )
    (stale,) = slow._claim(limit=1)
    clock.advance(seconds=11)
    (current,) = slow._claim(limit=1)
    assert current.id == stale.id
    with uow_factory() as uow, pytest.raises(jobs.LeaseLost):
        jobs.gather(uow.session, stale, limit=10, now=uow.now())
    assert states(session_factory) == ["running", "pending", "pending"]
    with uow_factory() as uow:
        assert len(jobs.gather(uow.session, current, limit=10, now=uow.now())) == 3
        uow.commit()
    assert states(session_factory) == ["running", "done", "done"]


class Outage:
    """Takes the database away from one engine for a moment, for real.

    PostgreSQL: the engine logs in as a role of its own; an outage forbids that role to log in
    and terminates its connections (``pg_terminate_backend``), as a restart would. SQLite:
    another connection holds the write lock, longer than the engine's (shortened) busy
    timeout. Either way every statement the engine tries meanwhile fails.
    """

    def __init__(self, session_factory: sessionmaker[Session], start, end) -> None:  # type: ignore[no-untyped-def]
        self.session_factory = session_factory
        self._start, self._end = start, end
        self._back: threading.Timer | None = None
        self._held = False
        self.count = 0

    def take_away(self, seconds: float | None = None) -> None:
        """From now until ``seconds`` from now, or with None until ``give_back()``."""
        self.count += 1
        self._start()
        self._held = seconds is None
        if seconds is not None:
            self._back = threading.Timer(seconds, self._end)
            self._back.start()

    def give_back(self) -> None:
        if self._held:
            self._held = False
            self._end()

    def wait_back(self) -> None:
        if self._back is not None:
            self._back.join()
        self.give_back()


@pytest.fixture
def outage(db_url: str, session_factory) -> Iterator[Outage]:  # type: ignore[no-untyped-def]
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        engine = db.make_engine(db_url)

        @event.listens_for(engine, "connect")
        def _short_busy_timeout(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            dbapi_connection.execute("PRAGMA busy_timeout=100")

        locker = sqlite3.connect(url.database, isolation_level=None, check_same_thread=False)
        taken = Outage(
            db.make_session_factory(engine),
            lambda: locker.execute("BEGIN EXCLUSIVE"),
            lambda: locker.execute("COMMIT"),
        )
        yield taken
        taken.wait_back()
        locker.close()
        engine.dispose()
        return

    import psycopg

    from tests.databases import admin_dsn

    schema = "public"  # of the test's own database
    role = f"jobs_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_dsn(db_url), autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
        admin.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"')
        admin.execute(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"')

    def admin_run(*statements: str) -> None:
        with psycopg.connect(admin_dsn(db_url), autocommit=True) as admin:
            for statement in statements:
                admin.execute(statement)

    terminate = f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"
    engine = db.make_engine(url.set(username=role).render_as_string(hide_password=False))
    taken = Outage(
        db.make_session_factory(engine),
        lambda: admin_run(f'ALTER ROLE "{role}" NOLOGIN', terminate),
        lambda: admin_run(f'ALTER ROLE "{role}" LOGIN'),
    )
    try:
        yield taken
    finally:
        taken.wait_back()
        engine.dispose()
        admin_run(terminate, f'DROP OWNED BY "{role}"', f'DROP ROLE "{role}"')


def wait_until(condition, *, timeout: float = 15.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_failure_met_while_the_database_is_away_is_recorded_when_it_returns(
    outage, uow_factory, session_factory, clock, caplog
):
    """The incident's next job waits seconds (the failed job's backoff), not the lease."""
    incident_id = make_incident(uow_factory)
    queue(uow_factory, "flaky", incident_id=incident_id)
    queue(uow_factory, "next", incident_id=incident_id)
    ran: list[tuple[str, int]] = []

    def flaky(job: QueuedJob) -> None:
        ran.append(("flaky", job.attempt))
        if job.attempt == 1:
            # Away until the runner has met it: on a timer, a loaded machine could reach the
            # runner's first try only after the database was back.
            outage.take_away()
            raise RuntimeError("Slack failed as well")

    runner = JobRunner(
        session_factory=outage.session_factory,
        handlers={"flaky": flaky, "next": lambda job: ran.append(("next", job.attempt))},
        clock=clock,
        lease=timedelta(minutes=2),
    )
    with caplog.at_level(logging.WARNING, logger="incidentbot.infra.jobs"):
        runner.start()
        try:
            assert wait_until(
                lambda: any(
                    "could not record how it ended" in r.getMessage() for r in caplog.records
                )
            ), "the runner never met the database away"
            outage.give_back()
            assert wait_until(lambda: stored(session_factory).last_error is not None), (
                "the failure was not recorded after the database came back"
            )
            assert stored(session_factory).state == JobState.PENDING
            outage.wait_back()
            clock.advance(seconds=2)  # the failed job's backoff; its lease had 2 minutes
            runner.wake()
            assert runner.wait_idle(20)
        finally:
            runner.stop()
    assert ran == [("flaky", 1), ("flaky", 2), ("next", 1)]
    assert states(session_factory) == [JobState.DONE, JobState.DONE]
    assert any("could not record how it ended" in r.getMessage() for r in caplog.records)


def test_a_worker_that_fails_outside_its_handler_is_logged(
    outage, uow_factory, session_factory, clock, caplog
):
    """The database stays away longer than the worker keeps trying to record the job: the
    error reaches the log, and the job is run again once its lease runs out."""
    queue(uow_factory, "work")
    ran: list[int] = []

    def work(job: QueuedJob) -> None:
        ran.append(job.attempt)
        if job.attempt == 1:
            outage.take_away(seconds=1.5)

    runner = JobRunner(
        session_factory=outage.session_factory,
        handlers={"work": work},
        clock=clock,
        lease=timedelta(minutes=2),
        finish_patience=timedelta(seconds=0.3),
    )

    def logged() -> bool:
        return any(
            record.levelno == logging.ERROR
            and record.exc_info is not None
            and isinstance(record.exc_info[1], OperationalError)
            and "its worker failed" in record.getMessage()
            for record in caplog.records
        )

    with caplog.at_level(logging.WARNING, logger="incidentbot.infra.jobs"):
        runner.start()
        try:
            assert wait_until(logged), "the worker's error did not reach the log"
            outage.wait_back()
            assert states(session_factory) == [JobState.RUNNING]
            clock.advance(minutes=3)
            runner.wake()
            assert runner.wait_idle(20)
        finally:
            runner.stop()
    assert ran == [1, 2]
    assert states(session_factory) == [JobState.DONE]


def test_a_job_another_replica_queues_starts_here_without_waiting_for_a_poll(db_url):
    """PostgreSQL: a commit that queues jobs notifies every replica (``LISTEN``/``NOTIFY``).
    This replica polls once an hour and is never told in-process: only the notification can
    wake it. The other "replica" is a second engine on the same database."""
    from incidentbot.infra.wakeups import Listener

    if make_url(db_url).get_backend_name() != "postgresql":
        pytest.skip("replicas tell each other of jobs on PostgreSQL; SQLite's share a process")
    here, there = db.make_engine(db_url), db.make_engine(db_url)
    done = threading.Event()
    runner = JobRunner(
        session_factory=db.make_session_factory(here),
        handlers={"work": lambda job: done.set()},
        poll_interval=3600,
    )
    listener = Listener(here, runner.wake)
    runner.start()
    listener.start()
    try:
        assert listener.listening.wait(20)
        time.sleep(0.2)  # the wake on connecting has found nothing and the runner sleeps again
        with UnitOfWork(db.make_session_factory(there)) as uow:
            uow.enqueue("work")
            uow.commit()
        assert done.wait(20), "the job waited for the poll"
    finally:
        listener.stop()
        runner.stop()
        here.dispose()
        there.dispose()


def test_a_rolled_back_unit_of_work_notifies_no_one(db_url):
    from incidentbot.infra.wakeups import Listener

    if make_url(db_url).get_backend_name() != "postgresql":
        pytest.skip("PostgreSQL's LISTEN/NOTIFY")
    engine = db.make_engine(db_url)
    heard: list[object] = []
    listener = Listener(engine, heard.append)
    listener.start()
    try:
        assert listener.listening.wait(20)
        time.sleep(0.2)
        heard.clear()  # the look on connecting
        with UnitOfWork(db.make_session_factory(engine)) as uow:
            uow.enqueue("work", delay=timedelta(minutes=5))
            # left without commit: rolled back
        with UnitOfWork(db.make_session_factory(engine)) as uow:
            uow.enqueue("work", delay=timedelta(minutes=5))
            uow.commit()
        deadline = time.monotonic() + 20
        while not heard and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)
        assert len(heard) == 1  # the committed one alone, with when it comes due
        assert heard[0] is not None
    finally:
        listener.stop()
        engine.dispose()
