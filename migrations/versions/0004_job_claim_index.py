"""index jobs by incident and state for claiming

Claiming a job checks that no earlier job of its incident is still pending or running. Indexed
on the incident alone, that check walked every finished job of the incident, so claiming got
slower with every note: a busy incident's Slack work fell behind its commands.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 08:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_incident_id_state", ["incident_id", "state"], unique=False)
        batch_op.drop_index("ix_jobs_incident_id")


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_incident_id", ["incident_id"], unique=False)
        batch_op.drop_index("ix_jobs_incident_id_state")
