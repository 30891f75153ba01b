"""Incidents by the date they were declared, entries by when they were recorded

``/incident stats`` and ``/insights`` read the incidents of a recent window; with years of
history, finding them without an index meant reading every incident first. For each, the
metrics want the first response by someone besides the declarer: the earliest entry by when it
was recorded, which an index on (incident, recorded_at) finds without ranking the timeline.

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
    op.create_index(
        "ix_timeline_entries_incident_recorded",
        "timeline_entries",
        ["incident_id", "recorded_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_timeline_entries_incident_recorded", table_name="timeline_entries")
    op.drop_index("ix_incidents_declared_at", table_name="incidents")
