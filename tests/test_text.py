"""User text repeated safely: no broadcasts fire, mentions read cleanly in postmortems."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from incidentbot.text import (
    NEUTRAL_AT,
    escape_mrkdwn,
    mention_to_plain,
    neutralize_mentions,
    parse_user_mentions,
    safe_for_slack,
    split_mention,
)

ZWSP = "\u200b"
# What would ping everyone if the bot posted it: a control sequence, or a raw word with parsing on.
LIVE_BROADCAST = re.compile(
    r"<!(?:channel|here|everyone|group|subteam\^)|(?<![\w.+\-@])@(?:channel|here|everyone)\b",
    re.IGNORECASE,
)

BROADCASTS = [
    ("<!channel>", f"@{ZWSP}channel"),
    ("<!here>", f"@{ZWSP}here"),
    ("<!everyone>", f"@{ZWSP}everyone"),
    ("<!group>", f"@{ZWSP}group"),
    ("<!here|here>", f"@{ZWSP}here"),
    ("<!here|@here>", f"@{ZWSP}here"),
    ("<!channel|@channel>", f"@{ZWSP}channel"),
    ("<!everyone|@everyone>", f"@{ZWSP}everyone"),
    ("<!subteam^S123|@oncall>", f"@{ZWSP}oncall"),
    ("<!subteam^S123ABC|@db-team>", f"@{ZWSP}db-team"),
    ("<!subteam^S123>", f"@{ZWSP}usergroup"),
    ("@channel", f"@{ZWSP}channel"),
    ("@here", f"@{ZWSP}here"),
    ("@everyone", f"@{ZWSP}everyone"),
    ("@Here", f"@{ZWSP}Here"),
    ("ping @here now", f"ping @{ZWSP}here now"),
    ("(@channel)", f"(@{ZWSP}channel)"),
    ("@here.", f"@{ZWSP}here."),
]

UNCHANGED = [
    "ops@here.com",
    "@channels are fun",
    "<@U123|alice> please look",
    "<@U123>",
    "<#C123|general>",
    "<https://status.example.com|status page>",
    "{{ 7*7 }}",
    "{% for x in y %}{{ x }}{% endfor %}",
    "plain text with ünïcode and 🔥",
    "&lt;!channel&gt; already escaped",
    "<!date^1392734382^{date}|Feb 18, 2014>",
]


@pytest.mark.parametrize(("text", "expected"), BROADCASTS)
def test_neutralize_broadcasts(text: str, expected: str) -> None:
    result = neutralize_mentions(text)
    assert result == expected
    assert not LIVE_BROADCAST.search(result)


@pytest.mark.parametrize("text", UNCHANGED)
def test_neutralize_leaves_other_text_alone(text: str) -> None:
    assert neutralize_mentions(text) == text


def test_neutral_form_is_at_and_zero_width_space() -> None:
    assert NEUTRAL_AT == "@\u200b"
    assert neutralize_mentions("<!here>").replace(ZWSP, "") == "@here"


def test_neutralize_in_a_sentence() -> None:
    text = "<!channel> DB down, <!subteam^S1|@dba> and <@U2|bob> look; cc @everyone"
    assert neutralize_mentions(text) == (
        f"@{ZWSP}channel DB down, @{ZWSP}dba and <@U2|bob> look; cc @{ZWSP}everyone"
    )


@pytest.mark.parametrize("text", [t for t, _ in BROADCASTS] + UNCHANGED)
def test_neutralize_is_idempotent(text: str) -> None:
    once = neutralize_mentions(text)
    assert neutralize_mentions(once) == once


def test_unknown_special_command_is_shown_literally() -> None:
    assert neutralize_mentions("<!foo>") == "&lt;!foo&gt;"


# --- escaping -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a & b", "a &amp; b"),
        ("a < b > c", "a &lt; b &gt; c"),
        ("<!channel>", "&lt;!channel&gt;"),
        ("&lt;", "&amp;lt;"),  # & goes first, so an escaped text is shown as typed
        ("{{ 7*7 }}", "{{ 7*7 }}"),
        ("", ""),
    ],
)
def test_escape_mrkdwn(text: str, expected: str) -> None:
    assert escape_mrkdwn(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Raw text (e.g. from a modal): broadcasts defused, angle brackets escaped.
        ("<!channel> deploy <b>now</b>", f"@{ZWSP}channel deploy &lt;b&gt;now&lt;/b&gt;"),
        ("<!here|here> & more", f"@{ZWSP}here &amp; more"),
        ("a < b", "a &lt; b"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        # Slash command text arrives escaped: kept as is, not escaped twice.
        ("a &amp; b &lt;!channel&gt;", "a &amp; b &lt;!channel&gt;"),
        ("&lt;b&gt;", "&lt;b&gt;"),
        # Mentions of people, channel links, URLs and dates stay live.
        ("<@U123|alice> look", "<@U123|alice> look"),
        ("<@W123>", "<@W123>"),
        ("<#C123|general>", "<#C123|general>"),
        ("<https://x.io/a?b=1&amp;c=2|dash>", "<https://x.io/a?b=1&amp;c=2|dash>"),
        ("<https://x.io/?a=1&b=2>", "<https://x.io/?a=1&amp;b=2>"),
        ("<mailto:a@b.c|a@b.c>", "<mailto:a@b.c|a@b.c>"),
        # Raw words that would ping with link_names.
        ("ping @here", f"ping @{ZWSP}here"),
        # Jinja-looking text passes through unchanged.
        ("{{ 7*7 }} {% for %}", "{{ 7*7 }} {% for %}"),
        ("<!foo>", "&lt;!foo&gt;"),
        ("<javascript:alert(1)|click>", "&lt;javascript:alert(1)|click&gt;"),
    ],
)
def test_safe_for_slack(text: str, expected: str) -> None:
    result = safe_for_slack(text)
    assert result == expected
    assert not LIVE_BROADCAST.search(result)


@pytest.mark.parametrize(
    "text",
    [t for t, _ in BROADCASTS]
    + UNCHANGED
    + ["a < b & c > d", "<<!channel>>", "<!chan<!here>nel>", "&&amp;&lt;", "<@U1|a<b>"],
)
def test_safe_for_slack_is_idempotent_and_never_pings(text: str) -> None:
    once = safe_for_slack(text)
    assert safe_for_slack(once) == once
    assert not LIVE_BROADCAST.search(once)


def test_neutralize_then_escape_reads_better_than_escape_first() -> None:
    # Escaping first would also be inert, but would show people "<!channel>" markup.
    assert safe_for_slack("<!channel>") == f"@{ZWSP}channel"
    assert neutralize_mentions(escape_mrkdwn("<!channel>")) == "&lt;!channel&gt;"


# --- plain text for postmortems -----------------------------------------------------------------

NAMES = {"U1": "alice", "U2": "Bob B", "C1": "incidents", "S1": "dba"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@U1|al> look", "@alice look"),
        ("<@U1>", "@alice"),
        ("<@U9|zed>", "@zed"),
        ("<@U9>", "@U9"),
        ("<@W2|someone>", "@someone"),
        ("<@U2> and <@U1>", "@Bob B and @alice"),
        ("<#C1|general>", "#incidents"),
        ("<#C9|random>", "#random"),
        ("<#C9|>", "#C9"),
        ("<#C9>", "#C9"),
        ("<https://x.io|status page>", "status page (https://x.io)"),
        ("<https://x.io>", "https://x.io"),
        ("<https://x.io|https://x.io>", "https://x.io"),
        ("<https://x.io/?a=1&amp;b=2|a &amp; b>", "a & b (https://x.io/?a=1&b=2)"),
        ("<mailto:a@b.c|a@b.c>", "a@b.c"),
        ("<!channel>", "@channel"),
        ("<!here|here>", "@here"),
        ("<!subteam^S1|@db-admins>", "@db-admins"),
        ("<!subteam^S1>", "@dba"),
        ("<!date^1392734382^{date}|Feb 18, 2014>", "Feb 18, 2014"),
        ("a &lt; b &amp;&amp; c &gt; d", "a < b && c > d"),
        ("&amp;lt;", "&lt;"),
        (f"@{ZWSP}here", "@here"),
        ("<script>", "<script>"),
        ("{{ 7*7 }} {% for %}", "{{ 7*7 }} {% for %}"),
        ("", ""),
    ],
)
def test_mention_to_plain(text: str, expected: str) -> None:
    assert mention_to_plain(text, NAMES) == expected


def test_mention_to_plain_round_trips_safe_text() -> None:
    typed = "<!channel> <@U1|al> fixed it & <https://x.io|the fix>"
    assert mention_to_plain(safe_for_slack(typed), NAMES) == (
        "@channel @alice fixed it & the fix (https://x.io)"
    )


# --- mentions in commands -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@U123|alice>", ["U123"]),
        ("<@U123>", ["U123"]),
        ("<@W0ABC|bob> and <@U1>", ["W0ABC", "U1"]),
        ("<@U1> <@U2|b> <@U1|a>", ["U1", "U2"]),
        ("@alice and <#C1|general> and <!here>", []),
        ("<@u123>", []),
        ("", []),
    ],
)
def test_parse_user_mentions(text: str, expected: list[str]) -> None:
    assert parse_user_mentions(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@U123|alice>", ("U123", "")),
        ("  <@U123|alice>  ", ("U123", "")),
        ("<@U123> as backup", ("U123", "as backup")),
        ("comms <@W1|bob>", ("W1", "comms")),
        ("fix the db <@U1> due friday", ("U1", "fix the db due friday")),
        ("<@U1> and <@U2>", ("U1", "and <@U2>")),
        ("@alice", (None, "@alice")),
        ("  lead me  ", (None, "lead me")),
        ("", (None, "")),
    ],
)
def test_split_mention(text: str, expected: tuple[str | None, str]) -> None:
    assert split_mention(text) == expected


def test_domain_core_does_not_import_slack() -> None:
    code = (
        "import sys\n"
        "import incidentbot.timeparse, incidentbot.channel_names, incidentbot.text\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('slack_sdk', 'slack_bolt')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_unclosed_broadcast_is_escaped_so_nothing_appended_can_close_it():
    from incidentbot.text import neutralize_mentions

    quoted = "There is no template “<!subteam^”."
    assert "<!" not in neutralize_mentions(quoted)
    assert "<!" not in neutralize_mentions(quoted) + ">"
    # A closed, harmless sequence is left alone.
    dated = "a <!date^1700000000^{date}|today> b"
    assert neutralize_mentions(dated) == dated
