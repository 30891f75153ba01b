"""``incidentbot playground`` without a browser: rendering, the JSON API, saving and restarting.

The API tests go through the playground's Flask app; every action there reaches the bot as a
signed HTTP request on its real port (the driver), and what they check is what the workspace
shows people afterwards.
"""

from __future__ import annotations

import contextlib
import pickle
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest

from incidentbot.domain.errors import IncidentError
from incidentbot.emulator import Call, Workspace
from incidentbot.emulator.driver import as_slack_sends
from incidentbot.playground import Playground, PlaygroundError
from incidentbot.playground.app import typed_text
from incidentbot.playground.render import (
    Choices,
    Names,
    markdown_to_html,
    mrkdwn_to_html,
    render_blocks,
)
from incidentbot.slack import ids
from tests.e2e import wait_for

NAMES = Names(users={"UBOB": "bob"}, channels={"C1": "inc-1-db"})


# ---------------------------------------------------------------------------- rendering


def test_mrkdwn_is_formatted_and_never_lets_text_inject_html():
    html = mrkdwn_to_html(
        "*bold* _it_ ~gone~ `a&lt;b&gt;` &lt;script&gt;alert(1)&lt;/script&gt; "
        "<@UBOB> <#C1> <!here> <https://example.com/a?b=1&amp;c=2|the page> :pushpin: :nope:",
        NAMES,
    )
    assert "<b>bold</b>" in html and "<i>it</i>" in html and "<s>gone</s>" in html
    assert "<code>a&lt;b&gt;</code>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html
    assert '<span class="mention" data-user="UBOB">@bob</span>' in html
    assert 'data-channel="C1">#inc-1-db</a>' in html
    assert '<span class="mention">@here</span>' in html
    assert 'href="https://example.com/a?b=1&amp;c=2"' in html and ">the page</a>" in html
    assert 'title=":pushpin:">📌</span>' in html and ":nope:" in html


@pytest.mark.parametrize(
    "text",
    [
        "<javascript:alert(1)|click>",
        '<https://x.example/"onmouseover="alert(1)|x>',
        "\ue0000\ue000 forged placeholder",
        "```<img src=x onerror=alert(1)>```",
        "*<img src=x onerror=alert(1)>*",
    ],
)
def test_hostile_mrkdwn_renders_as_text(text):
    html = str(mrkdwn_to_html(text, NAMES))
    assert "javascript:" not in html.replace("javascript:alert(1)", "")  # shown, not linked
    assert "<img" not in html and 'href="javascript' not in html
    assert '"onmouseover' not in html and "\ue000" not in html


def test_pre_and_code_keep_their_characters_and_read_mentions():
    html = str(mrkdwn_to_html("```line *1*\n<@UBOB> & co```", NAMES))
    assert html == "<pre>line *1*\n@bob &amp; co</pre>"


def test_block_kit_message_renders_header_fields_context_and_buttons():
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "INC-1 <b>"}},
        {
            "type": "section",
            "block_id": "facts",
            "fields": [{"type": "mrkdwn", "text": "*Severity*\nSEV2"}],
            "accessory": {
                "type": "button",
                "action_id": "snooze",
                "value": "30",
                "text": {"type": "plain_text", "text": "Snooze"},
            },
        },
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "`/incident help`"}]},
        {
            "type": "actions",
            "block_id": "ask",
            "elements": [
                {
                    "type": "button",
                    "style": "primary",
                    "action_id": "yes",
                    "text": {"type": "plain_text", "text": "Yes"},
                    "confirm": {"title": {"type": "plain_text", "text": "Sure?"}},
                }
            ],
        },
        {"type": "video", "title": {"type": "plain_text", "text": "x"}},
    ]
    html = str(render_blocks(blocks, NAMES))
    assert '<div class="bk-header">INC-1 &lt;b&gt;</div>' in html
    assert '<div class="bk-field"><b>Severity</b><br>SEV2</div>' in html
    assert 'data-action-id="snooze" data-block-id="facts" data-element="button"' in html
    assert 'data-value="30"' in html
    assert '<hr class="bk-divider">' in html
    assert '<div class="bk-context"><span><code>/incident help</code></span></div>' in html
    assert 'class="bk-button primary"' in html and "data-confirm=" in html
    assert "[video block not shown in the playground]" in html


def test_modal_inputs_carry_their_kind_initial_values_and_errors():
    blocks = [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {
                "type": "plain_text_input",
                "action_id": "title_input",
                "initial_value": '"quoted" <x>',
                "max_length": 300,
            },
        },
        {
            "type": "input",
            "block_id": "sev",
            "label": {"type": "plain_text", "text": "Severity"},
            "element": {
                "type": "static_select",
                "action_id": "sev_select",
                "options": [
                    {"text": {"type": "plain_text", "text": "SEV1"}, "value": "SEV1"},
                    {"text": {"type": "plain_text", "text": "SEV2"}, "value": "SEV2"},
                ],
                "initial_option": {
                    "text": {"type": "plain_text", "text": "SEV2"},
                    "value": "SEV2",
                },
            },
        },
        {
            "type": "input",
            "block_id": "lead",
            "label": {"type": "plain_text", "text": "Lead"},
            "element": {"type": "users_select", "action_id": "lead", "initial_user": "UBOB"},
        },
        {
            "type": "input",
            "block_id": "private",
            "optional": True,
            "label": {"type": "plain_text", "text": "Visibility"},
            "element": {
                "type": "checkboxes",
                "action_id": "private",
                "options": [{"text": {"type": "plain_text", "text": "Private"}, "value": "p"}],
            },
        },
        {
            "type": "input",
            "block_id": "when",
            "label": {"type": "plain_text", "text": "When"},
            "element": {"type": "datepicker", "action_id": "day", "initial_date": "2026-11-27"},
        },
    ]
    choices = Choices(users=[("UALICE", "alice"), ("UBOB", "bob")])
    html = str(render_blocks(blocks, NAMES, choices, errors={"title": "Too <long>"}))
    assert 'value="&#34;quoted&#34; &lt;x&gt;"' in html and 'maxlength="300"' in html
    assert 'data-input="plain_text_input" data-action-id="title_input"' in html
    assert '<option value="SEV2" selected>SEV2</option>' in html
    assert '<option value="UBOB" selected>bob</option>' in html
    assert 'type="checkbox" name="private.private" value="p"' in html
    assert 'type="date"' in html and 'value="2026-11-27"' in html
    assert '<div class="bk-error" role="alert">Too &lt;long&gt;</div>' in html
    assert html.count("data-required") == 4  # every input but the optional one


def test_markdown_files_render_headings_tables_lists_and_safe_links():
    html = str(
        markdown_to_html(
            "# INC-1: <script>x</script>\n\n_Blameless_, **bold** and `code`\n\n"
            "- **Lead:** alice\n  - nested\n- [page](https://e.example/1?a=1&b=2)\n\n"
            "| # | Item \\| more |\n| --- | --- |\n| 1 | [x](javascript:alert(1)) |\n\n"
            "---\n> quoted\n"
        )
    ).replace("\n", "")
    assert "<h1>INC-1: &lt;script&gt;x&lt;/script&gt;</h1>" in html
    assert "<em>Blameless</em>, <strong>bold</strong> and <code>code</code>" in html
    assert "<li><strong>Lead:</strong> alice<ul><li>nested</li></ul></li>" in html
    assert '<a href="https://e.example/1?a=1&amp;b=2"' in html
    assert "<th>Item | more</th>" in html and "<td>x</td>" in html  # shown, not linked
    assert "javascript" not in html
    assert "<hr>" in html and "<blockquote><p>quoted</p></blockquote>" in html


def test_markdown_files_show_raw_html_images_and_unsafe_links_as_text():
    html = str(
        markdown_to_html(
            "A <b>bold</b> claim, ![graph](https://e.example/g.png) and "
            "[mail](mailto:sre@example.com), [run](vbscript:x) and ~~gone~~.\n"
            "next line\n\n1. first\n2. second\n\n```\n<script>alert(1)</script>\n```"
        )
    )
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "graph" in html and "<img" not in html and "g.png" not in html
    assert (
        '<a href="mailto:sre@example.com" target="_blank" rel="noopener noreferrer">mail</a>'
        in html
    )
    assert "run" in html and "vbscript" not in html
    assert "<s>gone</s>" in html and "claim" in html and "<br>" in html
    assert "<ol>" in html and "<li>second</li>" in html
    assert "<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_typed_text_is_escaped_and_mentions_become_what_slack_sends():
    ws = Workspace()
    typed = "role comms @bob in #general <b> & @here @nobody"
    assert as_slack_sends(typed_text(typed, ws, command=True)) == (
        "role comms <@UBOB|bob> in <#CGENERAL|general> &lt;b&gt; &amp; <!here> @nobody"
    )
    assert typed_text("thanks @bob.", ws, command=False) == "thanks <@UBOB>."


def test_a_pickled_workspace_keeps_what_people_see_and_gets_a_fresh_lock_clock_and_log():
    ws = Workspace(clock=lambda: 1_800_000_000.0)
    message = ws.post_message("#general", "UALICE", "hello")
    ws.add_pin("#general", message.ts, "UBOB")
    ws.add_reaction("#general", message.ts, "pushpin", "UDANA")
    ws.add_ephemeral("#general", "UALICE", text="only you", source="ack")
    ws.record_call(Call("auth.test", {}, None, 200, {}, 0.0, "api"))
    with ws.lock:
        restored = pickle.loads(pickle.dumps(ws))
    assert restored.messages("#general")[0].text == "hello"
    assert restored.pins("#general") == [message.ts]
    assert restored.message("CGENERAL", message.ts).reactions == {"pushpin": ["UDANA"]}
    assert [e.text for e in restored.ephemerals("alice")] == ["only you"]
    assert restored.calls() == [] and restored.lock is not ws.lock
    assert restored.clock is time.time
    later = restored.post_message("#general", "UBOB", "after")
    assert later.ts > message.ts and restored.new_id("C") == ws.new_id("C")


# ---------------------------------------------------------------------------- the API


@pytest.fixture
def playground(tmp_path: Path) -> Iterator[Playground]:
    with Playground(state_dir=tmp_path / "state", port=0) as running:
        yield running


class Api:
    def __init__(self, playground: Playground) -> None:
        self.playground = playground
        self.client = playground.app.test_client()

    def state(self, user: str = "UALICE", **params: str) -> dict[str, Any]:
        answer = self.client.get("/api/state", query_string={"user": user, **params})
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()

    def post(self, path: str, expect: int = 200, **body: Any) -> dict[str, Any]:
        body.setdefault("user", "UALICE")
        answer = self.client.post(path, json=body)
        assert answer.status_code == expect, answer.get_json()
        self.playground.stack.settle()
        return answer.get_json()

    def channel(self, prefix: str, user: str = "UALICE") -> dict[str, Any]:
        found = [c for c in self.state(user)["channels"] if c["name"].startswith(prefix)]
        assert found, f"no channel {prefix}*"
        return found[0]

    def texts(self, channel: str, user: str = "UALICE") -> list[str]:
        return [
            re.sub(r"<[^>]+>", "", m["html"]) for m in self.state(user, channel=channel)["messages"]
        ]


@pytest.fixture
def api(playground: Playground) -> Api:
    return Api(playground)


def declare_with_modal(api: Api, title: str = "Checkout API returning 500s") -> str:
    api.post("/api/command", channel="CGENERAL", text="/incident declare")
    modal = api.state()["modal"]
    assert modal is not None and "Declare an incident" in modal["title"]
    api.post(
        "/api/view/submit",
        view_id=modal["id"],
        values={ids.TITLE_INPUT: title, ids.SEVERITY_INPUT: "SEV2"},
    )
    return api.channel("inc-1-")["id"]


def test_state_lists_people_with_their_time_zones_and_the_channels_they_see(api):
    state = api.state("UBOB", channel="CGENERAL")
    assert state["me"]["name"] == "bob" and state["me"]["tz"] == "Europe/Berlin"
    zones = {u["name"]: u["tz"] for u in state["users"]}
    assert zones == {
        "alice": "America/Los_Angeles",
        "bob": "Europe/Berlin",
        "chandra": "Asia/Kolkata",
        "dana": "UTC",
        "erik": "Europe/London",
    }
    assert [c["name"] for c in state["channels"]] == ["general", "incidents"]
    assert state["channel"]["member"] is True and state["modal"] is None
    assert re.fullmatch(r"\d\d:\d\d", state["me"]["local_time"])


def test_declaring_from_the_modal_creates_the_channel_with_its_summary(api):
    channel = declare_with_modal(api)
    state = api.state(channel=channel)
    assert state["modal"] is None
    summary = next(m for m in state["messages"] if "bk-header" in m["html"])
    assert "INC-1: Checkout API returning 500s" in summary["html"] and summary["pinned"]
    announcement = api.texts("CINCIDENTS")
    assert any("INC-1" in text and "declared by" in text for text in announcement)


def test_a_slash_command_declares_and_answers_privately(api):
    api.post("/api/command", channel="CGENERAL", text="/incident declare Disk full on db-1")
    channel = api.channel("inc-1-disk-full")
    mine = [m for m in api.state(channel="CGENERAL")["messages"] if m["ephemeral"]]
    assert mine and "INC-1" in mine[-1]["html"]
    assert not [m for m in api.state("UBOB", channel="CGENERAL")["messages"] if m["ephemeral"]]
    assert channel["member"] is True


def test_the_bots_refusal_in_a_modal_is_shown_beside_the_field(api):
    api.post("/api/command", channel="CGENERAL", text="/incident declare")
    modal = api.state()["modal"]
    api.post("/api/view/submit", view_id=modal["id"], values={ids.TITLE_INPUT: "   "})
    still = api.state()["modal"]
    assert still["id"] == modal["id"] and ids.TITLE_BLOCK in still["errors"]
    assert 'class="bk-input has-error" data-block-id="title"' in still["html"]
    api.post("/api/view/close", view_id=modal["id"])
    assert api.state()["modal"] is None


def test_what_people_cannot_do_in_slack_is_refused_with_a_clear_400(api):
    channel = declare_with_modal(api)
    refused = api.post("/api/message", 400, user="UDANA", channel=channel, text="hi")
    assert "dana is not a member of #inc-1-" in refused["error"]
    assert "not a command" in api.post("/api/command", 400, channel=channel, text="/foo")["error"]
    assert (
        "no person"
        in api.post("/api/message", 400, user="UBOT", channel=channel, text="x")["error"]
    )
    assert "missing 'ts'" in api.post("/api/pin", 400, channel=channel)["error"]
    assert (
        api.client.post("/api/message", data="user=UALICE", content_type="text/plain").status_code
        == 415
    )
    assert api.post("/api/nothing", 404)["error"]  # a JSON answer, never an HTML page
    foreign = api.client.get(
        "/api/state", query_string={"user": "UALICE"}, headers={"Host": "evil.example:3100"}
    )
    assert foreign.status_code == 403
    page = api.client.get("/")
    assert page.status_code == 200 and b"playground.js" in page.data
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    api.post("/api/join", user="UDANA", channel=channel)
    assert api.channel("inc-1-", "UDANA")["member"] is True
    api.post("/api/message", user="UDANA", channel=channel, text="on it")
    assert "on it" in api.texts(channel)[-1]


def test_pin_react_and_the_shortcut_put_messages_on_the_timeline(api):
    channel = declare_with_modal(api)
    first = api.post("/api/message", channel=channel, text="Rolled back deploy 4411")["ts"]
    api.post("/api/pin", channel=channel, ts=first)
    second = api.post("/api/message", channel=channel, text="Error rate falling")["ts"]
    api.post("/api/react", channel=channel, ts=second)
    third = api.post("/api/message", channel=channel, text="Cache warmed")["ts"]
    api.post("/api/shortcut", channel=channel, ts=third, callback_id=ids.ADD_TO_TIMELINE)
    form = api.state()["modal"]
    assert form is not None and ids.TIMELINE_NOTE_INPUT in form["html"]
    api.post("/api/view/submit", view_id=form["id"], values={ids.TIMELINE_NOTE_INPUT: "warm first"})
    messages = {m["ts"]: m for m in api.state(channel=channel)["messages"]}
    assert messages[first]["pinned"] and messages[first]["pinned_by"] == "alice"
    assert messages[second]["reactions"][0] == {
        "name": "pushpin",
        "emoji": "📌",
        "count": 1,
        "mine": True,
        "who": ["alice"],
    }
    api.post("/api/command", channel=channel, text="/incident close")
    wait_for(
        lambda: any(m["files"] for m in api.state(channel=channel)["messages"]),
        what="the postmortem upload",
    )
    file = next(m for m in api.state(channel=channel)["messages"] if m["files"])["files"][0]
    shown = api.client.get(f"/api/files/{file['id']}", query_string={"user": "UALICE"}).get_json()
    assert "<h1>INC-1: Checkout API returning 500s</h1>" in shown["html"]
    timeline = shown["text"].split("## Timeline", 1)[1]
    for words in ("Rolled back deploy 4411", "Error rate falling", "Cache warmed", "warm first"):
        assert words in timeline
    raw = api.client.get(f"/api/files/{file['id']}/raw", query_string={"user": "UALICE"})
    assert (
        raw.data.startswith(b"# INC-1: Checkout API")
        and "attachment" in raw.headers["Content-Disposition"]
    )


def test_unpin_and_unreact_take_back_what_was_done(api):
    ts = api.post("/api/message", channel="CGENERAL", text="Rolled back")["ts"]
    api.post("/api/pin", channel="CGENERAL", ts=ts)
    api.post("/api/react", channel="CGENERAL", ts=ts, name=":eyes:")
    api.post("/api/react", user="UBOB", channel="CGENERAL", ts=ts, name="eyes")
    shown = next(m for m in api.state(channel="CGENERAL")["messages"] if m["ts"] == ts)
    assert shown["pinned"] and shown["pinned_by"] == "alice"
    assert [(r["name"], r["who"]) for r in shown["reactions"]] == [("eyes", ["alice", "bob"])]
    api.post("/api/unpin", channel="CGENERAL", ts=ts)
    api.post("/api/unreact", channel="CGENERAL", ts=ts, name="eyes")
    shown = next(m for m in api.state(channel="CGENERAL")["messages"] if m["ts"] == ts)
    assert not shown["pinned"]
    assert [(r["name"], r["who"], r["mine"]) for r in shown["reactions"]] == [
        ("eyes", ["bob"], False)
    ]
    refused = api.post("/api/react", 400, channel="CGENERAL", ts=ts, name="<img>")
    assert "not an emoji name" in refused["error"]


def test_a_thread_shows_the_replies_and_takes_a_reply(api):
    channel = declare_with_modal(api)
    ts = api.post("/api/message", channel=channel, text="Rolled back")["ts"]
    api.post("/api/pin", channel=channel, ts=ts)
    api.post("/api/message", channel=channel, text="confirmed", thread_ts=ts)
    listed = next(m for m in api.state(channel=channel)["messages"] if m["ts"] == ts)
    thread = api.state(channel=channel, thread=ts)["thread"]
    assert listed["reply_count"] == len(thread["replies"]) >= 2
    assert "confirmed" in thread["replies"][-1]["html"]


def test_the_home_tab_shows_the_published_view_and_its_declare_button_works(api):
    api.post("/api/home")
    home = api.state(home="1")["home"]
    assert home is not None and f'data-action-id="{ids.HOME_DECLARE}"' in home["html"]
    api.post("/api/action", view_id=home["id"], action_id=ids.HOME_DECLARE)
    modal = api.state()["modal"]
    assert modal is not None and "Declare an incident" in modal["title"]
    assert any(c["kind"] == "dm" for c in api.state()["channels"])


def test_a_private_incidents_file_is_hidden_from_people_outside_it(api):
    api.post("/api/command", channel="CGENERAL", text="/incident declare")
    modal = api.state()["modal"]
    api.post(
        "/api/view/submit",
        view_id=modal["id"],
        values={ids.TITLE_INPUT: "Credential leak", ids.PRIVATE_INPUT: ["private"]},
    )
    channel = api.channel("inc-1-")
    assert channel["kind"] == "private"
    assert not [c for c in api.state("UERIK")["channels"] if c["id"] == channel["id"]]
    assert api.state("UERIK", channel=channel["id"])["channel"] is None
    api.post("/api/command", channel=channel["id"], text="/incident close")
    wait_for(
        lambda: any(m["files"] for m in api.state(channel=channel["id"])["messages"]),
        what="the postmortem upload",
    )
    file_id = next(m for m in api.state(channel=channel["id"])["messages"] if m["files"])["files"][
        0
    ]["id"]
    hidden = api.client.get(f"/api/files/{file_id}", query_string={"user": "UERIK"})
    assert hidden.status_code == 400 and "cannot see" in hidden.get_json()["error"]
    refused = api.post("/api/message", 400, user="UERIK", channel=channel["id"], text="x")
    assert "can see" in refused["error"]


# ---------------------------------------------------------------------------- sessions


def test_a_drill_continues_after_a_restart_and_reset_starts_clean(tmp_path):
    state = tmp_path / "state"
    with Playground(state_dir=state, port=0) as first:
        api = Api(first)
        channel = declare_with_modal(api)
        api.post("/api/message", channel=channel, text="Before the restart")
        ports = (first.ports.bot, first.ports.slack)
    assert first.resumed is False

    with Playground(state_dir=state, port=0) as second:
        assert second.resumed and (second.ports.bot, second.ports.slack) == ports
        api = Api(second)
        assert api.channel("inc-1-")["id"] == channel
        assert any("Before the restart" in text for text in api.texts(channel))
        api.post("/api/command", channel=channel, text="/incident note after the restart")
        assert any("Note from @alice: after the restart" in text for text in api.texts(channel))
        api.post("/api/command", channel="CGENERAL", text="/incident declare Second one")
        assert api.channel("inc-2-second-one")

    with Playground(state_dir=state, port=0, reset=True) as fresh:
        api = Api(fresh)
        assert [c["name"] for c in api.state()["channels"]] == ["general", "incidents"]
        api.post("/api/command", channel="CGENERAL", text="/incident declare Fresh start")
        assert api.channel("inc-1-fresh-start")


def free_port_block(size: int = 3) -> int:
    """A port P with P .. P+size-1 all free right now."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + size > 65535:
            continue
        try:
            with contextlib.ExitStack() as held:
                for offset in range(size):
                    sock = held.enter_context(socket.socket())
                    sock.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
    raise AssertionError("no block of free ports")


def test_a_fixed_port_puts_the_bot_and_the_workspace_on_the_next_two(tmp_path):
    base = free_port_block()
    with Playground(state_dir=tmp_path / "state", port=base) as running:
        assert (running.ports.page, running.ports.bot, running.ports.slack) == (
            base,
            base + 1,
            base + 2,
        )
        assert running.url == f"http://127.0.0.1:{base}/"
        assert running.stack.settings.base_url == f"http://127.0.0.1:{base + 1}"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", base + 1))
        busy.listen()
        with pytest.raises(PlaygroundError, match="free them, or --reset"):
            Playground(state_dir=tmp_path / "state", port=0).start()
    with pytest.raises(PlaygroundError, match="not a usable port"):
        Playground(state_dir=tmp_path / "state", port=65535)


def test_a_half_saved_drill_asks_for_reset(tmp_path):
    state = tmp_path / "state"
    with Playground(state_dir=state, port=0):
        pass
    (state / "workspace.pickle").unlink()
    with pytest.raises(PlaygroundError, match="--reset"):
        Playground(state_dir=state, port=0).start()
    (state / "workspace.pickle").write_bytes(b"not a snapshot")
    with pytest.raises(PlaygroundError, match="cannot read the saved workspace"):
        Playground(state_dir=state, port=0).start()


def test_the_postmortem_uses_the_teams_templates(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "default.md.j2").write_text(
        '{% extends "builtin/default.md.j2" %}\n'
        "{% block preamble %}\n_Acme Payments postmortem: reviewed every Thursday._\n"
        "{%- endblock %}\n"
    )
    with Playground(state_dir=tmp_path / "state", port=0, templates_dir=templates) as running:
        api = Api(running)
        api.post("/api/command", channel="CGENERAL", text="/incident declare Card declines")
        channel = api.channel("inc-1-")["id"]
        api.post("/api/command", channel=channel, text="/incident close")
        wait_for(
            lambda: any(m["files"] for m in api.state(channel=channel)["messages"]),
            what="the postmortem upload",
        )
        message = next(m for m in api.state(channel=channel)["messages"] if m["files"])
        shown = api.client.get(
            f"/api/files/{message['files'][0]['id']}", query_string={"user": "UALICE"}
        ).get_json()
        assert shown["text"].startswith("# INC-1: Card declines")
        assert "Acme Payments postmortem: reviewed every Thursday." in shown["text"]


def test_a_broken_team_template_or_missing_folder_stops_the_start(tmp_path):
    with pytest.raises(PlaygroundError, match="is not a folder"):
        Playground(state_dir=tmp_path / "s", port=0, templates_dir=tmp_path / "nope").start()
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "default.md.j2").write_text("{% if %}\n")
    with pytest.raises(IncidentError, match=r"default\.md\.j2"):
        Playground(state_dir=tmp_path / "s", port=0, templates_dir=templates).start()


def _as_from_a_terminal() -> None:
    # A job a non-interactive shell starts in the background (``make test &``) inherits an
    # ignored SIGINT, and Python then installs no KeyboardInterrupt for it; a person's
    # terminal sends Ctrl-C to a process that has the default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_the_command_runs_until_interrupted_and_saves_the_drill(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "incidentbot", "playground", "--port", "0", "--state-dir", "st"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_as_from_a_terminal,
    )
    try:
        first = process.stdout.readline()
        url = re.search(r"http://\S+", first)
        assert url, first + process.stderr.read()
        assert "a new drill, saved in st" in process.stdout.readline()
        with urlopen(url.group(0), timeout=5) as page:
            assert page.status == 200 and b"playground.js" in page.read()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "Playground stopped; the drill is saved." in out
    assert {p.name for p in (tmp_path / "st").iterdir()} == {
        "incidentbot.db",
        "workspace.pickle",
        "playground.json",
    }
