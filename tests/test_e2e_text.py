"""Text as Slack sends it: escaped in commands and messages, unescaped in forms; stored as people
typed it, escaped once wherever it goes back into Slack, clipped and split in whole pieces."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from http.cookiejar import CookieJar
from urllib.request import HTTPCookieProcessor, build_opener

from sqlalchemy import select

from incidentbot.domain.models import EntryKind, Incident, TimelineEntry
from incidentbot.emulator import BOT_USER_ID
from incidentbot.entrypoints.local import LocalStack
from incidentbot.slack import ids
from tests.e2e import declare, ephemeral_texts, incident_channel

TITLE = "Payments & checkout <EU>"
SENT = "Payments &amp; checkout &lt;EU&gt;"  # what Slack shows as the title, in mrkdwn


def titles(stack: LocalStack) -> list[str]:
    with stack.runtime.uow() as uow:
        return list(uow.session.scalars(select(Incident.title).order_by(Incident.number)))


def notes(stack: LocalStack) -> list[TimelineEntry]:
    with stack.runtime.uow() as uow:
        stmt = select(TimelineEntry).where(TimelineEntry.kind == EntryKind.NOTE)
        return list(uow.session.scalars(stmt.order_by(TimelineEntry.id)))


def link(stack: LocalStack, user: str, channel: str) -> str:
    stack.driver.command(user, channel, "link")
    match = re.search(r"<(http[^|>]+)\|", ephemeral_texts(stack, user, channel)[-1])
    assert match, "no link in the reply"
    return match.group(1).replace("&amp;", "&")


def test_the_driver_sends_command_text_escaped_as_slack_does(stack: LocalStack):
    fields = stack.driver.command_fields(
        "alice", "#general", f"declare {TITLE} for {stack.driver.mention('bob')}"
    )
    assert fields["text"] == f"declare {SENT} for <@UBOB|bob>"


def test_a_title_with_ampersand_and_angle_brackets_reads_as_typed_from_the_command_and_the_form(
    stack: LocalStack,
):
    stack.driver.command("alice", "#general", f"declare {TITLE}")
    assert SENT in ephemeral_texts(stack, "alice", "#general")[0]
    stack.settle()
    stack.driver.command("alice", "#general", "declare")
    (form,) = stack.workspace.open_views("alice")
    stack.driver.submit_view("alice", form.id, {ids.TITLE_INPUT: TITLE})
    stack.settle()

    assert titles(stack) == [TITLE, TITLE]  # as typed, however it came
    announcements = [m.text for m in stack.workspace.messages("#incidents")]
    for number in (1, 2):
        channel = incident_channel(stack, number)
        assert channel.name == f"inc-{number}-payments-checkout-eu"
        summary = stack.workspace.messages(channel.id)[0]
        header = summary.blocks[0]
        assert header["type"] == "header"
        assert header["text"]["text"] == f"INC-{number}: {TITLE}"
        assert SENT in summary.text and "&amp;amp;" not in summary.text
        (announced,) = [text for text in announcements if f"INC-{number}*" in text]
        assert SENT in announced and "&amp;amp;" not in announced
    first, second = (re.sub(r"INC-\d|<#C\w+>", "", text) for text in announcements[-2:])
    assert first == second
    assert "&amp;amp;" not in json.dumps([e.text for e in stack.workspace.ephemerals("alice")])


def test_typed_entities_reach_the_pages_the_postmortem_and_the_home_tab_escaped_once(
    stack: LocalStack,
):
    channel = declare(stack, TITLE)
    stack.driver.command("alice", channel.id, "note Rolled back A & B <fast>")
    stack.driver.command("alice", channel.id, "summary Cards & wallets <all of EU>")
    stack.settle()
    (note,) = notes(stack)
    assert note.text == "Rolled back A & B <fast>"
    echoes = [m.text for m in stack.workspace.messages(channel.id) if "Rolled back" in m.text]
    assert echoes == [":memo: Note from <@UALICE>: Rolled back A &amp; B &lt;fast&gt;"]
    summary = json.dumps(stack.workspace.messages(channel.id)[0].blocks)
    assert "Cards &amp; wallets &lt;all of EU&gt;" in summary and "&amp;amp;" not in summary

    stack.driver.open_home("alice")
    stack.settle()
    home = stack.workspace.home_view("alice")
    assert home is not None
    shown = json.dumps(home.view["blocks"])
    assert SENT in shown and "&amp;amp;" not in shown

    stack.driver.command("alice", channel.id, "close")
    stack.settle()
    opener = build_opener(HTTPCookieProcessor(CookieJar()))
    with opener.open(link(stack, "alice", channel.id)) as page:
        html = page.read().decode("utf-8")
    assert "Payments &amp; checkout &lt;EU&gt;" in html  # Jinja's escaping, once
    assert "Rolled back A &amp; B &lt;fast&gt;" in html
    assert "&amp;amp;" not in html and "&amp;lt;" not in html
    with opener.open(f"{stack.base_url}/incidents/1/postmortem.md") as download:
        markdown = download.read().decode("utf-8")
    assert markdown.splitlines()[0].startswith("# ") and "Payments & checkout" in markdown
    assert "&amp;" not in markdown and "&lt;" not in markdown


def test_a_pinned_message_with_ampersands_is_kept_as_written(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    ts = stack.driver.post_message("alice", channel.id, "p99 > 2s & rising <EU>")
    assert stack.workspace.message(channel.id, ts).text == "p99 &gt; 2s &amp; rising &lt;EU&gt;"
    stack.driver.pin("alice", channel.id, ts)
    stack.driver.react("alice", channel.id, stack.driver.post_message("alice", channel.id, "a&b"))
    stack.settle()
    with stack.runtime.uow() as uow:
        stmt = select(TimelineEntry.text).where(TimelineEntry.kind == EntryKind.PINNED)
        assert sorted(uow.session.scalars(stmt)) == ["a&b", "p99 > 2s & rising <EU>"]


def test_many_long_notes_at_once_are_echoed_in_messages_of_at_most_4000_characters_in_order(
    stack: LocalStack,
):
    channel = declare(stack, "Search is slow")
    stack.settle()
    stack.runtime.jobs.stop()  # the notes pile up as they would behind a slow Slack
    for i in range(10):
        # Step 04 is 3,990 characters as typed and longer than a message once escaped.
        words = "A & B <x> " * (398 if i == 4 else 150)
        stack.driver.command("alice", channel.id, f"note step {i:02d} {words}")
    stack.runtime.jobs.run_pending(ahead=timedelta(seconds=1))
    echoes = [m.text for m in stack.workspace.messages(channel.id) if m.user == BOT_USER_ID]
    echoes = [text for text in echoes if "Note from" in text]
    assert len(echoes) > 1
    assert all(len(text) <= 4000 for text in echoes)
    entries = [entry for text in echoes for entry in re.split(r"\n(?=:memo: )", text)]
    assert [entry.split(" ")[5] for entry in entries] == [f"{i:02d}" for i in range(10)]
    for n, entry in enumerate(entries):
        assert "A &amp; B &lt;x&gt;" in entry and "&amp;amp;" not in entry
        if n == 4:  # cut between whole entities, pointing to where all of it is
            cut, marker = entry.split("…\n")
            assert not re.search(r"&(?!amp;|lt;|gt;)", cut), cut[-20:]
            assert len(cut) > 3000 and cut.count("<") == cut.count(">")
            assert "|the incident page> has all of it" in marker
        else:
            assert entry.endswith("&lt;x&gt;")


def test_each_part_of_a_split_echo_is_posted_once_when_the_job_is_retried(stack: LocalStack):
    channel = declare(stack, "Search is slow")
    stack.settle()
    stack.runtime.jobs.stop()
    for i in range(6):
        stack.driver.command("alice", channel.id, f"note step {i} " + "words " * 300)
    # The first part goes out; Slack fails on the second, so the job runs again.
    stack.workspace.inject_fault("chat.postMessage", delay=0.01)
    stack.workspace.inject_fault("chat.postMessage", status=500)
    stack.workspace.clear_calls()
    stack.runtime.jobs.run_pending(ahead=timedelta(seconds=1))
    stack.runtime.jobs.start()
    stack.settle()
    posts = [call.status for call in stack.workspace.calls("chat.postMessage")]
    assert posts == [200, 500, 200, 200], posts
    echoes = [
        m.text
        for m in stack.workspace.messages(channel.id)
        if m.user == BOT_USER_ID and "Note from" in m.text
    ]
    lines = [line for text in echoes for line in text.splitlines()]
    assert [line.split(" ")[5] for line in lines] == [str(i) for i in range(6)]
    assert len(echoes) == len(set(echoes)) == 3


def test_list_shows_the_incidents_that_fit_and_links_the_web_list_for_the_rest(
    stack: LocalStack,
):
    for number in range(1, 26):
        stack.driver.command("alice", "#general", f"declare Incident {number} " + "& <x> " * 25)
    stack.settle()
    stack.driver.command("bob", "#general", "list")
    reply = ephemeral_texts(stack, "bob", "#general")[-1]
    assert len(reply) <= 3000
    shown = [line for line in reply.splitlines() if line.startswith("• ")]
    assert shown and all(line.endswith(">") and "&amp;amp;" not in line for line in shown)
    more = re.fullmatch(r"…and (\d+) more: <(http[^|>]+)\|see them all>", reply.splitlines()[-1])
    assert more, reply.splitlines()[-1]
    assert len(shown) + int(more.group(1)) == 25
    opener = build_opener(HTTPCookieProcessor(CookieJar()))
    with opener.open(more.group(2).replace("&amp;", "&")) as page:
        html = page.read().decode("utf-8")
    assert all(f"Incident {number} " in html for number in range(1, 26))
