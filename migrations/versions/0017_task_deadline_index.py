"""a task page reads its task's deadline and its case's income record by key: indexes on ``case_deadline.task_id``
and ``income_record.case_id``. Without them each read scanned the table (the deadline read walked the primary key
backwards until it met the task: at a county's million deadlines, seconds per page).

Revision ID: 0017
Revises: 0016
"""
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_case_deadline_task_id", "case_deadline", ["task_id"])
    op.create_index("ix_income_record_case_id", "income_record", ["case_id"])


def downgrade():
    op.drop_index("ix_income_record_case_id", table_name="income_record")
    op.drop_index("ix_case_deadline_task_id", table_name="case_deadline")
