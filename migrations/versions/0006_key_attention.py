"""key attention (重点关注): since when and why a household is watched without being monitored

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("household") as table:
        table.add_column(sa.Column("attention_since", sa.Date(), nullable=True))
        table.add_column(sa.Column("attention_reason", sa.String(500), nullable=True))


def downgrade():
    with op.batch_alter_table("household") as table:
        table.drop_column("attention_reason")
        table.drop_column("attention_since")
