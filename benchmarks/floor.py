"""The floors: a bare Bolt app on the bot's own server stack.

Same signature verification (Bolt's, with the same secret), same Flask adapter, same waitress
server and thread count as ``incidentbot serve``: what is left between them and the bot is the
bot's own work. Two of them:

- the bare floor, whose listeners only ``ack()``: what no bot that records anything can reach;
- the durable floor (``--database-url``): the command's listener inserts the note into one table
  and commits before ``ack()``, on the bot's own engine settings (SQLite's WAL and busy timeout,
  psycopg on PostgreSQL). A bot that never loses an entry does at least that much.

``python -m benchmarks.floor --port N [--database-url URL]`` serves one until killed.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable

import waitress
from flask import Flask, request
from slack_bolt import Ack, App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk import WebClient


def _durable(database_url: str) -> Callable[[dict], None]:
    """A function that writes one note and commits: the durable floor's whole work."""
    from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Text, insert

    from incidentbot.domain.models import utcnow
    from incidentbot.infra import db

    engine = db.make_engine(database_url)
    notes = Table(
        "floor_notes",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("channel_id", Text, nullable=False),
        Column("user_id", Text, nullable=False),
        Column("text", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    notes.metadata.create_all(engine)
    statement = insert(notes)

    def record(body: dict) -> None:
        with engine.begin() as conn:
            conn.execute(
                statement,
                {
                    "channel_id": body.get("channel_id", ""),
                    "user_id": body.get("user_id", ""),
                    "text": body.get("text", ""),
                    "created_at": utcnow(),
                },
            )

    return record


def build(signing_secret: str, token: str, api_url: str, database_url: str | None = None) -> Flask:
    # Bolt authorizes with auth.test once, as for the bot: against the local workspace.
    bolt = App(
        signing_secret=signing_secret,
        client=WebClient(token=token, base_url=api_url),
        process_before_response=True,
        token_verification_enabled=False,
        logger=logging.getLogger("floor.bolt"),
    )

    record = _durable(database_url) if database_url else None

    @bolt.command("/incident")
    def command(ack: Ack, body: dict) -> None:
        if record is not None:
            record(body)  # committed before Slack hears back, as the bot does
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
    parser.add_argument("--database-url", help="the durable floor: commit each note here first")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    waitress.serve(
        build(args.signing_secret, args.token, args.api_url, args.database_url),
        host="127.0.0.1",
        port=args.port,
        threads=args.threads,
    )


if __name__ == "__main__":
    main()
