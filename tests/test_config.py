"""Settings: declared once (``config.SETTINGS``), read from the environment and ``.env`` with
python-dotenv's semantics, documented in the README, and refused one line at a time."""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path

import pytest

from incidentbot.infra.config import SETTINGS, ConfigError, Settings, load_settings

README = Path(__file__).resolve().parent.parent / "README.md"


def documented_variables() -> list[str]:
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", section, flags=re.M)


def test_every_setting_is_documented_in_the_readme_and_nothing_else_is() -> None:
    assert sorted(documented_variables()) == sorted(s.variable for s in SETTINGS)


def test_every_setting_fills_a_field_of_settings() -> None:
    fields = set(Settings.__dataclass_fields__)
    assert {s.field for s in SETTINGS} <= fields
    assert len({s.field for s in SETTINGS}) == len(SETTINGS)


def test_unset_or_blank_settings_keep_their_defaults() -> None:
    blank = {s.variable: "   " for s in SETTINGS}
    assert load_settings(blank, dotenv=None) == Settings() == load_settings({}, dotenv=None)


# One well-formed value per setting, and what it becomes.
WELL_FORMED = {
    "SLACK_BOT_TOKEN": ("xoxb-1", "xoxb-1"),
    "SLACK_SIGNING_SECRET": (" s3cret ", "s3cret"),
    "SLACK_APP_TOKEN": ("xapp-1", "xapp-1"),
    "SLACK_API_URL": ("http://127.0.0.1:9000/api", "http://127.0.0.1:9000/api/"),
    "DATABASE_URL": ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    "INCIDENTBOT_TIMEZONE": ("Europe/Berlin", "Europe/Berlin"),
    "INCIDENTBOT_BASE_URL": ("https://incidents.example.com/", "https://incidents.example.com"),
    "INCIDENTBOT_TEMPLATES_DIR": (".", Path(".")),
    "INCIDENTBOT_CHANNEL_PREFIX": ("OPS", "ops"),
    "INCIDENTBOT_ANNOUNCE_CHANNEL": ("C0123ABC", "C0123ABC"),
    "INCIDENTBOT_PRIVATE_ANNOUNCE_CHANNEL": ("#sec-incidents", "#sec-incidents"),
    "INCIDENTBOT_ROLES": ("Lead, comms", ("lead", "comms")),
    "INCIDENTBOT_POSTMORTEM_TEMPLATES": (
        "sev3=lightweight",
        {"SEV1": "default", "SEV2": "default", "SEV3": "lightweight", "SEV4": "default"},
    ),
    "INCIDENTBOT_BLAMELESS_RULES": ("README.md", Path("README.md")),
    "INCIDENTBOT_ADMINS": ("U1AB, W2CD", frozenset({"U1AB", "W2CD"})),
    "INCIDENTBOT_RESTRICTED_ACTIONS": ("none", frozenset()),
    "INCIDENTBOT_ARCHIVE_AFTER_DAYS": ("14", 14),
    "INCIDENTBOT_JOB_LEASE_SECONDS": ("30", 30),
    "INCIDENTBOT_JOB_WORKERS": ("8", 8),
    "INCIDENTBOT_SLACK_PACING": ("OFF", False),
    "INCIDENTBOT_WEB_TOKEN": ("read-me", "read-me"),
    "INCIDENTBOT_WEBHOOK_SECRET": ("0123456789abcdef", "0123456789abcdef"),
    "INCIDENTBOT_ALERT_SEVERITY_LABEL": ("priority", "priority"),
    "INCIDENTBOT_METRICS_TOKEN": ("scrape", "scrape"),
    "INCIDENTBOT_LOG_FORMAT": ("JSON", "json"),
    "INCIDENTBOT_UPDATE_REMINDERS": (
        "SEV1=15m",
        {"SEV1": timedelta(minutes=15), "SEV2": timedelta(hours=1)},
    ),
    "INCIDENTBOT_LEAD_REMINDER": ("off", None),
    "INCIDENTBOT_POSTMORTEM_DUE": ("SEV2=off", {"SEV1": 5}),
    "INCIDENTBOT_REMINDER_TIME": ("08:30", time(8, 30)),
}


def test_every_setting_has_a_well_formed_example_here() -> None:
    assert set(WELL_FORMED) == {s.variable for s in SETTINGS}


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.variable)
def test_a_well_formed_setting_is_read_into_its_field(setting) -> None:  # type: ignore[no-untyped-def]
    text, expected = WELL_FORMED[setting.variable]
    settings = load_settings({setting.variable: text}, dotenv=None)
    assert getattr(settings, setting.field) == expected


# One malformed value per setting that can be malformed, and the exact line that stops start-up.
MALFORMED = [
    ("SLACK_BOT_TOKEN", "xoxp-1", "expected a bot token starting with xoxb-."),
    ("SLACK_APP_TOKEN", "xoxb-1", "expected an app-level token starting with xapp-."),
    ("SLACK_API_URL", "ftp://x", "expected a URL such as http://127.0.0.1:9000/api/."),
    (
        "DATABASE_URL",
        "mysql://root@db/x",
        "expected sqlite:///path.db or postgresql+psycopg://user@host/db.",
    ),
    (
        "INCIDENTBOT_TIMEZONE",
        "Mars/Olympus",
        "expected an IANA zone such as Europe/Berlin, not 'Mars/Olympus'.",
    ),
    (
        "INCIDENTBOT_BASE_URL",
        "incidents.example.com",
        "expected a URL such as https://incidents.example.com.",
    ),
    (
        "INCIDENTBOT_TEMPLATES_DIR",
        "no/such/folder",
        "expected a folder, and 'no/such/folder' is not one.",
    ),
    (
        "INCIDENTBOT_CHANNEL_PREFIX",
        "-inc",
        "expected up to 21 lowercase letters, digits, '-' or '_', such as inc.",
    ),
    (
        "INCIDENTBOT_ANNOUNCE_CHANNEL",
        "incidents",
        "expected a channel ID such as C0123ABC or a #name such as #incidents.",
    ),
    (
        "INCIDENTBOT_PRIVATE_ANNOUNCE_CHANNEL",
        "#A",
        "expected a channel ID such as G0123ABC or a #name.",
    ),
    (
        "INCIDENTBOT_ROLES",
        "comms,scribe",
        "expected comma-separated lowercase role names including lead, such as lead,comms,scribe.",
    ),
    (
        "INCIDENTBOT_POSTMORTEM_TEMPLATES",
        "SEV9=x",
        "expected pairs such as SEV1=default,SEV3=lightweight.",
    ),
    (
        "INCIDENTBOT_BLAMELESS_RULES",
        "no-rules.toml",
        "expected a TOML file, and 'no-rules.toml' is not a file.",
    ),
    (
        "INCIDENTBOT_ADMINS",
        "alice",
        "expected comma-separated Slack user IDs such as U0123ABC,U0456DEF.",
    ),
    (
        "INCIDENTBOT_RESTRICTED_ACTIONS",
        "notes,deploy",
        "expected a comma-separated subset of close, notes, reopen, roles, severity, status, "
        "or none.",
    ),
    (
        "INCIDENTBOT_ARCHIVE_AFTER_DAYS",
        "3651",
        "expected whole days from 1 to 3650, or nothing to never archive.",
    ),
    ("INCIDENTBOT_JOB_LEASE_SECONDS", "0", "expected whole seconds from 1 to 3600."),
    ("INCIDENTBOT_JOB_WORKERS", "0", "expected a whole number of workers from 1 to 64."),
    ("INCIDENTBOT_SLACK_PACING", "sometimes", "expected on or off."),
    (
        "INCIDENTBOT_WEBHOOK_SECRET",
        "short",
        "expected at least 16 characters, such as the output of `openssl rand -hex 32`.",
    ),
    (
        "INCIDENTBOT_ALERT_SEVERITY_LABEL",
        "2prio",
        "expected a Prometheus label name such as severity.",
    ),
    ("INCIDENTBOT_LOG_FORMAT", "yaml", "expected text or json."),
    (
        "INCIDENTBOT_UPDATE_REMINDERS",
        "SEV1=soon",
        "expected pairs such as SEV1=30m,SEV2=1h (SEV3=off drops one; off drops all).",
    ),
    ("INCIDENTBOT_LEAD_REMINDER", "later", "expected a duration such as 10m, or off."),
    (
        "INCIDENTBOT_POSTMORTEM_DUE",
        "SEV1=-1",
        "expected business days such as SEV1=5,SEV2=10 (SEV2=off drops one; off drops all).",
    ),
    ("INCIDENTBOT_REMINDER_TIME", "25:00", "expected a time of day such as 09:00."),
]


@pytest.mark.parametrize(("variable", "value", "says"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_setting_stops_start_up_with_one_line_naming_it(variable, value, says) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as refused:
        load_settings({variable: value}, dotenv=None)
    assert refused.value.message == f"{variable} is malformed: {says}"


def test_a_missing_required_setting_names_it_and_what_it_expects() -> None:
    with pytest.raises(ConfigError) as refused:
        Settings().require("slack_bot_token", "slack_signing_secret")
    assert refused.value.message == (
        "SLACK_BOT_TOKEN is not set: expected a bot token starting with xoxb-."
    )
    with pytest.raises(ConfigError) as refused:
        Settings(slack_bot_token="xoxb-1").require("slack_bot_token", "slack_app_token")
    assert refused.value.message == (
        "SLACK_APP_TOKEN is not set: expected an app-level token starting with xapp-."
    )


def test_dotenv_is_read_as_python_dotenv_reads_it_and_the_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# the team's settings\n"
        "INCIDENTBOT_TIMEZONE=Europe/Berlin # ours\n"
        'export INCIDENTBOT_CHANNEL_PREFIX="ops"\n'
        "INCIDENTBOT_WEB_TOKEN='has # inside'\n"
        'INCIDENTBOT_METRICS_TOKEN="two\\nlines"\n'
        "INCIDENTBOT_LOG_FORMAT=json\n"
        "INCIDENTBOT_ROLES\n"
    )
    settings = load_settings({"INCIDENTBOT_LOG_FORMAT": "text"}, dotenv=dotenv)
    assert settings.timezone == "Europe/Berlin"  # the inline comment is not part of it
    assert settings.channel_prefix == "ops"
    assert settings.web_token == "has # inside"
    assert settings.metrics_token == "two\nlines"
    assert settings.log_format == "text"  # the environment wins
    assert settings.roles == Settings().roles  # a key with no value is unset


def test_no_dotenv_file_is_no_settings(tmp_path: Path) -> None:
    assert load_settings({}, dotenv=tmp_path / "absent.env") == Settings()
