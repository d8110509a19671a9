"""indexes of ready tasks only, for the inbox, the overdue lists and the sweep; place paths compared byte by byte

Partial indexes on ready tasks (the inbox by role, place and urgency; by place and due date) and running cases
by due date (a county's million completed tasks are not in them), and on those not yet marked overdue (the sweep's "what newly fell due"). On PostgreSQL the place paths
get the "C" collation, so that "at or below a place" is a byte range whatever the database's locale (SQLite
compares bytes already).

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

READY = sa.text("state = 'READY'")
READY_NEW = sa.text("state = 'READY' AND overdue_since IS NULL")
RUNNING = sa.text("status = 'running' AND deadline_met_at IS NULL")
RUNNING_NEW = sa.text("status = 'running' AND deadline_met_at IS NULL AND overdue_since IS NULL")
PATHS = (("jurisdiction", "path"), ("case", "jurisdiction_path"), ("human_task", "jurisdiction_path"))


def _index(name, table, columns, where):
    op.create_index(name, table, columns, unique=False, sqlite_where=where, postgresql_where=where)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table, column in PATHS:
            op.alter_column(table, column, type_=sa.String(400, collation="C"), existing_type=sa.String(400))
    op.drop_index("ix_task_inbox", table_name="human_task")
    op.drop_index("ix_task_urgency", table_name="human_task")
    _index("ix_task_inbox", "human_task", ["role", "jurisdiction_path", "sort_due", "id"], READY)
    _index("ix_task_urgency", "human_task", ["sort_due", "id"], READY)
    op.drop_index("ix_human_task_due_at", table_name="human_task")  # the completed tasks' due dates: never read
    op.drop_index("ix_case_due_at", table_name="case")
    _index("ix_task_ready_place", "human_task", ["jurisdiction_path", "sort_due"], READY)
    _index("ix_task_ready_due", "human_task", ["due_at"], READY)
    _index("ix_task_newly_due", "human_task", ["due_at"], READY_NEW)
    _index("ix_case_running_due", "case", ["due_at"], RUNNING)
    _index("ix_case_newly_due", "case", ["due_at"], RUNNING_NEW)


def downgrade():
    for name, table in (("ix_case_newly_due", "case"), ("ix_case_running_due", "case"),
                        ("ix_task_newly_due", "human_task"), ("ix_task_ready_due", "human_task"),
                        ("ix_task_ready_place", "human_task")):
        op.drop_index(name, table_name=table)
    op.create_index("ix_case_due_at", "case", ["due_at"])
    op.create_index("ix_human_task_due_at", "human_task", ["due_at"])
    op.drop_index("ix_task_urgency", table_name="human_task")
    op.drop_index("ix_task_inbox", table_name="human_task")
    op.create_index("ix_task_inbox", "human_task", ["state", "role", "jurisdiction_path", "sort_due", "id"])
    op.create_index("ix_task_urgency", "human_task", ["state", "sort_due", "id"])
    if op.get_bind().dialect.name == "postgresql":
        for table, column in PATHS:
            op.alter_column(table, column, type_=sa.String(400), existing_type=sa.String(400, collation="C"))
