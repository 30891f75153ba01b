"""Signed, expiring links to the web pages.

A link carries ``?token=<subject>.<expires>.<signature>``. The subject is a Slack user ID for a
link given to one person (``/incident link`` replies privately), or ``inc-<number>`` for a link
posted in an incident's channel (everyone there sees the same message, so it is bound to the
incident, not to a person). The web side checks the token and keeps it in an HttpOnly cookie,
so the pages behind it open without a token in every URL. An operator may also set a shared
read token (``INCIDENTBOT_WEB_TOKEN``) that shows public incidents.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from dataclasses import dataclass

COOKIE = "incidentbot_session"
DEFAULT_LIFETIME = 24 * 3600
_SUBJECT = re.compile(r"[UW][A-Z0-9]{2,}|inc-[0-9]+")


def _key(secret: str) -> bytes:
    # A key of its own, so a page token can never double as a Slack signature.
    return hashlib.sha256(b"incidentbot-web:" + secret.encode()).digest()


def _sign(secret: str, message: str) -> str:
    digest = hmac.new(_key(secret), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue_token(*, secret: str, user_id: str, lifetime: int = DEFAULT_LIFETIME) -> str:
    """A token for one person that expires after ``lifetime`` seconds."""
    return _issue(secret, user_id, lifetime)


def issue_incident_token(*, secret: str, number: int, lifetime: int = DEFAULT_LIFETIME) -> str:
    """A token for one incident's pages, for links posted in its channel."""
    return _issue(secret, f"inc-{number}", lifetime)


def _issue(secret: str, subject: str, lifetime: int) -> str:
    expires = int(time.time()) + lifetime
    return f"{subject}.{expires}.{_sign(secret, f'{subject}.{expires}')}"


@dataclass(frozen=True)
class Viewer:
    """Who is looking: a person, anyone holding one incident's link, or the shared token."""

    user_id: str | None = None
    incident_number: int | None = None

    @property
    def is_person(self) -> bool:
        return self.user_id is not None

    def may_view(self, *, number: int, private: bool, member: bool) -> bool:
        if self.incident_number is not None:
            return number == self.incident_number
        if self.user_id is not None:
            return not private or member
        return not private


def check_token(token: str, *, secret: str, shared_token: str | None = None) -> Viewer | None:
    """The viewer a token stands for, or None if it is forged, malformed or expired."""
    if shared_token and hmac.compare_digest(token.encode(), shared_token.encode()):
        return Viewer()
    parts = token.split(".")
    if len(parts) != 3 or not _SUBJECT.fullmatch(parts[0]):
        return None
    subject, expires, signature = parts
    if not hmac.compare_digest(signature.encode(), _sign(secret, f"{subject}.{expires}").encode()):
        return None
    if not expires.isdigit() or int(expires) < time.time():
        return None
    if subject.startswith("inc-"):
        return Viewer(incident_number=int(subject[4:]))
    return Viewer(user_id=subject)
