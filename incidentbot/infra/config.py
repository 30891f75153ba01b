"""Settings from the environment (and a ``.env`` file), checked once at start-up."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
        env_names = {
            "slack_bot_token": ("SLACK_BOT_TOKEN", "a bot token starting with xoxb-"),
            "slack_signing_secret": ("SLACK_SIGNING_SECRET", "your Slack app's signing secret"),
            "slack_app_token": ("SLACK_APP_TOKEN", "an app-level token starting with xapp-"),
        }
        for name in names:
            if not getattr(self, name):
                variable, expected = env_names[name]
                raise ConfigError(f"{variable} is not set: expected {expected}.")


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse ``KEY=value`` lines; blank lines, comments and ``export`` prefixes allowed."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, sep, value = line.partition("=")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load_settings(
    environ: dict[str, str] | None = None, *, dotenv: Path | None = Path(".env")
) -> Settings:
    """Read settings; the process environment wins over ``.env``."""
    env: dict[str, str] = {}
    if dotenv is not None:
        env.update(read_dotenv(dotenv))
    env.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        value = env.get(name)
        return value.strip() if value and value.strip() else None

    bot_token = get("SLACK_BOT_TOKEN")
    if bot_token and not bot_token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN is malformed: expected a bot token starting with xoxb-.")
    app_token = get("SLACK_APP_TOKEN")
    if app_token and not app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN is malformed: expected a token starting with xapp-.")

    api_url = get("SLACK_API_URL")
    if api_url:
        if not re.match(r"^https?://[^\s/]+", api_url):
            raise ConfigError(
                "SLACK_API_URL is malformed: expected a URL such as http://127.0.0.1:9000/api/."
            )
        api_url = api_url if api_url.endswith("/") else api_url + "/"

    database_url = get("DATABASE_URL") or Settings.database_url
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", database_url):
        raise ConfigError(
            "DATABASE_URL is malformed: expected sqlite:///path.db or "
            "postgresql+psycopg://user@host/db."
        )

    zone = get("INCIDENTBOT_TIMEZONE") or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"INCIDENTBOT_TIMEZONE is malformed: expected an IANA zone such as Europe/Berlin, "
            f"not {zone!r}."
        ) from None

    base_url = (get("INCIDENTBOT_BASE_URL") or Settings.base_url).rstrip("/")
    if not re.match(r"^https?://[^\s/]+", base_url):
        raise ConfigError(
            "INCIDENTBOT_BASE_URL is malformed: expected a URL such as https://incidents.example.com."
        )

    templates_dir = get("INCIDENTBOT_TEMPLATES_DIR")
    if templates_dir and not Path(templates_dir).is_dir():
        raise ConfigError(
            f"INCIDENTBOT_TEMPLATES_DIR is malformed: expected a folder, and {templates_dir!r} "
            "is not one."
        )

    prefix = (get("INCIDENTBOT_CHANNEL_PREFIX") or Settings.channel_prefix).lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,20}", prefix):
        raise ConfigError(
            "INCIDENTBOT_CHANNEL_PREFIX is malformed: expected up to 21 lowercase letters, digits, "
            "'-' or '_', such as inc."
        )

    announce = get("INCIDENTBOT_ANNOUNCE_CHANNEL") or Settings.announce_channel
    if not re.fullmatch(r"#[a-z0-9_-]{1,80}|[CG][A-Z0-9]{2,}", announce):
        raise ConfigError(
            "INCIDENTBOT_ANNOUNCE_CHANNEL is malformed: expected a channel ID such as C0123ABC "
            "or a #name such as #incidents."
        )

    private_announce = get("INCIDENTBOT_PRIVATE_ANNOUNCE_CHANNEL")
    if private_announce and not re.fullmatch(
        r"#[a-z0-9_-]{1,80}|[CG][A-Z0-9]{2,}", private_announce
    ):
        raise ConfigError(
            "INCIDENTBOT_PRIVATE_ANNOUNCE_CHANNEL is malformed: expected a channel ID such as "
            "G0123ABC or a #name."
        )

    roles = DEFAULT_ROLES
    if get("INCIDENTBOT_ROLES"):
        roles = tuple(r.strip().lower() for r in env["INCIDENTBOT_ROLES"].split(",") if r.strip())
        if "lead" not in roles or not all(re.fullmatch(r"[a-z][a-z0-9_-]*", r) for r in roles):
            raise ConfigError(
                "INCIDENTBOT_ROLES is malformed: expected comma-separated lowercase role names "
                "including lead, such as lead,comms,scribe."
            )

    severity_templates = dict(DEFAULT_SEVERITY_TEMPLATES)
    if get("INCIDENTBOT_POSTMORTEM_TEMPLATES"):
        for pair in env["INCIDENTBOT_POSTMORTEM_TEMPLATES"].split(","):
            severity, sep, name = (part.strip() for part in pair.partition("="))
            if not sep or severity.upper() not in severity_templates or not name:
                raise ConfigError(
                    "INCIDENTBOT_POSTMORTEM_TEMPLATES is malformed: expected pairs such as "
                    "SEV1=default,SEV3=lightweight."
                )
            severity_templates[severity.upper()] = name

    blameless_rules = get("INCIDENTBOT_BLAMELESS_RULES")
    if blameless_rules and not Path(blameless_rules).is_file():
        raise ConfigError(
            f"INCIDENTBOT_BLAMELESS_RULES is malformed: expected a TOML file, and "
            f"{blameless_rules!r} is not a file."
        )

    admins = frozenset(a.strip() for a in (get("INCIDENTBOT_ADMINS") or "").split(",") if a.strip())
    if not all(re.fullmatch(r"[UW][A-Z0-9]{2,}", admin) for admin in admins):
        raise ConfigError(
            "INCIDENTBOT_ADMINS is malformed: expected comma-separated Slack user IDs such as "
            "U0123ABC,U0456DEF."
        )
    restricted_text = get("INCIDENTBOT_RESTRICTED_ACTIONS")
    restricted = Settings.__dataclass_fields__["restricted_actions"].default
    if restricted_text is not None:
        known = {"notes", "severity", "status", "roles", "close", "reopen"}
        restricted = frozenset(
            a.strip().lower() for a in restricted_text.split(",") if a.strip()
        ) - {"none"}
        if not restricted <= known:
            raise ConfigError(
                "INCIDENTBOT_RESTRICTED_ACTIONS is malformed: expected a comma-separated subset "
                f"of {', '.join(sorted(known))}, or none."
            )

    archive_after = get("INCIDENTBOT_ARCHIVE_AFTER_DAYS")
    if archive_after is not None and (
        not re.fullmatch(r"[0-9]{1,4}", archive_after) or not 1 <= int(archive_after) <= 3650
    ):
        raise ConfigError(
            "INCIDENTBOT_ARCHIVE_AFTER_DAYS is malformed: expected whole days from 1 to 3650, "
            "or nothing to never archive."
        )

    lease = get("INCIDENTBOT_JOB_LEASE_SECONDS") or str(Settings.job_lease_seconds)
    if not lease.isdigit() or not 1 <= int(lease) <= 3600:
        raise ConfigError(
            "INCIDENTBOT_JOB_LEASE_SECONDS is malformed: expected whole seconds from 1 to 3600."
        )

    pacing = (get("INCIDENTBOT_SLACK_PACING") or "on").lower()
    if pacing not in ("on", "off"):
        raise ConfigError("INCIDENTBOT_SLACK_PACING is malformed: expected on or off.")

    webhook_secret = get("INCIDENTBOT_WEBHOOK_SECRET")
    if webhook_secret is not None and len(webhook_secret) < 16:
        # Only the length is named: the value is a secret.
        raise ConfigError(
            "INCIDENTBOT_WEBHOOK_SECRET is malformed: expected at least 16 characters, such as "
            "the output of `openssl rand -hex 32`."
        )
    severity_label = get("INCIDENTBOT_ALERT_SEVERITY_LABEL") or Settings.alert_severity_label
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,99}", severity_label):
        raise ConfigError(
            "INCIDENTBOT_ALERT_SEVERITY_LABEL is malformed: expected a Prometheus label name "
            "such as severity."
        )
    log_format = (get("INCIDENTBOT_LOG_FORMAT") or Settings.log_format).lower()
    if log_format not in ("text", "json"):
        raise ConfigError("INCIDENTBOT_LOG_FORMAT is malformed: expected text or json.")

    return Settings(
        database_url=database_url,
        slack_bot_token=bot_token,
        slack_signing_secret=get("SLACK_SIGNING_SECRET"),
        slack_app_token=app_token,
        slack_api_url=api_url,
        announce_channel=announce,
        private_announce_channel=private_announce,
        timezone=zone,
        base_url=base_url,
        templates_dir=Path(templates_dir) if templates_dir else None,
        channel_prefix=prefix,
        roles=roles,
        severity_templates=severity_templates,
        blameless_rules=Path(blameless_rules) if blameless_rules else None,
        job_lease_seconds=int(lease),
        slack_pacing=pacing == "on",
        archive_after_days=int(archive_after) if archive_after is not None else None,
        admins=admins,
        restricted_actions=restricted,
        web_token=get("INCIDENTBOT_WEB_TOKEN"),
        webhook_secret=webhook_secret,
        alert_severity_label=severity_label,
        metrics_token=get("INCIDENTBOT_METRICS_TOKEN"),
        log_format=log_format,
        **_reminder_settings(get),
    )


def _reminder_settings(get: Callable[[str], str | None]) -> dict[str, object]:
    """The reminder settings, each stopping start-up with one line if malformed."""
    readers: dict[str, tuple[str, Callable[[str], object], str]] = {
        "update_reminders": (
            "INCIDENTBOT_UPDATE_REMINDERS",
            lambda text: parse_per_severity(
                text, defaults=DEFAULT_UPDATE_INTERVALS, parse=parse_duration
            ),
            "pairs such as SEV1=30m,SEV2=1h (SEV3=off drops one; off drops all)",
        ),
        "lead_reminder": (
            "INCIDENTBOT_LEAD_REMINDER",
            parse_optional_duration,
            "a duration such as 10m, or off",
        ),
        "postmortem_due_days": (
            "INCIDENTBOT_POSTMORTEM_DUE",
            lambda text: parse_per_severity(
                text, defaults=DEFAULT_POSTMORTEM_DAYS, parse=parse_business_days
            ),
            "business days such as SEV1=5,SEV2=10 (SEV2=off drops one; off drops all)",
        ),
        "reminder_time": (
            "INCIDENTBOT_REMINDER_TIME",
            parse_clock_time,
            "a time of day such as 09:00",
        ),
    }
    values: dict[str, object] = {}
    for name, (variable, parse, expected) in readers.items():
        text = get(variable)
        if text is None:
            continue
        try:
            values[name] = parse(text)
        except ValueError:
            raise ConfigError(f"{variable} is malformed: expected {expected}.") from None
    return values
