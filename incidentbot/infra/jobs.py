"""Running queued work after commits, across threads, replicas and restarts.

A job is claimed with one compare-and-set UPDATE ... RETURNING (it works the same on SQLite and
PostgreSQL and needs no lock held while the job runs); a claim is a lease, so a job whose
process died is taken up again once its lease runs out. Jobs of one incident run one at a time,
oldest first, so that e.g. the channel exists before anything is posted to it.

Each claim also sets a fresh lease token, and everything the runner writes for a claimed job
checks it: a worker whose lease ran out while another took the job up changes nothing. No
worker sleeps while holding a lease: a handler that must wait (Slack's Retry-After, pacing)
gives the job back with a later due time (``RetryLater``). See docs/reliability.md.
"""

from __future__ import annotations

import enum
import functools
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import ColumnElement, Row, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, aliased, sessionmaker
from sqlalchemy.sql.dml import ReturningUpdate

from incidentbot.domain.models import Job, JobState, JSONObject, table_of, utcnow
from incidentbot.infra import db
from incidentbot.infra.failpoints import crash_point

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
# A channel's topic and bookmark decorate it; what makes the incident usable (channel, people,
# summary, announcement) goes first. Queued without an incident too, one Slack write each: a
# decoration waiting minutes for its Tier-2 turn in a storm holds up none of the incident's
# later work, and a job given back before its one write never needs to ask Slack what it did.
SET_TOPIC = "channel.set_topic"
ADD_BOOKMARK = "channel.add_bookmark"
# A due reminder's nudge (services/reminders.py): a DM, or in the incident channel.
SEND_REMINDER = "reminder.send"


# How far ahead a pending job still counts as due when waiting for the queue to drain.
IDLE_GRACE = timedelta(seconds=2)

# Work worth gathering (see ``gather``) waits this long after it is queued, so that what
# arrives meanwhile is done with it: Slack takes about one message per second per channel,
# and a burst of notes becomes one echo instead of one each.
GATHER_WINDOW = {ECHO_ENTRY: timedelta(milliseconds=500)}


# A job given back uncounted (``RetryLater(counts=False)``) is still given up, logged at ERROR,
# once it has been given back more than this many times, or over longer than this since its
# first give-back: a rate limit that never lifts, or a handler that gives back in a loop.
# Generous, because a storm of incidents can have a job paced many times for good reason.
MAX_GIVE_BACKS = 1000
GIVE_BACK_PERIOD = timedelta(days=1)
# How long a worker keeps trying to record how its job ended while the database is away
# (a restart, a dropped connection, a lock held past the busy timeout), pausing from
# FIRST_PAUSE up to MAX_PAUSE between tries. Only stopping the runner cuts it short.
FINISH_PATIENCE = timedelta(minutes=2)
FIRST_PAUSE = 0.05
MAX_PAUSE = 5.0
# Where a job's payload keeps its uncounted give-backs (``{"times": n, "since": iso}``);
# handlers never see it.
GIVEN_BACK = "_given_back"


class RetryLater(Exception):
    """Raised by a handler for a temporary failure; the job runs again after ``delay``.

    With ``counts=False`` the attempt is given back: for waiting that says nothing about
    whether the job can succeed (Slack's rate limits, pacing), so that a storm of them never
    uses up ``max_attempts``. Such give-backs have their own bound (``MAX_GIVE_BACKS``,
    ``GIVE_BACK_PERIOD``).
    """

    def __init__(
        self, reason: str, *, delay: timedelta = timedelta(seconds=5), counts: bool = True
    ) -> None:
        super().__init__(reason)
        self.delay = delay
        self.counts = counts


class LeaseLost(Exception):
    """This worker's lease on its job ran out and another claim took the job: it must change
    nothing more. Raised by ``gather``; the runner logs it and records nothing."""


class GiveUp(Exception):
    """Raised by a handler for a failure that trying again cannot mend (Slack refusing for good:
    a missing scope, a guest who may not join). The job is dead at once, with the reason kept as
    its last error; whoever asked was told by the handler."""


def rearm(session: Session, *, incident_id: int, kind: str, now: datetime) -> int:
    """Make an incident's waiting or abandoned jobs of ``kind`` due now, with fresh attempts.

    For a person asking again (``declare`` typed a second time): a retry they can see beats
    waiting out a backoff. Returns how many jobs were re-armed.
    """
    waiting = (
        Job.incident_id == incident_id,
        Job.kind == kind,
        Job.state.in_([JobState.PENDING, JobState.DEAD]),
    )
    # Fresh attempts include fresh give-backs: a job given up after a day of rate limits
    # must not be given up again at its next one.
    for row in session.execute(select(Job.id, Job.payload).where(*waiting)).all():
        if GIVEN_BACK in (row.payload or {}):
            session.execute(
                update(Job)
                .where(Job.id == row.id)
                .values(payload=_handler_payload(row.payload))
                .execution_options(synchronize_session=False)
            )
    result = session.execute(
        update(Job)
        .where(*waiting)
        .values(state=JobState.PENDING, run_after=now, attempts=0, finished_at=None)
        .execution_options(synchronize_session=False)
    )
    return db.rows_changed(result)


@dataclass(frozen=True)
class QueuedJob:
    """A claimed job, as its handler sees it."""

    id: int
    kind: str
    incident_id: int | None
    payload: Mapping[str, object]
    # Which run of the job this is, from 1; more than 1 means an earlier run may have done
    # part of the work. Runs given back uncounted are included.
    attempt: int
    # This claim's: whatever the runner writes for the job checks it (see ``_held``).
    lease_token: str
    # How many earlier runs were given back without counting toward ``max_attempts``.
    given_back: int = 0

    @property
    def counted_attempts(self) -> int:
        """The attempts that count toward ``max_attempts``, this one included."""
        return self.attempt - self.given_back


Handler = Callable[[QueuedJob], None]


def _handler_payload(payload: Mapping[str, object] | None) -> dict[str, object]:
    """A stored payload without the runner's own bookkeeping."""
    return {key: value for key, value in (payload or {}).items() if key != GIVEN_BACK}


def _held(job: QueuedJob) -> ColumnElement[bool]:
    """Matches ``job``'s row only while the claim that handed it out still holds it."""
    return and_(Job.id == job.id, Job.lease_token == job.lease_token, Job.state == JobState.RUNNING)


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

    Raises ``LeaseLost`` if ``job`` is no longer this worker's to change.
    """
    stored = session.execute(select(Job.payload).where(_held(job))).first()
    if stored is None:
        raise LeaseLost(f"job {job.id} was claimed again before it gathered its work")
    payload = _handler_payload(stored.payload)
    if "gathered" in payload:
        # Written below, by this function: a list of payloads, as JSON stored it.
        return list(cast("list[Mapping[str, object]]", payload["gathered"]))
    gathered: list[Mapping[str, object]] = [payload]
    taken = _jobs_behind(session, job, limit=limit - 1)
    if taken:
        result = session.execute(
            update(Job)
            .where(
                Job.id.in_([row.id for row in taken]),
                Job.state == JobState.PENDING,
                Job.attempts == 0,
                Job.last_error.is_(None),
            )
            .values(state=JobState.DONE, finished_at=now, attempts=1)
            .execution_options(synchronize_session=False)
        )
        if db.rows_changed(result) != len(taken):
            session.rollback()  # one was claimed meanwhile: take none
            return gathered
        gathered += [dict(row.payload) for row in taken]
    kept = session.execute(
        update(Job)
        .where(_held(job))
        .values(payload={**(stored.payload or {}), "gathered": gathered})
        .execution_options(synchronize_session=False)
    )
    if db.rows_changed(kept) != 1:
        session.rollback()
        raise LeaseLost(f"job {job.id} was claimed again while it gathered its work")
    return gathered


class Turn(enum.Enum):
    """Where a job stands among the jobs of its kind for the same key (``turn``)."""

    GO = "go"  # nothing of its kind for the key runs beside it, and none came after it
    WAIT = "wait"  # an earlier one is running (its lease live): wait for it, then ask again
    SUPERSEDED = "superseded"  # a later one will do the same work with newer facts


def turn(session: Session, job: QueuedJob, *, key: str, now: datetime) -> Turn:
    """For work queued outside any incident's line but keyed by a payload value (the channel
    topic of incident N): the latest job for a key wins, and none runs beside another.

    Each such job reads the current state when it runs, so a later job (one not given up)
    makes the earlier ones redundant; and an earlier job still running (its lease live) may be
    between reading Slack and writing to it, so the later one waits for it. Together: at most
    one of them writes at a time, and a burst of them writes once.
    """
    value = job.payload.get(key)
    same = and_(Job.kind == job.kind, Job.payload[key].as_integer() == value)
    later = session.scalar(
        select(Job.id).where(same, Job.id > job.id, Job.state != JobState.DEAD).limit(1)
    )
    if later is not None:
        return Turn.SUPERSEDED
    earlier = session.scalar(
        select(Job.id)
        .where(same, Job.id < job.id, Job.state == JobState.RUNNING, Job.locked_until >= now)
        .limit(1)
    )
    return Turn.WAIT if earlier is not None else Turn.GO


def _jobs_behind(
    session: Session, job: QueuedJob, *, limit: int
) -> list[Row[int, str, JSONObject, str, int, str | None]]:
    """The never-tried jobs of ``job``'s kind right behind it in its incident's queue (a job
    given back uncounted has no attempts, but has its last error)."""
    if job.incident_id is None or limit < 1:
        return []
    behind = session.execute(
        select(Job.id, Job.kind, Job.payload, Job.state, Job.attempts, Job.last_error)
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
        if (
            row.kind != job.kind
            or row.state != JobState.PENDING
            or row.attempts
            or row.last_error is not None
        ):
            break
        taken.append(row)
    return taken


@functools.cache
def _claim_statement(limit: int) -> ReturningUpdate[int, str, int | None, JSONObject, int]:
    """Claim up to ``limit`` due jobs, each not behind an unfinished job of its incident, taking
    the time as ``:now``, the lease's end as ``:lease_end`` and its token as ``:lease_token``.

    The token is one per claim: every row it takes is told apart by its id, which every check
    of the token goes with, and a later claim of the same row always brings a new token.

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
        update(table_of(Job))
        .where(due, jobs.id.in_(select(candidates.c.id)))
        .values(
            state=JobState.RUNNING,
            locked_until=bindparam("lease_end", type_=jobs.locked_until.type),
            lease_token=bindparam("lease_token", type_=jobs.lease_token.type),
            attempts=jobs.attempts + 1,
        )
        .returning(jobs.id, jobs.kind, jobs.incident_id, jobs.payload, jobs.attempts)
    )


def _database_away(error: DBAPIError) -> bool:
    """Whether ``error`` says the database cannot be reached right now (restarting, a dropped
    connection, locked past the busy timeout), rather than that the statement is wrong."""
    return error.connection_invalidated or isinstance(error, (OperationalError, InterfaceError))


def _brief(error: DBAPIError) -> str:
    """The driver's own first line, without the statement and its parameters."""
    first = str(error.orig).strip().splitlines()[:1]
    return f"{type(error.orig).__name__}: {first[0] if first else ''}"


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
        finish_patience: timedelta = FINISH_PATIENCE,
        max_give_backs: int = MAX_GIVE_BACKS,
        give_back_period: timedelta = GIVE_BACK_PERIOD,
    ) -> None:
        self._session_factory = session_factory
        self._traffic = traffic
        self._handlers = dict(handlers)
        self._workers = workers
        self._clock = clock
        self._poll_interval = poll_interval
        self._lease = lease
        self._max_attempts = max_attempts
        self._finish_patience = finish_patience
        self._max_give_backs = max_give_backs
        self._give_back_period = give_back_period
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
        grace: timedelta = IDLE_GRACE,
    ) -> bool:
        """Wait until no job is running or due within ``horizon``; True if that happened within
        ``timeout``. A longer horizon also waits out retries scheduled soon. New jobs due
        within ``ahead`` (waiting out their gather window) are made due at once rather than
        waited for: with a clock that only moves when told to, as in the demo, they would
        never be; retries keep their schedule. ``grace`` is the least horizon: it allows for
        a job stamped by a clock read a little before this one (a caller that moves the clock
        itself may shorten it)."""
        deadline = time.monotonic() + timeout
        looks = 0
        while time.monotonic() < deadline:
            if ahead and self._bring_forward(ahead):
                self.wake()
            if not self._has_unfinished_due_jobs(max(horizon, grace)):
                return True
            # The dispatcher wakes by itself for what this process queues and for what comes
            # due (``_next_claimable``); a nudge now and then covers jobs another process
            # queued, which it would otherwise only see at its poll.
            if looks % 5 == 0:
                self.wake()
            looks += 1
            self._stop.wait(0.02)
        return False

    def _bring_forward(self, ahead: timedelta) -> bool:
        """Make new jobs due within ``ahead`` due now; whether there were any. Looks before
        it writes: on SQLite an UPDATE takes the write lock even when it changes nothing."""
        now = self._clock()
        waiting = and_(
            Job.state == JobState.PENDING,
            Job.attempts == 0,
            Job.last_error.is_(None),  # given back: it keeps its Retry-After
            Job.run_after > now,
            Job.run_after <= now + ahead,
        )
        with self._session_factory() as session:
            if not db.read_only(session).scalar(select(exists().where(waiting))):
                return False
        with self._session_factory() as session, session.begin():
            session.execute(
                update(Job)
                .where(waiting)
                .values(run_after=now)
                .execution_options(synchronize_session=False)
            )
        return True

    def earliest_pending(self) -> datetime | None:
        """When the earliest pending job is due, None when none is pending: for a clock that a
        test moves on to it rather than sleeping (``LocalStack(virtual_time=True)``)."""
        # min() keeps the column's type, so the answer is an aware UTC datetime.
        with self._session_factory() as session:
            return db.read_only(session).scalar(
                select(func.min(Job.run_after)).where(Job.state == JobState.PENDING)
            )

    def _has_unfinished_due_jobs(self, horizon: timedelta) -> bool:
        # One statement, so one snapshot: with two, a job finishing between them could look
        # neither running (second look) nor leave its successor claimable (first look).
        # A job is RUNNING in the database for as long as a worker holds it. The clock is read
        # before the statement waits for the database, so a job queued meanwhile is stamped a
        # little after it: "due" allows for that (``wait_idle``'s grace).
        soon = self._clock() + horizon
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
                self._expect(self._next_claimable())
            except Exception:
                log.exception("job dispatcher failed; retrying after the poll interval")

    def _next_claimable(self) -> datetime | None:
        """When the database next has work this dispatcher could take up without being told:
        the earliest job due later (a gather window, a backoff, a Retry-After; possibly behind
        the job just woken for) or the earliest lease to run out (a crashed replica's job).
        Waking then, rather than at the next poll, keeps a job that follows another of its
        incident from waiting out the poll interval. Other replicas' commits are still seen
        at the poll."""
        now = self._clock()
        later = select(func.min(Job.run_after)).where(
            Job.state == JobState.PENDING, Job.run_after > now
        )
        lease_ends = select(func.min(Job.locked_until)).where(Job.state == JobState.RUNNING)
        with self._session_factory() as session:
            row = (
                db.read_only(session)
                .execute(select(later.scalar_subquery(), lease_ends.scalar_subquery()))
                .one()
            )
        moments = [moment for moment in row if moment is not None]
        return min(moments) if moments else None

    def _expect(self, moment: datetime | None) -> None:
        """Wake at ``moment`` unless something earlier is expected already."""
        if moment is None:
            return
        with self._schedule_lock:
            if self._next_due is None or moment < self._next_due:
                self._next_due = moment

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
        except Exception:
            # Nobody waits on a pool thread's future: unlogged here, this would vanish.
            log.exception(
                "job %s (%s): its worker failed before recording how it ended; the job is "
                "taken up again when its lease runs out",
                job.id,
                job.kind,
            )
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
        token = secrets.token_hex(16)
        with self._session_factory() as session, session.begin():
            rows = session.execute(
                _claim_statement(limit),
                {"now": now, "lease_end": now + self._lease, "lease_token": token},
            ).all()
        claimed = []
        for row in sorted(rows, key=lambda row: row.id):
            given_back = int(((row.payload or {}).get(GIVEN_BACK) or {}).get("times", 0))
            claimed.append(
                QueuedJob(
                    id=row.id,
                    kind=row.kind,
                    incident_id=row.incident_id,
                    payload=_handler_payload(row.payload),
                    attempt=row.attempts + given_back,
                    lease_token=token,
                    given_back=given_back,
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
        except LeaseLost as lost:
            log.warning("job %s (%s) stopped, changing nothing: %s", job.id, job.kind, lost)
        except RetryLater as retry:
            self._finish(job, error=str(retry), retry_in=retry.delay, counts=retry.counts)
        except GiveUp as refused:
            log.error("job %s (%s) given up: %s", job.id, job.kind, refused)
            self._finish(job, error=str(refused), retry_in=None, final=True)
        except Exception as error:
            attempt = job.counted_attempts
            log.exception("job %s (%s) failed on attempt %s", job.id, job.kind, attempt)
            backoff = timedelta(seconds=min(2 ** (attempt - 1), 300))
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
        counts: bool = True,
    ) -> None:
        """Record how ``job``'s run ended: done (``error`` None), dead (``final``, or out of
        attempts or give-backs), or due again after ``retry_in``, uncounted unless ``counts``.

        Written only while this worker still holds the job; a result nobody may write any
        more is logged and dropped. While the database is away, tries again with backoff for
        up to ``finish_patience`` (each failure logged), so that the job is not left running,
        holding back its incident's queue, until its lease runs out.
        """
        deadline = time.monotonic() + self._finish_patience.total_seconds()
        pause = FIRST_PAUSE
        failures = 0
        while True:
            try:
                with self._session_factory() as session, session.begin():
                    held, due, gave_up = self._record(
                        session, job, error=error, retry_in=retry_in, final=final, counts=counts
                    )
                break
            except DBAPIError as problem:
                if not _database_away(problem):
                    raise
                failures += 1
                log.warning(
                    "job %s (%s): could not record how it ended (try %s: %s); trying again "
                    "in %.2f s",
                    job.id,
                    job.kind,
                    failures,
                    _brief(problem),
                    pause,
                )
                if time.monotonic() + pause > deadline or self._stop.wait(pause):
                    raise
                pause = min(pause * 2, MAX_PAUSE)
        if failures:
            log.warning("job %s (%s): recorded after %s failed tries", job.id, job.kind, failures)
        if not held:
            log.warning(
                "job %s (%s): its lease ran out and it was claimed again%s; this worker's "
                "result (%s) was discarded",
                job.id,
                job.kind,
                # A try whose answer the outage swallowed may have written it after all.
                ", or an earlier try wrote it" if failures else "",
                error or "done",
            )
            return
        if gave_up is not None:
            log.error("job %s (%s) %s", job.id, job.kind, gave_up)
        if due is not None:
            self.wake(due)

    def _record(
        self,
        session: Session,
        job: QueuedJob,
        *,
        error: str | None,
        retry_in: timedelta | None,
        final: bool,
        counts: bool,
    ) -> tuple[bool, datetime | None, str | None]:
        """One try of ``_finish``: whether this worker still held the job, when it is due
        again (if it is), and why it was given up (if it was)."""
        now = self._clock()
        gave_up: str | None = None
        values: dict[str, object]
        if error is None:
            values = {"state": JobState.DONE, "finished_at": now}
        elif not counts:
            stored = session.execute(select(Job.payload).where(_held(job))).first()
            if stored is None:
                return False, None, None
            payload = dict(stored.payload or {})
            record = payload.get(GIVEN_BACK) or {}
            times = int(record.get("times", 0)) + 1
            since = datetime.fromisoformat(record["since"]) if "since" in record else now
            if times > self._max_give_backs or now - since > self._give_back_period:
                gave_up = (
                    f"gave up after being given back {times} times since "
                    f"{since:%Y-%m-%d %H:%M} UTC: {error}"
                )
                values = {"state": JobState.DEAD, "finished_at": now, "last_error": error}
            else:
                assert retry_in is not None
                values = {
                    "state": JobState.PENDING,
                    "run_after": now + retry_in,
                    "last_error": error,
                    "attempts": Job.attempts - 1,  # the claim's increment, undone
                    "payload": {
                        **payload,
                        GIVEN_BACK: {"times": times, "since": since.isoformat()},
                    },
                }
        elif final or job.counted_attempts >= self._max_attempts:
            if not final:
                gave_up = f"gave up after {job.counted_attempts} attempts"
            values = {"state": JobState.DEAD, "finished_at": now, "last_error": error}
        else:
            assert retry_in is not None
            values = {"state": JobState.PENDING, "run_after": now + retry_in, "last_error": error}
        result = session.execute(
            update(Job)
            .where(_held(job))
            .values(locked_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        if db.rows_changed(result) != 1:
            return False, None, None
        due = values.get("run_after")
        return True, due if isinstance(due, datetime) else None, gave_up
