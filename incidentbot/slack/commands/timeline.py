"""What the incident's record says: ``note`` (now or ``at <time>``), ``summary``, ``impact``,
``update``, the milestones ``started``/``detected``/``mitigated at <time>`` (a dateless impact
start long before the declaration is confirmed first, :data:`CONFIRM_EARLIER_THAN`), and reading
and correcting the timeline: ``timeline [page]``, ``edit <N>``, ``delete <N>``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from incidentbot import services
from incidentbot.domain.errors import IncidentError
from incidentbot.domain.models import EntryKind
from incidentbot.domain.text import clip, safe_for_slack
from incidentbot.domain.timeparse import Moment, describe_moment, get_zone
from incidentbot.slack.commands.invocation import Invocation, Reply, at_moment, read_at, when
from incidentbot.slack.deps import Deps
from incidentbot.slack.timeline_reply import timeline_reply


def note(invocation: Invocation, deps: Deps) -> Reply:
    at_text = at_moment(invocation.args)
    if at_text is not None:
        moment, zone = read_at(deps, invocation, at_text)
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
                f"{when(moment, zone, deps)}."
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
    at_text = at_moment(invocation.args)
    if at_text is None:
        raise IncidentError(
            f"Say when {meaning}: `/incident {invocation.name} at 14:05` (your time zone), "
            f"or with a date and zone, `/incident {invocation.name} at 2026-11-27 14:05 UTC`."
        )
    moment, zone = read_at(deps, invocation, at_text)
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
    at_text = at_moment(rest)
    if at_text is not None:
        moment, zone = read_at(deps, invocation, at_text)
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
            said = f"now sits{when(moment, zone, deps)}"
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
