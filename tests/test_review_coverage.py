"""Which passages people wrote the blameless review reads (issue 15, item 3)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from incidentbot.models import EntryKind
from incidentbot.services.postmortems import passages_to_review

AT = datetime(2026, 1, 5, 10, 2, tzinfo=UTC)


def entry(kind: EntryKind, text: str, author: str | None = "U1") -> SimpleNamespace:
    return SimpleNamespace(kind=str(kind), text=text, author_id=author, occurred_at=AT)


def test_passages_cover_captured_messages_and_action_items_not_alerts() -> None:
    incident = SimpleNamespace(
        summary="The cache filled.",
        impact="Checkout slow.",
        timeline=[
            entry(EntryKind.NOTE, "Looking at the cache."),
            entry(EntryKind.PINNED, "Bob carelessly pushed the config.", author="U2"),
            entry(EntryKind.ALERT, "FIRING: HighLatency", author=None),
        ],
        action_items=[SimpleNamespace(text="Stop the careless deploy practice.")],
    )
    passages = passages_to_review(incident, names={"U1": "Alice", "U2": "Bob"}, zone="UTC")
    by_where = {passage.where: passage.text for passage in passages}
    assert by_where["captured message from Bob"] == "Bob carelessly pushed the config."
    assert by_where["action item 1"] == "Stop the careless deploy practice."
    assert not any("FIRING" in passage.text for passage in passages)


def test_a_workspace_person_outside_the_incident_counts_as_a_person(uow_factory) -> None:  # type: ignore[no-untyped-def]
    from incidentbot import blameless
    from incidentbot.blameless import Passage
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
