"""insights: per-conversation records, topics with fits, alerts, and searchable documents (FTS5 / tsvector)

Revision ID: insights_0001
Revises: core_0001
"""
from alembic import op
import sqlalchemy as sa
import deskmate.db


revision = "insights_0001"
down_revision = "core_0001"
branch_labels = None
depends_on = None

PG_TSV = "to_tsvector('english', body)"
TABLES = ["insight_records", "insight_documents", "insight_alerts", "insight_topics", "insight_topic_fits"]


def upgrade() -> None:
    op.create_table('insight_topic_fits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('conversations', sa.Integer(), nullable=False),
    sa.Column('topics', sa.Integer(), nullable=False),
    sa.Column('kept', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('retired', sa.Integer(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.Column('fitted_at', deskmate.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_insight_topic_fits_tenant_id'), 'insight_topic_fits', ['tenant_id'], unique=False)
    op.create_table('insight_topics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('representative_text', sa.Text(), nullable=False),
    sa.Column('representative_conversation_id', sa.Integer(), nullable=True),
    sa.Column('centroid', sa.LargeBinary(), nullable=True),
    sa.Column('radius', sa.Float(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('fit_id', sa.Integer(), nullable=True),
    sa.Column('created_at', deskmate.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', deskmate.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['insight_topics.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'number', name='uq_insight_topics_tenant_number')
    )
    op.create_index(op.f('ix_insight_topics_tenant_id'), 'insight_topics', ['tenant_id'], unique=False)
    op.create_table('insight_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('dimension', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('day', deskmate.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('observed', sa.Integer(), nullable=False),
    sa.Column('expected', sa.Float(), nullable=False),
    sa.Column('ratio', sa.Float(), nullable=False),
    sa.Column('p_value', sa.Float(), nullable=False),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('products', sa.JSON(), nullable=False),
    sa.Column('conversation_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('pushed', sa.JSON(), nullable=False),
    sa.Column('created_at', deskmate.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['insight_topics.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'key', name='uq_insight_alerts_tenant_key')
    )
    op.create_index(op.f('ix_insight_alerts_tenant_id'), 'insight_alerts', ['tenant_id'], unique=False)
    op.create_table('insight_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('conversation_id', name='uq_insight_documents_conversation')
    )
    op.create_index(op.f('ix_insight_documents_tenant_id'), 'insight_documents', ['tenant_id'], unique=False)
    op.create_table('insight_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('started_at', deskmate.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', deskmate.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('agent_name', sa.String(length=200), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('customer_tier', sa.String(length=32), nullable=True),
    sa.Column('reason', sa.String(length=100), nullable=True),
    sa.Column('intent', sa.String(length=100), nullable=True),
    sa.Column('intent_confidence', sa.Float(), nullable=True),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('topic_distance', sa.Float(), nullable=True),
    sa.Column('products', sa.JSON(), nullable=False),
    sa.Column('entities', sa.JSON(), nullable=False),
    sa.Column('sentiment_start', sa.Float(), nullable=True),
    sa.Column('sentiment_end', sa.Float(), nullable=True),
    sa.Column('sentiment_lowest', sa.Float(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('predicted_outcome', sa.String(length=16), nullable=True),
    sa.Column('quality_score', sa.Float(), nullable=True),
    sa.Column('handle_seconds', sa.Float(), nullable=True),
    sa.Column('message_count', sa.Integer(), nullable=False),
    sa.Column('procedure_steps', sa.Integer(), nullable=True),
    sa.Column('procedure_done', sa.Integer(), nullable=True),
    sa.Column('stalled_at', sa.String(length=64), nullable=True),
    sa.Column('opening_text', sa.Text(), nullable=False),
    sa.Column('embedding', sa.LargeBinary(), nullable=True),
    sa.Column('source_updated_at', deskmate.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('refreshed_at', deskmate.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['insight_topics.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('conversation_id', name='uq_insight_records_conversation')
    )
    op.create_index(op.f('ix_insight_records_tenant_id'), 'insight_records', ['tenant_id'], unique=False)
    op.create_index('ix_insight_records_tenant_started', 'insight_records', ['tenant_id', 'started_at'], unique=False)
    op.create_index('ix_insight_records_tenant_topic', 'insight_records', ['tenant_id', 'topic_id'], unique=False)
    op.create_index('ix_insight_records_tenant_refreshed', 'insight_records', ['tenant_id', 'refreshed_at'], unique=False)

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # External-content FTS5 kept in step by triggers: the service writes only insight_documents.
        op.execute(
            "CREATE VIRTUAL TABLE insight_documents_fts USING fts5("
            "body, content='insight_documents', content_rowid='id', tokenize='porter unicode61')"
        )
        op.execute(
            "CREATE TRIGGER insight_documents_ai AFTER INSERT ON insight_documents BEGIN "
            "INSERT INTO insight_documents_fts(rowid, body) VALUES (new.id, new.body); END"
        )
        op.execute(
            "CREATE TRIGGER insight_documents_ad AFTER DELETE ON insight_documents BEGIN "
            "INSERT INTO insight_documents_fts(insight_documents_fts, rowid, body) VALUES ('delete', old.id, old.body); END"
        )
        op.execute(
            "CREATE TRIGGER insight_documents_au AFTER UPDATE ON insight_documents BEGIN "
            "INSERT INTO insight_documents_fts(insight_documents_fts, rowid, body) VALUES ('delete', old.id, old.body); "
            "INSERT INTO insight_documents_fts(rowid, body) VALUES (new.id, new.body); END"
        )
    elif dialect == "postgresql":
        op.execute(f"CREATE INDEX ix_insight_documents_tsv ON insight_documents USING gin ({PG_TSV})")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("insight_documents_ai", "insight_documents_ad", "insight_documents_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS insight_documents_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_insight_documents_tsv")
    for table in TABLES:
        op.drop_table(table)
