"""outcomes: one score row per conversation (outcome, confidence, scorecard, summary)

Revision ID: outcomes_0001
Revises: core_0001
Create Date: 2026-11-24 13:26:30.480880
"""
from alembic import op
import sqlalchemy as sa
import deskmate.db


revision = 'outcomes_0001'
down_revision = 'core_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conversation_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=100), nullable=True),
    sa.Column('started_at', deskmate.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('handle_seconds', sa.Float(), nullable=True),
    sa.Column('predicted_outcome', sa.String(length=16), nullable=False),
    sa.Column('outcome_probability', sa.Float(), nullable=False),
    sa.Column('outcome_probabilities', sa.JSON(), nullable=False),
    sa.Column('resolution_source', sa.String(length=16), nullable=False),
    sa.Column('reopened', sa.Boolean(), nullable=False),
    sa.Column('reopened_by', sa.Integer(), nullable=True),
    sa.Column('sentiment_start', sa.Float(), nullable=True),
    sa.Column('sentiment_end', sa.Float(), nullable=True),
    sa.Column('sentiment_shift', sa.Float(), nullable=True),
    sa.Column('sentiment_lowest', sa.Float(), nullable=True),
    sa.Column('effort', sa.JSON(), nullable=False),
    sa.Column('resolution_quality', sa.Float(), nullable=False),
    sa.Column('resolution_quality_parts', sa.JSON(), nullable=False),
    sa.Column('quality_score', sa.Float(), nullable=True),
    sa.Column('policy_adherence', sa.String(length=8), nullable=True),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('summary_text', sa.Text(), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=False),
    sa.Column('scored_at', deskmate.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('conversation_id', name='uq_conversation_scores_conversation')
    )
    with op.batch_alter_table('conversation_scores', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_scores_tenant_agent', ['tenant_id', 'agent_id'], unique=False)
        batch_op.create_index('ix_conversation_scores_tenant_started', ['tenant_id', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_scores_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('conversation_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_scores_tenant_id'))
        batch_op.drop_index('ix_conversation_scores_tenant_started')
        batch_op.drop_index('ix_conversation_scores_tenant_agent')

    op.drop_table('conversation_scores')
