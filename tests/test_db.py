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


# --- SQLite: a transaction takes the write lock at its first write, not its first read ---------


@pytest.fixture
def sqlite_engine(tmp_path):
    from sqlalchemy import text

    from incidentbot.infra import db

    engine = db.make_engine(f"sqlite:///{tmp_path / 'locks.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE rows (id INTEGER PRIMARY KEY, what TEXT NOT NULL)"))
        conn.execute(text("INSERT INTO rows (what) VALUES ('before')"))
    yield engine
    engine.dispose()


def _rows(engine) -> list[str]:
    from sqlalchemy import text

    with engine.connect() as conn:
        return list(conn.scalars(text("SELECT what FROM rows ORDER BY id")))


def _write_in_thread(engine, what: str) -> threading.Thread:
    from sqlalchemy import text

    def write() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO rows (what) VALUES (:what)"), {"what": what})

    thread = threading.Thread(target=write)
    thread.start()
    return thread


def test_a_transaction_that_has_only_read_does_not_hold_up_writers(sqlite_engine):
    from sqlalchemy import text

    with sqlite_engine.begin() as conn:
        assert conn.scalar(text("SELECT count(*) FROM rows")) == 1
        writer = _write_in_thread(sqlite_engine, "meanwhile")
        writer.join(20)
        assert not writer.is_alive(), "the writer waited for a transaction that only read"
        # Still in the first snapshot, and then it writes: no SQLITE_BUSY_SNAPSHOT, and from
        # its first write on it sees what was committed meanwhile.
        assert conn.scalar(text("SELECT count(*) FROM rows")) == 1
        conn.execute(text("INSERT INTO rows (what) VALUES ('after')"))
        assert list(conn.scalars(text("SELECT what FROM rows ORDER BY id"))) == [
            "before",
            "meanwhile",
            "after",
        ]
    assert _rows(sqlite_engine) == ["before", "meanwhile", "after"]


def test_a_transaction_holds_the_write_lock_from_its_first_write_to_its_commit(sqlite_engine):
    from sqlalchemy import text

    with sqlite_engine.connect() as conn:
        conn.execute(text("INSERT INTO rows (what) VALUES ('first')"))
        writer = _write_in_thread(sqlite_engine, "second")
        writer.join(0.5)
        assert writer.is_alive(), "another writer got in before this transaction committed"
        conn.commit()
    writer.join(20)
    assert _rows(sqlite_engine) == ["before", "first", "second"]


def test_select_for_update_takes_the_write_lock_before_it_reads(sqlite_engine):
    """What the job and reminder claims rely on: SQLite renders no FOR UPDATE, so the read
    that picks the rows to claim must already hold the lock its UPDATE will need."""
    from sqlalchemy import Column, Integer, MetaData, Table, Text, select

    rows = Table("rows", MetaData(), Column("id", Integer, primary_key=True), Column("what", Text))
    with sqlite_engine.connect() as conn:
        assert conn.scalar(select(rows.c.what).with_for_update()) == "before"
        writer = _write_in_thread(sqlite_engine, "blocked")
        writer.join(0.5)
        assert writer.is_alive(), "a writer got in between a claim's read and its write"
        conn.commit()
    writer.join(20)
    assert _rows(sqlite_engine) == ["before", "blocked"]


def test_a_savepoint_after_reads_keeps_what_it_must(sqlite_engine):
    from sqlalchemy import text

    with sqlite_engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM rows")) == 1
        nested = conn.begin_nested()
        conn.execute(text("INSERT INTO rows (what) VALUES ('undone')"))
        nested.rollback()
        conn.execute(text("INSERT INTO rows (what) VALUES ('kept')"))
        conn.commit()
    assert _rows(sqlite_engine) == ["before", "kept"]


def test_a_read_only_transaction_refuses_to_write_and_writes_nothing(sqlite_engine):
    from sqlalchemy import text
    from sqlalchemy.exc import StatementError

    from incidentbot.infra import db

    with sqlite_engine.connect().execution_options(**{db.READ_ONLY: True}) as conn:
        assert conn.scalar(text("SELECT count(*) FROM rows")) == 1
        with pytest.raises((db.ReadOnlyWrite, StatementError), match="read-only"):
            conn.execute(text("INSERT INTO rows (what) VALUES ('sneaked in')"))
        conn.rollback()
    assert _rows(sqlite_engine) == ["before"]
    # The refusal left no lock behind: the next writer goes straight in.
    writer = _write_in_thread(sqlite_engine, "next")
    writer.join(20)
    assert not writer.is_alive()
    assert _rows(sqlite_engine) == ["before", "next"]
