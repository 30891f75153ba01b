from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from incidentbot import db
from incidentbot.models import Base, Counter


def test_upgrade_on_an_empty_database_matches_the_models(db_url: str) -> None:
    engine = db.make_engine(db_url)
    assert not db.migrations_current(engine)
    db.upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert db.migrations_current(engine)
    engine.dispose()


def test_upgrade_twice_is_harmless_and_seeds_the_incident_counter(db_url: str) -> None:
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    db.upgrade(engine)
    with db.make_session_factory(engine)() as session:
        assert session.scalar(select(Counter.value).where(Counter.name == "incident")) == 0
    engine.dispose()


def test_downgrade_to_base_removes_every_table(db_url: str) -> None:
    from alembic import command
    from sqlalchemy import inspect

    engine = db.make_engine(db_url)
    db.upgrade(engine)
    command.downgrade(db.alembic_config(engine), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
