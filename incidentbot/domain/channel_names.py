"""Incident channel names (``inc-42-db-failover``) that Slack accepts whatever the title holds."""

from __future__ import annotations

import re
import unicodedata

from incidentbot.domain.errors import IncidentError

__all__ = [
    "MAX_CHANNEL_NAME_LENGTH",
    "MAX_PREFIX_LENGTH",
    "VALID_CHANNEL_NAME",
    "channel_name",
    "slugify",
    "validate_prefix",
    "with_suffix",
]

# Slack's limit for conversations.create / conversations.rename.
MAX_CHANNEL_NAME_LENGTH = 80
# Leaves room for the number, the suffix and a readable slug within 80 characters.
MAX_PREFIX_LENGTH = 40
VALID_CHANNEL_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")

_PREFIX = re.compile(r"^[a-z0-9_]+(?:-[a-z0-9_]+)*$")
# Latin letters that NFKD does not split into base letter + combining mark.
_LATIN_EXTRAS = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "þ": "th",
        "Þ": "th",
        "ı": "i",
        "ħ": "h",
        "Ħ": "h",
    }
)
_NOT_ALLOWED = re.compile(r"[^a-z0-9_]+")
_HYPHEN_RUN = re.compile(r"[-_]*-[-_]*")


def validate_prefix(prefix: str) -> str:
    """Checks the configured prefix once, so every name built from it is one Slack accepts."""
    cleaned = prefix.strip().lower()
    if not cleaned:
        raise IncidentError("The channel prefix is empty. Use something like “inc”.")
    if len(cleaned) > MAX_PREFIX_LENGTH:
        raise IncidentError(
            f"The channel prefix “{prefix.strip()}” is too long: at most {MAX_PREFIX_LENGTH} "
            "characters leave room for the incident number and title."
        )
    if not _PREFIX.fullmatch(cleaned):
        raise IncidentError(
            f"The channel prefix “{prefix.strip()}” can't be used in Slack channel names: "
            "use only letters a-z, digits, “_” and single “-” between them (no spaces, "
            "no leading or trailing “-”), e.g. “inc” or “sec-inc”."
        )
    return cleaned


def slugify(title: str) -> str:
    """Turns a title into lowercase ASCII words joined by hyphens; may return an empty string."""
    decomposed = unicodedata.normalize("NFKD", title.translate(_LATIN_EXTRAS))
    ascii_ish = "".join(char for char in decomposed if not unicodedata.combining(char))
    slug = _NOT_ALLOWED.sub("-", ascii_ish.lower())
    return _HYPHEN_RUN.sub("-", slug).strip("-_")


def _cut(text: str, limit: int, *, keep: int = 0) -> str:
    """Shortens ``text`` to ``limit`` at a word boundary, never below its first ``keep`` chars."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    if text[limit] != "-":
        boundary = head.rfind("-")
        if boundary > keep:
            head = head[:boundary]
    return head.rstrip("-_") if len(head.rstrip("-_")) >= keep else head[:keep]


def channel_name(
    *, prefix: str, number: int, title: str, max_length: int = MAX_CHANNEL_NAME_LENGTH
) -> str:
    """Builds ``<prefix>-<number>-<slug>`` so every incident gets a valid, readable channel."""
    if number < 0:
        raise ValueError("incident numbers are not negative")
    base = f"{validate_prefix(prefix)}-{number}"
    if len(base) > max_length:
        raise IncidentError(
            f"The channel prefix “{prefix.strip()}” leaves no room for incident {number} "
            f"within {max_length} characters."
        )
    room = max_length - len(base) - 1  # after the dash
    slug = _cut(slugify(title), room) if room > 0 else ""
    return f"{base}-{slug}" if slug else base


def _protected_length(name: str) -> int:
    """Length of the ``<prefix>-<number>`` part of a name, which trimming must never touch."""
    match = re.match(r"^.*?-\d+(?=-|$)", name)
    return match.end() if match else 0


def with_suffix(name: str, attempt: int, *, max_length: int = MAX_CHANNEL_NAME_LENGTH) -> str:
    """The name to try on attempt N after ``name_taken``: 1 is ``name``, 2 adds ``-2``, …."""
    if attempt < 1:
        raise ValueError("attempts count from 1")
    if attempt == 1:
        return name
    suffix = f"-{attempt}"
    keep = _protected_length(name)
    if keep + len(suffix) > max_length:
        raise ValueError(f"{name!r} leaves no room for a suffix within {max_length} characters")
    return _cut(name, max_length - len(suffix), keep=keep) + suffix
