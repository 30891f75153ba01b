"""What a Slack message says, for the timeline: its text, or what its blocks show, and the names
of the files it carries.

A message can have no ``text`` at all: a screenshot pasted with no words, a workflow's or
another app's message made only of blocks. Pinning one must still record something a reader
of the postmortem can follow, rather than "(message without text)".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from incidentbot.domain.text import from_slack

# Rich-text elements that stand for something other than their ``text``.
_REFERENCES = {
    "user": lambda e: f"<@{e.get('user_id', '')}>",
    "channel": lambda e: f"<#{e.get('channel_id', '')}>",
    "usergroup": lambda e: f"<!subteam^{e.get('usergroup_id', '')}>",
    "emoji": lambda e: f":{e.get('name', '')}:",
    "link": lambda e: e.get("text") or e.get("url") or "",
    "broadcast": lambda e: f"<!{e.get('range', 'here')}>",
}


def message_text(message: Mapping[str, Any]) -> str:
    """The message's words (its ``text``, else its blocks', else its attachments'), then the
    files it carries, named: ``"error rate after the rollback (files: grafana.png)"``."""
    # A message's text (and mrkdwn) comes escaped (``&amp;``); rich text and plain text do not.
    text = from_slack(str(message.get("text") or "")).strip()
    if not text:
        text = blocks_text(message.get("blocks") or [])
    if not text:
        text = "\n".join(
            str(part)
            for attachment in message.get("attachments") or []
            if isinstance(attachment, Mapping)
            for part in (
                attachment.get("pretext"),
                attachment.get("text") or attachment.get("fallback"),
            )
            if part
        ).strip()
    names = [
        str(file.get("name") or file.get("title"))
        for file in message.get("files") or []
        if isinstance(file, Mapping) and (file.get("name") or file.get("title"))
    ]
    if names:
        listed = f"(file{'s' if len(names) > 1 else ''}: {', '.join(names)})"
        text = f"{text} {listed}" if text else listed
    return text


def blocks_text(blocks: object) -> str:
    """The words Block Kit blocks show, a line per block, in order."""
    if not isinstance(blocks, list):
        return ""
    lines = ["".join(_words(block)).strip() for block in blocks if isinstance(block, Mapping)]
    return "\n".join(line for line in lines if line)


def _words(node: object) -> Iterator[str]:
    if isinstance(node, list):
        for item in node:
            yield from _words(item)
        return
    if not isinstance(node, Mapping):
        return
    kind = node.get("type")
    if kind in _REFERENCES:
        yield _REFERENCES[kind](node)
        return
    if kind in {"text", "plain_text", "mrkdwn"} and isinstance(node.get("text"), str):
        yield from_slack(node["text"]) if kind == "mrkdwn" else node["text"]
        return
    if kind == "image":
        yield f"(image: {node.get('alt_text') or node.get('title') or 'image'})"
        return
    # Containers: section (text, fields), header, context, rich_text and its sections,
    # lists, quotes and preformatted parts.
    if kind == "section":
        parts = [node.get("text"), *(node.get("fields") or [])]
        yield " ".join(words for part in parts if (words := "".join(_words(part)).strip()))
        return
    for key in ("text", "elements"):
        if key in node:
            yield from _words(node[key])
    if kind in {"rich_text_section", "rich_text_preformatted", "rich_text_quote"}:
        yield "\n"
