"""Helpers for end-to-end tests: act as people in the local workspace, read what they'd see."""

from __future__ import annotations

from incidentbot.emulator import BOT_USER_ID, Channel, Message, mention
from incidentbot.entrypoints.local import LocalStack

__all__ = ["declare", "ephemeral_texts", "incident_channel", "mention", "texts"]


def incident_channel(stack: LocalStack, number: int) -> Channel:
    for channel in stack.workspace.channels():
        named = channel.name.startswith(f"inc-{number}-") or channel.name == f"inc-{number}"
        if named and channel.creator == BOT_USER_ID:
            return channel
    raise AssertionError(
        f"no channel for INC-{number}: {[c.name for c in stack.workspace.channels()]}"
    )


def declare(stack: LocalStack, title: str, *, user: str = "alice", number: int = 1) -> Channel:
    """Declare from #general and wait until the incident's channel is ready."""
    response = stack.driver.command(user, "#general", f"declare {title}")
    assert response.status == 200, response.body
    stack.settle()
    return incident_channel(stack, number)


def texts(messages: list[Message]) -> list[str]:
    return [m.text for m in messages]


def ephemeral_texts(stack: LocalStack, user: str, channel: str | None = None) -> list[str]:
    person = stack.workspace.user_by_name(user)
    assert person is not None
    return [e.text for e in stack.workspace.ephemerals(person.id, channel)]


def wait_for(predicate, *, timeout: float = 15.0, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll until ``predicate()`` is truthy; returns its value."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
