"""The job runner: order within an incident, retries, leases, and no job run twice."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta

from sqlalchemy import select

from incidentbot.jobs import JobRunner, QueuedJob, RetryLater, Traffic
from incidentbot.models import Incident, Job, JobState
from incidentbot.uow import UnitOfWork


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
    from incidentbot import jobs

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
    from incidentbot import jobs

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
