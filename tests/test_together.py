"""``together``: calls side by side, every one ended before the caller hears how they went."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from incidentbot.slack.together import together


def test_results_come_back_in_the_order_of_the_calls():
    with ThreadPoolExecutor(2) as pool:
        assert together(pool, [lambda: "summary", lambda: ["refused"], lambda: None]) == [
            "summary",
            ["refused"],
            None,
        ]
        assert together(pool, []) == []


def test_a_failure_is_raised_only_once_every_call_has_ended():
    started, ended = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        ended.wait(0.3)  # still in flight when the first call fails
        ended.set()
        return "announced"

    def fails() -> None:
        assert started.wait(10)
        raise RuntimeError("rate limited")

    with ThreadPoolExecutor(1) as pool, pytest.raises(RuntimeError, match="rate limited"):
        try:
            together(pool, [fails, slow])
        finally:
            assert ended.is_set(), "together raised while a call was still in flight"


def test_the_first_failing_call_in_order_is_the_one_raised():
    def first() -> None:
        raise ValueError("the summary's")

    def second() -> None:
        raise KeyError("the invitation's")

    with ThreadPoolExecutor(2) as pool:
        with pytest.raises(ValueError, match="the summary's"):
            together(pool, [first, second])
        with pytest.raises(KeyError):
            together(pool, [lambda: "posted", second])
