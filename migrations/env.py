"""Alembic environment: the engine comes from incidentbot (or DATABASE_URL for the CLI)."""

import os

from alembic import context
from sqlalchemy import create_engine

from incidentbot.domain.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        engine = create_engine(os.environ.get("DATABASE_URL", "sqlite:///incidentbot.db"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run `incidentbot db upgrade`.")
run_migrations_online()
