"""Flags blame and hindsight language in what people wrote about an incident.

A postmortem is only useful if people describe what really happened, and they only do that when
the write-up is about how the system behaved rather than who to blame. Phrases such as "human
error", "should have" or "if only she had ..." quietly turn a review into a verdict, usually
without anyone meaning to. This module points those phrases out, with a reason and a neutral
rewording, so the authors can decide; it never rewrites or blocks anything.

The rules are data (``blameless_rules.toml`` next to this module) so a team can add, replace or
disable them with its own TOML file. Everything is checked when the rules are loaded, at start-up,
so a typo in a team's file is reported at once rather than when the first postmortem is drafted.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from re import _constants as _sre  # type: ignore[attr-defined]
from re import _parser as _sre_parser  # type: ignore[attr-defined]
from typing import Any, NamedTuple

from incidentbot.errors import IncidentError

__all__ = [
    "BUILTIN_RULES",
    "CATEGORIES",
    "EXCERPT_LIMIT",
    "Flag",
    "Passage",
    "Rule",
    "load_rules",
    "review",
]

BUILTIN_RULES = Path(__file__).resolve().parent / "blameless_rules.toml"
CATEGORIES = ("blame", "hindsight", "minimising", "counterfactual")
EXCERPT_LIMIT = 120

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_RULE_KEYS = frozenset({"id", "category", "pattern", "unless", "why", "suggestion"})
_REQUIRED_KEYS = ("id", "category", "pattern", "why", "suggestion")
_FILE_KEYS = frozenset({"rule", "disabled"})
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

# A Slack user mention as stored (<@U123> or <@U123|alice>), or a typed @handle.
_MENTION = (
    r"<@[UW][A-Z0-9]+(?:\|[^<>]*)?>"
    r"|(?<![\w@.])@(?!(?:here|channel|everyone|group)(?!\w))\w+(?:[.-]\w+)*"
)
# People referred to without a name. "They", "it", "the team" and "the operator"/"the user" are
# left out on purpose: in incident write-ups they refer to pods, Kubernetes operators, API
# clients and outcomes ("the team failed to meet the SLO") as often as to a person's choice, and
# flagging "they failed to become ready" would teach teams to ignore the review.
_ROLES = (
    r"he|she|someone|somebody|anyone|anybody"
    r"|(?:the\s+)?on[\s-]?call(?:\s+(?:engineer|responder|person))?"
    r"|the\s+(?:engineer|developer|dev|responder|reviewer|author|incident\s+commander|sre"
    r"|admin|administrator|dba)(?:\s+on[\s-]?call)?"
)
# Up to three adverbs or auxiliaries between a subject and its verb: "bob accidentally broke",
# "she had already forgotten". Only these words, so "alice found what caused it" stays unflagged.
_GAP = (
    r"(?:\s+(?:\w+ly|had|has|have|then|also|again|somehow|just|already|never|once|still|even"
    r"|did|must)(?!\w)){0,3}"
)
# Past participles: "should have rolled back" is hindsight, "should have a runbook" is a plan.
_PARTICIPLE = (
    r"(?:\w+ed|been|done|seen|known|caught|taken|made|gone|run|thought|found|sent|told|kept|got"
    r"|gotten|put|set|read|hit|let|written|given|shown|brought|built|understood|begun|chosen"
    r"|driven|fallen|felt|forgotten|held|left|lost|meant|paid|said|spent|stood|taught|thrown"
    r"|broken|spoken|shut|cut|split|torn|heard|led|woken|drawn|dealt|bought|sought|undone"
    r"|rerun|redone|rewritten|overseen)(?!\w)"
)
_STATIC_PLACEHOLDERS = {"gap": _GAP, "participle": _PARTICIPLE}
_NAME_PLACEHOLDERS = frozenset({"person", "someone"})
_KNOWN_PLACEHOLDERS = _NAME_PLACEHOLDERS | _STATIC_PLACEHOLDERS.keys()

# Where sentences end: terminal punctuation followed by space or the end, or a line break.
# Slack control sequences are matched first so "<@U1|bob j. smith>" is never split inside.
_SENTENCE_END = re.compile(r"<[^<>\n]*>|[.!?]+(?=\s|$)|\n")
_SPACE = re.compile(r"\s+")
# Python's re matches "ı" (dotless i) case-insensitively with "i"; casefold() does not.
_FOLD_EXTRA = str.maketrans({"ı": "i"})


class _Matcher(NamedTuple):
    """A compiled rule pattern and the literals one of which any match must contain."""

    regex: re.Pattern[str]
    factors: tuple[str, ...] | None

    def may_match(self, folded: str) -> bool:
        """Cheap test on casefolded text; False means the regex cannot match it."""
        return self.factors is None or any(factor in folded for factor in self.factors)

    def may_match_any(self, present: set[str]) -> bool:
        """``may_match`` for a text that contains exactly ``present`` of the review's literals."""
        return self.factors is None or not present.isdisjoint(self.factors)


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One documented kind of blame or hindsight language, checked as soon as it is built.

    ``origin`` names the file the rule came from so every error a team sees points at the file
    to fix. The compiled regexes are kept on the rule so loading once per process is enough.
    """

    id: str
    category: str
    pattern: str
    why: str
    suggestion: str
    unless: str | None = None
    origin: str = "built-in rules"
    _matcher: _Matcher | None = field(init=False, repr=False, compare=False, default=None)
    _unless: re.Pattern[str] | None = field(init=False, repr=False, compare=False, default=None)
    _needs_names: bool = field(init=False, repr=False, compare=False, default=False)
    _why: str = field(init=False, repr=False, compare=False, default="")
    _suggestion: str = field(init=False, repr=False, compare=False, default="")

    def __post_init__(self) -> None:
        """Rejects a malformed rule with a message naming its file, its id and the problem."""

        def fail(problem: str) -> IncidentError:
            return IncidentError(f"{self.origin}: rule {self.id!r}: {problem}")

        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise fail("id must be kebab-case, such as 'human-error'")
        if self.category not in CATEGORIES:
            raise fail(f"category must be one of {', '.join(CATEGORIES)}, not {self.category!r}")
        for name in ("pattern", "why", "suggestion"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise fail(f"{name} must be a non-empty string")
        if self.unless is not None and (not isinstance(self.unless, str) or not self.unless):
            raise fail("unless must be a non-empty string when given")

        used = set(_PLACEHOLDER.findall(self.pattern))
        unknown = sorted(used - _KNOWN_PLACEHOLDERS)
        if unknown:
            raise fail(
                f"pattern uses unknown placeholder {{{unknown[0]}}}; "
                f"known: {', '.join('{' + p + '}' for p in sorted(_KNOWN_PLACEHOLDERS))}"
            )
        needs_names = bool(used & _NAME_PLACEHOLDERS)
        try:
            # First as written (placeholders read as literal text), so an error's position
            # points into the pattern the team wrote rather than into its expansion.
            re.compile(self.pattern, re.IGNORECASE)
            # With names the pattern is compiled per review; compiling it here with a sample
            # name still proves the expansion is valid.
            matcher = _compile(self.pattern, ("alex",) if needs_names else ())
        except re.error as error:
            raise fail(f"pattern is not a valid regex: {error}") from None
        if matcher.regex.search("") is not None:
            raise fail("pattern matches empty text, so it would flag every sentence")
        unless_regex = None
        if self.unless is not None:
            if _PLACEHOLDER.search(self.unless):
                raise fail("unless cannot use placeholders such as {person}")
            try:
                unless_regex = re.compile(self.unless, re.IGNORECASE)
            except re.error as error:
                raise fail(f"unless is not a valid regex: {error}") from None
        object.__setattr__(self, "_matcher", None if needs_names else matcher)
        object.__setattr__(self, "_unless", unless_regex)
        object.__setattr__(self, "_needs_names", needs_names)
        # TOML multi-line strings keep their line breaks; flags read as one line of prose.
        object.__setattr__(self, "_why", _SPACE.sub(" ", self.why.strip()))
        object.__setattr__(self, "_suggestion", _SPACE.sub(" ", self.suggestion.strip()))

    def regex(self, *, names: Iterable[str] = ()) -> re.Pattern[str]:
        """The compiled pattern; rules that mention people depend on who was in the incident."""
        return self._matcher_for(_name_key(names)).regex

    def _matcher_for(self, name_key: tuple[str, ...]) -> _Matcher:
        """The cached matcher for these people (the same one for every incident if no names)."""
        if self._matcher is not None:
            return self._matcher
        return _compile(self.pattern, name_key)

    def excused(self, sentence: str) -> bool:
        """Whether the rule's ``unless`` says this sentence is a known false positive."""
        return self._unless is not None and self._unless.search(sentence) is not None


@dataclass(frozen=True, kw_only=True)
class Flag:
    """One phrase worth a second look: what, where, why it matters and how to say it instead."""

    rule_id: str
    category: str
    phrase: str
    where: str
    excerpt: str
    why: str
    suggestion: str
    # Where the phrase is in the passage's text, so a caller can point at its line and column.
    start: int = 0
    end: int = 0


@dataclass(frozen=True, kw_only=True)
class Passage:
    """Text the caller wants reviewed, with a human description of where it came from."""

    where: str
    text: str


def load_rules(*, extra: Path | None = None) -> list[Rule]:
    """The built-in rules, then a team's file (``INCIDENTBOT_BLAMELESS_RULES``) applied on top.

    A team rule with a built-in's id replaces it in place (so tie-breaking order is kept); new
    ids are appended; top-level ``disabled = [...]`` removes rules. Any problem raises
    ``IncidentError`` naming the file and rule, because this runs once at start-up and a team
    should learn about a mistake then, not from a postmortem that silently skipped a rule.
    """
    rules: dict[str, Rule] = {rule.id: rule for rule in _builtin_rules()}
    if extra is None:
        return list(rules.values())
    team_rules, disabled = _read_file(extra)
    for rule in team_rules:
        rules[rule.id] = rule
    for rule_id in disabled:
        if rule_id not in rules:
            raise IncidentError(
                f"{extra}: disabled lists {rule_id!r}, which is not a rule; "
                f"known rules: {', '.join(rules)}"
            )
        del rules[rule_id]
    return list(rules.values())


def review(
    passages: Iterable[Passage], *, rules: Sequence[Rule], names: Iterable[str] = ()
) -> list[Flag]:
    """Every flag in ``passages``, in passage order and then by position in the text.

    Text is reviewed one sentence at a time so ``unless`` and excerpts are about the sentence a
    reader sees. When two rules flag the same words only the rule listed first is kept, and a
    phrase inside a longer flagged phrase is not flagged again: the longer flag already quotes
    it, and several notes on one clause read as nagging. ``names`` are the display names of people
    in the incident; with Slack mentions they let the rules recognise a person as a subject.
    """
    name_key = _name_key(names)
    compiled = [(order, rule, rule._matcher_for(name_key)) for order, rule in enumerate(rules)]
    unfiltered = [item for item in compiled if item[2].factors is None]
    # Each literal is looked for once per passage, however many rules need it.
    literals = sorted({factor for *_, matcher in compiled for factor in matcher.factors or ()})
    flags: list[Flag] = []
    for passage in passages:
        found: list[tuple[int, int, int, Flag]] = []
        text = passage.text
        # Most passages can match only a rule or two; skipping the rest is what keeps a
        # 10,000-entry timeline fast, since re scans a case-insensitive pattern char by char.
        folded = _fold(text)
        present = set(filter(folded.__contains__, literals))
        candidates = (
            [item for item in compiled if item[2].may_match_any(present)] if present else unfiltered
        )
        if not candidates:
            continue
        same_length = len(folded) == len(text)
        for start, end in _sentence_spans(text):
            sentence = text[start:end]
            folded_sentence = folded[start:end] if same_length else _fold(sentence)
            for order, rule, matcher in candidates:
                if not matcher.may_match(folded_sentence):
                    continue
                matches = [m for m in matcher.regex.finditer(sentence) if m.end() > m.start()]
                if not matches or rule.excused(sentence):
                    continue
                for match in matches:
                    flag = _flag(rule, match, sentence, passage.where, offset=start)
                    found.append((start + match.start(), -(start + match.end()), order, flag))
        # Earliest start first, longest first, then rule order: a span inside one already kept
        # (including the very same span from a later rule) is dropped.
        kept_end = -1
        for begin, negative_end, _order, flag in sorted(found, key=lambda item: item[:3]):
            if begin < kept_end and -negative_end <= kept_end:
                continue
            flags.append(flag)
            kept_end = max(kept_end, -negative_end)
    return flags


@cache
def _builtin_rules() -> tuple[Rule, ...]:
    """The packaged rules, parsed once per process; they cannot change while it runs."""
    rules, disabled = _read_file(BUILTIN_RULES)
    if disabled:
        raise IncidentError(f"{BUILTIN_RULES}: the built-in rules cannot disable rules")
    return tuple(rules)


def _read_file(path: Path) -> tuple[list[Rule], list[str]]:
    """Parses one rules file into rules and the ids it disables, naming the file in any error."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise IncidentError(f"{path}: cannot read the blameless rules file: {error}") from None
    except UnicodeDecodeError:
        raise IncidentError(f"{path}: the blameless rules file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise IncidentError(f"{path}: not valid TOML: {error}") from None
    unexpected = sorted(set(data) - _FILE_KEYS)
    if unexpected:
        raise IncidentError(
            f"{path}: unexpected top-level key {unexpected[0]!r}; expected [[rule]] tables "
            f"and an optional disabled = [...] list"
        )
    tables = data.get("rule", [])
    if not isinstance(tables, list) or not all(isinstance(t, Mapping) for t in tables):
        raise IncidentError(f"{path}: rules must be written as [[rule]] tables")
    disabled = data.get("disabled", [])
    if not isinstance(disabled, list) or not all(isinstance(d, str) for d in disabled):
        raise IncidentError(f"{path}: disabled must be a list of rule ids, such as ['obvious']")
    rules: list[Rule] = []
    seen: set[str] = set()
    for position, table in enumerate(tables, start=1):
        rule = _rule_from_table(table, path=path, position=position)
        if rule.id in seen:
            raise IncidentError(f"{path}: rule {rule.id!r}: the id is used twice in this file")
        seen.add(rule.id)
        rules.append(rule)
    return rules, list(disabled)


def _rule_from_table(table: Mapping[str, Any], *, path: Path, position: int) -> Rule:
    """Builds a rule from one ``[[rule]]`` table, refusing unknown keys (likely typos)."""
    label = repr(table["id"]) if isinstance(table.get("id"), str) else f"#{position}"
    missing = [key for key in _REQUIRED_KEYS if key not in table]
    if missing:
        raise IncidentError(f"{path}: rule {label}: missing {', '.join(missing)}")
    unknown = sorted(set(table) - _RULE_KEYS)
    if "disabled" in unknown:
        raise IncidentError(
            f"{path}: rule {label}: 'disabled' belongs at the top of the file, above the first "
            f"[[rule]]; in TOML a key after a table header is part of that table"
        )
    if unknown:
        raise IncidentError(
            f"{path}: rule {label}: unknown key {unknown[0]!r}; "
            f"expected {', '.join(sorted(_RULE_KEYS))}"
        )
    if not isinstance(table["id"], str):
        raise IncidentError(f"{path}: rule {label}: id must be a string")
    return Rule(
        id=table["id"],
        category=table["category"],
        pattern=table["pattern"],
        why=table["why"],
        suggestion=table["suggestion"],
        unless=table.get("unless"),
        origin=str(path),
    )


def _name_key(names: Iterable[str]) -> tuple[str, ...]:
    """Regex alternatives for people's names: the full name and, for "Bob Schneider", "Bob".

    Sorted so the same people give the same cache key, longest first so "Bob Schneider" wins
    over "Bob". A leading "@" is dropped; one-letter names would match too much to be useful.
    """
    words: set[str] = set()
    for name in names:
        parts = name.strip().lstrip("@").split()
        if not parts:
            continue
        full = " ".join(parts)
        if len(full) >= 2:
            words.add(full.lower())
        if len(parts) > 1 and len(parts[0]) >= 3 and parts[0].isalpha():
            words.add(parts[0].lower())
    return tuple(sorted(words, key=lambda word: (-len(word), word)))


@lru_cache(maxsize=256)
def _compile(pattern: str, names: tuple[str, ...]) -> _Matcher:
    """Expands placeholders and compiles, adding word boundaries at both ends.

    Cached by pattern and names because one incident's postmortem reviews every rule with the
    same names; compiling once per incident keeps a long timeline linear in its length.
    """
    person = _MENTION
    if names:
        alternatives = "|".join(r"\s+".join(map(re.escape, name.split())) for name in names)
        person += rf"|(?<!\w)(?:{alternatives})(?!\w)"
    expansions = {
        **_STATIC_PLACEHOLDERS,
        "person": f"(?:{person})",
        "someone": rf"(?:{person}|(?<!\w)(?:{_ROLES})(?!\w))",
    }

    def expand(match: re.Match[str]) -> str:
        return expansions.get(match[1], match[0])

    expanded = rf"(?<!\w)(?:{_PLACEHOLDER.sub(expand, pattern)})(?!\w)"
    return _Matcher(re.compile(expanded, re.IGNORECASE), _required_factors(expanded))


def _fold(text: str) -> str:
    """Case-folds text the way the prefilter compares it with a rule's literals."""
    folded = text.casefold()
    # translate() looks every character up in a dict; almost no text has a dotless i.
    return folded.translate(_FOLD_EXTRA) if "ı" in folded else folded


Factors = frozenset[str] | None


def _required_factors(pattern: str) -> tuple[str, ...] | None:
    """Literal strings one of which every match must contain, or None if none are known.

    Worked out from the parsed regex, so a team's rule gets the same shortcut without having
    to declare keywords that could drift from its pattern. Anything the walk does not know
    (or a future change to re's private parser) only means "no shortcut", never a missed flag.
    """
    try:
        factors = _sequence_factors(_sre_parser.parse(pattern, re.IGNORECASE))
    except Exception:  # a private API: if it changes, run the regex on everything
        return None
    if not factors or min(map(len, factors)) < 2:
        return None
    return tuple(sorted(factors))


def _sequence_factors(items: Any) -> Factors:
    """The most selective factor set among the parts of a sequence that every match contains."""
    best: Factors = None
    run: list[str] = []

    def consider(candidate: Factors) -> None:
        nonlocal best
        if candidate and all(candidate) and (best is None or _score(candidate) > _score(best)):
            best = candidate

    for op, av in items:
        if op is _sre.LITERAL:
            run.append(_fold(chr(av)))
            continue
        consider(frozenset({"".join(run)}))
        run = []
        if op is _sre.SUBPATTERN:
            consider(_sequence_factors(av[-1]))
        elif op is _sre.ATOMIC_GROUP:
            consider(_sequence_factors(av))
        elif op is _sre.BRANCH:
            consider(_branch_factors(av[1]))
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT) and av[0] >= 1:
            consider(_sequence_factors(av[2]))
    consider(frozenset({"".join(run)}))
    return best


def _branch_factors(alternatives: Any) -> Factors:
    """Every alternative must contribute factors, or the branch gives no guarantee."""
    union: set[str] = set()
    for alternative in alternatives:
        factors = _sequence_factors(alternative)
        if not factors:
            return None
        union |= factors
    return frozenset(union)


def _score(factors: frozenset[str]) -> tuple[int, int]:
    """Longer shortest literal first (fewer false candidates), then fewer literals."""
    return (min(map(len, factors)), -len(factors))


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """Start and end of each sentence, without surrounding space; one pass over the text."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.group().startswith("<"):
            continue
        _add_span(spans, text, start, match.end())
        start = match.end()
    _add_span(spans, text, start, len(text))
    return spans


def _add_span(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    """Appends ``text[start:end]`` trimmed of whitespace, unless nothing is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))


def _flag(rule: Rule, match: re.Match[str], sentence: str, where: str, *, offset: int) -> Flag:
    """A flag for one match, with the sentence trimmed around it as the excerpt.

    ``offset`` is where the sentence starts in the passage, so the flag's span is the passage's.
    """
    phrase = match.group()
    return Flag(
        rule_id=rule.id,
        category=rule.category,
        phrase=phrase,
        where=where,
        excerpt=_excerpt(sentence, match.start(), match.end()),
        why=rule._why,
        suggestion=rule._suggestion.replace("{phrase}", phrase),
        start=offset + match.start(),
        end=offset + match.end(),
    )


def _excerpt(sentence: str, start: int, end: int, *, limit: int = EXCERPT_LIMIT) -> str:
    """The sentence, or a window of about ``limit`` characters centred on the match.

    Cuts fall between words and are marked with "…" so a reader can tell the quote is partial.
    """
    if len(sentence) <= limit:
        return _SPACE.sub(" ", sentence)
    body = limit - 2  # room for an ellipsis at each end
    if end - start >= body:
        return _SPACE.sub(" ", sentence[start : start + body - 1]).rstrip() + "…"
    begin = max(0, start - (body - (end - start)) // 2)
    finish = min(len(sentence), begin + body)
    begin = max(0, finish - body)
    if begin > 0:
        space = sentence.find(" ", begin, start)
        begin = space + 1 if space != -1 else begin
    if finish < len(sentence):
        space = sentence.rfind(" ", end, finish)
        finish = space if space != -1 else finish
    window = _SPACE.sub(" ", sentence[begin:finish]).strip()
    return ("…" if begin > 0 else "") + window + ("…" if finish < len(sentence) else "")
