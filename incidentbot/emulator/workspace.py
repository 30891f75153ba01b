"""State of the local Slack workspace: users, channels, messages, files, views and the call log.

Everything the emulated Web API (``server.py``/``api.py``) and the driver (``driver.py``) change
lives here, so a test can look at "what Slack now shows" without going through HTTP. All public
methods take one re-entrant lock: the HTTP server answers requests on many threads while a test
thread reads and the driver writes.

Objects returned by the read helpers are the live records, not copies; read them, do not change
them (use the driver or the Web API to change the workspace, as a real user or app would).
"""

from __future__ import annotations

import copy
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from incidentbot.slack.manifest import BOT_EVENTS, BOT_SCOPES

from .tiers import Tiers

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_NAME",
    "BOT_USER_ID",
    "DEFAULT_APP_TOKEN",
    "DEFAULT_BOT_TOKEN",
    "ENTERPRISE_ID",
    "ENTERPRISE_NAME",
    "MESSAGE_SUBSCRIPTIONS",
    "SLACKBOT_USER_ID",
    "SYSTEM_SUBTYPES",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "TEAM_NAME",
    "Call",
    "Channel",
    "Ephemeral",
    "Fault",
    "File",
    "Message",
    "MessageChange",
    "Policies",
    "ResponseTarget",
    "SlackError",
    "Trigger",
    "User",
    "ViewRecord",
    "Workspace",
]

DEFAULT_BOT_TOKEN = "xoxb-local-bot-token"
#: The app-level token (``connections:write``) a Socket Mode app opens connections with.
DEFAULT_APP_TOKEN = "xapp-local-app-token"
TEAM_ID = "TLOCAL0001"
TEAM_NAME = "Incidentbot Local"
TEAM_DOMAIN = "incidentbot-local"
#: The Enterprise Grid organisation this workspace belongs to once it has a neighbour
#: (``Workspace.add_user(..., org_team=...)``); until then it is a workspace of its own.
ENTERPRISE_ID = "ELOCAL0001"
ENTERPRISE_NAME = "Incidentbot Local Org"
APP_ID = "ALOCAL0001"
BOT_ID = "BLOCAL0001"
BOT_USER_ID = "UBOT"
BOT_NAME = "incidentbot"
#: Who a tombstone is from: Slack itself, not a member of the workspace's user list.
SLACKBOT_USER_ID = "USLACKBOT"
TOMBSTONE = "tombstone"
TOMBSTONE_TEXT = "This message was deleted."

#: The event subscription an app needs for the message events of each kind of conversation.
MESSAGE_SUBSCRIPTIONS = {
    "channel": "message.channels",
    "group": "message.groups",
    "im": "message.im",
    "mpim": "message.mpim",
}

#: Message subtypes Slack itself posts (joins, topic changes...). ``Workspace.messages`` leaves
#: them out unless asked, so tests can index "the messages people and the bot posted".
SYSTEM_SUBTYPES = frozenset(
    {
        "channel_join",
        "channel_leave",
        "channel_topic",
        "channel_purpose",
        "channel_archive",
        "channel_unarchive",
        "channel_name",
    }
)

_CHANNEL_NAME = re.compile(r"^[a-z0-9_-]+$")

# Slack shows long zone names ("Pacific Standard Time"); zoneinfo only knows abbreviations.
_TZ_LABELS = {
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
    "MST": "Mountain Standard Time",
    "MDT": "Mountain Daylight Time",
    "CST": "Central Standard Time",
    "CDT": "Central Daylight Time",
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "CET": "Central European Time",
    "CEST": "Central European Summer Time",
    "EET": "Eastern European Time",
    "EEST": "Eastern European Summer Time",
    "GMT": "Greenwich Mean Time",
    "BST": "British Summer Time",
    "IST": "India Standard Time",
    "JST": "Japan Standard Time",
    "AEST": "Australian Eastern Standard Time",
    "AEDT": "Australian Eastern Daylight Time",
    "UTC": "Coordinated Universal Time",
}


class SlackError(Exception):
    """A refusal with one of Slack's error codes; the API turns it into ``{"ok": false}``.

    ``status`` is the HTTP status Slack uses for it (200 for nearly all errors), ``messages`` go to
    ``response_metadata.messages`` as Slack does for ``invalid_arguments``/``invalid_blocks``.
    """

    def __init__(
        self,
        code: str,
        *,
        status: int = 200,
        messages: Iterable[str] = (),
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.messages = list(messages)
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.code}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        body.update(self.extra)
        return body


def _tz_info(tz: str, at: float) -> tuple[int, str]:
    """Offset in seconds and Slack-style label of zone ``tz`` at the moment ``at``."""
    moment = datetime.fromtimestamp(at, tz=UTC).astimezone(ZoneInfo(tz))
    offset = moment.utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else 0
    abbreviation = moment.tzname() or ""
    if abbreviation in _TZ_LABELS:
        label = _TZ_LABELS[abbreviation]
    elif abbreviation.isalpha():
        label = abbreviation
    else:
        sign = "+" if seconds >= 0 else "-"
        hours, minutes = divmod(abs(seconds) // 60, 60)
        label = f"UTC{sign}{hours:02d}:{minutes:02d}"
    return seconds, label


@dataclass
class User:
    """A person or bot; time zone fields are computed for "now" because offsets change (DST)."""

    id: str
    name: str
    real_name: str
    display_name: str = ""
    tz: str = "UTC"
    is_bot: bool = False
    bot_id: str | None = None
    email: str | None = None
    title: str = ""
    deleted: bool = False
    is_admin: bool = False
    updated: int = 0
    #: A guest: multi-channel (``is_restricted``) or single-channel (both flags, as on Slack).
    is_restricted: bool = False
    is_ultra_restricted: bool = False
    #: The user's own workspace: another one for Slack Connect people and for people of
    #: another workspace of the same Enterprise Grid organisation.
    team_id: str = TEAM_ID
    #: Invited to the workspace, not joined yet.
    is_invited_user: bool = False

    @property
    def tz_offset(self) -> int:
        return _tz_info(self.tz, time.time())[0]

    @property
    def tz_label(self) -> str:
        return _tz_info(self.tz, time.time())[1]

    def to_api(
        self,
        *,
        at: float,
        enterprise: tuple[str, str] | None = None,
        is_stranger: bool = False,
    ) -> dict[str, Any]:
        """The ``user`` object of ``users.info``/``users.list`` (field names as Slack's).

        ``enterprise`` (id, name) is the Enterprise Grid organisation the user belongs to, if
        any; ``is_stranger`` marks a Slack Connect person who shares no conversation with the
        caller.
        """
        offset, label = _tz_info(self.tz, at)
        first, _, last = self.real_name.partition(" ")
        profile: dict[str, Any] = {
            "title": self.title,
            "phone": "",
            "skype": "",
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.display_name,
            "display_name_normalized": self.display_name,
            "status_text": "",
            "status_emoji": "",
            "status_expiration": 0,
            "avatar_hash": f"g{self.id.lower()[:11]}",
            "first_name": first,
            "last_name": last,
            "team": self.team_id,
            "image_24": f"https://avatars.invalid/{self.id}_24.png",
            "image_48": f"https://avatars.invalid/{self.id}_48.png",
            "image_72": f"https://avatars.invalid/{self.id}_72.png",
            "image_192": f"https://avatars.invalid/{self.id}_192.png",
        }
        if self.email:
            profile["email"] = self.email
        if self.is_bot:
            profile["bot_id"] = self.bot_id
            profile["api_app_id"] = APP_ID if self.id == BOT_USER_ID else ""
            profile["always_active"] = True
        body: dict[str, Any] = {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "color": "9f69e7",
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": label,
            "tz_offset": offset,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": self.updated,
            "is_email_confirmed": bool(self.email),
            "who_can_share_contact_card": "EVERYONE",
        }
        if self.is_invited_user:
            body["is_invited_user"] = True
        if is_stranger:
            body["is_stranger"] = True
        if enterprise is not None:
            body["enterprise_user"] = {
                "id": self.id,
                "enterprise_id": enterprise[0],
                "enterprise_name": enterprise[1],
                "is_admin": self.is_admin,
                "is_owner": False,
                "is_primary_owner": False,
                "teams": [self.team_id],
            }
        return body


@dataclass
class Message:
    """One message (top-level, thread reply or system message) in a channel."""

    ts: str
    channel: str
    user: str
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    reply_broadcast: bool = False
    subtype: str | None = None
    bot_id: str | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    edited: dict[str, str] | None = None
    replies: list[str] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    client_msg_id: str | None = None
    inviter: str | None = None
    deleted: bool = False

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def is_top_level(self) -> bool:
        """Shown in the channel itself: not a reply, or a reply also sent to the channel."""
        return not self.is_reply or self.reply_broadcast

    @property
    def is_tombstone(self) -> bool:
        """A deleted message that still heads a thread ("This message was deleted.")."""
        return self.subtype == TOMBSTONE


@dataclass(frozen=True)
class MessageChange:
    """A message posted, changed or deleted, as Slack tells apps of it in a ``message`` event.

    ``kind`` is ``posted``, ``changed`` or ``deleted``; ``message`` is the message right after
    the change (a tombstone when a deleted message still heads a thread), ``previous`` right
    before it (None for a new message); both are copies, which later changes leave alone.
    ``at`` is the change's own ts (the event's ``ts``/``event_ts``).
    """

    kind: str
    channel: str
    message: Message
    previous: Message | None
    at: str


@dataclass
class Channel:
    """A conversation: public/private channel or the bot's DM with a person (``is_im``)."""

    id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    creator: str = ""
    created: int = 0
    members: set[str] = field(default_factory=set)
    topic: dict[str, Any] = field(
        default_factory=lambda: {"value": "", "creator": "", "last_set": 0}
    )
    purpose: dict[str, Any] = field(
        default_factory=lambda: {"value": "", "creator": "", "last_set": 0}
    )
    messages: list[Message] = field(default_factory=list)
    pins: list[str] = field(default_factory=list)
    pin_info: dict[str, tuple[str, int]] = field(default_factory=dict)
    bookmarks: list[dict[str, Any]] = field(default_factory=list)
    is_general: bool = False
    is_im: bool = False
    im_user: str | None = None
    updated: int = 0
    #: The other workspaces the channel is shared with: Slack Connect organisations' teams,
    #: or workspaces of this Enterprise Grid organisation (``Workspace.share_channel``).
    shared_teams: frozenset[str] = frozenset()
    _by_ts: dict[str, Message] = field(default_factory=dict, repr=False)

    def message(self, ts: str) -> Message | None:
        found = self._by_ts.get(ts)
        return None if found is None or found.deleted else found

    @property
    def channel_type(self) -> str:
        """Value of ``channel_type`` in message events."""
        if self.is_im:
            return "im"
        return "group" if self.is_private else "channel"


@dataclass
class Policies:
    """Workspace settings an admin chooses, which Slack applies to apps as to members.

    ``channel_creation_admins_only``: only admins create channels (``conversations.create``
    answers others ``restricted_action``). ``invites_admins_only``: only admins add people to
    channels (``conversations.invite``: ``restricted_action``). ``guest_invites_admins_only``:
    only admins add guests to channels (inviting a guest: ``user_is_restricted``). The bot is
    never an admin.
    """

    channel_creation_admins_only: bool = False
    invites_admins_only: bool = False
    guest_invites_admins_only: bool = False


@dataclass
class Ephemeral:
    """A message only ``user`` sees; ``source`` says how it got there.

    ``source`` is one of ``chat.postEphemeral``, ``response_url`` or ``ack`` (the HTTP body the app
    answered a slash command or action with, which Slack shows to the person).
    """

    ts: str
    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]]
    source: str
    thread_ts: str | None = None
    sender: str | None = None
    deleted: bool = False
    replaced: int = 0


@dataclass
class File:
    """An uploaded file; ``content`` is None until bytes reach the upload URL."""

    id: str
    name: str
    title: str
    filetype: str
    mimetype: str
    user: str
    created: int
    length: int
    upload_key: str
    content: bytes | None = None
    completed: bool = False
    channels: list[str] = field(default_factory=list)
    shares: dict[str, list[str]] = field(default_factory=dict)
    alt_txt: str | None = None
    snippet_type: str | None = None
    initial_comment: str | None = None


@dataclass
class ViewRecord:
    """A modal or App Home view as Slack stores it (``view`` is the API ``view`` object)."""

    id: str
    user: str
    type: str
    view: dict[str, Any]
    closed: bool = False
    errors: dict[str, str] | None = None


@dataclass
class Trigger:
    """A ``trigger_id`` handed to the app in a payload; valid once, for ``trigger_ttl`` seconds."""

    id: str
    user: str
    issued: float
    used: bool = False


@dataclass
class ResponseTarget:
    """What a ``response_url`` posts into: who ran the command / clicked, where, on what."""

    id: str
    user: str
    channel: str
    source: str
    created: float
    message_ts: str | None = None
    is_ephemeral: bool = False
    thread_ts: str | None = None
    uses: int = 0
    posted: list[str] = field(default_factory=list)


@dataclass
class Call:
    """One request the emulator answered (Web API call, upload, response_url post, download)."""

    method: str
    params: dict[str, Any]
    token: str | None
    status: int
    response: Any
    at: float
    kind: str = "api"

    @property
    def ok(self) -> bool:
        return isinstance(self.response, dict) and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return self.response.get("error") if isinstance(self.response, dict) else None


@dataclass
class Fault:
    """A planned misbehaviour for one method, used ``remaining`` more times."""

    method: str
    error: str | None = None
    status: int | None = None
    retry_after: int | None = None
    delay: float | None = None
    reset: bool = False
    remaining: int = 1


# The app's own changes wait until a test sends their events; a run that never does keeps
# only the latest.
_APP_CHANGES_LIMIT = 10_000


def _ts(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


class Workspace:
    """The whole local Slack workspace (one team, one installed app).

    ``clock`` gives "now" (seconds since the epoch) for message ts values, triggers and time zone
    offsets; tests may pass a fake one. ``trigger_ttl`` is how long a ``trigger_id`` stays usable
    (Slack: 3 seconds). ``chat_write_public=True`` lets the bot post in public channels it has not
    joined, like an app with the ``chat:write.public`` scope; by default it must join first.
    ``app_token`` is the app-level token: only ``apps.connections.open`` (Socket Mode) accepts it,
    and that method accepts nothing else.

    ``subscribed_events`` are the installed app's event subscriptions (its manifest's
    ``bot_events``; by default incidentbot's own, ``incidentbot.slack.manifest.BOT_EVENTS``).
    Slack sends ``message`` events only as they allow (``delivers_messages``); a test may change the
    set, e.g. ``ws.subscribed_events.discard("message.channels")``, to see what an app without that
    subscription gets. ``app_changes`` holds the changes the app made to messages through the Web
    API, whose events Slack would send it too (``SlackDriver.deliver_app_changes``).

    ``bot_scopes`` are the scopes the bot token was granted: by default exactly the manifest's
    (``incidentbot.slack.manifest.BOT_SCOPES``). Each Web API call made with the bot token
    needs the scope ``scopes.py`` names for it, as on Slack (``missing_scope`` otherwise); a test
    may change the set, e.g. ``ws.bot_scopes.discard("pins:write")``, or grant everything with
    ``Workspace(bot_scopes=scopes.ALL)``. Other tokens (a person's ``add_token``) are not checked.

    People are full members unless ``add_user`` makes them guests (``guest="multi"`` or
    ``"single"``; a single-channel guest is in one channel at most), Slack Connect people of
    another organisation (``external_team=``), people of another workspace of this Enterprise
    Grid organisation (``org_team=``) or invited people who have not joined (``invited=True``).
    ``conversations.invite`` refuses them as Slack does; ``share_channel`` shares a channel with
    another team, and ``policies`` (``Policies``) holds the admin settings that refuse the bot.

    ``tiers`` are Slack's rate limits (``tiers.py``): off unless ``enforce_tiers=True`` or
    ``ws.tiers.enable(scale=...)``; then a bot-token call over its method's tier, or a message
    over a channel's one a second, answers 429 with ``Retry-After``.
    """

    # Set by reset() and again by __setstate__ (a snapshot leaves them out: _TRANSIENT).
    call_log: list[Call]
    app_changes: deque[MessageChange]

    def __init__(
        self,
        *,
        bot_token: str = DEFAULT_BOT_TOKEN,
        app_token: str = DEFAULT_APP_TOKEN,
        clock: Callable[[], float] = time.time,
        trigger_ttl: float = 3.0,
        chat_write_public: bool = False,
        seed: bool = True,
        subscribed_events: Iterable[str] = BOT_EVENTS,
        bot_scopes: Iterable[str] = BOT_SCOPES,
        enforce_tiers: bool = False,
        latency: float = 0.0,
    ) -> None:
        self.lock = threading.RLock()
        # Seconds every Web API call takes before Slack answers it (Slack's own round trip, as
        # seen from a data centre far from it); 0 answers at once. Changeable at any time.
        self.latency = latency
        self.bot_token = bot_token
        self.app_token = app_token
        self.clock = clock
        self.trigger_ttl = trigger_ttl
        self.chat_write_public = chat_write_public
        self.subscribed_events: set[str] = set(subscribed_events)
        self.bot_scopes: set[str] = set(bot_scopes)
        self.tiers = Tiers(enabled=enforce_tiers)
        self._seed = seed
        self._change_sink: list[MessageChange] | deque[MessageChange] | None = None
        self.reset()

    # ------------------------------------------------------------------ lifecycle

    # A pickled workspace is a snapshot of what people and the app see (``incidentbot
    # playground`` keeps one to continue a drill after a restart). The lock, the clock and the
    # call log belong to the running process: a restored workspace gets a fresh lock, the real
    # clock and an empty log; likewise the app's subscriptions (a restart may bring a new
    # manifest, with its scopes) and the app's own changes whose events were not sent yet.
    # Pickle while holding ``lock`` so the snapshot is consistent.
    _TRANSIENT = (
        "lock",
        "clock",
        "call_log",
        "subscribed_events",
        "bot_scopes",
        "app_changes",
        "_change_sink",
    )

    def __getstate__(self) -> dict[str, Any]:
        with self.lock:
            return {k: v for k, v in self.__dict__.items() if k not in self._TRANSIENT}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        # Snapshots from before guests, Grid and admin settings were modelled.
        self.__dict__.setdefault("policies", Policies())
        self.__dict__.setdefault("enterprise", None)
        self.__dict__.setdefault("org_teams", set())
        self.__dict__.setdefault("latency", 0.0)
        self.lock = threading.RLock()
        self.clock = time.time
        self.call_log = []
        self.subscribed_events = set(BOT_EVENTS)
        self.bot_scopes = set(BOT_SCOPES)
        self.app_changes = deque(maxlen=_APP_CHANGES_LIMIT)
        self._change_sink = None

    def reset(self) -> None:
        """Forget everything and seed again (same ids as a fresh workspace)."""
        with self.lock:
            self.users_by_id: dict[str, User] = {}
            self.channels_by_id: dict[str, Channel] = {}
            self.tokens: dict[str, str] = {self.bot_token: BOT_USER_ID}
            self.app_tokens: set[str] = {self.app_token}
            self.socket_tickets: set[str] = set()
            self.ephemeral_messages: list[Ephemeral] = []
            self.files_by_id: dict[str, File] = {}
            self.views_by_id: dict[str, ViewRecord] = {}
            self.modal_stacks: dict[str, list[str]] = {}
            self.home_views: dict[str, str] = {}
            self.triggers: dict[str, Trigger] = {}
            self.response_targets: dict[str, ResponseTarget] = {}
            self.call_log = []
            self.app_changes = deque(maxlen=_APP_CHANGES_LIMIT)
            self.faults: dict[str, list[Fault]] = {}
            self.policies = Policies()
            #: (id, name) of the Enterprise Grid organisation, and its other workspaces.
            self.enterprise: tuple[str, str] | None = None
            self.org_teams: set[str] = set()
            self._last_ts = 0
            self._counters: dict[str, int] = {}
            self._add_user(
                User(
                    id=BOT_USER_ID,
                    name=BOT_NAME,
                    real_name="Incident Bot",
                    display_name="",
                    tz="America/Los_Angeles",
                    is_bot=True,
                    bot_id=BOT_ID,
                )
            )
            if self._seed:
                self._seed_people()

    def _seed_people(self) -> None:
        people = [
            ("UALICE", "alice", "Alice Nakamura", "America/Los_Angeles"),
            ("UBOB", "bob", "Bob Schneider", "Europe/Berlin"),
            ("UCHANDRA", "chandra", "Chandra Iyer", "Asia/Kolkata"),
            ("UDANA", "dana", "Dana Okafor", "UTC"),
            ("UERIK", "erik", "Erik Lindqvist", "Europe/London"),
        ]
        for user_id, name, real_name, tz in people:
            self.add_user(name, real_name=real_name, tz=tz, user_id=user_id)
        ids = [p[0] for p in people]
        self.add_channel(
            "general",
            channel_id="CGENERAL",
            members=ids,
            creator="UDANA",
            is_general=True,
            purpose="Company-wide announcements and work-based matters",
        )
        self.add_channel(
            "incidents",
            channel_id="CINCIDENTS",
            members=ids,
            creator="UDANA",
            purpose="Incident declarations and status updates",
        )

    # ------------------------------------------------------------------ ids and time

    def now(self) -> float:
        return float(self.clock())

    def next_ts(self) -> str:
        """A message ts: the current time in microseconds, strictly increasing."""
        with self.lock:
            micros = int(self.now() * 1_000_000)
            if micros <= self._last_ts:
                micros = self._last_ts + 1
            self._last_ts = micros
            return _ts(micros)

    def new_id(self, prefix: str, width: int = 9) -> str:
        """Slack-looking ids (``C00000001A``...), deterministic so demo output is stable."""
        with self.lock:
            n = self._counters.get(prefix, 0) + 1
            self._counters[prefix] = n
            return f"{prefix}{format(n, 'X').rjust(width, '0')}"

    # ------------------------------------------------------------------ users and tokens

    def _add_user(self, user: User) -> User:
        user.updated = int(self.now())
        self.users_by_id[user.id] = user
        return user

    def add_user(
        self,
        name: str,
        *,
        real_name: str | None = None,
        tz: str = "UTC",
        display_name: str | None = None,
        email: str | None = None,
        is_bot: bool = False,
        user_id: str | None = None,
        title: str = "",
        guest: str | None = None,
        external_team: str | None = None,
        org_team: str | None = None,
        invited: bool = False,
        is_admin: bool = False,
    ) -> User:
        """Add a person (or another bot). ``tz`` must be an IANA zone name.

        ``guest="multi"`` makes a multi-channel guest, ``guest="single"`` a single-channel one.
        ``external_team`` makes a Slack Connect person whose own workspace (of another
        organisation) is that team id; ``org_team`` a person of another workspace of this
        workspace's Enterprise Grid organisation, which makes this workspace part of one
        (``ENTERPRISE_ID``). ``invited`` makes someone invited to the workspace who has not
        joined yet.
        """
        ZoneInfo(tz)  # fail early on a bad zone name
        if guest not in (None, "multi", "single"):
            raise ValueError(f"guest must be 'multi' or 'single', not {guest!r}")
        if external_team is not None and org_team is not None:
            raise ValueError("a person is from another organisation or from this one, not both")
        with self.lock:
            if self.user_by_name(name) is not None:
                raise ValueError(f"a user named {name!r} exists already")
            team = external_team or org_team or TEAM_ID
            if external_team in {TEAM_ID, *self.org_teams}:
                raise ValueError(f"{external_team} is a workspace of this organisation")
            if org_team is not None:
                if org_team == TEAM_ID or org_team in self._external_teams():
                    raise ValueError(f"{org_team} is not another workspace of this organisation")
                self.enterprise = self.enterprise or (ENTERPRISE_ID, ENTERPRISE_NAME)
                self.org_teams.add(org_team)
            # Enterprise Grid user ids start with W.
            uid = user_id or self.new_id("W" if self.enterprise else "U")
            if uid in self.users_by_id:
                raise ValueError(f"user id {uid} exists already")
            return self._add_user(
                User(
                    id=uid,
                    name=name,
                    real_name=real_name or name.capitalize(),
                    display_name=display_name if display_name is not None else name,
                    tz=tz,
                    is_bot=is_bot,
                    bot_id=self.new_id("B") if is_bot else None,
                    email=email if email is not None else f"{name}@{TEAM_DOMAIN}.example",
                    title=title,
                    is_admin=is_admin,
                    is_restricted=guest is not None,
                    is_ultra_restricted=guest == "single",
                    team_id=team,
                    is_invited_user=invited,
                )
            )

    def _external_teams(self) -> set[str]:
        return {
            u.team_id
            for u in self.users_by_id.values()
            if u.team_id != TEAM_ID and u.team_id not in self.org_teams
        }

    def is_external(self, user: User) -> bool:
        """From another organisation (Slack Connect), not of this workspace or its org."""
        return user.team_id != TEAM_ID and user.team_id not in self.org_teams

    def is_other_workspace(self, user: User) -> bool:
        """Of another workspace of this Enterprise Grid organisation."""
        return user.team_id in self.org_teams

    def user_api(self, user: User) -> dict[str, Any]:
        """The ``user`` object Slack shows the app for ``user`` now."""
        with self.lock:
            stranger = self.is_external(user) and not any(
                user.id in c.members and BOT_USER_ID in c.members
                for c in self.channels_by_id.values()
            )
            enterprise = None if self.is_external(user) else self.enterprise
            return user.to_api(at=self.now(), enterprise=enterprise, is_stranger=stranger)

    def user(self, user_id: str) -> User | None:
        with self.lock:
            return self.users_by_id.get(user_id)

    def user_by_name(self, name: str) -> User | None:
        with self.lock:
            wanted = name.lstrip("@")
            for user in self.users_by_id.values():
                if user.name == wanted:
                    return user
            return None

    def resolve_user(self, ref: str) -> User:
        """A user from an id, a handle or ``@handle``; KeyError if unknown (a test mistake)."""
        with self.lock:
            user = self.users_by_id.get(ref) or self.user_by_name(ref)
            if user is None:
                raise KeyError(f"no user {ref!r} in the local workspace")
            return user

    def users(self) -> list[User]:
        with self.lock:
            return list(self.users_by_id.values())

    @property
    def bot_user(self) -> User:
        return self.users_by_id[BOT_USER_ID]

    def add_token(self, token: str, user_id: str) -> None:
        """Accept ``token`` as acting for ``user_id`` (e.g. a user token for a test)."""
        with self.lock:
            self.resolve_user(user_id)
            self.tokens[token] = user_id

    def token_user(self, token: str) -> str | None:
        with self.lock:
            return self.tokens.get(token)

    def add_app_token(self, token: str) -> None:
        """Accept ``token`` as another app-level token (for ``apps.connections.open`` only)."""
        with self.lock:
            self.app_tokens.add(token)

    def is_app_token(self, token: str) -> bool:
        with self.lock:
            return token in self.app_tokens

    # ------------------------------------------------------------------ Socket Mode tickets

    def issue_socket_ticket(self) -> str:
        """A one-time ticket for the WebSocket URL ``apps.connections.open`` hands out."""
        ticket = secrets.token_hex(16)
        with self.lock:
            self.socket_tickets.add(ticket)
        return ticket

    def take_socket_ticket(self, ticket: str) -> bool:
        """Use up ``ticket``; False when it was never issued or was already used."""
        with self.lock:
            if ticket not in self.socket_tickets:
                return False
            self.socket_tickets.discard(ticket)
            return True

    # ------------------------------------------------------------------ channels

    def add_channel(
        self,
        name: str,
        *,
        is_private: bool = False,
        members: Iterable[str] = (),
        creator: str | None = None,
        channel_id: str | None = None,
        topic: str = "",
        purpose: str = "",
        is_general: bool = False,
        shared_with: Iterable[str] = (),
    ) -> Channel:
        """Create a channel directly (no name checks beyond Slack's character rules).

        ``shared_with``: the other teams it is shared with (as ``share_channel``).
        """
        if not _CHANNEL_NAME.match(name) or len(name) > 80:
            raise ValueError(f"{name!r} is not a valid Slack channel name")
        with self.lock:
            if self.channel_by_name(name) is not None:
                raise ValueError(f"channel #{name} exists already")
            now = int(self.now())
            creator_id = creator or BOT_USER_ID
            channel = Channel(
                id=channel_id or self.new_id("C"),
                name=name,
                is_private=is_private,
                creator=creator_id,
                created=now,
                members={self.resolve_user(m).id for m in members},
                is_general=is_general,
                updated=now * 1000,
                shared_teams=frozenset(shared_with),
            )
            for member in channel.members:
                self._check_single_channel(member, channel)
            channel.topic = {"value": topic, "creator": creator_id if topic else "", "last_set": 0}
            channel.purpose = {
                "value": purpose,
                "creator": creator_id if purpose else "",
                "last_set": now if purpose else 0,
            }
            self.channels_by_id[channel.id] = channel
            return channel

    def channel(self, channel_id: str) -> Channel | None:
        with self.lock:
            return self.channels_by_id.get(channel_id)

    def channel_by_name(self, name: str) -> Channel | None:
        """The channel called ``name`` (``#`` optional); an unarchived one wins over archived."""
        with self.lock:
            wanted = name.lstrip("#")
            found = [c for c in self.channels_by_id.values() if c.name == wanted and not c.is_im]
            found.sort(key=lambda c: c.is_archived)
            return found[0] if found else None

    def resolve_channel(self, ref: str) -> Channel:
        """A channel from an id, ``name`` or ``#name``; KeyError if unknown (a test mistake)."""
        with self.lock:
            channel = self.channels_by_id.get(ref) or self.channel_by_name(ref)
            if channel is None:
                raise KeyError(f"no channel {ref!r} in the local workspace")
            return channel

    def channels(self) -> list[Channel]:
        with self.lock:
            return list(self.channels_by_id.values())

    def dm_channel(self, user_id: str) -> Channel:
        """The bot's direct-message conversation with ``user_id`` (created on first use)."""
        with self.lock:
            user = self.resolve_user(user_id)
            for channel in self.channels_by_id.values():
                if channel.is_im and channel.im_user == user.id:
                    return channel
            now = int(self.now())
            channel = Channel(
                id=self.new_id("D"),
                name=user.id,
                is_private=True,
                creator=BOT_USER_ID,
                created=now,
                members={BOT_USER_ID, user.id},
                is_im=True,
                im_user=user.id,
                updated=now * 1000,
            )
            self.channels_by_id[channel.id] = channel
            return channel

    def share_channel(self, channel: str, team_id: str) -> Channel:
        """Share a channel with another team: a Slack Connect organisation's workspace, whose
        people may then be invited, or another workspace of this Enterprise Grid org."""
        with self.lock:
            ch = self.resolve_channel(channel)
            ch.shared_teams = ch.shared_teams | {team_id}
            return ch

    def channels_of(self, user_id: str) -> list[Channel]:
        """The channels (not DMs) ``user_id`` is a member of."""
        with self.lock:
            return [c for c in self.channels_by_id.values() if not c.is_im and user_id in c.members]

    def _check_single_channel(self, user_id: str, channel: Channel) -> None:
        user = self.users_by_id.get(user_id)
        if user is None or not user.is_ultra_restricted:
            return
        elsewhere = [c for c in self.channels_of(user_id) if c.id != channel.id]
        if elsewhere:
            raise ValueError(
                f"{user.name} is a single-channel guest, already in #{elsewhere[0].name}"
            )

    def members(self, channel: str) -> set[str]:
        """Member user ids of a channel (id or name)."""
        with self.lock:
            return set(self.resolve_channel(channel).members)

    def join(self, channel: str, user_id: str, *, inviter: str | None = None) -> bool:
        """Make ``user_id`` a member; posts Slack's ``channel_join`` line. False if already in."""
        with self.lock:
            ch = self.resolve_channel(channel)
            if user_id in ch.members:
                return False
            self._check_single_channel(user_id, ch)
            ch.members.add(user_id)
            text = f"<@{user_id}> has joined the channel"
            self.post_message(ch.id, user_id, text, subtype="channel_join", inviter=inviter)
            return True

    # ------------------------------------------------------------------ messages

    def post_message(
        self,
        channel: str,
        user: str,
        text: str = "",
        *,
        blocks: list[dict[str, Any]] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
        subtype: str | None = None,
        files: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        client_msg_id: str | None = None,
        inviter: str | None = None,
    ) -> Message:
        """Store a message with a fresh ts. No permission checks: callers (API/driver) do them."""
        with self.lock:
            ch = self.resolve_channel(channel)
            author = self.users_by_id.get(user)
            parent: Message | None = None
            if thread_ts is not None:
                parent = ch.message(thread_ts)
                if parent is not None and parent.is_reply:
                    # Slack files a reply to a reply under the thread's parent.
                    thread_ts = parent.thread_ts
                    parent = ch.message(thread_ts or "")
            message = Message(
                ts=self.next_ts(),
                channel=ch.id,
                user=user,
                text=text,
                blocks=list(blocks or []),
                attachments=list(attachments or []),
                thread_ts=thread_ts,
                reply_broadcast=reply_broadcast and thread_ts is not None,
                subtype=subtype,
                bot_id=author.bot_id if author is not None and author.is_bot else None,
                files=list(files or []),
                metadata=metadata,
                client_msg_id=client_msg_id,
                inviter=inviter,
            )
            if parent is not None:
                parent.replies.append(message.ts)
                if parent.thread_ts is None:
                    parent.thread_ts = parent.ts
            ch.messages.append(message)
            ch._by_ts[message.ts] = message
            self._record_change("posted", message)
            return message

    def message(self, channel: str, ts: str) -> Message | None:
        with self.lock:
            return self.resolve_channel(channel).message(ts)

    def get_message(self, channel: str, ts: str) -> Message:
        """Like ``message`` but refuses with Slack's ``message_not_found``."""
        with self.lock:
            found = self.resolve_channel(channel).message(ts)
            if found is None:
                raise SlackError("message_not_found")
            return found

    def messages(self, channel: str, *, include_system: bool = False) -> list[Message]:
        """Top-level messages of a channel, oldest first (thread replies only if broadcast)."""
        with self.lock:
            return [
                m
                for m in self.resolve_channel(channel).messages
                if not m.deleted
                and m.is_top_level
                and (include_system or m.subtype not in SYSTEM_SUBTYPES)
            ]

    def replies(self, channel: str, ts: str) -> list[Message]:
        """The replies in the thread under message ``ts`` (without the parent), oldest first."""
        with self.lock:
            ch = self.resolve_channel(channel)
            return [m for m in ch.messages if not m.deleted and m.is_reply and m.thread_ts == ts]

    def update_message(
        self,
        channel: str,
        ts: str,
        *,
        editor: str,
        text: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> Message:
        with self.lock:
            message = self.get_message(channel, ts)
            previous = copy.deepcopy(message)
            if text is not None:
                message.text = text
            if blocks is not None:
                message.blocks = list(blocks)
            if attachments is not None:
                message.attachments = list(attachments)
            message.edited = {"user": editor, "ts": self.next_ts()}
            self._record_change("changed", message, previous)
            return message

    def delete_message(self, channel: str, ts: str) -> Message:
        """Delete a message as Slack does: it leaves history, unpinned; but a message that
        still heads a thread stays, as a tombstone ("This message was deleted.", from Slack
        itself), so that its replies keep their place."""
        with self.lock:
            ch = self.resolve_channel(channel)
            message = self.get_message(ch.id, ts)
            previous = copy.deepcopy(message)
            if not message.is_reply and any(ch.message(reply) for reply in message.replies):
                message.subtype = TOMBSTONE
                message.user = SLACKBOT_USER_ID
                message.text = TOMBSTONE_TEXT
                message.blocks, message.attachments, message.files = [], [], []
                message.reactions = {}
                message.bot_id = message.client_msg_id = message.metadata = message.edited = None
                self._record_change("changed", message, previous)
            else:
                message.deleted = True
                self._record_change("deleted", message, previous)
            if ts in ch.pins:
                ch.pins.remove(ts)
            ch.pin_info.pop(ts, None)
            return message

    # ------------------------------------------------------------------ which events Slack sends

    def delivers_messages(self, channel: str) -> bool:
        """Whether Slack sends the app the ``message`` events of ``channel``: only with the
        subscription for that kind of conversation (``MESSAGE_SUBSCRIPTIONS``), and only while
        the app's bot user is a member."""
        with self.lock:
            ch = self.resolve_channel(channel)
            return (
                MESSAGE_SUBSCRIPTIONS[ch.channel_type] in self.subscribed_events
                and BOT_USER_ID in ch.members
            )

    @contextmanager
    def recording_changes(
        self, into: list[MessageChange] | None = None
    ) -> Iterator[list[MessageChange] | deque[MessageChange]]:
        """While held, every message posted, changed or deleted is kept as a ``MessageChange``
        in ``into``, or by default in ``app_changes``.

        The Web API holds it around each call: Slack sends the app the events of its own
        posts, edits and deletions too, and ``SlackDriver.deliver_app_changes()`` sends them. The
        driver collects people's changes ``into`` a list of its own and sends them at once.
        """
        with self.lock:
            outer = self._change_sink
            self._change_sink = self.app_changes if into is None else into
            try:
                yield self._change_sink
            finally:
                self._change_sink = outer

    def _record_change(self, kind: str, message: Message, previous: Message | None = None) -> None:
        if self._change_sink is None:
            return
        if kind == "posted":
            at = message.ts
        elif kind == "changed" and message.edited and not message.is_tombstone:
            at = message.edited["ts"]
        else:
            at = self.next_ts()
        self._change_sink.append(
            MessageChange(kind, message.channel, copy.deepcopy(message), previous, at)
        )

    def take_app_changes(self) -> list[MessageChange]:
        """The app's own message changes whose events are not sent yet, oldest first; taking
        them empties the queue."""
        with self.lock:
            taken = list(self.app_changes)
            self.app_changes.clear()
            return taken

    # ------------------------------------------------------------------ pins, reactions, bookmarks

    def add_pin(self, channel: str, ts: str, user: str) -> Message:
        with self.lock:
            ch = self.resolve_channel(channel)
            message = self.get_message(ch.id, ts)
            if ts in ch.pins:
                raise SlackError("already_pinned")
            ch.pins.append(ts)
            ch.pin_info[ts] = (user, int(self.now()))
            return message

    def remove_pin(self, channel: str, ts: str) -> Message:
        with self.lock:
            ch = self.resolve_channel(channel)
            message = self.get_message(ch.id, ts)
            if ts not in ch.pins:
                raise SlackError("no_pin")
            ch.pins.remove(ts)
            ch.pin_info.pop(ts, None)
            return message

    def pins(self, channel: str) -> list[str]:
        """The ts of the pinned messages, in the order they were pinned."""
        with self.lock:
            return list(self.resolve_channel(channel).pins)

    def add_reaction(self, channel: str, ts: str, name: str, user: str) -> Message:
        with self.lock:
            message = self.get_message(channel, ts)
            users = message.reactions.setdefault(name, [])
            if user in users:
                raise SlackError("already_reacted")
            users.append(user)
            return message

    def remove_reaction(self, channel: str, ts: str, name: str, user: str) -> Message:
        with self.lock:
            message = self.get_message(channel, ts)
            users = message.reactions.get(name, [])
            if user not in users:
                raise SlackError("no_reaction")
            users.remove(user)
            if not users:
                del message.reactions[name]
            return message

    def add_bookmark(
        self, channel: str, *, title: str, link: str, user: str, emoji: str | None = None
    ) -> dict[str, Any]:
        with self.lock:
            ch = self.resolve_channel(channel)
            now = int(self.now())
            bookmark = {
                "id": self.new_id("Bk"),
                "channel_id": ch.id,
                "title": title,
                "link": link,
                "emoji": emoji,
                "icon_url": None,
                "type": "link",
                "entity_id": None,
                "date_created": now,
                "date_updated": 0,
                "rank": chr(ord("U") + len(ch.bookmarks) % 5),
                "last_updated_by_user_id": user,
                "last_updated_by_team_id": TEAM_ID,
                "shortcut_id": None,
                "app_id": APP_ID if user == BOT_USER_ID else None,
            }
            ch.bookmarks.append(bookmark)
            return bookmark

    # ------------------------------------------------------------------ ephemerals

    def add_ephemeral(
        self,
        channel: str,
        user: str,
        *,
        text: str = "",
        blocks: list[dict[str, Any]] | None = None,
        source: str,
        thread_ts: str | None = None,
        sender: str | None = BOT_USER_ID,
    ) -> Ephemeral:
        with self.lock:
            ch = self.resolve_channel(channel)
            ephemeral = Ephemeral(
                ts=self.next_ts(),
                channel=ch.id,
                user=self.resolve_user(user).id,
                text=text,
                blocks=list(blocks or []),
                source=source,
                thread_ts=thread_ts,
                sender=sender,
            )
            self.ephemeral_messages.append(ephemeral)
            return ephemeral

    def ephemerals(self, user: str, channel: str | None = None) -> list[Ephemeral]:
        """What only ``user`` (id or handle) was shown, oldest first; optionally in one channel."""
        with self.lock:
            uid = self.resolve_user(user).id
            cid = self.resolve_channel(channel).id if channel is not None else None
            return [
                e
                for e in self.ephemeral_messages
                if e.user == uid and not e.deleted and (cid is None or e.channel == cid)
            ]

    def ephemeral(self, ts: str) -> Ephemeral | None:
        with self.lock:
            for e in self.ephemeral_messages:
                if e.ts == ts:
                    return e
            return None

    # ------------------------------------------------------------------ files

    def create_file(
        self,
        *,
        name: str,
        length: int,
        user: str,
        filetype: str,
        mimetype: str,
        alt_txt: str | None = None,
        snippet_type: str | None = None,
    ) -> File:
        with self.lock:
            file = File(
                id=self.new_id("F"),
                name=name,
                title=name,
                filetype=filetype,
                mimetype=mimetype,
                user=user,
                created=int(self.now()),
                length=length,
                upload_key=secrets.token_urlsafe(24),
                alt_txt=alt_txt,
                snippet_type=snippet_type,
            )
            self.files_by_id[file.id] = file
            return file

    def file(self, file_id: str) -> File | None:
        with self.lock:
            return self.files_by_id.get(file_id)

    def file_by_upload_key(self, key: str) -> File | None:
        with self.lock:
            for file in self.files_by_id.values():
                if file.upload_key == key:
                    return file
            return None

    def file_content(self, file_id: str) -> bytes:
        """The bytes uploaded for ``file_id`` (KeyError if unknown or not uploaded)."""
        with self.lock:
            file = self.files_by_id.get(file_id)
            if file is None or file.content is None:
                raise KeyError(f"no uploaded content for file {file_id!r}")
            return file.content

    def files_in(self, channel: str) -> list[File]:
        """Files shared into a channel, in the order they were shared."""
        with self.lock:
            cid = self.resolve_channel(channel).id
            seen: list[File] = []
            for message in self.resolve_channel(cid).messages:
                if message.deleted:
                    continue
                for file_id in message.files:
                    file = self.files_by_id.get(file_id)
                    if file is not None and file not in seen:
                        seen.append(file)
            return seen

    # ------------------------------------------------------------------ triggers and views

    def issue_trigger(self, user: str) -> str:
        """A fresh ``trigger_id`` for ``user`` (what Slack puts in command/action payloads)."""
        with self.lock:
            now = self.now()
            n = self._counters.get("trigger", 0) + 1
            self._counters["trigger"] = n
            trigger_id = f"{int(now * 1000)}.{n}.{secrets.token_hex(16)}"
            self.triggers[trigger_id] = Trigger(trigger_id, self.resolve_user(user).id, now)
            return trigger_id

    def exchange_trigger(self, trigger_id: str | None) -> Trigger:
        """Use a trigger up, refusing as Slack does when unknown, used or too old."""
        with self.lock:
            trigger = self.triggers.get(trigger_id or "")
            if trigger is None:
                raise SlackError("invalid_trigger_id")
            if trigger.used:
                raise SlackError("exchanged_trigger_id")
            if self.now() - trigger.issued > self.trigger_ttl:
                raise SlackError("expired_trigger_id")
            trigger.used = True
            return trigger

    def view(self, view_id: str) -> ViewRecord | None:
        with self.lock:
            return self.views_by_id.get(view_id)

    def open_views(self, user: str) -> list[ViewRecord]:
        """The modal stack ``user`` sees now, bottom first (empty when no modal is open)."""
        with self.lock:
            uid = self.resolve_user(user).id
            return [self.views_by_id[v] for v in self.modal_stacks.get(uid, [])]

    def home_view(self, user: str) -> ViewRecord | None:
        with self.lock:
            view_id = self.home_views.get(self.resolve_user(user).id)
            return self.views_by_id.get(view_id) if view_id else None

    def close_view(self, view_id: str, *, clear: bool = False) -> None:
        """Remove a modal (or, with ``clear``, the user's whole stack) from the screen."""
        with self.lock:
            record = self.views_by_id.get(view_id)
            if record is None:
                return
            stack = self.modal_stacks.get(record.user, [])
            closing = list(stack) if clear else [view_id]
            for vid in closing:
                if vid in stack:
                    stack.remove(vid)
                if vid in self.views_by_id:
                    self.views_by_id[vid].closed = True

    # ------------------------------------------------------------------ response_url targets

    def add_response_target(
        self,
        *,
        user: str,
        channel: str,
        source: str,
        message_ts: str | None = None,
        is_ephemeral: bool = False,
        thread_ts: str | None = None,
    ) -> ResponseTarget:
        with self.lock:
            target = ResponseTarget(
                id=secrets.token_urlsafe(12),
                user=self.resolve_user(user).id,
                channel=self.resolve_channel(channel).id,
                source=source,
                created=self.now(),
                message_ts=message_ts,
                is_ephemeral=is_ephemeral,
                thread_ts=thread_ts,
            )
            self.response_targets[target.id] = target
            return target

    # ------------------------------------------------------------------ call log and faults

    def record_call(self, call: Call) -> None:
        with self.lock:
            self.call_log.append(call)

    def calls(self, method: str | None = None) -> list[Call]:
        """Requests answered so far (optionally one method's), oldest first."""
        with self.lock:
            return [c for c in self.call_log if method is None or c.method == method]

    def clear_calls(self) -> None:
        with self.lock:
            self.call_log.clear()

    def inject_fault(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int | None = None,
        retry_after: int | None = None,
        delay: float | None = None,
        reset: bool = False,
        times: int = 1,
    ) -> Fault:
        """Make the next ``times`` calls of ``method`` misbehave.

        ``error`` → HTTP 200 ``{"ok": false, "error": error}``; ``status`` → that HTTP status (429
        carries ``Retry-After``, default 1 s); ``delay`` → sleep that long first (then answer
        normally unless another option is set); ``reset`` → close the connection without any
        answer. ``method`` is a Web API method name, or ``"upload"`` (the upload URL) or
        ``"response_url"``. Faults queue up in the order they were injected.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        if status is not None and not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status")
        fault = Fault(method, error, status, retry_after, delay, reset, times)
        with self.lock:
            self.faults.setdefault(method, []).append(fault)
        return fault

    def take_fault(self, method: str) -> Fault | None:
        """The fault to apply to this call of ``method`` (consuming one use), if any."""
        with self.lock:
            queue = self.faults.get(method)
            if not queue:
                return None
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.pop(0)
            return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()
