"""Incidents by the date they were declared

``/incident stats``, ``/insights`` and the Home tab read the incidents of a recent window; with
years of history, finding them without an index meant reading every incident first.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 23:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_incidents_declared_at", "incidents", ["declared_at"])


def downgrade() -> None:
    op.drop_index("ix_incidents_declared_at", table_name="incidents")
