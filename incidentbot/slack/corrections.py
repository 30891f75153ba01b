"""The pinned summary's "Correct the timeline" form and what it tells the person afterwards.

Pure builders, like ``blocks``: the listeners read the entries and the person's zone, these turn
them into Block Kit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from incidentbot.domain.models import Incident, TimelineEntry
from incidentbot.domain.text import clip, mention_to_plain, neutralize_mentions, safe_for_slack
from incidentbot.domain.timeparse import Moment, describe_moment, get_zone
from incidentbot.slack import ids
from incidentbot.slack.blocks import incident_label, notice_modal

# Slack's limits: an option's text, and the options of one select.
MAX_OPTION_TEXT = 75
MAX_OPTIONS = 100
TITLE = "Correct the timeline"
TIME_HINT = (
    "As for “note at”: 14:05, 2:05pm, yesterday 23:10 or 2026-11-27 14:05, in your time zone "
    "({zone}) unless you type one (UTC, +01:00, Europe/Berlin)."
)


def entry_option(entry: TimelineEntry, *, zone: str, now: datetime) -> dict:
    """``#7 14:05 note: Restarted search…``: the time in ``zone``, with the day when it was
    not today; what people typed shown as plain words, cut to Slack's 75 characters."""
    local = entry.occurred_at.astimezone(get_zone(zone))
    today = now.astimezone(get_zone(zone)).date()
    when = f"{local:%H:%M}" if local.date() == today else f"{local:%b} {local.day} {local:%H:%M}"
    # Plain text never pings, but raw markup (<@U1>, <!here>) helps nobody reading a menu.
    text = neutralize_mentions(mention_to_plain(" ".join(entry.text.split()), {}))
    label = clip(f"#{entry.number} {when} {entry.kind}: {text}", MAX_OPTION_TEXT)
    return {"text": {"type": "plain_text", "text": label}, "value": str(entry.number)}


def correction_modal(
    incident: Incident,
    entries: Sequence[TimelineEntry],
    *,
    zone: str,
    now: datetime,
    private_metadata: dict,
) -> dict:
    """The form: which entry (latest first), its new text or time, or delete it with a
    reason. Without an entry to correct, a notice saying what can be corrected."""
    label = incident_label(incident)
    if not entries:
        return notice_modal(
            title=TITLE,
            text=f"Nothing on {label}'s timeline can be corrected yet. Notes, updates, pinned "
            "messages and recorded changes of severity, status and milestones can.",
        )
    shown = list(entries)[:MAX_OPTIONS]
    intro = (
        f"Choose an entry of *{label}*'s timeline (latest first, times in {zone}), then give it "
        "new text or a new time, or delete it. Every correction is kept in the entry's history."
    )
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": intro}}]
    blocks.append(
        {
            "type": "input",
            "block_id": ids.CORRECTION_ENTRY_BLOCK,
            "label": {"type": "plain_text", "text": "Entry"},
            "element": {
                "type": "static_select",
                "action_id": ids.CORRECTION_ENTRY_INPUT,
                "placeholder": {"type": "plain_text", "text": "Choose an entry"},
                "options": [entry_option(entry, zone=zone, now=now) for entry in shown],
            },
        }
    )
    if len(shown) == MAX_OPTIONS:
        blocks.append(
            _context(
                f"Only the latest {MAX_OPTIONS} entries are listed: `/incident timeline` shows "
                "the others' numbers, and `/incident edit <N> …` corrects them."
            )
        )
    blocks += [
        _text_input(
            ids.CORRECTION_TEXT_BLOCK,
            ids.CORRECTION_TEXT_INPUT,
            label="New text",
            hint="For notes, updates and pinned messages. Leave empty to keep the text.",
            multiline=True,
            max_length=3000,
        ),
        _text_input(
            ids.CORRECTION_TIME_BLOCK,
            ids.CORRECTION_TIME_INPUT,
            label="New time",
            hint=TIME_HINT.format(zone=zone),
            max_length=100,
            placeholder="e.g. 14:05 or yesterday 23:10",
        ),
        {
            "type": "input",
            "block_id": ids.CORRECTION_DELETE_BLOCK,
            "optional": True,
            "label": {"type": "plain_text", "text": "Delete"},
            "element": {
                "type": "checkboxes",
                "action_id": ids.CORRECTION_DELETE_INPUT,
                "options": [
                    {
                        "text": {"type": "plain_text", "text": "Delete this entry"},
                        "description": {
                            "type": "plain_text",
                            "text": "It leaves the postmortem and the metrics; its history stays",
                        },
                        "value": "delete",
                    }
                ],
            },
        },
        _text_input(
            ids.CORRECTION_REASON_BLOCK,
            ids.CORRECTION_REASON_INPUT,
            label="Reason",
            hint="Why it is deleted; kept with the entry's history.",
            max_length=500,
        ),
    ]
    return {
        "type": "modal",
        "callback_id": ids.CORRECTION_VIEW,
        "title": {"type": "plain_text", "text": TITLE},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(private_metadata),
        "blocks": blocks,
    }


def corrected(
    incident: Incident,
    entry: TimelineEntry,
    *,
    text_changed: bool = False,
    moved_to: Moment | None = None,
    reason: str | None = None,
    zone: str,
    now: datetime,
) -> str:
    """The private answer once the form's correction is made; a time typed without a day and
    taken as yesterday's says so."""
    label = f"{incident_label(incident)} entry #{entry.number}"
    if entry.deleted_at is not None:
        why = f" ({safe_for_slack(clip(reason, 300))})" if reason else ""
        return (
            f":wastebasket: Deleted {label}{why}. It has left the timeline, the postmortem and "
            "the metrics; it and its history stay on the incident's page."
        )
    changes = []
    if text_changed:
        changes.append(f"it now reads “{safe_for_slack(clip(entry.text, 300))}”")
    if moved_to is not None:
        changes.append(f"it now sits at {describe_moment(moved_to, zone=zone, now=now)}")
    return (
        f":pencil2: Corrected {label}: {' and '.join(changes)}. What it was before is kept in "
        "its history."
    )


def _text_input(
    block_id: str,
    action_id: str,
    *,
    label: str,
    hint: str,
    max_length: int,
    multiline: bool = False,
    placeholder: str | None = None,
) -> dict:
    element: dict = {"type": "plain_text_input", "action_id": action_id, "max_length": max_length}
    if multiline:
        element["multiline"] = True
    if placeholder:
        element["placeholder"] = {"type": "plain_text", "text": placeholder}
    return {
        "type": "input",
        "block_id": block_id,
        "optional": True,
        "label": {"type": "plain_text", "text": label},
        "hint": {"type": "plain_text", "text": hint},
        "element": element,
    }


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}
