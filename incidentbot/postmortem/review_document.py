"""The blameless language review for a Markdown or plain-text document, with source positions.

Teams write postmortems outside the bot too: in a wiki, in a Git repository, or in the postmortem
file the bot uploaded and someone edited later. This module lets them run the same review
(``incidentbot.domain.blameless``) on such a file, in CI or in an editor, and says where in the
*original file* each phrase is: a 1-based line and a 1-based column pointing at the phrase's first
character, so an editor can jump there. Columns count characters, so a tab is one column. Nothing
here talks to Slack or a database.

The document is parsed with markdown-it-py (CommonMark plus tables and strikethrough), so the
review sees the prose a reader sees:

Reviewed
    Headings, paragraphs, list items, block quotes (without their ``>`` markers), every table
    cell on its own (a sentence never runs from one cell into the next; each flag has the
    cell's line), the text of links and images (the words a reader sees), and emphasised text
    with its ``*``/``_``/``~~`` markers removed. A paragraph wrapped over several lines is one
    passage with its line breaks read as spaces, so "should\\nhave rolled back" is found and
    reported on the line where "should" is. Plain text needs nothing special: it parses as
    paragraphs.

Not reviewed
    Fenced and indented code blocks and inline code, because commands, logs and identifiers
    (``user_error_total``, ``git blame``) are quoted, not judgements anyone wrote about a
    colleague. HTML blocks and inline HTML, including ``<!-- comments -->``: they are not shown
    to readers. YAML (``---``) or TOML (``+++``) front matter at the very top of the file: it
    is metadata for the wiki or site generator. Link and image URLs, link reference
    definitions and bare URLs in the text (``https://…/human-error-budget``): an address is not
    prose, and its words are usually a page's slug.

Inline code keeps its place in the sentence (so the excerpt reads naturally and "human
`x` error" is not read as "human error"), but a phrase that overlaps it is not flagged.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.helpers import parseLinkDestination, parseLinkTitle
from markdown_it.token import Token

from incidentbot.domain.blameless import Flag, Passage, Rule, review

__all__ = ["DocumentFlag", "DocumentPassage", "document_passages", "review_document"]

# Opening line of front matter and the lines that may close it (Jekyll, Hugo, MkDocs, Docusaurus).
_FRONT_MATTER = {"---": ("---", "..."), "+++": ("+++",)}
# Bare addresses in text; linkify is off, so markdown-it leaves them as words.
_BARE_URL = re.compile(r"(?:\b(?:https?|ftp)://|\bwww\.)[^\s<>]+", re.IGNORECASE)
_MARKERS = frozenset({"em_open", "em_close", "strong_open", "strong_close", "s_open", "s_close"})


@dataclass(frozen=True, kw_only=True)
class DocumentFlag:
    """A blameless review flag and where its phrase starts in the file (both 1-based)."""

    flag: Flag
    line: int
    column: int


class _Line:
    """One line of an inline token's content and the source columns of its characters."""

    __slots__ = ("start", "number", "base", "lead", "columns")

    def __init__(
        self, start: int, number: int, base: int, lead: int, columns: list[int] | None
    ) -> None:
        self.start = start  # offset of the line in the token's content
        self.number = number  # 1-based line in the file
        self.base = base  # 0-based source column of content[start + lead]
        self.lead = lead  # leading characters the source does not have (tab expansion)
        self.columns = columns  # explicit 0-based columns when the line is not a plain copy

    def column(self, relative: int) -> int:
        if self.columns is not None:
            if not self.columns:
                return self.base
            return self.columns[min(relative, len(self.columns) - 1)]
        return self.base + max(0, relative - self.lead)


@dataclass(frozen=True, kw_only=True, eq=False)
class DocumentPassage:
    """One heading, paragraph or table cell as review text, able to map offsets to the file."""

    passage: Passage
    _segments: tuple[tuple[int, int, int], ...]  # (text offset, content offset, step 0 or 1)
    _lines: tuple[_Line, ...]
    _masked: tuple[tuple[int, int], ...]  # text spans that are code or addresses

    def position(self, offset: int) -> tuple[int, int]:
        """The 1-based line and column in the file of character ``offset`` of the text."""
        index = max(0, bisect_right(self._segments, (offset, float("inf"), 0)) - 1)
        text_at, content_at, step = self._segments[index]
        content_offset = content_at + step * (offset - text_at)
        starts = [line.start for line in self._lines]
        line = self._lines[max(0, bisect_right(starts, content_offset) - 1)]
        return line.number, line.column(content_offset - line.start) + 1

    def masked(self, start: int, end: int) -> bool:
        """Whether ``text[start:end]`` touches inline code or an address."""
        return any(
            start < masked_end and masked_start < end for masked_start, masked_end in self._masked
        )


def document_passages(text: str) -> list[DocumentPassage]:
    """The reviewable passages of a Markdown (or plain-text) document, in document order."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    # markdown-it does the same replacement; doing it first keeps the lines comparable.
    lines = _without_front_matter(text.replace("\0", "\ufffd").split("\n"))
    cursors: dict[int, int] = {}  # per line, where the next token's text may start
    passages: list[DocumentPassage] = []
    seen: set[str] = set()
    for token in _markdown().parse("\n".join(lines)):
        if token.type != "inline" or token.map is None or not token.content.strip():
            continue
        table = _line_table(token.content, token.map[0], lines, cursors)
        builder = _Builder()
        _walk(token.children or [], token.content, 0, builder)
        review_text = "".join(builder.parts)
        if not review_text.strip():
            continue
        for match in _BARE_URL.finditer(review_text):
            builder.masked.append((match.start(), match.end()))
        # Unique, so each flag finds its passage again: no two passages start at one place.
        where = "line {}, column {}".format(*_start(builder, table))
        if where in seen:
            where += f" (passage {len(passages) + 1})"
        seen.add(where)
        passage = DocumentPassage(
            passage=Passage(where=where, text=review_text),
            _segments=tuple(builder.segments) or ((0, 0, 0),),
            _lines=tuple(table),
            _masked=tuple(builder.masked),
        )
        passages.append(passage)
    return passages


def review_document(
    text: str, *, rules: Sequence[Rule], names: Iterable[str] = ()
) -> list[DocumentFlag]:
    """Every flag in the document, in document order, with its line and column in ``text``."""
    passages = {item.passage.where: item for item in document_passages(text)}
    # One review of the whole document, as the bot reviews a whole postmortem at once.
    found: list[DocumentFlag] = []
    for flag in review([item.passage for item in passages.values()], rules=rules, names=names):
        passage = passages[flag.where]
        if passage.masked(flag.start, flag.end):
            continue
        line, column = passage.position(flag.start)
        found.append(DocumentFlag(flag=flag, line=line, column=column))
    return found


def _start(builder: _Builder, table: list[_Line]) -> tuple[int, int]:
    """Line and column of the passage's first character (a heading's text, not its ``#``)."""
    _, content_at, _ = builder.segments[0] if builder.segments else (0, 0, 0)
    starts = [line.start for line in table]
    line = table[max(0, bisect_right(starts, content_at) - 1)]
    return line.number, line.column(content_at - line.start) + 1


@cache
def _markdown() -> MarkdownIt:
    # text_join would merge escapes (\*) and entities (&amp;) into plain text and lose where
    # they were; kept apart, every text token is a verbatim slice of the source.
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).disable("text_join")


def _without_front_matter(lines: list[str]) -> list[str]:
    """The lines with a front matter block at the very top blanked, so line numbers stay."""
    closers = _FRONT_MATTER.get(lines[0].rstrip()) if lines else None
    if closers is None:
        return lines
    for end in range(1, len(lines)):
        if lines[end].rstrip() in closers:
            return [""] * (end + 1) + lines[end + 1 :]
    return lines  # never closed: a thematic break, not front matter


def _line_table(content: str, first: int, lines: list[str], cursors: dict[int, int]) -> list[_Line]:
    """Where each line of an inline token's content is in the file.

    markdown-it gives a block's lines, not columns; each content line is that source line
    without its block markers (``>``, list bullets, indentation, ``#``, the cell's pipes), so
    it is found in the line after whatever an earlier token on the same line took.
    """
    table: list[_Line] = []
    offset = 0
    for index, piece in enumerate(content.split("\n")):
        number = first + index
        source = lines[number] if number < len(lines) else ""
        cursor = cursors.get(number, 0)
        lead = 0
        columns: list[int] | None = None
        base = source.find(piece, cursor)
        if base < 0:
            stripped = piece.lstrip()
            lead = len(piece) - len(stripped)
            base = source.find(stripped, cursor) if stripped else -1
        if base >= 0:
            end = base + len(piece) - lead
        else:  # escaped pipes in a cell, expanded tabs: align character by character
            lead = 0
            columns, end = _align(piece, source, cursor)
            base = columns[0] if columns else cursor
        cursors[number] = end
        table.append(_Line(offset, number + 1, base, lead, columns))
        offset += len(piece) + 1
    return table


def _align(piece: str, source: str, cursor: int) -> tuple[list[int], int]:
    """Columns for ``piece`` found in order in ``source``, skipping what the parser dropped."""
    columns: list[int] = []
    at = cursor
    for char in piece:
        found = source.find(char, at)
        if char == " ":
            tab = source.find("\t", at)
            if tab >= 0 and (found < 0 or tab < found):
                found = tab
        if found < 0:
            columns.append(min(at, max(0, len(source) - 1)))
            continue
        columns.append(found)
        at = found + 1
    return columns, at


class _Builder:
    """The review text of one inline token and where each part of it came from."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.segments: list[tuple[int, int, int]] = []
        self.masked: list[tuple[int, int]] = []

    def add(self, text: str, content_at: int, *, step: int = 1, masked: bool = False) -> None:
        if not text:
            return
        self.segments.append((self.length, content_at, step))
        if masked:
            self.masked.append((self.length, self.length + len(text)))
        self.parts.append(text)
        self.length += len(text)


def _find(content: str, needle: str, pos: int) -> int:
    at = content.find(needle, pos)
    return at if at >= 0 else min(pos, len(content))


def _walk(children: list[Token], content: str, pos: int, out: _Builder) -> int:
    """Appends the prose of ``children`` to ``out``; returns the content offset after them.

    Inline tokens carry no positions, so each is looked for in the content from where the
    previous one ended; skipping what is not prose (code, HTML, URLs) keeps that search from
    landing inside it.
    """
    in_autolink = False
    for token in children:
        kind = token.type
        if in_autolink:
            in_autolink = kind != "link_close"
        elif kind == "text":
            at = _find(content, token.content, pos)
            out.add(token.content, at)
            pos = at + len(token.content)
        elif kind == "text_special":  # a backslash escape or an entity: one source position
            at = _find(content, token.markup, pos)
            out.add(token.content, at, step=0)
            pos = at + len(token.markup)
        elif kind in ("softbreak", "hardbreak"):
            at = _find(content, "\n", pos)
            out.add(" ", at, step=0)
            pos = at + 1
        elif kind == "code_inline":
            at = _find(content, token.markup, pos)
            close = re.compile(rf"(?<!`){re.escape(token.markup)}(?!`)")
            match = close.search(content, at + len(token.markup))
            end = match.end() if match else len(content)
            out.add(content[at:end].replace("\n", " "), at, masked=True)
            pos = end
        elif kind == "html_inline":
            pos = _find(content, token.content, pos) + len(token.content)
        elif kind == "link_open" and token.info == "auto":
            at = _find(content, "<", pos)
            end = content.find(">", at)
            end = end + 1 if end >= 0 else len(content)
            out.add(content[at:end], at, masked=True)
            pos = end
            in_autolink = True
        elif kind == "link_open":
            pos = _find(content, "[", pos) + 1
        elif kind == "link_close":
            pos = _skip_link_tail(content, _find(content, "]", pos) + 1)
        elif kind == "image":
            pos = _walk(token.children or [], content, _find(content, "![", pos) + 2, out)
            pos = _skip_link_tail(content, _find(content, "]", pos) + 1)
        elif kind in _MARKERS:
            pos = _find(content, token.markup, pos) + len(token.markup)
    return pos


def _skip_link_tail(content: str, pos: int) -> int:
    """The offset after a link's ``(destination "title")`` or ``[reference]``, if any."""
    size = len(content)
    if pos < size and content[pos] == "(":
        at = _skip_space(content, pos + 1)
        destination = parseLinkDestination(content, at, size)
        if destination.ok:
            at = _skip_space(content, destination.pos)
        if at < size and content[at] in "\"'(":
            title = parseLinkTitle(content, at, size)
            if title.ok:
                at = _skip_space(content, title.pos)
        if at < size and content[at] == ")":
            return at + 1
        close = content.find(")", pos)
        return close + 1 if close >= 0 else pos
    if pos < size and content[pos] == "[":
        close = content.find("]", pos)
        return close + 1 if close >= 0 else pos
    return pos


def _skip_space(content: str, pos: int) -> int:
    while pos < len(content) and content[pos] in " \t\n":
        pos += 1
    return pos
