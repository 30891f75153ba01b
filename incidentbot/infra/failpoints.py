"""Named places where a test can make this process die, to prove that recovery works.

``INCIDENTBOT_FAILPOINTS=after:conversations.create`` makes the process SIGKILL itself the
first time it passes that point, as a crash or an OOM kill would; it is empty in production.
The crash-recovery tests start ``incidentbot serve`` with it, then start it again without.
"""

from __future__ import annotations

import logging
import os
import signal

log = logging.getLogger(__name__)

_ACTIVE = frozenset(
    point.strip() for point in os.environ.get("INCIDENTBOT_FAILPOINTS", "").split(",") if point
)


def crash_point(name: str) -> None:
    if name in _ACTIVE:
        log.warning("failpoint %s reached: killing this process", name)
        os.kill(os.getpid(), signal.SIGKILL)
