"""The unit of work: one database session and transaction per piece of work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from incidentbot.domain.models import Incident, Job, JobState, table_of, utcnow
from incidentbot.infra import db, jobs, wakeups
from incidentbot.infra.failpoints import crash_point

Clock = Callable[[], datetime]


class UnitOfWork:
    """``with uow:`` opens a session; ``commit()`` makes the work and its queued jobs durable.

    Jobs queued with ``enqueue`` are written in the same transaction as the change that asked
    for them, so a commit never happens without the Slack work that should follow it.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        clock: Clock = utcnow,
        on_jobs_committed: Callable[[datetime], None] | None = None,
        read_only: bool = False,
    ) -> None:
        """``read_only``: the work only reads; it never waits for writers (see
        ``db.read_only``), and committing it is a mistake."""
        self._session_factory = session_factory
        self._clock = clock
        self._on_jobs_committed = on_jobs_committed
        self._read_only = read_only
        self._first_due: datetime | None = None
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        self._first_due = None
        if self._read_only:
            db.read_only(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back whatever was not committed without expiring what was loaded, so
        # objects read here stay readable (detached) after the block.
        self.session.close()

    def now(self) -> datetime:
        return self._clock()

    def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        if self._first_due is not None:
            wakeups.announce(self.session, self._first_due)  # heard by other replicas at commit
        self.session.commit()
        if self._first_due is not None:
            crash_point("after:commit")
            if self._on_jobs_committed is not None:
                self._on_jobs_committed(self._first_due)
        self._first_due = None

    def mark_jobs_queued(self) -> None:
        """Jobs were made due by other means than ``enqueue``: wake the runner on commit."""
        self._due(self.now())

    def _due(self, moment: datetime) -> None:
        if self._first_due is None or moment < self._first_due:
            self._first_due = moment

    def enqueue(
        self,
        kind: str,
        *,
        incident: Incident | None = None,
        delay: timedelta | None = None,
        **payload: object,
    ) -> None:
        """Queue work to run after this transaction commits (and ``delay``, by default the
        kind's ``jobs.GATHER_WINDOW``).

        Written at once with a plain INSERT: a job is never read back or changed in the
        transaction that queues it, so tracking it as an ORM object would only cost time on
        every command's way to its acknowledgement.
        """
        now = self.now()
        run_after = now + (jobs.GATHER_WINDOW.get(kind, timedelta(0)) if delay is None else delay)
        if incident is not None and incident.id is None:
            self.session.flush()  # the incident is new: give it its id first
        self.session.execute(
            _INSERT_JOB,
            {
                "kind": kind,
                "incident_id": incident.id if incident is not None else None,
                "payload": dict(payload),
                "state": JobState.PENDING,
                "attempts": 0,
                "run_after": run_after,
                "created_at": now,
            },
        )
        self._due(run_after)


_INSERT_JOB = insert(table_of(Job))


# Called with no arguments, or with ``read_only=True`` for work that only reads.
UnitOfWorkFactory = Callable[..., UnitOfWork]
