"""The database layer under concurrency: SQLite writers take turns, readers never wait."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from incidentbot import services
from incidentbot.domain.models import TimelineEntry


def test_many_threads_writing_at_once_all_commit(uow_factory):
    with uow_factory() as uow:
        incident = services.declare_incident(uow=uow, title="Busy", declared_by="U1")
        uow.commit()

    def note(i: int) -> None:
        with uow_factory() as uow:
            current = services.get_incident(uow=uow, number=incident.number)
            services.add_note(uow=uow, incident=current, author_id="U1", text=f"step {i}")
            uow.commit()

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(note, range(200)))
    with uow_factory(read_only=True) as uow:
        count = uow.session.scalar(select(func.count()).where(TimelineEntry.text.like("step %")))
    assert count == 200


def test_a_reader_does_not_wait_for_a_writer_in_progress(uow_factory):
    with uow_factory() as uow:
        services.declare_incident(uow=uow, title="Busy", declared_by="U1")
        uow.commit()
    writing = threading.Event()
    read_done = threading.Event()

    def writer() -> None:
        with uow_factory() as uow:
            incident = services.get_incident(uow=uow, number=1)
            services.add_note(uow=uow, incident=incident, author_id="U1", text="held open")
            writing.set()
            # The write transaction stays open until the reader has finished.
            read_done.wait(30)
            uow.commit()

    titles: list[str] = []

    def reader() -> None:
        with uow_factory(read_only=True) as uow:
            # What was committed before the writer began, read without waiting for it.
            titles.append(services.get_incident(uow=uow, number=1).title)

    writing_thread = threading.Thread(target=writer)
    writing_thread.start()
    try:
        assert writing.wait(30)
        reading_thread = threading.Thread(target=reader)
        reading_thread.start()
        reading_thread.join(20)
        # Still inside the writer's transaction: a reader that waited would still be waiting.
        assert not reading_thread.is_alive(), "the reader waited for the writer"
        assert titles == ["Busy"]
    finally:
        read_done.set()
        writing_thread.join(30)
    with uow_factory(read_only=True) as uow:
        assert (
            uow.session.scalar(select(func.count()).where(TimelineEntry.text == "held open")) == 1
        )


def test_a_read_only_unit_of_work_refuses_to_commit(uow_factory):
    with uow_factory(read_only=True) as uow, pytest.raises(RuntimeError, match="read-only"):
        uow.commit()
