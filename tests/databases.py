"""Real databases for tests: a SQLite file, or a fresh PostgreSQL database per test.

Each is migrated to the newest revision before the test starts, by copying a database the
session migrated once (a file copy for SQLite, ``CREATE DATABASE … TEMPLATE`` for PostgreSQL):
a migration costs a few hundred milliseconds, a copy a few dozen. ``empty=True`` gives an empty
one instead, for the tests of the migrations themselves.

PostgreSQL tests skip with a reason when the server is not there, except under CI=true,
where they fail: CI must prove the suite on both databases.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

POSTGRES_URL = os.environ.get(
    "INCIDENTBOT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ADMIN_DSN = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    import psycopg

    try:
        with psycopg.connect(ADMIN_DSN, connect_timeout=3):
            return None
    except psycopg.Error as error:
        return f"PostgreSQL at {ADMIN_DSN} is not reachable: {str(error).strip()[:200]}"


def require_postgres() -> None:
    reason = postgres_available()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true makes the PostgreSQL tests mandatory)")
    pytest.skip(f"{reason}; start it to run the PostgreSQL half of the suite")


@contextmanager
def postgres_schema(prefix: str = "t") -> Iterator[str]:
    """A URL for a new, empty PostgreSQL schema, dropped afterwards (no pytest needed)."""
    import psycopg

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def admin_dsn(url: str) -> str:
    """A libpq DSN for the superuser on the database ``url`` points at (for grants made there)."""
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    return f"{ADMIN_DSN.rsplit('/', 1)[0]}/{database}"


def _admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(statement)


def _migrated(url: str) -> None:
    from incidentbot.infra import db

    engine = db.make_engine(url)
    try:
        db.upgrade(engine)
    finally:
        engine.dispose()


@functools.cache
def _sqlite_template() -> Path:
    """A SQLite file migrated once for this process; removed when it exits."""
    folder = Path(tempfile.mkdtemp(prefix="incidentbot-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "template.db"
    _migrated(f"sqlite:///{path}")
    return path


@functools.cache
def _postgres_template() -> str:
    """The name of a PostgreSQL database migrated once for this process; dropped at its exit.
    Nobody connects to it after the migration, as ``CREATE DATABASE … TEMPLATE`` requires."""
    name = f"tmpl_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{name}"')
    atexit.register(_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _migrated(f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}")
    return name


@contextmanager
def postgres_database() -> Iterator[str]:
    """A URL for a PostgreSQL database at the newest revision, as if new.

    Creating and dropping a database costs about a second on this kind of machine; emptying
    one costs a few dozen milliseconds. So each process keeps one database and empties it for
    each test that asks (``_Reusable``); a test that needs a second one at the same time gets
    a new one, dropped afterwards.
    """
    reusable = _reusable()
    if reusable.in_use:
        with _new_postgres_database() as url:
            yield url
        return
    reusable.in_use = True
    try:
        yield reusable.fresh()
    finally:
        reusable.in_use = False


@contextmanager
def _new_postgres_database() -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{_postgres_template()}" STRATEGY WAL_LOG')
    try:
        yield f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        # FORCE: a server a test started in a subprocess may still hold a connection.
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# What must match the template for an emptied database to count as new: the tables, columns
# and indexes, and the migration it is at. A test that changed any of them (a downgrade, say)
# gets the database replaced rather than emptied.
_SHAPE = """
SELECT md5(coalesce(string_agg(item, ',' ORDER BY item), ''))
FROM (
    SELECT table_name || '.' || column_name || ':' || data_type || ':' || is_nullable
        || ':' || coalesce(column_default, '') AS item
    FROM information_schema.columns WHERE table_schema = 'public'
    UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL SELECT 'alembic:' || version_num FROM alembic_version
) AS shape
"""


class _Reusable:
    """This process's PostgreSQL database, emptied back to the template's state for each test:
    every connection to it ended, every row deleted (foreign keys unchecked meanwhile), every
    sequence restarted, and the rows the migrations wrote put back."""

    def __init__(self) -> None:
        self.in_use = False
        self.name = ""
        self.shape = ""
        self.tables: list[str] = []
        self.sequences: list[str] = []
        self.seeds: list[tuple[str, list[str], list[tuple[object, ...]]]] = []
        self._create()
        atexit.register(lambda: _admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))

    @property
    def url(self) -> str:
        return f"{POSTGRES_URL.rsplit('/', 1)[0]}/{self.name}"

    def _create(self) -> None:
        import psycopg

        self.name = f"t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        _admin(f'CREATE DATABASE "{self.name}" TEMPLATE "{_postgres_template()}" STRATEGY WAL_LOG')
        with psycopg.connect(admin_dsn(self.url), autocommit=True) as conn:
            self.shape = conn.execute(_SHAPE).fetchone()[0]  # type: ignore[index]
            self.tables = [
                row[0]
                for row in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version' ORDER BY tablename"
                )
            ]
            self.sequences = [
                row[0]
                for row in conn.execute(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
                )
            ]
            self.seeds = []
            for table in self.tables:
                cursor = conn.execute(f'SELECT * FROM "{table}"')
                rows = cursor.fetchall()
                if rows:
                    columns = [column.name for column in cursor.description or ()]
                    self.seeds.append((table, columns, rows))

    def fresh(self) -> str:
        import psycopg

        with psycopg.connect(admin_dsn(self.url), autocommit=True) as conn:
            # A server a test started in a subprocess may still hold a connection (and locks).
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if conn.execute(_SHAPE).fetchone()[0] != self.shape:  # type: ignore[index]
                replace = True
            else:
                replace = False
                with conn.transaction():
                    # Foreign keys unchecked while every table empties, in any order (the test
                    # server's user is a superuser, as CREATE DATABASE above needs it to be).
                    conn.execute("SET LOCAL session_replication_role = replica")
                    for table in self.tables:
                        conn.execute(f'DELETE FROM "{table}"')
                    for sequence in self.sequences:
                        conn.execute(f'ALTER SEQUENCE "{sequence}" RESTART')
                    for table, columns, rows in self.seeds:
                        names = ", ".join(f'"{column}"' for column in columns)
                        marks = ", ".join(["%s"] * len(columns))
                        conn.cursor().executemany(
                            f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows
                        )
        if replace:
            _admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self._create()
        return self.url


@functools.cache
def _reusable() -> _Reusable:
    return _Reusable()


@contextmanager
def database_url(kind: str, tmp_path: Path, *, empty: bool = False) -> Iterator[str]:
    """A URL for a database of ``kind`` at the newest revision (``empty``: with no tables),
    dropped afterwards."""
    if kind == "sqlite":
        path = tmp_path / "incidentbot.db"
        if not empty:
            shutil.copyfile(_sqlite_template(), path)
        yield f"sqlite:///{path}"
        return
    require_postgres()
    if empty:
        with postgres_schema() as url:
            yield url
        return
    with postgres_database() as url:
        yield url
