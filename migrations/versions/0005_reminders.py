"""reminders

Nudges that come due later (status updates, a missing lead, the postmortem, action items) are
rows, so that a restart loses none and replicas claim each under a row lock. Incidents get a
postmortem owner, whom the postmortem reminders go to.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import incidentbot.domain.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("action_item_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("due_at", incidentbot.domain.models.UTCDateTime(), nullable=False),
        sa.Column("since", incidentbot.domain.models.UTCDateTime(), nullable=False),
        sa.Column("snoozed_until", incidentbot.domain.models.UTCDateTime(), nullable=True),
        sa.Column("snoozed_by", sa.String(length=32), nullable=True),
        sa.Column("last_sent_at", incidentbot.domain.models.UTCDateTime(), nullable=True),
        sa.Column("sent_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_item_id"],
            ["action_items.id"],
            name=op.f("fk_reminders_action_item_id_action_items"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_reminders_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint(
            "incident_id",
            "kind",
            "action_item_id",
            name=op.f("uq_reminders_incident_id_kind_action_item_id"),
        ),
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.create_index("ix_reminders_state_due_at", ["state", "due_at"], unique=False)

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("postmortem_owner_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("postmortem_owner_id")

    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index("ix_reminders_state_due_at")

    op.drop_table("reminders")
