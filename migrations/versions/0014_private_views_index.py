"""who saw private data (敏感信息查看记录): a partial index of the audit log's ``private_data_viewed`` entries, so
that a supervisor's list of them reads only those, however long the log

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

WHERE = sa.text("action = 'private_data_viewed'")


def upgrade():
    op.create_index("ix_audit_private_viewed", "audit_event", ["id"], sqlite_where=WHERE, postgresql_where=WHERE)


def downgrade():
    op.drop_index("ix_audit_private_viewed", table_name="audit_event")
