"""Recall and false positives of the built-in blameless rules on the project's own corpus.

tests/data/blameless_corpus.toml holds sentences written for incidentbot, each group labelled
blameful or clean with a class. The figures per class are printed (pytest -s) and reported in
docs/blameless.md.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from pathlib import Path

import pytest

from incidentbot.blameless import Passage, load_rules, review

CORPUS = Path(__file__).parent / "data" / "blameless_corpus.toml"

# The targets. Until the rules reach them the test enforces the figures reached so far
# as floors (FLOOR_*), so a regression still fails; raise the floors as the rules improve.
TARGET_RECALL = 0.90
TARGET_FP = 0.05
FLOOR_RECALL = 0.45
CEILING_FP = 0.057


def _load() -> tuple[list[tuple[str, str, str]], tuple[str, ...]]:
    data = tomllib.loads(CORPUS.read_text(encoding="utf-8"))
    items = [
        (group["label"], group["class"], sentence)
        for group in data["group"]
        for sentence in group["sentences"]
    ]
    return items, tuple(data.get("names", ()))


def measure() -> dict[str, dict[str, tuple[int, int]]]:
    """{label: {class: (flagged, total)}} over the corpus with the built-in rules."""
    items, names = _load()
    rules = load_rules()
    figures: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for label, cls, sentence in items:
        flagged = bool(review([Passage(where="corpus", text=sentence)], rules=rules, names=names))
        figures[label][cls][0] += flagged
        figures[label][cls][1] += 1
    return {label: {c: (f, t) for c, (f, t) in by.items()} for label, by in figures.items()}


def _rate(by_class: dict[str, tuple[int, int]]) -> float:
    flagged = sum(f for f, _ in by_class.values())
    total = sum(t for _, t in by_class.values())
    return flagged / total


def test_corpus_is_big_enough() -> None:
    items, _ = _load()
    assert sum(label == "blameful" for label, _, _ in items) >= 150
    assert sum(label == "clean" for label, _, _ in items) >= 150
    assert {label for label, _, _ in items} == {"blameful", "clean"}


def test_recall_and_false_positives(capsys: pytest.CaptureFixture[str]) -> None:
    figures = measure()
    recall = _rate(figures["blameful"])
    fp = _rate(figures["clean"])
    with capsys.disabled():
        print(f"\nrecall {recall:.3f} (target {TARGET_RECALL}), FP {fp:.3f} (target {TARGET_FP})")
        for label in ("blameful", "clean"):
            for cls, (f, t) in sorted(figures[label].items()):
                print(f"  {label:8} {cls:40} {f:3}/{t:<3} {f / t:.2f}")
    assert recall >= FLOOR_RECALL
    assert fp <= CEILING_FP
