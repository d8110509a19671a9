"""overdue lists and counts read their indexes in their own order: the indexes of ready tasks and running cases by
due date end with the id (a first page of the most overdue is the index's first entries: no sort, no row read to
filter by place) and cover what the lists and counts read (for tasks, whether the sweep has marked them); the tasks
the sweep has marked overdue have an index in the order of the overdue counts (place, procedure, step), which counts
them as it reads them

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

READY = sa.text("state = 'READY'")
READY_MARKED = sa.text("state = 'READY' AND overdue_since IS NOT NULL")
RUNNING = sa.text("status = 'running' AND deadline_met_at IS NULL")


def _index(name, table, columns, where):
    op.create_index(name, table, columns, unique=False, sqlite_where=where, postgresql_where=where)


def upgrade():
    op.drop_index("ix_task_ready_due", table_name="human_task")
    _index("ix_task_ready_due", "human_task",
           ["due_at", "id", "jurisdiction_path", "procedure", "name", "overdue_since"], READY)
    _index("ix_task_overdue", "human_task", ["jurisdiction_path", "procedure", "name", "due_at"], READY_MARKED)
    op.drop_index("ix_case_running_due", table_name="case")
    _index("ix_case_running_due", "case", ["due_at", "id", "jurisdiction_path", "procedure", "deadline_label"], RUNNING)


def downgrade():
    op.drop_index("ix_case_running_due", table_name="case")
    _index("ix_case_running_due", "case", ["due_at"], RUNNING)
    op.drop_index("ix_task_overdue", table_name="human_task")
    op.drop_index("ix_task_ready_due", table_name="human_task")
    _index("ix_task_ready_due", "human_task", ["due_at", "jurisdiction_path", "procedure", "name"], READY)
