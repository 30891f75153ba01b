"""Secrets never leave the process: not in logs, replies, pages, files, Slack messages or errors.

Distinctive values stand in for the bot token, the app-level token, the signing secret and the
database password. An end-to-end run with each of them in use (the bot in-process with every
logger at DEBUG, ``incidentbot serve`` and ``incidentbot socket`` as real processes, start-ups
that fail on a malformed setting or an unreachable database) collects everything written:
log records, subprocess output, every HTTP body and header the bot answered with, every
message, ephemeral, view and file in the workspace, and the web pages. None may contain any
secret, nor a recognisable piece of one (without its prefix, without its first or last
character, its random tail, URL-encoded).
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode
from urllib.request import HTTPCookieProcessor, Request, build_opener, urlopen

import pytest
from sqlalchemy.engine import make_url

from incidentbot.emulator import DriverResponse, LocalSlack, SlackDriver, Workspace
from incidentbot.entrypoints.local import LocalStack
from incidentbot.infra.config import load_settings
from incidentbot.slack.runtime import create_runtime
from tests.databases import database_url

BOT_TOKEN = "xoxb-SECRETSCAN-bot-7f3a9c1e5d2b"
APP_TOKEN = "xapp-SECRETSCAN-app-9d2c7e1b3a4f"
SIGNING_SECRET = "SECRETSCAN-signing-4b8e2a6f1c0d"
DB_PASSWORD = "SECRETSCAN-dbpass-6e1f8a2c5b3d"
WEBHOOK_SECRET = "SECRETSCAN-webhook-3c9a7e2f5d1b"
METRICS_TOKEN = "SECRETSCAN-metrics-8b4d1f6a2e9c"
SECRETS = {
    "bot token": BOT_TOKEN,
    "app token": APP_TOKEN,
    "signing secret": SIGNING_SECRET,
    "database password": DB_PASSWORD,
    "webhook secret": WEBHOOK_SECRET,
    "metrics token": METRICS_TOKEN,
}
#: Every secret carries this word, so any fragment of one is caught even if cut differently.
MARKER = "SECRETSCAN"

INCIDENTBOT = [sys.executable, "-m", "incidentbot"]


def _needles(secret: str) -> set[str]:
    """The secret and the pieces of it that would still give it away."""
    bare = secret.removeprefix("xoxb-").removeprefix("xapp-")
    return {
        secret,
        bare,
        secret[1:],
        secret[:-1],
        secret.rsplit("-", 1)[-1],  # the random tail
        quote(secret, safe=""),
    }


def _around(text: str, at: int) -> str:
    return f"…{text[max(0, at - 100) : at + 80]!r}…"


@dataclass
class Evidence:
    """Everything the processes wrote or showed, by where it was seen."""

    items: list[tuple[str, str]] = field(default_factory=list)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def add(self, where: str, text: object) -> None:
        if text is None:
            return
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        if not isinstance(text, str):
            text = json.dumps(text, ensure_ascii=False, default=repr)
        with self._guard:
            self.items.append((where, text))

    def response(self, where: str, response: DriverResponse | None) -> DriverResponse | None:
        if response is not None:
            self.add(f"{where}: HTTP {response.status} body", response.body)
            self.add(f"{where}: HTTP {response.status} headers", response.headers)
        return response

    def leaks(self) -> list[str]:
        found = []
        for where, text in self.items:
            named = False
            for name, secret in SECRETS.items():
                for needle in sorted(_needles(secret), key=len, reverse=True):
                    at = text.find(needle)
                    if at >= 0:
                        found.append(f"{where}: the {name} ({needle!r}) in {_around(text, at)}")
                        named = True
                        break
            at = text.find(MARKER)
            if at >= 0 and not named:
                found.append(f"{where}: a fragment of a secret in {_around(text, at)}")
        return found

    def tail(self, where: str, size: int = 3000) -> str:
        return "\n".join(text[-size:] for name, text in self.items if name == where)

    def assert_clean(self, *, minimum: int = 50) -> None:
        assert len(self.items) >= minimum, "too little was collected; the scan would be vacuous"
        leaks = self.leaks()
        assert not leaks, f"{len(leaks)} leaks:\n" + "\n".join(dict.fromkeys(leaks))


class LogCollector(logging.Handler):
    """Every record reaching the root logger, formatted with its traceback and stack."""

    def __init__(self, evidence: Evidence) -> None:
        super().__init__(logging.DEBUG)
        self.evidence = evidence
        self.count = 0
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("incidentbot.emulator"):
            return  # the stand-in for Slack is allowed to know the tokens
        try:
            text = self.format(record)
        except Exception as error:
            text = f"unformattable record {record.msg!r} {record.args!r}: {error!r}"
        self.count += 1
        self.evidence.add(f"log {record.levelname} {record.name}", text)
        self.evidence.add(f"log {record.name} args", repr(record.args))


DEBUG_LOGGERS = (
    "",
    "incidentbot",
    "slack_sdk",
    "slack_bolt",
    "sqlalchemy",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "waitress",
    "alembic",
    "urllib3",
    "werkzeug",
    "flask",
)


@contextmanager
def everything_logged(evidence: Evidence) -> Iterator[LogCollector]:
    collector = LogCollector(evidence)
    loggers = [logging.getLogger(name) for name in DEBUG_LOGGERS]
    levels = [logger.level for logger in loggers]
    root = logging.getLogger()
    root.addHandler(collector)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        yield collector
    finally:
        root.removeHandler(collector)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextmanager
def postgres_with_password(tmp_path: Path) -> Iterator[str]:
    """A fresh PostgreSQL schema, reached through a URL that carries the secret password
    (the test server trusts local connections, so any password is accepted)."""
    with database_url("postgresql", tmp_path) as url:
        parsed = make_url(url).set(password=DB_PASSWORD)
        yield parsed.render_as_string(hide_password=False)


def unreachable_database() -> str:
    return f"postgresql+psycopg://postgres:{DB_PASSWORD}@127.0.0.1:{free_port()}/test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def collect_workspace(evidence: Evidence, slack: LocalSlack) -> None:
    """What people in the workspace see: messages, ephemerals, views, files, channel details."""
    ws = slack.workspace
    with ws.lock:
        for channel in ws.channels():
            evidence.add(f"#{channel.name} topic/purpose", [channel.topic, channel.purpose])
            evidence.add(f"#{channel.name} bookmarks", channel.bookmarks)
            for message in channel.messages:
                evidence.add(
                    f"#{channel.name} message {message.ts}",
                    [message.text, message.blocks, message.attachments, message.metadata],
                )
        for ephemeral in ws.ephemeral_messages:
            evidence.add(f"ephemeral {ephemeral.ts}", [ephemeral.text, ephemeral.blocks])
        for view_id, view in ws.views_by_id.items():
            evidence.add(f"view {view_id}", view.view)
        for file in ws.files_by_id.values():
            evidence.add(f"file {file.name}", [file.title, file.initial_comment, file.alt_txt])
            evidence.add(f"file {file.name} content", file.content)
        for n, call in enumerate(ws.calls()):
            # What the bot sent to Slack, minus the credentials Slack is meant to receive.
            params = {k: v for k, v in call.params.items() if k != "token"}
            evidence.add(f"call {n} {call.method} ({call.kind}) params", params)


def read_page(evidence: Evidence, opener: Any, url: str, where: str) -> str:
    try:
        with opener.open(url, timeout=10) as page:
            html = page.read().decode("utf-8", "replace")
            evidence.add(f"{where} headers", dict(page.headers))
    except HTTPError as error:
        html = error.read().decode("utf-8", "replace")
        evidence.add(f"{where} headers", dict(error.headers))
    evidence.add(f"{where} page", html)
    return html


def signed_link(evidence: Evidence, driver: SlackDriver, user: str, channel: str) -> str:
    reply = evidence.response("link", driver.command(user, channel, "link"))
    assert reply is not None and reply.status == 200, reply
    match = re.search(r"<(http[^|>]+)\|", reply.json()["text"])
    assert match, reply.body
    return match.group(1).replace("&amp;", "&")


def visit_pages(evidence: Evidence, driver: SlackDriver, base_url: str, channel: str) -> None:
    opener = build_opener(HTTPCookieProcessor(CookieJar()))
    read_page(evidence, opener, signed_link(evidence, driver, "alice", channel), "incident")
    for path in ("/", "/incidents/1/postmortem", "/incidents/1/postmortem.md", "/incidents/99"):
        read_page(evidence, opener, f"{base_url}{path}", path)
    stranger = build_opener(HTTPCookieProcessor(CookieJar()))
    read_page(evidence, stranger, f"{base_url}/incidents/1", "no link (401)")
    read_page(evidence, stranger, f"{base_url}/incidents/1?token=forged.1.x", "forged (401)")
    with urlopen(f"{base_url}/healthz", timeout=10) as health:
        evidence.add("healthz", health.read())


def play_incident(evidence: Evidence, slack: LocalSlack, driver: SlackDriver) -> str:
    """A representative incident: commands, refusals, failures, a form, redeliveries, close."""
    ws = slack.workspace

    def command(user: str, channel: str, text: str) -> DriverResponse:
        response = evidence.response(f"/incident {text[:40]}", driver.command(user, channel, text))
        assert response is not None
        return response

    assert command("alice", "#general", "declare Checkout is failing").status == 200
    name, alice = "inc-1-checkout-is-failing", ws.resolve_user("alice").id

    def ready() -> bool:
        channel = ws.channel_by_name(name)
        return channel is not None and alice in channel.members

    wait_until(ready)
    channel = ws.channel_by_name(name)
    assert channel is not None and ready(), [c.name for c in ws.channels()]
    for text in (
        "note payments return 502 since the deploy",
        "sev 2",
        "status identified bad config",
        f"lead {driver.mention('bob')}",
        "summary A config push broke the payment gateway",
        "impact Card payments failed for 20 minutes",
        "update Rolling back now",
        "action Add a canary for config pushes due tomorrow",
        "note at 00:01 the first alert fired",
        "started at 00:02",
        "sev 9",
        "frobnicate",
        "lead nobody",
        "note",
    ):
        command("alice", channel.id, text)
    # Slack failing under the bot: a job that fails and is retried, and a form that won't open.
    ws.inject_fault("chat.postMessage", error="invalid_auth")
    command("alice", channel.id, "note this echo fails once")
    ws.inject_fault("views.open", error="invalid_auth")
    command("bob", "#general", "declare")
    form_reply = command("bob", "#general", "declare")
    assert form_reply.status == 200
    forms = ws.open_views("bob")
    if forms:
        evidence.response(
            "declare form",
            driver.submit_view("bob", forms[-1].id, {"title_input": "Search is slow"}),
        )
    evidence.response("join", driver.join("erik", channel.id).response)
    message = driver.post_message("alice", channel.id, "Rollback finished")
    pinned = driver.pin("alice", channel.id, message)
    evidence.response("pin", pinned.response)
    evidence.response("pin, redelivered", driver.redeliver(pinned).response)
    command("alice", channel.id, "resolve rollback done")
    command("alice", channel.id, "close")  # refused: alice handed the lead to bob
    bob = ws.resolve_user("bob").id
    wait_until(lambda: bob in ws.members(channel.id))
    command("bob", channel.id, "close")
    command("dana", "#general", "list")
    return channel.id


def refused_requests(evidence: Evidence, driver: SlackDriver) -> None:
    """Forged, stale and malformed requests: each refusal is scanned too."""
    fields = driver.command_fields("alice", "#general", "declare Forged")
    body = urlencode(fields).encode()
    form = "application/x-www-form-urlencoded"
    for signing in ({"signature": "bad"}, {"signature": "none"}, {"stale": True}):
        response = driver.raw(body, content_type=form, **signing)
        evidence.response(f"signing {signing}", response)
        assert response.status == 401
    for raw, content_type in ((b"{not json", "application/json"), (b"hello", "text/plain")):
        evidence.response(f"malformed {raw!r}", driver.raw(raw, content_type=content_type))
    evidence.response("url_verification", driver.url_verification("challenge-1"))


def alerts_and_metrics(evidence: Evidence, driver: SlackDriver, base_url: str) -> None:
    """Alert webhooks signed both ways, forged and malformed, and /metrics with and without
    its token: every answer is scanned, as is what the alerts made appear in Slack."""
    from incidentbot.web.hooks import SIGNATURE_HEADER, signed

    alert = json.dumps({"title": "Disk full on db-1", "group": "disk", "severity": "critical"})
    body = alert.encode()
    bearer = {"Authorization": f"Bearer {WEBHOOK_SECRET}"}
    sent = {
        "bearer": (body, bearer, 200),
        "hmac": (body, {SIGNATURE_HEADER: signed(WEBHOOK_SECRET, body)}, 200),
        "wrong bearer": (body, {"Authorization": f"Bearer {WEBHOOK_SECRET[:-1]}"}, 401),
        "forged hmac": (body, {SIGNATURE_HEADER: signed(WEBHOOK_SECRET[:-1], body)}, 401),
        "malformed": (b'{"title": 7}', bearer, 400),
    }
    for what, (raw, headers, status) in sent.items():
        response = driver.raw(raw, headers, signature="none", url=f"{base_url}/hooks/generic")
        evidence.response(f"alert webhook, {what}", response)
        assert response.status == status, (what, response.body)
    alertmanager = {
        "version": "4",
        "groupKey": '{}:{alertname="HighLatency"}',
        "status": "firing",
        "alerts": [{"status": "firing", "labels": {"alertname": "HighLatency"}}],
    }
    response = driver.raw(
        json.dumps(alertmanager).encode(),
        bearer,
        signature="none",
        url=f"{base_url}/hooks/alertmanager",
    )
    evidence.response("alertmanager webhook", response)
    assert response.status == 200, response.body
    for what, token in (("metrics", METRICS_TOKEN), ("metrics without the token", None)):
        request = Request(f"{base_url}/metrics")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urlopen(request, timeout=10) as answer:
                evidence.add(f"{what} headers", dict(answer.headers))
                evidence.add(what, answer.read())
        except HTTPError as error:
            evidence.add(f"{what} headers", dict(error.headers))
            evidence.add(what, error.read())


# ---------------------------------------------------------------------------------- in-process


@pytest.mark.postgres
def test_nothing_the_bot_writes_in_process_contains_a_secret(tmp_path, monkeypatch):
    """The whole bot in this process, every logger at DEBUG, on PostgreSQL with a password."""
    signing: dict[str, str] = {}
    if "signing_secret" in inspect.signature(LocalStack).parameters:
        signing["signing_secret"] = SIGNING_SECRET
    else:  # older LocalStack: it signs with this module constant, read at start()
        monkeypatch.setattr("incidentbot.entrypoints.local.LOCAL_SIGNING_SECRET", SIGNING_SECRET)
    evidence = Evidence()
    workspace = Workspace(bot_token=BOT_TOKEN, app_token=APP_TOKEN)
    with (
        everything_logged(evidence) as logs,
        postgres_with_password(tmp_path) as url,
        LocalStack(
            database_url=url,
            workspace=workspace,
            check_templates=True,
            webhook_secret=WEBHOOK_SECRET,
            metrics_token=METRICS_TOKEN,
            **signing,
        ) as stack,
    ):
        assert stack.settings.slack_signing_secret == SIGNING_SECRET
        assert stack.settings.slack_bot_token == BOT_TOKEN
        channel = play_incident(evidence, stack.slack, stack.driver)
        refused_requests(evidence, stack.driver)
        alerts_and_metrics(evidence, stack.driver, stack.base_url)
        stack.settle()
        visit_pages(evidence, stack.driver, stack.base_url, channel)
        stack.settle()
        collect_workspace(evidence, stack.slack)
        assert any(call.method == "files.completeUploadExternal" for call in workspace.calls())
    assert logs.count > 100, "DEBUG logging did not reach the collector"
    assert any(
        "slack_sdk" in where and "Sending a request" in text for where, text in evidence.items
    ), "slack_sdk never logged its requests (headers included) at DEBUG"
    assert any("sqlalchemy" in where for where, _ in evidence.items), "no sqlalchemy records"
    evidence.assert_clean()


def test_objects_that_end_up_in_logs_and_tracebacks_hide_the_secrets():
    """``repr`` of the settings and the runtime is what a debugger, a crash reporter or an
    f-string in a log line shows."""
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "DATABASE_URL": unreachable_database(),
        },
        dotenv=None,
    )
    runtime = create_runtime(settings, migrate=False, check_templates=False)
    try:
        evidence = Evidence()
        for name, value in {
            "settings": settings,
            "runtime": runtime,
            "deps": runtime.deps,
            "engine": runtime.engine,
            "engine.url": runtime.engine.url,
            "client": runtime.client,
            "bolt app": runtime.bolt,
            "jobs": runtime.jobs,
        }.items():
            evidence.add(f"repr({name})", repr(value))
            evidence.add(f"str({name})", str(value))
        evidence.assert_clean(minimum=16)
    finally:
        runtime.stop()


# ---------------------------------------------------------------------------------- processes


def secret_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "INCIDENTBOT_"))}
    for name in ("DATABASE_URL", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        env.pop(name, None)
    env.update(values)
    return env


def run_to_exit(evidence: Evidence, what: str, args: list[str], env: dict, cwd: Path) -> int:
    result = subprocess.run(
        [*INCIDENTBOT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )
    evidence.add(f"{what}: stdout", result.stdout)
    evidence.add(f"{what}: stderr", result.stderr)
    return result.returncode


@contextmanager
def running(evidence: Evidence, what: str, args: list[str], env: dict, cwd: Path) -> Iterator[Any]:
    process = subprocess.Popen(
        [*INCIDENTBOT, *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            out, err = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        evidence.add(f"{what}: stdout", out)
        evidence.add(f"{what}: stderr", err)


def wait_for_health(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the process exited early with {process.returncode}")
        try:
            with urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except (URLError, ConnectionError, OSError):
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer in time")


def wait_until(condition: Any, timeout: float = 20) -> None:
    """Wait for ``condition``; fail the test if it is still false after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"still waiting after {timeout} s for {condition.__name__}")
        time.sleep(0.1)


@pytest.mark.postgres
def test_nothing_serve_writes_contains_a_secret(tmp_path):
    evidence = Evidence()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    workspace = Workspace(bot_token=BOT_TOKEN, app_token=APP_TOKEN)
    with LocalSlack(workspace) as slack, postgres_with_password(tmp_path) as url:
        env = secret_env(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_APP_TOKEN=APP_TOKEN,
            SLACK_API_URL=slack.api_url,
            DATABASE_URL=url,
            INCIDENTBOT_BASE_URL=base_url,
            INCIDENTBOT_WEBHOOK_SECRET=WEBHOOK_SECRET,
            INCIDENTBOT_METRICS_TOKEN=METRICS_TOKEN,
            # The JSON lines are scanned here; the in-process test scans the text format.
            INCIDENTBOT_LOG_FORMAT="json",
        )
        serve = ["serve", "--host", "127.0.0.1", "--port", str(port), "--threads", "4"]
        with running(evidence, "serve", serve, env, tmp_path) as process:
            wait_for_health(f"{base_url}/healthz", process)
            driver = slack.driver(f"{base_url}/slack/events", SIGNING_SECRET)
            channel = play_incident(evidence, slack, driver)
            refused_requests(evidence, driver)
            alerts_and_metrics(evidence, driver, base_url)
            wait_until(lambda: bool(workspace.files_by_id))
            visit_pages(evidence, driver, base_url, channel)
        collect_workspace(evidence, slack)
        assert workspace.files_by_id, "no postmortem upload:\n" + evidence.tail("serve: stderr")

        # Start-ups that fail: a malformed setting next to real secrets, malformed secrets,
        # and a database that is not there (the connection error and its traceback).
        failing = {
            "malformed zone": {"INCIDENTBOT_TIMEZONE": "Mars/Olympus"},
            "malformed bot token": {"SLACK_BOT_TOKEN": f"xoxp-{BOT_TOKEN}"},
            "malformed database URL": {"DATABASE_URL": f"mysql://root:{DB_PASSWORD}@db/x"},
            "malformed API URL": {"SLACK_API_URL": f"ftp://{BOT_TOKEN}@x"},
            "no signing secret": {"SLACK_SIGNING_SECRET": ""},
            "malformed webhook secret": {"INCIDENTBOT_WEBHOOK_SECRET": "SECRETSCAN-x1"},
        }
        for what, change in failing.items():
            code = run_to_exit(evidence, f"serve, {what}", serve, {**env, **change}, tmp_path)
            assert code == 2, f"serve with {what} exited with {code}"
        unreachable = {**env, "DATABASE_URL": unreachable_database()}
        code = run_to_exit(evidence, "serve, database unreachable", serve, unreachable, tmp_path)
        assert code != 0
        code = run_to_exit(
            evidence, "db upgrade, unreachable", ["db", "upgrade"], unreachable, tmp_path
        )
        assert code != 0
        code = run_to_exit(evidence, "manifest", ["manifest"], env, tmp_path)
        assert code == 0
    assert any(
        "cannot reach the database (DATABASE_URL)" in text
        for where, text in evidence.items
        if "unreachable" in where
    ), "the unreachable database never reached the connection error path"
    assert not any(
        "Traceback" in text for where, text in evidence.items if "unreachable" in where
    ), "an unreachable database should be one line, not a traceback"
    evidence.assert_clean()


@pytest.mark.postgres
def test_nothing_socket_mode_writes_contains_a_secret(tmp_path):
    evidence = Evidence()
    workspace = Workspace(bot_token=BOT_TOKEN, app_token=APP_TOKEN)
    with LocalSlack(workspace) as slack, postgres_with_password(tmp_path) as db_url:
        env = secret_env(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_APP_TOKEN=APP_TOKEN,
            SLACK_API_URL=slack.api_url,
            DATABASE_URL=db_url,
        )
        with running(evidence, "socket", ["socket"], env, tmp_path):
            slack.wait_for_socket_connection(timeout=30)
            driver = slack.socket_driver()
            channel = play_incident(evidence, slack, driver)
            wait_until(lambda: bool(workspace.files_by_id))
            evidence.response("socket list", driver.command("erik", channel, "help"))
        collect_workspace(evidence, slack)
        assert workspace.files_by_id, "no postmortem upload:\n" + evidence.tail("socket: stderr")

        # An app token Slack refuses, and malformed ones, next to the real bot token.
        refused = {**env, "SLACK_APP_TOKEN": f"{APP_TOKEN}-revoked"}
        with running(evidence, "socket, refused app token", ["socket"], refused, tmp_path) as p:
            wait_until(lambda: p.poll() is not None, timeout=20)
        assert p.returncode == 2, f"a refused app token exited with {p.returncode}"
        said = evidence.tail("socket, refused app token: stderr")
        assert "SLACK_APP_TOKEN was refused by Slack (invalid_auth)" in said, said
        assert "Traceback" not in said
        for what, change in {
            "malformed app token": {"SLACK_APP_TOKEN": f"xoxb-{APP_TOKEN}"},
            "no app token": {"SLACK_APP_TOKEN": ""},
            "malformed zone": {"INCIDENTBOT_TIMEZONE": "Mars/Olympus"},
        }.items():
            code = run_to_exit(evidence, f"socket, {what}", ["socket"], {**env, **change}, tmp_path)
            assert code == 2, f"socket with {what} exited with {code}"
    evidence.assert_clean()
