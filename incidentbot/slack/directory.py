"""Who people are: display names and time zones from ``users.info``, cached."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from incidentbot import services
from incidentbot.domain.errors import IncidentError
from incidentbot.infra.uow import UnitOfWorkFactory
from incidentbot.slack.together import together

MEMORY_TTL_SECONDS = 3600.0
# What users.info answers for someone it will never find: their id is shown instead of a name.
GONE_PEOPLE = {"user_not_found", "user_not_visible"}
# How many people ``ensure`` looks up in Slack at once: users.info is Tier 4 (100+ a minute).
ENSURE_AT_ONCE = 8


@dataclass(frozen=True)
class Someone:
    user_id: str
    display_name: str
    timezone: str
    is_bot: bool


class Directory:
    """Looks people up in memory, then the database, then Slack; remembers what it learns."""

    def __init__(self, *, client: WebClient, uow_factory: UnitOfWorkFactory) -> None:
        self._client = client
        self._uow_factory = uow_factory
        self._memory: dict[str, tuple[float, Someone]] = {}
        self._lock = threading.Lock()
        self._bot_user_id: str | None = None

    def bot_user_id(self) -> str:
        """The bot's own user id: Slack is asked once per process (``auth.test``)."""
        with self._lock:
            if self._bot_user_id is not None:
                return self._bot_user_id
        user_id = str(self._client.auth_test()["user_id"])
        with self._lock:
            self._bot_user_id = user_id
        return user_id

    def lookup(self, user_id: str, *, client: WebClient | None = None) -> Someone:
        """Who ``user_id`` is. ``client`` is a background job's: Slack's "not now" (a 429, a
        5xx) then reaches the caller, whose job tries again later, instead of failing fast the
        way a request waiting for its acknowledgement must."""
        remembered = self._remembered(user_id)
        if remembered is not None:
            return remembered
        with self._uow_factory() as uow:
            person = services.known_person(uow=uow, user_id=user_id, now=uow.now())
            if person is not None:
                someone = Someone(user_id, person.display_name, person.timezone, person.is_bot)
            else:
                someone = self._fetch(user_id, client=client)
                services.remember_person(
                    uow=uow,
                    user_id=user_id,
                    display_name=someone.display_name,
                    real_name=None,
                    timezone=someone.timezone,
                    is_bot=someone.is_bot,
                )
                uow.commit()
        with self._lock:
            self._memory[user_id] = (time.monotonic(), someone)
        return someone

    def forget(self, user_id: str) -> None:
        """Drop what this process remembers of someone (the database keeps its copy)."""
        with self._lock:
            self._memory.pop(user_id, None)

    def zone_of(self, user_id: str) -> str:
        return self.lookup(user_id).timezone

    def ensure(self, user_ids: Iterable[str], *, client: WebClient | None = None) -> None:
        """Make sure every id has a stored name; people Slack no longer knows are skipped.

        Those not already known here are looked up side by side (up to :data:`ENSURE_AT_ONCE`
        at a time), so a postmortem naming five new people waits for one round trip, not five.
        With a background ``client``, a Slack that is busy is not taken for a person who is
        gone: the first such error reaches the caller once every look-up has ended (names
        found meanwhile are kept), so a postmortem waits for its names rather than printing
        ids.
        """
        unknown = [
            user_id for user_id in sorted(set(user_ids)) if self._remembered(user_id) is None
        ]
        if len(unknown) <= 1:
            for user_id in unknown:
                self._known_or_gone(user_id, client)
            return
        with ThreadPoolExecutor(min(ENSURE_AT_ONCE, len(unknown)) - 1) as pool:
            together(
                pool,
                [functools.partial(self._known_or_gone, user_id, client) for user_id in unknown],
            )

    def _known_or_gone(self, user_id: str, client: WebClient | None) -> None:
        """Look ``user_id`` up; someone Slack does not know is skipped."""
        with suppress(IncidentError):
            self.lookup(user_id, client=client)

    def _remembered(self, user_id: str) -> Someone | None:
        """Who ``user_id`` is, if this process learnt it within the last hour."""
        with self._lock:
            cached = self._memory.get(user_id)
        if cached and time.monotonic() - cached[0] < MEMORY_TTL_SECONDS:
            return cached[1]
        return None

    def _fetch(self, user_id: str, *, client: WebClient | None = None) -> Someone:
        try:
            user = (client or self._client).users_info(user=user_id)["user"]
        except SlackApiError as error:
            if error.response.get("error") in GONE_PEOPLE:
                raise IncidentError(f"I can't find <@{user_id}> in this workspace.") from None
            if client is not None:
                raise
            raise IncidentError(
                "Slack didn't answer when I looked up a person; please try again in a moment."
            ) from None
        profile = user.get("profile") or {}
        name = (
            profile.get("display_name")
            or profile.get("real_name")
            or user.get("real_name")
            or user.get("name")
            or user_id
        )
        return Someone(
            user_id=user_id,
            display_name=name,
            timezone=user.get("tz") or "UTC",
            is_bot=bool(user.get("is_bot")),
        )
