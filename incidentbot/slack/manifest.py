"""The Slack app manifest for this configuration: what to paste into "Create app from manifest"."""

from __future__ import annotations

from incidentbot.infra.config import Settings
from incidentbot.slack import ids

# The smallest set that covers every Web API method the bot calls. tests/test_manifest.py reads
# the calls from the source and fails on a call no scope here allows, or a scope nothing needs.
BOT_SCOPES = [
    "bookmarks:read",  # bookmarks.list (a retried job adds the page bookmark once)
    "bookmarks:write",  # bookmarks.add (incident page on the channel)
    "channels:join",  # conversations.join (announcement channel)
    "channels:manage",  # conversations.create/invite/setTopic/archive for public channels
    "channels:read",  # conversations.list/info (find the announcement channel)
    "channels:history",  # conversations.history/replies, message.channels (captured messages)
    "chat:write",  # chat.postMessage/update/postEphemeral
    "commands",  # the slash command
    "files:write",  # files.getUploadURLExternal/completeUploadExternal (postmortem)
    "groups:history",  # the same, in private incident channels (and message.groups)
    "groups:read",
    "groups:write",  # conversations.create/invite for private channels
    "im:history",  # conversations.history on a reminder DM: a retry finds its earlier post
    "im:write",  # conversations.open (reminders sent as direct messages)
    "pins:read",
    "pins:write",  # pins.add (the summary message)
    "reactions:read",  # reaction_added
    "users:read",  # users.info (names and time zones)
]

BOT_EVENTS = [
    "pin_added",
    "pin_removed",
    "reaction_added",
    "reaction_removed",
    "member_joined_channel",
    "member_left_channel",
    "app_home_opened",
    # A captured message edited or deleted in Slack changes its timeline entry. Slack sends
    # these with every other message of the channels the bot is in; the bot ignores the rest.
    "message.channels",
    "message.groups",
]


def build_manifest(settings: Settings, *, socket_mode: bool = False) -> dict:
    events_url = f"{settings.base_url}/slack/events"
    command: dict = {
        "command": settings.command,
        "description": "Declare and run incidents",
        "usage_hint": "declare <title> | note <text> | sev <1-4> | close | help",
        "should_escape": True,
    }
    interactivity: dict = {"is_enabled": True}
    event_subscriptions: dict = {"bot_events": BOT_EVENTS}
    if not socket_mode:
        command["url"] = events_url
        interactivity["request_url"] = events_url
        event_subscriptions["request_url"] = events_url
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "incidentbot",
            "description": "Incident response and blameless postmortems",
            "background_color": "#1d1d1f",
        },
        "features": {
            "bot_user": {"display_name": "incidentbot", "always_online": True},
            "slash_commands": [command],
            # Reminders arrive as the app's direct messages, which people read in its Messages
            # tab; read-only, as the bot does not answer what is typed there.
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "shortcuts": [
                {
                    "type": "message",
                    "callback_id": ids.ADD_TO_TIMELINE,
                    "name": "Add to incident timeline",
                    "description": "Put this message on its incident's timeline, at the time "
                    "it was posted, with an optional note",
                }
            ],
        },
        "oauth_config": {"scopes": {"bot": BOT_SCOPES}},
        "settings": {
            "event_subscriptions": event_subscriptions,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }
