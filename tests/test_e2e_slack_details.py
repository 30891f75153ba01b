"""The small ways real Slack differs (issue 14, item 7): whom the bot invited is not briefed as
a latecomer, and a pinned message with only files or blocks keeps what it showed."""

from __future__ import annotations

from incidentbot.domain.models import EntryKind
from incidentbot.entrypoints.local import LocalStack
from tests.e2e import declare
from tests.test_e2e_timeline import entries


def briefings(stack: LocalStack, user_id: str, channel_id: str) -> list[str]:
    return [
        str(e.blocks)
        for e in stack.workspace.ephemerals(user_id, channel_id)
        if "Welcome to the incident" in str(e.blocks)
    ]


def test_people_the_bot_invites_are_not_briefed_but_latecomers_are(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.driver.command("alice", channel.id, f"lead {stack.driver.mention('bob')}")
    stack.settle()
    # Slack tells the app of the joins its own invites made, naming it as the inviter.
    joins = stack.driver.deliver_app_changes()
    assert joins, "the bot's invites made member_joined_channel events"
    stack.driver.join("erik", channel.id, inviter="alice")  # a colleague brings erik in
    stack.driver.join("chandra", channel.id)  # chandra arrives on her own
    stack.settle()
    assert briefings(stack, "UALICE", channel.id) == []  # the declarer, invited by the bot
    assert briefings(stack, "UBOB", channel.id) == []  # the new lead, invited by the bot
    assert len(briefings(stack, "UERIK", channel.id)) == 1
    assert len(briefings(stack, "UCHANDRA", channel.id)) == 1


def test_a_pinned_message_with_only_a_file_or_blocks_keeps_what_it_showed(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    ws = stack.workspace
    ws.join(channel.id, "UERIK")
    shot = ws.create_file(
        name="grafana-error-rate.png",
        length=2048,
        user="UERIK",
        filetype="png",
        mimetype="image/png",
    )
    pasted = ws.post_message(channel.id, "UERIK", "", files=[shot.id])
    stack.driver.pin("erik", channel.id, pasted.ts)
    workflow = ws.post_message(
        channel.id,
        "UERIK",
        "",
        blocks=[
            {"type": "header", "text": {"type": "plain_text", "text": "Failover drill"}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "Region *eu-west-1* drained"},
                "fields": [{"type": "mrkdwn", "text": "Owner: <@UBOB>"}],
            },
        ],
    )
    stack.driver.pin("erik", channel.id, workflow.ts)
    stack.settle()
    pinned = [entry.text for entry in entries(stack, EntryKind.PINNED)]
    assert "(file: grafana-error-rate.png)" in pinned
    assert "Failover drill\nRegion *eu-west-1* drained Owner: <@UBOB>" in pinned
    assert not any("without text" in text for text in pinned)
