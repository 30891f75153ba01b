"""review_document: what of a Markdown file is reviewed, and where in the file each flag is."""

from __future__ import annotations

import pytest

from incidentbot.domain.blameless import load_rules
from incidentbot.postmortem.review_document import document_passages, review_document

RULES = load_rules()


def flags(text: str, **kwargs) -> list[tuple[int, int, str]]:
    """(line, column, phrase) of every flag, as an editor would be sent to them."""
    return [
        (item.line, item.column, item.flag.phrase)
        for item in review_document(text, rules=RULES, **kwargs)
    ]


def test_each_table_cell_is_reviewed_on_its_own_with_its_column():
    text = (
        "| When | What | Notes |\n"
        "|---|---|---|\n"
        "| 14:05 | careless | careless |\n"
        "| a \\| b | x | The root cause was human error. |\n"
    )

    assert flags(text) == [
        (3, 11, "careless"),
        (3, 22, "careless"),
        # The escaped pipe is one character shorter in the cell than in the file.
        (4, 35, "human error"),
    ]
    # A sentence does not run from one cell into the next.
    cells = [p.passage.text for p in document_passages(text)]
    assert "The root cause was human error." in cells


def test_block_quotes_are_reviewed_without_their_markers():
    text = "Intro.\n\n> From the chat:\n> > we should\n> > have rolled back.\n"

    assert flags(text) == [(4, 5, "we should have")]
    assert [p.passage.text for p in document_passages(text)][-1] == ("we should have rolled back.")


def test_list_items_nested_and_numbered():
    text = (
        "- Timeline\n  1. Mitigated.\n  2. The root cause was human error.\n     It was careless.\n"
    )

    assert flags(text) == [(3, 25, "human error"), (4, 13, "careless")]


def test_headings_atx_and_setext():
    text = "## Why: human error ##\n\nCareless\n========\n"

    assert flags(text) == [(1, 9, "human error"), (3, 1, "Careless")]


def test_a_phrase_across_a_line_break_and_emphasis_starts_where_its_first_word_is():
    text = "The timeline shows that the\n   root cause was **human** _error_.\n"

    assert flags(text) == [(2, 21, "human error")]


def test_escapes_and_entities_keep_later_columns_right():
    text = "Fish &amp; chips \\* 2: the root cause was human error.\n"

    assert flags(text) == [(1, 43, "human error")]


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_line_endings_give_the_same_positions(newline: str):
    text = "# Notes\n\n| a | b |\n|---|---|\n| x | careless |\n\n> we should\n> have rolled back\n"

    assert (
        flags(text.replace("\n", newline))
        == flags(text)
        == [
            (5, 7, "careless"),
            (7, 3, "we should have"),
        ]
    )


def test_a_tab_is_one_column():
    assert flags("Note:\tThe root cause was human error.\n") == [(1, 26, "human error")]
    # A tab after a list bullet is expanded by the parser; the column is still the file's.
    assert flags("-\tIt was careless.\n") == [(1, 10, "careless")]
    assert flags(">\tIt was careless.\n") == [(1, 10, "careless")]


def test_a_byte_order_mark_is_not_a_column():
    assert flags("\ufeffIt was careless.\n") == [(1, 8, "careless")]


def test_a_document_that_is_only_code_has_nothing_to_review():
    text = (
        "```\nThe root cause was human error.\n```\n\n"
        "    It was careless.\n\n"
        "~~~text\nwe should have rolled back\n~~~\n\n"
        "`The root cause was human error.`\n"
    )

    assert flags(text) == []
    # Only the inline code's paragraph is a passage, and it is all code.
    assert [p.passage.text for p in document_passages(text)] == [
        "`The root cause was human error.`"
    ]


def test_inline_code_keeps_its_place_but_is_never_flagged():
    assert flags("The `human error` counter and human `x` error are metrics.\n") == []
    # Prose next to code is still reviewed.
    assert flags("After `kubectl apply` it was careless.\n") == [(1, 30, "careless")]


def test_links_review_their_text_and_not_their_address_or_title():
    text = (
        'See [the careless deploy](https://example.com/human-error "careless title") and '
        "<https://example.com/careless>, https://wiki.example.com/human-error and "
        "![a careless change](careless.png).\n\n"
        "[ref]: https://example.com/careless\n"
    )

    assert flags(text) == [(1, 10, "careless"), (1, 158, "careless")]
    # The words after a link are found after its address and title, not inside them.
    after = '[runbook](https://example.com/r "notes: it was careless.") it was careless.\n'
    assert flags(after) == [(1, 67, "careless")]


def test_html_comments_and_blocks_are_not_reviewed():
    text = (
        "<!-- The root cause was human error. -->\n\n"
        "<div>\nIt was careless.\n</div>\n\n"
        "Fine <!-- careless --> text, <b>careless</b>.\n"
    )

    # Only the words between the inline tags are shown to readers.
    assert flags(text) == [(7, 33, "careless")]


def test_front_matter_only_at_the_very_top():
    yaml = "---\ntitle: The root cause was human error\n---\nIt was careless.\n"
    toml = "+++\ntitle = 'careless'\n+++\nIt was careless.\n"
    not_closed = "---\nIt was careless.\n"
    later = "Intro.\n\n---\nIt was careless.\n---\n"

    assert flags(yaml) == [(4, 8, "careless")]
    assert flags(toml) == [(4, 8, "careless")]
    assert flags(not_closed) == [(2, 8, "careless")]
    assert flags(later) == [(4, 8, "careless")]


def test_names_are_passed_to_the_rules():
    text = "Later Quorrbax broke the payment gateway.\n"

    assert flags(text) == []
    assert flags(text, names=["Quorrbax"]) == [(1, 7, "Quorrbax broke")]


def test_plain_text_is_paragraphs():
    text = "Summary\n\nAt 14:05 the alert fired.\nThe root cause was human error.\n"

    assert flags(text) == [(4, 20, "human error")]
    assert [p.passage.text for p in document_passages(text)] == [
        "Summary",
        "At 14:05 the alert fired. The root cause was human error.",
    ]


def test_each_passage_says_where_its_text_starts():
    text = "# Title\n\n| a | careless |\n|--|--|\n\n> x\n"

    assert [p.passage.where for p in document_passages(text)] == [
        "line 1, column 3",
        "line 3, column 3",
        "line 3, column 7",
        "line 6, column 3",
    ]
