"""Incident channel names that Slack accepts whatever the title holds."""

from __future__ import annotations

import re

import pytest

from incidentbot.domain.channel_names import (
    MAX_CHANNEL_NAME_LENGTH,
    channel_name,
    slugify,
    validate_prefix,
    with_suffix,
)
from incidentbot.domain.errors import IncidentError

VALID = re.compile(r"^[a-z0-9_-]{1,80}$")


def assert_valid(name: str) -> None:
    """Slack's rules plus ours: allowed characters, length, no stray hyphens."""
    assert VALID.fullmatch(name), name
    assert "--" not in name, name
    assert not name.startswith(("-", "_")), name
    assert not name.endswith(("-", "_")), name


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("DB failover", "inc-42-db-failover"),
        ("Café Ünïcode", "inc-42-cafe-unicode"),
        ("Straße in Łódź", "inc-42-strasse-in-lodz"),
        ("Ærø ferry Ølstykke", "inc-42-aero-ferry-olstykke"),
        ("Crème brûlée façade", "inc-42-creme-brulee-facade"),
        ("ＡＢＣ fullwidth", "inc-42-abc-fullwidth"),
        ("API 日本語 down 🔥", "inc-42-api-down"),
        ("  --Hello,   World!!-- ", "inc-42-hello-world"),
        ("500s on API v2.1", "inc-42-500s-on-api-v2-1"),
        ("2026 outage #3", "inc-42-2026-outage-3"),
        ("payments_api latency", "inc-42-payments_api-latency"),
        ("a _ b __init__", "inc-42-a-b-init"),
        ("<!channel> {{ 7*7 }}", "inc-42-channel-7-7"),
    ],
)
def test_channel_name(title: str, expected: str) -> None:
    name = channel_name(prefix="inc", number=42, title=title)
    assert name == expected
    assert_valid(name)


@pytest.mark.parametrize("title", ["!!!", "🔥🔥", "日本語", "", "   ", "---", "___", "—…—"])
def test_titles_without_letters_give_prefix_and_number(title: str) -> None:
    assert channel_name(prefix="inc", number=7, title=title) == "inc-7"


def test_slugify_may_be_empty() -> None:
    assert slugify("🔥") == ""
    assert slugify("Café Ünïcode") == "cafe-unicode"


def test_title_exactly_at_the_limit_is_kept_whole() -> None:
    # "inc-1-" is 6 characters, leaving 74 for the slug.
    title = " ".join(["abcdefghi"] * 7) + " " + "x" * 4  # 7*10 + 4 = 74
    name = channel_name(prefix="inc", number=1, title=title)
    assert len(name) == MAX_CHANNEL_NAME_LENGTH
    assert name.endswith("-xxxx")
    assert_valid(name)


def test_title_one_over_the_limit_is_cut_at_a_word_boundary() -> None:
    title = " ".join(["abcdefghi"] * 7) + " " + "x" * 5  # 75 characters of slug
    name = channel_name(prefix="inc", number=1, title=title)
    assert name == "inc-1-" + "-".join(["abcdefghi"] * 7)
    assert_valid(name)


def test_cut_landing_on_a_hyphen_keeps_the_whole_word() -> None:
    title = " ".join(["abcdefghi"] * 8)  # the 74th slug character is the end of a word
    name = channel_name(prefix="inc", number=1, title=title)
    assert name == "inc-1-" + "-".join(["abcdefghi"] * 7)


def test_one_enormous_word_is_cut_hard() -> None:
    name = channel_name(prefix="inc", number=123, title="x" * 500)
    assert name == "inc-123-" + "x" * 72
    assert_valid(name)


@pytest.mark.parametrize("number", [1, 42, 999, 123456789])
@pytest.mark.parametrize(
    "title",
    [
        "word " * 40,
        "Ünïcödé " * 30,
        "a" * 79,
        "a " * 79,
        "🔥 fire " * 20,
        "checkout-service p99 latency > 2s after deploy #4711 (EU-West) — rollback in progress",
    ],
)
def test_long_titles_always_give_valid_names(number: int, title: str) -> None:
    name = channel_name(prefix="inc", number=number, title=title)
    assert_valid(name)
    assert name.startswith(f"inc-{number}")
    assert len(name) <= MAX_CHANNEL_NAME_LENGTH


def test_custom_max_length() -> None:
    assert channel_name(prefix="inc", number=5, title="database failover", max_length=20) == (
        "inc-5-database"
    )


def test_number_that_does_not_fit_is_refused() -> None:
    with pytest.raises(IncidentError):
        channel_name(prefix="inc", number=123, title="x", max_length=6)


def test_negative_number_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        channel_name(prefix="inc", number=-1, title="x")


# --- prefixes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("inc", "inc"),
        ("INC", "inc"),
        (" Inc ", "inc"),
        ("sec-inc", "sec-inc"),
        ("ops_inc", "ops_inc"),
        ("inc2", "inc2"),
        ("a" * 40, "a" * 40),
    ],
)
def test_valid_prefixes(prefix: str, expected: str) -> None:
    assert validate_prefix(prefix) == expected


@pytest.mark.parametrize(
    "prefix", ["", "   ", "in c", "inc-", "-inc", "in--c", "#inc", "incé", "inc!", "a" * 41]
)
def test_invalid_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(IncidentError):
        validate_prefix(prefix)
    with pytest.raises(IncidentError):
        channel_name(prefix=prefix, number=1, title="x")


def test_prefix_is_lowercased_in_names() -> None:
    assert channel_name(prefix="SEC", number=3, title="Leak") == "sec-3-leak"


# --- suffixes for name_taken --------------------------------------------------------------------


def test_first_attempt_is_the_plain_name() -> None:
    assert with_suffix("inc-4-db", 1) == "inc-4-db"


@pytest.mark.parametrize(
    ("attempt", "expected"), [(2, "inc-4-db-2"), (3, "inc-4-db-3"), (10, "inc-4-db-10")]
)
def test_suffixes(attempt: int, expected: str) -> None:
    assert with_suffix("inc-4-db", attempt) == expected


def test_suffix_on_a_name_without_slug() -> None:
    assert with_suffix("inc-7", 2) == "inc-7-2"


def test_suffix_near_the_limit_trims_the_slug_at_a_word() -> None:
    name = channel_name(prefix="inc", number=1, title=" ".join(["abcdefghi"] * 8))
    assert len(name) == 75
    assert with_suffix(name, 2) == name + "-2"  # 77: fits
    long_name = channel_name(prefix="inc", number=1, title=" ".join(["abcdefghi"] * 7) + " xxxx")
    assert len(long_name) == 80
    suffixed = with_suffix(long_name, 2)
    assert suffixed == "inc-1-" + "-".join(["abcdefghi"] * 7) + "-2"
    assert_valid(suffixed)


def test_suffix_never_trims_prefix_or_number() -> None:
    name = channel_name(prefix="inc", number=98765, title="y" * 200)
    assert len(name) == 80
    for attempt in (2, 10, 100, 1000):
        suffixed = with_suffix(name, attempt)
        assert suffixed.startswith("inc-98765-y")
        assert suffixed.endswith(f"-{attempt}")
        assert len(suffixed) == 80
        assert_valid(suffixed)


@pytest.mark.parametrize(
    "title", ["word " * 40, "x" * 100, "", "checkout latency " * 10, "ab " * 40]
)
def test_many_attempts_stay_valid_and_distinct(title: str) -> None:
    name = channel_name(prefix="inc", number=12, title=title)
    names = [with_suffix(name, attempt) for attempt in range(1, 120)]
    assert len(set(names)) == len(names)
    for candidate in names:
        assert_valid(candidate)
        assert candidate.startswith("inc-12")


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError):
        with_suffix("inc-1-x", 0)


# --- behaviours the mutation run found unprotected (docs/mutation.md) ---------------------------


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("  ", "The channel prefix is empty. Use something like “inc”."),
        (
            " " + "a" * 41 + " ",
            f"The channel prefix “{'a' * 41}” is too long: at most 40 characters leave room for "
            "the incident number and title.",
        ),
        (
            " sec inc ",
            "The channel prefix “sec inc” can't be used in Slack channel names: use only letters "
            "a-z, digits, “_” and single “-” between them (no spaces, no leading or trailing "
            "“-”), e.g. “inc” or “sec-inc”.",
        ),
    ],
)
def test_a_refused_prefix_says_what_is_wrong_with_it(prefix: str, message: str) -> None:
    with pytest.raises(IncidentError) as refused:
        validate_prefix(prefix)
    assert str(refused.value) == message


def test_a_number_that_leaves_no_room_is_refused_with_the_limit() -> None:
    with pytest.raises(IncidentError) as refused:
        channel_name(prefix=" inc ", number=123, title="x", max_length=6)
    assert str(refused.value) == (
        "The channel prefix “inc” leaves no room for incident 123 within 6 characters."
    )


def test_a_number_that_exactly_fills_the_limit_is_not_refused() -> None:
    assert channel_name(prefix="inc", number=123, title="db down", max_length=7).startswith(
        "inc-123"
    )
    assert channel_name(prefix="inc", number=123, title="db down", max_length=8) == "inc-123"


def test_a_number_that_exactly_fills_the_limit_gives_a_name_without_slug() -> None:
    assert channel_name(prefix="inc", number=123, title="db down", max_length=7) == "inc-123"
    assert channel_name(prefix="inc", number=123, title="db down", max_length=8) == "inc-123"
    assert channel_name(prefix="inc", number=123, title="db down", max_length=10) == "inc-123-db"


def test_incident_zero_is_a_number_like_any_other() -> None:
    assert channel_name(prefix="inc", number=0, title="Drill") == "inc-0-drill"


def test_a_negative_number_is_refused_with_its_reason() -> None:
    with pytest.raises(ValueError, match="^incident numbers are not negative$"):
        channel_name(prefix="inc", number=-1, title="x")


def test_a_cut_may_fall_back_to_a_one_letter_first_word() -> None:
    # The slug gets 4 characters: "a-bc" would end inside a word, so only "a" stays.
    assert channel_name(prefix="inc", number=1, title="a bcdefghij", max_length=10) == "inc-1-a"


def test_a_cut_landing_just_before_a_hyphen_keeps_every_whole_word() -> None:
    # The slug gets 5 characters, "ab-cd", and the next one is a hyphen: both words stay.
    assert channel_name(prefix="inc", number=1, title="ab cd ef", max_length=11) == "inc-1-ab-cd"


def test_a_hard_cut_never_leaves_a_trailing_underscore() -> None:
    name = channel_name(prefix="inc", number=1, title="abc__def", max_length=10)
    assert name == "inc-1-abc"
    assert_valid(name)


def test_a_name_without_a_number_takes_a_suffix_too() -> None:
    assert with_suffix("general", 2) == "general-2"
    # Nothing of it is protected: the cut may fall after its first word.
    assert with_suffix("x-" + "y" * 78, 2) == "x-2"


def test_a_suffix_that_exactly_fills_the_limit_is_allowed() -> None:
    assert with_suffix("inc-123", 2, max_length=9) == "inc-123-2"


def test_a_suffix_that_does_not_fit_beside_the_number_is_refused() -> None:
    with pytest.raises(ValueError) as refused:
        with_suffix("inc-123", 2, max_length=8)
    assert str(refused.value) == "'inc-123' leaves no room for a suffix within 8 characters"


def test_attempts_count_from_one_says_so() -> None:
    with pytest.raises(ValueError, match="^attempts count from 1$"):
        with_suffix("inc-1-x", 0)
