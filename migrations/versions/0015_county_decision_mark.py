"""the county's decision of an identification is a step mark (县级审定 = ledgerStep ``county_decision``): the warning
ledger dates an identification's decision by the completed task its diagram marks so, no longer by the task's form
name

Upgrading marks the tasks already projected from the county approval of an identification: the diagrams deployed
before this release carried no such mark, and their deciding step was the one with the form ``county_approval.json``
(processes/ of the release before, all county variants included) — the one place this form name is written as a
rule, and for the past only. A task projected from now on takes the mark of its diagram (engine.cases.tasks
.step_marks; a case still running on a version deployed before takes the newest version's). No column changes.

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

MARK = "county_decision"
PAST_FORM = "county_approval.json"  # the deciding step's form in every identification diagram before this release
task = sa.table("human_task", sa.column("procedure", sa.String), sa.column("form", sa.String),
                sa.column("ledger_step", sa.String))


def upgrade():
    op.execute(task.update().where(task.c.procedure == "identification", task.c.form == PAST_FORM,
                                   task.c.ledger_step.is_(None)).values(ledger_step=MARK))


def downgrade():
    op.execute(task.update().where(task.c.ledger_step == MARK).values(ledger_step=None))
