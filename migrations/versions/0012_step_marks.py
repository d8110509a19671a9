"""what a step is (环节标记): each human task keeps its user task's properties ``publicStage`` (the applicant's
progress stage of an identification step) and ``ledgerStep`` (what the step is for in the warning and campaign
ledgers), read by the engine instead of the step's BPMN id

Upgrading fills them in for the tasks already projected. The diagrams deployed before this release carried no such
property: their steps are named here by the ids those diagrams (processes/ of the release before, all county
variants included) gave them — the one place these ids are written, and for the past only. A task projected from
now on takes the property of its diagram (engine.cases.tasks.step_marks).

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PUBLIC_STAGES = {  # identification (every variant) and its publicity sub-process
    "application": ["apply"],
    "verification": ["verify"],
    "appraisal": ["appraisal"],
    "publicity": ["village_post", "verify_objection", "town_post"],
    "review": ["township_review", "comparison", "county_approval"],
    "included": ["assistance_plan", "system_entry", "announcement", "announce_post"],
}
LEDGER_STEPS = {  # (procedure, step id) → ledger step
    ("warning_push", "wp_push"): "department_push",
    ("warning_report", "wr_submit"): "monthly_report",
    ("annual_collection", "cl_visit"): "household_visit",
    ("annual_collection", "cl_entry"): "system_entry",
}
task = sa.table("human_task", sa.column("procedure", sa.String), sa.column("bpmn_id", sa.String),
                sa.column("public_stage", sa.String), sa.column("ledger_step", sa.String))


def upgrade():
    with op.batch_alter_table("human_task") as table:
        table.add_column(sa.Column("public_stage", sa.String(40), nullable=True))
        table.add_column(sa.Column("ledger_step", sa.String(40), nullable=True))
    for stage, ids in PUBLIC_STAGES.items():
        op.execute(task.update().where(task.c.procedure == "identification", task.c.bpmn_id.in_(ids))
                   .values(public_stage=stage))
    for (procedure, step_id), step in LEDGER_STEPS.items():
        op.execute(task.update().where(task.c.procedure == procedure, task.c.bpmn_id == step_id)
                   .values(ledger_step=step))


def downgrade():
    with op.batch_alter_table("human_task") as table:
        table.drop_column("ledger_step")
        table.drop_column("public_stage")
