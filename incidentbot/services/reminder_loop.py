"""The runtime's reminder loop: wakes when the next reminder is due and acts on due ones.

Every replica runs one. Each looks at the shared ``reminders`` table, so a reminder one replica
scheduled is seen by the others at the next poll; claiming (``services.reminders.fire_due``)
makes sure only one of them sends it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from incidentbot.domain.models import utcnow
from incidentbot.domain.reminder_rules import ReminderRules
from incidentbot.infra.uow import UnitOfWorkFactory
from incidentbot.services import reminders

log = logging.getLogger(__name__)

# Seconds between looks when nothing is due sooner: how late a reminder another replica
# scheduled (or made due) can be noticed here.
POLL_SECONDS = 15.0
# While due reminders are claimed by another replica, look again this soon rather than spin.
BUSY_SECONDS = 0.5


class ReminderLoop:
    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        rules: ReminderRules,
        clock: Callable[[], datetime] = utcnow,
        poll_interval: float = POLL_SECONDS,
    ) -> None:
        self._uow_factory = uow_factory
        self._rules = rules
        self._clock = clock
        self._poll_interval = poll_interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        # Named like the job runner's threads: it is background work, not a request's.
        self._thread = threading.Thread(
            target=self._loop, name="incidentbot-jobs-reminders", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def wake(self) -> None:
        """Look now (a test moved its clock, or something was made due)."""
        self._wake.set()

    def run_due(self) -> int:
        """Act on every reminder due now that no other replica holds; returns how many."""
        handled = 0
        while not self._stop.is_set():
            due = self._next_due()
            if due is None or due > self._clock():
                break
            with self._uow_factory() as uow:
                claimed = reminders.fire_due(uow=uow, rules=self._rules)
                uow.commit()
            handled += claimed
            if claimed < reminders.CLAIM_BATCH:
                break  # the rest, if any, are another replica's right now
        return handled

    def wait_idle(self, timeout: float = 20.0) -> bool:
        """Wait until no reminder is due now; True if that happened within ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            due = self._next_due()
            if due is None or due > self._clock():
                return True
            self.wake()
            time.sleep(0.02)
        return False

    def _next_due(self) -> datetime | None:
        with self._uow_factory(read_only=True) as uow:
            return reminders.next_due(uow=uow)

    def _loop(self) -> None:
        while not self._stop.is_set():
            wait = self._poll_interval
            try:
                self.run_due()
                due = self._next_due()
                if due is not None:
                    until = (due - self._clock()).total_seconds()
                    wait = max(BUSY_SECONDS, min(self._poll_interval, until))
            except Exception:
                log.exception("reminder loop failed; trying again after the poll interval")
            self._wake.wait(wait)
            self._wake.clear()
