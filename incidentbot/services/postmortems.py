"""Postmortem versions: each generation is kept, with who or what asked for it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from incidentbot import blameless, jobs
from incidentbot.blameless import Flag, Passage, Rule
from incidentbot.errors import IncidentError
from incidentbot.models import DocumentStatus, EntryKind, Incident, Postmortem
from incidentbot.policy import DEFAULT_POLICY, Action, Policy
from incidentbot.services.people import people_by_id, people_in
from incidentbot.services.timeline import record
from incidentbot.text import parse_user_mentions
from incidentbot.timeparse import format_moment
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


# What people wrote in their own words, and so what the language review reads.
REVIEWED_KINDS = {
    EntryKind.NOTE: "note",
    EntryKind.UPDATE: "update",
    EntryKind.SUMMARY: "summary",
    EntryKind.IMPACT: "impact",
}


def passages_to_review(incident: Incident, *, names: Mapping[str, str], zone: str) -> list[Passage]:
    """Notes, updates, summary and impact, each labelled with where it stands."""
    passages = []
    for field, text in (("summary", incident.summary), ("impact", incident.impact)):
        if text:
            passages.append(Passage(where=f"the {field}", text=text))
    for entry in incident.timeline:
        label = REVIEWED_KINDS.get(EntryKind(entry.kind))
        # Summary and impact entries repeat text reviewed above; only notes and updates add.
        if label in ("note", "update"):
            author = names.get(entry.author_id or "", entry.author_id or "someone")
            where = f"{label} by {author} at {format_moment(entry.occurred_at, zone)}"
            passages.append(Passage(where=where, text=entry.text))
    return passages


@dataclass(frozen=True)
class Generated:
    postmortem: Postmortem
    review: list[Flag]


def generate_postmortem(
    *,
    uow: UnitOfWork,
    incident: Incident,
    renderer: PostmortemRenderer,
    generated_by: str | None,
    trigger: str,
    template: str = DEFAULT_TEMPLATE,
    rules: Sequence[Rule] = (),
    upload: bool = True,
) -> Generated:
    """Render and store the next version, with its language review; queue its upload."""
    people = people_by_id(uow=uow, user_ids=mentioned_people(incident))
    names = {user_id: person.display_name for user_id, person in people.items()}
    review = blameless.review(
        passages_to_review(incident, names=names, zone=renderer.zone),
        rules=rules,
        names=[person.display_name for person in people.values() if not person.is_bot],
    )
    version = (
        uow.session.scalar(
            select(func.max(Postmortem.version)).where(Postmortem.incident_id == incident.id)
        )
        or 0
    ) + 1
    now = uow.now()
    rendered = {
        fmt: renderer.render(
            incident=incident,
            people=people,
            fmt=fmt,
            template=template,
            now=now,
            version=version,
            review=review,
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
    return Generated(postmortem=postmortem, review=review)


def template_for(
    incident: Incident, *, severity_templates: Mapping[str, str], available: Iterable[str]
) -> str:
    """The incident's chosen template, else its severity's default, else ``default``."""
    names = set(available)
    for name in (incident.postmortem_template, severity_templates.get(incident.severity)):
        if name and name in names:
            return name
    return DEFAULT_TEMPLATE


def choose_template(
    *,
    uow: UnitOfWork,
    incident: Incident,
    name: str,
    available: Iterable[str],
    chosen_by: str,
    policy: Policy = DEFAULT_POLICY,
) -> None:
    policy.check(incident, chosen_by, Action.NOTES)
    names = sorted(set(available))
    name = name.strip().lower()
    if name not in names:
        raise IncidentError(
            f"There is no postmortem template “{name[:40]}”. Templates: {', '.join(names)}."
        )
    incident.postmortem_template = name
    record(
        uow=uow,
        incident=incident,
        kind=EntryKind.POSTMORTEM,
        author_id=chosen_by,
        text=f"Postmortem template set to {name}",
        details={"template": name},
    )


_STATUS_WORDS = {
    "draft": DocumentStatus.DRAFT,
    "review": DocumentStatus.IN_REVIEW,
    "in review": DocumentStatus.IN_REVIEW,
    "final": DocumentStatus.FINAL,
}


def set_document_status(
    *,
    uow: UnitOfWork,
    incident: Incident,
    status: str,
    set_by: str,
    policy: Policy = DEFAULT_POLICY,
) -> str:
    """Draft → in review → final; the next generated version shows it."""
    policy.check(incident, set_by, Action.NOTES)
    chosen = _STATUS_WORDS.get(" ".join(status.lower().split()))
    if chosen is None:
        raise IncidentError("The postmortem's status is one of: draft, review, final.")
    if incident.postmortem_status == chosen:
        raise IncidentError(f"The postmortem is already {chosen}.")
    incident.postmortem_status = chosen
    record(
        uow=uow,
        incident=incident,
        kind=EntryKind.POSTMORTEM,
        author_id=set_by,
        text=f"Postmortem marked {chosen}",
        details={"status": str(chosen)},
    )
    return chosen


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
