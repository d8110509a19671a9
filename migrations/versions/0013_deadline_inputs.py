"""how a deadline was computed (期限的计算依据): each case deadline keeps its kind (working days, calendar days,
months, day of the month), its start day, its amount and whether a calendar-day period moves over rest days, so
that a deadline computed as provisional (暂定: next year's holiday arrangement not yet loaded) can be computed again
once an administrator has added that year (engine.cases.deadlines.recompute_provisional)

Upgrading fills them in for the provisional deadlines already computed, read from their explanations (the calendar
has written them in one form since the first release); other deadlines never need computing again and keep NULL.

Revision ID: 0013
Revises: 0012
"""
import re
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

deadline = sa.table("case_deadline", sa.column("id", sa.Integer), sa.column("explanation", sa.Text),
                    sa.column("provisional", sa.Boolean), sa.column("kind", sa.String), sa.column("start_on", sa.Date),
                    sa.column("amount", sa.Integer), sa.column("extended", sa.Boolean))
WORKING = re.compile(r"^自 (\d{4}-\d\d-\d\d) 起 (\d+) 个工作日")
DAYS = re.compile(r"^自 (\d{4}-\d\d-\d\d) 起 (\d+) 天（自然日")


def inputs(explanation: str) -> dict | None:
    """kind, start and amount of a provisional deadline from its explanation (only working days and calendar days
    moved over rest days can be provisional)."""
    if match := WORKING.match(explanation):
        return {"kind": "working_days", "start_on": date.fromisoformat(match[1]), "amount": int(match[2]),
                "extended": False}
    if (match := DAYS.match(explanation)) and "顺延" in explanation and "节假日不顺延" not in explanation:
        return {"kind": "days", "start_on": date.fromisoformat(match[1]), "amount": int(match[2]), "extended": True}
    return None


def upgrade():
    with op.batch_alter_table("case_deadline") as table:
        table.add_column(sa.Column("kind", sa.String(16), nullable=True))
        table.add_column(sa.Column("start_on", sa.Date, nullable=True))
        table.add_column(sa.Column("amount", sa.Integer, nullable=True))
        table.add_column(sa.Column("extended", sa.Boolean, nullable=False, server_default=sa.false()))
    connection = op.get_bind()
    rows = connection.execute(sa.select(deadline.c.id, deadline.c.explanation).where(deadline.c.provisional)).all()
    found = [{"row_id": row_id, **values} for row_id, text in rows if (values := inputs(text or ""))]
    if found:
        connection.execute(deadline.update().where(deadline.c.id == sa.bindparam("row_id")).values(
            kind=sa.bindparam("kind"), start_on=sa.bindparam("start_on"), amount=sa.bindparam("amount"),
            extended=sa.bindparam("extended")), found)


def downgrade():
    with op.batch_alter_table("case_deadline") as table:
        table.drop_column("extended")
        table.drop_column("amount")
        table.drop_column("start_on")
        table.drop_column("kind")
