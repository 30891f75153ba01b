"""The literal prefilter of the blameless review, exactly: which literals a rule's pattern needs.

``_requirements(pattern)`` decides which rules' regexes run on a text: every match of the pattern
contains one literal of each set it returns, and a literal marked as a whole word is one of the
text's words. A literal it claims that a match can do without hides flags; a literal it fails to
claim only costs time. The tables below give, for each pattern, what must appear in any match,
worked out by hand from the pattern; where the prefilter knows less than that (it is allowed
to), the comment says so.

The tests call the compile-time functions themselves and clear the caches around them
(``_compile``'s, the built-in rules', the rule-set indexes), so nothing compiled before the test
started answers for them.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from incidentbot.domain import blameless
from incidentbot.domain.blameless import (
    WHOLE_WORD,
    Passage,
    Rule,
    _bounds_word,
    _ends_at_boundary,
    _excerpt,
    _fold,
    _length,
    _requirements,
    _score,
    _starts_at_boundary,
    _top_level_alternatives,
    review,
)

_parse = re._parser.parse  # type: ignore[attr-defined]  # private: not in typeshed

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Every test compiles its patterns itself, with whatever code is running now."""

    def clear() -> None:
        blameless._compile.cache_clear()
        blameless._builtin_rules.cache_clear()
        blameless._people.cache_clear()
        blameless._INDEXES.clear()

    clear()
    yield
    clear()


def plain_id(value: object) -> str | None:
    """Test ids of letters, digits and underscores: mutmut names tests by id on a command line."""
    return re.sub(r"[^A-Za-z0-9]+", "_", value) or "_" if isinstance(value, str) else None


def wrapped(pattern: str) -> str:
    """The pattern as ``_compile`` hands it to ``_requirements``: between word boundaries."""
    return rf"(?<!\w)(?:{pattern})(?!\w)"


def literal_sets(*sets: set[str]) -> tuple[frozenset[str], ...]:
    """The table's notation: "=word" is a whole-word literal, anything else a substring."""
    return tuple(
        frozenset(WHOLE_WORD + lit[1:] if lit.startswith("=") else lit for lit in s) for s in sets
    )


def requirements_of(pattern: str) -> tuple[frozenset[str], ...] | None:
    """What a rule with this pattern files itself under, placeholders expanded."""
    return blameless._compile.__wrapped__(pattern).requirements


# What [xy][ab][cd][ef][gh] can match: 32 strings.
FIVE_CLASSES = {
    a + b + c + d + e for a in "xy" for b in "ab" for c in "cd" for d in "ef" for e in "gh"
}

SEVENTEEN = {a + b + c for a in ("s", "ss") for b in "sab" for c in ("s", "ss", "a")}
assert len(SEVENTEEN) == 17

# (pattern as a rule writes it, the literal sets in the order the prefilter tries them)
TABLE: list[tuple[str, tuple[frozenset[str], ...] | None]] = [
    # Plain words: the wrapper's (?<!\w) and (?!\w) make a run of word characters a whole word.
    ("blame", literal_sets({"=blame"})),
    ("Human ERROR", literal_sets({"human error"})),  # a space inside: a substring, folded
    ("(?i:HELLO)", literal_sets({"=hello"})),
    ("(?-i:Hello)", literal_sets({"=hello"})),  # compared folded: "Hello" is "hello" there
    ("Straße", literal_sets({"=strasse"})),
    # "İ" is "i" to re's IGNORECASE, so it must be "i" in the literal too.
    ("MİSTAKE", literal_sets({"=mistake"})),
    # Too short to be worth anything: one letter, one digit, one space.
    ("x?", None),
    ("a|bb", None),
    ("7(?:xx)?", None),
    ("(?:xx)? (?:yy)?", None),
    ("ab{1,3}c", None),
    ("ab*c", None),
    # One punctuation mark is rare in prose, so it counts as two characters.
    ("(?:xx)?;(?:yy)?", literal_sets({";"})),
    # Alternations at the top: every alternative must give a literal, one of them is in the match.
    ("foo|barbaz", literal_sets({"=foo", "=barbaz"})),
    ("foo|ab|barbaz", literal_sets({"=foo", "=ab", "=barbaz"})),
    ("(?:abc\\s+def|ghij)", literal_sets({"=abc", "=ghij"})),  # the first of equal best
    ("(?:the\\s+fooo|a\\s+barr)", literal_sets({"=fooo", "=barr"})),
    ("(?:foo|ba)\\s", literal_sets({"=foo", "=ba"})),
    ("(?:foo|b)\\s", None),  # "b" alone gives nothing, so the alternation gives nothing
    # Nested alternations: each is one set; equal scores go in reverse order of their literals.
    ("xx(?:bb|cc)yy", literal_sets({"yy"}, {"xx"}, {"bb", "cc"})),
    ("xx(?:bb|c)yy", literal_sets({"yy"}, {"xx"})),
    ("ab(?:cd|ef)(?:gh|ij)", literal_sets({"ab"}, {"gh", "ij"}, {"cd", "ef"})),
    ("(?:ab|cd)(?:ef|gh)kl", literal_sets({"kl"}, {"ef", "gh"}, {"ab", "cd"})),
    ("(?:abc|de)(?:fg|hijk)", literal_sets({"fg", "hijk"}, {"abc", "de"})),
    ("(?:x|y)(?:ab|cd)", literal_sets({"ab", "cd"})),  # [xy] is one letter, worth nothing
    ("(?P<who>alice|bob)'s fault", literal_sets({"'s fault"}, {"=alice", "=bob"})),
    # Optional parts: what they hold is not needed; what they begin or end with tells whether
    # the word next to them is whole.
    ("should(?:n.t)? have", literal_sets({"should"}, {" have"})),
    ("blame[sd]?", literal_sets({"blame"})),
    ("careless(?:ly)?", literal_sets({"careless"})),
    ("forgot(?:\\s+to)?", literal_sets({"=forgot"})),
    ("(?:really\\s+)?careless", literal_sets({"=careless"})),
    ("(?:foo\\s)?bar", literal_sets({"=bar"})),
    ("bar(?:\\s+foo)*", literal_sets({"=bar"})),
    ("bar(?:\\sfoo|\\s)?", literal_sets({"=bar"})),
    ("bar(?:\\sfoo|x)?", literal_sets({"bar"})),  # "barx"
    ("(?:\\sfoo|x)?bar", literal_sets({"bar"})),  # "xbar"
    # "bar" then nothing or " foo": a whole word either way. The prefilter does not see
    # through an empty alternative and claims only the letters, which is allowed.
    ("bar(?:\\sfoo|)?", literal_sets({"bar"})),
    ("bar(?:\\s+foo|\\s+)", literal_sets({"=bar"})),
    ("(?:fooo|barr)(?:\\s+it)?", literal_sets({"=fooo", "=barr"})),
    ("(?:[.]\\s)?oops", literal_sets({"=oops"})),
    ("oops(?:[.]\\s)?", literal_sets({"=oops"})),
    # Quantifiers: {0,n} and * need nothing, + and {1,n} need the literals (not as whole words
    # unless taken exactly once).
    ("(?:ab){0,3}cd", literal_sets({"cd"})),
    ("(?:ab)*cd", literal_sets({"cd"})),
    ("(?:ab){1,3}cd", literal_sets({"cd"}, {"ab"})),
    ("(?:ab)+cd", literal_sets({"cd"}, {"ab"})),
    ("(?:ab)+?cd", literal_sets({"cd"}, {"ab"})),
    ("(?:ab)++cd", literal_sets({"cd"}, {"ab"})),
    ("(?:blame){1}d", literal_sets({"blame"})),
    ("(?:\\s+blame)+d", literal_sets({"blame"})),
    ("(?:\\s+fooo\\s+){1}bar", literal_sets({"=fooo"}, {"=bar"})),
    # Each time round, "fooo" sits between spaces: whole, though taken twice.
    ("(?:\\s+fooo\\s+){2}bar", literal_sets({"=fooo"}, {"=bar"})),
    ("(?:foo\\s+)+bar", literal_sets({"=bar"}, {"foo"})),
    ("bar(?:\\s+foo)+", literal_sets({"=bar"}, {"foo"})),
    ("foo\\s+bar", literal_sets({"=foo"}, {"=bar"})),
    ("foo\\s+?bar", literal_sets({"=foo"}, {"=bar"})),
    ("foo\\s{2}bar", literal_sets({"=foo"}, {"=bar"})),
    ("foo\\s*bar", literal_sets({"foo"}, {"bar"})),
    ("foo\\s?bar", literal_sets({"foo"}, {"bar"})),
    ("lazy\\w*", literal_sets({"lazy"})),
    ("\\w+ly stupid", literal_sets({"ly stupid"})),
    # Character classes of up to four letters multiply the run (up to 16 strings, then 32 at
    # most); anything else ends it.
    ("[ab]c", literal_sets({"=ac", "=bc"})),
    ("a[bc]d", literal_sets({"=abd", "=acd"})),
    ("[abcd]xy", literal_sets({"=axy", "=bxy", "=cxy", "=dxy"})),
    ("[abcde]xy", literal_sets({"xy"})),
    ("[a-z]xyz", literal_sets({"xyz"})),
    ("[^a]xyz", literal_sets({"xyz"})),
    ("don.t", literal_sets({"don"})),
    ("don't", literal_sets({"don't"})),
    ("don[’']t", literal_sets({"don't", "don’t"})),
    ("[’']s\\s+fault", literal_sets({"=fault"}, {"'s", "’s"})),
    ("[xy][ab][cd][ef][gh]", literal_sets({"=" + word for word in FIVE_CLASSES})),
    ("[xy][ab][cd][ef][gh]zz", literal_sets({"=" + word + "zz" for word in FIVE_CLASSES})),
    # A sixth class would make 64: the run ends before it, and "zz" is a run of its own.
    ("[xy][ab][cd][ef][gh][ij]zz", literal_sets(FIVE_CLASSES, {"zz"})),
    # "ß" folds to "ss", so [sß][sab][sßa] is 17 strings, not 18: more than 16, and the run
    # ends before [xy].
    ("[sß][sab][sßa][xy]", literal_sets(SEVENTEEN)),
    # Escapes.
    ("the\\.dot", literal_sets({"the.dot"})),  # a dot inside: not a word
    ("sev\\d", literal_sets({"sev"})),
    ("(?:http\\s+)?500", literal_sets({"=500"})),
    ("\\bsloppy\\b", literal_sets({"=sloppy"})),
    ("xx\\b-foo", literal_sets({"-foo"}, {"=xx"})),
    # \B says a word goes on: neither side is a whole word.
    ("xx\\Bfoo", literal_sets({"foo"}, {"xx"})),
    ("foo\\Bxx", literal_sets({"foo"}, {"xx"})),
    ("\\Aoops", literal_sets({"=oops"})),
    ("^oops", literal_sets({"=oops"})),
    ("oops$", literal_sets({"=oops"})),
    ("oops\\Z", literal_sets({"=oops"})),
    # Lookarounds take nothing; what a lookahead needs is in the sentence all the same.
    ("tired(?!\\w)", literal_sets({"=tired"})),
    ("ok(?!ay)", literal_sets({"=ok"})),
    ("(?<!no )blame", literal_sets({"=blame"})),
    # A lookaround of something other than \w says nothing about the boundary: past it, the
    # "x" next to "foo" decides.
    ("x(?<!y)foo", literal_sets({"foo"})),
    ("x(?:(?<!y)foo)", literal_sets({"foo"})),
    ("foo(?!y)x", literal_sets({"foo"})),
    ("(?:foo(?!y))x", literal_sets({"foo"})),
    ("(?<=\\s)mess", literal_sets({"=mess"})),
    ("care(?=less)\\w+", literal_sets({"less"}, {"care"})),
    ("(?=\\w*less)care\\w+", literal_sets({"less"}, {"care"})),
    ("(?=\\s*oops)o", literal_sets({"oops"})),
    ("(?=oops\\s)\\w+", literal_sets({"=oops"})),
    ("(?>atom)ic", literal_sets({"atom"}, {"ic"})),
    # A lookaround repeated is still one: "-" then (?<!\w) is a boundary before "foo", and
    # (?!\w) then "-" one after it.
    ("-(?:(?<!\\w))+foo", literal_sets({"=foo"}, {"-"})),
    ("foo(?:(?!\\w))+-", literal_sets({"=foo"}, {"-"})),
    # A lookahead before a word, or a lookbehind after one, faces the wrong way to tell. (Here
    # "foo" is whole all the same, since only spaces can pass them; the prefilter claims less.)
    ("(?!\\w)\\s*foo", literal_sets({"foo"})),
    ("foo\\s*(?<!\\w)", literal_sets({"foo"})),
    # Common words score as one letter: any other literal is tried first.
    ("made\\s+fooo", literal_sets({"=fooo"}, {"=made"})),
    ("fooo\\s+made", literal_sets({"=fooo"}, {"=made"})),
    ("(?:made|did)\\s+it", literal_sets({"=it"}, {"=did", "=made"})),
    # Placeholders. {person} is a mention or a run of name marks: the marks are not in the text
    # the literals are looked for in, so it gives nothing, and what follows it is not whole.
    ("{person} broke", literal_sets({" broke"})),
    ("{person}'s (?:typo|mistake)", literal_sets({"=typo", "=mistake"}, {"'s "})),
    ("{person}['’]s fault", literal_sets({"'s fault", "’s fault"})),
    ("{someone} forgot to", literal_sets({" forgot to"})),
    ("{someone} (?:forgot|neglected) to", literal_sets({"=forgot", "=neglected"}, {" to"})),
    ("{gap}\\s+oops", literal_sets({"=oops"})),
]


@pytest.mark.parametrize(("pattern", "expected"), TABLE, ids=plain_id)
def test_requirements_are_exactly_the_literals_every_match_holds(
    pattern: str, expected: tuple[frozenset[str], ...] | None
) -> None:
    assert requirements_of(pattern) == expected
    if "{" not in pattern:
        assert _requirements(wrapped(pattern)) == expected


def test_should_have_with_a_participle_needs_should_have_and_one_participle() -> None:
    # {gap} is optional and begins with a space, so "should" is whole; {participle} ends with
    # (?!\w), so each participle is whole, except "\w+ed", of which only "ed" is known.
    should, have, participle = requirements_of("should{gap} have {participle}") or ()
    assert (should, have) == literal_sets({"=should"}, {" have "})
    assert "ed" in participle and WHOLE_WORD + "ed" not in participle
    assert {WHOLE_WORD + word for word in ("been", "done", "forgotten", "overseen")} <= participle
    assert all(lit == "ed" or lit.startswith(WHOLE_WORD) for lit in participle)


def test_without_the_word_boundaries_a_run_is_whole_only_between_spaces() -> None:
    assert _requirements("blame") == literal_sets({"blame"})
    assert _requirements(r"\sblame\s") == literal_sets({"=blame"})
    assert _requirements(r"\s(?:blame)\s") == literal_sets({"=blame"})
    assert _requirements(r"\s(?:blame)") == literal_sets({"blame"})
    assert _requirements(r"(?:blame)\s") == literal_sets({"blame"})
    assert _requirements(r"(?:blame)") == literal_sets({"blame"})
    assert _requirements(r"\s(?>blame)\s") == literal_sets({"=blame"})
    assert _requirements(r"\s(?:foo|barr)\s") == literal_sets({"=foo", "=barr"})
    assert _requirements(r"\s(?:foo|barr)") == literal_sets({"foo", "barr"})
    assert _requirements(r"\s(?:blame)+\s") == literal_sets({"blame"})
    assert _requirements(r"\s(?:blame){1}\s") == literal_sets({"=blame"})
    assert _requirements(r"\s(?=blame\s)") == literal_sets({"=blame"})
    assert _requirements(r"(?=blame\s)") == literal_sets({"blame"})
    assert _requirements(r"\s(?=blame)") == literal_sets({"blame"})


def test_a_pattern_the_parser_refuses_gives_no_shortcut() -> None:
    assert _requirements("(unclosed") is None


# (pattern, a text its regex matches): the prefilter must let every one through.
MATCHED = [
    ("MİSTAKE", "Bob made a mistake."),
    ("mistake", "Bob made a MİSTAKE."),
    ("mıstake", "Bob made a MISTAKE."),
    ("xx\\Bfoo", "it was xxfoo again"),
    ("foo\\Bxx", "it was fooxx again"),
    ("bar(?:\\sfoo|)?", "the bar."),
    ("bar(?:\\sfoo|x)?", "the barx."),
    ("should(?:n.t)? have", "you shouldn't have"),
    ("{person}'s (?:typo|mistake)", "It was <@U123>'s typo."),
    ("(?:\\s+fooo\\s+){2}bar", "so,  fooo  fooo bar"),
    ("care(?=less)\\w+", "so careless"),
    ("(?:ab)+cd", "ababcd"),
    ("[xy][ab][cd][ef][gh][ij]zz", "ybdfgjzz"),
]


@pytest.mark.parametrize(("pattern", "text"), MATCHED, ids=plain_id)
def test_a_text_the_regex_matches_passes_the_prefilter(pattern: str, text: str) -> None:
    rule = Rule(id="r", category="blame", pattern=pattern, why="w", suggestion="s")
    assert rule.regex().search(text) is not None
    (part,) = rule._parts
    assert part.may_match(_fold(text))
    assert [f.rule_id for f in review([Passage(where="w", text=text)], rules=[rule])] == ["r"]


def test_a_dotted_capital_i_does_not_hide_a_flag() -> None:
    # re matches "mistake" in "MİSTAKE"; casefold() makes "İ" an "i" and a combining dot, which
    # used to split the word, so the review missed what the regex finds.
    rule = Rule(id="r", category="blame", pattern="mistake", why="w", suggestion="s")
    (flag,) = review([Passage(where="w", text="Bob made a MİSTAKE.")], rules=[rule])
    assert (flag.phrase, flag.start, flag.end) == ("MİSTAKE", 11, 18)


def test_a_non_boundary_does_not_make_a_whole_word() -> None:
    # \B between "xx" and "foo": the text's word is "xxfoo", so neither is a word of its own.
    rule = Rule(id="r", category="blame", pattern=r"xx\Bfoo", why="w", suggestion="s")
    (flag,) = review([Passage(where="w", text="it was xxfoo")], rules=[rule])
    assert flag.phrase == "xxfoo"


# --- the helpers ----------------------------------------------------------------------------


def test_fold_makes_every_i_re_matches_an_i_and_keeps_the_length() -> None:
    assert _fold("MİSTAKE") == "mistake"
    assert _fold("ılık") == "ilik"
    assert _fold("İı") == "ii"
    assert _fold("Straße ABC") == "strasse abc"
    assert _fold("plain") == "plain"


@pytest.mark.parametrize(
    ("literal", "length"),
    [
        ("\x01blame", 5),
        ("blame", 5),
        ("'", 2),
        ("\x01'", 2),
        (";", 2),
        (" ", 1),
        ("\t", 1),
        ("a", 1),
        ("7", 1),
        ("é", 1),
        ("'s", 2),
        ("\ue000", 0),
        ("ab\ue000cd", 0),
    ],
    ids=plain_id,
)
def test_length_counts_characters_and_a_lone_mark_as_two(literal: str, length: int) -> None:
    assert _length(literal) == length


@pytest.mark.parametrize(
    ("factors", "score"),
    [
        ({"\x01blame"}, (5, True, -1)),
        ({"blame"}, (5, False, -1)),
        ({"\x01blame", "\x01typo"}, (4, True, -2)),
        ({"\x01blame", "typo"}, (4, False, -2)),
        ({"\x01made"}, (1, True, -1)),  # a common word counts as one letter
        ({"made"}, (1, False, -1)),
        ({"\x01made", "\x01fooo"}, (1, True, -2)),
        ({"made it"}, (7, False, -1)),
        ({"errors", "\x01there"}, (1, False, -2)),
    ],
    ids=plain_id,
)
def test_score_is_shortest_literal_then_whole_words_then_fewer(
    factors: set[str], score: tuple[int, int, int]
) -> None:
    assert _score(frozenset(factors)) == score


def first_item(pattern: str) -> tuple[object, object]:
    (item,) = list(_parse(pattern))
    return item


@pytest.mark.parametrize(
    ("pattern", "before", "after"),
    [
        (r"\s", True, True),
        (r"[\s]", True, True),
        (r"[\s,]", False, False),
        (r"\w", False, False),
        (r"\S", False, False),
        (r"\s+", True, True),
        (r"\s+?", True, True),
        (r"\s++", True, True),
        (r"\s{2,}", True, True),
        (r"\s*", False, False),
        (r"\s?", False, False),
        (r"(\s)+", False, False),
        (r"(?<!\w)", True, False),
        (r"(?<![\w])", True, False),
        (r"(?!\w)", False, True),
        (r"(?<!\d)", False, False),
        (r"(?<!\w\w)", False, False),
        (r"(?<=\w)", False, False),
        (r"(?=\w)", False, False),
        ("-", True, True),
        ("'", True, True),
        (" ", True, True),
        ("a", False, False),
        ("_", False, False),
        ("é", False, False),
        ("7", False, False),
        (r"\b", True, True),
        ("^", True, True),
        ("$", True, True),
        (r"\A", True, True),
        (r"\Z", True, True),
        (r"\B", False, False),
        (".", False, False),
        ("(-)", False, False),
    ],
    ids=plain_id,
)
def test_bounds_word_knows_the_items_that_sit_on_a_word_boundary(
    pattern: str, before: bool, after: bool
) -> None:
    op, av = first_item(pattern)
    assert (_bounds_word(op, av, before=True), _bounds_word(op, av, before=False)) == (
        before,
        after,
    )


@pytest.mark.parametrize(
    ("pattern", "starts", "ends"),
    [
        ("", False, False),
        ("foo", False, False),
        (r"\sfoo", True, False),
        (r"foo\s", False, True),
        (r"\sfoo\s", True, True),
        (r"-foo'", True, True),
        (r"(?:\sfoo)", True, False),
        (r"(?:foo\s)", False, True),
        (r"(?:(?:\sfoo\s))", True, True),
        (r"(?:\s+a|-b)", True, False),
        (r"(?:a\s|b-)", False, True),
        (r"(?:\s+a|b)", False, False),
        (r"(?:a\s|b)", False, False),
        (r"(?:\sa\s|-)", True, True),
        (r"(?:\sa\s|\s)", True, False),  # re reads it as \s(?:a\s|)
        (r"\s+foo", True, False),
        (r"foo\s+", False, True),
        (r"\s*foo", False, False),
        (r"foo\s*", False, False),
        (r"(?:\s+x)+", True, False),
        (r"(?:x\s+)+", False, True),
        (r"(?:\s+x)*", False, False),
        (r"(?:x\s+)*", False, False),
        (r"(?:\s+x\s)?", False, False),
        (r"(?<!\w)x(?!\w)", False, False),
        (r"\bx\b", True, True),
        (r"\Bx\B", False, False),
        (r"^x$", True, True),
        (r"(?=\s)x", False, False),
    ],
    ids=plain_id,
)
def test_starts_and_ends_at_boundary_look_at_the_first_and_last_item(
    pattern: str, starts: bool, ends: bool
) -> None:
    items = _parse(pattern)
    assert (_starts_at_boundary(items), _ends_at_boundary(items)) == (starts, ends)


@pytest.mark.parametrize(
    ("pattern", "parts"),
    [
        ("a|b", ["a", "b"]),
        ("", [""]),
        ("abc", ["abc"]),
        ("a|", ["a", ""]),
        ("|a", ["", "a"]),
        ("a||b", ["a", "", "b"]),
        (r"a\|b", [r"a\|b"]),
        (r"a\\|b", [r"a\\", "b"]),
        ("(a|(b|c))|d", ["(a|(b|c))", "d"]),
        ("(a|b)|(c|d)", ["(a|b)", "(c|d)"]),
        (r"\(|x", [r"\(", "x"]),
        (r"\)|x", [r"\)", "x"]),
        ("[|]|x", ["[|]", "x"]),
        ("[^|]|x", ["[^|]", "x"]),
        ("[]|]|x", ["[]|]", "x"]),
        ("[^]|]|x", ["[^]|]", "x"]),
        ("x[]]|y", ["x[]]", "y"]),
        (r"[\]|]|x", [r"[\]|]", "x"]),
        ("[(]|x", ["[(]", "x"]),
        ("[a|]|x", ["[a|]", "x"]),
        ("[a(b]|x", ["[a(b]", "x"]),
        ("[)]|x", ["[)]", "x"]),
        ("[a]|[b]", ["[a]", "[b]"]),
        ("a\\", ["a\\"]),
    ],
    ids=plain_id,
)
def test_top_level_alternatives_split_only_at_bars_outside_groups_and_classes(
    pattern: str, parts: list[str]
) -> None:
    assert _top_level_alternatives(pattern) == parts


# --- excerpts -------------------------------------------------------------------------------

SIX = "one two three four five six"  # "three" is 8-13, "six" 24-27


@pytest.mark.parametrize(
    ("sentence", "start", "end", "limit", "excerpt"),
    [
        # Short enough: the whole sentence, its spaces tidied.
        ("a  b\nc", 0, 1, 120, "a b c"),
        ("abcde", 0, 1, 5, "abcde"),
        (SIX, 8, 13, 27, SIX),
        # Otherwise a window of limit - 2 characters around the phrase, cut between words.
        (SIX, 8, 13, 26, "one two three four five…"),
        (SIX, 8, 13, 15, "…three…"),
        (SIX, 0, 3, 15, "one two…"),
        (SIX, 24, 27, 15, "…five six"),
        (SIX, 19, 23, 15, "…five six"),  # the window reaches the end: no cut after the phrase
        ("x" * 30, 10, 12, 22, "…" + "x" * 20 + "…"),  # one character cut off the start
        (SIX, 4, 7, 12, "…two…"),
        ("abcde", 0, 1, 4, "ab…"),
        ("abcde", 4, 5, 4, "…de"),
        # No space to cut at: the window's edge.
        ("x" * 30, 10, 12, 10, "…" + "x" * 8 + "…"),
        ("x" * 9 + " " + "y" * 20, 14, 16, 10, "…" + "y" * 8 + "…"),
        # A phrase as long as the window or longer: its start, then an ellipsis.
        ("xx abcdefgh yy zz", 3, 11, 10, "abcdefg…"),
        ("xx abcdefg yy zz", 3, 10, 10, "…abcdefg…"),
        ("ab cd   ef gh ij kl", 0, 19, 10, "ab cd…"),
        ("ab cd   ef gh ij kl", 0, 19, 12, "ab cd e…"),
    ],
    ids=plain_id,
)
def test_excerpt_is_the_sentence_or_whole_words_around_the_phrase(
    sentence: str, start: int, end: int, limit: int, excerpt: str
) -> None:
    assert _excerpt(sentence, start, end, limit=limit) == excerpt


def test_excerpt_limit_defaults_to_the_modules_limit() -> None:
    sentence = "w " * 60 + "blame"
    assert len(sentence) == 125
    assert _excerpt(sentence, 120, 125) == "…" + "w " * 56 + "blame"
    assert _excerpt(sentence[5:], 115, 120) == sentence[5:]


# --- the built-in rules, compiled afresh ------------------------------------------------------


def _every_sentence() -> list[str]:
    sentences: list[str] = []
    for name in ("blameless_corpus.toml", "blameless_heldout.toml", "blameless_holdout2.toml"):
        data = tomllib.loads((DATA / name).read_text("utf-8"))
        sentences += [s for group in data["group"] for s in group["sentences"]]
    return sentences


def test_fresh_builtin_rules_flag_what_their_regexes_find() -> None:
    # The rules compiled now (the caches are empty), reviewed through a fresh index: on every
    # corpus sentence the review keeps the flags that every part's regex run everywhere finds.
    rules = blameless.load_rules()
    unfiltered = [
        (order, rule, part._replace(requirements=None))
        for order, rule in enumerate(rules)
        for part in rule._parts
    ]
    people = blameless._people(())
    nothing = blameless._LiteralFinder({})
    for text in _every_sentence():
        expected = [
            (rule.id, text[begin:end])
            for begin, end, rule, *_ in blameless._review_text(text, nothing, unfiltered, people)
        ]
        got = [(f.rule_id, f.phrase) for f in review([Passage(where="w", text=text)], rules=rules)]
        assert got == expected, text


# --- how the literals are used ----------------------------------------------------------------


def rule(pattern: str, rule_id: str = "r") -> Rule:
    return Rule(id=rule_id, category="blame", pattern=pattern, why="w", suggestion="s")


def test_may_match_needs_one_literal_of_every_set_and_whole_words_among_the_words() -> None:
    (part,) = rule(r"foo\s+barr")._parts
    assert part.requirements == literal_sets({"=barr"}, {"=foo"})
    assert part.may_match("foo and barr") is True
    assert part.may_match("foo and bar") is False  # the first set is missing
    assert part.may_match("barr only") is False  # the second
    assert part.may_match("foobarr") is False  # both only inside a word
    assert part.may_match("foo and bar", skip=1) is True  # the caller says the first is met
    assert part.may_match("", {"barr", "foo"}) is True  # the words given are used
    assert part.may_match("foo barr", set()) is False
    (inside,) = rule("blame[sd]?")._parts
    assert inside.may_match("unblamed") is True
    assert inside.may_match("blam") is False
    (anything,) = rule(r"x+y+")._parts
    assert anything.requirements is None
    assert anything.may_match("") is True


def test_the_index_files_each_part_under_its_first_literals() -> None:
    rules = (
        rule(r"foo\s+barr", "words"),
        rule("blame[sd]?", "inside"),
        rule("{person}['’]s fault", "punctuation"),
        rule(r"x+y+", "nothing"),
        rule(r"(?:http\s+)?500", "number"),
    )
    finder, unfiltered = blameless._index(rules)
    assert [rules[order].id for order, *_ in unfiltered] == ["nothing"]
    assert blameless._index(rules)[0] is finder

    def parts(text: str) -> list[str]:
        folded = _fold(text)
        return [rules[order].id for order, *_ in finder.parts(folded, finder.words_of(folded))]

    assert parts("foo and barr") == ["words"]
    assert parts("barr only") == []
    assert parts("it was unblamed") == ["inside"]
    assert parts("it was bob's fault") == ["punctuation"]
    assert parts("a 500 and a 404") == ["number"]
    assert parts("nothing to see") == []
    # Whole words are looked up as they are, not by their ends.
    short_first = (rule("bc", "bc"), rule("abc", "abc"))
    whole, _ = blameless._index(short_first)
    assert [short_first[order].id for order, *_ in whole.parts("abc", {"abc"})] == ["abc"]
    # A number is a word only when some literal is one.
    assert finder.words_of("a 500 b") == {"a", "500", "b"}
    letters, _ = blameless._index(rules[:2])
    assert letters.words_of("a 500 b") == {"a", "b"}
