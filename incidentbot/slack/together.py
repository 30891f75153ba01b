"""Slack calls that need not wait for each other, made side by side."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor, wait
from typing import Any


def together(executor: Executor, calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` at once, the first in this thread and the rest in ``executor``, and return
    their results in order. Every call ends before this returns or raises: then the failure of
    the first call (in order) that failed is raised, so a retry never starts while a call of
    the attempt before it is still in flight."""
    if not calls:
        return []
    beside = [executor.submit(call) for call in calls[1:]]
    failure: BaseException | None = None
    first: Any = None
    try:
        first = calls[0]()
    except BaseException as error:
        failure = error
    wait(beside)
    if failure is not None:
        raise failure
    for future in beside:
        if (failed := future.exception()) is not None:
            raise failed
    return [first, *(future.result() for future in beside)]
