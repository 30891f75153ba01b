"""Postmortem versions: each generation is kept, with who or what asked for it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from incidentbot import jobs
from incidentbot.errors import IncidentError
from incidentbot.models import Incident, Postmortem
from incidentbot.services.people import people_by_id, people_in
from incidentbot.text import parse_user_mentions
from incidentbot.uow import UnitOfWork

if TYPE_CHECKING:
    from incidentbot.postmortem import PostmortemRenderer

DEFAULT_TEMPLATE = "default"


def mentioned_people(incident: Incident) -> set[str]:
    """Everyone the postmortem will name: record holders and people mentioned in text."""
    ids = people_in(incident)
    for entry in incident.timeline:
        ids.update(parse_user_mentions(entry.text))
    for text in (incident.summary, incident.impact):
        if text:
            ids.update(parse_user_mentions(text))
    return ids


def generate_postmortem(
    *,
    uow: UnitOfWork,
    incident: Incident,
    renderer: PostmortemRenderer,
    generated_by: str | None,
    trigger: str,
    template: str = DEFAULT_TEMPLATE,
    upload: bool = True,
) -> Postmortem:
    """Render and store the next version; queue its upload to the incident's channel."""
    people = people_by_id(uow=uow, user_ids=mentioned_people(incident))
    version = (
        uow.session.scalar(
            select(func.max(Postmortem.version)).where(Postmortem.incident_id == incident.id)
        )
        or 0
    ) + 1
    now = uow.now()
    rendered = {
        fmt: renderer.render(
            incident=incident, people=people, fmt=fmt, template=template, now=now, version=version
        )
        for fmt in ("md", "html")
    }
    postmortem = Postmortem(
        version=version,
        template=template,
        markdown=rendered["md"],
        html=rendered["html"],
        generated_at=now,
        generated_by=generated_by,
        trigger=trigger,
    )
    incident.postmortems.append(postmortem)
    uow.session.flush()
    if upload:
        uow.enqueue(jobs.UPLOAD_POSTMORTEM, incident=incident, postmortem_id=postmortem.id)
    return postmortem


def latest_postmortem(*, incident: Incident, version: int | None = None) -> Postmortem:
    if not incident.postmortems:
        raise IncidentError(
            f"INC-{incident.number} has no postmortem yet; `/incident postmortem` generates one."
        )
    if version is None:
        return incident.postmortems[-1]
    for postmortem in incident.postmortems:
        if postmortem.version == version:
            return postmortem
    raise IncidentError(
        f"INC-{incident.number} has no postmortem version {version}; "
        f"versions 1 to {incident.postmortems[-1].version} exist."
    )
