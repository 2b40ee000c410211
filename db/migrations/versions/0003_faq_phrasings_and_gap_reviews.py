"""faq phrasings added by staff, their version, gap reviews, questions.flagged

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 09:58:55.607676
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    faq_state = op.create_table(
        "faq_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("phrasings_version", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_state")),
    )
    op.bulk_insert(faq_state, [{"id": 1, "phrasings_version": 0}])
    op.create_table(
        "faq_phrasings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("faq_id", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("text_key", sa.String(length=300), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("added_by", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_faq_phrasings_question_id_questions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_phrasings")),
        sa.UniqueConstraint("text_key", name=op.f("uq_faq_phrasings_text_key")),
    )
    with op.batch_alter_table("faq_phrasings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_faq_phrasings_faq_id"), ["faq_id"], unique=False)

    op.create_table(
        "faq_gap_reviews",
        sa.Column("question_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "phrasing",
                "new_entry",
                "dismissed",
                name="gap_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("faq_id", sa.String(length=64), nullable=True),
        sa.Column("phrasing_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_by", sa.BigInteger(), nullable=False),
        sa.Column(
            "reviewed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["phrasing_id"],
            ["faq_phrasings.id"],
            name=op.f("fk_faq_gap_reviews_phrasing_id_faq_phrasings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_faq_gap_reviews_question_id_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("question_id", name=op.f("pk_faq_gap_reviews")),
    )
    with op.batch_alter_table("faq_gap_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_faq_gap_reviews_phrasing_id"), ["phrasing_id"], unique=False
        )

    # A plain ALTER TABLE … ADD COLUMN, also on SQLite: a batch operation would copy the
    # table, and dropping the old copy fails while faq_views rows refer to its questions.
    op.add_column(
        "questions", sa.Column("flagged", sa.Boolean(), server_default=sa.false(), nullable=False)
    )


def downgrade() -> None:
    op.drop_column("questions", "flagged")
    with op.batch_alter_table("faq_gap_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_gap_reviews_phrasing_id"))
    op.drop_table("faq_gap_reviews")
    with op.batch_alter_table("faq_phrasings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_phrasings_faq_id"))
    op.drop_table("faq_phrasings")
    op.drop_table("faq_state")
