"""User text repeated safely: no broadcasts fire, mentions read cleanly in postmortems."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from incidentbot.domain.text import (
    NEUTRAL_AT,
    clip,
    escape_mrkdwn,
    from_slack,
    mention_to_plain,
    neutralize_mentions,
    parse_user_mentions,
    printable,
    safe_for_slack,
    safe_reply,
    split_mention,
)
from incidentbot.emulator.driver import as_slack_sends

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
        # Stored text is what people typed: broadcasts defused, & < > escaped once.
        ("<!channel> deploy <b>now</b>", f"@{ZWSP}channel deploy &lt;b&gt;now&lt;/b&gt;"),
        ("<!here|here> & more", f"@{ZWSP}here &amp; more"),
        ("a < b", "a &lt; b"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("Payments & checkout <EU>", "Payments &amp; checkout &lt;EU&gt;"),
        # An entity someone typed is shown as typed.
        ("a &amp; b &lt;!channel&gt;", "a &amp;amp; b &amp;lt;!channel&amp;gt;"),
        # Mentions of people, channel links, URLs and dates stay live.
        ("<@U123|alice> look", "<@U123|alice> look"),
        ("<@W123>", "<@W123>"),
        ("<#C123|general>", "<#C123|general>"),
        ("<https://x.io/a?b=1&c=2|dash & co>", "<https://x.io/a?b=1&amp;c=2|dash &amp; co>"),
        ("<https://x.io/?a=1&b=2>", "<https://x.io/?a=1&amp;b=2>"),
        ("<!subteam^S1|@a&b>", f"@{ZWSP}a&amp;b"),
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
def test_safe_reply_is_idempotent_and_never_pings(text: str) -> None:
    once = safe_reply(text)
    assert safe_reply(once) == once
    assert not LIVE_BROADCAST.search(once)
    assert not LIVE_BROADCAST.search(safe_for_slack(text))


def test_a_reply_quoting_an_escaped_title_escapes_only_what_is_not_yet_escaped() -> None:
    reply = f"Declaring INC-1: {safe_for_slack('A & B <EU>')}; not “x < y & z”. <#C1>"
    assert safe_reply(reply) == (
        "Declaring INC-1: A &amp; B &lt;EU&gt;; not “x &lt; y &amp; z”. <#C1>"
    )


# What people type, Slack's escaping of it, and back: stored once as typed, escaped once on output.
TYPED = [
    "Payments & checkout <EU>",
    "a &amp; b typed literally, &lt; too",
    "<@U123|alice> & <#C1|general> <https://x.io/?a=1&b=2|a & b>",
    "x<y>z & <<>> &&",
    "{{ 7*7 }} <script>alert(1)</script>",
]


@pytest.mark.parametrize("typed", TYPED)
def test_text_slack_escaped_is_stored_as_typed_and_escaped_once_on_output(typed: str) -> None:
    sent = as_slack_sends(typed)
    assert from_slack(sent) == typed
    assert safe_for_slack(from_slack(sent)) == sent


def test_from_slack_undoes_only_slacks_three_entities() -> None:
    assert from_slack("Payments &amp; checkout &lt;EU&gt;") == "Payments & checkout <EU>"
    assert from_slack("&amp;lt; &quot; &#39; &nbsp;") == "&lt; &quot; &#39; &nbsp;"
    assert from_slack("<@U1|a&amp;b> <https://x.io/?a=1&amp;b=2|x>") == (
        "<@U1|a&b> <https://x.io/?a=1&b=2|x>"
    )


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
        ("<https://x.io/?a=1&b=2|a & b>", "a & b (https://x.io/?a=1&b=2)"),
        ("<mailto:a@b.c|a@b.c>", "a@b.c"),
        ("<!channel>", "@channel"),
        ("<!here|here>", "@here"),
        ("<!subteam^S1|@db-admins>", "@db-admins"),
        ("<!subteam^S1>", "@dba"),
        ("<!date^1392734382^{date}|Feb 18, 2014>", "Feb 18, 2014"),
        # Stored text is what was typed: nothing to unescape.
        ("a < b && c > d", "a < b && c > d"),
        ("&amp;lt;", "&amp;lt;"),
        (f"@{ZWSP}here", "@here"),
        ("<script>", "<script>"),
        ("{{ 7*7 }} {% for %}", "{{ 7*7 }} {% for %}"),
        ("", ""),
    ],
)
def test_mention_to_plain(text: str, expected: str) -> None:
    assert mention_to_plain(text, NAMES) == expected


def test_mention_to_plain_reads_what_slack_sent_once_unescaped() -> None:
    sent = "<!channel> <@U1|al> fixed it &amp; <https://x.io|the fix> &lt;EU&gt;"
    assert mention_to_plain(from_slack(sent), NAMES) == (
        "@channel @alice fixed it & the fix (https://x.io) <EU>"
    )


# --- clipping -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("abcdefghij", 10, "abcdefghij"),
        ("abcdefghijk", 10, "abcdefghi…"),
        # The cut would fall inside an entity, a mention, a channel or a link: leave it out.
        ("Payments &amp; checkout", 12, "Payments …"),
        ("Payments &amp; checkout", 15, "Payments &amp;…"),
        ("ab &lt;EU&gt;", 10, "ab &lt;EU…"),
        ("ask <@U123ABC|alice> now", 10, "ask …"),
        ("ask <@U123ABC|alice> now", 21, "ask <@U123ABC|alice>…"),
        ("in <#C1|incidents> go", 10, "in …"),
        ("see <https://x.io/?a=1&amp;b=2|the dashboard> now", 30, "see …"),
        # A "<" that starts no sequence is text like any other.
        ("a < b and c is long", 10, "a < b and…"),
    ],
)
def test_clip_never_cuts_inside_an_entity_a_mention_or_a_link(
    text: str, limit: int, expected: str
) -> None:
    assert clip(text, limit) == expected
    assert len(clip(text, limit)) <= limit


def test_clip_cuts_escaped_text_into_whole_entities_at_any_length() -> None:
    escaped = safe_for_slack("<@U1|al> & <https://x.io/?a=1&b=2|docs> <EU> " * 5)
    for limit in range(1, len(escaped)):
        cut = clip(escaped, limit)[:-1]
        assert len(cut) < limit
        assert from_slack(cut).count("&") == cut.count("&amp;"), cut
        assert cut.count("<") == cut.count(">"), cut


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
        "import incidentbot.domain.timeparse, incidentbot.domain.channel_names\n"
        "import incidentbot.domain.text\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('slack_sdk', 'slack_bolt')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_unclosed_broadcast_is_escaped_so_nothing_appended_can_close_it():
    from incidentbot.domain.text import neutralize_mentions

    quoted = "There is no template “<!subteam^”."
    assert "<!" not in neutralize_mentions(quoted)
    assert "<!" not in neutralize_mentions(quoted) + ">"
    # A closed, harmless sequence is left alone.
    dated = "a <!date^1700000000^{date}|today> b"
    assert neutralize_mentions(dated) == dated


# --- behaviours the mutation run found unprotected (docs/mutation.md) ---------------------------


def test_an_unclosed_broadcast_reads_as_an_escaped_less_than() -> None:
    assert neutralize_mentions("no template “<!subteam^”.") == "no template “&lt;!subteam^”."


def test_a_usergroup_mention_keeps_its_handle_whole() -> None:
    assert neutralize_mentions("<!subteam^S1|@Xbox-oncall>") == f"{NEUTRAL_AT}Xbox-oncall"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("latency > 2s", "latency &gt; 2s"),
        ("<https://x.io/?a=1&b=2|docs>", "<https://x.io/?a=1&amp;b=2|docs>"),
        ("<@U1|al&co> & <#C1>", "<@U1|al&amp;co> &amp; <#C1>"),
    ],
)
def test_safe_reply_escapes_what_is_loose_and_the_ampersands_of_live_links(
    text: str, expected: str
) -> None:
    assert safe_reply(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@U1|@alice>", "@alice"),
        ("<@U1|Xavier>", "@Xavier"),
        ("<@U1|alice@>", "@alice@"),
        ("<#C1|#incidents>", "#incidents"),
        ("<#C1|Xmas-ops>", "#Xmas-ops"),
        ("<#C1|ops#>", "#ops#"),
        ("<!subteam^S1|Xbox-oncall>", "@Xbox-oncall"),
        ("<!subteam^S1>", "@usergroup"),
        ("<mailto:oncall@x.io>", "oncall@x.io"),
        ("<mailto:oncall@x.io|write to us>", "write to us"),
        ("<@U1> said @\u200bhere", "@U1 said @here"),
    ],
)
def test_mention_to_plain_shows_labels_as_typed(text: str, expected: str) -> None:
    assert mention_to_plain(text, {}) == expected


def test_printable_removes_nul_only() -> None:
    assert printable("a\x00b\x00 c\n") == "ab c\n"


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("abc", 1, "…"),
        ("abc", 2, "a…"),
        # Two "&" within the last four characters: the entity is the later one.
        ("ab&&amp;cdef", 7, "ab&…"),
        ("&amp; more text", 3, "…"),
        ("a&amp;bcd", 4, "a…"),
        # A whole entity just before the cut stays.
        ("ab&lt;cdef", 7, "ab&lt;…"),
        ("a & b and c", 4, "a &…"),
    ],
)
def test_clip_at_short_limits_and_entities_near_the_cut(
    text: str, limit: int, expected: str
) -> None:
    assert clip(text, limit) == expected


def test_clip_stays_within_its_limit_at_every_length() -> None:
    text = "see <@U1|al> &amp; <https://x.io|docs> &lt;EU&gt; now " * 3
    for limit in range(1, len(text) + 2):
        clipped = clip(text, limit)
        assert len(clipped) <= limit, (limit, clipped)
        assert clipped == text or clipped.endswith("…")


def test_clip_to_nothing_stays_within_its_limit() -> None:
    assert clip("abc", 0) == ""
    assert clip("abc", 1) == "…"
    assert clip("", 0) == ""
