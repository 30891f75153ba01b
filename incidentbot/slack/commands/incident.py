"""The ``/incident`` slash command: read the subcommand, run it, acknowledge with the reply."""

from __future__ import annotations

from slack_bolt import Ack, App

from incidentbot.slack.blocks import private_reply
from incidentbot.slack.commands.subcommands import SUBCOMMANDS, Invocation, unknown
from incidentbot.slack.deps import Deps


def register(app: App, deps: Deps) -> None:
    @app.command(deps.settings.command)
    def incident_command(ack: Ack, command: dict) -> None:
        invocation = Invocation.from_payload(command)
        run = SUBCOMMANDS.get(invocation.name, unknown)
        reply = run(invocation, deps)
        if reply.text:
            # Replies quote what people typed; none of it may become a mass mention.
            ack(text=private_reply(reply.text), response_type="ephemeral")
        else:
            ack()
        if reply.then is not None:
            reply.then()
