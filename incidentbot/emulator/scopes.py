"""The bot-token scopes each Web API method requires, as the local workspace enforces them.

From Slack's method reference ("Required scopes", bot token) and slackapi/slack-api-specs; the
table in ``docs/slack-as-it-is.md`` is this one in words. A requirement is a tuple of
alternatives, any one of which allows the call; the first is the one a refusal names as
``needed`` (the scope the manifest asks for). Methods of a conversation require a scope for its
kind: ``conversations.history`` on a private channel needs ``groups:history``, on a direct
message ``im:history``.

``tests/test_manifest.py`` reads these tables too, to prove the manifest asks for every scope the
bot's calls need: one table for the workspace that refuses and for the check that predicts it.
"""

from __future__ import annotations

__all__ = [
    "ALL",
    "CONVERSATION_KINDS",
    "CONVERSATION_SCOPES",
    "IM",
    "LIST_TYPES",
    "METHOD_SCOPES",
    "MPIM",
    "PRIVATE",
    "PUBLIC",
    "Requirement",
]

Requirement = tuple[str, ...]

PUBLIC = "public"
PRIVATE = "private"
IM = "im"
MPIM = "mpim"
CONVERSATION_KINDS = (PUBLIC, PRIVATE, IM, MPIM)

#: ``conversations.list``'s ``types`` values and the kind of conversation each lists.
LIST_TYPES = {"public_channel": PUBLIC, "private_channel": PRIVATE, "im": IM, "mpim": MPIM}


def _by_kind(public: str, private: str, im: str, mpim: str) -> dict[str, Requirement]:
    return {PUBLIC: (public,), PRIVATE: (private,), IM: (im,), MPIM: (mpim,)}


def _with_granular(kinds: dict[str, Requirement], suffix: str) -> dict[str, Requirement]:
    """The manage/write scope of each kind, or its granular ``<kind>:write.<suffix>`` one."""
    return {
        kind: (scope, f"{scope.split(':')[0]}:write.{suffix}") for kind, (scope,) in kinds.items()
    }


_READ = _by_kind("channels:read", "groups:read", "im:read", "mpim:read")
_HISTORY = _by_kind("channels:history", "groups:history", "im:history", "mpim:history")
_WRITE = _by_kind("channels:manage", "groups:write", "im:write", "mpim:write")

#: Methods whose requirement depends on the kind of conversation they act on.
CONVERSATION_SCOPES: dict[str, dict[str, Requirement]] = {
    "conversations.archive": _WRITE,
    # Channels only: a public one with ``is_private`` false, a private one with it true.
    "conversations.create": {PUBLIC: _WRITE[PUBLIC], PRIVATE: _WRITE[PRIVATE]},
    "conversations.history": _HISTORY,
    "conversations.info": _READ,
    "conversations.invite": _with_granular(_WRITE, "invites"),
    "conversations.leave": _WRITE,
    # Checked per requested ``types``.
    "conversations.list": _READ,
    "conversations.members": _READ,
    # A direct message with one person, a group DM with several.
    "conversations.open": {IM: _WRITE[IM], MPIM: _WRITE[MPIM]},
    "conversations.rename": _WRITE,
    "conversations.replies": _HISTORY,
    "conversations.setPurpose": _with_granular(_WRITE, "topic"),
    "conversations.setTopic": _with_granular(_WRITE, "topic"),
    "conversations.unarchive": _WRITE,
}

#: Methods that require the same scope wherever they act; ``()``: none.
METHOD_SCOPES: dict[str, Requirement] = {
    "api.test": (),
    "auth.test": (),
    "bookmarks.add": ("bookmarks:write",),
    "bookmarks.edit": ("bookmarks:write",),
    "bookmarks.list": ("bookmarks:read",),
    "bookmarks.remove": ("bookmarks:write",),
    "chat.delete": ("chat:write",),
    "chat.getPermalink": (),
    "chat.postEphemeral": ("chat:write",),
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "conversations.join": ("channels:join",),
    "files.completeUploadExternal": ("files:write",),
    "files.getUploadURLExternal": ("files:write",),
    "files.info": ("files:read",),
    "pins.add": ("pins:write",),
    "pins.list": ("pins:read",),
    "pins.remove": ("pins:write",),
    "reactions.add": ("reactions:write",),
    "reactions.get": ("reactions:read",),
    "reactions.remove": ("reactions:write",),
    "team.info": ("team:read",),
    "users.info": ("users:read",),
    "users.list": ("users:read",),
    "users.lookupByEmail": ("users:read.email",),
    "views.open": (),
    "views.publish": (),
    "views.push": (),
    "views.update": (),
}

#: Every scope either table names: a token granted these may call every method.
ALL: frozenset[str] = frozenset(
    {scope for requirement in METHOD_SCOPES.values() for scope in requirement}
    | {
        scope
        for kinds in CONVERSATION_SCOPES.values()
        for requirement in kinds.values()
        for scope in requirement
    }
)
