"""Text as people typed it: undo the Slack escaping that older rows kept

Slack sends slash-command and message text with ``&``, ``<`` and ``>`` escaped. Rows written
before this revision kept that escaping (a title typed as ``A & B`` in a command was stored as
``A &amp; B``), while rows from forms, which arrive unescaped, did not. The bot now stores what
was typed and escapes once on output, so the escaped rows are unescaped here, once. Entries from
monitoring (alerts) never came from Slack and are left as they are. A downgrade leaves the text
alone: the code before this revision shows unescaped text (from forms) as well.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every column holding text that came in through a slash command or a Slack message.
_TYPED = {
    "incidents": ("title", "summary", "impact"),
    "timeline_entries": ("text",),
    "timeline_revisions": ("old_text", "new_text", "reason"),
    "action_items": ("text", "tracking_url"),
}


def upgrade() -> None:
    for table, columns in _TYPED.items():
        for column in columns:
            # "&amp;" last, so that a typed "&lt;" (sent as "&amp;lt;") stays "&lt;".
            unescaped = (
                f"REPLACE(REPLACE(REPLACE({column}, '&lt;', '<'), '&gt;', '>'), '&amp;', '&')"
            )
            where = f"{column} LIKE :ampersand"
            if table == "timeline_entries":
                where += " AND kind <> 'alert'"
            op.execute(
                sa.text(f"UPDATE {table} SET {column} = {unescaped} WHERE {where}").bindparams(
                    ampersand="%&%"
                )
            )


def downgrade() -> None:
    """Nothing to undo: which rows were escaped before is not known any more."""
