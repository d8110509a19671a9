"""trial-run scenarios kept in the library per process (试运行场景): a name unique for its process, the scenario's
JSON text as saved, who saved it and when

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

import engine.core.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "trial_scenario",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("saved_at", engine.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("saved_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trial_scenario")),
        sa.UniqueConstraint("process_key", "name", name="uq_trial_scenario_process_key_name"),
    )
    with op.batch_alter_table("trial_scenario") as table:
        table.create_index(table.f("ix_trial_scenario_process_key"), ["process_key"], unique=False)


def downgrade():
    with op.batch_alter_table("trial_scenario") as table:
        table.drop_index(table.f("ix_trial_scenario_process_key"))
    op.drop_table("trial_scenario")
