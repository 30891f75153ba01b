"""The "Correct the timeline" form: one entry's new text or time, or its deletion.

A refusal comes back beside the field it is about and changes nothing; a correction closes the
form and the person is told privately, in the channel, what changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt import Ack, App

from incidentbot import services
from incidentbot.domain.errors import IncidentError
from incidentbot.domain.policy import NotAllowed
from incidentbot.domain.text import printable
from incidentbot.infra import jobs
from incidentbot.slack import blocks, corrections, ids
from incidentbot.slack.deps import Deps
from incidentbot.slack.payloads import private_metadata
from incidentbot.slack.views.times import read_time


@dataclass(frozen=True)
class Correction:
    """What the form says: which entry, and what to do to it (None: left empty)."""

    number: int | None
    text: str | None
    time: str | None
    delete: bool
    reason: str | None


def read_correction(view: dict) -> Correction:
    """The form's values as plain Python, from Slack's ``view.state.values``."""
    values = view.get("state", {}).get("values", {})

    def element(block: str, action: str) -> dict:
        return values.get(block, {}).get(action, {}) or {}

    def typed(block: str, action: str) -> str | None:
        value = element(block, action).get("value")
        return (printable(value).strip() or None) if isinstance(value, str) else None

    chosen = (
        element(ids.CORRECTION_ENTRY_BLOCK, ids.CORRECTION_ENTRY_INPUT).get("selected_option") or {}
    ).get("value")
    checked = (
        element(ids.CORRECTION_DELETE_BLOCK, ids.CORRECTION_DELETE_INPUT).get("selected_options")
        or []
    )
    return Correction(
        number=int(chosen) if isinstance(chosen, str) and chosen.isdigit() else None,
        text=typed(ids.CORRECTION_TEXT_BLOCK, ids.CORRECTION_TEXT_INPUT),
        time=typed(ids.CORRECTION_TIME_BLOCK, ids.CORRECTION_TIME_INPUT),
        delete=any(option.get("value") == "delete" for option in checked),
        reason=typed(ids.CORRECTION_REASON_BLOCK, ids.CORRECTION_REASON_INPUT),
    )


def problems(correction: Correction) -> dict[str, str]:
    """What the form itself says wrong, by block: nothing chosen, or changes that clash."""
    if correction.number is None:
        return {ids.CORRECTION_ENTRY_BLOCK: "Choose the entry to correct."}
    if correction.delete and correction.text:
        return {ids.CORRECTION_TEXT_BLOCK: "Delete the entry or give it new text, not both."}
    if correction.delete and correction.time:
        return {ids.CORRECTION_TIME_BLOCK: "Delete the entry or move it, not both."}
    if correction.reason and not correction.delete:
        return {
            ids.CORRECTION_REASON_BLOCK: "A reason is kept when an entry is deleted: tick "
            "“Delete this entry”, or leave the reason empty."
        }
    if not (correction.delete or correction.text or correction.time):
        return {
            ids.CORRECTION_TEXT_BLOCK: "Say what to change: new text, a new time, or tick "
            "“Delete this entry”."
        }
    return {}


def register(app: App, deps: Deps) -> None:
    @app.view(ids.CORRECTION_VIEW)
    def correction_submitted(ack: Ack, body: dict, view: dict) -> None:
        user_id = (body.get("user") or {}).get("id")
        target = private_metadata(view)
        if not user_id or not view.get("id") or target is None:
            ack()
            return
        channel_id = str(target.get("channel"))
        correction = read_correction(view)
        refused = problems(correction)
        if refused:
            ack(response_action="errors", errors=refused)
            return
        assert correction.number is not None
        field = ids.CORRECTION_ENTRY_BLOCK
        try:
            zone = deps.directory.zone_of(user_id)
            field = ids.CORRECTION_TIME_BLOCK
            moment = (
                read_time(correction.time, now=deps.clock(), zone=zone) if correction.time else None
            )
        except IncidentError as error:
            ack(response_action="errors", errors={field: blocks.field_error(error.message)})
            return
        with deps.uow_factory() as uow:
            # A double click, or Slack resending the submission, corrects once.
            if not services.claim_event(uow=uow, event_id=f"view:{view['id']}"):
                ack()
                return
            field = ids.CORRECTION_ENTRY_BLOCK
            try:
                incident = services.incident_in_channel(uow=uow, channel_id=channel_id)
                entry = services.entry_by_number(
                    uow=uow, incident=incident, number=correction.number
                )
                if correction.delete:
                    field = ids.CORRECTION_DELETE_BLOCK
                    entry = services.delete_entry(
                        uow=uow,
                        incident=incident,
                        deleted_by=user_id,
                        reason=correction.reason,
                        zone=zone,
                        number=correction.number,
                        source="form",
                        policy=deps.settings.policy,
                    )
                if correction.text:
                    field = ids.CORRECTION_TEXT_BLOCK
                    entry = services.edit_entry_text(
                        uow=uow,
                        incident=incident,
                        text=correction.text,
                        edited_by=user_id,
                        number=correction.number,
                        source="form",
                        policy=deps.settings.policy,
                    )
                if moment is not None:
                    field = ids.CORRECTION_TIME_BLOCK
                    entry = services.edit_entry_time(
                        uow=uow,
                        incident=incident,
                        moment=moment.at,
                        edited_by=user_id,
                        zone=zone,
                        number=correction.number,
                        source="form",
                        policy=deps.settings.policy,
                    )
            except IncidentError as error:
                # Who may correct is about the entry chosen, whichever change was asked for.
                where = ids.CORRECTION_ENTRY_BLOCK if isinstance(error, NotAllowed) else field
                ack(response_action="errors", errors={where: blocks.field_error(error.message)})
                return
            uow.enqueue(
                jobs.TELL_PRIVATELY,
                incident=incident,
                channel_id=channel_id,
                user_id=user_id,
                text=corrections.corrected(
                    incident,
                    entry,
                    text_changed=bool(correction.text),
                    moved_to=moment,
                    reason=correction.reason,
                    zone=zone,
                    now=uow.now(),
                ),
            )
            uow.commit()
        ack()
