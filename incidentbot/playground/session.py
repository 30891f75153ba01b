"""One playground session: the local Slack workspace, the bot and the page, kept in a folder.

The state folder (``.playground`` by default) holds three files that belong together:

- ``incidentbot.db``: the bot's SQLite database (migrations applied on start);
- ``workspace.pickle``: a snapshot of the local Slack workspace (channels, messages, files,
  views...), written about once a second when something changed and again on stop;
- ``playground.json``: the ports the bot and the workspace listen on and the signing secret
  they share.

Starting again with the same folder continues the drill. That works because nothing the bot or
the workspace stored refers to a port that changed: the bot's and the workspace's ports are
chosen once (the page's port + 1 and + 2, or free ones with ``port=0``) and kept in
``playground.json``, so the response URLs in the bot's queued jobs, the incident page links in
messages and the permalinks in timeline entries all keep working. Only the page's own port may
change from one start to the next. ``reset=True`` deletes the three files first.

The bot and the workspace listen on 127.0.0.1 only; ``host`` applies to the page.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import pickle
import secrets
import threading
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from incidentbot.domain.errors import IncidentError
from incidentbot.emulator import Workspace
from incidentbot.entrypoints.local import BackgroundServer, LocalStack

__all__ = ["DEFAULT_PORT", "DEFAULT_STATE_DIR", "Playground", "PlaygroundError"]

DEFAULT_PORT = 3100
DEFAULT_STATE_DIR = Path(".playground")
DATABASE = "incidentbot.db"
SNAPSHOT = "workspace.pickle"
SESSION = "playground.json"
_SNAPSHOT_FORMAT = 1
_LOOPBACK = "127.0.0.1"


class PlaygroundError(IncidentError):
    """The playground cannot start as asked; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class Ports:
    page: int
    bot: int
    slack: int


class Playground:
    """Starts the workspace, the bot and the page; ``stop()`` saves and shuts all down."""

    def __init__(
        self,
        *,
        state_dir: Path = DEFAULT_STATE_DIR,
        host: str = _LOOPBACK,
        port: int = DEFAULT_PORT,
        reset: bool = False,
        templates_dir: Path | None = None,
        save_interval: float = 1.0,
    ) -> None:
        if not 0 <= port <= 65533:  # the bot and the workspace take the next two
            raise PlaygroundError(f"--port {port} is not a usable port (0 picks a free one)")
        self.state_dir = Path(state_dir)
        self.host = host
        self.requested_port = port
        self.reset = reset
        self.templates_dir = templates_dir
        self.save_interval = save_interval
        self.resumed = False
        self.stack: LocalStack
        self.ports: Ports
        self.app: Any = None
        self._server: BackgroundServer | None = None
        self._saver: threading.Thread | None = None
        self._stopping = threading.Event()
        self._done = threading.Event()
        self._save_lock = threading.Lock()
        self._saved_digest: bytes | None = None

    # ------------------------------------------------------------------ files

    @property
    def database_path(self) -> Path:
        return self.state_dir / DATABASE

    @property
    def snapshot_path(self) -> Path:
        return self.state_dir / SNAPSHOT

    @property
    def session_path(self) -> Path:
        return self.state_dir / SESSION

    def _wipe(self) -> None:
        # Only the playground's own files: the folder may have been pointed somewhere shared.
        for name in (DATABASE, f"{DATABASE}-journal", f"{DATABASE}-wal", f"{DATABASE}-shm"):
            (self.state_dir / name).unlink(missing_ok=True)
        for path in (self.snapshot_path, self.session_path):
            path.unlink(missing_ok=True)

    def _load_session(self) -> dict[str, Any] | None:
        present = [p.exists() for p in (self.database_path, self.snapshot_path, self.session_path)]
        if not any(present):
            return None
        if not all(present):
            raise PlaygroundError(
                f"the drill saved in {self.state_dir} is incomplete (it needs {DATABASE}, "
                f"{SNAPSHOT} and {SESSION}); start again with --reset to begin a new one"
            )
        try:
            session: dict[str, Any] = json.loads(self.session_path.read_text(encoding="utf-8"))
            ports = session["ports"]
            session["ports"] = {k: int(ports[k]) for k in ("bot", "slack")}
            session["signing_secret"] = str(session["signing_secret"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise PlaygroundError(
                f"cannot read {self.session_path} ({error}); start again with --reset"
            ) from None
        return session

    def _load_workspace(self) -> Workspace:
        try:
            with self.snapshot_path.open("rb") as snapshot:
                saved = pickle.load(snapshot)  # our own file, written by save() below
            workspace = saved.get("workspace")
            if saved.get("format") != _SNAPSHOT_FORMAT or not isinstance(workspace, Workspace):
                raise ValueError("unknown snapshot format")
        except Exception as error:  # any unreadable snapshot is the same problem for the user
            raise PlaygroundError(
                f"cannot read the saved workspace {self.snapshot_path} ({error}); "
                "start again with --reset"
            ) from None
        return workspace

    def save(self) -> bool:
        """Write the workspace snapshot if it changed since the last write; True if written."""
        workspace = self.stack.workspace
        with self._save_lock:
            with workspace.lock:
                blob = pickle.dumps(
                    {"format": _SNAPSHOT_FORMAT, "workspace": workspace},
                    protocol=pickle.HIGHEST_PROTOCOL,
                )
            digest = hashlib.sha256(blob).digest()
            if digest == self._saved_digest:
                return False
            partial = self.snapshot_path.with_name(SNAPSHOT + ".partial")
            partial.write_bytes(blob)
            os.replace(partial, self.snapshot_path)  # a crash never leaves half a snapshot
            self._saved_digest = digest
            return True

    # ------------------------------------------------------------------ lifecycle

    def _choose_ports(self, session: dict[str, Any] | None) -> tuple[int, int]:
        if session is not None:
            return session["ports"]["bot"], session["ports"]["slack"]
        if self.requested_port == 0:
            return 0, 0
        return self.requested_port + 1, self.requested_port + 2

    def start(self) -> Playground:
        if self.templates_dir is not None and not self.templates_dir.is_dir():
            raise PlaygroundError(f"--template-dir {self.templates_dir} is not a folder")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if self.reset:
            self._wipe()
        session = self._load_session()
        self.resumed = session is not None
        workspace = self._load_workspace() if session is not None else Workspace()
        secret = session["signing_secret"] if session else secrets.token_urlsafe(24)
        bot_port, slack_port = self._choose_ports(session)
        self.stack = LocalStack(
            database_url=f"sqlite:///{self.database_path.resolve()}",
            templates_dir=self.templates_dir,
            host=_LOOPBACK,
            port=bot_port,
            slack_port=slack_port,
            workspace=workspace,
            check_templates=self.templates_dir is not None,
            signing_secret=secret,
        )
        try:
            self._start_stack(bot_port, slack_port)
            self.ports = Ports(
                page=0,
                bot=int(urlsplit(self.stack.base_url).port or 0),
                slack=self.stack.slack.port,
            )
            self._write_session(secret)
            self.save()
            self._start_page()
        except BaseException:
            self.stack.stop()
            raise
        self._saver = threading.Thread(target=self._save_loop, name="playground-save", daemon=True)
        self._saver.start()
        return self

    def _start_stack(self, bot_port: int, slack_port: int) -> None:
        try:
            self.stack.start()
        except OSError as error:
            raise PlaygroundError(
                f"cannot listen on 127.0.0.1 port {slack_port} (local Slack) or {bot_port} "
                f"(the bot): {error.strerror or error}. "
                + (
                    f"The drill in {self.state_dir} uses these ports; free them, or --reset."
                    if self.resumed
                    else "Choose another --port."
                )
            ) from None

    def _write_session(self, secret: str) -> None:
        data = {
            "ports": {"bot": self.ports.bot, "slack": self.ports.slack},
            "signing_secret": secret,
        }
        self.session_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        with contextlib.suppress(OSError):  # the secret is only for this machine's drill
            self.session_path.chmod(0o600)

    def _start_page(self) -> None:
        from .app import create_playground_app

        self.app = create_playground_app(self.stack, bind_host=self.host)
        try:
            self._server = BackgroundServer(
                self.app,
                host=self.host,
                port=self.requested_port,
                name="playground-http",
                ident="playground",
            )
        except OSError as error:
            raise PlaygroundError(
                f"cannot listen on {self.host} port {self.requested_port}: "
                f"{error.strerror or error}. Choose another --port."
            ) from None
        self.ports = dataclasses.replace(self.ports, page=self._server.port)
        self._server.start()

    def _save_loop(self) -> None:
        while not self._stopping.wait(self.save_interval):
            self.save()

    @property
    def url(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "::", "") else _LOOPBACK
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.ports.page}/"

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._saver is not None:
            self._saver.join(timeout=5)
            self._saver = None
        if hasattr(self, "stack"):
            self.stack.stop()
            self.save()

    def wait(self) -> None:
        """Block until ``request_stop()`` (a signal handler) or Ctrl-C."""
        while not self._done.wait(0.2):
            pass

    def request_stop(self) -> None:
        """Make ``wait()`` return; safe to call from a signal handler."""
        self._done.set()

    def __enter__(self) -> Playground:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
