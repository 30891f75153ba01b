from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
from hypothesis import settings
from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from incidentbot.emulator import DEFAULT_BOT_TOKEN, LocalSlack
from incidentbot.entrypoints.local import LocalStack
from incidentbot.infra import db
from incidentbot.infra.uow import UnitOfWork
from tests.databases import database_url

# Property tests: the full search in CI (`CI=true`, as .ci/run sets it), a quick one locally.
# HYPOTHESIS_PROFILE=ci runs the full one anywhere.
settings.register_profile("ci", max_examples=200, deadline=None, database=None)
settings.register_profile("dev", max_examples=25, deadline=None, database=None)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev")
)

DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database at the newest revision, copied from one the session migrated once."""
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture(params=DATABASES)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables, for the tests of the migrations."""
    with database_url(request.param, tmp_path, empty=True) as url:
        yield url


@pytest.fixture
def session_factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = db.make_engine(db_url)
    yield db.make_session_factory(engine)
    engine.dispose()


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        from datetime import timedelta

        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 27, 14, 0, tzinfo=UTC))


@pytest.fixture
def uow_factory(session_factory: sessionmaker[Session], clock: Clock):  # type: ignore[no-untyped-def]
    return partial(UnitOfWork, session_factory, clock=clock)


@pytest.fixture
def slack() -> Iterator[LocalSlack]:
    """The local Slack workspace on its own, for tests of the emulator."""
    with LocalSlack() as server:
        yield server


@pytest.fixture
def client(slack: LocalSlack) -> WebClient:
    """A Web API client with the bot's token, talking to ``slack``."""
    return WebClient(token=DEFAULT_BOT_TOKEN, base_url=slack.api_url, timeout=5)


@pytest.fixture
def stack(db_url: str) -> Iterator[LocalStack]:
    """The bot on its real HTTP server, talking to a fresh local Slack workspace. ``settle()``
    moves the clock on to retries and backoffs instead of sleeping them out."""
    with LocalStack(
        database_url=db_url, timezone="America/Los_Angeles", virtual_time=True, migrate=False
    ) as running:
        yield running
