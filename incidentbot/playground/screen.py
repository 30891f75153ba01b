"""What one person sees in the local workspace right now, as JSON for the playground page.

Only reads the ``Workspace``: people, the channels they may see (with the newest message of
each, to mark unread ones), the open channel's messages and files, their own ephemeral messages,
an open thread, the modal on top of their stack and their App Home tab. Message bodies and views
arrive rendered as safe HTML (``render.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from incidentbot.emulator import (
    BOT_NAME,
    BOT_USER_ID,
    Channel,
    Ephemeral,
    File,
    Message,
    User,
    Workspace,
)

from .render import Choices, Names, emoji, mrkdwn_to_html, plain_to_html, render_blocks

__all__ = ["Screen", "names_of", "visible_channels"]

#: System messages Slack shows as a grey line rather than as someone's message.
_SYSTEM_LINES = {
    "channel_join",
    "channel_leave",
    "channel_topic",
    "channel_purpose",
    "channel_name",
    "channel_archive",
    "channel_unarchive",
}


def names_of(ws: Workspace) -> Names:
    return Names(
        users={u.id: u.name for u in ws.users()},
        channels={c.id: c.name for c in ws.channels() if not c.is_im},
    )


def can_see(channel: Channel, user_id: str) -> bool:
    """Public channels are visible to all; private ones and DMs to their members."""
    return not channel.is_private or user_id in channel.members


def visible_channels(ws: Workspace, user_id: str) -> list[Channel]:
    return [c for c in ws.channels() if can_see(c, user_id)]


def people(ws: Workspace) -> list[User]:
    return [u for u in ws.users() if not u.is_bot and not u.deleted]


@dataclass
class Screen:
    """The page's state for ``user`` with ``channel`` (and maybe a thread) open."""

    ws: Workspace
    user: User
    channel_id: str | None = None
    thread_ts: str | None = None
    home: bool = False
    shortcuts: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        ws = self.ws
        with ws.lock:
            names = names_of(ws)
            channel = ws.channel(self.channel_id) if self.channel_id else None
            if channel is not None and not can_see(channel, self.user.id):
                channel = None
            choices = Choices(
                users=[(u.id, f"{u.name} ({u.real_name})") for u in people(ws)],
                conversations=[
                    (c.id, f"#{c.name}")
                    for c in visible_channels(ws, self.user.id)
                    if not c.is_im and not c.is_archived
                ],
            )
            data: dict[str, Any] = {
                "me": self._person(self.user),
                "users": [self._person(u) for u in people(ws)],
                "channels": [self._channel_entry(c) for c in self._sidebar()],
                "shortcuts": list(self.shortcuts),
                "channel": None,
                "messages": [],
                "thread": None,
                "modal": self._modal(names, choices),
                "home": self._home(names, choices) if self.home else None,
            }
            if channel is not None:
                data["channel"] = self._channel_detail(channel, names)
                data["messages"] = self._messages(channel, names, choices)
                if self.thread_ts:
                    data["thread"] = self._thread(channel, names, choices)
            return data

    # ------------------------------------------------------------------ people and channels

    def _person(self, user: User) -> dict[str, Any]:
        now = datetime.now(UTC).astimezone(ZoneInfo(user.tz))
        return {
            "id": user.id,
            "name": user.name,
            "real_name": user.real_name,
            "tz": user.tz,
            "tz_label": user.tz_label,
            "local_time": now.strftime("%H:%M"),
        }

    def _sidebar(self) -> list[Channel]:
        mine = [
            c
            for c in visible_channels(self.ws, self.user.id)
            if not c.is_im or c.im_user == self.user.id
        ]
        return sorted(mine, key=lambda c: (c.is_im, c.is_archived, c.name))

    def _latest(self, channel: Channel) -> str:
        shown = [m.ts for m in channel.messages if not m.deleted and m.is_top_level]
        return shown[-1] if shown else ""

    def _channel_entry(self, channel: Channel) -> dict[str, Any]:
        return {
            "id": channel.id,
            "name": BOT_NAME if channel.is_im else channel.name,
            "kind": "dm" if channel.is_im else ("private" if channel.is_private else "public"),
            "member": self.user.id in channel.members,
            "archived": channel.is_archived,
            "latest": self._latest(channel),
        }

    def _channel_detail(self, channel: Channel, names: Names) -> dict[str, Any]:
        return {
            **self._channel_entry(channel),
            "topic": str(mrkdwn_to_html(channel.topic.get("value") or "", names)),
            "purpose": channel.purpose.get("value") or "",
            "member_count": len([m for m in channel.members if m != BOT_USER_ID]),
            "members": sorted(names.users.get(m, m) for m in channel.members),
            "bookmarks": [
                {"title": emoji(str(b.get("title") or "")), "link": str(b.get("link") or "")}
                for b in channel.bookmarks
            ],
            "pins": len(channel.pins),
        }

    # ------------------------------------------------------------------ messages

    def _time(self, ts: str) -> dict[str, str]:
        moment = datetime.fromtimestamp(float(ts), tz=UTC).astimezone(ZoneInfo(self.user.tz))
        return {"time": moment.strftime("%H:%M"), "when": moment.strftime("%Y-%m-%d %H:%M %Z")}

    def _author(self, user_id: str) -> dict[str, Any]:
        user = self.ws.user(user_id)
        if user is None:
            return {"author": user_id, "author_name": user_id, "is_bot": False}
        return {
            "author": user.id,
            "author_name": user.real_name if not user.is_bot else user.name,
            "is_bot": user.is_bot,
        }

    def _body(self, message: Message | Ephemeral, names: Names, choices: Choices) -> str:
        blocks = [b for b in message.blocks if isinstance(b, dict)]
        # What people type arrives as rich_text with the same words as ``text``; the text keeps
        # their formatting markers, so it is what is shown. The bot's blocks are the message.
        if blocks and not all(b.get("type") == "rich_text" for b in blocks):
            return str(render_blocks(blocks, names, choices))
        return str(mrkdwn_to_html(message.text, names))

    def _message(
        self, channel: Channel, message: Message, names: Names, choices: Choices
    ) -> dict[str, Any]:
        pinned_by = channel.pin_info.get(message.ts, (None, 0))[0]
        system = message.subtype in _SYSTEM_LINES
        html = self._body(message, names, choices)
        if system and not message.text.startswith("<@"):
            # "set the channel topic: …" reads as Slack shows it: who did it first.
            html = f"{mrkdwn_to_html(f'<@{message.user}>', names)} {html}"
        return {
            "ts": message.ts,
            "kind": "system" if system else "message",
            **self._author(message.user),
            **self._time(message.ts),
            "html": html,
            "pinned": message.ts in channel.pins,
            "pinned_by": names.users.get(pinned_by or "", "") if pinned_by else "",
            "reactions": [
                {
                    "name": name,
                    "emoji": emoji(f":{name}:"),
                    "count": len(users),
                    "mine": self.user.id in users,
                    "who": [names.users.get(u, u) for u in users],
                }
                for name, users in message.reactions.items()
                if users
            ],
            "files": [self._file(f) for f in self._files(message)],
            "reply_count": len([r for r in message.replies if channel.message(r) is not None]),
            "edited": message.edited is not None,
            "mine": message.user == self.user.id,
            "ephemeral": False,
            "attachments": [
                str(mrkdwn_to_html(str(a.get("text") or a.get("fallback") or ""), names))
                for a in message.attachments
                if isinstance(a, dict)
            ],
        }

    def _files(self, message: Message) -> list[File]:
        return [f for f in (self.ws.file(i) for i in message.files) if f is not None]

    def _file(self, file: File) -> dict[str, Any]:
        return {
            "id": file.id,
            "name": file.name,
            "title": file.title,
            "filetype": file.filetype,
            "size": file.length,
            "ready": file.content is not None,
        }

    def _ephemeral(self, ephemeral: Ephemeral, names: Names, choices: Choices) -> dict[str, Any]:
        return {
            "ts": ephemeral.ts,
            "kind": "message",
            **self._author(ephemeral.sender or BOT_USER_ID),
            **self._time(ephemeral.ts),
            "html": self._body(ephemeral, names, choices),
            "pinned": False,
            "pinned_by": "",
            "reactions": [],
            "files": [],
            "reply_count": 0,
            "edited": ephemeral.replaced > 0,
            "mine": False,
            "ephemeral": True,
            "attachments": [],
        }

    def _messages(self, channel: Channel, names: Names, choices: Choices) -> list[dict[str, Any]]:
        shown = [
            self._message(channel, m, names, choices)
            for m in channel.messages
            if not m.deleted and m.is_top_level
        ]
        shown += [
            self._ephemeral(e, names, choices)
            for e in self.ws.ephemerals(self.user.id, channel.id)
            if e.thread_ts is None
        ]
        return sorted(shown, key=lambda m: _ts_key(m["ts"]))

    def _thread(self, channel: Channel, names: Names, choices: Choices) -> dict[str, Any] | None:
        parent = channel.message(self.thread_ts or "")
        if parent is None:
            return None
        replies = [
            self._message(channel, m, names, choices)
            for m in self.ws.replies(channel.id, parent.ts)
        ]
        replies += [
            self._ephemeral(e, names, choices)
            for e in self.ws.ephemerals(self.user.id, channel.id)
            if e.thread_ts == parent.ts
        ]
        return {
            "ts": parent.ts,
            "parent": self._message(channel, parent, names, choices),
            "replies": sorted(replies, key=lambda m: _ts_key(m["ts"])),
        }

    # ------------------------------------------------------------------ views

    def _modal(self, names: Names, choices: Choices) -> dict[str, Any] | None:
        stack = self.ws.open_views(self.user.id)
        if not stack:
            return None
        record = stack[-1]
        view = record.view
        return {
            "id": record.id,
            "hash": view.get("hash"),
            "depth": len(stack),
            "title": str(plain_to_html((view.get("title") or {}).get("text") or "")),
            "submit": (view.get("submit") or {}).get("text"),
            "close": (view.get("close") or {}).get("text") or "Cancel",
            "errors": dict(record.errors or {}),
            "html": str(
                render_blocks(view.get("blocks") or [], names, choices, errors=record.errors)
            ),
        }

    def _home(self, names: Names, choices: Choices) -> dict[str, Any] | None:
        record = self.ws.home_view(self.user.id)
        if record is None:
            return None
        return {
            "id": record.id,
            "hash": record.view.get("hash"),
            "html": str(render_blocks(record.view.get("blocks") or [], names, choices)),
        }


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return int(seconds), int(micros or 0)
