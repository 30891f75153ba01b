"""What we know of the people in incidents: names to show and their time zones."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from incidentbot.domain.models import Incident, Person, TimelineRecord
from incidentbot.infra.uow import UnitOfWork

STALE_AFTER = timedelta(days=1)


def remember_person(
    *,
    uow: UnitOfWork,
    user_id: str,
    display_name: str,
    real_name: str | None,
    timezone: str,
    is_bot: bool = False,
) -> Person:
    person = uow.session.get(Person, user_id)
    if person is None:
        person = Person(user_id=user_id)
        uow.session.add(person)
    person.display_name = display_name
    person.real_name = real_name
    person.timezone = timezone
    person.is_bot = is_bot
    person.refreshed_at = uow.now()
    return person


def known_person(*, uow: UnitOfWork, user_id: str, now: datetime) -> Person | None:
    """The stored person, unless we have not looked them up for a day."""
    person = uow.session.get(Person, user_id)
    if person is None or now - person.refreshed_at > STALE_AFTER:
        return None
    return person


def people_in(incident: Incident, *, timeline: Sequence[TimelineRecord] | None = None) -> set[str]:
    """Every user an incident's record mentions by id (``timeline``: if already read)."""
    ids = {incident.declared_by}
    ids.update(a.user_id for a in incident.roles)
    ids.update(a.assigned_by for a in incident.roles)
    for entry in incident.timeline if timeline is None else timeline:
        ids.update(i for i in (entry.author_id, entry.source_author_id) if i)
        ids.update(entry.also_marked_by or [])
    ids.update(i.owner_id for i in incident.action_items if i.owner_id)
    return ids


def people_by_id(*, uow: UnitOfWork, user_ids: Iterable[str]) -> Mapping[str, Person]:
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    return {
        p.user_id: p for p in uow.session.scalars(select(Person).where(Person.user_id.in_(ids)))
    }


def workspace_names_in(*, uow: UnitOfWork, texts: Iterable[str]) -> list[str]:
    """Names of the workspace's people (not bots) that occur in ``texts``, read in one query.

    A workspace may know 50,000 people and the review compiles names into its patterns, so
    only names sharing a word with the text are kept: the rest could not match anyway.
    """
    words = {word.lower() for text in texts for word in text.replace("@", " ").split()}
    words |= {word.strip(".,;:!?'\"()") for word in list(words)}
    words |= {word[:-2] for word in list(words) if word.endswith("'s")}
    found: list[str] = []
    rows = uow.session.execute(
        select(Person.display_name, Person.real_name).where(Person.is_bot.is_(False))
    )
    for display_name, real_name in rows:
        for name in (display_name, real_name):
            if name and any(part.lower() in words for part in name.split()):
                found.append(name)
    return found
