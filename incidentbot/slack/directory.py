"""Who people are: display names and time zones from ``users.info``, cached."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from incidentbot import services
from incidentbot.errors import IncidentError
from incidentbot.uow import UnitOfWorkFactory

MEMORY_TTL_SECONDS = 3600.0


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

    def lookup(self, user_id: str) -> Someone:
        with self._lock:
            cached = self._memory.get(user_id)
        if cached and time.monotonic() - cached[0] < MEMORY_TTL_SECONDS:
            return cached[1]
        with self._uow_factory() as uow:
            person = services.known_person(uow=uow, user_id=user_id, now=uow.now())
            if person is not None:
                someone = Someone(user_id, person.display_name, person.timezone, person.is_bot)
            else:
                someone = self._fetch(user_id)
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

    def zone_of(self, user_id: str) -> str:
        return self.lookup(user_id).timezone

    def ensure(self, user_ids: Iterable[str]) -> None:
        """Make sure every id has a stored name; people Slack no longer knows are skipped."""
        for user_id in set(user_ids):
            try:
                self.lookup(user_id)
            except IncidentError:
                continue

    def _fetch(self, user_id: str) -> Someone:
        try:
            user = self._client.users_info(user=user_id)["user"]
        except SlackApiError as error:
            if error.response.get("error") == "user_not_found":
                raise IncidentError(f"I can't find <@{user_id}> in this workspace.") from None
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
