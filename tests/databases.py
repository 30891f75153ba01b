"""Real databases for tests: a SQLite file, or a fresh PostgreSQL schema per test.

PostgreSQL tests skip with a reason when the server is not there, except under CI=true,
where they fail: CI must prove the suite on both databases.
"""

from __future__ import annotations

import os
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


@contextmanager
def database_url(kind: str, tmp_path: Path) -> Iterator[str]:
    """A URL for an empty database of ``kind``, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'incidentbot.db'}"
        return
    require_postgres()
    with postgres_schema() as url:
        yield url
