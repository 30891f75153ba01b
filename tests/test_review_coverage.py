"""Which passages people wrote the blameless review reads (issue 15, item 3).

Everything people type that lands in the record and the postmortem is read, labelled with where
it came from: the title, summary, impact, notes, updates, captured messages and the notes they
were added with, what was typed with a status change (a resolution) or a milestone, and action
items. What the bot writes around those words, and alerts, are not read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from sqlalchemy import select

from incidentbot import services
from incidentbot.domain import blameless
from incidentbot.domain.blameless import Passage
from incidentbot.domain.models import AlertGroup, EntryKind, Incident, Status
from incidentbot.services.incidents import get_incident
from incidentbot.services.postmortems import declared_by_alert, passages_to_review
from incidentbot.services.timeline import record

AT = datetime(2026, 1, 5, 10, 2, tzinfo=UTC)
NAMES = {"UALICE": "Alice", "UBOB": "Bob", "UDANA": "Dana"}


def entry(kind: EntryKind, text: str, author: str | None = "U1", **fields) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    values = {"source_author_id": None, "details": None, **fields}
    return SimpleNamespace(kind=str(kind), text=text, author_id=author, occurred_at=AT, **values)


def test_passages_cover_captured_messages_and_action_items_not_alerts() -> None:
    incident = SimpleNamespace(
        title="Cache full",
        summary="The cache filled.",
        impact="Checkout slow.",
        timeline=[
            entry(EntryKind.NOTE, "Looking at the cache."),
            entry(EntryKind.PINNED, "Bob carelessly pushed the config.", source_author_id="U2"),
            entry(EntryKind.ALERT, "FIRING: HighLatency", author=None),
        ],
        action_items=[SimpleNamespace(text="Stop the careless deploy practice.")],
    )
    passages = passages_to_review(incident, names={"U1": "Alice", "U2": "Bob"}, zone="UTC")
    by_where = {passage.where: passage.text for passage in passages}
    # The message's author, not whoever pinned it, as the postmortem's timeline shows it.
    assert by_where["captured message from Bob"] == "Bob carelessly pushed the config."
    assert by_where["action item 1"] == "Stop the careless deploy practice."
    assert by_where["the title"] == "Cache full"
    assert not any("FIRING" in passage.text for passage in passages)


def test_a_workspace_person_outside_the_incident_counts_as_a_person(uow_factory) -> None:  # type: ignore[no-untyped-def]
    from incidentbot.services.people import remember_person, workspace_names_in

    text = "Ines dropped the ball on the migration."
    with uow_factory() as uow:
        remember_person(uow=uow, user_id="U9", display_name="Ines", real_name=None, timezone="UTC")
        remember_person(uow=uow, user_id="U8", display_name="Zed", real_name=None, timezone="UTC")
        uow.commit()
    with uow_factory() as uow:
        names = workspace_names_in(uow=uow, texts=[text])
    assert names == ["Ines"]
    rules = blameless.load_rules()
    assert blameless.review([Passage(where="note", text=text)], rules=rules, names=names)


# --- against the database: what the services store is what the review reads -------------------


def declare(uow_factory) -> int:  # type: ignore[no-untyped-def]
    with uow_factory() as uow:
        incident = services.declare_incident(
            uow=uow, title="Checkout API returning 500s", declared_by="UALICE"
        )
        incident.channel_id = "C0001"
        uow.commit()
        return incident.number


def reviewed(uow_factory, number: int, **kwargs) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Where → text of every passage the postmortem of incident ``number`` would review."""
    with uow_factory() as uow:
        incident = get_incident(uow=uow, number=number)
        timeline = services.read_timeline(uow=uow, incident=incident)
        passages = passages_to_review(
            incident, names=NAMES, zone="UTC", timeline=timeline, **kwargs
        )
    by_where = {passage.where: passage.text for passage in passages}
    assert len(by_where) == len(passages), [p.where for p in passages]
    return by_where


def test_what_was_typed_with_a_resolution_or_a_status_change_is_reviewed_as_typed(
    uow_factory, clock
) -> None:  # type: ignore[no-untyped-def]
    number = declare(uow_factory)
    with uow_factory() as uow:
        incident = get_incident(uow=uow, number=number)
        clock.advance(minutes=5)
        services.change_status(
            uow=uow,
            incident=incident,
            status=Status.IDENTIFIED,
            changed_by="UBOB",
            text="  config push: Bob's typo  ",
        )
        clock.advance(minutes=5)
        services.change_status(
            uow=uow, incident=incident, status=Status.MONITORING, changed_by="UBOB"
        )
        clock.advance(minutes=5)
        services.resolve(
            uow=uow,
            incident=incident,
            resolved_by="UALICE",
            text="Bob should have rolled back sooner",
        )
        uow.commit()
    with uow_factory() as uow:
        incident = get_incident(uow=uow, number=number)
        services.close(uow=uow, incident=incident, closed_by="UALICE")
        uow.commit()
    by_where = reviewed(uow_factory, number)
    # Exactly what was typed, ": " and all; nothing of the bot's sentence around it.
    assert by_where["status change to identified by Bob at 2026-11-27 14:05 UTC"] == (
        "config push: Bob's typo"
    )
    assert by_where["resolution by Alice at 2026-11-27 14:15 UTC"] == (
        "Bob should have rolled back sooner"
    )
    # A change typed without words, the close and the declaration add nothing to read.
    assert not [where for where in by_where if "monitoring" in where or "clos" in where]
    assert not any(text.startswith(("Status changed", "Incident")) for text in by_where.values())
    flags = blameless.review(
        [Passage(where=w, text=t) for w, t in by_where.items()],
        rules=blameless.load_rules(),
        names=sorted(NAMES.values()),
    )
    assert [flag.where for flag in flags if flag.rule_id == "should-have"] == [
        "resolution by Alice at 2026-11-27 14:15 UTC"
    ]


def test_entries_recorded_before_the_typed_text_was_kept_apart_are_read_off_their_sentence(
    uow_factory,
) -> None:  # type: ignore[no-untyped-def]
    """Older databases: the sentence is parsed, exactly, and only where a person typed."""
    number = declare(uow_factory)
    old_entries = [
        (EntryKind.STATUS, "Status changed from investigating to resolved: Fixed: a typo", "to"),
        (EntryKind.STATUS, "Status changed from investigating to identified", "none"),
        (EntryKind.STATUS, "Incident closed (was resolved)", "none"),
        (EntryKind.MITIGATED, "Mitigated: the impact ended", "none"),
        (EntryKind.MITIGATED, "Mitigated: the impact ended: Bob rolled back", "typed"),
        (EntryKind.DETECTED, "Detected: paged by the 5xx alert", "typed"),
        (EntryKind.IMPACT_START, "Impact started: the alert started firing (generic)", "bot"),
    ]
    with uow_factory() as uow:
        incident = get_incident(uow=uow, number=number)
        for kind, text, _ in old_entries:
            # As they were stored: without details["text"].
            details = {"from": "investigating", "to": "resolved"} if kind == "status change" else {}
            record(
                uow=uow, incident=incident, kind=kind, author_id="UDANA", text=text, details=details
            )
        uow.commit()
    by_where = reviewed(uow_factory, number)
    at = "by Dana at 2026-11-27 14:00 UTC"
    typed = {where: text for where, text in by_where.items() if where.endswith(at)}
    assert typed == {
        f"resolution {at}": "Fixed: a typo",
        f"mitigation {at}": "Bob rolled back",
        f"detection {at}": "paged by the 5xx alert",
    }


def test_a_milestone_comment_is_reviewed_as_it_stands_now_and_an_alert_comment_is_not(
    uow_factory, clock
) -> None:  # type: ignore[no-untyped-def]
    number = declare(uow_factory)
    clock.advance(minutes=30)
    with uow_factory() as uow:
        incident = get_incident(uow=uow, number=number)
        services.set_milestone_at(
            uow=uow,
            incident=incident,
            kind=EntryKind.MITIGATED,
            moment_text="14:20 Bob carelessly pushed the fix",
            set_by="UBOB",
            author_zone="UTC",
        )
        uow.commit()
    assert reviewed(uow_factory, number)["mitigation by Bob at 2026-11-27 14:20 UTC"] == (
        "Bob carelessly pushed the fix"
    )
    with uow_factory() as uow:
        incident = get_incident(uow=uow, number=number)
        # Set again with other words: the review reads the current ones.
        services.set_milestone_at(
            uow=uow,
            incident=incident,
            kind=EntryKind.MITIGATED,
            moment_text="14:20 Rolled back by hand",
            set_by="UBOB",
            author_zone="UTC",
        )
        # The bot's own comment, as an alert's start has it.
        services.set_milestone(
            uow=uow,
            incident=incident,
            kind=EntryKind.IMPACT_START,
            moment=clock.now.replace(hour=13),
            set_by="UBOT",
            comment="the alert started firing (alertmanager)",
            policy=None,
        )
        uow.commit()
    by_where = reviewed(uow_factory, number)
    assert by_where["mitigation by Bob at 2026-11-27 14:20 UTC"] == "Rolled back by hand"
    assert "carelessly" not in " ".join(by_where.values())
    assert not [where for where in by_where if where.startswith("impact start")]


def test_captured_messages_are_read_as_they_read_now_with_the_notes_they_were_added_with(
    uow_factory, clock
) -> None:  # type: ignore[no-untyped-def]
    number = declare(uow_factory)
    ts = f"{clock.now.timestamp() + 60:.6f}"
    with uow_factory() as uow:
        incident = get_incident(uow=uow, number=number)
        services.add_message_to_timeline(
            uow=uow,
            incident=incident,
            channel_id="C0001",
            ts=ts,
            message_author_id="UBOB",
            text="the root cause was a config push",
            added_by="UDANA",
            note="Bob obviously skipped the canary",
        )
        services.add_note(uow=uow, incident=incident, author_id="UALICE", text="Clean note")
        services.add_note(uow=uow, incident=incident, author_id="UALICE", text="Bob blundered")
        uow.commit()
    with uow_factory() as uow:
        incident = get_incident(uow=uow, number=number)
        # Edited in Slack, a note corrected, one deleted: the review reads the record as it is.
        services.follow_slack_edit(
            uow=uow,
            channel_id="C0001",
            ts=ts,
            text="the root cause was human error",
            edited_by="UBOB",
        )
        services.edit_entry_text(
            uow=uow, incident=incident, number=3, text="Clean note, corrected", edited_by="UALICE"
        )
        services.delete_entry(uow=uow, incident=incident, number=4, deleted_by="UALICE")
        uow.commit()
    by_where = reviewed(uow_factory, number)
    assert by_where["captured message from Bob"] == "the root cause was human error"
    assert by_where["note by Dana on the captured message from Bob"] == (
        "Bob obviously skipped the canary"
    )
    notes = [text for where, text in by_where.items() if where.startswith("note by Alice")]
    assert notes == ["Clean note, corrected"]


def test_an_alerts_title_and_summary_are_not_reviewed_until_a_person_writes_one(
    uow_factory,
) -> None:  # type: ignore[no-untyped-def]
    number = declare(uow_factory)
    with uow_factory() as uow:
        incident = uow.session.scalar(select(Incident).where(Incident.number == number))
        assert not declared_by_alert(uow=uow, incident=incident)
        incident.summary = "FIRING: obviously broken"
        uow.session.add(
            AlertGroup(
                source="generic",
                group_key="g",
                open_key="k",
                incident_id=incident.id,
                created_at=incident.declared_at,
            )
        )
        uow.commit()
    with uow_factory() as uow:
        incident = get_incident(uow=uow, number=number)
        assert declared_by_alert(uow=uow, incident=incident)
    assert "the title" in reviewed(uow_factory, number)
    alerts = reviewed(uow_factory, number, declared_by_alert=True)
    assert "the title" not in alerts and "the summary" not in alerts
    with uow_factory() as uow:
        incident = get_incident(uow=uow, number=number)
        services.set_summary(
            uow=uow, incident=incident, author_id="UALICE", text="Bob broke checkout"
        )
        uow.commit()
    assert reviewed(uow_factory, number, declared_by_alert=True)["the summary"] == (
        "Bob broke checkout"
    )
