"""Running queued work after commits, across threads, replicas and restarts.

A job is claimed with a compare-and-set UPDATE (it works the same on SQLite and PostgreSQL and
needs no lock held while the job runs); a claim is a lease, so a job whose process died is taken
up again once its lease runs out. Jobs of one incident run one at a time, oldest first, so that
e.g. the channel exists before anything is posted to it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

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


# How far ahead a pending job still counts as due when waiting for the queue to drain.
IDLE_GRACE = timedelta(seconds=2)


class RetryLater(Exception):
    """Raised by a handler for a temporary failure; the job runs again after ``delay``."""

    def __init__(self, reason: str, *, delay: timedelta = timedelta(seconds=5)) -> None:
        super().__init__(reason)
        self.delay = delay


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
    ) -> None:
        self._session_factory = session_factory
        self._handlers = dict(handlers)
        self._workers = workers
        self._clock = clock
        self._poll_interval = poll_interval
        self._lease = lease
        self._max_attempts = max_attempts
        self._wake = threading.Event()
        self._stop = threading.Event()
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

    def wake(self) -> None:
        """Called after a commit that queued jobs, so they start without waiting for a poll."""
        self._wake.set()

    def run_pending(self) -> int:
        """Run every due job in this thread until none is left; returns how many ran."""
        ran = 0
        while True:
            claimed = self._claim(limit=1)
            if not claimed:
                return ran
            self._run(claimed[0])
            ran += 1

    def wait_idle(self, timeout: float = 30.0, *, horizon: timedelta = IDLE_GRACE) -> bool:
        """Wait until no job is running or due within ``horizon``; True if that happened within
        ``timeout``. A longer horizon also waits out retries scheduled soon."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._has_unfinished_due_jobs(horizon):
                return True
            self._wake.set()
            self._stop.wait(0.02)
        return False

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
            return bool(session.scalar(select(or_(due, running))))

    def _dispatch_loop(self) -> None:
        assert self._executor is not None
        while not self._stop.is_set():
            self._wake.wait(self._poll_interval)
            self._wake.clear()
            try:
                while not self._stop.is_set():
                    free = self._free_slots()
                    if free == 0:
                        self._stop.wait(0.01)
                        continue
                    claimed = self._claim(limit=free)
                    if not claimed:
                        break
                    for job in claimed:
                        self._slots.acquire()
                        with self._in_flight_lock:
                            self._in_flight += 1
                        self._executor.submit(self._run_in_pool, job)
            except Exception:
                log.exception("job dispatcher failed; retrying after the poll interval")

    def _free_slots(self) -> int:
        with self._in_flight_lock:
            return self._workers - self._in_flight

    def _run_in_pool(self, job: QueuedJob) -> None:
        try:
            self._run(job)
        finally:
            self._slots.release()
            with self._in_flight_lock:
                self._in_flight -= 1
                self._in_flight_lock.notify_all()
            # A finished job may unblock the next one of its incident.
            self._wake.set()

    def _claimable(self, now: datetime):  # type: ignore[no-untyped-def]
        earlier = aliased(Job)
        blocked = exists().where(
            and_(
                earlier.incident_id == Job.incident_id,
                earlier.id < Job.id,
                earlier.state.in_([JobState.PENDING, JobState.RUNNING]),
            )
        )
        due = or_(
            and_(Job.state == JobState.PENDING, Job.run_after <= now),
            and_(Job.state == JobState.RUNNING, Job.locked_until < now),
        )
        return and_(due, ~blocked)

    def _claim(self, *, limit: int) -> list[QueuedJob]:
        now = self._clock()
        claimed: list[QueuedJob] = []
        with self._session_factory() as session:
            candidates = session.scalars(
                select(Job.id).where(self._claimable(now)).order_by(Job.id).limit(limit)
            ).all()
            session.rollback()
            for job_id in candidates:
                with session.begin():
                    result = session.execute(
                        update(Job)
                        .where(
                            Job.id == job_id,
                            or_(
                                Job.state == JobState.PENDING,
                                and_(Job.state == JobState.RUNNING, Job.locked_until < now),
                            ),
                        )
                        .values(
                            state=JobState.RUNNING,
                            locked_until=now + self._lease,
                            attempts=Job.attempts + 1,
                        )
                        .execution_options(synchronize_session=False)
                    )
                    if result.rowcount != 1:
                        continue
                    job = session.get(Job, job_id, populate_existing=True)
                    assert job is not None
                    claimed.append(
                        QueuedJob(
                            id=job.id,
                            kind=job.kind,
                            incident_id=job.incident_id,
                            payload=dict(job.payload or {}),
                            attempt=job.attempts,
                        )
                    )
        return claimed

    def _run(self, job: QueuedJob) -> None:
        crash_point(f"before:{job.kind}")
        handler = self._handlers.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            handler(job)
        except RetryLater as retry:
            self._finish(job, error=str(retry), retry_in=retry.delay)
        except Exception as error:
            log.exception("job %s (%s) failed on attempt %s", job.id, job.kind, job.attempt)
            backoff = timedelta(seconds=min(2 ** (job.attempt - 1), 300))
            self._finish(job, error=f"{type(error).__name__}: {error}", retry_in=backoff)
        else:
            self._finish(job, error=None, retry_in=None)

    def _finish(self, job: QueuedJob, *, error: str | None, retry_in: timedelta | None) -> None:
        now = self._clock()
        if error is None:
            values: dict[str, object] = {"state": JobState.DONE, "finished_at": now}
        elif job.attempt >= self._max_attempts:
            log.error("job %s (%s) gave up after %s attempts", job.id, job.kind, job.attempt)
            values = {"state": JobState.DEAD, "finished_at": now, "last_error": error}
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
