"""outbox: index to send in order per chat

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 10:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_reminders_recipient_status", "reminders", ["recipient_id", "status"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_reminders_recipient_status", table_name="reminders")
