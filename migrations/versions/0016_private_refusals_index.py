"""who saw private data (敏感信息查看记录) lists the refused requests too: the audit log's partial index of
``private_data_viewed`` entries becomes one of ``private_data_viewed`` and ``private_data_refused`` entries (a role
that may not see private fields asked for them in full), so that a supervisor's list of both still reads only those entries.

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

VIEWED = sa.text("action = 'private_data_viewed'")
ACCESS = sa.text("action IN ('private_data_viewed', 'private_data_refused')")  # engine.core.models, as it is there


def upgrade():
    op.drop_index("ix_audit_private_viewed", table_name="audit_event")
    op.create_index("ix_audit_private_access", "audit_event", ["id"], sqlite_where=ACCESS, postgresql_where=ACCESS)


def downgrade():
    op.drop_index("ix_audit_private_access", table_name="audit_event")
    op.create_index("ix_audit_private_viewed", "audit_event", ["id"], sqlite_where=VIEWED, postgresql_where=VIEWED)
