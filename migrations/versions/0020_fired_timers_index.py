"""how late timers fire, read by the supervisor's overview and ``/healthz`` over the last day: a partial index of
fired timers by the moment they fired (``case_deadline.fired_at``), so that the read does not walk a county's
million deadlines.

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

FIRED = sa.text("fired_at IS NOT NULL")


def upgrade():
    op.create_index("ix_case_deadline_fired", "case_deadline", ["fired_at"], sqlite_where=FIRED, postgresql_where=FIRED)


def downgrade():
    op.drop_index("ix_case_deadline_fired", table_name="case_deadline")
