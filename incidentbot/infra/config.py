"""Settings from the environment (and a ``.env`` file), checked once at start-up."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from incidentbot.domain.errors import IncidentError
from incidentbot.domain.policy import Action, Policy
from incidentbot.domain.reminder_rules import (
    DEFAULT_LEAD_AFTER,
    DEFAULT_MORNING,
    DEFAULT_POSTMORTEM_DAYS,
    DEFAULT_UPDATE_INTERVALS,
    ReminderRules,
    parse_business_days,
    parse_clock_time,
    parse_duration,
    parse_optional_duration,
    parse_per_severity,
)

DEFAULT_ROLES = ("lead", "comms", "scribe")
# Every severity gets the full document by default (it has every section the contract names);
# teams may choose lighter ones per severity with INCIDENTBOT_POSTMORTEM_TEMPLATES.
DEFAULT_SEVERITY_TEMPLATES = {
    "SEV1": "default",
    "SEV2": "default",
    "SEV3": "default",
    "SEV4": "default",
}


class ConfigError(IncidentError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Everything the process is configured with; secrets are hidden from ``repr``."""

    # May hold the database password, so it stays out of repr like the tokens.
    database_url: str = field(default="sqlite:///incidentbot.db", repr=False)
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_api_url: str | None = None
    announce_channel: str = "#incidents"
    # Private incidents are announced only here (never publicly); None: not announced at all.
    private_announce_channel: str | None = None
    timezone: str = "UTC"
    base_url: str = "http://localhost:3000"
    templates_dir: Path | None = None
    channel_prefix: str = "inc"
    roles: tuple[str, ...] = DEFAULT_ROLES
    severity_templates: dict[str, str] = field(
        default_factory=lambda: dict(DEFAULT_SEVERITY_TEMPLATES)
    )
    blameless_rules: Path | None = None
    admins: frozenset[str] = frozenset()
    web_token: str | None = field(default=None, repr=False)
    restricted_actions: frozenset[str] = frozenset({"close", "reopen", "roles"})
    command: str = "/incident"
    # Background Slack work running at once in this process (acknowledgements come first:
    # while requests are being answered, jobs use one worker).
    job_workers: int = 4
    # Seconds a background Web API call may take before it counts as timed out.
    slack_timeout: float = 10.0
    # How long a claimed job is reserved for its replica; after a crash, another takes it up.
    job_lease_seconds: int = 120
    # Background Slack calls wait their turn in Slack's rate-limit tiers (slack/pacing.py),
    # shared by every replica; off, they go at once and meet Slack's 429s instead. A scale
    # below 1 shortens every spacing, for a local workspace whose time runs faster.
    slack_pacing: bool = True
    slack_pace_scale: float = 1.0
    # Days after closing that an incident's channel is archived; None: never.
    archive_after_days: int | None = None
    # Alert webhooks (/hooks/...) are off until this shared secret is set.
    webhook_secret: str | None = field(default=None, repr=False)
    # The alert label whose value (critical, warning, SEV2, ...) sets an incident's severity.
    alert_severity_label: str = "severity"
    # None: /metrics is open (for an internal port); else it wants this as a Bearer token.
    metrics_token: str | None = field(default=None, repr=False)
    # "text" (human-readable lines) or "json" (one JSON object a line).
    log_format: str = "text"

    # Reminders: the stakeholder-update interval per severity, when a missing lead is pointed
    # out, business days from close to a final postmortem per severity, and the hour (in
    # ``timezone``) that postmortem and action item reminders come at.
    update_reminders: dict[str, timedelta] = field(
        default_factory=lambda: dict(DEFAULT_UPDATE_INTERVALS)
    )
    lead_reminder: timedelta | None = DEFAULT_LEAD_AFTER
    postmortem_due_days: dict[str, int] = field(
        default_factory=lambda: dict(DEFAULT_POSTMORTEM_DAYS)
    )
    reminder_time: time = DEFAULT_MORNING

    @property
    def reminder_rules(self) -> ReminderRules:
        return ReminderRules(
            update_intervals=self.update_reminders,
            lead_after=self.lead_reminder,
            postmortem_days=self.postmortem_due_days,
            morning=self.reminder_time,
            zone=self.timezone,
        )

    @property
    def link_secret(self) -> str:
        """What page links are signed with: the signing secret, or the bot token in Socket Mode."""
        return self.slack_signing_secret or self.slack_bot_token or ""

    @property
    def policy(self) -> Policy:
        return Policy(
            admins=self.admins, restricted=frozenset(Action(a) for a in self.restricted_actions)
        )

    def require(self, *names: str) -> None:
        """Stop with one line naming the first required setting that is missing."""
        for name in names:
            if not getattr(self, name):
                setting = BY_FIELD[name]
                raise ConfigError(f"{setting.variable} is not set: expected {setting.expected}.")


class Malformed(ValueError):
    """Raised by a setting's reader; ``expected`` replaces the setting's own description when
    the value itself is worth naming ("… not 'Mars/Olympus'")."""

    def __init__(self, expected: str | None = None) -> None:
        super().__init__(expected or "")
        self.expected = expected


@dataclass(frozen=True)
class Setting:
    """One environment variable: the ``Settings`` field it fills, how its text is read (a
    ``ValueError`` means malformed), and what it expects, for the one line that stops start-up.
    Unset or blank, the field keeps its default."""

    variable: str
    field: str
    read: Callable[[str], object]
    expected: str


def _matching(pattern: str, *, flags: int = 0) -> Callable[[str], str]:
    def read(text: str) -> str:
        if not re.fullmatch(pattern, text, flags):
            raise Malformed
        return text

    return read


def _url(text: str) -> str:
    if not re.match(r"^https?://[^\s/]+", text):
        raise Malformed
    return text


def _api_url(text: str) -> str:
    return _url(text) if text.endswith("/") else _url(text) + "/"


def _database_url(text: str) -> str:
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", text):
        raise Malformed
    return text


def _zone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise Malformed(f"an IANA zone such as Europe/Berlin, not {text!r}") from None
    return text


def _folder(text: str) -> Path:
    if not Path(text).is_dir():
        raise Malformed(f"a folder, and {text!r} is not one")
    return Path(text)


def _toml_file(text: str) -> Path:
    if not Path(text).is_file():
        raise Malformed(f"a TOML file, and {text!r} is not a file")
    return Path(text)


def _prefix(text: str) -> str:
    return _matching(r"[a-z0-9][a-z0-9_-]{0,20}")(text.lower())


def _roles(text: str) -> tuple[str, ...]:
    roles = tuple(r.strip().lower() for r in text.split(",") if r.strip())
    if "lead" not in roles or not all(re.fullmatch(r"[a-z][a-z0-9_-]*", r) for r in roles):
        raise Malformed
    return roles


def _severity_templates(text: str) -> dict[str, str]:
    templates = dict(DEFAULT_SEVERITY_TEMPLATES)
    for pair in text.split(","):
        severity, sep, name = (part.strip() for part in pair.partition("="))
        if not sep or severity.upper() not in templates or not name:
            raise Malformed
        templates[severity.upper()] = name
    return templates


def _admins(text: str) -> frozenset[str]:
    admins = frozenset(a.strip() for a in text.split(",") if a.strip())
    if not all(re.fullmatch(r"[UW][A-Z0-9]{2,}", admin) for admin in admins):
        raise Malformed
    return admins


RESTRICTABLE = ("close", "notes", "reopen", "roles", "severity", "status")


def _restricted(text: str) -> frozenset[str]:
    restricted = frozenset(a.strip().lower() for a in text.split(",") if a.strip()) - {"none"}
    if not restricted <= set(RESTRICTABLE):
        raise Malformed
    return restricted


def _whole(low: int, high: int) -> Callable[[str], int]:
    def read(text: str) -> int:
        if not re.fullmatch(r"[0-9]{1,9}", text) or not low <= int(text) <= high:
            raise Malformed
        return int(text)

    return read


def _on_off(text: str) -> bool:
    if text.lower() not in ("on", "off"):
        raise Malformed
    return text.lower() == "on"


def _one_of(*choices: str) -> Callable[[str], str]:
    def read(text: str) -> str:
        if text.lower() not in choices:
            raise Malformed
        return text.lower()

    return read


def _secret(*, at_least: int) -> Callable[[str], str]:
    def read(text: str) -> str:
        if len(text) < at_least:
            raise Malformed  # only the length is named: the value is a secret
        return text

    return read


def _prefixed(prefix: str) -> Callable[[str], str]:
    def read(text: str) -> str:
        if not text.startswith(prefix):
            raise Malformed
        return text

    return read


_CHANNEL = r"#[a-z0-9_-]{1,80}|[CG][A-Z0-9]{2,}"

# Every setting the environment (or .env) can give, in the order the README lists them.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "SLACK_BOT_TOKEN", "slack_bot_token", _prefixed("xoxb-"), "a bot token starting with xoxb-"
    ),
    Setting("SLACK_SIGNING_SECRET", "slack_signing_secret", str, "your Slack app's signing secret"),
    Setting(
        "SLACK_APP_TOKEN",
        "slack_app_token",
        _prefixed("xapp-"),
        "an app-level token starting with xapp-",
    ),
    Setting("SLACK_API_URL", "slack_api_url", _api_url, "a URL such as http://127.0.0.1:9000/api/"),
    Setting(
        "DATABASE_URL",
        "database_url",
        _database_url,
        "sqlite:///path.db or postgresql+psycopg://user@host/db",
    ),
    Setting("INCIDENTBOT_TIMEZONE", "timezone", _zone, "an IANA zone such as Europe/Berlin"),
    Setting(
        "INCIDENTBOT_BASE_URL",
        "base_url",
        lambda text: _url(text.rstrip("/")),
        "a URL such as https://incidents.example.com",
    ),
    Setting("INCIDENTBOT_TEMPLATES_DIR", "templates_dir", _folder, "a folder"),
    Setting(
        "INCIDENTBOT_CHANNEL_PREFIX",
        "channel_prefix",
        _prefix,
        "up to 21 lowercase letters, digits, '-' or '_', such as inc",
    ),
    Setting(
        "INCIDENTBOT_ANNOUNCE_CHANNEL",
        "announce_channel",
        _matching(_CHANNEL),
        "a channel ID such as C0123ABC or a #name such as #incidents",
    ),
    Setting(
        "INCIDENTBOT_PRIVATE_ANNOUNCE_CHANNEL",
        "private_announce_channel",
        _matching(_CHANNEL),
        "a channel ID such as G0123ABC or a #name",
    ),
    Setting(
        "INCIDENTBOT_ROLES",
        "roles",
        _roles,
        "comma-separated lowercase role names including lead, such as lead,comms,scribe",
    ),
    Setting(
        "INCIDENTBOT_POSTMORTEM_TEMPLATES",
        "severity_templates",
        _severity_templates,
        "pairs such as SEV1=default,SEV3=lightweight",
    ),
    Setting("INCIDENTBOT_BLAMELESS_RULES", "blameless_rules", _toml_file, "a TOML file"),
    Setting(
        "INCIDENTBOT_ADMINS",
        "admins",
        _admins,
        "comma-separated Slack user IDs such as U0123ABC,U0456DEF",
    ),
    Setting(
        "INCIDENTBOT_RESTRICTED_ACTIONS",
        "restricted_actions",
        _restricted,
        f"a comma-separated subset of {', '.join(RESTRICTABLE)}, or none",
    ),
    Setting(
        "INCIDENTBOT_ARCHIVE_AFTER_DAYS",
        "archive_after_days",
        _whole(1, 3650),
        "whole days from 1 to 3650, or nothing to never archive",
    ),
    Setting(
        "INCIDENTBOT_JOB_LEASE_SECONDS",
        "job_lease_seconds",
        _whole(1, 3600),
        "whole seconds from 1 to 3600",
    ),
    Setting(
        "INCIDENTBOT_JOB_WORKERS",
        "job_workers",
        _whole(1, 64),
        "a whole number of workers from 1 to 64",
    ),
    Setting("INCIDENTBOT_SLACK_PACING", "slack_pacing", _on_off, "on or off"),
    Setting("INCIDENTBOT_WEB_TOKEN", "web_token", str, "a read token for the web pages"),
    Setting(
        "INCIDENTBOT_WEBHOOK_SECRET",
        "webhook_secret",
        _secret(at_least=16),
        "at least 16 characters, such as the output of `openssl rand -hex 32`",
    ),
    Setting(
        "INCIDENTBOT_ALERT_SEVERITY_LABEL",
        "alert_severity_label",
        _matching(r"[A-Za-z_][A-Za-z0-9_]{0,99}"),
        "a Prometheus label name such as severity",
    ),
    Setting("INCIDENTBOT_METRICS_TOKEN", "metrics_token", str, "a Bearer token for /metrics"),
    Setting("INCIDENTBOT_LOG_FORMAT", "log_format", _one_of("text", "json"), "text or json"),
    Setting(
        "INCIDENTBOT_UPDATE_REMINDERS",
        "update_reminders",
        lambda text: parse_per_severity(
            text, defaults=DEFAULT_UPDATE_INTERVALS, parse=parse_duration
        ),
        "pairs such as SEV1=30m,SEV2=1h (SEV3=off drops one; off drops all)",
    ),
    Setting(
        "INCIDENTBOT_LEAD_REMINDER",
        "lead_reminder",
        parse_optional_duration,
        "a duration such as 10m, or off",
    ),
    Setting(
        "INCIDENTBOT_POSTMORTEM_DUE",
        "postmortem_due_days",
        lambda text: parse_per_severity(
            text, defaults=DEFAULT_POSTMORTEM_DAYS, parse=parse_business_days
        ),
        "business days such as SEV1=5,SEV2=10 (SEV2=off drops one; off drops all)",
    ),
    Setting(
        "INCIDENTBOT_REMINDER_TIME",
        "reminder_time",
        parse_clock_time,
        "a time of day such as 09:00",
    ),
)
BY_FIELD = {setting.field: setting for setting in SETTINGS}


def read_dotenv(path: Path) -> dict[str, str]:
    """A ``.env`` file's values, read as python-dotenv reads them (quotes, ``export``, inline
    ``# comments`` after unquoted values, escapes in double quotes); none if there is no file."""
    if not path.is_file():
        return {}
    return {key: value for key, value in dotenv_values(path).items() if value is not None}


def load_settings(
    environ: Mapping[str, str] | None = None, *, dotenv: Path | None = Path(".env")
) -> Settings:
    """Read every setting in ``SETTINGS``; the process environment wins over ``.env``. The
    first malformed one stops start-up with one line naming it and what it expects."""
    env: dict[str, str] = {}
    if dotenv is not None:
        env.update(read_dotenv(dotenv))
    env.update(os.environ if environ is None else environ)
    values: dict[str, object] = {}
    for setting in SETTINGS:
        text = (env.get(setting.variable) or "").strip()
        if not text:
            continue
        try:
            values[setting.field] = setting.read(text)
        except ValueError as error:
            expected = getattr(error, "expected", None) or setting.expected
            raise ConfigError(f"{setting.variable} is malformed: expected {expected}.") from None
    # Each value is its field's reader's result, which the SETTINGS table cannot tell mypy.
    return Settings(**values)  # type: ignore[arg-type]
