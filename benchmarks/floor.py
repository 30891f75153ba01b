"""The floor: a bare Bolt app on the bot's own server stack, whose listeners only ``ack()``.

Same signature verification (Bolt's, with the same secret), same Flask adapter, same waitress
server and thread count as ``incidentbot serve``: what is left between the two is the bot's own
work. ``python -m benchmarks.floor --port N`` serves it until killed.
"""

from __future__ import annotations

import argparse
import logging

import waitress
from flask import Flask, request
from slack_bolt import Ack, App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk import WebClient


def build(signing_secret: str, token: str, api_url: str) -> Flask:
    # Bolt authorizes with auth.test once, as for the bot: against the local workspace.
    bolt = App(
        signing_secret=signing_secret,
        client=WebClient(token=token, base_url=api_url),
        process_before_response=True,
        token_verification_enabled=False,
        logger=logging.getLogger("floor.bolt"),
    )

    @bolt.command("/incident")
    def command(ack: Ack) -> None:
        ack()

    @bolt.event("pin_added")
    @bolt.event("reaction_added")
    def event(ack: Ack) -> None:
        ack()

    handler = SlackRequestHandler(bolt)
    web = Flask(__name__)

    @web.post("/slack/events")
    def slack_events():  # type: ignore[no-untyped-def]
        return handler.handle(request)

    @web.get("/healthz")
    def healthz() -> dict:
        return {"ok": True}

    return web


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--signing-secret", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--api-url", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    waitress.serve(
        build(args.signing_secret, args.token, args.api_url),
        host="127.0.0.1",
        port=args.port,
        threads=args.threads,
    )


if __name__ == "__main__":
    main()
