"""Running queued work after commits, across threads, replicas and restarts.

A job is claimed with one compare-and-set UPDATE ... RETURNING (it works the same on SQLite and
PostgreSQL and needs no lock held while the job runs); a claim is a lease, so a job whose
process died is taken up again once its lease runs out. Jobs of one incident run one at a time,
oldest first, so that e.g. the channel exists before anything is posted to it.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, exists, or_, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from incidentbot import db
from incidentbot.failpoints import crash_point
from incidentbot.models import Job, JobState, utcnow

log = logging.getLogger(__name__)

# Job kinds: what the Slack side does after a change is committed.
OPEN_CHANNEL = "incident.open_channel"
REFRESH_SUMMARY = "incident.refresh_summary"
ECHO_ENTRY = "timeline.echo"
ANNOUNCE_UPDATE = "incident.announce_update"
INVITE = "channel.invite"
GENERATE_POSTMORTEM = "postmortem.generate"
UPLOAD_POSTMORTEM = "postmortem.upload"
CAPTURE_DETAILS = "timeline.capture_details"
BRIEF_NEWCOMER = "channel.brief_newcomer"
ASK_IMPACT_START = "incident.ask_impact_start"
SETTLE_PROMPT = "channel.settle_prompt"
TELL_PRIVATELY = "channel.tell_privately"
# Queued without an incident, so they wait in no incident's line: a Home tab is one person's
# (it follows an incident only to show the channel it is opening), and an archive due days
# later must not hold back the incident's other work meanwhile.
PUBLISH_HOME = "home.publish"
ARCHIVE_CHANNEL = "channel.archive"
# A due reminder's nudge (services/reminders.py): a DM, or in the incident channel.
SEND_REMINDER = "reminder.send"


# How far ahead a pending job still counts as due when waiting for the queue to drain.
IDLE_GRACE = timedelta(seconds=2)

# Work worth gathering (see ``gather``) waits this long after it is queued, so that what
# arrives meanwhile is done with it: Slack takes about one message per second per channel,
# and a burst of notes becomes one echo instead of one each.
GATHER_WINDOW = {ECHO_ENTRY: timedelta(milliseconds=500)}


class RetryLater(Exception):
    """Raised by a handler for a temporary failure; the job runs again after ``delay``."""

    def __init__(self, reason: str, *, delay: timedelta = timedelta(seconds=5)) -> None:
        super().__init__(reason)
        self.delay = delay


class GiveUp(Exception):
    """Raised by a handler for a failure that trying again cannot mend (Slack refusing for good:
    a missing scope, a guest who may not join). The job is dead at once, with the reason kept as
    its last error; whoever asked was told by the handler."""


def rearm(session: Session, *, incident_id: int, kind: str, now: datetime) -> int:
    """Make an incident's waiting or abandoned jobs of ``kind`` due now, with fresh attempts.

    For a person asking again (``declare`` typed a second time): a retry they can see beats
    waiting out a backoff. Returns how many jobs were re-armed.
    """
    result = session.execute(
        update(Job)
        .where(
            Job.incident_id == incident_id,
            Job.kind == kind,
            Job.state.in_([JobState.PENDING, JobState.DEAD]),
        )
        .values(state=JobState.PENDING, run_after=now, attempts=0, finished_at=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


@dataclass(frozen=True)
class QueuedJob:
    id: int
    kind: str
    incident_id: int | None
    payload: Mapping[str, object]
    attempt: int


Handler = Callable[[QueuedJob], None]


def gather(
    session: Session, job: QueuedJob, *, limit: int, now: datetime
) -> list[Mapping[str, object]]:
    """The payloads of ``job`` and of the jobs of its kind queued right behind it for its
    incident (up to ``limit`` in all), which it takes over: they are marked done and ``job``
    does their work with its own. The caller commits.

    For work Slack would rate-limit if done once per job, such as a message per timeline entry
    when many are added at once. Only never-tried jobs with nothing of another kind between
    them are taken, so the incident's work keeps its order. What was taken is stored with
    ``job``, so that a retry of ``job`` does the same work, no more and no less.
    """
    stored = session.get(Job, job.id)
    assert stored is not None
    if "gathered" in stored.payload:
        return list(stored.payload["gathered"])
    gathered: list[Mapping[str, object]] = [dict(stored.payload)]
    taken = _jobs_behind(session, job, limit=limit - 1)
    if taken:
        result = session.execute(
            update(Job)
            .where(
                Job.id.in_([row.id for row in taken]),
                Job.state == JobState.PENDING,
                Job.attempts == 0,
            )
            .values(state=JobState.DONE, finished_at=now, attempts=1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != len(taken):
            session.rollback()  # one was claimed meanwhile: take none
            return gathered
        gathered += [dict(row.payload) for row in taken]
    stored.payload = {**stored.payload, "gathered": gathered}
    return gathered


def _jobs_behind(session: Session, job: QueuedJob, *, limit: int) -> list:  # type: ignore[type-arg]
    """The never-tried jobs of ``job``'s kind right behind it in its incident's queue."""
    if job.incident_id is None or limit < 1:
        return []
    behind = session.execute(
        select(Job.id, Job.kind, Job.payload, Job.state, Job.attempts)
        .where(
            Job.incident_id == job.incident_id,
            Job.id > job.id,
            Job.state.in_([JobState.PENDING, JobState.RUNNING]),
        )
        .order_by(Job.id)
        .limit(limit)
    ).all()
    taken = []
    for row in behind:
        if row.kind != job.kind or row.state != JobState.PENDING or row.attempts:
            break
        taken.append(row)
    return taken


@functools.cache
def _claim_statement(limit: int):  # type: ignore[no-untyped-def]
    """Claim up to ``limit`` due jobs, each not behind an unfinished job of its incident, taking
    the time as ``:now`` and the lease's end as ``:lease_end``.

    The UPDATE re-checks that each job is still due, so two replicas choosing the same job
    cannot both claim it; on PostgreSQL, candidates another replica is claiming are skipped
    rather than waited for. Built once per limit: a statement object reused is not re-keyed
    for SQLAlchemy's compiled cache, which otherwise costs more than running it.
    """
    jobs = Job.__table__.c
    earlier = aliased(Job)
    now = bindparam("now", type_=jobs.run_after.type)
    due = or_(
        and_(jobs.state == JobState.PENDING, jobs.run_after <= now),
        and_(jobs.state == JobState.RUNNING, jobs.locked_until < now),
    )
    blocked = exists().where(
        earlier.incident_id == jobs.incident_id,
        earlier.id < jobs.id,
        earlier.state.in_([JobState.PENDING, JobState.RUNNING]),
    )
    # A WITH query, chosen once. As a subquery of the UPDATE, PostgreSQL may run it again
    # for every row it scans, each run skipping what the earlier ones locked: the limit then
    # held per run, not in all, and one claim could take every due job.
    candidates = (
        select(jobs.id)
        .where(due, ~blocked)
        .order_by(jobs.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # SQLite has no row locks and renders none
        .cte("candidates")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    return (
        update(Job.__table__)
        .where(due, jobs.id.in_(select(candidates.c.id)))
        .values(
            state=JobState.RUNNING,
            locked_until=bindparam("lease_end", type_=jobs.locked_until.type),
            attempts=jobs.attempts + 1,
        )
        .returning(jobs.id, jobs.kind, jobs.incident_id, jobs.payload, jobs.attempts)
    )


_DONE = (
    update(Job.__table__)
    .where(Job.__table__.c.id == bindparam("job_id"))
    .values(
        state=JobState.DONE,
        finished_at=bindparam("now", type_=Job.__table__.c.finished_at.type),
        locked_until=None,
    )
)


class Traffic:
    """How many Slack requests this process is answering right now.

    Slack waits at most 3 seconds for an acknowledgement; the Slack work queued behind it can
    wait a little. While requests are being answered the job runner runs one job at a time,
    so its workers do not take the interpreter (and SQLite's writer turn) from them.
    """

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    @contextmanager
    def answering(self) -> Iterator[None]:
        with self._lock:
            self._count += 1
        try:
            yield
        finally:
            with self._lock:
                self._count -= 1

    def busy(self) -> bool:
        return self._count > 0


class JobRunner:
    """Claims due jobs and runs their handlers on a small thread pool."""

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        handlers: Mapping[str, Handler],
        workers: int = 4,
        clock: Callable[[], datetime] = utcnow,
        poll_interval: float = 1.0,
        lease: timedelta = timedelta(minutes=2),
        max_attempts: int = 8,
        traffic: Traffic | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._traffic = traffic
        self._handlers = dict(handlers)
        self._workers = workers
        self._clock = clock
        self._poll_interval = poll_interval
        self._lease = lease
        self._max_attempts = max_attempts
        self._wake = threading.Event()
        self._stop = threading.Event()
        # What the dispatcher was woken for: work due now, or a job due later (the earliest).
        self._schedule_lock = threading.Lock()
        self._claim_now = False
        self._next_due: datetime | None = None
        self._slots = threading.Semaphore(workers)
        self._in_flight = 0
        self._in_flight_lock = threading.Condition()
        self._executor: ThreadPoolExecutor | None = None
        self._dispatcher: threading.Thread | None = None

    def start(self) -> None:
        self._executor = ThreadPoolExecutor(self._workers, thread_name_prefix="incidentbot-job")
        self._dispatcher = threading.Thread(
            target=self._dispatch_loop, name="incidentbot-jobs", daemon=True
        )
        self._dispatcher.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._dispatcher is not None:
            self._dispatcher.join(timeout=10)
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=False)

    def wake(self, at: datetime | None = None) -> None:
        """Called after a commit that queued jobs, so they start without waiting for a poll:
        now, or at ``at`` when the earliest of them is due later."""
        with self._schedule_lock:
            if at is None or at <= self._clock():
                self._claim_now = True
            elif self._next_due is None or at < self._next_due:
                self._next_due = at
        self._wake.set()

    def run_pending(self, *, ahead: timedelta = timedelta(0)) -> int:
        """Run every due job in this thread until none is left; returns how many ran. New
        jobs due within ``ahead`` are made due first (see ``wait_idle``)."""
        if ahead:
            self._bring_forward(ahead)
        ran = 0
        while True:
            claimed = self._claim(limit=1)
            if not claimed:
                return ran
            self._run(claimed[0])
            ran += 1

    def wait_idle(
        self,
        timeout: float = 30.0,
        *,
        horizon: timedelta = IDLE_GRACE,
        ahead: timedelta = timedelta(0),
    ) -> bool:
        """Wait until no job is running or due within ``horizon``; True if that happened within
        ``timeout``. A longer horizon also waits out retries scheduled soon. New jobs due
        within ``ahead`` (waiting out their gather window) are made due at once rather than
        waited for: with a clock that only moves when told to, as in the demo, they would
        never be; retries keep their schedule."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ahead:
                self._bring_forward(ahead)
            if not self._has_unfinished_due_jobs(horizon):
                return True
            self.wake()
            self._stop.wait(0.02)
        return False

    def _bring_forward(self, ahead: timedelta) -> None:
        now = self._clock()
        with self._session_factory() as session, session.begin():
            session.execute(
                update(Job)
                .where(
                    Job.state == JobState.PENDING,
                    Job.attempts == 0,
                    Job.run_after > now,
                    Job.run_after <= now + ahead,
                )
                .values(run_after=now)
                .execution_options(synchronize_session=False)
            )

    def _has_unfinished_due_jobs(self, horizon: timedelta) -> bool:
        # One statement, so one snapshot: with two, a job finishing between them could look
        # neither running (second look) nor leave its successor claimable (first look).
        # A job is RUNNING in the database for as long as a worker holds it. The clock is read
        # before the statement waits for the database, so a job queued meanwhile is stamped a
        # little after it: "due" allows for that.
        soon = self._clock() + max(horizon, IDLE_GRACE)
        due = exists().where(Job.state == JobState.PENDING, Job.run_after <= soon)
        running = exists().where(Job.state == JobState.RUNNING)
        with self._session_factory() as session:
            return bool(db.read_only(session).scalar(select(or_(due, running))))

    def _dispatch_loop(self) -> None:
        assert self._executor is not None
        while not self._stop.is_set():
            woken = self._wake.wait(self._until_next_due())
            self._wake.clear()
            if not self._due() and woken:
                continue  # told of a job due later: wait for it, claiming nothing meanwhile
            try:
                while not self._stop.is_set():
                    free = self._free_slots()
                    if free == 0:
                        self._stop.wait(0.01)
                        continue
                    claimed = self._claim(limit=free)
                    for job in claimed:
                        self._slots.acquire()
                        with self._in_flight_lock:
                            self._in_flight += 1
                        self._executor.submit(self._run_in_pool, job)
                    if len(claimed) < free:
                        break  # nothing else is due; the next commit or finished job wakes us
            except Exception:
                log.exception("job dispatcher failed; retrying after the poll interval")

    def _until_next_due(self) -> float:
        """Seconds to sleep: until the earliest job known to be due later, or one poll."""
        with self._schedule_lock:
            if self._claim_now:
                return 0.0
            if self._next_due is None:
                return self._poll_interval
            until = (self._next_due - self._clock()).total_seconds()
        return max(0.0, min(self._poll_interval, until))

    def _due(self) -> bool:
        """Whether work may be due now (and forget what made it so)."""
        with self._schedule_lock:
            due = self._claim_now
            self._claim_now = False
            if self._next_due is not None and self._next_due <= self._clock():
                self._next_due = None
                due = True
            return due

    def _free_slots(self) -> int:
        workers = 1 if self._traffic is not None and self._traffic.busy() else self._workers
        with self._in_flight_lock:
            return max(0, workers - self._in_flight)

    def _run_in_pool(self, job: QueuedJob) -> None:
        try:
            self._run(job)
        finally:
            self._slots.release()
            with self._in_flight_lock:
                self._in_flight -= 1
                self._in_flight_lock.notify_all()
            # A finished job may unblock the next one of its incident.
            self.wake()

    def _claim(self, *, limit: int) -> list[QueuedJob]:
        """Take up to ``limit`` due jobs in one statement: each the oldest unfinished job of
        its incident (if it has one), marked running under a lease."""
        now = self._clock()
        with self._session_factory() as session, session.begin():
            rows = session.execute(
                _claim_statement(limit), {"now": now, "lease_end": now + self._lease}
            ).all()
        return [
            QueuedJob(
                id=row.id,
                kind=row.kind,
                incident_id=row.incident_id,
                payload=dict(row.payload or {}),
                attempt=row.attempts,
            )
            for row in sorted(rows, key=lambda row: row.id)
        ]

    def _run(self, job: QueuedJob) -> None:
        crash_point(f"before:{job.kind}")
        handler = self._handlers.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            handler(job)
        except RetryLater as retry:
            self._finish(job, error=str(retry), retry_in=retry.delay)
        except GiveUp as refused:
            log.error("job %s (%s) given up: %s", job.id, job.kind, refused)
            self._finish(job, error=str(refused), retry_in=None, final=True)
        except Exception as error:
            log.exception("job %s (%s) failed on attempt %s", job.id, job.kind, job.attempt)
            backoff = timedelta(seconds=min(2 ** (job.attempt - 1), 300))
            self._finish(job, error=f"{type(error).__name__}: {error}", retry_in=backoff)
        else:
            self._finish(job, error=None, retry_in=None)

    def _finish(
        self,
        job: QueuedJob,
        *,
        error: str | None,
        retry_in: timedelta | None,
        final: bool = False,
    ) -> None:
        now = self._clock()
        if error is None:
            with self._session_factory() as session, session.begin():
                session.execute(_DONE, {"job_id": job.id, "now": now})
            return
        if final or job.attempt >= self._max_attempts:
            if not final:
                log.error("job %s (%s) gave up after %s attempts", job.id, job.kind, job.attempt)
            values: dict[str, object] = {
                "state": JobState.DEAD,
                "finished_at": now,
                "last_error": error,
            }
        else:
            assert retry_in is not None
            values = {"state": JobState.PENDING, "run_after": now + retry_in, "last_error": error}
        with self._session_factory() as session, session.begin():
            session.execute(
                update(Job)
                .where(Job.id == job.id)
                .values(locked_until=None, **values)
                .execution_options(synchronize_session=False)
            )
