"""One function per ``/incident`` subcommand: parse the words, call one service, say what happened.

People are looked up in Slack only when the command needs it now (a time zone, checking that a
mentioned person exists), before the unit of work opens so no Slack call runs while the database
transaction is held; names for the postmortem are looked up later, by its job.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.errors import SlackClientError

from incidentbot import services
from incidentbot.domain import links
from incidentbot.domain.errors import IncidentError, NotInIncidentChannel
from incidentbot.domain.models import EntryKind, Status
from incidentbot.domain.text import (
    clip,
    from_slack,
    parse_user_mentions,
    printable,
    safe_for_slack,
    split_mention,
)
from incidentbot.domain.timeparse import (
    Moment,
    describe_moment,
    format_moment,
    get_zone,
    read_moment,
    starts_with_moment,
)
from incidentbot.slack import blocks
from incidentbot.slack.deps import Deps
from incidentbot.slack.stats_reply import stats_reply
from incidentbot.slack.timeline_reply import timeline_reply


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
    then: Callable[[], None] | None = None


Subcommand = Callable[[Invocation, Deps], Reply]


RECORD_INSTEAD = (
    "An incident is declared now. To record one that already happened, use "
    "`/incident record <title>; started <time>; detected <time>; mitigated <time>; "
    "resolved <time>` (detected and mitigated are optional), or `/incident declare` and fill in "
    "the form's “already over” times. For one still going on that began earlier, declare it "
    "and then `/incident started at <time>`."
)


def _open_declare_form(invocation: Invocation, deps: Deps, *, after_the_fact: bool) -> Reply:
    zone = deps.directory.zone_of(invocation.user_id)
    return Reply(
        text=None,
        then=lambda: deps.interactive_client.views_open(
            trigger_id=invocation.trigger_id,
            view=blocks.declare_modal(
                declared_by=invocation.user_id,
                private_metadata={"reply_to": invocation.response_url},
                after_the_fact=after_the_fact,
                zone=zone,
            ),
        ),
    )


def declare(invocation: Invocation, deps: Deps) -> Reply:
    if _at_moment(invocation.args) is not None:
        raise IncidentError(RECORD_INSTEAD)
    if not invocation.args:
        return _open_declare_form(invocation, deps, after_the_fact=False)
    with deps.uow_factory() as uow:
        waiting = services.retry_unopened(
            uow=uow, title=invocation.args, declared_by=invocation.user_id
        )
        if waiting is not None:
            uow.commit()
            return Reply(
                f"INC-{waiting.number} is already declared; I'm trying to open its channel "
                "again now and will tell you here when it's ready."
            )
        incident = services.declare_incident(
            uow=uow,
            title=invocation.args,
            declared_by=invocation.user_id,
            reply_to=invocation.response_url,
        )
        uow.commit()
        return Reply(
            f":rotating_light: Declaring *INC-{incident.number}* ({incident.severity}): "
            f"{safe_for_slack(incident.title)}. You are the lead. I'm opening its "
            "channel and will tell you here when it's ready."
        )


def _at_moment(text: str) -> str | None:
    """What follows ``at`` when ``text`` starts ``at <time>`` (``at 14:05 …``,
    ``at yesterday 23:10 …``), else None (``at least five nodes …`` is just text)."""
    word, _, rest = text.strip().partition(" ")
    if word.lower() == "at" and starts_with_moment(rest.strip()):
        return rest.strip()
    return None


def _read_at(deps: Deps, invocation: Invocation, text: str) -> tuple[Moment, str]:
    """The moment at the front of ``text``, in the author's zone unless it names one."""
    zone = deps.directory.zone_of(invocation.user_id)
    return read_moment(text, now=deps.clock(), default_zone=zone), zone


def _when(moment: Moment | None, zone: str, deps: Deps) -> str:
    if moment is None:
        return ""
    return f" at {describe_moment(moment, zone=zone, now=deps.clock())}"


def severity(invocation: Invocation, deps: Deps) -> Reply:
    """``sev <1-4> [at <time>]``."""
    level_word, _, rest = invocation.args.partition(" ")
    level = services.parse_severity(level_word)
    moment, zone = None, "UTC"
    if rest.strip():
        at_text = _at_moment(rest)
        if at_text is None:
            raise IncidentError(
                f"I read {level} but not “{safe_for_slack(clip(rest.strip(), 40))}”. To say when "
                f"it changed, `/incident sev {level[-1]} at 14:05` (your time zone, or add one)."
            )
        moment, zone = _read_at(deps, invocation, at_text)
        if moment.rest:
            raise IncidentError(
                f"I read the time but not “{safe_for_slack(clip(moment.rest, 40))}”. "
                f"Use `/incident sev {level[-1]} at 14:05`, optionally with a date and a zone."
            )
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        services.change_severity(
            uow=uow,
            incident=incident,
            severity=level,
            changed_by=invocation.user_id,
            at=moment.at if moment else None,
            zone=zone,
            policy=deps.settings.policy,
        )
        uow.commit()
        if moment is None:
            return Reply(f"INC-{incident.number} is now {level}.")
        return Reply(
            f"Recorded: INC-{incident.number} went to {level}{_when(moment, zone, deps)}. "
            f"It is {incident.severity} now."
        )


def status(invocation: Invocation, deps: Deps) -> Reply:
    """``status <state> [at <time>] [text]``."""
    word, _, text = invocation.args.partition(" ")
    new_status = services.parse_status(word)
    return _change_status(invocation, deps, new_status, text)


def _change_status(invocation: Invocation, deps: Deps, new_status: Status, text: str) -> Reply:
    moment, zone = None, "UTC"
    at_text = _at_moment(text)
    if at_text is not None:
        moment, zone = _read_at(deps, invocation, at_text)
        text = moment.rest
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        services.change_status(
            uow=uow,
            incident=incident,
            status=new_status,
            changed_by=invocation.user_id,
            text=text or None,
            at=moment.at if moment else None,
            zone=zone,
            policy=deps.settings.policy,
        )
        uow.commit()
        if moment is None and new_status == Status.RESOLVED:
            return Reply(
                f"INC-{incident.number} is resolved. `/incident close` when you're ready for the "
                "postmortem."
            )
        if moment is None:
            return Reply(f"INC-{incident.number} is now {new_status}.")
        return Reply(
            f"Recorded: INC-{incident.number} was {new_status}{_when(moment, zone, deps)}. "
            f"It is {incident.status} now."
        )


def resolve(invocation: Invocation, deps: Deps) -> Reply:
    """``resolve [at <time>] [text]``."""
    return _change_status(invocation, deps, Status.RESOLVED, invocation.args)


def lead(invocation: Invocation, deps: Deps) -> Reply:
    return _assign(invocation, deps, role="lead", rest=invocation.args)


def role(invocation: Invocation, deps: Deps) -> Reply:
    role_word, _, rest = invocation.args.partition(" ")
    if not role_word:
        raise IncidentError(
            f"Say which role and who: `/incident role comms @person`. "
            f"Roles: {', '.join(deps.settings.roles)}."
        )
    return _assign(
        invocation, deps, role=services.parse_role(role_word, roles=deps.settings.roles), rest=rest
    )


def _one_person(deps: Deps, text: str, *, usage: str, not_an_app: str) -> str:
    """The one person ``text`` mentions; refuses anything else, and apps, saying how."""
    user_id, leftover = split_mention(text)
    if user_id is None or leftover.strip():
        raise IncidentError(f"Mention exactly one person so Slack turns it into a link: {usage}")
    if deps.directory.lookup(user_id).is_bot:
        raise IncidentError(f"<@{user_id}> is an app; {not_an_app}")
    return user_id


def _assign(invocation: Invocation, deps: Deps, *, role: str, rest: str) -> Reply:
    user_id = _one_person(
        deps,
        rest,
        usage=f"`/incident role {role} @person`"
        + (" (or `/incident lead @person`)." if role == "lead" else "."),
        not_an_app="roles are for people.",
    )
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        services.assign_role(
            uow=uow,
            incident=incident,
            role=role,
            user_id=user_id,
            assigned_by=invocation.user_id,
            policy=deps.settings.policy,
        )
        uow.commit()
        return Reply(f"<@{user_id}> is now {role} of INC-{incident.number}.")


def note(invocation: Invocation, deps: Deps) -> Reply:
    at_text = _at_moment(invocation.args)
    if at_text is not None:
        moment, zone = _read_at(deps, invocation, at_text)
        with deps.uow_factory() as uow:
            incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
            entry = services.add_note_at(
                uow=uow,
                incident=incident,
                author_id=invocation.user_id,
                occurred_at=moment.at,
                text=moment.rest,
                policy=deps.settings.policy,
            )
            uow.commit()
            return Reply(
                f"Added to the INC-{incident.number} timeline as #{entry.number}"
                f"{_when(moment, zone, deps)}."
            )
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        entry = services.add_note(
            uow=uow,
            incident=incident,
            author_id=invocation.user_id,
            text=invocation.args,
            policy=deps.settings.policy,
        )
        uow.commit()
        return Reply(f"Added to the INC-{incident.number} timeline as #{entry.number}.")


def summary(invocation: Invocation, deps: Deps) -> Reply:
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        services.set_summary(
            uow=uow,
            incident=incident,
            author_id=invocation.user_id,
            text=invocation.args,
            policy=deps.settings.policy,
        )
        uow.commit()
        return Reply(f"Summary of INC-{incident.number} saved.")


def impact(invocation: Invocation, deps: Deps) -> Reply:
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        services.set_impact(
            uow=uow,
            incident=incident,
            author_id=invocation.user_id,
            text=invocation.args,
            policy=deps.settings.policy,
        )
        uow.commit()
        return Reply(f"Impact of INC-{incident.number} saved.")


def update(invocation: Invocation, deps: Deps) -> Reply:
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        services.post_update(
            uow=uow,
            incident=incident,
            author_id=invocation.user_id,
            text=invocation.args,
            policy=deps.settings.policy,
        )
        uow.commit()
        return Reply(f"Update posted here and announced for INC-{incident.number}.")


# The last " due <date>" is the due date, so "Review due process due friday" keeps its words.
_DUE = re.compile(r"^(?P<text>.*)\s+due\s+(?P<due>.+)$", flags=re.IGNORECASE | re.DOTALL)


_ITEM_UPDATE = re.compile(
    r"(?P<number>\d+)\s+(?:(?P<done>done|open)|type\s+(?P<kind>\S+)|link\s+(?P<url>\S+)"
    r"|due\s+(?P<due>.+?))\s*$",
    flags=re.IGNORECASE,
)


def action(invocation: Invocation, deps: Deps) -> Reply:
    """``action <text> [@owner] [due <date>]`` files one; ``action <N> done|open|type <type>|
    link <url>`` updates item N."""
    update = _ITEM_UPDATE.match(invocation.args)
    if update:
        return _update_action(invocation, deps, update)
    text = invocation.args
    due_text = None
    match = _DUE.match(text)
    if match:
        due_text = match.group("due").strip()
        text = match.group("text")
    owners = parse_user_mentions(text)
    owner = owners[-1] if owners else None
    if owner is not None:
        # The owner is the last person mentioned, written at the end: "... @bob".
        text = re.sub(rf"\s*<@{re.escape(owner)}(\|[^>]*)?>\s*$", "", text)
        deps.directory.lookup(owner)
    zone = deps.directory.zone_of(invocation.user_id)
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        item = services.add_action_item(
            uow=uow,
            incident=incident,
            created_by=invocation.user_id,
            text=text,
            owner_id=owner,
            due_text=due_text,
            author_zone=zone,
            policy=deps.settings.policy,
        )
        uow.commit()
        owner_text = f", owned by <@{item.owner_id}>" if item.owner_id else ", no owner yet"
        due = f", due {item.due_date.isoformat()}" if item.due_date else ""
        return Reply(f"Action item filed for INC-{incident.number}{owner_text}{due}.")


def _update_action(invocation: Invocation, deps: Deps, update: re.Match[str]) -> Reply:
    done = (update.group("done") or "").lower()
    due_text = update.group("due")
    zone = deps.directory.zone_of(invocation.user_id) if due_text else "UTC"
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        item = services.update_action_item(
            uow=uow,
            incident=incident,
            number=int(update.group("number")),
            updated_by=invocation.user_id,
            kind=update.group("kind"),
            tracking_url=update.group("url"),
            status=done or None,
            due_text=due_text,
            author_zone=zone,
            policy=deps.settings.policy,
        )
        uow.commit()
        return Reply(
            f"Action item {update.group('number')} of INC-{incident.number}: "
            f"{item.kind or 'no type'}, {item.status}"
            + (f", due {item.due_date.isoformat()}" if item.due_date else "")
            + (f", tracked at {item.tracking_url}" if item.tracking_url else "")
            + "."
        )


def close(invocation: Invocation, deps: Deps) -> Reply:
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        services.close(
            uow=uow,
            incident=incident,
            closed_by=invocation.user_id,
            reply_to=invocation.response_url,
            policy=deps.settings.policy,
            archive_after=(
                timedelta(days=deps.settings.archive_after_days)
                if deps.settings.archive_after_days
                else None
            ),
        )
        uow.commit()
        return Reply(
            f"INC-{incident.number} is closed. The postmortem draft will be posted in this channel "
            "in a moment."
        )


UNARCHIVE_FIRST = (
    "An incident whose channel was archived is reopened in that channel, once someone has "
    "unarchived it (apps cannot): open the channel and choose *Unarchive*, then type "
    "`/incident reopen` there."
)


def reopen(invocation: Invocation, deps: Deps) -> Reply:
    try:
        with deps.uow_factory() as uow:
            incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
            was_closed = incident.status == Status.CLOSED
            services.reopen(
                uow=uow,
                incident=incident,
                reopened_by=invocation.user_id,
                policy=deps.settings.policy,
            )
            uow.commit()
            number, channel_id = incident.number, incident.channel_id
    except NotInIncidentChannel as error:
        raise NotInIncidentChannel(f"{error.message}\n{UNARCHIVE_FIRST}") from None
    reply = f"INC-{number} is reopened and back to investigating."
    if was_closed and channel_id and _is_archived(deps, channel_id):
        reply += (
            f" Its channel <#{channel_id}> is archived, and apps cannot unarchive channels: "
            "someone needs to open it and choose *Unarchive* so the work can go on there."
        )
    return Reply(reply)


def _is_archived(deps: Deps, channel_id: str) -> bool:
    """Whether Slack says the channel is archived (False when Slack cannot say in time)."""
    try:
        channel = deps.interactive_client.conversations_info(channel=channel_id)
    except (SlackClientError, OSError):
        return False
    return bool((channel.get("channel") or {}).get("is_archived"))


def postmortem(invocation: Invocation, deps: Deps) -> Reply:
    """``postmortem`` generates a version; ``postmortem template <name>`` and
    ``postmortem status <draft|review|final>`` shape the document."""
    action, _, rest = invocation.args.partition(" ")
    action = action.lower()
    if action in ("template", "templates"):
        return _postmortem_template(invocation, deps, rest.strip())
    if action == "status":
        return _postmortem_status(invocation, deps, rest.strip())
    if action == "owner":
        return _postmortem_owner(invocation, deps, rest.strip())
    if action:
        raise IncidentError(
            "Use `/incident postmortem` to generate it, `/incident postmortem template <name>` "
            "to choose its template, `/incident postmortem status <draft|review|final>`, or "
            "`/incident postmortem owner @person` to say who sees it through."
        )
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        services.request_postmortem(
            uow=uow,
            incident=incident,
            requested_by=invocation.user_id,
            trigger="command",
            reply_to=invocation.response_url,
        )
        uow.commit()
        return Reply(
            f"Generating the INC-{incident.number} postmortem; it will be posted in this channel "
            "in a moment."
        )


def _postmortem_template(invocation: Invocation, deps: Deps, name: str) -> Reply:
    available = deps.renderer.available_templates()
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        current = services.template_for(
            incident, severity_templates=deps.settings.severity_templates, available=available
        )
        if not name:
            return Reply(
                f"INC-{incident.number}'s postmortem uses the *{current}* template. "
                f"Templates: {', '.join(sorted(available))}. Choose one with "
                "`/incident postmortem template <name>`."
            )
        services.choose_template(
            uow=uow,
            incident=incident,
            name=name,
            available=available,
            chosen_by=invocation.user_id,
            policy=deps.settings.policy,
        )
        uow.commit()
        return Reply(
            f"INC-{incident.number}'s postmortem will use the *{incident.postmortem_template}* "
            "template. `/incident postmortem` generates a new version with it."
        )


def _postmortem_status(invocation: Invocation, deps: Deps, status: str) -> Reply:
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        chosen = services.set_document_status(
            uow=uow,
            incident=incident,
            status=status,
            set_by=invocation.user_id,
            policy=deps.settings.policy,
        )
        uow.commit()
        return Reply(
            f"INC-{incident.number}'s postmortem is now marked {chosen}; the next version "
            "generated shows it."
        )


def _postmortem_owner(invocation: Invocation, deps: Deps, rest: str) -> Reply:
    """``postmortem owner @person``: who sees the postmortem through to final, and so gets
    its reminders (the lead does when nobody owns it)."""
    user_id = _one_person(
        deps,
        rest,
        usage="`/incident postmortem owner @person`.",
        not_an_app="a postmortem needs a person to own it.",
    )
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        services.set_postmortem_owner(
            uow=uow,
            incident=incident,
            owner_id=user_id,
            set_by=invocation.user_id,
            policy=deps.settings.policy,
        )
        uow.commit()
        return Reply(
            f"<@{user_id}> owns INC-{incident.number}'s postmortem: its reminders go to them "
            "until it is marked final."
        )


_MILESTONE_WORDS = {
    "started": (EntryKind.IMPACT_START, "the impact started", "impact start"),
    "detected": (EntryKind.DETECTED, "it was detected", "detection"),
    "mitigated": (EntryKind.MITIGATED, "the impact ended", "mitigation"),
}
# An impact start typed without a date this long before the declaration is confirmed first.
CONFIRM_EARLIER_THAN = timedelta(hours=12)


def milestone(invocation: Invocation, deps: Deps) -> Reply:
    """``started at <time> [comment]``, ``detected at …``, ``mitigated at …``: in the author's
    zone unless the time names one."""
    kind, meaning, noun = _MILESTONE_WORDS[invocation.name]
    at_text = _at_moment(invocation.args)
    if at_text is None:
        raise IncidentError(
            f"Say when {meaning}: `/incident {invocation.name} at 14:05` (your time zone), "
            f"or with a date and zone, `/incident {invocation.name} at 2026-11-27 14:05 UTC`."
        )
    moment, zone = _read_at(deps, invocation, at_text)
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        if (
            kind == EntryKind.IMPACT_START
            and not moment.date_given
            and moment.at < incident.declared_at - CONFIRM_EARLIER_THAN
        ):
            return Reply(_confirm_early_start(moment, zone, incident.declared_at, deps))
        services.set_milestone(
            uow=uow,
            incident=incident,
            kind=kind,
            moment=moment.at,
            set_by=invocation.user_id,
            zone=zone,
            comment=moment.rest,
            policy=deps.settings.policy,
        )
        uow.commit()
        when = describe_moment(moment, zone=zone, now=deps.clock())
        return Reply(f"INC-{incident.number}'s {noun} is now {when}.")


def _confirm_early_start(moment: Moment, zone: str, declared_at: datetime, deps: Deps) -> str:
    """Asks to confirm a dateless impact start long before the declaration, date spelled out."""
    local = moment.at.astimezone(get_zone(zone))
    hours = round((declared_at - moment.at).total_seconds() / 3600)
    spelled = f"{local:%A} {local.day} {local:%B}, {local:%H:%M}"
    return (
        f"That reads as {spelled} ({describe_moment(moment, zone=zone, now=deps.clock())}), "
        f"{hours} hours before the incident was declared. If that is right, say it with the "
        f"date: `/incident started at {local:%Y-%m-%d %H:%M}`. Nothing was changed."
    )


def record(invocation: Invocation, deps: Deps) -> Reply:
    """``record <title>; started <time>; …; resolved <time>``: an incident that is over."""
    if not invocation.args:
        return _open_declare_form(invocation, deps, after_the_fact=True)
    zone = deps.directory.zone_of(invocation.user_id)
    past = services.parse_past_incident(invocation.args, now=deps.clock(), zone=zone)
    with deps.uow_factory() as uow:
        incident = services.record_past_incident(
            uow=uow,
            past=past,
            recorded_by=invocation.user_id,
            zone=zone,
            reply_to=invocation.response_url,
        )
        uow.commit()
        return Reply(
            f":memo: Recording *INC-{incident.number}* after the fact: "
            f"{safe_for_slack(incident.title)} (impact {format_moment(past.started, zone)} to "
            f"{format_moment(past.mitigated or past.resolved, zone)}). I'm opening its channel "
            "for the notes; nobody is paged. `/incident close` there generates the postmortem."
        )


def timeline(invocation: Invocation, deps: Deps) -> Reply:
    """``timeline [page]``: the entries with their numbers, privately."""
    page_text = invocation.args.strip()
    if page_text and not page_text.isdigit():
        raise IncidentError(
            "Use `/incident timeline` for the latest entries, or a page number: "
            "`/incident timeline 2`."
        )
    zone = deps.directory.zone_of(invocation.user_id)
    with deps.uow_factory(read_only=True) as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        page = services.timeline_page(
            uow=uow, incident=incident, page=int(page_text) if page_text else None
        )
        return Reply(timeline_reply(incident, page, zone=zone))


def edit(invocation: Invocation, deps: Deps) -> Reply:
    """``edit <N> <text>`` or ``edit <N> at <time>``."""
    number_text, _, rest = invocation.args.partition(" ")
    number = services.parse_entry_number(number_text)
    rest = rest.strip()
    if not rest:
        raise IncidentError(
            f"Say what entry #{number} should say or when it happened: "
            f"`/incident edit {number} <new text>` or `/incident edit {number} at 14:05`."
        )
    at_text = _at_moment(rest)
    if at_text is not None:
        moment, zone = _read_at(deps, invocation, at_text)
        if moment.rest:
            raise IncidentError(
                f"I read the time but not “{safe_for_slack(clip(moment.rest, 40))}”. Change the "
                f"time and the text separately: `/incident edit {number} at 14:05`, then "
                f"`/incident edit {number} <new text>`."
            )
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        if at_text is not None:
            services.edit_entry_time(
                uow=uow,
                incident=incident,
                number=number,
                moment=moment.at,
                edited_by=invocation.user_id,
                zone=zone,
                policy=deps.settings.policy,
            )
            said = f"now sits{_when(moment, zone, deps)}"
        else:
            services.edit_entry_text(
                uow=uow,
                incident=incident,
                number=number,
                text=rest,
                edited_by=invocation.user_id,
                policy=deps.settings.policy,
            )
            said = "is corrected"
        uow.commit()
        return Reply(
            f"Entry #{number} of INC-{incident.number} {said}; the old version stays in its "
            "history on the incident's page."
        )


def delete(invocation: Invocation, deps: Deps) -> Reply:
    """``delete <N> [reason]``."""
    number_text, _, reason = invocation.args.partition(" ")
    number = services.parse_entry_number(number_text)
    zone = deps.directory.zone_of(invocation.user_id)
    with deps.uow_factory() as uow:
        incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        services.delete_entry(
            uow=uow,
            incident=incident,
            number=number,
            deleted_by=invocation.user_id,
            reason=reason,
            zone=zone,
            policy=deps.settings.policy,
        )
        uow.commit()
        return Reply(
            f"Entry #{number} is off INC-{incident.number}'s timeline and metrics; it stays in "
            "the history on the incident's page."
        )


def stats(invocation: Invocation, deps: Deps) -> Reply:
    """``stats [30d|90d|<N>d]``: incidents and how fast they went, for the asker; any channel."""
    days = services.parse_window(invocation.args)
    with deps.uow_factory(read_only=True) as uow:
        report = services.incident_stats(uow=uow, viewer=invocation.user_id, days=days)
    return Reply(stats_reply(report, zone=deps.settings.timezone))


def list_open(invocation: Invocation, deps: Deps) -> Reply:
    """``list``: the open incidents that fit in a reply, and a link to the web list for all."""
    zone = deps.directory.zone_of(invocation.user_id)
    token = links.issue_token(secret=deps.settings.link_secret, user_id=invocation.user_id)
    with deps.uow_factory() as uow:
        incidents = services.open_incidents(uow=uow, viewer=invocation.user_id)
        return Reply(
            blocks.incident_list(
                incidents,
                now=uow.now(),
                zone=zone,
                list_url=f"{deps.settings.base_url}/?token={token}",
            )
        )


def link(invocation: Invocation, deps: Deps) -> Reply:
    """A private link to the web pages, signed for this person and valid for a day."""
    base = deps.settings.base_url
    token = links.issue_token(secret=deps.settings.link_secret, user_id=invocation.user_id)
    with deps.uow_factory() as uow:
        try:
            incident = services.incident_in_channel(uow=uow, channel_id=invocation.channel_id)
        except NotInIncidentChannel:
            return Reply(f"<{base}/?token={token}|Open the incidents page> (valid for 24 hours).")
        return Reply(
            f"<{base}/incidents/{incident.number}?token={token}|Open INC-{incident.number}'s page> "
            "(valid for 24 hours, just for you)."
        )


def help_(invocation: Invocation, deps: Deps) -> Reply:
    return Reply(blocks.HELP)


def unknown(invocation: Invocation, deps: Deps) -> Reply:
    if not invocation.name:
        return Reply(blocks.HELP)
    shown = safe_for_slack(clip(invocation.name, 40))
    return Reply(f"I don't know the command “{shown}”.\n\n{blocks.HELP}")


SUBCOMMANDS: dict[str, Subcommand] = {
    "declare": declare,
    "sev": severity,
    "severity": severity,
    "status": status,
    "resolve": resolve,
    "lead": lead,
    "role": role,
    "note": note,
    "summary": summary,
    "impact": impact,
    "update": update,
    "action": action,
    "close": close,
    "reopen": reopen,
    "postmortem": postmortem,
    "started": milestone,
    "detected": milestone,
    "mitigated": milestone,
    "record": record,
    "timeline": timeline,
    "edit": edit,
    "delete": delete,
    "list": list_open,
    "link": link,
    "stats": stats,
    "help": help_,
}
