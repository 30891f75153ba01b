"""Replicas tell each other of new jobs: PostgreSQL ``LISTEN``/``NOTIFY``.

A replica's job runner wakes by itself for what its own process commits (``UnitOfWork`` calls
``JobRunner.wake``) and for what its database says comes due later; a job another replica
queued it would otherwise meet only at its next poll. So a unit of work that queues jobs on
PostgreSQL also says so on :data:`CHANNEL` (``pg_notify``, in the same transaction: PostgreSQL
delivers it at the commit, and never for a rollback), with the moment the first of them is due;
every replica listens (:class:`Listener`, one connection of its own) and wakes its runner then.

A notification is only a hint. One missed while the listening connection was away (a restart
of the database, a network cut) costs what it always did, a poll interval; the listener
reconnects with a growing pause. SQLite has no such thing, and needs none: its replicas are
threads of one process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.sql import func

log = logging.getLogger(__name__)

CHANNEL = "incidentbot_jobs"
# How often the listener looks up from waiting to see whether it is being stopped.
_LOOK_UP_SECONDS = 0.5
_FIRST_PAUSE = 1.0
_MAX_PAUSE = 30.0


def announce(session: Session, first_due: datetime) -> None:
    """Tell every listening replica, when ``session`` commits, that jobs come due at
    ``first_due``. Nothing on databases other than PostgreSQL."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(select(func.pg_notify(CHANNEL, first_due.isoformat())))


class Listener:
    """Calls ``wake(at)`` for every notification on :data:`CHANNEL`, from a thread of its own,
    until ``stop()``. Does nothing for an engine that is not PostgreSQL's."""

    def __init__(self, engine: Engine, wake: Callable[[datetime | None], None]) -> None:
        self._url = engine.url
        self._wake = wake
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()  # set while LISTEN is in force (for tests)

    @property
    def enabled(self) -> bool:
        return self._url.get_backend_name() == "postgresql"

    def start(self) -> None:
        if not self.enabled or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="incidentbot-wakeups", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _dsn(self) -> str:
        url = make_url(self._url).set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def _run(self) -> None:
        import psycopg

        pause = _FIRST_PAUSE
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._dsn(), autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    pause = _FIRST_PAUSE
                    # Anything queued while this connection was away was missed: look now.
                    self._wake(None)
                    while not self._stop.is_set():
                        for notice in conn.notifies(timeout=_LOOK_UP_SECONDS):
                            self._wake(_moment(notice.payload))
            except psycopg.Error as error:
                self.listening.clear()
                if self._stop.is_set():
                    return
                log.warning(
                    "not hearing of other replicas' jobs (%s); trying again in %.0f s",
                    str(error).strip()[:200],
                    pause,
                )
                self._stop.wait(pause)
                pause = min(pause * 2, _MAX_PAUSE)
        self.listening.clear()


def _moment(payload: str) -> datetime | None:
    """The due moment a notification carries; None (now) for anything else."""
    try:
        return datetime.fromisoformat(payload)
    except ValueError:
        return None
