"""``incidentbot review``: the blameless language review on any file, as CI and editors run it.

Every test runs the real command in a process of its own, with no Slack or incidentbot
settings and an unreachable database, because that is how it runs in a CI job.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
INCIDENTBOT = [sys.executable, "-m", "incidentbot", "review"]

# Each line is written out so a test can say which line and column a phrase is on.
POSTMORTEM_LINES = [
    "---",  # 1
    "title: Human error in checkout",  # 2
    "reviewer: a careless reviewer",  # 3
    "---",  # 4
    "# Checkout outage",  # 5
    "",  # 6
    "| Time | What happened |",  # 7
    "|------|---------------|",  # 8
    "| 14:05 | The root cause was human error. |",  # 9
    "| 14:10 | Deploy `v2` went out |",  # 10
    "",  # 11
    "```sh",  # 12
    'echo "The root cause was human error."',  # 13
    "```",  # 14
    "",  # 15
    "    The root cause was human error.",  # 16
    "",  # 17
    "We graph the `human error` counter on [the dashboard](https://wiki.example.com/careless).",
    "",  # 19
    "> Quoted from the chat: that was careless.",  # 20
    "",  # 21
    "A note about the [careless rollout](https://example.com/rollout) in the retro.",  # 22
    "",  # 23
    "After the alert fired, the channel agreed that",  # 24
    "  we should have rolled back sooner.",  # 25
    "",  # 26
    "<!-- The root cause was human error. -->",  # 27
    "",
]
POSTMORTEM = "\n".join(POSTMORTEM_LINES)


def where(line: int, phrase: str) -> tuple[int, int]:
    """The 1-based line and column of ``phrase`` in POSTMORTEM_LINES."""
    return line, POSTMORTEM_LINES[line - 1].index(phrase) + 1


# What a reader sees as prose: the table cell, the quote, the link text, the wrapped paragraph.
EXPECTED = [
    (*where(9, "human error"), "human error", "human-error"),
    (*where(20, "careless"), "careless", "blame-adjective"),
    (*where(22, "careless"), "careless", "blame-adjective"),
    (*where(25, "we should have"), "we should have", "should-have"),
]


def clean_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "INCIDENTBOT_"))}
    # Nothing listens there: the command must not need a database.
    env["DATABASE_URL"] = "postgresql://nobody@127.0.0.1:9/none"
    env["PYTHONPATH"] = str(REPO)
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(values)
    return env


def run(
    *args: str | Path, cwd: Path, stdin: str | bytes = b"", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*INCIDENTBOT, *map(str, args)],
        cwd=cwd,
        input=stdin.encode() if isinstance(stdin, str) else stdin,
        capture_output=True,
        env=env or clean_env(),
        timeout=60,
    )
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(), result.stderr.decode()
    )


def assert_usage_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    for word in words:
        assert word in last, result.stderr


@pytest.fixture
def postmortem(tmp_path: Path) -> Path:
    path = tmp_path / "postmortem.md"
    path.write_text(POSTMORTEM, encoding="utf-8")
    return path


def test_json_lists_exactly_the_prose_flags_with_their_file_positions(
    tmp_path: Path, postmortem: Path
):
    result = run(postmortem, "--json", cwd=tmp_path)

    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)  # one JSON object and nothing else
    assert list(document) == ["flags"]
    flags = document["flags"]
    # Code blocks, inline code, front matter, the URL and the HTML comment hold the same words
    # and are not flagged: only what a reader sees as prose is.
    assert [(f["line"], f["column"], f["phrase"], f["rule"]) for f in flags] == EXPECTED
    first = flags[0]
    assert set(first) == {
        "file",
        "line",
        "column",
        "phrase",
        "rule",
        "category",
        "why",
        "suggestion",
        "excerpt",
    }
    assert first["file"] == str(postmortem)
    assert first["category"] == "blame"
    assert "Human error" in first["why"]
    assert '"human error"' in first["suggestion"]  # {phrase} filled in
    assert first["excerpt"] == "The root cause was human error."
    assert flags[3]["excerpt"] == (
        "After the alert fired, the channel agreed that we should have rolled back sooner."
    )
    assert result.stderr == ""


def test_human_output_is_path_line_column_then_why_and_suggestion(tmp_path: Path, postmortem: Path):
    result = run("postmortem.md", cwd=tmp_path)

    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3 * len(EXPECTED)
    heads = lines[0::3]
    assert heads == [
        f"postmortem.md:{line}:{column}: “{phrase}” ({rule})"
        for line, column, phrase, rule in EXPECTED
    ]
    assert all(line.startswith("    why: ") for line in lines[1::3])
    assert all(line.startswith("    suggestion: ") for line in lines[2::3])
    assert '"we should have"' in lines[11]
    # The summary is on standard error, so standard output holds only the flags.
    assert result.stderr.strip() == "4 phrases flagged in 1 file."


def test_plain_text_on_standard_input(tmp_path: Path):
    text = (
        "Timeline, as written in the ticket.\n\nAt 14:05 the deploy went out.\nIt was careless.\n"
    )

    result = run(cwd=tmp_path, stdin=text)
    dash = run("-", "--json", cwd=tmp_path, stdin=text)

    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[0] == "<stdin>:4:8: “careless” (blame-adjective)"
    assert result.stderr.strip() == "1 phrase flagged in 1 file."
    assert [(f["file"], f["line"], f["column"]) for f in json.loads(dash.stdout)["flags"]] == [
        ("<stdin>", 4, 8)
    ]


def test_several_files_are_each_named_and_counted(tmp_path: Path, postmortem: Path):
    other = tmp_path / "notes.txt"
    other.write_text("Clean notes.\nThe root cause was human error.\n", encoding="utf-8")
    clean = tmp_path / "clean.md"
    clean.write_text("# All good\n\nThe alert fired at 14:05.\n", encoding="utf-8")

    result = run("postmortem.md", "clean.md", "notes.txt", cwd=tmp_path)

    assert result.returncode == 1
    heads = result.stdout.splitlines()[0::3]
    assert [head.split(":")[0] for head in heads] == ["postmortem.md"] * 4 + ["notes.txt"]
    assert heads[-1] == "notes.txt:2:20: “human error” (human-error)"
    assert result.stderr.strip() == "5 phrases flagged in 2 files."


def test_a_clean_file_exits_zero(tmp_path: Path):
    clean = tmp_path / "clean.md"
    clean.write_text(
        "# Summary\n\nThe alert fired at 14:05 and the on-call engineer rolled back.\n\n"
        "```\nThe root cause was human error.\n```\n",
        encoding="utf-8",
    )

    result = run(clean, cwd=tmp_path)
    as_json = run(clean, "--json", cwd=tmp_path)

    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr.strip() == "No blame or hindsight language found."
    assert as_json.returncode == 0
    assert json.loads(as_json.stdout) == {"flags": []}


def test_a_missing_file_is_a_usage_error_naming_it(tmp_path: Path, postmortem: Path):
    result = run(postmortem, "missing.md", cwd=tmp_path)

    assert_usage_error(result, "missing.md", "No such file")


def test_a_file_that_is_not_utf8_is_a_usage_error_naming_it(tmp_path: Path):
    (tmp_path / "latin1.md").write_bytes(
        "Caf\xe9: the root cause was human error.".encode("latin-1")
    )

    result = run("latin1.md", cwd=tmp_path)

    assert_usage_error(result, "latin1.md", "not UTF-8")


def test_an_unknown_option_is_a_usage_error(tmp_path: Path, postmortem: Path):
    result = run(postmortem, "--strict", cwd=tmp_path)

    assert_usage_error(result, "--strict")


def test_an_invalid_rules_file_is_a_usage_error_naming_it(tmp_path: Path, postmortem: Path):
    rules = tmp_path / "team-rules.toml"
    rules.write_text(
        '[[rule]]\nid = "yolo"\ncategory = "blame"\npattern = "(yolo"\nwhy = "w"\n'
        'suggestion = "s"\n',
        encoding="utf-8",
    )

    given = run(postmortem, "--rules", rules, cwd=tmp_path)
    from_setting = run(
        postmortem, cwd=tmp_path, env=clean_env(INCIDENTBOT_BLAMELESS_RULES=str(rules))
    )
    missing = run(postmortem, "--rules", "nowhere.toml", cwd=tmp_path)

    assert_usage_error(given, "team-rules.toml", "'yolo'", "not a valid regex")
    assert_usage_error(from_setting, "team-rules.toml", "INCIDENTBOT_BLAMELESS_RULES")
    assert_usage_error(missing, "nowhere.toml", "cannot read")


HEROICS = """\
disabled = ["blame-adjective"]

[[rule]]
id = "heroics"
category = "minimising"
pattern = 'heroic(?:s|ally)?'
why = "Praising heroics hides the toil that needed a person to step in."
suggestion = "Instead of \\"{phrase}\\", describe what had to be done by hand."
"""


def test_a_team_rules_file_adds_and_disables_rules(tmp_path: Path):
    rules = tmp_path / "rules.toml"
    rules.write_text(HEROICS, encoding="utf-8")
    text = "Carol heroically restarted the cluster.\nThat was careless.\n"

    builtin = run("--json", cwd=tmp_path, stdin=text)
    team = run("--json", "--rules", rules, cwd=tmp_path, stdin=text)
    setting = run(
        "--json", cwd=tmp_path, stdin=text, env=clean_env(INCIDENTBOT_BLAMELESS_RULES=str(rules))
    )

    assert [f["rule"] for f in json.loads(builtin.stdout)["flags"]] == ["blame-adjective"]
    flags = json.loads(team.stdout)["flags"]
    assert [(f["line"], f["column"], f["rule"], f["category"]) for f in flags] == [
        (1, 7, "heroics", "minimising")
    ]
    assert (
        flags[0]["suggestion"] == 'Instead of "heroically", describe what had to be done by hand.'
    )
    assert json.loads(setting.stdout) == json.loads(team.stdout)


def test_names_let_the_rules_about_people_recognise_them(tmp_path: Path):
    text = "At 14:05 Quorrbax broke the payment gateway.\n"

    anonymous = run("--json", cwd=tmp_path, stdin=text)
    named = run("--json", "--name", "Ann Other", "--name", "Quorrbax", cwd=tmp_path, stdin=text)

    assert (anonymous.returncode, json.loads(anonymous.stdout)) == (0, {"flags": []})
    assert named.returncode == 1
    flags = json.loads(named.stdout)["flags"]
    assert [(f["line"], f["column"], f["phrase"], f["rule"]) for f in flags] == [
        (1, 10, "Quorrbax broke", "person-as-subject")
    ]


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path: Path):
    # `incidentbot review big.md | head -1`: the pipe closes while flags are still printed.
    (tmp_path / "big.md").write_text("The root cause was human error.\n\n" * 5000, encoding="utf-8")
    process = subprocess.Popen(
        [*INCIDENTBOT, "big.md"],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout.readline().decode() == "big.md:1:20: “human error” (human-error)\n"
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 1
    assert "Traceback" not in stderr
    assert "Broken pipe" not in stderr
