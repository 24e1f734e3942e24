"""nlp: intent_predictions (which intent model version labelled which message)

Revision ID: nlp_0001
Revises: core_0001
"""
from alembic import op
import sqlalchemy as sa
import deskmate.db


revision = 'nlp_0001'
down_revision = 'core_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('intent_predictions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('label', sa.String(length=100), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=False),
    sa.Column('created_at', deskmate.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('intent_predictions', schema=None) as batch_op:
        batch_op.create_index('ix_intent_predictions_tenant_created', ['tenant_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_intent_predictions_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intent_predictions_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intent_predictions_label'), ['label'], unique=False)
        batch_op.create_index(batch_op.f('ix_intent_predictions_model_version'), ['model_version'], unique=False)


def downgrade() -> None:
    op.drop_table('intent_predictions')
