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
    """A URL for a new PostgreSQL database at the newest revision, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{_postgres_template()}" STRATEGY WAL_LOG')
    try:
        yield f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        # FORCE: a server a test started in a subprocess may still hold a connection.
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
