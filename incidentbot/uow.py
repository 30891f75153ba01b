"""The unit of work: one database session and transaction per piece of work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from incidentbot import db
from incidentbot.failpoints import crash_point
from incidentbot.models import Incident, Job, JobState, utcnow

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
        on_jobs_committed: Callable[[], None] | None = None,
        read_only: bool = False,
    ) -> None:
        """``read_only``: the work only reads; it never waits for writers (see
        ``db.read_only``), and committing it is a mistake."""
        self._session_factory = session_factory
        self._clock = clock
        self._on_jobs_committed = on_jobs_committed
        self._read_only = read_only
        self._queued = False
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        self._queued = False
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
        self.session.commit()
        if self._queued:
            crash_point("after:commit")
            if self._on_jobs_committed is not None:
                self._on_jobs_committed()
        self._queued = False

    def mark_jobs_queued(self) -> None:
        """Jobs were made due by other means than ``enqueue``: wake the runner on commit."""
        self._queued = True

    def enqueue(
        self,
        kind: str,
        *,
        incident: Incident | None = None,
        delay: timedelta = timedelta(0),
        **payload: object,
    ) -> Job:
        """Queue work to run after this transaction commits."""
        now = self.now()
        job = Job(
            kind=kind,
            incident_id=incident.id if incident is not None else None,
            payload=dict(payload),
            state=JobState.PENDING,
            attempts=0,
            run_after=now + delay,
            created_at=now,
        )
        self.session.add(job)
        self._queued = True
        return job


# Called with no arguments, or with ``read_only=True`` for work that only reads.
UnitOfWorkFactory = Callable[..., UnitOfWork]
