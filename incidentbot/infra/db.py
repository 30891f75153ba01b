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
from sqlalchemy.engine import Connection, CursorResult, Result, make_url
from sqlalchemy.orm import Session, sessionmaker

from incidentbot.infra.paths import data_dir

log = logging.getLogger(__name__)

# Any constant will do; it only has to be the same for every replica.
_MIGRATION_LOCK = 727_001


# Execution option of a transaction that only reads; see ``read_only``.
READ_ONLY = "incidentbot_read_only"

# How long a writer waits for its turn before leaving it to SQLite's own busy timeout.
_WRITER_WAIT_SECONDS = 30.0


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
    """A SQLite connection that gives its writer's turn back once its transaction has ended."""

    turn: _WriterTurn | None = None
    holds_turn = False

    def begin_writing(self) -> None:
        if self.turn is not None and self.turn.take():
            self.holds_turn = True

    def _end(self) -> None:
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

    On SQLite it then neither waits for nor blocks writers (WAL readers see a snapshot);
    elsewhere it changes nothing. Call it before the session's first statement.
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
            # BEGIN IMMEDIATE below takes the write lock up front instead of failing mid-way.
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
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")
                return
            dbapi_connection = conn.connection.dbapi_connection
            assert isinstance(dbapi_connection, _QueuedWriterConnection)
            dbapi_connection.begin_writing()
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                dbapi_connection.rollback()  # gives the turn back; nothing was begun
                raise

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
