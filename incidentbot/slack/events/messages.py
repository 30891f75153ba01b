"""A captured message edited or deleted in Slack: its timeline entry follows.

The app subscribes to ``message.channels`` and ``message.groups`` for this alone, and with
them Slack sends every message event of every channel the bot is in: new messages, the bot's
own, joins, thread broadcasts. All of those are acknowledged without touching the database.

Slack reports a deletion in two ways. A message without replies goes with ``message_deleted``;
one that heads a thread (every captured message does: the bot confirms in its thread) becomes
a tombstone, reported as a ``message_changed`` whose message is the tombstone.
"""

from __future__ import annotations

from slack_bolt import App, BoltContext

from incidentbot import services
from incidentbot.slack.deps import Deps
from incidentbot.slack.message_text import message_text

EDITED = "message_changed"
DELETED = "message_deleted"
TOMBSTONE = "tombstone"


def register(app: App, deps: Deps) -> None:
    @app.event("message")
    def message_event(body: dict, event: dict, context: BoltContext) -> None:
        follow_slack(
            deps,
            event_id=body.get("event_id"),
            event=event,
            bot_user_id=context.bot_user_id,
            bot_id=context.bot_id,
        )


def follow_slack(
    deps: Deps,
    *,
    event_id: str | None,
    event: dict,
    bot_user_id: str | None,
    bot_id: str | None,
) -> None:
    """Apply an edit or a deletion to the captured message's entry; ignore any other event.

    The event is claimed in the transaction that changes the entry, so a redelivery (even one
    arriving after a later edit) changes nothing, and an edit of a message nobody captured
    (most of them) only reads.
    """
    subtype, channel_id = event.get("subtype"), event.get("channel")
    if subtype not in (EDITED, DELETED) or not channel_id:
        return
    message = event.get("message") or {}
    previous = event.get("previous_message") or {}
    if any(_by(m, bot_user_id, bot_id) for m in (message, previous)):
        return  # the bot edits its own summary message on every change: cost it nothing
    deleted = subtype == DELETED or message.get("subtype") == TOMBSTONE
    ts = event.get("deleted_ts") if subtype == DELETED else message.get("ts")
    if not ts:
        return
    with deps.uow_factory() as uow:
        if deleted:
            entry = services.follow_slack_delete(uow=uow, channel_id=channel_id, ts=ts)
        else:
            entry = services.follow_slack_edit(
                uow=uow,
                channel_id=channel_id,
                ts=ts,
                text=message_text(message),
                edited_by=(message.get("edited") or {}).get("user") or message.get("user"),
                edited_ts=(message.get("edited") or {}).get("ts") or event.get("ts"),
            )
        if entry is None or (event_id and not services.claim_event(uow=uow, event_id=event_id)):
            return  # nothing to do, or a redelivery: what was changed goes uncommitted
        uow.commit()


def _by(message: dict, bot_user_id: str | None, bot_id: str | None) -> bool:
    return bool(
        (bot_user_id and message.get("user") == bot_user_id)
        or (bot_id and message.get("bot_id") == bot_id)
    )
