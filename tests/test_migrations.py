from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from incidentbot.domain.models import Base, Counter
from incidentbot.infra import db


def test_upgrade_on_an_empty_database_matches_the_models(empty_db_url: str) -> None:
    engine = db.make_engine(empty_db_url)
    assert not db.migrations_current(engine)
    db.upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert db.migrations_current(engine)
    engine.dispose()


def test_upgrade_twice_is_harmless_and_seeds_the_incident_counter(empty_db_url: str) -> None:
    engine = db.make_engine(empty_db_url)
    db.upgrade(engine)
    db.upgrade(engine)
    with db.make_session_factory(engine)() as session:
        assert session.scalar(select(Counter.value).where(Counter.name == "incident")) == 0
    engine.dispose()


def test_downgrade_to_base_removes_every_table(empty_db_url: str) -> None:
    from alembic import command
    from sqlalchemy import inspect

    engine = db.make_engine(empty_db_url)
    db.upgrade(engine)
    command.downgrade(db.alembic_config(engine), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_0007_numbers_existing_entries_and_moves_impact_starts_to_their_moment(empty_db_url: str):
    """A database from before corrections: entries get their numbers in the order they were
    recorded, per incident, and an impact-start entry moves to the impact start it set."""
    from alembic import command
    from sqlalchemy import text

    engine = db.make_engine(empty_db_url)
    config = db.alembic_config(engine)
    command.upgrade(config, "0006")
    with engine.begin() as conn:
        for number in (1, 2):
            conn.execute(
                text(
                    "INSERT INTO incidents (id, number, title, severity, status, private, "
                    "declared_by, declared_at, impact_started_at, reopened_count, "
                    "postmortem_status) VALUES (:id, :id, 'x', 'SEV3', 'investigating', "
                    ":false, 'UA', :t, :t, 0, 'draft')"
                ),
                {"id": number, "t": "2026-11-27 10:00:00+00:00", "false": False},
            )
        rows = [  # (id, incident, kind, occurred_at, details)
            (1, 1, "declared", "2026-11-27 10:00:00+00:00", None),
            (2, 2, "declared", "2026-11-27 10:00:00+00:00", None),
            (3, 1, "note", "2026-11-27 10:05:00+00:00", None),
            (
                4,
                1,
                "impact start",
                "2026-11-27 10:20:00+00:00",
                '{"from": "2026-11-27T10:00:00+00:00", "to": "2026-11-27T09:40:00+00:00"}',
            ),
            (5, 2, "note", "2026-11-27 10:30:00+00:00", None),
        ]
        for entry_id, incident_id, kind, occurred, details in rows:
            conn.execute(
                text(
                    "INSERT INTO timeline_entries (id, incident_id, occurred_at, recorded_at, "
                    "kind, author_id, text, details, also_marked_by) VALUES (:id, :incident, "
                    ":occurred, :occurred, :kind, 'UA', 't', :details, '[]')"
                ),
                {
                    "id": entry_id,
                    "incident": incident_id,
                    "occurred": occurred,
                    "kind": kind,
                    "details": details,
                },
            )
    command.upgrade(config, "head")
    with db.make_session_factory(engine)() as session:
        from incidentbot.domain.models import TimelineEntry

        entries = {e.id: e for e in session.scalars(select(TimelineEntry))}
        assert {i: (e.incident_id, e.number) for i, e in entries.items()} == {
            1: (1, 1),
            2: (2, 1),
            3: (1, 2),
            4: (1, 3),
            5: (2, 2),
        }
        assert entries[4].occurred_at.isoformat() == "2026-11-27T09:40:00+00:00"
        from incidentbot.domain.models import Incident

        counts = {i.id: i.last_entry_number for i in session.scalars(select(Incident))}
        assert counts == {1: 3, 2: 2}  # the next entries are #4 and #3
        assert all(e.deleted_at is None for e in entries.values())
    engine.dispose()


def test_0009_stores_text_slack_escaped_in_older_rows_as_it_was_typed(empty_db_url: str):
    """Rows from before 0009 kept Slack's escaping of command and message text; after it they
    hold what was typed, like every row written since. Alerts never came from Slack."""
    from alembic import command
    from sqlalchemy import text

    engine = db.make_engine(empty_db_url)
    config = db.alembic_config(engine)
    command.upgrade(config, "0008")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO incidents (id, number, title, severity, status, private, "
                "declared_by, declared_at, impact_started_at, reopened_count, postmortem_status, "
                "summary, last_entry_number) VALUES (1, 1, 'Payments &amp; checkout &lt;EU&gt;', "
                "'SEV3', 'investigating', :false, 'UA', :t, :t, 0, 'draft', 'typed &amp;lt;', 2)"
            ),
            {"t": "2026-11-27 10:00:00+00:00", "false": False},
        )
        for entry_id, kind, typed in (
            (1, "note", "A &amp; B <@U1|al> <https://x.io/?a=1&amp;b=2|docs>"),
            (2, "alert", "Alertmanager says &amp;"),
        ):
            conn.execute(
                text(
                    "INSERT INTO timeline_entries (id, number, incident_id, occurred_at, "
                    "recorded_at, kind, author_id, text, also_marked_by) VALUES (:id, :id, 1, "
                    ":t, :t, :kind, 'UA', :typed, '[]')"
                ),
                {"id": entry_id, "kind": kind, "typed": typed, "t": "2026-11-27 10:00:00+00:00"},
            )
    command.upgrade(config, "head")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT title, summary FROM incidents")).one() == (
            "Payments & checkout <EU>",
            "typed &lt;",
        )
        texts = conn.execute(text("SELECT text FROM timeline_entries ORDER BY id")).scalars()
        assert list(texts) == [
            "A & B <@U1|al> <https://x.io/?a=1&b=2|docs>",
            "Alertmanager says &amp;",
        ]
    command.downgrade(config, "0008")
    engine.dispose()
