"""Serve a local Slack workspace on its own: ``python -m incidentbot.emulator [--port 9000]``.

Lets someone try the bot without a Slack account: start this, then start the bot with
``SLACK_API_URL`` set to the printed URL and ``SLACK_BOT_TOKEN`` to the printed token (and, for
``incidentbot socket``, ``SLACK_APP_TOKEN`` to the printed app-level token).
"""

from __future__ import annotations

import argparse
import contextlib
import threading

from .server import LocalSlack
from .workspace import DEFAULT_APP_TOKEN, DEFAULT_BOT_TOKEN, Workspace


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m incidentbot.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--bot-token", default=DEFAULT_BOT_TOKEN)
    parser.add_argument("--app-token", default=DEFAULT_APP_TOKEN, help="for Socket Mode")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    slack = LocalSlack(
        Workspace(bot_token=args.bot_token, app_token=args.app_token),
        host=args.host,
        port=args.port,
        verbose=args.verbose,
    )
    with slack:
        print(f"SLACK_API_URL={slack.api_url}")
        print(f"SLACK_BOT_TOKEN={slack.bot_token}")
        print(f"SLACK_APP_TOKEN={slack.app_token}")
        print("Local Slack is running; press Ctrl+C to stop.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
