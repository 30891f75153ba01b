"""Slack as it really is: lease tokens, shared rate-limit pacing, facts learned from Slack

``jobs.lease_token`` names the worker holding a job, so one whose lease ran out cannot finish
or give back a job another worker has claimed since. ``slack_pace`` holds, per rate-limit
bucket, when its next call may go out, shared by all workers and replicas. ``slack_facts``
keeps what is slow to learn again, such as the id of a channel configured by name.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import incidentbot.domain.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("lease_token", sa.String(length=32), nullable=True))
    op.create_table(
        "slack_pace",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("next_at", incidentbot.domain.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_slack_pace")),
    )
    op.create_table(
        "slack_facts",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("learned_at", incidentbot.domain.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_slack_facts")),
    )


def downgrade() -> None:
    op.drop_table("slack_facts")
    op.drop_table("slack_pace")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("lease_token")
