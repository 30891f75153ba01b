"""Recall and false positives of the built-in blameless rules on the project's own corpora.

Each corpus file under tests/data/ holds sentences written for incidentbot, each group labelled
blameful or clean with a class (the classes of blame language the field's guides name, and
traps: clean sentences that only look like blame). The figures per class are printed (pytest
-s) and reported in docs/blameless.md.

- Every corpus after the first was written blind: by someone who had not read the rules or the
  other corpora.
- The development corpora are the ones the rules were then written and tuned against, one after
  the other, so they hold the issue's thresholds.
- ``BLIND`` is the newest corpus, never used to tune the rules: its figures say how the rules do
  on sentences nobody fitted them to. It holds a floor against regressions, not the target.
  When rules are tuned against it, it joins the development corpora and a new blind corpus is
  written (docs/blameless.md, "Measured on the project's corpora").
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from pathlib import Path

import pytest

from incidentbot.domain.blameless import Passage, load_rules, review

DATA = Path(__file__).parent / "data"
DEVELOPMENT = (
    "blameless_corpus.toml",
    "blameless_heldout.toml",
    "blameless_holdout2.toml",
    "blameless_holdout3.toml",
)
BLIND = "blameless_holdout4.toml"

# The thresholds, on the development corpora.
TARGET_RECALL = 0.90
TARGET_FP = 0.05
# The blind corpus: what the rules reached on it when it was first measured, as a floor.
BLIND_FLOOR_RECALL = 0.77
BLIND_CEILING_FP = 0.025

Figures = dict[str, dict[str, tuple[int, int]]]


def _load(*names: str) -> list[tuple[str, str, str, tuple[str, ...]]]:
    items = []
    for name in names:
        data = tomllib.loads((DATA / name).read_text(encoding="utf-8"))
        people = tuple(data.get("names", ()))
        for group in data["group"]:
            for sentence in group["sentences"]:
                items.append((group["label"], group["class"], sentence, people))
    return items


def measure(*names: str) -> Figures:
    """{label: {class: (flagged, total)}} over the corpora with the built-in rules."""
    rules = load_rules()
    figures: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for label, cls, sentence, people in _load(*names):
        flagged = bool(review([Passage(where="corpus", text=sentence)], rules=rules, names=people))
        figures[label][cls][0] += flagged
        figures[label][cls][1] += 1
    return {label: {c: (f, t) for c, (f, t) in by.items()} for label, by in figures.items()}


def _rate(by_class: dict[str, tuple[int, int]]) -> float:
    flagged = sum(f for f, _ in by_class.values())
    total = sum(t for _, t in by_class.values())
    return flagged / total


def _report(title: str, figures: Figures) -> tuple[float, float]:
    recall, fp = _rate(figures["blameful"]), _rate(figures["clean"])
    print(f"\n{title}: recall {recall:.3f}, FP {fp:.3f}")
    for label in ("blameful", "clean"):
        for cls, (f, t) in sorted(figures[label].items()):
            print(f"  {label:8} {cls:40} {f:3}/{t:<3} {f / t:.2f}")
    return recall, fp


@pytest.mark.parametrize("name", [*DEVELOPMENT, BLIND])
def test_corpus_is_big_enough(name: str) -> None:
    items = _load(name)
    assert sum(label == "blameful" for label, *_ in items) >= 150
    assert sum(label == "clean" for label, *_ in items) >= 150
    assert {label for label, *_ in items} == {"blameful", "clean"}
    sentences = [sentence for _, _, sentence, _ in items]
    assert len(set(sentences)) == len(sentences), "a sentence is listed twice"


def test_development_corpora_reach_the_thresholds(capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        recall, fp = _report("development corpora", measure(*DEVELOPMENT))
    assert recall >= TARGET_RECALL
    assert fp <= TARGET_FP


def test_blind_corpus_holds_its_floor(capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        recall, fp = _report("blind corpus", measure(BLIND))
    assert recall >= BLIND_FLOOR_RECALL
    assert fp <= BLIND_CEILING_FP
