"""reasons: the workspace's reason catalogue (given or from topics), and where a conversation's reason came from

Revision ID: reasons_0001
Revises: insights_0001
"""
from alembic import op
import sqlalchemy as sa
import deskmate.db


revision = "reasons_0001"
down_revision = "insights_0001"  # a reason found by topics points at its insight topic
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reasons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("split_from_id", sa.Integer(), nullable=True),
        sa.Column("centroid", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", deskmate.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", deskmate.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["topic_id"], ["insight_topics.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["merged_into_id"], ["reasons.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["split_from_id"], ["reasons.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "key", name="uq_reasons_tenant_key"),
    )
    op.create_index(op.f("ix_reasons_tenant_id"), "reasons", ["tenant_id"], unique=False)
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.add_column(sa.Column("reason_source", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.drop_column("reason_source")
    op.drop_index(op.f("ix_reasons_tenant_id"), table_name="reasons")
    op.drop_table("reasons")
