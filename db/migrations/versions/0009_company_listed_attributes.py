"""companies.listed: the audience attributes the member list set (members cannot change them)

Existing rows stay NULL (nothing known to come from the list) until the next
``ipdesk members import`` marks what the list says.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 14:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("listed", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_column("listed")
