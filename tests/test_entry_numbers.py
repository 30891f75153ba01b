"""Timeline entries are numbered within their incident, once each, even when written at once."""

from __future__ import annotations

import threading

from sqlalchemy import select

from incidentbot import services
from incidentbot.domain.models import TimelineEntry

WRITERS = 4
NOTES_EACH = 15


def test_concurrent_notes_get_distinct_consecutive_numbers(uow_factory):  # type: ignore[no-untyped-def]
    with uow_factory() as uow:
        incident = services.declare_incident(uow=uow, title="Numbers", declared_by="UALICE")
        uow.commit()
        incident_id = incident.id
    start = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            start.wait()
            for n in range(NOTES_EACH):
                with uow_factory() as uow:
                    found = uow.session.get(type(incident), incident_id)
                    services.add_note(
                        uow=uow, incident=found, author_id="UBOB", text=f"{writer}-{n}"
                    )
                    uow.commit()
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with uow_factory() as uow:
        numbers = uow.session.scalars(
            select(TimelineEntry.number)
            .where(TimelineEntry.incident_id == incident_id)
            .order_by(TimelineEntry.number)
        ).all()
    assert numbers == list(range(1, WRITERS * NOTES_EACH + 2))  # the declaration is #1


def test_a_deleted_entrys_number_is_never_given_again(uow_factory):  # type: ignore[no-untyped-def]
    with uow_factory() as uow:
        incident = services.declare_incident(uow=uow, title="Numbers", declared_by="UALICE")
        note = services.add_note(uow=uow, incident=incident, author_id="UALICE", text="oops")
        uow.commit()
        assert note.number == 2
        services.delete_entry(uow=uow, incident=incident, number=2, deleted_by="UALICE")
        again = services.add_note(uow=uow, incident=incident, author_id="UALICE", text="next")
        uow.commit()
        assert again.number == 3
