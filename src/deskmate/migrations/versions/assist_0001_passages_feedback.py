"""assist: article passages (with their full-text index) and suggestion feedback events

Revision ID: assist_0001
Revises: core_0001
"""
from alembic import op
import sqlalchemy as sa
import deskmate.db


revision = "assist_0001"
down_revision = "core_0001"
branch_labels = None
depends_on = None

PG_TSV = "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(text, ''))"


def upgrade() -> None:
    op.create_table(
        "assist_passages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("article_version", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", deskmate.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("assist_passages", schema=None) as batch_op:
        batch_op.create_index("ix_assist_passages_tenant_revision", ["tenant_id", "revision"], unique=False)
        batch_op.create_index("ix_assist_passages_article", ["article_id"], unique=False)

    op.create_table(
        "assist_feedback_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("suggestion_id", sa.String(length=200), nullable=False),
        sa.Column("suggestion_type", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("final_text", sa.Text(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", deskmate.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("assist_feedback_events", schema=None) as batch_op:
        batch_op.create_index("ix_assist_feedback_tenant_created", ["tenant_id", "created_at"], unique=False)
        batch_op.create_index("ix_assist_feedback_conversation", ["conversation_id"], unique=False)
        batch_op.create_index("ix_assist_feedback_suggestion", ["tenant_id", "suggestion_id"], unique=False)

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # rowid = assist_passages.id; porter stemming so "refunded" finds "refund".
        op.execute(
            "CREATE VIRTUAL TABLE assist_passages_fts USING fts5("
            "title, text, tenant_id UNINDEXED, tokenize='porter unicode61')"
        )
    elif dialect == "postgresql":
        op.execute(f"CREATE INDEX ix_assist_passages_tsv ON assist_passages USING gin ({PG_TSV})")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TABLE IF EXISTS assist_passages_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_assist_passages_tsv")
    with op.batch_alter_table("assist_feedback_events", schema=None) as batch_op:
        batch_op.drop_index("ix_assist_feedback_suggestion")
        batch_op.drop_index("ix_assist_feedback_conversation")
        batch_op.drop_index("ix_assist_feedback_tenant_created")
    op.drop_table("assist_feedback_events")
    with op.batch_alter_table("assist_passages", schema=None) as batch_op:
        batch_op.drop_index("ix_assist_passages_article")
        batch_op.drop_index("ix_assist_passages_tenant_revision")
    op.drop_table("assist_passages")
