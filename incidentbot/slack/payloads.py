"""Reading what Slack sends back of our own views."""

from __future__ import annotations

import json


def private_metadata(view: dict) -> dict | None:
    """The dict a view was opened with (its ``private_metadata``), or None if it is missing or
    not one: Slack hands back what we set, but anyone can post a view submission."""
    try:
        metadata = json.loads(view.get("private_metadata") or "")
    except ValueError:
        return None
    return metadata if isinstance(metadata, dict) else None
