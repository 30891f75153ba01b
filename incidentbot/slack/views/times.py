"""A form's time field: the whole field is one moment, in the grammar of ``note at``."""

from __future__ import annotations

from datetime import datetime

from incidentbot.domain.text import clip
from incidentbot.domain.timeparse import Moment, TimeParseError, read_moment


def read_time(text: str, *, now: datetime, zone: str) -> Moment:
    """The moment ``text`` names (in ``zone`` unless it names one); anything after the time is
    refused rather than ignored, since the field holds nothing else."""
    moment = read_moment(text, now=now, default_zone=zone)
    if moment.rest.strip():
        raise TimeParseError(
            f"I read the time but not “{clip(moment.rest.strip(), 40)}”. Give only a time, such "
            "as 14:05, yesterday 23:10 or 2026-11-27 14:05 UTC."
        )
    return moment
