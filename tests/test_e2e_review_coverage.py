"""The postmortem's Review notes read everything people wrote, wherever they wrote it (issue 15,
item 3): a whole incident driven through the bot's HTTP endpoint with signed requests against
the local Slack workspace, and the postmortem file the channel got read as a person reads it."""

from __future__ import annotations

import re

from incidentbot.entrypoints.local import LocalStack
from tests.e2e import declare

# "- "<phrase>" in <where>: <why> …", one line per flag (templates/_macros.md.j2).
FLAG_LINE = re.compile(r'^- "(?P<phrase>[^"]+)" in (?P<where>.+?): ', re.MULTILINE)


def review_notes(stack: LocalStack, channel_id: str) -> str:
    """The Review notes section of the one postmortem uploaded to the channel."""
    (upload,) = [
        f for f in stack.workspace.files_in(channel_id) if f.name.endswith("-postmortem.md")
    ]
    markdown = (upload.content or b"").decode()
    assert upload.name == "INC-1-postmortem.md"
    return markdown.split("\n## Review notes\n", 1)[1].split("\n## ", 1)[0]


def test_review_notes_name_the_action_item_the_captured_message_and_the_resolution(
    stack: LocalStack,
):
    channel = declare(stack, "Checkout API returning 500s")
    stack.driver.join("bob", channel.id)
    run = stack.driver.command
    assert run("alice", channel.id, "note Cache hit rate fell to 40% at the edge").status == 200
    assert run("alice", channel.id, "action Stop careless deploys on Fridays").status == 200
    ts = stack.driver.post_message("bob", channel.id, "the root cause was human error")
    assert stack.driver.pin("alice", channel.id, ts).response.status == 200
    assert run("bob", channel.id, "status identified Bob broke the config push").status == 200
    assert run("alice", channel.id, "resolve Bob should have rolled back sooner").status == 200
    assert run("alice", channel.id, "close").status == 200
    stack.settle()

    notes = review_notes(stack, channel.id)
    flagged = {(m["phrase"], m["where"]) for m in FLAG_LINE.finditer(notes)}
    wheres = {where for _, where in flagged}
    assert ("careless", "action item 1") in flagged, notes
    assert ("human error", "captured message from bob") in flagged, notes
    (resolution,) = [where for phrase, where in flagged if phrase == "Bob should have"]
    assert re.fullmatch(r"resolution by alice at 2\d{3}-\d\d-\d\d \d\d:\d\d P[SD]T", resolution)
    (status,) = [where for phrase, where in flagged if phrase == "Bob broke"]
    assert status.startswith("status change to identified by bob at ")
    # The clean note is read and not flagged; nothing of the bot's own sentences is quoted.
    assert not [where for where in wheres if where.startswith("note by")], notes
    assert "Cache hit rate" not in notes and "Status changed" not in notes
    assert f"flagged {len(flagged)} phrases" in notes
