"""Slack calls paced in shared buckets (incidentbot.slack.pacing), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from incidentbot.domain.models import SlackPace, utcnow
from incidentbot.emulator import tiers
from incidentbot.infra.config import ConfigError, load_settings
from incidentbot.infra.jobs import RetryLater
from incidentbot.infra.uow import UnitOfWork
from incidentbot.slack.pacing import ANNOUNCEMENTS, METHOD_PACES, TIER_2, Pacer
from tests.conftest import Clock


def _pacer(session_factory, clock, slept: list[float], **options) -> Pacer:  # type: ignore[no-untyped-def]
    return Pacer(
        uow_factory=partial(UnitOfWork, session_factory, clock=clock),
        sleep=slept.append,
        **options,
    )


def _next_at(session_factory: sessionmaker[Session], key: str) -> datetime | None:
    with session_factory() as session:
        return session.scalar(select(SlackPace.next_at).where(SlackPace.key == key))


def test_a_tier_2_method_goes_at_once_for_its_burst_then_one_turn_every_three_seconds(
    session_factory: sessionmaker[Session], clock: Clock
) -> None:
    slept: list[float] = []
    pacer = _pacer(session_factory, clock, slept)
    for _ in range(TIER_2.burst):
        pacer.wait_turn("conversations.create")
    assert slept == []
    # The next turn is 3 s off: further than a short wait (2 s), so the job is given back
    # uncounted, due when its turn is a short wait away, and nothing is reserved.
    before = _next_at(session_factory, "conversations.create")
    with pytest.raises(RetryLater) as given_back:
        pacer.wait_turn("conversations.create")
    assert given_back.value.counts is False
    assert given_back.value.delay == timedelta(seconds=1)
    assert _next_at(session_factory, "conversations.create") == before
    # A second before its turn, a worker reserves it and sleeps the second out.
    clock.advance(seconds=2)
    pacer.wait_turn("conversations.create")
    assert slept == [pytest.approx(1.0)]


def test_buckets_are_per_method_and_per_announcement_channel(
    session_factory: sessionmaker[Session], clock: Clock
) -> None:
    slept: list[float] = []
    pacer = _pacer(session_factory, clock, slept)
    pacer.wait_turn("chat.postMessage", channel="CINCIDENTS")
    pacer.wait_turn("chat.postMessage", channel="COTHER")
    pacer.wait_turn("pins.add")
    assert slept == []
    pacer.wait_turn("chat.postMessage", channel="CINCIDENTS")  # one a second: sleep it out
    assert slept == [pytest.approx(1.0)]
    pacer.wait_turn("chat.update")  # not paced: Tier 3 and no storm needs it
    assert _next_at(session_factory, "chat.update") is None


def test_two_replicas_share_one_bucket(
    session_factory: sessionmaker[Session], clock: Clock
) -> None:
    slept: list[float] = []
    first, second = (_pacer(session_factory, clock, slept) for _ in range(2))
    for turn in range(TIER_2.burst):
        (first if turn % 2 else second).wait_turn("bookmarks.add")
    with pytest.raises(RetryLater):
        first.wait_turn("bookmarks.add")
    with pytest.raises(RetryLater):
        second.wait_turn("bookmarks.add")


def test_concurrent_workers_never_take_the_same_turn(
    session_factory: sessionmaker[Session],
) -> None:
    """Eight threads on the real clock, at a time scale where a Tier-2 turn is 30 ms apart:
    the turns they sleep until are all different and never closer than the pace allows."""
    turns: list[datetime] = []
    lock = threading.Lock()
    scale = 0.01

    def worker() -> None:
        pacer = Pacer(
            uow_factory=partial(UnitOfWork, session_factory, clock=utcnow),
            scale=scale,
            patience=timedelta(seconds=10),
            sleep=lambda seconds: None,
        )
        for _ in range(6):
            before = utcnow()
            while True:
                try:
                    pacer.wait_turn("pins.add")
                    break
                except RetryLater:  # lost the race too often in a row: a job would be given back
                    continue
            with lock:
                turns.append(before)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(turns) == 48
    full_at = _next_at(session_factory, "pins.add")
    assert full_at is not None
    # 48 turns moved the bucket at least 48 spacings on from when it was first full (after the
    # first worker started): no two workers took the same turn.
    assert full_at - min(turns) >= TIER_2.spacing(scale) * 48


def test_pacing_off_lets_every_call_go_and_writes_nothing(
    session_factory: sessionmaker[Session], clock: Clock
) -> None:
    slept: list[float] = []
    pacer = _pacer(session_factory, clock, slept, enabled=False)
    for _ in range(50):
        pacer.wait_turn("conversations.create")
    assert slept == []
    assert _next_at(session_factory, "conversations.create") is None


def test_the_bots_paces_stay_inside_the_tiers_the_local_workspace_enforces() -> None:
    for method, pace in METHOD_PACES.items():
        tier = tiers.METHOD_TIERS[method]
        assert isinstance(tier, int), method
        slack = tiers.LIMITS[tier]
        assert pace.per_minute <= slack.per_minute, method
        assert pace.burst < slack.burst, method
    assert ANNOUNCEMENTS.per_minute <= tiers.POST_PER_CHANNEL.per_minute
    assert ANNOUNCEMENTS.burst < tiers.POST_PER_CHANNEL.burst


def test_work_that_must_never_hold_a_worker_gives_back_even_a_short_wait(
    session_factory: sessionmaker[Session], clock: Clock
) -> None:
    slept: list[float] = []
    pacer = _pacer(session_factory, clock, slept)
    pacer.wait_turn("chat.postMessage", channel="CINCIDENTS")
    with pytest.raises(RetryLater) as given_back:
        pacer.wait_turn("chat.postMessage", channel="CINCIDENTS", patience=timedelta(0))
    assert given_back.value.delay == timedelta(seconds=1)
    assert slept == []


def test_pacing_is_on_unless_switched_off() -> None:
    assert load_settings({}, dotenv=None).slack_pacing is True
    assert load_settings({"INCIDENTBOT_SLACK_PACING": "off"}, dotenv=None).slack_pacing is False
    with pytest.raises(ConfigError, match="INCIDENTBOT_SLACK_PACING is malformed"):
        load_settings({"INCIDENTBOT_SLACK_PACING": "sometimes"}, dotenv=None)
