"""The ``incidentbot`` command as operators use it: real processes, real ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

import pytest
import yaml

from incidentbot.emulator import LocalSlack

INCIDENTBOT = [sys.executable, "-m", "incidentbot"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "INCIDENTBOT_"))}
    env.pop("DATABASE_URL", None)
    env.update(values)
    return env


def wait_for_health(url: str, process: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited early: {process.stderr.read().decode()}")
        try:
            with urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except (URLError, ConnectionError, OSError):
            time.sleep(0.1)
    raise AssertionError("serve did not answer /healthz in time")


def test_serve_answers_healthz_and_handles_signed_slack_requests(db_url, tmp_path: Path):
    port = free_port()
    with LocalSlack() as slack:
        env = clean_env(
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_SIGNING_SECRET="serve-test-secret",
            SLACK_API_URL=slack.api_url,
            DATABASE_URL=db_url,
            INCIDENTBOT_BASE_URL=f"http://127.0.0.1:{port}",
        )
        process = subprocess.Popen(
            [*INCIDENTBOT, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
            driver = slack.driver(f"http://127.0.0.1:{port}/slack/events", "serve-test-secret")
            assert driver.command("dana", "#general", "declare Served for real").status == 200
            forged = slack.driver(f"http://127.0.0.1:{port}/slack/events", "wrong-secret")
            assert forged.command("dana", "#general", "declare Forged").status == 401
            # The channel is created, then the declarer invited: wait for both, not the first.
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                made = slack.workspace.channel_by_name("inc-1-served-for-real")
                if made and "UDANA" in slack.workspace.members(made.id):
                    break
                time.sleep(0.1)
            channel = slack.workspace.channel_by_name("inc-1-served-for-real")
            assert channel is not None and "UDANA" in slack.workspace.members(channel.id)
            assert not any(c.name.startswith("inc-2") for c in slack.workspace.channels())
        finally:
            process.terminate()
            process.wait(timeout=15)


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token", "SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        (
            {
                "SLACK_BOT_TOKEN": "xoxb-1",
                "SLACK_SIGNING_SECRET": "s",
                "INCIDENTBOT_TIMEZONE": "Mars",
            },
            "INCIDENTBOT_TIMEZONE",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "DATABASE_URL": "mysql://x"},
            "DATABASE_URL",
        ),
    ],
)
def test_a_missing_or_malformed_setting_stops_serve_with_one_line(env, names, tmp_path):
    result = subprocess.run(
        [*INCIDENTBOT, "serve", "--port", str(free_port())],
        env=clean_env(**env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and names in lines[0]
    assert "xoxb-1" not in result.stderr


def test_settings_are_read_from_a_dotenv_file(tmp_path):
    (tmp_path / ".env").write_text(
        "SLACK_BOT_TOKEN=xoxb-1\nINCIDENTBOT_CHANNEL_PREFIX=Bad Prefix\n"
    )
    result = subprocess.run(
        [*INCIDENTBOT, "manifest"], env=clean_env(), cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 2 and "INCIDENTBOT_CHANNEL_PREFIX" in result.stderr


def test_manifest_is_yaml_with_an_escaped_slash_command(tmp_path):
    result = subprocess.run(
        [*INCIDENTBOT, "manifest"],
        env=clean_env(INCIDENTBOT_BASE_URL="https://incidents.example.com"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    manifest = yaml.safe_load(result.stdout)
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/incident" and command["should_escape"] is True
    assert command["url"] == "https://incidents.example.com/slack/events"
    assert "pin_added" in manifest["settings"]["event_subscriptions"]["bot_events"]


def render(db_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``incidentbot postmortem render ARGS`` on the database at ``db_url``."""
    return subprocess.run(
        [*INCIDENTBOT, "postmortem", "render", *args],
        env=clean_env(DATABASE_URL=db_url),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_postmortem_render_reviews_what_people_wrote_as_the_bot_does(db_url, tmp_path, uow_factory):
    """The CLI's render reviews the same passages the bot's postmortem does: an alert's own
    words (here its title) are not a person's, a summary a person wrote is."""
    from incidentbot import services
    from incidentbot.domain.models import AlertGroup

    with uow_factory() as uow:
        incident = services.declare_incident(
            uow=uow, title="FIRING: human error on db-1", declared_by="UALICE"
        )
        uow.session.add(
            AlertGroup(
                source="generic",
                group_key="g",
                open_key="k",
                incident_id=incident.id,
                created_at=incident.declared_at,
            )
        )
        services.set_summary(
            uow=uow, incident=incident, author_id="UALICE", text="Bob carelessly broke checkout"
        )
        uow.commit()
    result = render(db_url, tmp_path, "1", "--format", "md")
    assert result.returncode == 0, result.stderr
    notes = result.stdout.split("## Review notes", 1)[1]
    assert "carelessly" in notes
    assert "human error" not in notes


def test_postmortem_render_prints_the_postmortem(db_url, tmp_path, uow_factory):
    from incidentbot import services
    from incidentbot.postmortem.render import PostmortemRenderer

    with uow_factory() as uow:
        services.declare_incident(uow=uow, title="Rendered from the CLI", declared_by="UALICE")
        uow.commit()
    for fmt, marker in (("md", "# INC-1: Rendered from the CLI"), ("html", "<h1")):
        result = render(db_url, tmp_path, "1", "--format", fmt)
        assert result.returncode == 0, result.stderr
        assert marker in result.stdout
    with uow_factory() as uow:
        incident = services.get_incident(uow=uow, number=1)
        for _ in range(2):
            services.generate_postmortem(
                uow=uow,
                incident=incident,
                renderer=PostmortemRenderer(),
                generated_by="UALICE",
                trigger="command",
            )
        incident.postmortems[0].markdown = "# version one, as stored\n"
        uow.commit()
    stored = render(db_url, tmp_path, "1", "--version", "1")
    assert stored.stdout == "# version one, as stored\n"
    absent = render(db_url, tmp_path, "1", "--version", "5")
    assert absent.returncode == 1 and "versions 1 to 2 exist" in absent.stderr
    missing = render(db_url, tmp_path, "99")
    assert missing.returncode == 1 and "no incident number 99" in missing.stderr


def test_db_upgrade_reports_success(db_url, tmp_path):
    result = subprocess.run(
        [*INCIDENTBOT, "db", "upgrade"],
        env=clean_env(DATABASE_URL=db_url),
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and "newest revision" in result.stdout


def test_demo_plays_an_incident_and_writes_its_postmortem(tmp_path):
    result = subprocess.run(
        [*INCIDENTBOT, "demo", "--out", str(tmp_path / "out")],
        env=clean_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stdout + result.stderr and "Traceback" not in result.stderr
    markdown = (tmp_path / "out" / "INC-1-postmortem.md").read_text()
    html = (tmp_path / "out" / "INC-1-postmortem.html").read_text()
    assert markdown.startswith("# INC-1: Checkout API returning 500s")
    for shown in (
        "Checkout error rate alert fired",
        "Deploy checkout-api 2026.11.27-3",
        "Rolling back checkout-api",
        "Add canary analysis",
        "Time to resolve",
    ):
        assert shown in markdown and shown in html
    assert "/incident note at" in result.stdout and "Postmortem draft for INC-1" in result.stdout
    # One correction, shown to the person and kept out of the document.
    assert "/incident edit" in result.stdout and "is corrected" in result.stdout
    assert "Rollback finished on all 12 pods" in markdown and "on 21 pods" not in markdown
    assert str(tmp_path / "out") in result.stdout


def test_socket_mode_handles_commands_over_the_socket(db_url, tmp_path: Path):
    with LocalSlack() as slack:
        env = clean_env(
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_APP_TOKEN=slack.app_token,
            SLACK_API_URL=slack.api_url,
            DATABASE_URL=db_url,
        )
        for proxy in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
            env.pop(proxy, None)
        process = subprocess.Popen(
            [*INCIDENTBOT, "socket"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            slack.wait_for_socket_connection(timeout=20)
            driver = slack.socket_driver()
            response = driver.command("erik", "#general", "declare Over the socket")
            assert response.status == 200 and "INC-1" in response.body
            # The channel is created before the declarer is invited: wait for both.
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                channel = slack.workspace.channel_by_name("inc-1-over-the-socket")
                if channel is not None and "UERIK" in slack.workspace.members(channel.id):
                    break
                time.sleep(0.05)
            assert channel is not None and "UERIK" in slack.workspace.members(channel.id)
            assert driver.command("erik", channel.id, "sev 9").json()["response_type"] == (
                "ephemeral"
            )
        finally:
            process.terminate()
            process.wait(timeout=15)


def test_socket_mode_needs_an_app_token(tmp_path):
    result = subprocess.run(
        [*INCIDENTBOT, "socket"],
        env=clean_env(SLACK_BOT_TOKEN="xoxb-1"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "SLACK_APP_TOKEN" in result.stderr


def test_templates_check_passes_on_the_built_in_templates(tmp_path):
    result = subprocess.run(
        [*INCIDENTBOT, "templates", "check"],
        env=clean_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for name in ("default", "lightweight", "pagerduty"):
        assert name in result.stdout


def test_a_broken_team_template_stops_serve_at_start_naming_file_and_line(tmp_path):
    team = tmp_path / "team-templates"
    team.mkdir()
    (team / "default.md.j2").write_text("# {{ incident.title }}\n\n{{ incident.__class__ }}\n")
    env = clean_env(
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        INCIDENTBOT_TEMPLATES_DIR=str(team),
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
    )
    for command in (["templates", "check"], ["serve", "--port", str(free_port())]):
        result = subprocess.run(
            [*INCIDENTBOT, *command],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1, result.stdout
        assert "default.md.j2" in result.stderr and "line 3" in result.stderr
        assert "Traceback" not in result.stderr


def test_a_broken_team_rules_file_stops_serve_naming_the_file_and_rule(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text(
        '[[rule]]\nid = "heroics"\ncategory = "blame"\npattern = "(unclosed"\n'
        'why = "x"\nsuggestion = "y"\n'
    )
    result = subprocess.run(
        [*INCIDENTBOT, "serve", "--port", str(free_port())],
        env=clean_env(
            SLACK_BOT_TOKEN="xoxb-1",
            SLACK_SIGNING_SECRET="s",
            INCIDENTBOT_BLAMELESS_RULES=str(rules),
            DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
        ),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "rules.toml" in result.stderr and "heroics" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_command_line_starts_without_loading_the_database_or_slack_layers():
    """``incidentbot --help`` must stay instant: the heavy layers load only for the command
    that needs them (measured in ``make bench``; asserted here as what gets imported)."""
    probe = (
        "import sys, incidentbot.entrypoints.cli\n"
        "heavy = sorted(m for m in ('sqlalchemy', 'slack_bolt', 'slack_sdk', 'jinja2', 'flask')"
        " if m in sys.modules)\n"
        "print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
