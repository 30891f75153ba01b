"""postmortem workflow and action item types

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 05:16:55.645834
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("tracking_url", sa.String(length=500), nullable=True))

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("postmortem_template", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column(
                "postmortem_status", sa.String(length=16), server_default="draft", nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("postmortem_status")
        batch_op.drop_column("postmortem_template")

    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.drop_column("tracking_url")
        batch_op.drop_column("kind")
