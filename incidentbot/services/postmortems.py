"""Postmortem versions: each generation is kept, with who or what asked for it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import exists, func, inspect, select

from incidentbot.domain import blameless
from incidentbot.domain.blameless import Flag, Passage, Rule
from incidentbot.domain.errors import IncidentError
from incidentbot.domain.models import (
    AlertGroup,
    DocumentStatus,
    EntryKind,
    Incident,
    Person,
    Postmortem,
    Status,
    TimelineRecord,
)
from incidentbot.domain.policy import DEFAULT_POLICY, Action, Policy
from incidentbot.domain.text import parse_user_mentions
from incidentbot.domain.timeparse import MomentFormatter
from incidentbot.infra import jobs
from incidentbot.infra.memory import give_memory_back
from incidentbot.infra.uow import UnitOfWork
from incidentbot.postmortem.render import release_context
from incidentbot.services.people import people_by_id, people_in, workspace_names_in
from incidentbot.services.record import edited_entry_ids
from incidentbot.services.reminders import incident_changed
from incidentbot.services.timeline import PENDING_TEXT, read_timeline, record

if TYPE_CHECKING:
    from incidentbot.postmortem.render import PostmortemRenderer


DEFAULT_TEMPLATE = "default"


def mentioned_people(
    incident: Incident, *, timeline: Sequence[TimelineRecord] | None = None
) -> set[str]:
    """Everyone the postmortem will name: record holders and people mentioned in text.

    ``timeline`` is the incident's timeline if the caller has read it already.
    """
    if timeline is None:
        timeline = incident.timeline
    ids = people_in(incident, timeline=timeline)
    for entry in timeline:
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
    EntryKind.PINNED: "captured message",
    # These record a change, and read what the person typed with it.
    EntryKind.STATUS: "status change",
    EntryKind.IMPACT_START: "impact start",
    EntryKind.DETECTED: "detection",
    EntryKind.MITIGATED: "mitigation",
}
# How the sentences of entries recorded before ``details["text"]`` kept the typed text on its
# own ended it: "Status changed from monitoring to resolved: <typed>" (the statuses are single
# words, so the first ": " after them is where the typed text starts, whatever it holds) and
# "<milestone label>: <typed>" ("Mitigated: the impact ended" has a colon of its own).
_OLD_STATUS_SENTENCE = re.compile(
    r"Status changed from (?P<before>[a-z]+) to (?P<after>[a-z]+): (?P<typed>.+)", re.DOTALL
)
_OLD_MILESTONE_LABELS = {
    EntryKind.IMPACT_START: "Impact started: ",
    EntryKind.DETECTED: "Detected: ",
    EntryKind.MITIGATED: "Mitigated: the impact ended: ",
}
# The comment the bot gave an alert's impact start (services.alerts): not a person's words.
_ALERT_COMMENT = re.compile(r"the alert started firing \([a-z]+\)")
_STATUSES = frozenset(str(status) for status in Status)


# Cached: asked for every entry of a timeline, and EntryKind() is slow by comparison.
@lru_cache(maxsize=64)
def _reviewed_as(kind: str) -> str | None:
    """What the review calls entries of this kind, or None if it does not read them."""
    return REVIEWED_KINDS.get(EntryKind(kind))


def typed_text(entry: TimelineRecord) -> str | None:
    """What the person typed with a status change or a milestone (``resolve Fixed it``,
    ``mitigated at 14:05 rolled back``), or None if they typed nothing.

    Entries keep it in ``details["text"]``; for those recorded before they did, it is read
    off the entry's sentence, which only ever had the bot's own words before it. Neither kind's
    text can be edited (``record.TEXT_EDITABLE``); a milestone set again keeps both current.
    """
    details = entry.details or {}
    if "text" in details:
        return details["text"] or None
    text = entry.text or ""
    if entry.kind == EntryKind.STATUS:
        found = _OLD_STATUS_SENTENCE.fullmatch(text)
        if found and {found["before"], found["after"]} <= _STATUSES:
            return found["typed"]
        return None
    prefix = _OLD_MILESTONE_LABELS.get(EntryKind(entry.kind))
    if prefix and text.startswith(prefix):
        typed = text.removeprefix(prefix)
        return None if _ALERT_COMMENT.fullmatch(typed) else typed
    return None


def passages_to_review(
    incident: Incident,
    *,
    names: Mapping[str, str],
    zone: str,
    timeline: Sequence[TimelineRecord] | None = None,
    declared_by_alert: bool = False,
) -> list[Passage]:
    """Everything people typed that the postmortem shows, each labelled with where it came
    from: the title, summary and impact; notes and updates; captured messages and the notes
    they were added with; what was typed with a status change (a resolution) or a milestone;
    action items. Not alerts, nor the bot's own sentences around what people typed; an
    incident an alert declared (``declared_by_alert``) has the alert's title, and its summary
    until someone sets one."""
    passages = []
    timeline = incident.timeline if timeline is None else timeline

    def by(author_id: str | None) -> str:
        return names.get(author_id or "", author_id or "someone")

    moment = MomentFormatter(zone)
    summary_typed = not declared_by_alert or any(
        entry.kind == EntryKind.SUMMARY for entry in timeline
    )
    for field, text, by_people in (
        ("title", incident.title, not declared_by_alert),
        ("summary", incident.summary, summary_typed),
        ("impact", incident.impact, True),
    ):
        if text and by_people:
            passages.append(Passage(where=f"the {field}", text=text))
    for entry in timeline:
        label = _reviewed_as(entry.kind)
        if label is not None:
            passages += _entry_passages(entry, label, by=by, moment=moment)
    # Action items are typed by people too; one relationship load, not a query per item.
    for number, item in enumerate(incident.action_items, start=1):
        if item.text:
            passages.append(Passage(where=f"action item {number}", text=item.text))
    return passages


def _entry_passages(
    entry: TimelineRecord,
    label: str,
    *,
    by: Callable[[str | None], str],
    moment: MomentFormatter,
) -> list[Passage]:
    """What people typed in one timeline entry (``label``: what it is reviewed as)."""
    # Summary and impact entries repeat text reviewed above; only notes and updates add.
    if label in ("note", "update"):
        where = f"{label} by {by(entry.author_id)} at {moment(entry.occurred_at)}"
        return [Passage(where=where, text=entry.text)]
    if label == "captured message":
        # The message's author, as the postmortem's timeline shows it.
        source = f"captured message from {by(entry.source_author_id or entry.author_id)}"
        passages = []
        if entry.text and entry.text != PENDING_TEXT:
            passages.append(Passage(where=source, text=entry.text))
        for note in (entry.details or {}).get("notes") or ():
            if note.get("text"):
                where = f"note by {by(note.get('by'))} on the {source}"
                passages.append(Passage(where=where, text=note["text"]))
        return passages
    if label in ("summary", "impact"):
        return []
    typed = typed_text(entry)
    if not typed:
        return []
    if label == "status change":
        after = (entry.details or {}).get("to") or ""
        label = "resolution" if after == Status.RESOLVED else f"{label} to {after}"
    where = f"{label} by {by(entry.author_id)} at {moment(entry.occurred_at)}"
    return [Passage(where=where, text=typed)]


def review_incident(
    *,
    uow: UnitOfWork,
    incident: Incident,
    timeline: Sequence[TimelineRecord],
    people: Mapping[str, Person],
    zone: str,
    rules: Sequence[Rule],
) -> list[Flag]:
    """The blameless review of everything people wrote in the incident, as its postmortem
    shows it (``people``: those the postmortem names, by id)."""
    names = {user_id: person.display_name for user_id, person in people.items()}
    passages = passages_to_review(
        incident,
        names=names,
        zone=zone,
        timeline=timeline,
        declared_by_alert=declared_by_alert(uow=uow, incident=incident),
    )
    known = [person.display_name for person in people.values() if not person.is_bot]
    # The workspace's people count as persons too, not only the incident's.
    known += workspace_names_in(uow=uow, texts=[passage.text for passage in passages])
    return blameless.review(passages, rules=rules, names=sorted(set(known)))


def declared_by_alert(*, uow: UnitOfWork, incident: Incident) -> bool:
    """Whether an alert declared the incident (its title and first summary are the alert's)."""
    return bool(uow.session.scalar(select(exists().where(AlertGroup.incident_id == incident.id))))


# Rendered documents at least this long (characters, all formats) are followed by a full garbage
# collection before they are stored (the database driver copies each document twice more);
# below it the collection would cost more than it gives.
_LONG_DOCUMENT = 4_000_000


@dataclass(frozen=True)
class Draft:
    """The next version of an incident's postmortem, rendered but not stored."""

    version: int
    generated_at: datetime
    rendered: dict[str, str]
    review: list[Flag]


@dataclass(frozen=True)
class Generated:
    postmortem: Postmortem
    review: list[Flag]


def draft_postmortem(
    *,
    uow: UnitOfWork,
    incident: Incident,
    renderer: PostmortemRenderer,
    template: str = DEFAULT_TEMPLATE,
    rules: Sequence[Rule] = (),
    formats: Sequence[str] = ("md", "html"),
) -> Draft:
    """Renders the next version in ``formats``, with its language review; stores nothing."""
    # Read once, as plain rows: a long timeline is most of the work and most of the memory.
    timeline = read_timeline(uow=uow, incident=incident)
    people = people_by_id(uow=uow, user_ids=mentioned_people(incident, timeline=timeline))
    review = review_incident(
        uow=uow,
        incident=incident,
        timeline=timeline,
        people=people,
        zone=renderer.zone,
        rules=rules,
    )
    version = (
        uow.session.scalar(
            select(func.max(Postmortem.version)).where(Postmortem.incident_id == incident.id)
        )
        or 0
    ) + 1
    now = uow.now()
    context = renderer.context(
        incident=incident,
        people=people,
        template=template,
        now=now,
        version=version,
        review=review,
        timeline=timeline,
        edited=edited_entry_ids(uow=uow, incident_id=incident.id),
    )
    # Rendering a long timeline needs the memory its rows hold, and only the context reads them.
    del timeline
    # The longest document first (HTML, the larger): the other is rendered beside it rather
    # than the longest beside the other, so the pieces the renderer joins weigh less at once.
    order = sorted(formats, key=lambda fmt: fmt != "html")
    done = {fmt: renderer.render_context(context, fmt=fmt) for fmt in order}
    # Rendering leaves cycles behind (Jinja's contexts for imports and macros) that refer to the
    # context's lists until the garbage collector's next full pass: emptied, a long timeline's
    # entries go now, before the versions are stored.
    release_context(context)
    del context
    if sum(len(text) for text in done.values()) >= _LONG_DOCUMENT:
        give_memory_back()
    rendered = {fmt: done[fmt] for fmt in formats}
    return Draft(version=version, generated_at=now, rendered=rendered, review=review)


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
    draft = draft_postmortem(
        uow=uow, incident=incident, renderer=renderer, template=template, rules=rules
    )
    postmortem = Postmortem(
        incident_id=incident.id,
        version=draft.version,
        template=template,
        markdown=draft.rendered["md"],
        html=draft.rendered["html"],
        generated_at=draft.generated_at,
        generated_by=generated_by,
        trigger=trigger,
    )
    if "postmortems" in inspect(incident).unloaded:
        # Adding a version must not read the earlier ones, each as long as the timeline.
        uow.session.add(postmortem)
    else:
        incident.postmortems.append(postmortem)
    uow.session.flush()
    if upload:
        # Not in the incident's queue: the upload needs only this stored version, and an
        # incident's jobs run in order, so it would wait behind every echo and summary refresh
        # queued meanwhile (a close queues both) while people wait for the draft.
        uow.enqueue(jobs.UPLOAD_POSTMORTEM, postmortem_id=postmortem.id)
    return Generated(postmortem=postmortem, review=draft.review)


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
    incident_changed(uow=uow, incident=incident)  # final: no more reminders
    return chosen


def set_postmortem_owner(
    *,
    uow: UnitOfWork,
    incident: Incident,
    owner_id: str,
    set_by: str,
    policy: Policy = DEFAULT_POLICY,
) -> None:
    """Who sees the postmortem through to final; its reminders go to them, not the lead."""
    policy.check(incident, set_by, Action.NOTES)
    if incident.postmortem_owner_id == owner_id:
        raise IncidentError(f"<@{owner_id}> already owns INC-{incident.number}'s postmortem.")
    previous = incident.postmortem_owner_id
    incident.postmortem_owner_id = owner_id
    entry = record(
        uow=uow,
        incident=incident,
        kind=EntryKind.POSTMORTEM,
        author_id=set_by,
        text=f"Postmortem owner: <@{owner_id}>"
        + (f" (taking over from <@{previous}>)" if previous else ""),
        details={"owner": owner_id, "from": previous},
    )
    # The channel should know whom to send their postmortem notes to.
    uow.enqueue(jobs.ECHO_ENTRY, incident=incident, entry_id=entry.id)
    incident_changed(uow=uow, incident=incident)


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
