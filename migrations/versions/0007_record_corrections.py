"""corrections of the record

Timeline entries get a number within their incident (``#7``, in the order recorded) and can be
deleted without losing the row; every correction is a row of ``timeline_revisions``. Incidents
get a detection moment, a flag for incidents recorded after the fact, and when the bot asked
whether the impact started earlier.

Impact-start entries used to sit at the moment someone set the impact start; they now sit at
the impact start itself, like every milestone, so existing ones are moved there.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

import incidentbot.domain.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_entries = sa.table(
    "timeline_entries",
    sa.column("id", sa.Integer),
    sa.column("incident_id", sa.Integer),
    sa.column("number", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("details", sa.JSON),
    sa.column("occurred_at", incidentbot.domain.models.UTCDateTime()),
)
_incidents = sa.table(
    "incidents", sa.column("id", sa.Integer), sa.column("last_entry_number", sa.Integer)
)


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("detected_at", incidentbot.domain.models.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("after_the_fact", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("impact_question_at", incidentbot.domain.models.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("last_entry_number", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("timeline_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("deleted_at", incidentbot.domain.models.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("deleted_by", sa.String(length=32), nullable=True))

    connection = op.get_bind()
    numbers: dict[int, int] = {}
    updates = []
    for entry_id, incident_id in connection.execute(
        sa.select(_entries.c.id, _entries.c.incident_id).order_by(_entries.c.id)
    ):
        numbers[incident_id] = numbers.get(incident_id, 0) + 1
        updates.append({"entry_id": entry_id, "number": numbers[incident_id]})
    if updates:
        connection.execute(
            _entries.update()
            .where(_entries.c.id == sa.bindparam("entry_id"))
            .values(number=sa.bindparam("number")),
            updates,
        )
        connection.execute(
            _incidents.update()
            .where(_incidents.c.id == sa.bindparam("incident"))
            .values(last_entry_number=sa.bindparam("count")),
            [{"incident": incident, "count": count} for incident, count in numbers.items()],
        )
    moves = []
    for entry_id, details in connection.execute(
        sa.select(_entries.c.id, _entries.c.details).where(_entries.c.kind == "impact start")
    ):
        moment = (details or {}).get("to")
        if moment:
            moves.append({"entry_id": entry_id, "moment": datetime.fromisoformat(moment)})
    if moves:
        connection.execute(
            _entries.update()
            .where(_entries.c.id == sa.bindparam("entry_id"))
            .values(occurred_at=sa.bindparam("moment")),
            moves,
        )

    with op.batch_alter_table("timeline_entries", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_timeline_entries_incident_id_number"), ["incident_id", "number"]
        )

    op.create_table(
        "timeline_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("revised_at", incidentbot.domain.models.UTCDateTime(), nullable=False),
        sa.Column("revised_by", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("old_text", sa.Text(), nullable=True),
        sa.Column("new_text", sa.Text(), nullable=True),
        sa.Column("old_occurred_at", incidentbot.domain.models.UTCDateTime(), nullable=True),
        sa.Column("new_occurred_at", incidentbot.domain.models.UTCDateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["timeline_entries.id"],
            name=op.f("fk_timeline_revisions_entry_id_timeline_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_timeline_revisions_incident_id_incidents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeline_revisions")),
    )
    with op.batch_alter_table("timeline_revisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_timeline_revisions_entry_id"), ["entry_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_timeline_revisions_incident_id"), ["incident_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("timeline_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_timeline_revisions_incident_id"))
        batch_op.drop_index(batch_op.f("ix_timeline_revisions_entry_id"))
    op.drop_table("timeline_revisions")
    with op.batch_alter_table("timeline_entries", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_timeline_entries_incident_id_number"), type_="unique"
        )
        batch_op.drop_column("deleted_by")
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("number")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("last_entry_number")
        batch_op.drop_column("impact_question_at")
        batch_op.drop_column("after_the_fact")
        batch_op.drop_column("detected_at")
