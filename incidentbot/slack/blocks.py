"""Block Kit, built by pure functions from plain values, so tests can compare JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime

from incidentbot.domain.metrics import humanize
from incidentbot.domain.models import EntryKind, Incident, Severity, TimelineEntry
from incidentbot.domain.text import clip, neutralize_mentions, safe_for_slack, safe_reply
from incidentbot.domain.timeparse import format_moment
from incidentbot.slack import ids
from incidentbot.slack.refusals import Refusal

SEVERITY_EMOJI = {
    "SEV1": ":red_circle:",
    "SEV2": ":large_orange_circle:",
    "SEV3": ":large_yellow_circle:",
    "SEV4": ":white_circle:",
}
KIND_EMOJI = {
    EntryKind.NOTE: ":memo:",
    EntryKind.PINNED: ":pushpin:",
    EntryKind.STATUS: ":arrows_counterclockwise:",
    EntryKind.SEVERITY: ":rotating_light:",
    EntryKind.ROLE: ":bust_in_silhouette:",
    EntryKind.ACTION: ":white_check_mark:",
    EntryKind.UPDATE: ":loudspeaker:",
    EntryKind.SUMMARY: ":page_facing_up:",
    EntryKind.IMPACT: ":chart_with_downwards_trend:",
    EntryKind.ALERT: ":bell:",
}


# Long enough for the help text; a reply quoting 40,000 typed characters helps nobody.
MAX_REPLY = 3000


def private_reply(text: str) -> str:
    """A reply to one person: it quotes what they typed, so no mass mention, and kept short."""
    return clip(safe_reply(text), MAX_REPLY)


def incident_label(incident: Incident) -> str:
    return f"INC-{incident.number}"


def summary_blocks(
    incident: Incident, *, page_url: str, zone: str, latest_update: TimelineEntry | None = None
) -> list[dict]:
    """The pinned message at the top of the incident channel, kept current with chat.update.

    It shows the latest stakeholder update, so someone arriving late reads where things stand.
    """
    lead = incident.holder("lead")
    others = [
        f"{role}: <@{user}>" for role, user in incident.current_roles().items() if role != "lead"
    ]
    when = (
        f"*Impact*\n{impact_window(incident, zone=zone)}"
        if incident.after_the_fact
        else f"*Declared*\n{format_moment(incident.declared_at, zone)}"
    )
    fields = [
        {
            "type": "mrkdwn",
            "text": f"*Severity*\n{SEVERITY_EMOJI[incident.severity]} {incident.severity}",
        },
        {"type": "mrkdwn", "text": f"*Status*\n{incident.status}"},
        {"type": "mrkdwn", "text": f"*Lead*\n{f'<@{lead}>' if lead else 'nobody yet'}"},
        {"type": "mrkdwn", "text": when},
    ]
    blocks: list[dict] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _header(incident), "emoji": True},
        },
    ]
    if incident.after_the_fact:
        blocks.append(_context(f"{AFTER_THE_FACT_EMOJI} {AFTER_THE_FACT_NOTE}"))
    blocks.append({"type": "section", "fields": fields})
    if others:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": " · ".join(others)}})
    if incident.summary:
        blocks.append(_text_section("Summary", incident.summary))
    if incident.impact:
        blocks.append(_text_section("Impact", incident.impact))
    if latest_update is not None:
        author = f"<@{latest_update.author_id}>" if latest_update.author_id else "incidentbot"
        blocks.append(
            _text_section(
                f"Latest update ({format_moment(latest_update.occurred_at, zone)}, {author})",
                latest_update.text,
            )
        )
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": ids.CORRECT_TIMELINE,
                    "text": {"type": "plain_text", "text": "Correct the timeline"},
                    "value": str(incident.number),
                }
            ],
        }
    )
    blocks.append(_context(f"<{page_url}|Incident page> · `/incident help` for commands"))
    return blocks


def summary_text(incident: Incident) -> str:
    """The notification fallback for the summary message."""
    lead = incident.holder("lead")
    label = incident_label(incident) + (
        " (recorded after the fact)" if incident.after_the_fact else ""
    )
    return (
        f"{label}: {safe_for_slack(incident.title)} | {incident.severity} | "
        f"{incident.status} | lead: {f'<@{lead}>' if lead else 'nobody'}"
    )


# How an incident entered once it was over is labelled wherever it is shown.
AFTER_THE_FACT_EMOJI = ":memo:"
AFTER_THE_FACT_NOTE = (
    "*Recorded after the fact*: entered once it was over, so nobody was paged or reminded."
)


def impact_window(incident: Incident, *, zone: str) -> str:
    """``2026-11-20 06:05 PST to 07:10 PST (1 h 5 min)``: from the impact start to its end
    (the mitigation, else the resolution)."""
    start = incident.impact_started_at
    end = incident.mitigated_at or incident.resolved_at
    began = format_moment(start, zone)
    if end is None:
        return f"since {began}"
    ended = format_moment(end, zone)
    if ended[:10] == began[:10]:
        ended = ended[11:]  # the same day: its time and zone say enough
    return f"{began} to {ended} ({humanize(end - start)})"


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _header(incident: Incident) -> str:
    # Header blocks are plain text (Slack never pings from them) and capped at 150 characters;
    # the markup is still neutralised so readers do not see raw control sequences.
    return clip(f"{incident_label(incident)}: {neutralize_mentions(incident.title)}", 150)


def _text_section(label: str, text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": f"*{label}*\n{_clip(text)}"}}


def _clip(text: str, limit: int = 2900) -> str:
    return clip(safe_for_slack(text), limit)


# What a form shows beside a field it refuses stays short: the field is the context.
MAX_FIELD_ERROR = 150


def field_error(message: str) -> str:
    """A refusal to show beside a form's field (``response_action: "errors"``)."""
    return clip(neutralize_mentions(message), MAX_FIELD_ERROR)


def announcement(
    incident: Incident, *, declared_by: str, zone: str = "UTC"
) -> tuple[str, list[dict]]:
    """The post in the announcement channel. One recorded after the fact is over: it names
    nobody (no mention, no broadcast) and gives the impact window instead of a call to help."""
    if incident.after_the_fact:
        text = (
            f"{AFTER_THE_FACT_EMOJI} *{incident_label(incident)}* ({incident.severity}) "
            f"recorded after the fact: {_clip(incident.title, 300)}\n"
            f"Impact {impact_window(incident, zone=zone)}. It is over and nobody is paged; "
            f"its record is in <#{incident.channel_id}>."
        )
    else:
        text = (
            f"{SEVERITY_EMOJI[incident.severity]} *{incident_label(incident)}* "
            f"({incident.severity}) declared by <@{declared_by}>: {_clip(incident.title, 300)}\n"
            f"Join <#{incident.channel_id}> to help."
        )
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]


def channel_ready(
    incident: Incident, *, problem: str | None = None, refused: Sequence[Refusal] = ()
) -> str:
    """The private answer to whoever declared or recorded the incident, once its channel is
    open."""
    label, channel = incident_label(incident), f"<#{incident.channel_id}>"
    if incident.after_the_fact:
        text = (
            f"{label} is recorded after the fact in {channel}. Nobody was paged or mentioned and "
            "no reminders will come. `/incident timeline` there lists its entries to correct."
        )
    else:
        text = (
            f"{label} is open in {channel}. Its pinned summary stays current; `/incident help` "
            "lists what you can do there. For an incident that is already over, `/incident "
            "record` opens the form that records it after the fact, paging nobody."
        )
    for refusal in refused:
        text += f"\n:warning: {refusal.sentence()}"
    if problem:
        text += f"\n:warning: It was not announced: {problem}"
    return text


def entry_message(entry: TimelineEntry, *, zone: str) -> str:
    """How a timeline entry is echoed into the incident channel, whole: ``echo_messages`` cuts
    one longer than a message."""
    emoji = KIND_EMOJI.get(EntryKind(entry.kind), ":small_blue_diamond:")
    author = f"<@{entry.author_id}>" if entry.author_id else "incidentbot"
    text = safe_for_slack(entry.text)
    if entry.kind == EntryKind.NOTE:
        when = ""
        if entry.details and entry.details.get("backdated"):
            when = f" (backdated to {format_moment(entry.occurred_at, zone)})"
        return f"{emoji} Note from {author}{when}: {text}"
    if entry.kind == EntryKind.UPDATE:
        return f"{emoji} *Update* from {author}: {text}"
    if entry.kind == EntryKind.PINNED:
        return f"{emoji} Added to the timeline by {author}: {text}"
    if entry.kind == EntryKind.ALERT:
        return f"{emoji} {text}"  # from monitoring, in the bot's name: no author to show
    if entry.details and entry.details.get("backdated"):
        # A change recorded after the fact: it happened then, not now.
        return f"{emoji} {text}, at {format_moment(entry.occurred_at, zone)} (by {author})"
    return f"{emoji} {text} (by {author})"


# Slack advises at most 4,000 characters a message (and truncates past 40,000).
MAX_MESSAGE = 4000


def echo_messages(lines: Sequence[str], *, page_url: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Echoed entries (``entry_message`` lines), in order, in as few messages of at most
    ``limit`` characters as hold them whole; an entry longer than a message is cut to fit and
    says that the incident page (``page_url``) has all of it."""
    marker = f"\n_(cut short: <{page_url}|the incident page> has all of it)_"
    messages: list[str] = []
    current = ""
    for line in lines:
        if len(line) > limit:
            line = clip(line, limit - len(marker)) + marker
        if current and len(current) + 1 + len(line) <= limit:
            current = f"{current}\n{line}"
            continue
        if current:
            messages.append(current)
        current = line
    if current:
        messages.append(current)
    return messages


def update_announcement(incident: Incident, entry: TimelineEntry) -> str:
    return (
        f":loudspeaker: *{incident_label(incident)} update* ({incident.severity}, "
        f"{incident.status}) from <@{entry.author_id}>: {_clip(entry.text)}"
    )


def incident_list(
    incidents: Sequence[Incident],
    *,
    now: datetime,
    list_url: str,
    zone: str = "UTC",
    limit: int = MAX_REPLY,
) -> str:
    """The open incidents, each whole, as many as ``limit`` characters hold; the rest are
    counted and linked to the web list (``list_url``)."""
    if not incidents:
        return "No open incidents. :relieved:"
    lines = ["*Open incidents*"]
    length = len(lines[0])
    for shown, line in enumerate(_incident_lines(incidents, now=now, zone=zone)):
        rest = len(incidents) - shown - 1
        # Room for this line and, if any are left after it, for the line saying so.
        needed = len(line) + 1 + (len(_more(rest, list_url)) + 1 if rest else 0)
        if length + needed > limit:
            lines.append(_more(len(incidents) - shown, list_url))
            break
        lines.append(line)
        length += len(line) + 1
    return "\n".join(lines)


def _more(count: int, list_url: str) -> str:
    return f"…and {count} more: <{list_url}|see them all>"


def _incident_lines(incidents: Sequence[Incident], *, now: datetime, zone: str) -> Iterator[str]:
    for incident in incidents:
        lead = incident.holder("lead")
        where = f"<#{incident.channel_id}>" if incident.channel_id else "(channel being created)"
        age = (
            f"recorded after the fact, impact {impact_window(incident, zone=zone)}"
            if incident.after_the_fact
            else f"open for {humanize(now - incident.declared_at)}"
        )
        yield (
            f"• {SEVERITY_EMOJI[incident.severity]} *{incident_label(incident)}* "
            f"{_clip(incident.title, 200)}: {incident.severity}, {incident.status}, "
            f"lead {f'<@{lead}>' if lead else 'nobody'}, {age}, {where}"
        )


HELP = """*`/incident` commands*
• `/incident declare <title>` declares an incident now (you lead it); \
`/incident declare` alone opens a form
• `/incident record <title>; started <time>; resolved <time>` records one that is already over \
(add `; detected <time>`, `; mitigated <time>`, `; sev 2`); nobody is paged. \
`/incident record` alone opens the form
• `/incident sev <1-4>` changes severity (SEV1 is the most severe)
• `/incident status <investigating|identified|monitoring|resolved>` moves the lifecycle on
• `/incident lead @person` or `/incident role <lead|comms|scribe> @person` hands over a role
• `/incident note <text>` adds a timeline entry; `/incident note at 14:05 <text>` backdates one
• `/incident sev <1-4> at <time>`, `status <state> at <time>`, `resolve at <time> [<text>]` \
record a change when it happened; `started|detected|mitigated at <time>` set the milestones \
the metrics use
• `/incident timeline [page]` lists the entries with their numbers; `/incident edit <N> <text>`, \
`edit <N> at <time>` or `delete <N> [reason]` corrects one (or *Correct the timeline* on the \
pinned summary)
• `/incident summary <text>`, `/incident impact <text>` fill in the postmortem
• `/incident update <text>` posts a stakeholder update here and in the announcement
• `/incident action <text> [@owner] [due <date>]` files an action item; \
`/incident action <N> done`, `… type <prevent|mitigate|detect|process|other>`, `… link <url>`, \
`… due <date>`
• `/incident resolve [<text>]`, `/incident close`, `/incident reopen`
• `/incident postmortem` generates the postmortem draft now; \
`/incident postmortem template <name>`, `/incident postmortem status <draft|review|final>` and \
`/incident postmortem owner @person`
• `/incident list` shows open incidents; `/incident link` gives you a link to the web pages
• `/incident stats [30d|90d]` counts incidents by severity with median and p90 time to \
acknowledge, mitigate and resolve (any number of days from 1 to 365; 30 by default)
A `<time>` is `14:05`, `2:05pm`, `yesterday 23:10`, `friday 9:30` or `2026-11-27 14:05`, in your \
Slack time zone unless you add one (`UTC`, `+01:00`, `Europe/Berlin` or your own zone's \
abbreviation, such as `PST`).
Pin a message, react with :pushpin: or use the message shortcut *Add to incident timeline* \
to add it to the timeline."""


def declare_modal(
    *,
    declared_by: str,
    private_metadata: dict,
    after_the_fact: bool = False,
    zone: str | None = None,
) -> dict:
    """The declare form, with an optional "Already over?" group of times; ``zone`` is the
    person's, named in the hints.

    ``after_the_fact=True`` is the same form for ``/incident record``: titled "Record a past
    incident", the times first, the impact start and resolution required.
    """
    severities = [
        {"text": {"type": "plain_text", "text": f"{s} — {_SEVERITY_MEANING[s]}"}, "value": s}
        for s in Severity
    ]
    default = next(o for o in severities if o["value"] == "SEV3")
    details = [
        {
            "type": "input",
            "block_id": ids.TITLE_BLOCK,
            "label": {"type": "plain_text", "text": "Title"},
            "element": {
                "type": "plain_text_input",
                "action_id": ids.TITLE_INPUT,
                "max_length": 300,
                "placeholder": {"type": "plain_text", "text": "Checkout API returning 500s"},
            },
        },
        {
            "type": "input",
            "block_id": ids.SEVERITY_BLOCK,
            "label": {"type": "plain_text", "text": "Severity"},
            "element": {
                "type": "static_select",
                "action_id": ids.SEVERITY_INPUT,
                "options": severities,
                "initial_option": default,
            },
        },
        {
            "type": "input",
            "block_id": ids.SUMMARY_BLOCK,
            "optional": True,
            "label": {"type": "plain_text", "text": "Summary"},
            "element": {
                "type": "plain_text_input",
                "action_id": ids.SUMMARY_INPUT,
                "multiline": True,
                "max_length": 3000,
            },
        },
        {
            "type": "input",
            "block_id": ids.LEAD_BLOCK,
            "label": {"type": "plain_text", "text": "Lead"},
            "element": {
                "type": "users_select",
                "action_id": ids.LEAD_INPUT,
                "initial_user": declared_by,
            },
        },
        {
            "type": "input",
            "block_id": ids.PRIVATE_BLOCK,
            "optional": True,
            "label": {"type": "plain_text", "text": "Visibility"},
            "element": {
                "type": "checkboxes",
                "action_id": ids.PRIVATE_INPUT,
                "options": [
                    {
                        "text": {"type": "plain_text", "text": "Private incident"},
                        "description": {
                            "type": "plain_text",
                            "text": "A private channel, not announced publicly",
                        },
                        "value": "private",
                    }
                ],
            },
        },
    ]
    times = _past_times(zone=zone, after_the_fact=after_the_fact)
    metadata = {**private_metadata, "after_the_fact": True} if after_the_fact else private_metadata
    return {
        "type": "modal",
        "callback_id": ids.DECLARE_VIEW,
        "title": {
            "type": "plain_text",
            "text": "Record a past incident" if after_the_fact else "Declare an incident",
        },
        "submit": {"type": "plain_text", "text": "Record" if after_the_fact else "Declare"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(metadata),
        "blocks": [*times, *details] if after_the_fact else [*details, *times],
    }


# The declare form's times: label, hint, and whether recording after the fact needs it.
_PAST_TIMES = {
    "started": ("Impact started", "When users were first affected", True),
    "detected": ("Detected", "When someone or something first noticed", False),
    "mitigated": ("Mitigated", "When the impact ended", False),
    "resolved": ("Resolved", "When it was over; fill this in to record it after the fact", True),
}


def _past_times(*, zone: str | None, after_the_fact: bool) -> list[dict]:
    where = f"{zone} time" if zone else "your Slack time zone"
    if after_the_fact:
        intro = (
            "*When did it happen?* Nobody is paged for an incident recorded after the fact. "
            f"Times such as `14:05`, `yesterday 23:10` or `2026-11-27 2:05pm UTC`; {where} "
            "unless you type a zone."
        )
    else:
        intro = (
            "*Already over? Record it after the fact.* Fill in *Resolved* (and when the impact "
            "started) and nobody is paged. Still going on but began earlier? Fill in only "
            f"*Impact started*. Times such as `14:05` or `yesterday 23:10`; {where} unless you "
            "type a zone."
        )
    blocks: list[dict] = [
        {
            "type": "section",
            "block_id": ids.PAST_INTRO_BLOCK,
            "text": {"type": "mrkdwn", "text": intro},
        },
    ]
    for name, (label, meaning, needed) in _PAST_TIMES.items():
        block_id, action_id = ids.PAST_TIMES[name]
        blocks.append(
            {
                "type": "input",
                "block_id": block_id,
                "optional": not (after_the_fact and needed),
                "label": {"type": "plain_text", "text": label},
                "hint": {
                    "type": "plain_text",
                    "text": f"{meaning}. {where[0].upper()}{where[1:]} unless you type a zone.",
                },
                "element": {
                    "type": "plain_text_input",
                    "action_id": action_id,
                    "max_length": 100,
                    "placeholder": {"type": "plain_text", "text": "e.g. 14:05 or yesterday 23:10"},
                },
            }
        )
    return blocks


_SEVERITY_MEANING = {
    "SEV1": "critical, customers broadly affected",
    "SEV2": "major, significant degradation",
    "SEV3": "minor, limited impact",
    "SEV4": "low, no customer impact yet",
}


def impact_start_prompt(
    incident: Incident, entry: TimelineEntry, *, zone: str
) -> tuple[str, list[dict]]:
    """Ask the channel whether the impact began as early as a backdated entry says."""
    earlier = format_moment(entry.occurred_at, zone)
    current = format_moment(incident.impact_started_at, zone)
    text = (
        f":hourglass: <@{entry.author_id}>'s note at {earlier} is earlier than the impact start "
        f"({current}). Did the impact start at {earlier}? Metrics such as time to detect are "
        "measured from the impact start."
    )
    return text, [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": ids.IMPACT_CONFIRM,
                    "text": {"type": "plain_text", "text": f"Yes, it started at {earlier}"},
                    "value": str(entry.id),
                    "style": "primary",
                },
                {
                    "type": "button",
                    "action_id": ids.IMPACT_KEEP,
                    "text": {"type": "plain_text", "text": "No, keep it"},
                    "value": str(entry.id),
                },
            ],
        },
    ]


# Slack refuses longer channel topics.
MAX_TOPIC = 250


def channel_topic(incident: Incident) -> str:
    """The incident channel's topic, e.g. ``SEV2 | identified | lead: <@U123>``; one recorded
    after the fact says so beside its status."""
    lead = incident.holder("lead")
    status = (
        f"{incident.status}, recorded after the fact"
        if incident.after_the_fact
        else (incident.status)
    )
    topic = f"{incident.severity} | {status} | lead: {f'<@{lead}>' if lead else 'nobody'}"
    return clip(topic, MAX_TOPIC)


def slack_date(moment: datetime, *, zone: str) -> str:
    """A moment Slack shows in each reader's own time zone; ``zone`` is for the fallback."""
    fallback = format_moment(moment, zone)
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def notice_modal(*, title: str, text: str) -> dict:
    """A modal that only tells something: a refusal, or what a form just did."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title[:24]},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": clip(safe_reply(text), 2900)}}
        ],
    }


def declared_from_home(incident: Incident) -> dict:
    """What the declare form shows once submitted from the Home tab, which has no channel for
    a private reply: the Home tab itself is published again once the channel is open."""
    lead = incident.holder("lead")
    if incident.after_the_fact:
        return notice_modal(
            title="Incident recorded",
            text=(
                f"{AFTER_THE_FACT_EMOJI} *{incident_label(incident)}* ({incident.severity}) is "
                f"recorded after the fact: {_clip(incident.title, 300)}\nNobody was paged. Its "
                "channel is being opened and you are added to it; your Home tab lists it, with "
                "a link to the channel, in a moment."
            ),
        )
    return notice_modal(
        title="Incident declared",
        text=(
            f"{SEVERITY_EMOJI[incident.severity]} *{incident_label(incident)}* "
            f"({incident.severity}) is declared: {_clip(incident.title, 300)}\n"
            f"{f'<@{lead}>' if lead else 'Nobody'} leads it. Its channel is being opened and you "
            "are added to it; your Home tab lists it, with a link to the channel, in a moment."
        ),
    )


def timeline_shortcut_modal(
    incident: Incident,
    *,
    posted_at: datetime,
    message_text: str | None,
    zone: str,
    private_metadata: dict,
) -> dict:
    """The "Add to incident timeline" form: the message, quoted, and an optional note."""
    quoted = _clip(message_text or "", 500) or "_(the message's text is fetched when you add it)_"
    quote = "\n".join(f">{line}" for line in quoted.splitlines() or [""])
    return {
        "type": "modal",
        "callback_id": ids.TIMELINE_VIEW,
        "title": {"type": "plain_text", "text": "Add to timeline"},
        "submit": {"type": "plain_text", "text": "Add"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(private_metadata),
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"This message goes on the *{incident_label(incident)}* timeline at "
                    f"the time it was posted, {slack_date(posted_at, zone=zone)}:\n{quote}",
                },
            },
            {
                "type": "input",
                "block_id": ids.TIMELINE_NOTE_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": "Note (optional)"},
                "hint": {
                    "type": "plain_text",
                    "text": 'Why it matters, e.g. "first sign of the problem". Kept with the '
                    "entry.",
                },
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.TIMELINE_NOTE_INPUT,
                    "multiline": True,
                    "max_length": 2000,
                },
            },
        ],
    }


def added_to_timeline(
    incident: Incident, entry: TimelineEntry, *, new: bool, noted: bool, zone: str
) -> str:
    """The private answer to the "Add to incident timeline" form."""
    when = slack_date(entry.occurred_at, zone=zone)
    label = incident_label(incident)
    if new:
        return f":pushpin: Added to the {label} timeline at {when}, when it was posted" + (
            ", with your note." if noted else "."
        )
    if noted:
        return (
            f"That message was already on the {label} timeline ({when}); your note is kept with it."
        )
    return f"That message is already on the {label} timeline ({when}); nothing changed."


def archive_notice(incident: Incident, *, closed_days: int, page_url: str) -> str:
    days = f"{closed_days} day{'s' if closed_days != 1 else ''}"
    return (
        f":file_cabinet: {incident_label(incident)} was closed {days} ago, so I'm archiving this "
        f"channel. Its timeline and postmortem stay on <{page_url}|the incident page>. If the "
        "incident is reopened, someone needs to unarchive this channel: apps cannot."
    )
