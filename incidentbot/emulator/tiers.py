"""Slack's rate limits, as the local workspace enforces them when a test or benchmark asks.

Slack limits Web API calls "per API method per app per workspace" in tiers
(https://docs.slack.dev/apis/web-api/rate-limits): Tier 1 allows 1+ calls a minute, Tier 2
20+, Tier 3 50+, Tier 4 100+, each "allowing for occasional bursts"; ``chat.postMessage`` is
special: "generally one message per second per channel", short bursts allowed, under a
workspace-wide limit of several hundred a minute. Each method's tier is from its reference page.
Over a limit Slack answers HTTP 429 with ``Retry-After`` (whole seconds) and
``{"ok": false, "error": "ratelimited"}``.

Slack publishes no burst sizes. Here each limit is a token bucket: ``burst`` calls may go at
once, and the bucket refills at the sustained rate. A tier's burst is one minute's worth (so a
Tier 2 method takes 20 calls at once, then one every 3 seconds); a channel takes 3 messages at
once, then one a second. Only the bot token's calls count (the app's limits), and only while
enforcing: ``Workspace(enforce_tiers=True)`` or ``ws.tiers.enable()``; off by default, so tests
that do not ask for limits meet none. ``enable(scale=0.05)`` runs time 20 times faster (a
minute's allowance refills in 3 s), for tests; benchmarks use real rates.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "LIMITS",
    "METHOD_TIERS",
    "POST_PER_CHANNEL",
    "POST_PER_WORKSPACE",
    "Limit",
    "Tiers",
    "limits_for",
]


@dataclass(frozen=True)
class Limit:
    """At most ``burst`` calls at once, refilled at ``per_minute`` calls a minute."""

    per_minute: float
    burst: int

    @property
    def spacing(self) -> float:
        """Seconds between calls at the sustained rate."""
        return 60.0 / self.per_minute


LIMITS = {1: Limit(1, 2), 2: Limit(20, 20), 3: Limit(50, 50), 4: Limit(100, 100)}
POST_PER_CHANNEL = Limit(60, 3)
POST_PER_WORKSPACE = Limit(300, 300)

#: The tier of every method the local workspace serves; "special" methods with their own limits.
METHOD_TIERS: dict[str, int | str] = {
    "api.test": 4,
    "apps.connections.open": 1,
    "auth.test": "special",  # documented as special; generous, treated as Tier 4
    "bookmarks.add": 2,
    "bookmarks.list": 3,
    "bookmarks.remove": 2,
    "chat.delete": 3,
    "chat.getPermalink": "special",  # documented as special; generous, treated as Tier 4
    "chat.postEphemeral": 4,
    "chat.postMessage": "special",
    "chat.update": 3,
    "conversations.archive": 2,
    "conversations.create": 2,
    "conversations.history": 3,
    "conversations.info": 3,
    "conversations.invite": 3,
    "conversations.join": 3,
    "conversations.leave": 3,
    "conversations.list": 2,
    "conversations.members": 4,
    "conversations.open": 3,
    "conversations.replies": 3,
    "conversations.setPurpose": 2,
    "conversations.setTopic": 2,
    "conversations.unarchive": 2,
    "files.completeUploadExternal": 4,
    "files.getUploadURLExternal": 4,
    "files.info": 4,
    "pins.add": 2,
    "pins.list": 2,
    "pins.remove": 2,
    "reactions.add": 3,
    "reactions.get": 3,
    "reactions.remove": 2,
    "team.info": 3,
    "users.info": 4,
    "users.list": 2,
    "users.lookupByEmail": 3,
    "views.open": 4,
    "views.publish": 4,
    "views.push": 4,
    "views.update": 4,
}


def limits_for(method: str, channel: str | None = None) -> dict[str, Limit]:
    """The buckets one call of ``method`` (in ``channel``) takes from, by key."""
    if method == "chat.postMessage":
        buckets = {method: POST_PER_WORKSPACE}
        if channel:
            buckets[f"{method}:{channel}"] = POST_PER_CHANNEL
        return buckets
    tier = METHOD_TIERS.get(method)
    if tier is None:
        return {}
    return {method: LIMITS[tier if isinstance(tier, int) else 4]}


class _Request(Protocol):
    method: str
    actor: str

    def str(self, name: str) -> str | None: ...


class Tiers:
    """The workspace's rate-limit buckets: how much each has left, and how often it refused.

    ``refused`` counts 429s by bucket key; ``admitted`` counts calls that went through while
    enforcing, by method.
    """

    def __init__(self, *, enabled: bool = False, scale: float = 1.0) -> None:
        self._lock = threading.Lock()
        self.enabled = enabled
        self.scale = scale
        # Per bucket: when it is full again at the latest ("theoretical arrival time"): a call
        # at ``now`` fits while that is at most ``burst - 1`` spacings ahead.
        self._full_at: dict[str, float] = {}
        self.refused: Counter[str] = Counter()
        self.admitted: Counter[str] = Counter()

    def enable(self, *, scale: float = 1.0) -> None:
        """Enforce the limits from now on, every bucket full; ``scale`` < 1 runs time faster."""
        if scale <= 0:
            raise ValueError("scale must be positive")
        with self._lock:
            self.enabled, self.scale = True, scale
            self._full_at.clear()

    def disable(self) -> None:
        with self._lock:
            self.enabled = False

    def take(self, method: str, channel: str | None, *, now: float) -> float | None:
        """Take one call of ``method`` from its buckets; None if it fits, else the seconds until
        it would (nothing is taken then)."""
        buckets = limits_for(method, channel)
        with self._lock:
            if not self.enabled or not buckets:
                return None
            wait = 0.0
            for key, limit in buckets.items():
                spacing = limit.spacing * self.scale
                earliest = self._full_at.get(key, now) - (limit.burst - 1) * spacing
                if earliest > now:
                    wait = max(wait, earliest - now)
                    self.refused[key] += 1
            if wait > 0:
                return wait
            for key, limit in buckets.items():
                spacing = limit.spacing * self.scale
                self._full_at[key] = max(self._full_at.get(key, now), now) + spacing
            self.admitted[method] += 1
            return None

    def retry_after(self, workspace: Any, req: _Request) -> int | None:
        """For ``WebAPI.call``: None if the bot's call may go, else its ``Retry-After``."""
        if not self.enabled or req.actor != workspace.bot_user.id:
            return None
        channel = req.str("channel")
        if channel and req.method == "chat.postMessage":
            found = workspace.channels_by_id.get(channel) or workspace.channel_by_name(channel)
            channel = found.id if found is not None else channel
        wait = self.take(req.method, channel, now=workspace.now())
        # Slack's Retry-After is whole seconds: never 0, which would say "now".
        return None if wait is None else max(1, math.ceil(wait))

    # A pickled workspace (the playground's snapshot) keeps no limits: they are a test's switch.
    def __getstate__(self) -> dict[str, Any]:
        return {"enabled": False}  # not empty: an empty state would skip __setstate__

    def __setstate__(self, state: dict[str, Any]) -> None:
        # The limits a snapshot leaves out start again as a new Tiers' (off); mypy refuses any
        # call of __init__ on an instance.
        self.__init__()  # type: ignore[misc]
