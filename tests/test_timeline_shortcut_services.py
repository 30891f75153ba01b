"""The core behind the "Add to incident timeline" shortcut and the archive after close, against a
real database and no Slack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from incidentbot import services
from incidentbot.domain.errors import IncidentError
from incidentbot.domain.models import EntryKind, Job, TimelineEntry
from incidentbot.domain.policy import Action, Policy
from incidentbot.infra import jobs
from incidentbot.services.incidents import get_incident

TS = "1795788000.000100"  # 2026-11-27 14:00:00.0001 UTC


def declare(uow_factory) -> int:
    with uow_factory() as uow:
        incident = services.declare_incident(uow=uow, title="Search is slow", declared_by="UALICE")
        incident.channel_id = "C0001"
        uow.commit()
        return incident.number


def add(uow_factory, number: int, *, by: str, note: str | None, policy: Policy | None = None):
    with uow_factory() as uow:
        incident = get_incident(uow=uow, number=number)
        entry, new = services.add_message_to_timeline(
            uow=uow,
            incident=incident,
            channel_id="C0001",
            ts=TS,
            message_author_id="UBOB",
            text="p99 is 9 s",
            added_by=by,
            note=note,
            **({"policy": policy} if policy else {}),
        )
        uow.commit()
        return new


def captured(uow_factory) -> list[TimelineEntry]:
    with uow_factory() as uow:
        return list(
            uow.session.scalars(select(TimelineEntry).where(TimelineEntry.kind == EntryKind.PINNED))
        )


def test_a_message_is_added_once_at_its_own_time_and_every_note_is_kept(uow_factory):
    number = declare(uow_factory)
    assert add(uow_factory, number, by="UDANA", note="  first sign  ") is True
    assert add(uow_factory, number, by="UERIK", note="") is False
    assert add(uow_factory, number, by="UERIK", note="same as the 13:58 alert") is False
    (entry,) = captured(uow_factory)
    assert entry.occurred_at == datetime(2026, 11, 27, 14, 0, 0, 100, tzinfo=UTC)
    assert (entry.author_id, entry.source_author_id, entry.text) == ("UDANA", "UBOB", "p99 is 9 s")
    assert entry.also_marked_by == ["UERIK"]
    assert entry.details == {
        "notes": [
            {"by": "UDANA", "text": "first sign"},
            {"by": "UERIK", "text": "same as the 13:58 alert"},
        ]
    }


def test_adding_follows_the_notes_restriction_and_changes_nothing_when_refused(uow_factory):
    number = declare(uow_factory)
    only_roles = Policy(restricted=frozenset({Action.NOTES}))
    with pytest.raises(IncidentError, match="role holders"):
        add(uow_factory, number, by="UERIK", note="x", policy=only_roles)
    assert captured(uow_factory) == []
    assert add(uow_factory, number, by="UALICE", note=None, policy=only_roles) is True


def test_an_overlong_note_is_refused(uow_factory):
    number = declare(uow_factory)
    with pytest.raises(IncidentError, match="4,000"):
        add(uow_factory, number, by="UDANA", note="x" * 5000)
    assert captured(uow_factory) == []


def test_close_queues_the_archive_outside_the_incidents_queue(uow_factory, clock):
    number = declare(uow_factory)
    with uow_factory() as uow:
        incident = get_incident(uow=uow, number=number)
        services.close(
            uow=uow, incident=incident, closed_by="UALICE", archive_after=timedelta(days=7)
        )
        uow.commit()
    with uow_factory() as uow:
        (archive,) = uow.session.scalars(select(Job).where(Job.kind == jobs.ARCHIVE_CHANNEL))
        assert archive.incident_id is None
        assert archive.payload == {"incident_id": incident.id, "reopened_count": 0}
        assert archive.run_after == clock.now + timedelta(days=7)


def test_close_without_the_setting_queues_no_archive(uow_factory):
    number = declare(uow_factory)
    with uow_factory() as uow:
        services.close(uow=uow, incident=get_incident(uow=uow, number=number), closed_by="UALICE")
        uow.commit()
    with uow_factory() as uow:
        kinds = list(uow.session.scalars(select(Job.kind)))
        assert jobs.ARCHIVE_CHANNEL not in kinds
