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
from re import _constants as _sre  # type: ignore[attr-defined]  # private: not in typeshed
from re import _parser as _sre_parser  # type: ignore[attr-defined]  # private: not in typeshed
from typing import Any, NamedTuple

from incidentbot.domain.errors import IncidentError

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
CATEGORIES = ("blame", "hindsight", "minimising", "counterfactual", "exhortation")
GIVEN_NAMES = Path(__file__).resolve().parent / "given_names.txt"
EXCERPT_LIMIT = 120

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_RULE_KEYS = frozenset({"id", "category", "pattern", "unless", "why", "suggestion"})
_REQUIRED_KEYS = ("id", "category", "pattern", "why", "suggestion")
_FILE_KEYS = frozenset({"rule", "disabled"})
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# In a suggestion: {phrase}, {object} (what the phrase acted on), {rest} (the words after it, to
# the end of the clause), or a named group of the pattern, with an optional
# default after a bar for when the sentence gives nothing: {object|the change}.
_SUGGESTION_PLACEHOLDER = re.compile(r"\{([a-z_]+)(?:\|([^{}]*))?\}")
_SUGGESTION_BUILTINS = frozenset({"phrase", "object", "rest"})

# A Slack user mention as stored (<@U123> or <@U123|alice>), or a typed @handle.
_MENTION = (
    r"<@[UW][A-Z0-9]+(?:\|[^<>]*)?>"
    r"|(?<![\w@.])@(?!(?:here|channel|everyone|group)(?!\w))\w+(?:[.-]\w+)*"
)
# People referred to without a name. "It", "the user" and "the operator" are left out on
# purpose: in incident write-ups they refer to pods, API clients and Kubernetes operators as
# often as to a person. "They" and groups ({group}) count only where rules name them, with
# judgement-laden verbs: "they failed to become ready" is about pods and is not flagged.
_ROLES = (
    r"he|she|someone|somebody|anyone|anybody"
    r"|whoever(?:\s+was\s+on[\s-]?call(?:\s+(?:last\s+night|that\s+night|yesterday))?)?"
    r"|(?:the\s+)?on[\s-]?call(?:\s+(?:engineer|responder|person))?"
    r"|(?:the|an?)\s+(?:(?:release|build|deploy|support|database|network|platform|duty)\s+)?"
    r"(?:engineer|developer|dev|responder|reviewer|author|incident\s+commander|sre"
    r"|admin|administrator|dba|approver|deployer|(?:release\s+|engineering\s+)?manager"
    r"|lead|owner|maintainer|person|guy)s?"
    r"(?:\s+(?:on[\s-]?call|deploying|responsible|in\s+charge))?"
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
# Groups and roles named as culprits: "the platform team", "a new hire", "the vendor's
# technician", "QA". Only as the subject of a failure verb or in a possessive, where they are
# blamed; "the team decided to pause deploys" is not matched by any rule that uses this.
_GROUP = (
    r"(?:(?:the|a|an|our|their|that|this|some|one\s+of\s+the)\s+)?"
    r"(?:(?:new|junior|offshore|outsourced|external|third[\s-]party|other|whole|entire)\s+)*"
    r"(?:(?:[\w-]+\s+)?(?:team|folks|guys|squad|crew|department|shift)"
    r"|(?:new|junior|inexperienced|trainee)\s+(?:engineer|developer|dev|sre|admin|dba|person|guy"
    r"|girl)s?|management|leadership|execs|executives"
    r"|new\s+(?:hire|starter|joiner)s?|interns?|contractors?|rookies?|newbies?|trainees?"
    r"|vendor(?:['’]s\s+(?:technician|engineer|staff|person|contractor)s?|s)?|technicians?"
    r"|qa|ops|devops|dbas|sysadmins|developers|devs|engineers|(?:a|an|one)\s+(?:human|person))"
)
# Words that say the writer is describing a planned, correct step rather than a slip: "Tomas
# dropped the stale slot, as the procedure requires". Rules about destructive verbs use it.
_AS_PLANNED = (
    r"(?<!\w)(?:(?:as|per)\s+(?:\w+\s+){0,3}?(?:planned|documented|agreed|intended|scheduled"
    r"|requires?|specifies|describes|says|runbook|plan|procedure|checklist|playbook|ticket)"
    r"|after\s+(?:confirming|checking|verifying|taking|backing|snapshotting|agreeing|the\s+"
    r"(?:[\w-]+\s+){1,3}?(?:was|had\s+been)\s+(?:approved|agreed))|(?:with|after)\s+(?:\w+\s+)?"
    r"(?:approval|sign-off|agreement)|with\s+(?:[\w'’-]+\s+){0,2}?(?:approval|sign-off|go-ahead)"
    r"|(?:agreed|approved|requested)\s+(?:with|by|in)|listed\s+in|(?:as\s+)?noted\s+in"
    r"|approved\s+(?:change|request|plan|ticket|cr)|following\s+the\s+(?:approved|agreed"
    r"|documented|runbook|plan|procedure)|expected|known|decommissioned"
    r"|deliberately|intentionally|on\s+purpose|documented|standard\s+(?:procedure|practice)"
    r"|routine|(?:the|a)\s+(?:temporary\s+)?mitigation|drill|reimag\w*)(?!\w)"
)
# What a planned clean-up removes: "dropped the stale replication slot", "deleted the corrupted
# cache keys". Rules about destructive verbs also accept these as a planned step.
_CLEANUP = (
    r"(?<!\w)(?:(?:to|in\s+order\s+to)\s+(?:free|recover|restore|stop|unblock|mitigate|clear|fix"
    r"|reclaim)|(?:the|a|an|all|some|those|these|every)\s+(?:[\w-]+\s+)?(?:stale|poisoned"
    r"|temporary|test|unused|obsolete|orphaned|expired|scratch|corrupted|bad|broken|flaky|decom\w*"
    r"|leftover|duplicate|leaked|compromised|exposed|revoked)|severity|priority|sev\d?|rate"
    r"|latency|load|ttl|timeout|threshold)(?!\w)"
)
_STATIC_PLACEHOLDERS = {
    "gap": _GAP,
    "participle": _PARTICIPLE,
    "group": _GROUP,
    "as_planned": _AS_PLANNED,
    "cleanup": _CLEANUP,
}
_NAME_PLACEHOLDERS = frozenset({"person", "someone"})
_KNOWN_PLACEHOLDERS = _NAME_PLACEHOLDERS | _STATIC_PLACEHOLDERS.keys()

# Where sentences end: terminal punctuation followed by space or the end, or a line break.
# Slack control sequences are matched first so "<@U1|bob j. smith>" is never split inside.
# Quotations are skipped the same way, so "asked 'why didn't anyone notice?'" stays one sentence.
_SENTENCE_END = re.compile(
    r"<[^<>\n]*>|\"[^\"\n]*\"|“[^”\n]*”|(?<!\w)'(?=\S)(?:[^'\n]|(?<=\w)'(?=\w))*?(?<=\S)'(?!\w)"
    r"|[.!?]+(?=\s|$)|\n"
)
_SPACE = re.compile(r"\s+")
# Python's re matches "ı" (dotless i) and "İ" (dotted capital I) case-insensitively with "i";
# casefold() leaves "ı" alone and makes "İ" two characters, "i" and a combining dot, which is
# not a word character, so "MİSTAKE" would hold neither the word nor the letters of "mistake".
_FOLD_EXTRA = str.maketrans({"ı": "i", "İ": "i"})


class _Matcher(NamedTuple):
    """A compiled pattern and the literals any match must contain.

    ``requirements`` are sets of literals: a match contains one literal of every set. None
    means nothing is known, and the regex runs on every sentence.
    """

    regex: re.Pattern[str]
    requirements: tuple[frozenset[str], ...] | None

    def may_match(self, folded: str, words: set[str] | None = None, *, skip: int = 0) -> bool:
        """Cheap test on casefolded text; False means the regex cannot match it.

        ``words`` are the text's words (``_WORD_CHARS``), worked out here if not given.
        ``skip`` leaves out the first requirements, when the caller knows they are met.
        """
        if self.requirements is None:
            return True
        for required in self.requirements[skip:]:
            for factor in required:
                if factor[0] == WHOLE_WORD:
                    if words is None:
                        words = set(_WORD_CHARS.findall(folded))
                    if factor[1:] in words:
                        break
                elif factor in folded:
                    break
            else:
                return False
        return True


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
    _parts: tuple[_Matcher, ...] = field(init=False, repr=False, compare=False, default=())
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
        try:
            # First as written (placeholders read as literal text), so an error's position
            # points into the pattern the team wrote rather than into its expansion.
            re.compile(self.pattern, re.IGNORECASE)
            matcher = _compile(self.pattern)
            parts = tuple(_compile(part) for part in _top_level_alternatives(self.pattern))
        except re.error as error:
            raise fail(f"pattern is not a valid regex: {error}") from None
        if matcher.regex.search("") is not None:
            raise fail("pattern matches empty text, so it would flag every sentence")
        unless_regex = None
        if self.unless is not None:
            unless_used = set(_PLACEHOLDER.findall(self.unless))
            if unless_used & _NAME_PLACEHOLDERS:
                raise fail("unless cannot use placeholders such as {person}")
            if unless_used - _KNOWN_PLACEHOLDERS:
                raise fail(f"unless uses unknown placeholder {{{sorted(unless_used)[0]}}}")
            try:
                unless_regex = re.compile(
                    _PLACEHOLDER.sub(lambda m: _STATIC_PLACEHOLDERS.get(m[1], m[0]), self.unless),
                    re.IGNORECASE,
                )
            except re.error as error:
                raise fail(f"unless is not a valid regex: {error}") from None
        groups = set(matcher.regex.groupindex)
        for name, _default in _SUGGESTION_PLACEHOLDER.findall(self.suggestion):
            if name not in _SUGGESTION_BUILTINS | groups:
                raise fail(
                    f"suggestion uses {{{name}}}, which is neither {{phrase}}, {{object}} "
                    f"nor a named group (?P<{name}>...) of the pattern"
                )
        object.__setattr__(self, "_matcher", matcher)
        object.__setattr__(self, "_parts", parts)
        object.__setattr__(self, "_unless", unless_regex)
        # TOML multi-line strings keep their line breaks; flags read as one line of prose.
        object.__setattr__(self, "_why", _SPACE.sub(" ", self.why.strip()))
        object.__setattr__(self, "_suggestion", _SPACE.sub(" ", self.suggestion.strip()))

    def regex(self) -> re.Pattern[str]:
        """The compiled pattern. People's names are not in it: a review marks them in the text
        (see ``_PERSON_MARK``), so one compiled pattern serves every incident."""
        assert self._matcher is not None
        return self._matcher.regex

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
    passages = list(passages)
    people = _people(_name_key(names))
    finder, unfiltered = _index(tuple(rules))
    # A timeline repeats itself ("rolled back", "monitoring"): each distinct text is reviewed
    # once, and its flags are given the place of every passage that holds it.
    seen: dict[str, list[tuple[int, int, Rule, re.Match[str], str, int]]] = {}
    flags: list[Flag] = []
    for passage in passages:
        text = passage.text
        kept = seen.get(text)
        if kept is None:
            kept = seen[text] = _review_text(text, finder, unfiltered, people)
        for _begin, _end, rule, match, sentence, offset in kept:
            flags.append(_flag(rule, match, sentence, passage.where, offset=offset))
    return flags


_Part = tuple[int, "Rule", "_Matcher"]
# The index of the rule sets reviewed lately (the built-in rules, a team's), by the rules
# themselves: building it costs more than reviewing a sentence, and a CLI run or a corpus
# reviews thousands of short texts with the same rules.
_INDEXES: dict[tuple[Rule, ...], tuple[_LiteralFinder, list[_Part]]] = {}


def _index(rules: tuple[Rule, ...]) -> tuple[_LiteralFinder, list[_Part]]:
    """The parts of ``rules`` filed by literal (``_LiteralFinder``), and those with none."""
    found = _INDEXES.get(rules)
    if found is not None:
        return found
    # One matcher per top-level alternative of each rule, each with its own literals: a rule
    # such as "X's typo, or X's change that broke …" needs "typo" in one alternative and "broke"
    # in the other, and as one regex it would run wherever either word is.
    compiled = [(order, rule, part) for order, rule in enumerate(rules) for part in rule._parts]
    unfiltered = [item for item in compiled if item[2].requirements is None]
    # Each part is filed under the literals of its most selective requirement; only the parts
    # filed under a literal a text contains are considered further.
    by_literal: dict[str, list[_Part]] = {}
    for item in compiled:
        if item[2].requirements is not None:
            for literal in item[2].requirements[0]:
                by_literal.setdefault(literal, []).append(item)
    if len(_INDEXES) >= 8:
        _INDEXES.clear()
    found = _INDEXES[rules] = (_LiteralFinder(by_literal), unfiltered)
    return found


class _LiteralFinder:
    """Which rule parts a text may match, from the literals of their most selective requirement.

    A whole-word literal is looked up among the text's words. Other literals made of word
    characters can only occur inside one word, so the parts they admit are worked out per
    distinct word, once per rule set (up to ``MAX_WORDS`` words, then afresh): a timeline's
    vocabulary is far smaller than its length. The few literals with other characters ("'s")
    are looked for in the whole text.
    """

    MAX_WORDS = 100_000

    def __init__(self, by_literal: Mapping[str, list[tuple[int, Rule, _Matcher]]]) -> None:
        self.items = [item for items in by_literal.values() for item in items]
        index = {id(item): position for position, item in enumerate(self.items)}
        self.other: list[tuple[str, frozenset[int]]] = []
        self.whole: dict[str, frozenset[int]] = {}
        # A literal inside a word starts with one of the word's letters.
        self.starting_with: dict[str, list[tuple[str, frozenset[int]]]] = {}
        for literal, items in by_literal.items():
            positions = frozenset(index[id(item)] for item in items)
            if literal[0] == WHOLE_WORD:
                self.whole[literal[1:]] = self.whole.get(literal[1:], frozenset()) | positions
            elif _WORD_CHARS.fullmatch(literal):
                self.starting_with.setdefault(literal[0], []).append((literal, positions))
            else:
                self.other.append((literal, positions))
        self.in_word: dict[str, frozenset[int]] = {}
        # Numbers and times fill timelines; a word of digits only matters if a literal is one.
        literals = [
            lit.removeprefix(WHOLE_WORD)
            for *_, matcher in self.items
            for required in matcher.requirements or ()
            for lit in required
        ]
        self._words = _WORD_CHARS if any(lit.isdigit() for lit in literals) else _WORD_WITH_A_LETTER

    def words_of(self, folded: str) -> set[str]:
        """The words of a casefolded text, as the literals and names are looked up in."""
        return set(self._words.findall(folded))

    def parts(self, folded: str, words: set[str]) -> list[tuple[int, Rule, _Matcher]]:
        """The parts ``folded`` may match; ``words`` are its words (``words_of``)."""
        filed: set[int] = set()
        for literal, positions in self.other:
            if literal in folded:
                filed |= positions
        in_word = self.in_word
        if len(in_word) > self.MAX_WORDS:
            in_word.clear()  # a long-running process meets new words for ever
        for word in words:
            known = in_word.get(word)
            if known is None:
                known = in_word[word] = self.whole.get(word, frozenset()).union(
                    *(
                        found
                        for first in set(word)
                        for literal, found in self.starting_with.get(first, ())
                        if literal in word
                    )
                )
            filed |= known
        # The first requirement is met: it is what the part was filed under.
        return [
            self.items[i]
            for i in sorted(filed)
            if self.items[i][2].may_match(folded, words, skip=1)
        ]


def _review_text(
    text: str,
    finder: _LiteralFinder,
    unfiltered: list[tuple[int, Rule, _Matcher]],
    people: _People,
) -> list[tuple[int, int, Rule, re.Match[str], str, int]]:
    """The matches kept in one text: (start, end, rule, match, sentence, sentence offset).

    Matches are found in the text with people's names marked; their spans are the same in the
    text as written, which is what flags quote.
    """
    # Most texts can match only a rule or two; skipping the rest is what keeps a 10,000-entry
    # timeline fast, since re scans a case-insensitive pattern char by char.
    folded = _fold(text)
    words = finder.words_of(folded)
    candidates = unfiltered + finder.parts(folded, words)
    if not candidates:
        return []
    found: list[tuple[int, int, int, Rule, re.Match[str], str, int]] = []
    same_length = len(folded) == len(text)
    marked = _mark_people(text, people, words)
    for start, end in _sentence_spans(text):
        sentence = text[start:end]
        marked_sentence = marked[start:end]
        folded_sentence = folded[start:end] if same_length else _fold(sentence)
        quoted = _quoted_spans(sentence)
        whole = start == 0 and end == len(text)
        for order, rule, matcher in candidates:
            # The text passed the literals test; a sentence of several needs it on its own.
            if not whole and not matcher.may_match(folded_sentence):
                continue
            matches = [
                m
                for m in matcher.regex.finditer(marked_sentence)
                if m.end() > m.start() and not _quoted(quoted, m.start(), m.end())
            ]
            if not matches or rule.excused(sentence):
                continue
            for match in matches:
                found.append(
                    (
                        start + match.start(),
                        -(start + match.end()),
                        order,
                        rule,
                        match,
                        sentence,
                        start,
                    )
                )
    # Earliest start first, longest first, then rule order: a span inside one already kept
    # (including the very same span from a later rule) is dropped.
    # Two parts of one rule overlapping ("remind the team to be more careful") are one note.
    kept: list[tuple[int, int, Rule, re.Match[str], str, int]] = []
    kept_end = -1
    rule_end: dict[str, int] = {}
    for begin, negative_end, _order, rule, match, sentence, offset in sorted(
        found, key=lambda item: item[:3]
    ):
        if begin < kept_end and -negative_end <= kept_end or begin < rule_end.get(rule.id, -1):
            continue
        rule_end[rule.id] = -negative_end
        kept.append((begin, -negative_end, rule, match, sentence, offset))
        kept_end = max(kept_end, -negative_end)
    return kept


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


@cache
def _given_names() -> frozenset[str]:
    """Common given names (``given_names.txt``), lowercase; its header says how it was made."""
    lines = GIVEN_NAMES.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


# "Ji-woo", which the list holds as "jiwoo".
_HYPHENATED = re.compile(r"[^\W\d_]{2,}-[^\W\d_]{2,}")
# A word that may be a given name, with a possessive: "Marco", "Siobhán's". Not after "@",
# where it is a handle the mention pattern reads.
_NAME_WORD = re.compile(r"(?<![\w@])[^\W\d_]+(?:-[^\W\d_]+)?(?:['’]s)?(?![\w'’-])")


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


# What a known person's name becomes in the text the rules read: as many of these as the name
# has characters, so every span stays where it was. {person} matches a run of them. A private-
# use character: no text a person types has it, and it is neither a word character nor space.
_PERSON_MARK = "\ue000"


class _People(NamedTuple):
    """How a review finds people's names: the known people's pattern, and the words (one per
    name) a text must contain for the pattern to be worth running; None when a name has no
    word with a letter, which a review's words may leave out (``_LiteralFinder.words_of``)."""

    marker: re.Pattern[str] | None
    first_words: frozenset[str] | None


@lru_cache(maxsize=64)
def _people(names: tuple[str, ...]) -> _People:
    """The known people of a review, ready to mark in its texts."""
    if not names:
        return _People(None, frozenset())
    alternatives = "|".join(r"\s+".join(map(re.escape, name.split())) for name in names)
    # Not after "@": "@bob" is a handle, which {person} reads as a mention.
    marker = re.compile(rf"(?<![\w@])(?:{alternatives})(?!\w)", re.IGNORECASE)
    # The first word with a letter: "007" is not among a text's words unless a rule needs it.
    found = [_WORD_WITH_A_LETTER.findall(_fold(name)) for name in names]
    first_words = frozenset(words[0] for words in found) if all(found) else None
    return _People(marker, first_words)


def _mark_people(text: str, people: _People, words: set[str]) -> str:
    """``text`` with people's names replaced by marks of the same length.

    People are the incident's and the workspace's (``people``) and anyone called by a common
    given name ("Marco broke the build"): a write-up names people the bot has never seen, a
    contractor or someone from another company. A word in capitals reads as an acronym.
    ``words`` are the text's casefolded words; almost no text names anyone, and they tell so
    without a pass over the text.
    """
    if people.marker is not None and (
        people.first_words is None or not people.first_words.isdisjoint(words)
    ):
        text = people.marker.sub(lambda found: _PERSON_MARK * len(found.group()), text)
    known = _given_names()
    if known.isdisjoint(words) and (
        "-" not in text
        or known.isdisjoint(w.replace("-", "") for w in _HYPHENATED.findall(text.casefold()))
    ):
        return text
    pieces: list[str] = []
    last = 0
    for found in _NAME_WORD.finditer(text):
        word = found.group()
        name = word[:-2] if word.endswith(("'s", "’s")) else word
        # "Ji-woo" is listed as "jiwoo".
        if name.replace("-", "").casefold() in known and not name.isupper() and len(name) >= 3:
            pieces += [text[last : found.start()], _PERSON_MARK * len(name)]
            last = found.start() + len(name)
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


@lru_cache(maxsize=1024)
def _compile(pattern: str) -> _Matcher:
    """Expands placeholders and compiles, adding word boundaries at both ends.

    Cached by pattern: the built-in rules and a team's are compiled once per process.
    """
    person = rf"{_MENTION}|{_PERSON_MARK}+"
    expansions = {
        **_STATIC_PLACEHOLDERS,
        "person": f"(?:{person})",
        "someone": rf"(?:{person}|(?<!\w)(?:{_ROLES})(?!\w))",
    }

    def expand(match: re.Match[str]) -> str:
        return expansions.get(match[1], match[0])

    expanded = rf"(?<!\w)(?:{_PLACEHOLDER.sub(expand, pattern)})(?!\w)"
    return _Matcher(re.compile(expanded, re.IGNORECASE), _requirements(expanded))


def _top_level_alternatives(pattern: str) -> list[str]:
    """``pattern`` split at the bars outside groups and character classes."""
    parts: list[str] = []
    depth = 0
    start = 0
    index = 0
    in_class = False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            # "[]...]" and "[^]...]": a bracket first in the class is a member.
            if pattern[index + 1 : index + 2] == "^":
                index += 1
            if pattern[index + 1 : index + 2] == "]":
                index += 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:index])
            start = index + 1
        index += 1
    parts.append(pattern[start:])
    return parts


def _fold(text: str) -> str:
    """Case-folds text the way the prefilter compares it with a rule's literals."""
    # translate() looks every character up in a dict; almost no text has either letter. It
    # comes first: casefold() would already have split "İ".
    if "ı" in text or "İ" in text:
        text = text.translate(_FOLD_EXTRA)
    return text.casefold()


# A literal the pattern only matches as a whole word ("broke" between spaces) is kept with this
# in front: it is looked up among the text's words, so "checkout" does not admit "check".
WHOLE_WORD = "\x01"
_WORD_CHARS = re.compile(r"\w+")
_WORD_WITH_A_LETTER = re.compile(r"\w*[^\W\d]\w*")


def _requirements(pattern: str) -> tuple[frozenset[str], ...] | None:
    """Sets of literal strings: every match contains one of each set. None if none are known.

    Worked out from the parsed regex, so a team's rule gets the same shortcut without having
    to declare keywords that could drift from its pattern. Anything the walk does not know
    (or a future change to re's private parser) only means "no shortcut", never a missed flag.
    The most selective set comes first, so a sentence is usually turned away by the first.
    """
    try:
        found = _walk(_sre_parser.parse(pattern, re.IGNORECASE), left=False, right=False)
    except Exception:  # a private API: if it changes, run the regex on everything
        return None
    useful = {required for required in found if min(map(_length, required)) >= 2}
    if not useful:
        return None
    return tuple(sorted(useful, key=lambda required: (_score(required), sorted(required)))[::-1])


def _bounds_word(op: Any, av: Any, *, before: bool) -> bool:
    """Whether this item guarantees a word boundary on the side of a literal next to it."""
    if op is _sre.IN:
        return bool(av == [(_sre.CATEGORY, _sre.CATEGORY_SPACE)])
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
        return av[0] >= 1 and len(av[2]) == 1 and _bounds_word(*av[2][0], before=before)
    if op is _sre.ASSERT_NOT:
        direction, body = av
        # (?<!\w) before a literal, (?!\w) after it.
        return (direction == -1) == before and list(body) == [
            (_sre.IN, [(_sre.CATEGORY, _sre.CATEGORY_WORD)])
        ]
    if op is _sre.LITERAL:
        return not _WORD_CHARS.fullmatch(chr(av))
    # ^, $, \A, \Z and \b; \B says the opposite, that a word goes on.
    return op is _sre.AT and av is not _sre.AT_NON_BOUNDARY


def _is_repeat(op: Any) -> bool:
    return op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT)


def _starts_at_boundary(items: Any) -> bool:
    """Whether whatever this sequence matches begins with a space or a non-word character."""
    items = list(items)
    if not items:
        return False
    op, av = items[0]
    if op is _sre.SUBPATTERN:
        return _starts_at_boundary(av[-1])
    if op is _sre.BRANCH:
        return all(_starts_at_boundary(alternative) for alternative in av[1])
    if _is_repeat(op):
        return av[0] >= 1 and _starts_at_boundary(av[2])
    return _bounds_word(op, av, before=True) and op is not _sre.ASSERT_NOT


def _ends_at_boundary(items: Any) -> bool:
    """Whether whatever this sequence matches ends with a space or a non-word character."""
    items = list(items)
    if not items:
        return False
    op, av = items[-1]
    if op is _sre.SUBPATTERN:
        return _ends_at_boundary(av[-1])
    if op is _sre.BRANCH:
        return all(_ends_at_boundary(alternative) for alternative in av[1])
    if _is_repeat(op):
        return av[0] >= 1 and _ends_at_boundary(av[2])
    return _bounds_word(op, av, before=False) and op is not _sre.ASSERT_NOT


def _walk(items: Any, *, left: bool, right: bool) -> list[frozenset[str]]:
    """Every literal set a match of this sequence must contain: its literal runs, and the best
    set of each group or alternation it must pass through.

    ``left`` and ``right`` say whether the sequence is known to start and end at a word
    boundary; a run of word characters bounded on both sides is a whole word (``WHOLE_WORD``).
    """
    items = list(items)
    found: list[frozenset[str]] = []
    run: set[str] = {""}
    run_left = left

    def bounded_before(index: int) -> bool:
        # Past lookbehinds and optional parts that end with a boundary ("(?:really\s+)?").
        for op, av in reversed(items[:index]):
            if op is _sre.ASSERT_NOT and av[0] == -1 and _bounds_word(op, av, before=True):
                return True
            if op in (_sre.ASSERT, _sre.ASSERT_NOT) and av[0] == -1:
                continue
            if _is_repeat(op) and av[0] == 0 and _ends_at_boundary(av[2]):
                continue
            return _bounds_word(op, av, before=True) or _ends_at_boundary([(op, av)])
        return left

    def bounded_after(index: int) -> bool:
        # Past lookaheads (they take nothing) and optional parts that begin with a boundary
        # ("forgot(?:\s+to)?"): either they are taken, or what comes after them decides.
        for op, av in items[index + 1 :]:
            if op is _sre.ASSERT_NOT and av[0] == 1 and _bounds_word(op, av, before=False):
                return True
            if op in (_sre.ASSERT, _sre.ASSERT_NOT) and av[0] == 1:
                continue
            if _is_repeat(op) and av[0] == 0 and _starts_at_boundary(av[2]):
                continue
            return _bounds_word(op, av, before=False) or _starts_at_boundary([(op, av)])
        return right

    def flush(run_right: bool) -> None:
        nonlocal run
        if run != {""}:
            whole = run_left and run_right and all(_WORD_CHARS.fullmatch(lit) for lit in run)
            found.append(frozenset(WHOLE_WORD + lit if whole else lit for lit in run))
        run = {""}

    for index, (op, av) in enumerate(items):
        if op is _sre.LITERAL:
            if run == {""}:
                run_left = bounded_before(index)
            run = {prefix + _fold(chr(av)) for prefix in run}
            continue
        if (
            op is _sre.IN
            and len(av) <= 4
            and len(run) <= 16
            and all(kind is _sre.LITERAL for kind, _ in av)
        ):
            if run == {""}:
                run_left = bounded_before(index)
            run = {prefix + _fold(chr(char)) for prefix in run for _, char in av}
            continue
        flush(bounded_after(index - 1) if index else left)
        inner_left, inner_right = bounded_before(index), bounded_after(index)
        if op is _sre.SUBPATTERN:
            found.extend(_walk(av[-1], left=inner_left, right=inner_right))
        elif op is _sre.ATOMIC_GROUP:
            found.extend(_walk(av, left=inner_left, right=inner_right))
        elif op is _sre.BRANCH:
            union = _union_of_best(av[1], left=inner_left, right=inner_right)
            if union:
                found.append(union)
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT) and av[0] >= 1:
            once = av[1] == 1
            found.extend(_walk(av[2], left=inner_left and once, right=inner_right and once))
        elif op is _sre.ASSERT and av[0] == 1:
            # What a lookahead requires is in the text too, just not in the match.
            found.extend(_walk(av[1], left=inner_left, right=False))
    flush(right)
    return found


def _union_of_best(alternatives: Any, *, left: bool, right: bool) -> frozenset[str] | None:
    """Every alternative must contribute a set, or the alternation gives no guarantee."""
    union: set[str] = set()
    for alternative in alternatives:
        sets = [
            required
            for required in _walk(alternative, left=left, right=right)
            if min(map(_length, required)) >= 2
        ]
        if not sets:
            return None
        best: frozenset[str] = max(sets, key=_score)
        union |= best
    return frozenset(union)


def _length(literal: str) -> int:
    """How selective a literal is, by length: punctuation such as an apostrophe counts as two,
    since it is rare in the text a review reads, unlike any one letter."""
    bare = literal.removeprefix(WHOLE_WORD)
    if _PERSON_MARK in bare:
        return 0  # marks are in the text the rules read, not in the text the literals are
    return 2 if len(bare) == 1 and not bare.isalnum() and not bare.isspace() else len(bare)


# Words nearly every sentence of an incident write-up contains: as a rule's only required
# literal they let the rule's regex run on almost everything, so any other literal is better.
_COMMON_WORDS = frozenset(
    {
        # and what incident notes say all the time
        "error",
        "errors",
        "rate",
        "restarted",
        "a",
        "an",
        "and",
        "as",
        "at",
        "be",
        "by",
        "did",
        "do",
        "for",
        "had",
        "has",
        "have",
        "he",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "new",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "she",
        "so",
        "that",
        "the",
        "their",
        "them",
        "they",
        "this",
        "to",
        "up",
        "us",
        "was",
        "we",
        "were",
        "what",
        "when",
        "who",
        "why",
        "will",
        "with",
        "you",
        "all",
        "again",
        "alert",
        "because",
        "before",
        "call",
        "made",
        "after",
        "then",
        "there",
    }
)


def _score(factors: frozenset[str]) -> tuple[int, int, int]:
    """Longer shortest literal first (fewer false candidates), then whole words, then fewer.

    A common word counts as one character long: "on" or "made" is in most sentences.
    """
    lengths = []
    for factor in factors:
        bare = factor.removeprefix(WHOLE_WORD)
        lengths.append(1 if bare in _COMMON_WORDS else len(bare))
    whole = all(factor.startswith(WHOLE_WORD) for factor in factors)
    return (min(lengths), whole, -len(factors))


# Words the writer quotes or marks as code are mentioned, not used: "we removed 'human error'
# from the draft", "ran `git blame`". Straight single quotes count only around words, so the
# apostrophes of "Bob's" and "don't" never open a quotation.
_QUOTED = re.compile(
    r"`[^`]+`|\"[^\"]+\"|“[^”]+”|‘[^’]+’|(?<!\w)'(?=\S)(?:[^'\n]|(?<=\w)'(?=\w))*?(?<=\S)'(?!\w)"
)


def _quoted_spans(sentence: str) -> list[tuple[int, int]]:
    """Where the sentence quotes or marks code; empty for nearly every sentence."""
    if not any(mark in sentence for mark in "`\"“‘'"):
        return []
    return [match.span() for match in _QUOTED.finditer(sentence)]


def _quoted(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether a match lies inside one quotation."""
    return any(begin <= start and end <= finish for begin, finish in spans)


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """Start and end of each sentence, without surrounding space; one pass over the text."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.group()[0] in "<\"“'":
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
    The suggestion is filled in from this sentence, so it names what the sentence is about.
    """
    # The match was found in the sentence with names marked; its spans are the sentence's.
    phrase = sentence[match.start() : match.end()]
    values = {
        key: _SPACE.sub(" ", sentence[match.start(key) : match.end(key)])
        for key in match.re.groupindex
        if match.start(key) >= 0
    }
    values["phrase"] = phrase
    rest, acted_on = _clause_after(sentence, match.end())
    if rest:
        values["rest"] = rest
    if acted_on:
        values["object"] = acted_on

    def fill(placeholder: re.Match[str]) -> str:
        return values.get(placeholder[1], placeholder[2] or "")

    return Flag(
        rule_id=rule.id,
        category=rule.category,
        phrase=phrase,
        where=where,
        excerpt=_excerpt(sentence, match.start(), match.end()),
        why=rule._why,
        suggestion=_SUGGESTION_PLACEHOLDER.sub(fill, rule._suggestion),
        start=offset + match.start(),
        end=offset + match.end(),
    )


# Where the thing a flagged phrase acts on ends: punctuation, or a word that starts a new clause
# or an adverbial ("by mistake", "on Tuesday", "because ...").
_OBJECT_END = re.compile(
    r"[,;:.!?()\[\]\"“”]|\s(?:by|with|during|at|on|before|after|because|when|while|so|but|and|or"
    r"|which|that|despite|for|since|until|again|without|instead|as|then|in\s+(?:production|prod"
    r"|front|the\s+middle))(?!\w)",
    re.IGNORECASE,
)
_OBJECT_WORDS = 7
_VERB = re.compile(
    r"\w+ed|took|broke|brought|ran|made|let|left|cost|hit|put|set|shut|knocked|went|sent|kept|was"
    r"|were|is|are",
    re.IGNORECASE,
)
_PARTICLES = frozenset({"down", "up", "out", "off", "offline", "over", "through"})
_POSSESSIVE = re.compile(r"(?<!\w)(?:his|her|their|my|your)(?!\w)", re.IGNORECASE)


def _clause_after(sentence: str, end: int) -> tuple[str, str]:
    """The words after a phrase to the end of its clause, and what the phrase acted on.

    "Bob should have | rolled back the deploy" gives "rolled back the deploy" and, past the verb
    and its particle, "back the deploy"; "Marco's typo | took the API down" gives "the API".
    Possessive pronouns become "the", so a suggestion does not point back at a person. Either is
    empty when the clause is longer than a few words, since a long quote reads worse than none.
    """
    rest = sentence[end:]
    stop = _OBJECT_END.search(rest)
    words = (rest[: stop.start()] if stop else rest).split()
    if not words or len(words) > _OBJECT_WORDS:
        return "", ""
    whole = _POSSESSIVE.sub("the", " ".join(words))
    if _VERB.fullmatch(words[0]):
        words = words[1:]
        while words and words[-1].casefold() in _PARTICLES:
            words.pop()
    return whole, _POSSESSIVE.sub("the", " ".join(words))


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
