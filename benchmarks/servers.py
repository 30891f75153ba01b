"""The processes a benchmark measures: the local Slack workspace, ``incidentbot serve`` and the
floor app, each on a real port; and ``send()``, which runs the load generator against one.

The harness process keeps the workspace (the bot's Web API calls land there, as in Slack);
the server under test and the load generator are processes of their own, so that each is
measured on its own interpreter and none of them borrows another's lock.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from incidentbot.emulator import LocalSlack, SlackDriver, Workspace

SIGNING_SECRET = "bench-signing-secret"
THREADS = 16  # tmp


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(base_url: str, process: subprocess.Popen, timeout: float = 60.0) -> float:
    """Seconds until ``GET /healthz`` answers 200."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=1) as reply:
                if reply.status == 200:
                    return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.01)
    raise TimeoutError(f"{base_url}/healthz did not answer within {timeout} s")


@contextmanager
def local_slack() -> Iterator[LocalSlack]:
    slack = LocalSlack(Workspace()).start()
    try:
        yield slack
    finally:
        slack.stop()


def incidentbot_command() -> list[str]:
    """``incidentbot`` as installed beside this interpreter (the venv's console script)."""
    script = Path(sys.executable).with_name("incidentbot")
    if script.exists():
        return [str(script)]
    return [
        sys.executable,
        "-c",
        "import sys; from incidentbot.entrypoints.cli import main; sys.exit(main())",
    ]


@contextmanager
def _process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    with log.open("wb") as out:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class Server:
    def __init__(self, name: str, base_url: str, slack: LocalSlack, startup: float) -> None:
        self.name = name
        self.base_url = base_url
        self.url = f"{base_url}/slack/events"
        self.startup = startup
        self.driver = SlackDriver(slack, self.url, SIGNING_SECRET)


@contextmanager
def bot(slack: LocalSlack, database_url: str, workdir: Path, **settings: str) -> Iterator[Server]:
    """``incidentbot serve`` configured for the local workspace, healthy; ``settings`` are
    more environment variables (``INCIDENTBOT_SLACK_PACING="off"``)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "INCIDENTBOT_BASE_URL": base_url,
        **settings,
    }
    # Another checkout's bot (for before/after figures in one run): its source first on the path.
    if source := os.environ.get("INCIDENTBOT_BENCH_BOT_SOURCE"):
        env["PYTHONPATH"] = source
    args = [*incidentbot_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--threads", str(THREADS)]
    with _process(args, env, workdir / f"bot-{port}.log") as process:
        startup = wait_healthy(base_url, process)
        yield Server("incidentbot", base_url, slack, startup)


@contextmanager
def floor(slack: LocalSlack, workdir: Path, *, database_url: str | None = None) -> Iterator[Server]:
    """A floor app (``benchmarks/floor.py``), healthy: the bare one, or with ``database_url``
    the durable one, which commits each note there before acknowledging it."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "benchmarks.floor", "--port", str(port)]
    args += ["--threads", str(THREADS), "--signing-secret", SIGNING_SECRET]
    args += ["--token", slack.bot_token, "--api-url", slack.api_url]
    if database_url:
        args += ["--database-url", database_url]
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    name = "durable floor" if database_url else "floor"
    with _process(args, env, workdir / f"floor-{port}.log") as process:
        startup = wait_healthy(base_url, process)
        yield Server(name, base_url, slack, startup)


def form(fields: dict[str, str]) -> dict[str, str]:
    from urllib.parse import urlencode

    return {"content_type": "application/x-www-form-urlencoded", "body": urlencode(fields)}


def envelope(payload: dict[str, Any]) -> dict[str, str]:
    return {"content_type": "application/json", "body": json.dumps(payload)}


def send(
    server: Server,
    bodies: list[dict[str, str]],
    *,
    concurrency: int,
    seconds: float | None = None,
    workdir: Path,
) -> dict[str, Any]:
    """Run the load generator: for ``seconds`` in a closed loop, or each body once if None."""
    spec = {
        "url": server.url,
        "signing_secret": SIGNING_SECRET,
        "bodies": bodies,
        "concurrency": concurrency,
        "seconds": seconds,
        "once": seconds is None,
    }
    root = Path(__file__).resolve().parent.parent
    with tempfile.NamedTemporaryFile(
        "w", suffix=".json", dir=workdir, delete=False, encoding="utf-8"
    ) as handle:
        json.dump(spec, handle)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "benchmarks.load", handle.name],
            capture_output=True,
            check=True,
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
        )
    finally:
        os.unlink(handle.name)
    return json.loads(result.stdout)
