"""user administration: officials can be deactivated (leavers) and must choose their own password after an
administrator set one; when each was created or deactivated

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

from engine.core.db import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user") as table:
        table.add_column(sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False))
        table.add_column(sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False))
        table.add_column(sa.Column("created_at", UTCDateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("deactivated_at", UTCDateTime(timezone=True), nullable=True))
    op.create_index("ix_user_jurisdiction_id", "user", ["jurisdiction_id"])


def downgrade():
    op.drop_index("ix_user_jurisdiction_id", table_name="user")
    with op.batch_alter_table("user") as table:
        for column in ("deactivated_at", "created_at", "must_change_password", "active"):
            table.drop_column(column)
