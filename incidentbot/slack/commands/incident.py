"""The ``/incident`` slash command: read the subcommand, run it, acknowledge with the reply."""

from __future__ import annotations

from slack_bolt import Ack, App

from incidentbot.slack.blocks import private_reply
from incidentbot.slack.commands.action_items import action
from incidentbot.slack.commands.declare import declare, record
from incidentbot.slack.commands.invocation import Invocation, Subcommand
from incidentbot.slack.commands.lifecycle import close, reopen, resolve, severity, status
from incidentbot.slack.commands.lookups import help_, link, list_open, stats, unknown
from incidentbot.slack.commands.postmortem import postmortem
from incidentbot.slack.commands.roles import lead, role
from incidentbot.slack.commands.timeline import (
    delete,
    edit,
    impact,
    milestone,
    note,
    summary,
    timeline,
    update,
)
from incidentbot.slack.deps import Deps

# Each word of ``/incident <word>`` and the handler that runs it; any other word gets ``unknown``.
SUBCOMMANDS: dict[str, Subcommand] = {
    "declare": declare,
    "sev": severity,
    "severity": severity,
    "status": status,
    "resolve": resolve,
    "lead": lead,
    "role": role,
    "note": note,
    "summary": summary,
    "impact": impact,
    "update": update,
    "action": action,
    "close": close,
    "reopen": reopen,
    "postmortem": postmortem,
    "started": milestone,
    "detected": milestone,
    "mitigated": milestone,
    "record": record,
    "timeline": timeline,
    "edit": edit,
    "delete": delete,
    "list": list_open,
    "link": link,
    "stats": stats,
    "help": help_,
}


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
