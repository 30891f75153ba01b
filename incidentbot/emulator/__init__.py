"""A local, stateful stand-in for Slack: Web API server, workspace state and event driver.

Slack's servers are not reachable from tests, CI or a laptop without an installed app, so this
package plays Slack's part. ``LocalSlack`` serves the Web API on a local port (point the bot's
``SLACK_API_URL`` / ``WebClient(base_url=...)`` at ``LocalSlack.api_url``), ``Workspace`` holds the
users, channels, messages, files and views the bot sees and changes, and ``SlackDriver`` sends the
bot signed slash commands, events and interactivity payloads as people's actions would.

Socket Mode apps (Bolt's ``SocketModeHandler``) connect too: ``apps.connections.open`` with
``LocalSlack.app_token`` hands out a ``ws://`` URL on the same port, and ``slack.socket_driver()``
delivers the same actions over that WebSocket and waits for the app's acks.

It is used by the offline test suite, by ``incidentbot demo`` (a whole incident run against the
local workspace), by ``incidentbot playground`` (the same workspace in a browser, to try the bot
before installing it in a real workspace) and ``python -m incidentbot.emulator`` (a workspace
served on its own).

The emulator checks what Slack checks and answers with Slack's error codes (``not_in_channel``,
``name_taken``, ``invalid_blocks``, ``expired_trigger_id``...), and can inject faults (rate limits,
5xx, timeouts, dropped connections) to test the bot's resilience. It never sends events on its
own; only ``SlackDriver`` does. ``message`` events go only as Slack sends them: to an app
subscribed to them (``Workspace.subscribed_events``, by default the manifest's) whose bot is in
the conversation. The events Slack sends about the app's own messages wait in
``Workspace.app_changes`` until ``SlackDriver.deliver_app_changes()``.

Typical use::

    with LocalSlack() as slack:
        client = slack.client()                  # WebClient with the bot token
        driver = slack.driver(app_url, secret)   # the bot's POST /slack/events URL
        driver.command("alice", "#incidents", "declare Database down")
        slack.workspace.messages("#incidents")

    # Socket Mode: the app's WebClient must use the emulator (SocketModeHandler uses app.client)
    with LocalSlack() as slack:
        app = App(client=slack.client(), ...)
        handler = SocketModeHandler(app, slack.app_token)
        handler.connect()
        slack.wait_for_socket_connection()
        slack.socket_driver().command("alice", "#incidents", "declare Database down")
"""

from . import scopes
from .blockkit import state_values, validate_blocks, validate_view
from .driver import (
    VERIFICATION_TOKEN,
    Delivery,
    DriverResponse,
    EmulatorError,
    SlackDriver,
    mention,
)
from .server import LocalSlack
from .socket_mode import SocketConnection, SocketDelivery, SocketModeHub
from .workspace import (
    APP_ID,
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    DEFAULT_APP_TOKEN,
    DEFAULT_BOT_TOKEN,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    Call,
    Channel,
    Ephemeral,
    Fault,
    File,
    Message,
    SlackError,
    User,
    ViewRecord,
    Workspace,
)

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_NAME",
    "BOT_USER_ID",
    "DEFAULT_APP_TOKEN",
    "DEFAULT_BOT_TOKEN",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "TEAM_NAME",
    "VERIFICATION_TOKEN",
    "Call",
    "Channel",
    "Delivery",
    "DriverResponse",
    "EmulatorError",
    "Ephemeral",
    "Fault",
    "File",
    "LocalSlack",
    "Message",
    "SlackDriver",
    "SlackError",
    "SocketConnection",
    "SocketDelivery",
    "SocketModeHub",
    "User",
    "ViewRecord",
    "Workspace",
    "mention",
    "scopes",
    "state_values",
    "validate_blocks",
    "validate_view",
]
