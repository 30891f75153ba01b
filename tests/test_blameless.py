"""Blameless-language review: what is flagged, what deliberately is not, and team rule files."""

from __future__ import annotations

from pathlib import Path

import pytest

from incidentbot.domain.blameless import (
    BUILTIN_RULES,
    CATEGORIES,
    EXCERPT_LIMIT,
    Flag,
    Passage,
    Rule,
    load_rules,
    review,
)
from incidentbot.domain.errors import IncidentError

NAMES = ["alice", "bob", "Bob Schneider", "Carol"]
WHERE = "note by bob at 2026-11-27 14:05 UTC"


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    return load_rules()


def flags_for(text: str, rules: list[Rule], *, names: list[str] = NAMES) -> list[Flag]:
    return review([Passage(where=WHERE, text=text)], rules=rules, names=names)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "team-rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


FLAGGED = [
    # person-as-subject: a named person or mention as the subject of a failure verb
    ("bob broke the build", "person-as-subject", "bob broke"),
    ("<@U1|alice> forgot to update the config", "person-omission", "<@U1|alice> forgot to"),
    ("<@U123> pushed a bad config to prod.", "person-as-subject", "<@U123> pushed a bad"),
    ("Alice ignored the disk alert.", "person-omission", "Alice ignored"),
    ("Carol missed the page at 02:10.", "person-omission", "Carol missed"),
    (
        "Bob Schneider accidentally deleted the users table.",
        "person-destroyed",
        "Bob Schneider accidentally deleted",
    ),
    ("Bob deleted the users table by mistake.", "person-destroyed", "Bob deleted"),
    ("@alice messed up the failover.", "person-as-subject", "@alice messed up"),
    ("bob failed to rotate the certificate.", "person-omission", "bob failed to"),
    # a group or role as the culprit, and a name the bot has never seen
    ("The platform team broke the shared cluster.", "person-as-subject", "The platform team broke"),
    ("A new hire misconfigured the firewall.", "person-as-subject", "A new hire misconfigured"),
    ("QA missed the regression entirely.", "person-omission", "QA missed"),
    ("Marco took the API down on Tuesday.", "person-as-subject", "Marco took the API down"),
    ("Dmitri wiped the cache cluster.", "person-destroyed", "Dmitri wiped"),
    # possessives, "on someone", passive blame naming someone
    ("Marco's typo took the API down.", "possessive-blame", "Marco's typo"),
    ("The engineer's mistake cost us an hour.", "possessive-blame", "The engineer's mistake"),
    ("That one is on Lena.", "on-someone", "That one is on Lena"),
    ("The root cause was Tomas.", "cause-is-person", "root cause was Tomas"),
    ("The table was dropped by Ines.", "passive-by-someone", "was dropped by Ines"),
    (
        "The outage happened because someone made a mistake.",
        "made-a-mistake",
        "someone made a mistake",
    ),
    # counterfactuals
    (
        "If Bob had checked the dashboard, he would have seen the spike.",
        "counterfactual-person",
        "If Bob had checked the dashboard, he would have seen",
    ),
    (
        "If we had rolled back sooner, we could have avoided the second outage.",
        "counterfactual-person",
        "If we had rolled back sooner, we could have avoided",
    ),
    (
        "Had we rolled back at 14:02, the outage would have lasted five minutes.",
        "counterfactual-person",
        "Had we rolled back at 14:02, the outage would have lasted",
    ),
    (
        "If the canary had run, this outage would not have happened.",
        "counterfactual",
        "If the canary had run, this outage would not have",
    ),
    (
        "If the TTL had been shorter, it wouldn't have spread to the EU.",
        "counterfactual",
        "If the TTL had been shorter, it wouldn't have",
    ),
    (
        "If the migration had been reviewed, the outage would have been avoided.",
        "counterfactual",
        "If the migration had been reviewed, the outage would have been avoided",
    ),
    # failed-to / forgot-to / neglected-to about people
    (
        "The on-call engineer failed to acknowledge the page.",
        "person-omission",
        "The on-call engineer failed to",
    ),
    ("We forgot to update the status page.", "failed-to", "We forgot to"),
    ("He neglected to run the migration check.", "person-omission", "He neglected to"),
    ("Someone forgot to renew the domain.", "person-omission", "Someone forgot to"),
    ("We failed to notice the expiry warnings.", "failed-to", "We failed to notice"),
    ("Nobody bothered to check the expiry date.", "nobody-bothered", "Nobody bothered to"),
    # should have / could have
    ("We should have rolled back sooner.", "should-have", "We should have"),
    ("He should have been more careful.", "should-have", "He should have"),
    ("Someone could have caught this in review.", "should-have", "Someone could have"),
    ("You shouldn't have deployed on a Friday.", "should-have", "You shouldn't have"),
    (
        "The reviewer really ought to have spotted it.",
        "should-have",
        "The reviewer really ought to have",
    ),
    ("bob should've known the flag was shared.", "should-have", "bob should've"),
    (
        "The migration should never have been run on a Friday.",
        "should-not-have-been",
        "should never have been run",
    ),
    ("They shouldn't have deployed at peak.", "they-should-have", "They shouldn't have deployed"),
    # fault and blame
    ("It was Bob's fault.", "fault", "Bob's fault"),
    ("That was entirely my fault.", "fault", "my fault"),
    ("<@U2|bob> is to blame.", "fault", "<@U2|bob> is to blame"),
    ("The engineer was at fault.", "fault", "The engineer was at fault"),
    ("Management blamed the outage on the platform team.", "blame", "blamed"),
    # human error
    ("Root cause: human error.", "human-error", "human error"),
    ("The ticket was closed as operator error.", "human-error", "operator error"),
    ("Support called it user error.", "human-error", "user error"),
    # character judgements
    ("That was a careless change.", "blame-adjective", "careless"),
    ("Running it unreviewed was negligent.", "blame-adjective", "negligent"),
    ("The migration script was sloppy.", "blame-adjective", "sloppy"),
    ("The vendor's support was incompetent.", "blame-adjective", "incompetent"),
    ("Skipping the checklist was lazy.", "blame-adjective", "lazy"),
    ("Forcing the push was reckless.", "blame-adjective", "reckless"),
    ("The rollout plan was amateurish.", "blame-adjective", "amateurish"),
    ("It was an easy thing to get right.", "easy-to-avoid", "an easy thing to get right"),
    ("Everyone knew the certificate was about to expire.", "everyone-knew", "Everyone knew"),
    ("I can't believe this shipped.", "venting", "can't believe"),
    ("Engineers need to be more careful when deploying.", "exhortation", "be more careful"),
    # hindsight words
    ("The mistake was obvious.", "obvious", "mistake was obvious"),
    ("Obviously the config was wrong.", "obvious", "Obviously"),
    ("The threshold was clearly wrong.", "obvious", "clearly wrong"),
    ("Of course the second deploy broke too.", "obvious", "Of course"),
    ("Clearly, the config was wrong.", "obvious", "Clearly"),
    # minimising
    ("Just restart the pods.", "minimising-just", "Just restart"),
    ("The fix was simply a typo in the config.", "minimising-just", "simply a typo"),
    ("You merely roll back the release.", "minimising-just", "merely roll back"),
    ("All you had to do was flip the flag.", "minimising-just", "All you had to do"),
    # "why did you" questions
    ("Why didn't anyone check the logs?", "why-did-someone", "Why didn't anyone"),
    ("Why did you restart the primary?", "why-did-someone", "Why did you"),
    ("What were you thinking?", "why-did-someone", "What were you thinking"),
]


@pytest.mark.parametrize(("text", "rule_id", "phrase"), FLAGGED)
def test_flags_blame_and_hindsight_language(
    text: str, rule_id: str, phrase: str, rules: list[Rule]
) -> None:
    flags = flags_for(text, rules)
    assert [(f.rule_id, f.phrase) for f in flags] == [(rule_id, phrase)]
    flag = flags[0]
    assert flag.where == WHERE
    assert flag.category in CATEGORIES
    assert phrase in flag.suggestion
    assert flag.excerpt == text
    assert flag.why and "{phrase}" not in flag.suggestion


def test_every_builtin_rule_has_a_flagged_example(rules: list[Rule]) -> None:
    assert {rule.id for rule in rules} == {rule_id for _, rule_id, _ in FLAGGED}


BLAMELESS = [
    "The deploy failed at 14:02.",
    "The alert failed to fire because the threshold was 5%.",
    "Error rate dropped just after 14:00.",
    "We rolled back just in time for the EU morning peak.",
    "The cache should have expired after 60 s but the TTL was set to 1 day.",
    "Bob rolled back the deploy at 14:10.",
    "<@UBOB|bob> restarted the pods.",
    "Alice noticed the alert and paged the database team.",
    "The config was adjusted.",
    # A counterfactual about what a safeguard would have done names a missing control; only
    # "would not have happened" or a person acting differently is flagged.
    "If the canary had run, it would have caught the regression.",
    "We could have more capacity in eu-west-1 if we add a node pool.",
    "We should have a runbook for certificate rotation.",
    "The health check should have returned 503 during the drain.",
    "The alert should have fired at 5% but the rule used a 10% threshold.",
    "Alice should have been paged by the secondary rota.",
    "Nobody could have predicted the leap-second bug.",
    "We couldn't have known that the vendor changed the API.",
    "Nobody is to blame for this; the runbook was out of date.",
    "It was nobody's fault.",
    "This was not anyone's fault.",
    "The disk was at fault.",
    "The network fault on the top-of-rack switch caused packet loss.",
    "Bob's fault injection test found the bug.",
    "We used git blame to find when the timeout changed.",
    "In a blameless review we look for contributing factors.",
    "It was not obvious from the dashboard that both flags shared a key.",
    "The failure mode was non-obvious.",
    "The spike is clearly visible on the attached graph.",
    "Postgres clearly logged the lock timeout.",
    "The replica failed over to us-east-2 at 14:07.",
    "Bob failed over the primary database at 14:07.",
    "Bob deleted the stale pods to free capacity.",
    "Alice's fix dropped the error rate to zero.",
    "The pods failed to become ready; they were missing a secret.",
    "The request failed to authenticate because the token had expired.",
    "Lazy loading of the config meant the bad value was read late.",
    "Cassandra uses a sloppy quorum for hinted handoff.",
    "The 4xx user error rate stayed flat.",
    "Kafka operator error logs showed repeated rebalancing.",
    "Human factors training is part of on-call onboarding.",
    "Latency was just under 300 ms.",
    "Just now the error rate returned to baseline.",
    "The pods were restarted just before the traffic peak.",
    "We have just restarted the pods.",
    "The on-call engineer acknowledged the page within two minutes.",
    "The engineer on call followed the runbook.",
    "If the retry had succeeded, the job would have completed.",
    "The course of the incident is shown below.",
    "She escalated to the database team at 14:20.",
    "Carol found what caused the outage.",
    "Bob reverted the change that caused the errors.",
    "The team failed to meet the SLO for the quarter.",
    "@here the deploy failed to finish.",
    "The DB clearly was the bottleneck once the cache emptied.",
    "The caller's fault handler crashed.",
    "Compilation is just-in-time, which is justified here.",
    "We should have had an alert on queue depth.",
    "Nobody blamed the on-call engineer.",
    "It wasn't immediately obvious which flag applied.",
    "There was nothing obvious in the logs.",
    "Bob must have seen the alert before paging.",
    "The vendor's fault, according to their status page, was a bad BGP announcement.",
    "The error budget was exhausted by 15:00.",
]


@pytest.mark.parametrize("text", BLAMELESS)
def test_blameless_sentences_are_not_flagged(text: str, rules: list[Rule]) -> None:
    assert flags_for(text, rules) == []


def test_names_are_needed_to_recognise_an_unusual_name(rules: list[Rule]) -> None:
    # "Zed" is no common given name, so only the workspace's people make it a person.
    assert flags_for("zed broke the build", rules, names=[]) == []
    assert [f.rule_id for f in flags_for("zed broke the build", rules, names=["Zed"])] == [
        "person-as-subject"
    ]
    # Whole words only: "zedd" is not "zed".
    assert flags_for("zedd broke the build", rules, names=["zed"]) == []


@pytest.mark.parametrize(
    "text",
    [
        "Marco broke the build on Tuesday night.",
        "Ines dropped the orders table.",
        "dmitri nuked the redis cluster again",
        "Jürgen misconfigured the BGP session.",
        "Siobhán forgot to renew the certificate.",
    ],
)
def test_a_common_given_name_is_a_person_without_names(text: str, rules: list[Rule]) -> None:
    assert flags_for(text, rules, names=[])


@pytest.mark.parametrize(
    "text",
    [
        "Kafka dropped messages during the rebalance.",
        "Jenkins missed the webhook.",
        "Cassandra failed to compact the table.",
        "Ruby broke the build when the gem cache expired.",
        "Will broke the build? No: the cache did.",
        "Bob rolled back the deploy at 14:10.",
        "BOB broke nothing; BOB is our build bot's name.",
    ],
)
def test_a_product_or_word_is_not_taken_for_a_given_name(text: str, rules: list[Rule]) -> None:
    if text.startswith("BOB"):
        # All capitals read as an acronym, not a name, unless the bot knows the person.
        assert flags_for(text, rules, names=[]) == []
    else:
        assert [f for f in flags_for(text, rules, names=[]) if f.rule_id.startswith("person")] == []


def test_first_name_of_a_full_name_counts(rules: list[Rule]) -> None:
    flags = flags_for("Bob forgot to drain the node.", rules, names=["Bob Schneider"])
    assert [(f.rule_id, f.phrase) for f in flags] == [("person-omission", "Bob forgot to")]


def test_mention_is_a_person_without_names(rules: list[Rule]) -> None:
    flags = flags_for("<@U1|alice> forgot to update the config", rules, names=[])
    assert [(f.rule_id, f.phrase) for f in flags] == [("person-omission", "<@U1|alice> forgot to")]


def test_same_span_from_two_rules_keeps_the_first_listed(rules: list[Rule]) -> None:
    # person-omission and failed-to both match "bob forgot to"; counterfactual-person and
    # counterfactual both match the if-clause: one flag each.
    text = "bob forgot to check. If bob had checked, it would not have happened."
    flags = flags_for(text, rules)
    assert [f.rule_id for f in flags] == ["person-omission", "counterfactual-person"]


def test_flags_are_ordered_by_passage_then_position(rules: list[Rule]) -> None:
    passages = [
        Passage(where="summary", text="Obviously it was human error. Just restart it."),
        Passage(where="impact", text="Nothing to see here."),
        Passage(where="note by carol", text="It was careless, and we should have known."),
    ]
    flags = review(passages, rules=rules)
    assert [(f.where, f.phrase) for f in flags] == [
        ("summary", "Obviously"),
        ("summary", "human error"),
        ("summary", "Just restart"),
        ("note by carol", "careless"),
        ("note by carol", "we should have"),
    ]
    assert review(passages, rules=rules) == flags


def test_one_flag_per_match(rules: list[Rule]) -> None:
    flags = flags_for("Human error, human error, and more human error.", rules)
    assert [f.phrase for f in flags] == ["Human error", "human error", "human error"]


def test_unless_is_per_sentence(rules: list[Rule]) -> None:
    text = "Nobody is to blame here. Management blamed the team anyway."
    assert [f.excerpt for f in flags_for(text, rules)] == ["Management blamed the team anyway."]


def test_excerpt_is_the_sentence_trimmed_around_the_phrase(rules: list[Rule]) -> None:
    before = " ".join(f"word{i}" for i in range(40))
    after = " ".join(f"tail{i}" for i in range(40))
    text = f"First sentence here. {before} it was human error {after}. Last one."
    [flag] = flags_for(text, rules)
    assert "human error" in flag.excerpt
    assert flag.excerpt.startswith("…") and flag.excerpt.endswith("…")
    assert len(flag.excerpt) <= EXCERPT_LIMIT
    assert "First sentence" not in flag.excerpt and "Last one" not in flag.excerpt
    # Cuts fall between words.
    assert flag.excerpt[1:].split()[0].startswith("word")
    assert flag.excerpt[:-1].split()[-1].startswith("tail")


def test_mention_markup_does_not_split_a_sentence(rules: list[Rule]) -> None:
    [flag] = flags_for("<@U9|bob j. smith> broke prod.", rules)
    assert flag.phrase == "<@U9|bob j. smith> broke"
    assert flag.excerpt == "<@U9|bob j. smith> broke prod."


def test_sentences_split_on_lines(rules: list[Rule]) -> None:
    text = "- If the canary had run\n- this would not have happened"
    assert flags_for(text, rules) == []


def test_suggestion_fills_in_the_phrase(rules: list[Rule]) -> None:
    [flag] = flags_for("The root cause was human error.", rules)
    assert '"human error"' in flag.suggestion


# --- team rule files ---------------------------------------------------------------------------


def test_team_file_adds_a_rule(tmp_path: Path, rules: list[Rule]) -> None:
    path = write(
        tmp_path,
        """
[[rule]]
id = "yolo"
category = "minimising"
pattern = 'yolo'
why = "Makes a risky change sound like a joke."
suggestion = "Describe the risk that was accepted instead of '{phrase}'."
""",
    )
    team = load_rules(extra=path)
    assert [r.id for r in team] == [r.id for r in rules] + ["yolo"]
    assert team[-1].origin == str(path)
    [flag] = flags_for("We YOLO'd the deploy.", team)
    assert (flag.rule_id, flag.phrase) == ("yolo", "YOLO")
    assert flag.suggestion == "Describe the risk that was accepted instead of 'YOLO'."
    # Word boundaries are added by the engine.
    assert flags_for("The yolorun job started.", team) == []


def test_team_file_overrides_a_builtin_in_place(tmp_path: Path, rules: list[Rule]) -> None:
    path = write(
        tmp_path,
        """
[[rule]]
id = "human-error"
category = "blame"
pattern = 'human\\s+error|PEBKAC'
why = "Our own reason."
suggestion = "Our own suggestion for {phrase}."
""",
    )
    team = load_rules(extra=path)
    assert [r.id for r in team] == [r.id for r in rules]
    [flag] = flags_for("Classic PEBKAC.", team)
    assert (flag.rule_id, flag.why) == ("human-error", "Our own reason.")
    assert flags_for("Support called it user error.", team) == []


def test_team_file_disables_rules(tmp_path: Path) -> None:
    path = write(tmp_path, 'disabled = ["obvious", "minimising-just"]\n')
    team = load_rules(extra=path)
    assert "obvious" not in {r.id for r in team}
    assert flags_for("Obviously, just restart it.", team) == []
    assert [f.rule_id for f in flags_for("It was human error.", team)] == ["human-error"]


def test_disabling_an_unknown_rule_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, 'disabled = ["obvius"]\n')
    with pytest.raises(IncidentError, match="obvius") as error:
        load_rules(extra=path)
    assert str(path) in str(error.value)


BAD_FILES = [
    (
        '[[rule]]\nid = "bad-regex"\ncategory = "blame"\npattern = "(unclosed"\n'
        'why = "w"\nsuggestion = "s"\n',
        ["'bad-regex'", "not a valid regex"],
    ),
    (
        '[[rule]]\nid = "bad-unless"\ncategory = "blame"\npattern = "x"\nunless = "[a-"\n'
        'why = "w"\nsuggestion = "s"\n',
        ["'bad-unless'", "unless is not a valid regex"],
    ),
    (
        '[[rule]]\nid = "no-why"\ncategory = "blame"\npattern = "x"\nsuggestion = "s"\n',
        ["'no-why'", "missing why"],
    ),
    (
        '[[rule]]\ncategory = "blame"\npattern = "x"\nwhy = "w"\nsuggestion = "s"\n',
        ["#1", "missing id"],
    ),
    (
        '[[rule]]\nid = "odd"\ncategory = "rude"\npattern = "x"\nwhy = "w"\nsuggestion = "s"\n',
        ["'odd'", "category must be one of"],
    ),
    (
        '[[rule]]\nid = "Not_Kebab"\ncategory = "blame"\npattern = "x"\nwhy = "w"\n'
        'suggestion = "s"\n',
        ["'Not_Kebab'", "kebab-case"],
    ),
    (
        '[[rule]]\nid = "typo"\ncategory = "blame"\npattern = "x"\nunles = "y"\nwhy = "w"\n'
        'suggestion = "s"\n',
        ["'typo'", "unknown key 'unles'"],
    ),
    (
        '[[rule]]\nid = "empty"\ncategory = "blame"\npattern = "x?"\nwhy = "w"\nsuggestion = "s"\n',
        ["'empty'", "matches empty text"],
    ),
    (
        '[[rule]]\nid = "placeholder"\ncategory = "blame"\npattern = "{persn} broke"\n'
        'why = "w"\nsuggestion = "s"\n',
        ["'placeholder'", "unknown placeholder {persn}"],
    ),
    (
        '[[rule]]\nid = "twice"\ncategory = "blame"\npattern = "x"\nwhy = "w"\nsuggestion = "s"\n'
        '[[rule]]\nid = "twice"\ncategory = "blame"\npattern = "y"\nwhy = "w"\nsuggestion = "s"\n',
        ["'twice'", "used twice"],
    ),
    ("[[rule]\nid = 1\n", ["not valid TOML"]),
    ("rules = []\n", ["unexpected top-level key 'rules'"]),
]


@pytest.mark.parametrize(("content", "expected"), BAD_FILES)
def test_bad_team_files_name_the_file_and_rule(
    tmp_path: Path, content: str, expected: list[str]
) -> None:
    path = write(tmp_path, content)
    with pytest.raises(IncidentError) as error:
        load_rules(extra=path)
    message = str(error.value)
    assert message.startswith(f"{path}: ")
    for part in expected:
        assert part in message


def test_disabled_below_a_rule_gets_a_helpful_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[rule]]\nid = "x-rule"\ncategory = "blame"\npattern = "x"\nwhy = "w"\n'
        'suggestion = "s"\ndisabled = ["obvious"]\n',
    )
    with pytest.raises(IncidentError, match="belongs at the top of the file"):
        load_rules(extra=path)


def test_worked_example_in_the_docs_behaves_as_documented(tmp_path: Path) -> None:
    docs = (Path(__file__).parent.parent / "docs" / "blameless.md").read_text(encoding="utf-8")
    example = docs.split("### Worked example", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    team = load_rules(extra=write(tmp_path, example))
    ids = [r.id for r in team]
    assert "obvious" not in ids and ids[-2:] == ["heroics", "yolo-deploy"]

    def rule_ids(text: str) -> list[str]:
        return [f.rule_id for f in flags_for(text, team, names=["carol"])]

    assert rule_ids("Carol heroically restarted the cluster at 3am.") == ["heroics"]
    assert rule_ids("<@U42|dan> yoloed the migration.") == ["yolo-deploy"]
    assert rule_ids("Of course we paged the DB team.") == []
    assert rule_ids("Support called it user error.") == []
    assert rule_ids("It was operator error.") == ["human-error"]


def test_bad_regex_message_matches_the_docs(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[rule]]\nid = "yolo"\ncategory = "blame"\npattern = "(yolo"\nwhy = "w"\n'
        'suggestion = "s"\n',
    )
    with pytest.raises(IncidentError) as error:
        load_rules(extra=path)
    assert str(error.value) == (
        f"{path}: rule 'yolo': pattern is not a valid regex: "
        "missing ), unterminated subpattern at position 0"
    )


def test_missing_team_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(IncidentError, match="cannot read"):
        load_rules(extra=tmp_path / "nope.toml")


def test_team_rule_can_use_person_placeholder(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[[rule]]
id = "person-yolo"
category = "blame"
pattern = '{person}\\s+yolo(?:ed|d)'
why = "w"
suggestion = "Rephrase {phrase}."
""",
    )
    team = load_rules(extra=path)
    [flag] = flags_for("carol yoloed the migration.", team, names=["carol"])
    assert (flag.rule_id, flag.phrase) == ("person-yolo", "carol yoloed")


def test_builtin_rules_ship_inside_the_package() -> None:
    import incidentbot

    assert BUILTIN_RULES.is_relative_to(Path(incidentbot.__file__).resolve().parent)
    assert BUILTIN_RULES.is_file()


# --- scale -------------------------------------------------------------------------------------

TIMELINE_LINES = [
    "Errors rose to 4% just after 14:00; the alert failed to fire because the threshold was 5%.",
    "<@U{n}|responder{n}> restarted the pods in eu-west-1 and watched the p99 latency.",
    "If the canary had run, it would have caught the regression before the EU peak.",
    "bob broke the build again while the retry queue drained at 1,200 messages per second.",
    "It was human error and obviously we should have rolled back sooner, just restart it.",
]


def timeline(count: int) -> list[Passage]:
    """A realistic mix: every fifth entry has one flag, every fifth has four, the rest none."""
    return [
        Passage(
            where=f"entry {n}",
            text=TIMELINE_LINES[n % len(TIMELINE_LINES)].format(n=n) + " more" * (n % 50),
        )
        for n in range(count)
    ]


def test_ten_thousand_passages_review_completes(rules: list[Rule]) -> None:
    # Nothing about time is asserted (CI machines vary); the patterns are kept free of nested
    # unbounded repetition so the work grows with the length of the text, and the pytest
    # timeout catches a rule that backtracks catastrophically.
    flags = review(timeline(10_000), rules=rules, names=NAMES)
    assert len(flags) == 2_000 * 5
    assert flags[0].where == "entry 3"
    assert [f.rule_id for f in flags[:5]] == [
        "person-as-subject",
        "human-error",
        "obvious",
        "should-have",
        "minimising-just",
    ]
    assert len(review(timeline(1_000), rules=rules, names=NAMES)) * 10 == len(flags)


def test_long_adversarial_sentence_completes(rules: list[Rule]) -> None:
    # Many "if" and "had" with no closing clause, and long runs of adverbs, in one sentence.
    text = ("if he had quickly really surely forgotten " * 2_000) + "."
    assert review([Passage(where="x", text=text)], rules=rules, names=NAMES) == []


# -- the engine: quotations, suggestions that fit, the literal prefilter ------------------------


@pytest.mark.parametrize(
    "text",
    [
        "An early draft said 'human error'; we removed it because it explained nothing.",
        'We replaced "be more careful" with a tooling change.',
        "The guide asks us to avoid words like “careless” and “obvious”.",
        "We ran `git blame` on the file, and `blame` pointed at 4.12.",
        "A comment asked 'why didn't anyone notice?'; we reframed it.",
    ],
)
def test_quoted_or_code_words_are_mentioned_not_used(text: str, rules: list[Rule]) -> None:
    assert flags_for(text, rules) == []


def test_a_quotation_does_not_end_a_sentence(rules: list[Rule]) -> None:
    # The "?" inside the quotation does not split the sentence, so the excerpt is all of it.
    text = "She asked 'is this safe?' and then Bob broke the build."
    [flag] = flags_for(text, rules)
    assert flag.phrase == "Bob broke" and flag.excerpt == text


def test_an_apostrophe_is_not_a_quotation(rules: list[Rule]) -> None:
    [flag] = flags_for("Don't worry: it's Bob's fault, isn't it.", rules)
    assert (flag.rule_id, flag.phrase) == ("fault", "Bob's fault")


def test_flag_span_is_the_phrase_in_the_passage(rules: list[Rule]) -> None:
    text = "All fine at 14:00. Then Bob broke the build, and it was human error."
    flags = flags_for(text, rules)
    assert [text[f.start : f.end] for f in flags] == [f.phrase for f in flags]
    assert [f.phrase for f in flags] == ["Bob broke", "human error"]


@pytest.mark.parametrize(
    ("text", "fits"),
    [
        ("Alice forgot to renew the certificate.", "“renew the certificate”"),
        ("Priya broke the payment gateway with her deploy.", "Start from the payment gateway"),
        ("Marco's typo took the API down.", "start from the API"),
        ("Bob should have rolled back the deploy.", "“rolled back the deploy”"),
        ("Why did you restart the primary?", "“restart the primary”"),
        (
            "If Priya had checked the dashboard, we would have caught it sooner.",
            "(checked the dashboard)",
        ),
        ("Ines dropped the orders table.", "happened to the orders table"),
    ],
)
def test_suggestion_names_what_the_sentence_is_about(
    text: str, fits: str, rules: list[Rule]
) -> None:
    [flag] = flags_for(text, rules, names=["Priya", "Alice", "Bob"])
    assert fits in flag.suggestion
    # A "how" question, not a "who" one.
    assert '"How ' in flag.suggestion or '"What ' in flag.suggestion or "how" in flag.suggestion
    # The suggestion does not point back at the person ("her deploy" becomes "the deploy").
    assert "her " not in flag.suggestion


def test_suggestion_falls_back_when_the_sentence_gives_nothing(rules: list[Rule]) -> None:
    [flag] = flags_for("Why did you?", rules)
    assert "“that step”" in flag.suggestion


def test_suggestion_placeholders_are_checked_when_loaded(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[rule]]\nid = "x"\ncategory = "blame"\npattern = "yolo"\nwhy = "w"\n'
        'suggestion = "Say {what} instead"\n',
    )
    with pytest.raises(IncidentError, match=r"suggestion uses \{what\}"):
        load_rules(extra=path)
    path = write(
        tmp_path,
        '[[rule]]\nid = "x"\ncategory = "blame"\npattern = "(?P<what>yolo)"\nwhy = "w"\n'
        'suggestion = "Say {what} and {object|something} instead of {phrase}"\n',
    )
    rule = load_rules(extra=path)[-1]
    [flag] = review([Passage(where="x", text="We yolo the deploy.")], rules=[rule])
    assert flag.suggestion == "Say yolo and the deploy instead of yolo"


def test_unless_may_use_static_placeholders_but_not_names(tmp_path: Path) -> None:
    ok = write(
        tmp_path,
        '[[rule]]\nid = "x"\ncategory = "blame"\npattern = "wiped"\nunless = "{as_planned}"\n'
        'why = "w"\nsuggestion = "s"\n',
    )
    rule = load_rules(extra=ok)[-1]
    assert review([Passage(where="x", text="We wiped it.")], rules=[rule])
    assert not review([Passage(where="x", text="We wiped it as planned.")], rules=[rule])
    bad = write(
        tmp_path,
        '[[rule]]\nid = "x"\ncategory = "blame"\npattern = "wiped"\nunless = "{person}"\n'
        'why = "w"\nsuggestion = "s"\n',
    )
    with pytest.raises(IncidentError, match="unless cannot use placeholders"):
        load_rules(extra=bad)


def test_top_level_alternatives_respect_groups_classes_and_escapes() -> None:
    from incidentbot.domain.blameless import _top_level_alternatives

    assert _top_level_alternatives(r"a(?:b|c)|[|x]|\||d") == [r"a(?:b|c)", "[|x]", r"\|", "d"]
    assert _top_level_alternatives(r"[]|]|x") == ["[]|]", "x"]


def _brute_force(text: str, rules: list[Rule], names: list[str]) -> list[tuple[str, str]]:
    """The review with no prefilter: every part of every rule on every text."""
    from incidentbot.domain import blameless

    unfiltered = [
        (order, rule, part._replace(requirements=None))
        for order, rule in enumerate(rules)
        for part in rule._parts
    ]
    finder = blameless._LiteralFinder({})
    people = blameless._people(blameless._name_key(names))
    kept = blameless._review_text(text, finder, unfiltered, people)
    return [(rule.id, text[begin:end]) for begin, end, rule, *_ in kept]


def _every_sentence() -> list[str]:
    import tomllib

    sentences = [text for text, *_ in FLAGGED] + BLAMELESS
    for name in ("blameless_corpus.toml", "blameless_heldout.toml", "blameless_holdout2.toml"):
        data = tomllib.loads((Path(__file__).parent / "data" / name).read_text("utf-8"))
        sentences += [s for group in data["group"] for s in group["sentences"]]
    return sentences


def test_the_literal_prefilter_never_hides_a_flag(rules: list[Rule]) -> None:
    # The prefilter only skips work: on every sentence the project has, the review gives the
    # same flags as running every rule's regex everywhere.
    for text in _every_sentence():
        expected = _brute_force(text, rules, NAMES)
        got = [(f.rule_id, f.phrase) for f in flags_for(text, rules)]
        assert got == expected, text


# --- behaviours the mutation run found unprotected (docs/mutation.md) ---------------------------


def make_rule(**overrides: object) -> Rule:
    fields: dict[str, object] = {
        "id": "my-rule",
        "category": "blame",
        "pattern": "yolo",
        "why": "w",
        "suggestion": "s",
    }
    fields.update(overrides)
    return Rule(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"id": "My Rule"}, "id must be kebab-case, such as 'human-error'"),
        (
            {"category": "nope"},
            "category must be one of blame, hindsight, minimising, counterfactual, exhortation, "
            "not 'nope'",
        ),
        ({"pattern": "  "}, "pattern must be a non-empty string"),
        ({"why": ""}, "why must be a non-empty string"),
        ({"suggestion": 3}, "suggestion must be a non-empty string"),
        ({"unless": ""}, "unless must be a non-empty string when given"),
        ({"unless": 5}, "unless must be a non-empty string when given"),
        (
            {"pattern": "{nobody} x"},
            "pattern uses unknown placeholder {nobody}; known: {as_planned}, {cleanup}, {gap}, "
            "{group}, {participle}, {person}, {someone}",
        ),
        ({"pattern": "x?"}, "pattern matches empty text, so it would flag every sentence"),
        ({"unless": "{person}"}, "unless cannot use placeholders such as {person}"),
        ({"unless": "{zzz} {aaa}"}, "unless uses unknown placeholder {aaa}"),
        (
            {"pattern": "(yolo"},
            "pattern is not a valid regex: missing ), unterminated subpattern at position 0",
        ),
        (
            {"unless": "(x"},
            "unless is not a valid regex: missing ), unterminated subpattern at position 0",
        ),
    ],
)
def test_a_malformed_rule_is_refused_with_its_exact_problem(
    overrides: dict[str, object], problem: str
) -> None:
    with pytest.raises(IncidentError) as refused:
        make_rule(**overrides)
    label = overrides.get("id", "my-rule")
    assert str(refused.value) == f"built-in rules: rule {label!r}: {problem}"


def test_a_rule_built_in_the_test_flags_and_is_excused_by_its_unless() -> None:
    rule = make_rule(pattern=r"\byoloed\b", unless=r"\bdrill\b", why=" Sounds\n like  blame. ")
    assert rule.regex().search("Dan YOLOED it") is not None
    (flag,) = flags_for("Dan yoloed the migration.", [rule])
    assert (flag.rule_id, flag.why) == ("my-rule", "Sounds like blame.")
    assert rule.excused("In the drill Dan yoloed it.") is True
    assert flags_for("In the drill Dan yoloed it.", [rule]) == []


YOLO = make_rule(pattern=r"\byoloed\b")
BEGIN_TO_FINISH = make_rule(id="long-rule", pattern=r"\bbegin\b.*\bfinish\b")


def excerpts(text: str, rule: Rule) -> list[str]:
    return [flag.excerpt for flag in flags_for(text, [rule], names=[])]


def test_a_sentence_of_exactly_the_excerpt_limit_is_quoted_whole() -> None:
    sentence = ("Dan yoloed it " + "a" * 200)[: EXCERPT_LIMIT - 1] + "."
    assert len(sentence) == EXCERPT_LIMIT
    assert excerpts(sentence, YOLO) == [sentence]


def test_a_long_sentence_is_quoted_as_whole_words_around_the_phrase() -> None:
    before = " ".join(f"w{i:02d}" for i in range(30))
    after = " ".join(f"t{i:02d}" for i in range(30))
    (excerpt,) = excerpts(f"{before} Dan yoloed the migration {after}.", YOLO)
    assert excerpt == (
        "…w18 w19 w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 Dan yoloed the migration "
        "t00 t01 t02 t03 t04 t05 t06 t07 t08 t09…"
    )


def test_a_word_too_long_to_quote_is_left_out_after_the_phrase() -> None:
    assert excerpts("Dan yoloed it " + "b" * 130 + ".", YOLO) == ["Dan yoloed it…"]


def test_a_phrase_longer_than_the_excerpt_is_quoted_from_its_start_with_spaces_tidied() -> None:
    sentence = "begin " + "  ".join(f"x{i:02d}" for i in range(60)) + " finish now."
    assert excerpts(sentence, BEGIN_TO_FINISH) == [
        "begin x00 x01 x02 x03 x04 x05 x06 x07 x08 x09 x10 x11 x12 x13 x14 x15 x16 x17 x18 x19 "
        "x20 x21 x…"
    ]


def test_a_phrase_just_short_of_the_excerpt_is_quoted_whole_between_ellipses() -> None:
    sentence = "Well, begin " + "z" * 104 + " finish and then more words here to pass the limit."
    assert excerpts(sentence, BEGIN_TO_FINISH) == ["…begin " + "z" * 104 + " finish…"]


@pytest.mark.parametrize("letter", ["ß", "ﬁ", "İ"])
def test_a_letter_that_case_folds_longer_does_not_hide_a_later_sentences_flag(letter: str) -> None:
    # "ß" folds to "ss" and "ﬁ" to "fi": the folded text is longer than the text, so the
    # second sentence must be folded on its own, not cut from the folded text. ("İ" folded to
    # "i̇" once; the review now reads it as "i", like re does.)
    text = letter * 20 + " ist gesperrt. Then Dan yoloed."
    (flag,) = flags_for(text, [YOLO], names=[])
    assert (flag.phrase, flag.excerpt) == ("yoloed", "Then Dan yoloed.")


# --- more behaviours the mutation run found unprotected (docs/mutation.md, 2026-12-04) ---------


def exact_refusal(tmp_path: Path, content: str | bytes) -> str:
    path = tmp_path / "team-rules.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(IncidentError) as refused:
        load_rules(extra=path)
    return str(refused.value).removeprefix(f"{path}: ")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'[[rule]]\nid = "caf\xe9"\n', "the blameless rules file is not UTF-8 text"),
        ("rule = 5\n", "rules must be written as [[rule]] tables"),
        ("rule = [1]\n", "rules must be written as [[rule]] tables"),
        ('disabled = "obvious"\n', "disabled must be a list of rule ids, such as ['obvious']"),
        ("disabled = [1]\n", "disabled must be a list of rule ids, such as ['obvious']"),
        ('[[rule]]\nid = "x"\ncategory = "blame"\n', "rule 'x': missing pattern, why, suggestion"),
        (
            '[[rule]]\nid = "x"\ncategory = "blame"\npattern = "x"\nwhy = "w"\nsuggestion = "s"\n'
            "zeta = 1\nalpha = 2\n",
            "rule 'x': unknown key 'alpha'; "
            "expected category, id, pattern, suggestion, unless, why",
        ),
        (
            '[[rule]]\nid = 5\ncategory = "blame"\npattern = "x"\nwhy = "w"\nsuggestion = "s"\n',
            "rule #1: id must be a string",
        ),
    ],
)
def test_a_bad_team_file_is_refused_with_its_exact_message(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    assert exact_refusal(tmp_path, content) == message


def test_disabling_an_unknown_rule_lists_every_known_rule(tmp_path: Path) -> None:
    known = ", ".join(rule.id for rule in load_rules())
    assert exact_refusal(tmp_path, 'disabled = ["obvius"]\n') == (
        f"disabled lists 'obvius', which is not a rule; known rules: {known}"
    )


@pytest.mark.parametrize(
    ("names", "key"),
    [
        (["@bob"], ("bob",)),
        (["Xavier @x"], ("xavier @x", "xavier")),
        (["bob@"], ("bob@",)),
        (["  ", "alice"], ("alice",)),
        (["", "alice"], ("alice",)),
        (["Al"], ("al",)),
        (["X"], ()),
        (["Bob"], ("bob",)),
        (["Bob Schneider"], ("bob schneider", "bob")),
        (["  Bob   Schneider "], ("bob schneider", "bob")),
        (["Jo Smith"], ("jo smith",)),
        (["Bob O'Neil"], ("bob o'neil", "bob")),
        (["J.R. Smith"], ("j.r. smith",)),
        (["Bob Schneider", "Carol", "al"], ("bob schneider", "carol", "bob", "al")),
        (["bea", "abe"], ("abe", "bea")),
    ],
)
def test_name_key_is_each_full_name_and_a_first_name_longest_first(
    names: list[str], key: tuple[str, ...]
) -> None:
    from incidentbot.domain.blameless import _name_key

    assert _name_key(names) == key


@pytest.mark.parametrize(
    ("text", "start", "end", "spans"),
    [
        ("  ab  ", 0, 6, [(2, 4)]),
        ("ab ", 0, 3, [(0, 2)]),
        ("ab  ", 0, 4, [(0, 2)]),
        ("   ", 0, 3, []),
        ("a", 0, 1, [(0, 1)]),
        ("xx ab yy", 2, 6, [(3, 5)]),
    ],
)
def test_add_span_trims_whitespace_and_drops_nothing(
    text: str, start: int, end: int, spans: list[tuple[int, int]]
) -> None:
    from incidentbot.domain.blameless import _add_span

    found: list[tuple[int, int]] = []
    _add_span(found, text, start, end)
    assert found == spans


def test_sentences_go_on_after_a_quotation() -> None:
    from incidentbot.domain.blameless import _sentence_spans

    assert _sentence_spans("Say 'hi'. Then go.") == [(0, 9), (10, 18)]
    assert _sentence_spans('He said "stop." Then <@U1|a. b> left. Done') == [(0, 37), (38, 42)]


def test_quoted_spans_and_what_lies_inside_one() -> None:
    from incidentbot.domain.blameless import _quoted, _quoted_spans

    assert _quoted_spans("no quotes here") == []
    assert _quoted_spans("a `b` \"c\" “d” ‘e’ 'f' g") == [
        (2, 5),
        (6, 9),
        (10, 13),
        (14, 17),
        (18, 21),
    ]
    assert _quoted([(0, 5)], 0, 5) is True
    assert _quoted([(0, 5)], 1, 4) is True
    assert _quoted([(1, 5)], 0, 5) is False
    assert _quoted([(0, 4)], 0, 5) is False
    assert _quoted([(9, 12), (0, 5)], 0, 5) is True
    assert _quoted([], 0, 5) is False


@pytest.mark.parametrize(
    ("sentence", "end", "clause"),
    [
        ("x", 1, ("", "")),
        ("x a b c d e f g", 1, ("a b c d e f g", "a b c d e f g")),
        ("x a b c d e f g h", 1, ("", "")),
        ("x fixed his config", 1, ("fixed the config", "the config")),
        ("x took the API down", 1, ("took the API down", "the API")),
        ("x took the API down, then left", 1, ("took the API down", "the API")),
        ("x broke their build off over", 1, ("broke the build off over", "the build")),
        ("x the deploy by mistake", 1, ("the deploy", "the deploy")),
        ("x up", 1, ("up", "up")),
    ],
)
def test_clause_after_is_the_rest_of_the_clause_and_what_it_acted_on(
    sentence: str, end: int, clause: tuple[str, str]
) -> None:
    from incidentbot.domain.blameless import _clause_after

    assert _clause_after(sentence, end) == clause


def one_rule(**overrides: object) -> list[Rule]:
    return [make_rule(**overrides)]


def phrases(text: str, rules: list[Rule], names: list[str] = []) -> list[str]:  # noqa: B006
    return [flag.phrase for flag in flags_for(text, rules, names=names)]


def test_a_named_group_at_the_start_of_the_sentence_fills_the_suggestion() -> None:
    rules = one_rule(pattern=r"(?:(?P<who>qx)\s+)?yoloed", suggestion="Ask {who|someone}{who}.")
    assert [f.suggestion for f in flags_for("qx yoloed it", rules, names=[])] == ["Ask qxqx."]
    assert [f.suggestion for f in flags_for("It yoloed.", rules, names=[])] == ["Ask someone."]


def test_an_unless_ignores_case() -> None:
    rules = one_rule(pattern=r"yoloed", unless=r"\bdrill\b")
    assert phrases("In the DRILL Dan yoloed it.", rules) == []


def test_an_empty_match_is_no_flag() -> None:
    # No match of the pattern in empty text, but an empty one after a hyphen.
    rules = one_rule(pattern=r"(?<=-)x?")
    assert phrases("a - b", rules) == []
    assert phrases("a -x b", rules) == ["x"]


def test_a_one_letter_flag_at_the_start_is_kept() -> None:
    assert phrases("x marks it", one_rule(pattern="x")) == ["x"]


def test_two_parts_of_one_rule_on_the_same_words_are_one_flag() -> None:
    assert phrases("he yoloed it", one_rule(pattern="yoloed|yolo[e]d")) == ["yoloed"]


def test_overlapping_parts_of_one_rule_are_one_note_and_of_two_rules_two() -> None:
    text = "foo bar baz"
    assert phrases(text, one_rule(pattern="foo bar|bar baz")) == ["foo bar"]
    two = [make_rule(id="first", pattern="foo bar"), make_rule(id="second", pattern="bar baz")]
    assert phrases(text, two) == ["foo bar", "bar baz"]
    # Adjacent, not overlapping: both.
    assert phrases("x..y", one_rule(pattern=r"x[.]|[.]y")) == ["x.", ".y"]


def test_a_rule_with_no_literals_still_runs() -> None:
    assert phrases("it went xy", one_rule(pattern=r"x+y+")) == ["xy"]


def test_a_whole_number_literal_is_found_among_the_words() -> None:
    assert phrases("we got a 500 back", one_rule(pattern=r"(?:http\s+)?500")) == ["500"]


def test_a_literal_with_punctuation_is_found_in_the_text() -> None:
    rules = one_rule(pattern="{person}['’]s fault")
    assert phrases("It was Bob's fault.", rules, names=["Bob"]) == ["Bob's fault"]


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("Ji-woo broke the build.", "Ji-woo broke"),
        ("Marco’s mistake cost us an hour.", "Marco’s mistake"),
        ("Ian broke the build.", "Ian broke"),
    ],
)
def test_given_names_with_a_hyphen_a_curly_apostrophe_or_three_letters(
    text: str, phrase: str, rules: list[Rule]
) -> None:
    assert phrases(text, rules) == [phrase]


def test_two_given_names_in_one_text_keep_every_span(rules: list[Rule]) -> None:
    (flag,) = flags_for("Marco said Ines broke the build.", rules, names=[])
    assert (flag.phrase, flag.start, flag.end) == ("Ines broke", 11, 21)


@pytest.mark.parametrize(
    ("name", "text", "phrase"),
    [
        ("007 Bond", "007 Bond broke the build.", "007 Bond broke"),
        ("42", "42 broke the build.", "42 broke"),
        ("Bond", "Bond broke the build.", "Bond broke"),
    ],
)
def test_a_name_whose_first_word_is_a_number_is_a_person(
    name: str, text: str, phrase: str, rules: list[Rule]
) -> None:
    # The review's words leave out numbers when no rule needs one, so "007" was never among
    # them and the name was not looked for: no flag for what the rule finds once it is marked.
    assert phrases(text, rules, names=[name]) == [phrase]
