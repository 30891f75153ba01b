"""Engine, sessions and migrations."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, CursorResult, ExecutionContext, Result, make_url
from sqlalchemy.orm import Session, sessionmaker

from incidentbot.infra.paths import data_dir

log = logging.getLogger(__name__)

# Any constant will do; it only has to be the same for every replica.
_MIGRATION_LOCK = 727_001


# Execution option of a transaction that only reads; see ``read_only``.
READ_ONLY = "incidentbot_read_only"

# How long a writer waits for its turn before leaving it to SQLite's own busy timeout.
_WRITER_WAIT_SECONDS = 30.0


class ReadOnlyWrite(RuntimeError):
    """A transaction begun with ``read_only`` tried to write (SQLite only)."""


class _WriterTurn:
    """Whose turn it is to write one SQLite database, among this process's threads.

    SQLite lets one transaction write at a time. Left to SQLite, writers that find the database
    locked sleep and poll (1, 2, 5, 10 ... 100 ms), so under load a commit waits far longer
    than the writes before it took. Queued here instead, the next writer starts the moment the
    last one commits. Other processes on the same file still meet SQLite's busy timeout.
    """

    _by_database: dict[str, _WriterTurn] = {}
    _registry_lock = threading.Lock()

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None

    @classmethod
    def of(cls, database: str) -> _WriterTurn:
        key = str(Path(database).resolve()) if database not in ("", ":memory:") else database
        with cls._registry_lock:
            return cls._by_database.setdefault(key, cls())

    def take(self) -> bool:
        """Wait for the turn; False if this thread already holds it (on another connection:
        SQLite will then wait, as it would have) or waiting took too long."""
        me = threading.get_ident()
        if self._owner == me:
            return False
        if not self._lock.acquire(timeout=_WRITER_WAIT_SECONDS):
            return False
        self._owner = me
        return True

    def give_back(self) -> None:
        self._owner = None
        self._lock.release()


class _QueuedWriterConnection(sqlite3.Connection):
    """A SQLite connection whose transactions take the write lock only when they first write.

    SQLAlchemy's "begin" only marks the transaction as wanted (``pending``); the first statement
    begins it (``_begin_for``): a plain ``SELECT`` with a deferred ``BEGIN``, a snapshot that
    neither waits for nor blocks writers; anything else (a write, a ``SELECT … FOR UPDATE``, a
    savepoint, DDL) with this process's writer turn and ``BEGIN IMMEDIATE``. A transaction that
    read first and then writes ends its snapshot (nothing was written yet, so nothing is lost)
    and begins again with the lock, seeing what others committed meanwhile: from its first write
    on it reads the newest rows, as PostgreSQL's READ COMMITTED does for every statement. The
    alternative, upgrading the snapshot in place, fails with ``SQLITE_BUSY_SNAPSHOT`` whenever
    another writer committed since the first read, and would need every unit of work retried.
    """

    turn: _WriterTurn | None = None
    holds_turn = False
    pending = False  # SQLAlchemy began a transaction that SQLite has not been told of yet
    writing = False  # the SQLite transaction holds the write lock

    def begin_later(self) -> None:
        self.pending = True

    def begin_for(self, statement: str, *, locks: bool, read_only: bool) -> None:
        """Begin, or begin again with the write lock, as ``statement`` needs (``locks``: it is
        a read that must see the newest rows and keep them, ``SELECT … FOR UPDATE``)."""
        if self.writing or not (self.pending or self.in_transaction):
            return  # already writing, or outside any transaction (autocommit): nothing to do
        if not locks and statement.lstrip()[:6].upper() == "SELECT":
            if self.pending:
                self.pending = False
                self.execute("BEGIN")
            return
        if read_only:
            raise ReadOnlyWrite(f"a read-only transaction was asked to run {statement[:60]!r}")
        if self.turn is not None and self.turn.take():
            self.holds_turn = True
        try:
            if self.in_transaction:
                self.execute("COMMIT")  # the snapshot only read: end it, keeping the turn
            self.pending = False
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.rollback()  # gives the turn back; nothing was begun
            raise
        self.writing = True

    def _end(self) -> None:
        self.pending = False
        self.writing = False
        if self.holds_turn:
            self.holds_turn = False
            assert self.turn is not None
            self.turn.give_back()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._end()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._end()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._end()


def read_only(session: Session) -> Session:
    """Begin ``session``'s transaction as one that only reads.

    Every transaction on SQLite reads without waiting for or blocking writers until it first
    writes; one begun this way refuses to write at all (``ReadOnlyWrite``), so a read meant to
    be cheap can never start holding the write lock. Elsewhere it changes nothing. Call it
    before the session's first statement.
    """
    session.connection(execution_options={READ_ONLY: True})
    return session


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed. ``Session.execute`` is typed to return any
    ``Result``; a DML statement's is a ``CursorResult``, which is the one with a row count."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"not the result of an UPDATE or DELETE: {type(result).__name__}")
    return result.rowcount


def _json_loads(text: str | bytes) -> Any:
    """``json.loads``, skipping the decoder for the two values JSON columns hold most often.

    Most timeline entries have no details (``null``) and nobody else who marked them (``[]``);
    reading a long timeline spent a fifth of its time decoding those two strings. Each ``[]``
    is still a new list. (SQLite's driver hands over text, psycopg bytes.)
    """
    if text in ("null", b"null"):
        return None
    if text in ("[]", b"[]"):
        return []
    return json.loads(text)


def make_engine(database_url: str) -> Engine:
    """An engine fit for several threads writing at once (WAL, a busy timeout and writers
    queued in-process on SQLite)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        turn = _WriterTurn.of(url.database or "")
        engine = create_engine(
            url,
            connect_args={
                "timeout": 30,
                "check_same_thread": False,
                "factory": _QueuedWriterConnection,
            },
            pool_size=8,
            max_overflow=16,
            json_deserializer=_json_loads,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: _QueuedWriterConnection, _record: object) -> None:
            # Let SQLAlchemy own transactions (pysqlite's implicit BEGIN is off), so that
            # _QueuedWriterConnection decides how each one begins.
            dbapi_connection.isolation_level = None
            dbapi_connection.turn = turn
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            dbapi_connection = conn.connection.dbapi_connection
            assert isinstance(dbapi_connection, _QueuedWriterConnection)
            dbapi_connection.begin_later()

        @event.listens_for(engine, "before_cursor_execute")
        def _sqlite_lock_to_write(
            conn: Connection,
            _cursor: object,
            statement: str,
            _parameters: object,
            context: ExecutionContext | None,
            _executemany: bool,
        ) -> None:
            dbapi_connection = conn.connection.dbapi_connection
            assert isinstance(dbapi_connection, _QueuedWriterConnection)
            if dbapi_connection.writing:
                return
            compiled = context.compiled if context is not None else None
            locks = getattr(getattr(compiled, "statement", None), "_for_update_arg", None)
            dbapi_connection.begin_for(
                statement,
                locks=locks is not None,
                read_only=bool(conn.get_execution_options().get(READ_ONLY)),
            )

        return engine
    return create_engine(
        url, pool_size=10, max_overflow=20, pool_pre_ping=True, json_deserializer=_json_loads
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(data_dir("migrations")))
    config.attributes["engine"] = engine
    return config


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Replicas starting together must not migrate at the same time."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
            conn.commit()


def upgrade(engine: Engine) -> None:
    """Apply every migration up to head."""
    with _migration_lock(engine):
        command.upgrade(alembic_config(engine), "head")


def migrations_current(engine: Engine) -> bool:
    """True when the database answers and is at the newest revision."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn)
        return set(context.get_current_heads()) == set(script.get_heads())
