"""The emulated Slack Web API methods: validation, error codes and response shapes.

Each method checks what real Slack checks (membership, archived channels, name rules, triggers,
Block Kit limits) and refuses with Slack's own error code, so the bot's error handling is
exercised offline. Responses use the field names of Slack's responses (see the samples in
``shared/slack/api-samples``) with realistic values. The HTTP side lives in ``server.py``.
"""

from __future__ import annotations

import base64
import builtins
import copy
import json
import mimetypes
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from . import scopes
from .blockkit import assign_ids, validate_blocks, validate_view
from .workspace import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    Channel,
    File,
    Message,
    SlackError,
    ViewRecord,
    Workspace,
)

__all__ = [
    "APP_TOKEN_METHODS",
    "ApiRequest",
    "WebAPI",
    "channel_api",
    "file_api",
    "message_api",
    "permalink",
]

_CHANNEL_NAME = re.compile(r"^[a-z0-9_-]+$")
_EMOJI_NAME = re.compile(r"^[a-z0-9_+'-]+(::skin-tone-[2-6])?$")
_RESPONSE_URL_LIFETIME = 30 * 60
_RESPONSE_URL_USES = 5
#: Methods called with the app-level token (``xapp-...``) instead of a bot or user token.
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})

# extension → (Slack filetype, pretty_type); mimetype comes from ``mimetypes``.
_FILETYPES = {
    "md": ("markdown", "Markdown (raw)"),
    "markdown": ("markdown", "Markdown (raw)"),
    "txt": ("text", "Plain Text"),
    "json": ("json", "JSON"),
    "html": ("html", "HTML"),
    "csv": ("csv", "CSV"),
    "pdf": ("pdf", "PDF"),
    "png": ("png", "PNG"),
    "jpg": ("jpg", "JPEG"),
    "jpeg": ("jpg", "JPEG"),
    "gif": ("gif", "GIF"),
    "yaml": ("yaml", "YAML"),
    "yml": ("yaml", "YAML"),
    "py": ("python", "Python"),
    "log": ("text", "Plain Text"),
}


@dataclass
class ApiRequest:
    """One authenticated Web API call: who is acting and with what parameters."""

    method: str
    params: dict[str, Any]
    actor: str
    token: str
    base_url: str

    # ---- parameter access; form bodies carry strings, JSON bodies real types

    def raw(self, name: str) -> Any:
        value = self.params.get(name)
        return None if value == "" else value

    def str(self, name: str) -> str | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else str(value)

    # Below the methods named after them, the builtin types are spelled builtins.X: in the class
    # body (where annotations are read) str, bool and int now name these methods.
    def bool(self, name: builtins.str, default: builtins.bool = False) -> builtins.bool:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("1", "true", "yes")

    def int(self, name: builtins.str, default: builtins.int) -> builtins.int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise SlackError("invalid_arguments", messages=[f"invalid `{name}`"]) from None

    def json(self, name: builtins.str, *, error: builtins.str = "invalid_arguments") -> Any:
        value = self.raw(name)
        if value is None or not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise SlackError(error, messages=[f"invalid JSON in `{name}`"]) from None

    def ids(self, name: builtins.str) -> list[builtins.str]:
        value = self.raw(name)
        if value is None:
            return []
        items = value if isinstance(value, list) else str(value).split(",")
        return [str(i).strip() for i in items if str(i).strip()]


Handler = Callable[["WebAPI", ApiRequest], dict[str, Any]]
_HANDLERS: dict[str, Handler] = {}


def _method(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _HANDLERS[name] = fn
        return fn

    return register


# ---------------------------------------------------------------------- rendering


def _ts_key(ts: str) -> Decimal:
    try:
        return Decimal(ts)
    except (InvalidOperation, TypeError):
        raise SlackError("invalid_ts_latest") from None


def _kind(ch: Channel) -> str:
    """The kind of conversation ``ch`` is, as ``scopes`` names them."""
    if ch.is_im:
        return scopes.IM
    return scopes.PRIVATE if ch.is_private else scopes.PUBLIC


def permalink(base_url: str, channel_id: str, message: Message) -> str:
    link = f"{base_url}/archives/{channel_id}/p{message.ts.replace('.', '')}"
    if message.is_reply:
        link += f"?thread_ts={message.thread_ts}&cid={channel_id}"
    return link


def channel_api(ws: Workspace, ch: Channel, actor: str) -> dict[str, Any]:
    """A conversation object as ``conversations.info`` returns it."""
    if ch.is_im:
        return {
            "id": ch.id,
            "created": ch.created,
            "is_archived": False,
            "is_im": True,
            "is_org_shared": False,
            "context_team_id": TEAM_ID,
            "updated": ch.updated,
            "user": ch.im_user,
            "is_user_deleted": False,
            "priority": 0,
            "is_open": True,
        }
    visible = [m for m in ch.messages if not m.deleted]
    org = sorted(t for t in ch.shared_teams if t in ws.org_teams)
    external = sorted(t for t in ch.shared_teams if t not in ws.org_teams)
    return {
        "id": ch.id,
        "name": ch.name,
        "is_channel": True,
        "is_group": ch.id.startswith("G"),
        "is_im": False,
        "is_mpim": False,
        "is_private": ch.is_private,
        "created": ch.created,
        "is_archived": ch.is_archived,
        "is_general": ch.is_general,
        "unlinked": 0,
        "name_normalized": ch.name,
        "is_shared": bool(ch.shared_teams),
        "is_org_shared": bool(org),
        "is_ext_shared": bool(external),
        "is_pending_ext_shared": False,
        "pending_shared": [],
        "pending_connected_team_ids": [],
        "context_team_id": TEAM_ID,
        "updated": ch.updated,
        "parent_conversation": None,
        "creator": ch.creator,
        "shared_team_ids": [TEAM_ID, *org, *external],
        "internal_team_ids": [TEAM_ID, *org] if org else [],
        "is_member": actor in ch.members,
        "last_read": visible[-1].ts if visible and actor in ch.members else "0000000000.000000",
        "topic": dict(ch.topic),
        "purpose": dict(ch.purpose),
        "previous_names": [],
    }


def file_api(ws: Workspace, file: File, base_url: str) -> dict[str, Any]:
    """A file object as ``files.info``/``files.completeUploadExternal`` return it."""
    public: dict[str, list[dict[str, Any]]] = {}
    private: dict[str, list[dict[str, Any]]] = {}
    channels: list[str] = []
    groups: list[str] = []
    ims: list[str] = []
    for cid, stamps in file.shares.items():
        ch = ws.channel(cid)
        if ch is None:
            continue
        shares = [
            {
                "reply_users": [],
                "reply_users_count": 0,
                "reply_count": 0,
                "ts": ts,
                "channel_name": ch.name,
                "team_id": TEAM_ID,
                "share_user_id": file.user,
                "source": "UNKNOWN",
            }
            for ts in stamps
        ]
        if ch.is_im:
            ims.append(cid)
            private[cid] = shares
        elif ch.is_private:
            groups.append(cid)
            private[cid] = shares
        else:
            channels.append(cid)
            public[cid] = shares
    name = quote(file.name)
    shares_obj: dict[str, Any] = {}
    if public:
        shares_obj["public"] = public
    if private:
        shares_obj["private"] = private
    body: dict[str, Any] = {
        "id": file.id,
        "created": file.created,
        "timestamp": file.created,
        "name": file.name,
        "title": file.title,
        "mimetype": file.mimetype,
        "filetype": file.filetype,
        "pretty_type": _FILETYPES.get(file.name.rsplit(".", 1)[-1].lower(), ("", "Binary"))[1],
        "user": file.user,
        "user_team": TEAM_ID,
        "editable": file.filetype in ("text", "markdown"),
        "size": len(file.content) if file.content is not None else file.length,
        "mode": "hosted",
        "is_external": False,
        "external_type": "",
        "is_public": bool(public),
        "public_url_shared": False,
        "display_as_bot": False,
        "username": "",
        "url_private": f"{base_url}/files-pri/{TEAM_ID}-{file.id}/{name}",
        "url_private_download": f"{base_url}/files-pri/{TEAM_ID}-{file.id}/download/{name}",
        "permalink": f"{base_url}/files/{file.user}/{file.id}/{name}",
        "permalink_public": f"{base_url}/{TEAM_ID}-{file.id}-{file.upload_key[:10]}",
        "comments_count": 0,
        "is_starred": False,
        "shares": shares_obj,
        "channels": channels,
        "groups": groups,
        "ims": ims,
        "has_more_shares": False,
        "has_rich_preview": False,
        "file_access": "visible",
    }
    if file.alt_txt:
        body["alt_txt"] = file.alt_txt
    if file.content is not None and file.mimetype.startswith("text/"):
        text = file.content.decode("utf-8", "replace")
        body["preview"] = text[:1024]
        body["lines"] = text.count("\n") + 1
        body["preview_is_truncated"] = len(text) > 1024
    return body


def message_api(ws: Workspace, message: Message, base_url: str) -> dict[str, Any]:
    """A message object as ``conversations.history`` returns it."""
    author = ws.user(message.user)
    body: dict[str, Any] = {"type": "message"}
    if message.subtype:
        body["subtype"] = message.subtype
    if message.is_tombstone:
        body["hidden"] = True
    body.update({"user": message.user, "text": message.text, "ts": message.ts, "team": TEAM_ID})
    if author is not None and author.is_bot:
        body["bot_id"] = author.bot_id
        body["app_id"] = APP_ID if author.id == BOT_USER_ID else None
        body["bot_profile"] = {
            "id": author.bot_id,
            "deleted": False,
            "name": author.name,
            "updated": author.updated,
            "app_id": APP_ID if author.id == BOT_USER_ID else None,
            "user_id": author.id,
            "icons": {
                "image_36": f"https://avatars.invalid/{author.id}_36.png",
                "image_48": f"https://avatars.invalid/{author.id}_48.png",
                "image_72": f"https://avatars.invalid/{author.id}_72.png",
            },
            "team_id": TEAM_ID,
        }
    elif message.client_msg_id:
        body["client_msg_id"] = message.client_msg_id
    if message.blocks:
        body["blocks"] = copy.deepcopy(message.blocks)
    if message.attachments:
        body["attachments"] = copy.deepcopy(message.attachments)
    if message.files:
        files = [ws.file(f) for f in message.files]
        body["files"] = [file_api(ws, f, base_url) for f in files if f is not None]
        body["upload"] = True
        body["display_as_bot"] = False
    if message.inviter:
        body["inviter"] = message.inviter
    if message.thread_ts:
        body["thread_ts"] = message.thread_ts
    if message.is_reply:
        ch = ws.channel(message.channel)
        parent = ch.message(message.thread_ts or "") if ch else None
        if parent is not None:
            body["parent_user_id"] = parent.user
        if message.reply_broadcast:
            body["subtype"] = "thread_broadcast"
    elif message.replies:
        ch = ws.channel(message.channel)
        replies = [r for r in (ch.message(ts) for ts in message.replies) if r] if ch else []
        reply_users = list(dict.fromkeys(r.user for r in replies))
        body.update(
            {
                "reply_count": len(replies),
                "reply_users_count": len(reply_users),
                "latest_reply": replies[-1].ts if replies else message.ts,
                "reply_users": reply_users,
                "is_locked": False,
                "subscribed": False,
            }
        )
    if message.edited:
        body["edited"] = dict(message.edited)
    if message.reactions:
        body["reactions"] = [
            {"name": name, "users": list(users), "count": len(users)}
            for name, users in message.reactions.items()
        ]
    ch = ws.channel(message.channel)
    if ch is not None and message.ts in ch.pins:
        body["pinned_to"] = [ch.id]
    if message.metadata:
        body["metadata"] = copy.deepcopy(message.metadata)
    return body


def _page(items: list[Any], req: ApiRequest, *, default_limit: int) -> tuple[list[Any], str]:
    """One page of ``items`` and the next cursor, as Slack's cursor pagination does."""
    limit = req.int("limit", default_limit)
    if limit <= 0:
        limit = default_limit
    start = 0
    cursor = req.str("cursor")
    if cursor:
        try:
            start = int(base64.b64decode(cursor).decode().split(":", 1)[1])
        except (ValueError, IndexError, UnicodeDecodeError):
            raise SlackError("invalid_cursor") from None
    page = items[start : start + limit]
    end = start + len(page)
    next_cursor = base64.b64encode(f"next:{end}".encode()).decode() if end < len(items) else ""
    return page, next_cursor


def _file_kind(name: str, snippet_type: str | None) -> tuple[str, str]:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    filetype = _FILETYPES.get(ext, (ext or "binary", ""))[0]
    if snippet_type:
        filetype = snippet_type
    mimetype = mimetypes.guess_type(name)[0]
    if mimetype is None:
        mimetype = "text/markdown" if filetype == "markdown" else "application/octet-stream"
    if ext in ("md", "markdown"):
        mimetype = "text/markdown"
    return filetype, mimetype


# ---------------------------------------------------------------------- the API


class WebAPI:
    """Dispatches Web API calls against a ``Workspace``; the server supplies HTTP and auth."""

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace

    @staticmethod
    def knows(method: str) -> bool:
        return method in _HANDLERS

    @staticmethod
    def methods() -> list[str]:
        return sorted(_HANDLERS)

    def authenticate(self, token: str | None, method: str | None = None) -> str:
        """The user id ``token`` acts for, or Slack's ``not_authed``/``invalid_auth``.

        App-level tokens act for the app (``APP_ID``) and only in ``APP_TOKEN_METHODS``; those
        methods refuse bot and user tokens. Either mismatch is ``not_allowed_token_type``.
        """
        if not token:
            raise SlackError("not_authed")
        app_method = method in APP_TOKEN_METHODS
        if self.ws.is_app_token(token):
            if not app_method:
                raise SlackError("not_allowed_token_type")
            return APP_ID
        actor = self.ws.token_user(token)
        if actor is None:
            raise SlackError("invalid_auth")
        if app_method:
            raise SlackError("not_allowed_token_type")
        return actor

    def call(
        self, req: ApiRequest, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Run one method; returns (HTTP status, JSON body), and puts the answer's HTTP headers
        (a 429's ``Retry-After``) in ``headers``."""
        handler = _HANDLERS.get(req.method)
        if handler is None:
            return 404, {"ok": False, "error": "unknown_method"}
        retry_after = self.ws.tiers.retry_after(self.ws, req)
        if retry_after is not None:
            if headers is not None:
                headers["Retry-After"] = str(retry_after)
            return 429, {"ok": False, "error": "ratelimited"}
        try:
            self._check_scope(req)
            with self.ws.recording_changes():
                result = handler(self, req)
        except SlackError as err:
            return err.status, err.body()
        return 200, {"ok": True, **result}

    # ------------------------------------------------------------------ shared checks

    def _check_scope(self, req: ApiRequest, kinds: Iterable[str] | None = None) -> None:
        """Refuse a bot-token call lacking its scope, as Slack does (``missing_scope``).

        Without ``kinds``, a method whose scope is the same everywhere is checked (others are
        checked once the conversation's kind is known); with them, the conversation method's
        scope for each kind. Calls with other tokens pass.
        """
        if req.actor != BOT_USER_ID:
            return
        if kinds is None:
            if req.method not in scopes.METHOD_SCOPES:
                return
            requirements = [scopes.METHOD_SCOPES[req.method]]
        else:
            by_kind = scopes.CONVERSATION_SCOPES.get(req.method, {})
            requirements = [by_kind[kind] for kind in dict.fromkeys(kinds) if kind in by_kind]
        granted = self.ws.bot_scopes
        needed = [r[0] for r in requirements if r and not granted.intersection(r)]
        if needed:
            provided = ",".join(sorted(granted))
            extra = {"needed": ",".join(needed), "provided": provided}
            raise SlackError("missing_scope", extra=extra)

    def _is_bot(self, user_id: str) -> bool:
        user = self.ws.user(user_id)
        return user is not None and user.is_bot

    def _is_admin(self, user_id: str) -> bool:
        user = self.ws.user(user_id)
        return user is not None and user.is_admin

    def _channel(
        self,
        req: ApiRequest,
        name: str = "channel",
        *,
        need_member: bool = True,
        allow_archived: bool = False,
        allow_names: bool = False,
        posting: bool = False,
        not_found: str = "channel_not_found",
    ) -> Channel:
        """Look up and check the channel a call is about, refusing as Slack does.

        Only ``chat.post*`` accept ``#name``/``name`` or a user id (``allow_names``); every other
        method needs the channel id, as on Slack.
        """
        ref = req.str(name)
        if not ref:
            raise SlackError(not_found)
        ch = self.ws.channel(ref)
        if ch is None and allow_names and self.ws.user(ref) is not None:
            ch = self.ws.dm_channel(ref)  # chat.post* given a user id posts in the app's DM
        if ch is None and allow_names and (ref.startswith("#") or _CHANNEL_NAME.match(ref)):
            ch = self.ws.channel_by_name(ref)
        if ch is None:
            raise SlackError(not_found)
        member = req.actor in ch.members
        if ch.is_private and not member:
            raise SlackError(not_found)
        self._check_scope(req, [_kind(ch)])
        if ch.is_archived and not allow_archived:
            raise SlackError("is_archived")
        if need_member and not member:
            public_post = (
                posting
                and self.ws.chat_write_public
                and not ch.is_private
                and self._is_bot(req.actor)
            )
            if not public_post:
                raise SlackError("not_in_channel")
        return ch

    def _message(self, ch: Channel, ts: str | None) -> Message:
        if not ts:
            raise SlackError("message_not_found")
        message = ch.message(ts)
        if message is None:
            raise SlackError("message_not_found")
        return message

    def _blocks(self, req: ApiRequest, name: str = "blocks") -> list[dict[str, Any]] | None:
        raw = req.raw(name)
        if raw is None:
            return None
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                raise SlackError("invalid_blocks_format") from None
        if not isinstance(raw, list):
            raise SlackError("invalid_blocks_format")
        problems = validate_blocks(raw)
        if problems:
            raise SlackError("invalid_blocks", messages=problems)
        blocks = copy.deepcopy(raw)
        assign_ids(blocks)
        return blocks

    def _attachments(self, req: ApiRequest) -> list[dict[str, Any]] | None:
        raw = req.json("attachments", error="invalid_attachments")
        if raw is None:
            return None
        if not isinstance(raw, list):
            raise SlackError("invalid_attachments")
        if len(raw) > 100:
            raise SlackError("too_many_attachments")
        return copy.deepcopy(raw)

    def _user(self, req: ApiRequest, name: str = "user") -> str:
        uid = req.str(name)
        if not uid or self.ws.user(uid) is None:
            raise SlackError("user_not_found")
        return uid

    def _system_message(self, ch: Channel, actor: str, subtype: str, text: str) -> None:
        self.ws.post_message(ch.id, actor, text, subtype=subtype)

    def msg(self, message: Message, req: ApiRequest) -> dict[str, Any]:
        return message_api(self.ws, message, req.base_url)

    # ------------------------------------------------------------------ auth / team

    @_method("auth.test")
    def auth_test(self, req: ApiRequest) -> dict[str, Any]:
        user = self.ws.user(req.actor)
        assert user is not None
        body: dict[str, Any] = {
            "url": f"{req.base_url}/",
            "team": TEAM_NAME,
            "user": user.name,
            "team_id": TEAM_ID,
            "user_id": user.id,
        }
        if user.is_bot:
            body["bot_id"] = user.bot_id
        body["is_enterprise_install"] = False
        return body

    @_method("team.info")
    def team_info(self, req: ApiRequest) -> dict[str, Any]:
        return {
            "team": {
                "id": TEAM_ID,
                "name": TEAM_NAME,
                "url": f"{req.base_url}/",
                "domain": TEAM_DOMAIN,
                "email_domain": "",
                "icon": {"image_default": True},
                "avatar_base_url": "https://avatars.invalid/",
                "is_verified": False,
            }
        }

    @_method("apps.connections.open")
    def apps_connections_open(self, req: ApiRequest) -> dict[str, Any]:
        """A one-time Socket Mode URL on this server (Slack's is ``wss://wss-primary...``)."""
        ticket = self.ws.issue_socket_ticket()
        scheme, _, rest = req.base_url.partition("://")
        ws_scheme = "wss" if scheme == "https" else "ws"
        return {"url": f"{ws_scheme}://{rest}/link/?ticket={ticket}&app_id={APP_ID}"}

    @_method("api.test")
    def api_test(self, req: ApiRequest) -> dict[str, Any]:
        return {"args": {k: v for k, v in req.params.items() if k != "token"}}

    # ------------------------------------------------------------------ conversations

    @_method("conversations.create")
    def conversations_create(self, req: ApiRequest) -> dict[str, Any]:
        self._check_scope(req, [scopes.PRIVATE if req.bool("is_private") else scopes.PUBLIC])
        name = req.str("name")
        if not name:
            raise SlackError("invalid_name_required")
        if len(name) > 80:
            raise SlackError("invalid_name_maxlength")
        if not _CHANNEL_NAME.match(name):
            raise SlackError("invalid_name_specials")
        if re.fullmatch(r"[-_]+", name):
            raise SlackError("invalid_name_punctuation")
        if any(c.name == name for c in self.ws.channels() if not c.is_im):
            raise SlackError("name_taken")
        if self.ws.policies.channel_creation_admins_only and not self._is_admin(req.actor):
            raise SlackError("restricted_action")
        ch = self.ws.add_channel(name, is_private=req.bool("is_private"), creator=req.actor)
        self.ws.join(ch.id, req.actor)
        return {"channel": channel_api(self.ws, ch, req.actor)}

    @_method("conversations.invite")
    def conversations_invite(self, req: ApiRequest) -> dict[str, Any]:
        ch = self._channel(req, need_member=False, allow_archived=True)
        if ch.is_archived:
            raise SlackError("is_archived")
        if ch.is_im:
            raise SlackError("method_not_supported_for_channel_type")
        users = req.ids("users")
        if not users:
            raise SlackError("no_user")
        if req.actor not in ch.members:
            raise SlackError("not_in_channel")
        if self.ws.policies.invites_admins_only and not self._is_admin(req.actor):
            raise SlackError("restricted_action")
        errors: list[dict[str, Any]] = []
        for uid in dict.fromkeys(users):
            code = self._invite_refusal(req, ch, uid)
            if code is not None:
                errors.append({"user": uid, "ok": False, "error": code})
        refused = {e["user"] for e in errors}
        invitees = [u for u in dict.fromkeys(users) if u not in refused and u not in ch.members]
        # One refused person refuses the whole call, naming the first refusal and listing
        # each; with ``force`` the others are invited and the refused ones listed.
        if errors and not (req.bool("force") and invitees):
            raise SlackError(errors[0]["error"], extra={"errors": errors})
        if not invitees:
            raise SlackError("already_in_channel")
        for uid in invitees:
            self.ws.join(ch.id, uid, inviter=req.actor)
        body: dict[str, Any] = {"channel": channel_api(self.ws, ch, req.actor)}
        if errors:
            body["errors"] = errors
        return body

    def _invite_refusal(self, req: ApiRequest, ch: Channel, uid: str) -> str | None:
        """Slack's refusal of inviting ``uid`` into ``ch``, or None (a member stays one)."""
        if uid == req.actor:
            return "cant_invite_self"
        user = self.ws.user(uid)
        if user is None:
            return "user_not_found"
        if user.deleted:
            return "user_is_deactivated"
        if uid in ch.members:
            return None
        if user.is_invited_user:
            return "cant_invite"
        if self.ws.is_external(user) and user.team_id not in ch.shared_teams:
            return "no_external_invite_permission"
        if self.ws.is_other_workspace(user) and user.team_id not in ch.shared_teams:
            return "invitee_cant_see_channel"
        if user.is_ultra_restricted and self.ws.channels_of(uid):
            return "ura_max_channels"
        if (
            user.is_restricted
            and self.ws.policies.guest_invites_admins_only
            and not self._is_admin(req.actor)
        ):
            return "user_is_restricted"
        return None

    @_method("conversations.join")
    def conversations_join(self, req: ApiRequest) -> dict[str, Any]:
        ch = self._channel(req, need_member=False, allow_archived=True)
        if ch.is_private or ch.is_im:
            raise SlackError("method_not_supported_for_channel_type")
        if ch.is_archived:
            raise SlackError("is_archived")
        if req.actor in ch.members:
            return {
                "channel": channel_api(self.ws, ch, req.actor),
                "warning": "already_in_channel",
                "response_metadata": {"warnings": ["already_in_channel"]},
            }
        self.ws.join(ch.id, req.actor)
        return {"channel": channel_api(self.ws, ch, req.actor)}

    @_method("conversations.leave")
    def conversations_leave(self, req: ApiRequest) -> dict[str, Any]:
        ch = self._channel(req, need_member=False, allow_archived=False)
        if ch.is_general:
            raise SlackError("cant_leave_general")
        if req.actor not in ch.members:
            return {"not_in_channel": True}
        ch.members.discard(req.actor)
        self._system_message(ch, req.actor, "channel_leave", f"<@{req.actor}> has left the channel")
        return {}

    @_method("conversations.info")
    def conversations_info(self, req: ApiRequest) -> dict[str, Any]:
        ch = self._channel(req, need_member=False, allow_archived=True)
        body = channel_api(self.ws, ch, req.actor)
        if req.bool("include_num_members") and not ch.is_im:
            body["num_members"] = len(ch.members)
        if req.bool("include_locale"):
            body["locale"] = "en-US"
        return {"channel": body}

    @_method("conversations.members")
    def conversations_members(self, req: ApiRequest) -> dict[str, Any]:
        ch = self._channel(req, need_member=False, allow_archived=True)
        page, cursor = _page(sorted(ch.members), req, default_limit=100)
        return {"members": page, "response_metadata": {"next_cursor": cursor}}

    @_method("conversations.history")
    def conversations_history(self, req: ApiRequest) -> dict[str, Any]:
        ch = self._channel(req, need_member=True, allow_archived=True)
        inclusive = req.bool("inclusive")
        oldest = _ts_key(req.str("oldest") or "0")
        latest_raw = req.str("latest")
        latest = _ts_key(latest_raw) if latest_raw else None
        found = []
        for m in reversed(ch.messages):
            if m.deleted or not m.is_top_level:
                continue
            key = _ts_key(m.ts)
            if key < oldest or (key == oldest and not inclusive):
                continue
            if latest is not None and (key > latest or (key == latest and not inclusive)):
                continue
            found.append(m)
        page, cursor = _page(found, req, default_limit=100)
        return {
            "messages": [self.msg(m, req) for m in page],
            "has_more": bool(cursor),
            "pin_count": len(ch.pins),
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    @_method("conversations.replies")
    def conversations_replies(self, req: ApiRequest) -> dict[str, Any]:
        ch = self._channel(req, need_member=True, allow_archived=True)
        ts = req.str("ts")
        parent = ch.message(ts) if ts else None
        if parent is None:
            raise SlackError("thread_not_found")
        if parent.is_reply:
            parent = ch.message(parent.thread_ts or "") or parent
        thread = [parent] + [r for r in (ch.message(t) for t in parent.replies) if r]
        page, cursor = _page(thread, req, default_limit=1000)
        return {
            "messages": [self.msg(m, req) for m in page],
            "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor},
        }

    def _set_text_field(self, req: ApiRequest, field_name: str) -> dict[str, Any]:
        ch = self._channel(req, need_member=True, allow_archived=False)
        value = req.str(field_name) or ""
        if len(value) > 250:
            raise SlackError("too_long")
        record = {"value": value, "creator": req.actor, "last_set": int(self.ws.now())}
        setattr(ch, field_name, record)
        verb = "topic" if field_name == "topic" else "purpose"
        self._system_message(
            ch, req.actor, f"channel_{verb}", f"set the channel {verb}: {value}".rstrip(": ")
        )
        return {"channel": channel_api(self.ws, ch, req.actor)}

    @_method("conversations.setTopic")
    def conversations_set_topic(self, req: ApiRequest) -> dict[str, Any]:
        return self._set_text_field(req, "topic")

    @_method("conversations.setPurpose")
    def conversations_set_purpose(self, req: ApiRequest) -> dict[str, Any]:
        return self._set_text_field(req, "purpose")

    @_method("conversations.archive")
    def conversations_archive(self, req: ApiRequest) -> dict[str, Any]:
        ch = self._channel(req, need_member=False, allow_archived=True)
        if ch.is_im:
            raise SlackError("method_not_supported_for_channel_type")
        if ch.is_archived:
            raise SlackError("already_archived")
        if ch.is_general:
            raise SlackError("cant_archive_general")
        if req.actor not in ch.members:
            raise SlackError("not_in_channel")
        self._system_message(ch, req.actor, "channel_archive", "archived the channel")
        ch.is_archived = True
        return {}

    @_method("conversations.unarchive")
    def conversations_unarchive(self, req: ApiRequest) -> dict[str, Any]:
        ch = self._channel(req, need_member=False, allow_archived=True)
        if not ch.is_archived:
            raise SlackError("not_archived")
        ch.is_archived = False
        self._system_message(ch, req.actor, "channel_unarchive", "un-archived the channel")
        return {}

    @_method("conversations.list")
    def conversations_list(self, req: ApiRequest) -> dict[str, Any]:
        types = set(req.ids("types") or ["public_channel"])
        self._check_scope(req, [kind for t, kind in scopes.LIST_TYPES.items() if t in types])
        exclude_archived = req.bool("exclude_archived")
        found = []
        for ch in self.ws.channels():
            if ch.is_im:
                wanted = "im" in types and req.actor in ch.members
            elif ch.is_private:
                wanted = "private_channel" in types and req.actor in ch.members
            else:
                wanted = "public_channel" in types
            if wanted and not (exclude_archived and ch.is_archived):
                found.append(ch)
        page, cursor = _page(found, req, default_limit=100)
        channels = []
        for ch in page:
            body = channel_api(self.ws, ch, req.actor)
            if not ch.is_im:
                body["num_members"] = len(ch.members)
            channels.append(body)
        return {"channels": channels, "response_metadata": {"next_cursor": cursor}}

    @_method("conversations.open")
    def conversations_open(self, req: ApiRequest) -> dict[str, Any]:
        if req.str("channel"):
            ch = self._channel(req, need_member=False, allow_archived=True)
        else:
            users = req.ids("users")
            if not users:
                raise SlackError("users_list_not_supplied")
            self._check_scope(req, [scopes.MPIM if len(users) > 1 else scopes.IM])
            if len(users) > 1:
                # Group DMs (mpim) are not emulated.
                raise SlackError("method_not_supported_for_channel_type")
            if self.ws.user(users[0]) is None:
                raise SlackError("user_not_found")
            ch = self.ws.dm_channel(users[0])
        if req.bool("return_im"):
            return {"channel": channel_api(self.ws, ch, req.actor)}
        return {"no_op": True, "already_open": True, "channel": {"id": ch.id}}

    # ------------------------------------------------------------------ chat

    @_method("chat.postMessage")
    def chat_post_message(self, req: ApiRequest) -> dict[str, Any]:
        ch = self._channel(req, allow_names=True, posting=True)
        text = req.str("text")
        blocks = self._blocks(req)
        attachments = self._attachments(req)
        if not text and not blocks and not attachments:
            raise SlackError("no_text")
        if text and len(text) > 40000:
            raise SlackError("msg_too_long")
        metadata = req.json("metadata")
        message = self.ws.post_message(
            ch.id,
            req.actor,
            text or "",
            blocks=blocks,
            attachments=attachments,
            thread_ts=req.str("thread_ts"),
            reply_broadcast=req.bool("reply_broadcast"),
            metadata=metadata if isinstance(metadata, dict) else None,
        )
        body: dict[str, Any] = {
            "channel": ch.id,
            "ts": message.ts,
            "message": self.msg(message, req),
        }
        if blocks and not text:
            body["warning"] = "missing_text_in_blocks"
            body["response_metadata"] = {"warnings": ["missing_text_in_blocks"]}
        return body

    @_method("chat.update")
    def chat_update(self, req: ApiRequest) -> dict[str, Any]:
        ch = self._channel(req, need_member=False)
        message = self._message(ch, req.str("ts"))
        if message.user != req.actor:
            raise SlackError("cant_update_message")
        text = req.str("text")
        blocks = self._blocks(req)
        attachments = self._attachments(req)
        if text is None and blocks is None and attachments is None:
            raise SlackError("no_text")
        if text and len(text) > 40000:
            raise SlackError("msg_too_long")
        self.ws.update_message(
            ch.id, message.ts, editor=req.actor, text=text, blocks=blocks, attachments=attachments
        )
        rendered = self.msg(message, req)
        rendered.pop("ts", None)
        return {"channel": ch.id, "ts": message.ts, "text": message.text, "message": rendered}

    @_method("chat.delete")
    def chat_delete(self, req: ApiRequest) -> dict[str, Any]:
        ch = self._channel(req, need_member=False)
        message = self._message(ch, req.str("ts"))
        if message.user != req.actor:
            raise SlackError("cant_delete_message")
        self.ws.delete_message(ch.id, message.ts)
        return {"channel": ch.id, "ts": message.ts}

    @_method("chat.postEphemeral")
    def chat_post_ephemeral(self, req: ApiRequest) -> dict[str, Any]:
        ch = self._channel(req, allow_names=True, posting=True)
        uid = self._user(req)
        if uid not in ch.members:
            raise SlackError("user_not_in_channel")
        text = req.str("text")
        blocks = self._blocks(req)
        attachments = self._attachments(req)
        if not text and not blocks and not attachments:
            raise SlackError("no_text")
        ephemeral = self.ws.add_ephemeral(
            ch.id,
            uid,
            text=text or "",
            blocks=blocks,
            source="chat.postEphemeral",
            thread_ts=req.str("thread_ts"),
            sender=req.actor,
        )
        return {"message_ts": ephemeral.ts}

    @_method("chat.getPermalink")
    def chat_get_permalink(self, req: ApiRequest) -> dict[str, Any]:
        ch = self._channel(req, need_member=False, allow_archived=True)
        message = self._message(ch, req.str("message_ts"))
        return {"channel": ch.id, "permalink": permalink(req.base_url, ch.id, message)}

    # ------------------------------------------------------------------ pins, reactions

    @_method("pins.add")
    def pins_add(self, req: ApiRequest) -> dict[str, Any]:
        ch = self._channel(req)
        ts = req.str("timestamp")
        if not ts:
            raise SlackError("no_item_specified")
        self.ws.add_pin(ch.id, ts, req.actor)
        return {}

    @_method("pins.remove")
    def pins_remove(self, req: ApiRequest) -> dict[str, Any]:
        ch = self._channel(req)
        ts = req.str("timestamp")
        if not ts:
            raise SlackError("no_item_specified")
        self.ws.remove_pin(ch.id, ts)
        return {}

    @_method("pins.list")
    def pins_list(self, req: ApiRequest) -> dict[str, Any]:
        ch = self._channel(req, need_member=False, allow_archived=True)
        items = []
        for ts in reversed(ch.pins):
            message = ch.message(ts)
            if message is None:
                continue
            pinned_by, created = ch.pin_info.get(ts, ("", 0))
            items.append(
                {
                    "type": "message",
                    "created": created,
                    "created_by": pinned_by,
                    "channel": ch.id,
                    "message": {
                        **self.msg(message, req),
                        "permalink": permalink(req.base_url, ch.id, message),
                    },
                }
            )
        return {"items": items}

    def _reaction_target(self, req: ApiRequest) -> tuple[Channel, str, str]:
        ch = self._channel(req, need_member=False)
        ts = req.str("timestamp")
        if not ts:
            raise SlackError("no_item_specified")
        name = (req.str("name") or "").strip(":")
        if not name or not _EMOJI_NAME.match(name):
            raise SlackError("invalid_name")
        return ch, ts, name

    @_method("reactions.add")
    def reactions_add(self, req: ApiRequest) -> dict[str, Any]:
        ch, ts, name = self._reaction_target(req)
        self.ws.add_reaction(ch.id, ts, name, req.actor)
        return {}

    @_method("reactions.remove")
    def reactions_remove(self, req: ApiRequest) -> dict[str, Any]:
        ch, ts, name = self._reaction_target(req)
        self.ws.remove_reaction(ch.id, ts, name, req.actor)
        return {}

    @_method("reactions.get")
    def reactions_get(self, req: ApiRequest) -> dict[str, Any]:
        ch = self._channel(req, need_member=False, allow_archived=True)
        message = self._message(ch, req.str("timestamp"))
        return {"type": "message", "channel": ch.id, "message": self.msg(message, req)}

    # ------------------------------------------------------------------ bookmarks

    @_method("bookmarks.add")
    def bookmarks_add(self, req: ApiRequest) -> dict[str, Any]:
        ch = self._channel(req, "channel_id")
        title = req.str("title")
        if not title:
            raise SlackError("invalid_arguments", messages=["missing required field: title"])
        if (req.str("type") or "") != "link":
            raise SlackError("invalid_bookmark_type")
        link = req.str("link") or ""
        if not re.match(r"^https?://\S+$", link):
            raise SlackError("invalid_link")
        bookmark = self.ws.add_bookmark(
            ch.id, title=title, link=link, user=req.actor, emoji=req.str("emoji")
        )
        return {"bookmark": dict(bookmark)}

    @_method("bookmarks.list")
    def bookmarks_list(self, req: ApiRequest) -> dict[str, Any]:
        ch = self._channel(req, "channel_id", need_member=False, allow_archived=True)
        return {"bookmarks": [dict(b) for b in ch.bookmarks]}

    @_method("bookmarks.remove")
    def bookmarks_remove(self, req: ApiRequest) -> dict[str, Any]:
        ch = self._channel(req, "channel_id")
        bookmark_id = req.str("bookmark_id")
        for bookmark in ch.bookmarks:
            if bookmark["id"] == bookmark_id:
                ch.bookmarks.remove(bookmark)
                return {}
        raise SlackError("not_found")

    # ------------------------------------------------------------------ users

    @_method("users.info")
    def users_info(self, req: ApiRequest) -> dict[str, Any]:
        uid = self._user(req)
        user = self.ws.user(uid)
        assert user is not None
        return {"user": self.ws.user_api(user)}

    @_method("users.list")
    def users_list(self, req: ApiRequest) -> dict[str, Any]:
        now = self.ws.now()
        # People of other workspaces (Slack Connect, or elsewhere in the Grid org) are not
        # members of this one; users.info still shows them.
        members = [u for u in self.ws.users() if u.team_id == TEAM_ID]
        page, cursor = _page(members, req, default_limit=200)
        return {
            "members": [self.ws.user_api(u) for u in page],
            "cache_ts": int(now),
            "response_metadata": {"next_cursor": cursor},
        }

    @_method("users.lookupByEmail")
    def users_lookup_by_email(self, req: ApiRequest) -> dict[str, Any]:
        email = (req.str("email") or "").lower()
        for user in self.ws.users():
            if user.email and user.email.lower() == email:
                return {"user": self.ws.user_api(user)}
        raise SlackError("users_not_found")

    # ------------------------------------------------------------------ views

    def _view_param(self, req: ApiRequest) -> dict[str, Any]:
        view = req.json("view")
        if view is None:
            raise SlackError("invalid_arguments", messages=["missing required field: view"])
        problems = validate_view(view)
        if problems:
            raise SlackError("invalid_arguments", messages=problems)
        return copy.deepcopy(view)

    def _store_view(
        self,
        view: dict[str, Any],
        *,
        user: str,
        view_id: str | None = None,
        root_view_id: str | None = None,
        previous_view_id: str | None = None,
    ) -> ViewRecord:
        external_id = view.get("external_id") or ""
        if external_id:
            for other in self.ws.views_by_id.values():
                if other.id != view_id and other.view.get("external_id") == external_id:
                    raise SlackError("duplicate_external_id")
        vid = view_id or self.ws.new_id("V")
        blocks = view.get("blocks") or []
        assign_ids(blocks)
        stored: dict[str, Any] = {
            "id": vid,
            "team_id": TEAM_ID,
            "type": view["type"],
            "blocks": blocks,
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(self.ws.now())}.{secrets.token_hex(4)}",
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": previous_view_id,
            "root_view_id": root_view_id or vid,
            "app_id": APP_ID,
            "external_id": external_id,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }
        if view.get("submit_disabled") is not None:
            stored["submit_disabled"] = bool(view["submit_disabled"])
        record = ViewRecord(id=vid, user=user, type=view["type"], view=stored)
        self.ws.views_by_id[vid] = record
        return record

    def _trigger(self, req: ApiRequest) -> str:
        trigger_id = req.str("trigger_id") or req.str("interactivity_pointer")
        return self.ws.exchange_trigger(trigger_id).user

    @_method("views.open")
    def views_open(self, req: ApiRequest) -> dict[str, Any]:
        view = self._view_param(req)
        if view["type"] != "modal":
            raise SlackError("invalid_arguments", messages=["views.open only opens modals"])
        user = self._trigger(req)
        record = self._store_view(view, user=user)
        for old in self.ws.modal_stacks.get(user, []):
            self.ws.views_by_id[old].closed = True
        self.ws.modal_stacks[user] = [record.id]
        return {"view": copy.deepcopy(record.view)}

    @_method("views.push")
    def views_push(self, req: ApiRequest) -> dict[str, Any]:
        view = self._view_param(req)
        if view["type"] != "modal":
            raise SlackError("invalid_arguments", messages=["views.push only pushes modals"])
        user = self._trigger(req)
        stack = self.ws.modal_stacks.setdefault(user, [])
        if len(stack) >= 3:
            raise SlackError("push_limit_reached")
        record = self._store_view(
            view,
            user=user,
            root_view_id=stack[0] if stack else None,
            previous_view_id=stack[-1] if stack else None,
        )
        stack.append(record.id)
        return {"view": copy.deepcopy(record.view)}

    @_method("views.update")
    def views_update(self, req: ApiRequest) -> dict[str, Any]:
        view_id = req.str("view_id")
        external_id = req.str("external_id")
        if not view_id and not external_id:
            raise SlackError("invalid_arguments", messages=["missing view_id or external_id"])
        record = None
        for candidate in self.ws.views_by_id.values():
            if (view_id and candidate.id == view_id) or (
                not view_id and candidate.view.get("external_id") == external_id
            ):
                record = candidate
        if record is None:
            raise SlackError("not_found")
        view = self._view_param(req)
        expected_hash = req.str("hash")
        if expected_hash and expected_hash != record.view["hash"]:
            raise SlackError("hash_conflict")
        if view["type"] != record.type:
            raise SlackError("invalid_arguments", messages=["view type cannot change"])
        updated = self._store_view(
            view,
            user=record.user,
            view_id=record.id,
            root_view_id=record.view["root_view_id"],
            previous_view_id=record.view["previous_view_id"],
        )
        updated.closed = record.closed
        return {"view": copy.deepcopy(updated.view)}

    @_method("views.publish")
    def views_publish(self, req: ApiRequest) -> dict[str, Any]:
        uid = self._user(req, "user_id")
        view = self._view_param(req)
        if view["type"] != "home":
            raise SlackError("invalid_arguments", messages=["views.publish only publishes home"])
        existing_id = self.ws.home_views.get(uid)
        expected_hash = req.str("hash")
        current_hash = self.ws.views_by_id[existing_id].view["hash"] if existing_id else None
        if current_hash and expected_hash and expected_hash != current_hash:
            raise SlackError("hash_conflict")
        record = self._store_view(view, user=uid, view_id=existing_id)
        self.ws.home_views[uid] = record.id
        return {"view": copy.deepcopy(record.view)}

    # ------------------------------------------------------------------ files

    @_method("files.getUploadURLExternal")
    def files_get_upload_url_external(self, req: ApiRequest) -> dict[str, Any]:
        filename = req.str("filename")
        if not filename:
            raise SlackError("invalid_arguments", messages=["missing required field: filename"])
        length = req.int("length", -1)
        if length < 0:
            raise SlackError("invalid_arguments", messages=["missing required field: length"])
        snippet_type = req.str("snippet_type")
        filetype, mimetype = _file_kind(filename, snippet_type)
        file = self.ws.create_file(
            name=filename,
            length=length,
            user=req.actor,
            filetype=filetype,
            mimetype=mimetype,
            alt_txt=req.str("alt_txt"),
            snippet_type=snippet_type,
        )
        return {"upload_url": f"{req.base_url}/upload/v1/{file.upload_key}", "file_id": file.id}

    @_method("files.completeUploadExternal")
    def files_complete_upload_external(self, req: ApiRequest) -> dict[str, Any]:
        items = req.json("files")
        if not isinstance(items, list) or not items:
            raise SlackError("invalid_arguments", messages=["files must be a non-empty array"])
        files: list[tuple[File, str | None]] = []
        for item in items:
            if not isinstance(item, dict) or not item.get("id"):
                raise SlackError("invalid_arguments", messages=["each file needs an id"])
            file = self.ws.file(str(item["id"]))
            if file is None or file.user != req.actor or file.content is None:
                raise SlackError("file_not_found")
            files.append((file, item.get("title")))
        targets: list[Channel] = []
        channel_ids = ([req.str("channel_id")] if req.str("channel_id") else []) + req.ids(
            "channels"
        )
        for cid in dict.fromkeys(c for c in channel_ids if c):
            ch = self.ws.channel(cid)
            if ch is None or (ch.is_private and req.actor not in ch.members):
                raise SlackError("invalid_channel")
            if ch.is_archived:
                raise SlackError("is_archived")
            if req.actor not in ch.members:
                raise SlackError("not_in_channel")
            targets.append(ch)
        thread_ts = req.str("thread_ts")
        comment = req.str("initial_comment")
        for file, title in files:
            if title:
                file.title = str(title)
            file.completed = True
            file.initial_comment = comment
        for ch in targets:
            message = self.ws.post_message(
                ch.id,
                req.actor,
                comment or "",
                thread_ts=thread_ts,
                files=[f.id for f, _ in files],
            )
            for file, _ in files:
                if ch.id not in file.channels:
                    file.channels.append(ch.id)
                file.shares.setdefault(ch.id, []).append(message.ts)
        return {"files": [file_api(self.ws, f, req.base_url) for f, _ in files]}

    @_method("files.info")
    def files_info(self, req: ApiRequest) -> dict[str, Any]:
        file = self.ws.file(req.str("file") or "")
        if file is None or not file.completed:
            raise SlackError("file_not_found")
        return {
            "file": file_api(self.ws, file, req.base_url),
            "comments": [],
            "response_metadata": {"next_cursor": ""},
        }

    # ------------------------------------------------------------------ response_url

    def respond(self, target_id: str, body: Any) -> tuple[int, dict[str, Any]]:
        """Handle a POST to a ``response_url`` as Slack does; returns (HTTP status, JSON)."""
        ws = self.ws
        with ws.recording_changes():
            target = ws.response_targets.get(target_id)
            if target is None or ws.now() - target.created > _RESPONSE_URL_LIFETIME:
                return 404, {"ok": False, "error": "expired_url"}
            if target.uses >= _RESPONSE_URL_USES:
                return 404, {"ok": False, "error": "used_url"}
            if not isinstance(body, dict):
                return 400, {"ok": False, "error": "invalid_payload"}
            target.uses += 1
            text = body.get("text") or ""
            blocks = body.get("blocks") or []
            if blocks:
                problems = validate_blocks(blocks)
                if problems:
                    return 400, SlackError("invalid_blocks", messages=problems).body()
                blocks = copy.deepcopy(blocks)
                assign_ids(blocks)
            original_ephemeral = None
            if target.is_ephemeral and target.message_ts:
                original_ephemeral = ws.ephemeral(target.message_ts)
            elif target.posted:
                original_ephemeral = ws.ephemeral(target.posted[-1])
            original_message = None
            if target.message_ts and not target.is_ephemeral:
                original_message = ws.message(target.channel, target.message_ts)
            if body.get("delete_original"):
                if original_message is not None:
                    ws.delete_message(target.channel, original_message.ts)
                elif original_ephemeral is not None:
                    original_ephemeral.deleted = True
                return 200, {"ok": True}
            if not text and not blocks and not body.get("attachments"):
                return 400, {"ok": False, "error": "no_text"}
            if body.get("replace_original"):
                if original_message is not None:
                    original_message.text = text
                    original_message.blocks = blocks
                    return 200, {"ok": True}
                if original_ephemeral is not None:
                    original_ephemeral.text = text
                    original_ephemeral.blocks = blocks
                    original_ephemeral.replaced += 1
                    return 200, {"ok": True}
            thread_ts = body.get("thread_ts") or target.thread_ts
            if body.get("response_type") == "in_channel":
                ws.post_message(
                    target.channel, BOT_USER_ID, text, blocks=blocks, thread_ts=thread_ts
                )
            else:
                ephemeral = ws.add_ephemeral(
                    target.channel,
                    target.user,
                    text=text,
                    blocks=blocks,
                    source="response_url",
                    thread_ts=thread_ts,
                )
                target.posted.append(ephemeral.ts)
            return 200, {"ok": True}
