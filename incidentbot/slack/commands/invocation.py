"""What every ``/incident`` handler works with: the parsed :class:`Invocation`, the
:class:`Reply` it gives back, the :data:`Subcommand` signature, and the small readers several
handlers share (``at <time>`` at the front of the words, the moment in the author's zone, how a
recorded moment is said back, the one person a command mentions). People are looked up in Slack
here only when the command needs it now (a time zone, checking that a mentioned person exists),
before the unit of work opens, so no Slack call runs while the database transaction is held.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from incidentbot.domain.errors import IncidentError
from incidentbot.domain.text import from_slack, printable, split_mention
from incidentbot.domain.timeparse import Moment, describe_moment, read_moment, starts_with_moment
from incidentbot.slack.deps import Deps


@dataclass(frozen=True)
class Invocation:
    name: str
    args: str
    user_id: str
    channel_id: str
    trigger_id: str | None
    response_url: str | None

    @classmethod
    def from_payload(cls, command: dict) -> Invocation:
        # Slack escapes what people type (``&amp;``); kept as typed, escaped again on output.
        text = from_slack(printable(command.get("text") or "")).strip()
        name, _, args = text.partition(" ")
        return cls(
            name=name.lower(),
            args=args.strip(),
            user_id=command.get("user_id") or "",
            channel_id=command.get("channel_id") or "",
            trigger_id=command.get("trigger_id"),
            response_url=command.get("response_url"),
        )


@dataclass(frozen=True)
class Reply:
    """What the person sees privately, and anything to do right after acknowledging."""

    text: str | None
    then: Callable[[], object] | None = None  # its result, if any, is not used


Subcommand = Callable[[Invocation, Deps], Reply]


def at_moment(text: str) -> str | None:
    """What follows ``at`` when ``text`` starts ``at <time>`` (``at 14:05 …``,
    ``at yesterday 23:10 …``), else None (``at least five nodes …`` is just text)."""
    word, _, rest = text.strip().partition(" ")
    if word.lower() == "at" and starts_with_moment(rest.strip()):
        return rest.strip()
    return None


def read_at(deps: Deps, invocation: Invocation, text: str) -> tuple[Moment, str]:
    """The moment at the front of ``text``, in the author's zone unless it names one."""
    zone = deps.directory.zone_of(invocation.user_id)
    return read_moment(text, now=deps.clock(), default_zone=zone), zone


def when(moment: Moment | None, zone: str, deps: Deps) -> str:
    if moment is None:
        return ""
    return f" at {describe_moment(moment, zone=zone, now=deps.clock())}"


def one_person(deps: Deps, text: str, *, usage: str, not_an_app: str) -> str:
    """The one person ``text`` mentions; refuses anything else, and apps, saying how."""
    user_id, leftover = split_mention(text)
    if user_id is None or leftover.strip():
        raise IncidentError(f"Mention exactly one person so Slack turns it into a link: {usage}")
    if deps.directory.lookup(user_id).is_bot:
        raise IncidentError(f"<@{user_id}> is an app; {not_an_app}")
    return user_id
