"""Background Slack calls paced to Slack's rate-limit tiers, shared by every worker and replica.

Slack limits each Web API method per app and workspace ("Tier 2: 20+ per minute", ...) and
messages to about one a second per channel. Met as 429s, a storm of incidents spends its
workers on refused calls and retries. So before a paced call a worker reserves the next slot
of the call's bucket in the database (``slack_pace``, one row per bucket), where every replica
sees it:

- If the slot is within ``patience`` (a second or two), the worker takes it with one
  compare-and-set UPDATE and sleeps until it.
- Otherwise it reserves nothing and gives the job back uncounted, due when the slot is a
  short wait away (``RetryLater(counts=False)``): no worker sleeps long while holding a lease,
  and a storm of waits never uses up a job's attempts.

Each bucket is a generic cell rate (GCRA): ``next_at`` is when the bucket is full again at the
latest; a call fits while that is no more than ``burst - 1`` spacings ahead, and moves it one
spacing on. The rates are Slack's documented ones; the bursts are smaller than Slack's
allowance (see ``incidentbot/emulator/tiers.py``), so a call that goes out a little after
its slot still fits. Calls made before acknowledging a request are never paced: they fail
fast instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from incidentbot.domain.models import SlackPace
from incidentbot.infra import db
from incidentbot.infra.jobs import RetryLater
from incidentbot.infra.uow import UnitOfWork

log = logging.getLogger(__name__)

__all__ = ["ANNOUNCEMENTS", "METHOD_PACES", "Pace", "Pacer"]


@dataclass(frozen=True)
class Pace:
    """``per_minute`` calls a minute, up to ``burst`` of them at once."""

    per_minute: float
    burst: int

    def spacing(self, scale: float = 1.0) -> timedelta:
        return timedelta(seconds=60.0 / self.per_minute * scale)


# Slack's Tier 2 (20+ a minute) and Tier 3 (50+ a minute), with bursts two calls short of
# a minute's worth: a call that goes out up to two spacings after its slot still fits.
TIER_2 = Pace(20, 18)
TIER_3 = Pace(50, 48)
#: The methods the bot paces: Slack's tier of each, from its reference page.
METHOD_PACES: dict[str, Pace] = {
    "conversations.create": TIER_2,
    "conversations.setTopic": TIER_2,
    "conversations.list": TIER_2,
    "conversations.archive": TIER_2,
    "pins.add": TIER_2,
    "bookmarks.add": TIER_2,
    "conversations.invite": TIER_3,
}
#: Messages to one channel (``chat.postMessage:<channel>``): one a second.
ANNOUNCEMENTS = Pace(60, 1)

# A bucket's row changed between reading and reserving this many times in a row: another
# worker is taking slots as fast; give the job back shortly rather than spin.
_RESERVE_TRIES = 8


class Pacer:
    """Reserves turns in shared buckets (see the module docstring); ``enabled=False`` lets
    every call go at once. ``scale`` < 1 shortens every spacing (for tests against a workspace
    whose time runs faster)."""

    def __init__(
        self,
        *,
        uow_factory: Callable[..., UnitOfWork],
        enabled: bool = True,
        scale: float = 1.0,
        patience: timedelta = timedelta(seconds=2),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._uow_factory = uow_factory
        self.enabled = enabled
        self._scale = scale
        self._patience = patience
        self._sleep = sleep

    def wait_turn(
        self, method: str, *, channel: str | None = None, patience: timedelta | None = None
    ) -> None:
        """Wait for the next turn of ``method`` (of ``method`` in ``channel`` when given);
        raises ``RetryLater(counts=False)`` if it is further off than a short wait
        (``patience``: zero for work that should never hold a worker waiting)."""
        if not self.enabled:
            return
        if channel is not None:
            key, pace = f"{method}:{channel}", ANNOUNCEMENTS
        elif method in METHOD_PACES:
            key, pace = method, METHOD_PACES[method]
        else:
            return
        wait = self._reserve(key, pace, self._patience if patience is None else patience)
        if wait > timedelta(0):
            self._sleep(wait.total_seconds())

    def _reserve(self, key: str, pace: Pace, patience: timedelta) -> timedelta:
        """Take a slot in ``key``'s bucket; how long until it comes (counted from before the
        reservation, so never too short)."""
        spacing = pace.spacing(self._scale)
        tolerance = spacing * (pace.burst - 1)
        for _ in range(_RESERVE_TRIES):
            with self._uow_factory(read_only=True) as uow:
                now = uow.now()
                full_at = uow.session.scalar(select(SlackPace.next_at).where(SlackPace.key == key))
            if full_at is None:
                self._create(key, now)
                continue
            slot = max(now, full_at - tolerance)
            if slot - now > patience:
                # Back when the turn is a short wait away, to reserve it then: before jobs that
                # arrive later, who find it taken, so that waiting jobs take turns in order.
                raise RetryLater(
                    f"waiting its turn in Slack's rate limit for {key}, about "
                    f"{(slot - now).total_seconds():.0f} s",
                    delay=slot - now - patience,
                    counts=False,
                )
            with self._uow_factory() as uow:
                taken = db.rows_changed(
                    uow.session.execute(
                        update(SlackPace)
                        .where(SlackPace.key == key, SlackPace.next_at == full_at)
                        .values(next_at=max(full_at, slot) + spacing)
                        .execution_options(synchronize_session=False)
                    )
                )
                uow.commit()
            if taken == 1:
                return slot - now
        raise RetryLater(
            f"waiting its turn in Slack's rate limit for {key}, busy",
            delay=spacing,
            counts=False,
        )

    def _create(self, key: str, now: datetime) -> None:
        """The bucket's row, full (two replicas may both create it: one row wins)."""
        with self._uow_factory() as uow:
            dialect = uow.session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            uow.session.execute(
                insert(SlackPace).values(key=key, next_at=now).on_conflict_do_nothing()
            )
            uow.commit()
