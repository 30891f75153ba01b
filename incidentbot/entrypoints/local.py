"""The bot wired to the local Slack workspace, on real ports: for tests, the demo and trying it.

``LocalStack`` starts the emulated Slack Web API, the bot's runtime with settings pointing at it,
and the bot's HTTP server (waitress, as ``serve`` uses); its driver then sends the bot signed
requests exactly as Slack would.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from waitress import wasyncore
from waitress.server import BaseWSGIServer, create_server

from incidentbot.domain.models import utcnow
from incidentbot.emulator import LocalSlack, SlackDriver, Workspace
from incidentbot.infra import jobs
from incidentbot.infra.config import Settings
from incidentbot.infra.uow import Clock
from incidentbot.slack.runtime import Runtime, create_runtime
from incidentbot.web import create_web_app

LOCAL_SIGNING_SECRET = "local-signing-secret"


class BackgroundServer:
    """A WSGI app on waitress (as ``serve`` uses) on a thread of its own, stopped cleanly."""

    def __init__(
        self, app: Any, *, host: str, port: int, name: str, ident: str = "waitress"
    ) -> None:
        # The server's own socket map (waitress makes a fresh one when given none), held here
        # so that _serve and stop need none of its private attributes. Its values are waitress's
        # dispatchers, which its stubs call sockets.
        self._map: dict[int, Any] = {}
        server = create_server(app, map=self._map, host=host, port=port, threads=8, ident=ident)
        # One host and port: one listening socket, not a MultiSocketServer.
        if not isinstance(server, BaseWSGIServer):
            raise TypeError(f"waitress gave a {type(server).__name__} for one address")
        self._server = server
        self.port = int(server.getsockname()[1])
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)

    def start(self) -> BackgroundServer:
        self._thread.start()
        return self

    def _serve(self) -> None:
        # waitress's run() loops until its sockets are closed under it, which it reports as an
        # error; looping in short slices lets stop() end it cleanly first.
        while not self._stopping.is_set():
            wasyncore.loop(timeout=0.05, map=self._map, count=1)

    def stop(self) -> None:
        self._stopping.set()
        self._server.pull_trigger()  # wakes the loop's select at once, not after its slice
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._server.task_dispatcher.shutdown()
        wasyncore.close_all(self._map)


class SteppedClock:
    """Real time plus the jumps made to it: a clock ``LocalStack.settle`` moves on to the next
    job that is due later (a Retry-After, a backoff) instead of sleeping until it. It only ever
    moves forwards, so the bot and the workspace, which share it, keep one order of events."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        return utcnow() + self._offset

    def advance_to(self, when: datetime) -> None:
        with self._lock:
            gap = when - self()
            if gap > timedelta(0):
                self._offset += gap

    @property
    def skipped(self) -> timedelta:
        """How far it has been moved on altogether."""
        return self._offset


# With virtual time, a job due within this is waited for in real time, not jumped to: it allows
# for a job stamped by a clock read a moment before settle's (see ``JobRunner.wait_idle``).
VIRTUAL_GRACE = timedelta(milliseconds=100)


class LocalStack:
    def __init__(
        self,
        *,
        database_url: str,
        templates_dir: Path | None = None,
        timezone: str = "UTC",
        host: str = "127.0.0.1",
        port: int = 0,
        slack_port: int = 0,
        workspace: Workspace | None = None,
        clock: Clock | None = None,
        virtual_time: bool = False,
        check_templates: bool = False,
        migrate: bool = True,
        signing_secret: str = LOCAL_SIGNING_SECRET,
        **settings: Any,
    ) -> None:
        self._database_url = database_url
        self._templates_dir = templates_dir
        self._timezone = timezone
        self._host = host
        self._port = port
        # The local workspace enforces no rate limits unless a test asks
        # (``workspace.tiers.enable()``, with ``slack_pacing=True`` for the bot to pace itself).
        self._settings = {"slack_pacing": False, **settings}
        # virtual_time: settle() moves the clock on to retries and backoffs rather than
        # sleeping them out (tests of Slack's faults). Another replica on the same database
        # must run on ``self.clock`` too: on real time it would see this one's leases run out
        # early.
        if virtual_time and clock is not None:
            raise ValueError("virtual_time makes its own clock: give one or the other")
        self._stepped = SteppedClock() if virtual_time else None
        clock = self._stepped or clock or utcnow
        self.clock = clock
        self._check_templates = check_templates
        self._migrate = migrate  # False for a database the caller migrated already
        self._signing_secret = signing_secret
        self.slack = LocalSlack(
            workspace or Workspace(clock=lambda: clock().timestamp()), port=slack_port
        )
        self.runtime: Runtime
        self.driver: SlackDriver
        self._server: BackgroundServer | None = None
        self._app: Any = None

    @property
    def time_skipped(self) -> timedelta:
        """How far ``settle`` has moved the clock on (always nothing without virtual time)."""
        return self._stepped.skipped if self._stepped is not None else timedelta(0)

    @property
    def workspace(self) -> Workspace:
        return self.slack.workspace

    def start(self) -> LocalStack:
        self.slack.start()

        def app(environ: dict, start_response: Any) -> Any:
            # The server must exist (to know its port) before the app that links to it.
            return self._app(environ, start_response)

        self._server = BackgroundServer(
            app, host=self._host, port=self._port, name="incidentbot-http"
        )
        self.base_url = f"http://{self._host}:{self._server.port}"
        self.settings = Settings(
            database_url=self._database_url,
            slack_bot_token=self.slack.bot_token,
            slack_signing_secret=self._signing_secret,
            slack_api_url=self.slack.api_url,
            base_url=self.base_url,
            timezone=self._timezone,
            templates_dir=self._templates_dir,
            **self._settings,
        )
        self.runtime = create_runtime(
            self.settings,
            clock=self.clock,
            check_templates=self._check_templates,
            migrate=self._migrate,
        )
        self._app = create_web_app(self.runtime)
        self.runtime.start()
        self._server.start()
        self.app_url = f"{self.base_url}/slack/events"
        self.driver = self.slack.driver(self.app_url, self._signing_secret)
        return self

    def settle(self, timeout: float = 20.0) -> None:
        """Wait until every queued Slack job has run, retries due within ``timeout`` included.

        Jobs waiting out their gather window (``jobs.GATHER_WINDOW``) run at once: with the
        demo's clock, which moves only when told to, they would otherwise never be due.
        """
        window = max(jobs.GATHER_WINDOW.values(), default=timedelta(0))
        if self._stepped is not None:
            self._settle_in_virtual_time(timeout, window)
        elif not self.runtime.jobs.wait_idle(
            timeout, horizon=timedelta(seconds=timeout), ahead=window
        ):
            raise TimeoutError(f"jobs still pending after {timeout} s")

    def _settle_in_virtual_time(self, timeout: float, window: timedelta) -> None:
        """Run what is due; when nothing is running or due, move the clock on to the next
        pending job, as long as it is due within ``timeout`` of the start (in the clock's
        time, as the real-time settle waits it out)."""
        assert self._stepped is not None
        runner = self.runtime.jobs
        deadline = time.monotonic() + timeout
        horizon = self._stepped() + timedelta(seconds=timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not runner.wait_idle(
                left, horizon=timedelta(0), ahead=window, grace=VIRTUAL_GRACE
            ):
                raise TimeoutError(f"jobs still pending after {timeout} s")
            due = runner.earliest_pending()
            if due is None or due > horizon:
                return
            self._stepped.advance_to(due)
            runner.wake()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
        if hasattr(self, "runtime"):
            self.runtime.stop()
        self.slack.stop()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
