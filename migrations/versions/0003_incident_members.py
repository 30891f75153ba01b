"""incident members

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 06:08:10.135151
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import incidentbot.domain.models

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incident_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("since", incidentbot.domain.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_members_incident_id_incidents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_members")),
        sa.UniqueConstraint(
            "incident_id", "user_id", name=op.f("uq_incident_members_incident_id_user_id")
        ),
    )
    with op.batch_alter_table("incident_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_members_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_incident_members_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("incident_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_members_user_id"))
        batch_op.drop_index(batch_op.f("ix_incident_members_incident_id"))

    op.drop_table("incident_members")
