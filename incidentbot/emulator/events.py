"""The ``message`` events Slack sends an app when a message is posted, edited or deleted.

Shapes as in Slack's event reference: a new message is a ``message`` event carrying the message
itself; an edit is ``subtype: "message_changed"`` (``hidden``) with the new ``message`` and the
``previous_message``; a deletion is ``subtype: "message_deleted"`` (``hidden``) with
``deleted_ts`` and the ``previous_message``. Deleting a message that still heads a thread is
not a deletion in Slack's eyes: the message becomes a tombstone from ``USLACKBOT`` ("This
message was deleted.") and the app gets a ``message_changed`` whose ``message`` is that
tombstone. Every one of them names its ``channel`` and ``channel_type`` and has its own
``ts``/``event_ts`` (for a new message, the message's ts).

Whether the app gets them at all is ``Workspace.delivers_messages``.
"""

from __future__ import annotations

from typing import Any

from .api import message_api
from .workspace import MessageChange, Workspace

__all__ = ["MESSAGE_CHANGED", "MESSAGE_DELETED", "message_event"]

MESSAGE_CHANGED = "message_changed"
MESSAGE_DELETED = "message_deleted"


def message_event(ws: Workspace, change: MessageChange, base_url: str) -> dict[str, Any]:
    """The ``message`` event Slack sends for ``change``."""
    ch = ws.resolve_channel(change.channel)
    where = {"channel": ch.id, "channel_type": ch.channel_type}
    if change.kind == "posted":
        return {**message_api(ws, change.message, base_url), **where, "event_ts": change.at}
    assert change.previous is not None, "only a new message has no previous state"
    previous = message_api(ws, change.previous, base_url)
    if change.kind == "changed":
        return {
            "type": "message",
            "subtype": MESSAGE_CHANGED,
            "hidden": True,
            "message": message_api(ws, change.message, base_url),
            "previous_message": previous,
            **where,
            "ts": change.at,
            "event_ts": change.at,
        }
    return {
        "type": "message",
        "subtype": MESSAGE_DELETED,
        "hidden": True,
        "deleted_ts": change.previous.ts,
        "previous_message": previous,
        **where,
        "ts": change.at,
        "event_ts": change.at,
    }
