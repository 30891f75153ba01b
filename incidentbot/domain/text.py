"""Repeating what people typed without pinging anyone, and reading mentions out of it.

Slack's markup has three layers that matter here: control sequences in angle brackets
(``<@U123|alice>``, ``<!channel>``, ``<https://x|label>``), the ``&amp;``/``&lt;``/``&gt;``
escaping that keeps a literal ``<`` from forming one, and, when a message is posted with
``link_names``/``parse=full``, raw words like ``@channel``. Broadcasts must never fire from echoed
text; user mentions and links may stay live.

Text is stored as people typed it: what Slack escaped is undone once on the way in
(``from_slack``), the control sequences Slack made of mentions and links kept, and escaped once on
the way out (``safe_for_slack``). Form fields arrive unescaped and are stored as they come.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = [
    "NEUTRAL_AT",
    "clip",
    "escape_mrkdwn",
    "from_slack",
    "mention_to_plain",
    "neutralize_mentions",
    "parse_user_mentions",
    "safe_for_slack",
    "safe_reply",
    "split_mention",
]

# "@" followed by a zero-width space: reads as "@channel" but Slack sees no mention in it.
NEUTRAL_AT = "@\u200b"

_BROADCASTS = frozenset({"channel", "here", "everyone", "group"})
# Any control sequence: <body> or <body|label>.
_CONTROL = re.compile(r"<(?P<body>[^<>|]*)(?:\|(?P<label>[^<>]*))?>")
# Raw words Slack turns into broadcasts when parsing is on; not inside emails or words.
_RAW_BROADCAST = re.compile(r"(?<![\w.+\-@])@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
# Control sequences that are safe to keep live when echoing: people, channels, links, dates.
_SAFE_CONTROL = re.compile(
    r"<(?:@[UW][A-Z0-9]+|#[CG][A-Z0-9]+|(?:https?|mailto):[^<>|\s]+|!date\^[^<>|]*)"
    r"(?:\|[^<>]*)?>"
)
_BARE_AMPERSAND = re.compile(r"&(?!(?:amp|lt|gt);)")
# "<!" with no ">" before the next "<" or the end: not (yet) a control sequence.
_DANGLING_CONTROL = re.compile(r"<!(?=[^<>]*(?:<|$))")
_USER_MENTION = re.compile(r"<@(?P<id>[UW][A-Z0-9]+)(?:\|[^<>]*)?>")
_URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*:", re.IGNORECASE)


def _neutral_control(match: re.Match[str]) -> str:
    """Replaces one ``<!…>`` sequence with visible text that cannot ping."""
    body = match["body"]
    label = match["label"]
    if not body.startswith("!"):
        return match.group()
    command = body[1:]
    if command.lower() in _BROADCASTS:
        return f"{NEUTRAL_AT}{command.lower()}"
    if command.startswith("subteam^"):
        handle = (label or "").strip().lstrip("@") or "usergroup"
        return f"{NEUTRAL_AT}{handle}"
    if command.startswith("date^"):
        return match.group()
    # An unknown special command: show it literally rather than guess what it does.
    return escape_mrkdwn(match.group())


def neutralize_mentions(text: str) -> str:
    """Defuses ``<!channel>``/``<!here>``/``<!everyone>``/``<!subteam^…>`` and raw ``@here``;
    a ``<!`` left unclosed (say, by a quote cut short) is escaped, so that nothing appended
    later can close it into one."""
    defused = _CONTROL.sub(_neutral_control, text)
    defused = _DANGLING_CONTROL.sub("&lt;!", defused)
    return _RAW_BROADCAST.sub(NEUTRAL_AT, defused)


def escape_mrkdwn(text: str) -> str:
    """Slack's escaping (``&`` first) so literal text can't form a control sequence."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_loose(text: str) -> str:
    """Escapes ``<``/``>`` and any ``&`` not already part of Slack's three entities."""
    return _BARE_AMPERSAND.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")


def _shown_control(match: re.Match[str]) -> str:
    """One control sequence of stored text as mrkdwn: people, channels, links and dates stay
    live (their ``&`` escaped, as Slack sends them), broadcasts are defused, the rest is text."""
    sequence = match.group()
    if _SAFE_CONTROL.fullmatch(sequence):
        return sequence.replace("&", "&amp;")
    if match["body"].startswith("!"):
        neutral = _neutral_control(match)
        if neutral.startswith(NEUTRAL_AT):
            return escape_mrkdwn(neutral)
    return escape_mrkdwn(sequence)


def safe_for_slack(text: str) -> str:
    """Text people typed, as stored, made mrkdwn: no pings, mentions and links still work.

    Every ``&``, ``<`` and ``>`` outside a user, channel, link or date sequence is escaped, so
    what Slack shows is what was typed (``&amp;`` typed shows as ``&amp;``). Escape once: the
    result is mrkdwn, and escaping it again would show the entities.
    """
    pieces: list[str] = []
    position = 0
    for match in _CONTROL.finditer(text):
        pieces.append(escape_mrkdwn(text[position : match.start()]))
        pieces.append(_shown_control(match))
        position = match.end()
    pieces.append(escape_mrkdwn(text[position:]))
    return _RAW_BROADCAST.sub(NEUTRAL_AT, "".join(pieces))


def safe_reply(text: str) -> str:
    """A finished message (a reply, a refusal) that may quote typed text: no pings, links work.

    Broadcasts are neutralised first (escaping first would leave ``&lt;!channel&gt;`` for people
    to read); then every ``<``/``>`` outside a safe user, channel, link or date sequence, and
    every ``&`` not already an entity, is escaped. What the message already escaped (a title
    through ``safe_for_slack``) is not escaped twice, so applying this again changes nothing.
    """
    neutral = neutralize_mentions(text)
    pieces: list[str] = []
    position = 0
    for match in _SAFE_CONTROL.finditer(neutral):
        pieces.append(_escape_loose(neutral[position : match.start()]))
        pieces.append(_BARE_AMPERSAND.sub("&amp;", match.group()))
        position = match.end()
    pieces.append(_escape_loose(neutral[position:]))
    return "".join(pieces)


def from_slack(text: str) -> str:
    """What a person typed, from text as Slack sends it (slash commands, message events).

    Slack escapes ``&``, ``<`` and ``>`` and makes control sequences of mentions and links
    (``<@U1|alice>``, ``<https://x?a=1&amp;b=2|docs>``); the sequences are kept and the escaping
    is undone (``&amp;`` last, so a typed ``&lt;`` stays ``&lt;``).
    """
    if "&" not in text:
        return text
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _plain_control(match: re.Match[str], names: Mapping[str, str]) -> str:
    """Renders one control sequence as the words a reader of a Markdown file expects."""
    body, label = match["body"], match["label"]
    if not body.startswith(("@", "#", "!")) and not _URL_SCHEME.match(body):
        return match.group()  # Raw text such as "<script>" that someone typed.
    shown = label.strip() if label else ""
    if body.startswith("@"):
        user_id = body[1:]
        return "@" + (names.get(user_id) or shown.lstrip("@") or user_id)
    if body.startswith("#"):
        channel_id = body[1:]
        return "#" + (names.get(channel_id) or shown.lstrip("#") or channel_id)
    if body.startswith("!"):
        command = body[1:]
        if command.lower() in _BROADCASTS:
            return "@" + command.lower()
        if command.startswith("subteam^"):
            group_id = command.removeprefix("subteam^")
            return "@" + (shown.lstrip("@") or names.get(group_id) or "usergroup")
        return shown or command
    url = body
    if url.startswith("mailto:"):
        return shown or url.removeprefix("mailto:")
    if not shown or shown == url:
        return url
    return f"{shown} ({url})"


def mention_to_plain(text: str, names: Mapping[str, str]) -> str:
    """Turns stored text's Slack markup into plain words for postmortems and web pages:
    ``<@U1>`` → ``@alice``. Nothing is unescaped: stored text is what people typed.

    ``names`` maps user, channel and usergroup ids to the names to show; a missing id falls back
    to the label Slack sent, then to the id itself.
    """
    if "<" not in text:
        # No control sequence: the common case in a long timeline.
        return text.replace(NEUTRAL_AT, "@")
    return _CONTROL.sub(lambda match: _plain_control(match, names), text).replace(NEUTRAL_AT, "@")


def parse_user_mentions(text: str) -> list[str]:
    """The user ids mentioned (``<@U123|alice>``, ``<@W123>``), first-mention order, no repeats."""
    if "<@" not in text:  # most text mentions nobody; the regex would scan it all the same
        return []
    return list(dict.fromkeys(match["id"] for match in _USER_MENTION.finditer(text)))


def split_mention(text: str) -> tuple[str | None, str]:
    """Takes the first user mention out of a command (``lead <@U1|alice>``) and returns the rest.

    A plain ``@alice`` is not a mention Slack resolved, so it gives ``None`` and the caller
    answers with help.
    """
    match = _USER_MENTION.search(text)
    if match is None:
        return None, text.strip()
    before = text[: match.start()].rstrip()
    after = text[match.end() :].lstrip()
    rest = f"{before} {after}" if before and after else before or after
    return match["id"], rest.strip()


def printable(text: str) -> str:
    """Text as it may be stored: NUL (which PostgreSQL's text type refuses) removed."""
    return text.replace("\x00", "")


# What a cut must not split: one of Slack's three entities, or a whole control sequence.
_ENTITY = re.compile(r"&(?:amp|lt|gt);")
_SEQUENCE = re.compile(r"<[^<>]*>")


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, the last an ellipsis when anything was cut.

    The cut never falls inside ``&amp;``, a mention, a channel or a link: a half ``<@U1`` or
    ``&am`` would show as markup, or swallow what is posted after it. Such a piece is left out.
    """
    if len(text) <= limit:
        return text
    if limit < 1:
        return ""  # no room even for the ellipsis
    cut = limit - 1
    start = text.rfind("<", 0, cut)
    if start != -1:
        sequence = _SEQUENCE.match(text, start)
        if sequence is not None and sequence.end() > cut:
            cut = start
    start = text.rfind("&", max(cut - 4, 0), cut)
    if start != -1:
        entity = _ENTITY.match(text, start)
        if entity is not None and entity.end() > cut:
            cut = start
    return text[:cut] + "…"
