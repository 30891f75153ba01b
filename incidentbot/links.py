"""Signed, expiring links to the web pages, bound to the Slack user they were given to.

A link carries ``?token=<user>.<expires>.<signature>``; the web side checks it, and keeps it in
an HttpOnly cookie so the pages behind it open without a token in every URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

COOKIE = "incidentbot_session"
DEFAULT_LIFETIME = 24 * 3600


def _key(secret: str) -> bytes:
    # A key of its own, so a page token can never double as a Slack signature.
    return hashlib.sha256(b"incidentbot-web:" + secret.encode()).digest()


def _sign(secret: str, message: str) -> str:
    digest = hmac.new(_key(secret), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue_token(*, secret: str, user_id: str, lifetime: int = DEFAULT_LIFETIME) -> str:
    """A token for ``user_id`` that expires after ``lifetime`` seconds."""
    expires = int(time.time()) + lifetime
    return f"{user_id}.{expires}.{_sign(secret, f'{user_id}.{expires}')}"


@dataclass(frozen=True)
class Viewer:
    user_id: str | None
    """None for a holder of the shared read token."""


def check_token(token: str, *, secret: str, shared_token: str | None = None) -> Viewer | None:
    if shared_token and hmac.compare_digest(token.encode(), shared_token.encode()):
        return Viewer(user_id=None)
    parts = token.split(".")
    if len(parts) != 3:
        return None
    user_id, expires, signature = parts
    if not hmac.compare_digest(signature.encode(), _sign(secret, f"{user_id}.{expires}").encode()):
        return None
    try:
        if int(expires) < time.time():
            return None
    except ValueError:
        return None
    return Viewer(user_id=user_id)
