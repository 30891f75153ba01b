"""SIGKILL between a commit and its Slack work: after a restart the work completes exactly once.

Each case starts a real ``incidentbot serve`` that kills itself at a named point (see
``incidentbot.infra.failpoints``), then starts it again without, and counts what Slack shows.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path
from urllib.error import URLError

import pytest
from sqlalchemy import create_engine, text

from incidentbot.emulator import BOT_USER_ID, EmulatorError, LocalSlack
from tests.test_cli import INCIDENTBOT, clean_env, free_port, wait_for_health

SECRET = "crash-test-secret"


class Server:
    def __init__(self, slack: LocalSlack, db_url: str, tmp_path: Path) -> None:
        self.slack, self.db_url, self.tmp_path = slack, db_url, tmp_path
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self, failpoint: str | None = None) -> None:
        env = clean_env(
            SLACK_BOT_TOKEN=self.slack.bot_token,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=self.slack.api_url,
            DATABASE_URL=self.db_url,
            INCIDENTBOT_BASE_URL=f"http://127.0.0.1:{self.port}",
            INCIDENTBOT_JOB_LEASE_SECONDS="2",
        )
        if failpoint:
            env["INCIDENTBOT_FAILPOINTS"] = failpoint
        self.process = subprocess.Popen(
            [*INCIDENTBOT, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            cwd=self.tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        wait_for_health(f"http://127.0.0.1:{self.port}/healthz", self.process)

    @property
    def driver(self):  # type: ignore[no-untyped-def]
        return self.slack.driver(f"http://127.0.0.1:{self.port}/slack/events", SECRET)

    def wait_killed(self, timeout: float = 20) -> None:
        assert self.process is not None
        assert self.process.wait(timeout=timeout) == -9, "the failpoint did not fire"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


def wait_until_done(db_url: str, timeout: float = 30) -> None:
    """Until no job is pending or running (a killed server's job counts until it is redone)."""
    engine = create_engine(db_url)
    unfinished = text("SELECT count(*) FROM jobs WHERE state IN ('pending', 'running')")
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                if conn.execute(unfinished).scalar_one() == 0:
                    return
            time.sleep(0.05)
    finally:
        engine.dispose()
    raise AssertionError("queued work did not finish after the restart")


def send(action) -> None:  # type: ignore[no-untyped-def]
    """Send a request to a server that may die before answering it."""
    with contextlib.suppress(EmulatorError, URLError, ConnectionError, OSError):
        action()


def bot_channels(slack: LocalSlack) -> list:
    return [c for c in slack.workspace.channels() if c.creator == BOT_USER_ID]


@pytest.mark.parametrize(
    "failpoint",
    [
        "after:commit",
        "before:incident.open_channel",
        "after:conversations.create",
        "after:summary",
        "after:announcement",
    ],
)
def test_a_declare_killed_midway_completes_exactly_once_after_restart(db_url, tmp_path, failpoint):
    with LocalSlack() as slack:
        server = Server(slack, db_url, tmp_path)
        try:
            server.start(failpoint)
            send(lambda: server.driver.command("alice", "#general", "declare Crash course"))
            server.wait_killed()
            server.start()
            wait_until_done(db_url)
        finally:
            server.stop()
        (channel,) = bot_channels(slack)
        assert channel.name == "inc-1-crash-course"
        assert "UALICE" in slack.workspace.members(channel.id)
        summaries = [m for m in slack.workspace.messages(channel.id) if m.user == BOT_USER_ID]
        assert len(summaries) == 1 and slack.workspace.pins(channel.id) == [summaries[0].ts]
        announcements = [m for m in slack.workspace.messages("#incidents") if "INC-1" in m.text]
        assert len(announcements) == 1


def test_a_close_killed_after_uploading_uploads_the_postmortem_once(db_url, tmp_path):
    with LocalSlack() as slack:
        server = Server(slack, db_url, tmp_path)
        try:
            # The failpoint fires only at the postmortem's upload: the declare completes.
            server.start("after:upload")
            server.driver.command("alice", "#general", "declare Crash course")
            wait_until_done(db_url)
            (channel,) = bot_channels(slack)
            send(lambda: server.driver.command("alice", channel.id, "close"))
            server.wait_killed()
            server.start()
            wait_until_done(db_url)
        finally:
            server.stop()
        uploads = [f for f in slack.workspace.files_in(channel.id) if f.name.endswith(".md")]
        assert [f.name for f in uploads] == ["INC-1-postmortem.md"]
