"""learning: feedback joined to outcomes, ranker versions, intent corrections, knowledge-gap drafts

Revision ID: learning_0001
Revises: core_0001
"""
from alembic import op
import sqlalchemy as sa
import deskmate.db


revision = "learning_0001"
down_revision = "core_0001"
branch_labels = None
depends_on = None

UTC = deskmate.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "learning_feedback_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("suggestion_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("shown", sa.Boolean(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("edited", sa.Boolean(), nullable=False),
        sa.Column("dismissed", sa.Boolean(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("final_text", sa.Text(), nullable=True),
        sa.Column("first_event_at", UTC, nullable=True),
        sa.Column("acted_at", UTC, nullable=True),
        sa.Column("seconds_to_act", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("resolved", sa.Boolean(), nullable=True),
        sa.Column("sentiment_shift", sa.Float(), nullable=True),
        sa.Column("resolution_quality", sa.Float(), nullable=True),
        sa.Column("quality_score", sa.Float(), nullable=True),
        sa.Column("reward", sa.Float(), nullable=True),
        sa.Column("joined_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "suggestion_id", name="uq_learning_feedback_suggestion"),
    )
    op.create_index("ix_learning_feedback_outcomes_conversation_id", "learning_feedback_outcomes", ["conversation_id"])
    op.create_index("ix_learning_feedback_tenant_id", "learning_feedback_outcomes", ["tenant_id", "id"])
    op.create_index("ix_learning_feedback_tenant_kind", "learning_feedback_outcomes", ["tenant_id", "kind", "reason"])

    op.create_table(
        "learning_model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("baseline", sa.JSON(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("feedback_rows", sa.Integer(), nullable=False),
        sa.Column("watermark", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("promoted_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "version", name="uq_learning_model_version"),
    )
    op.create_index("ix_learning_model_versions_tenant_id", "learning_model_versions", ["tenant_id"])

    op.create_table(
        "learning_intent_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("old_reason", sa.String(length=100), nullable=True),
        sa.Column("new_reason", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("used_in", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_learning_corrections_tenant_created", "learning_intent_corrections", ["tenant_id", "created_at"])
    op.create_index("ix_learning_intent_corrections_conversation_id", "learning_intent_corrections", ["conversation_id"])

    op.create_table(
        "learning_gap_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "topic", name="uq_learning_gap_topic"),
    )
    op.create_index("ix_learning_gap_drafts_tenant_id", "learning_gap_drafts", ["tenant_id"])


def downgrade() -> None:
    op.drop_index("ix_learning_gap_drafts_tenant_id", table_name="learning_gap_drafts")
    op.drop_table("learning_gap_drafts")
    op.drop_index("ix_learning_intent_corrections_conversation_id", table_name="learning_intent_corrections")
    op.drop_index("ix_learning_corrections_tenant_created", table_name="learning_intent_corrections")
    op.drop_table("learning_intent_corrections")
    op.drop_index("ix_learning_model_versions_tenant_id", table_name="learning_model_versions")
    op.drop_table("learning_model_versions")
    op.drop_index("ix_learning_feedback_tenant_kind", table_name="learning_feedback_outcomes")
    op.drop_index("ix_learning_feedback_tenant_id", table_name="learning_feedback_outcomes")
    op.drop_index("ix_learning_feedback_outcomes_conversation_id", table_name="learning_feedback_outcomes")
    op.drop_table("learning_feedback_outcomes")
