"""each human task names its case's procedure, so that the inbox filter and the overdue counts need no join;
the index of ready tasks by due date covers the overdue counts (place, procedure, step) without reading rows

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

READY = sa.text("state = 'READY'")


def upgrade():
    with op.batch_alter_table("human_task") as table:
        table.add_column(sa.Column("procedure", sa.String(40), server_default="", nullable=False))
    op.execute('UPDATE human_task SET procedure = (SELECT "case".procedure FROM "case" '
               'WHERE "case".id = human_task.case_id)')
    op.drop_index("ix_task_ready_due", table_name="human_task")
    op.create_index("ix_task_ready_due", "human_task", ["due_at", "jurisdiction_path", "procedure", "name"],
                    sqlite_where=READY, postgresql_where=READY)


def downgrade():
    op.drop_index("ix_task_ready_due", table_name="human_task")
    op.create_index("ix_task_ready_due", "human_task", ["due_at"], sqlite_where=READY, postgresql_where=READY)
    with op.batch_alter_table("human_task") as table:
        table.drop_column("procedure")
