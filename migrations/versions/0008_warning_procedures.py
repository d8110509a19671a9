"""department warnings run as BPMN procedures: a case may be about a place rather than one household (a warning
batch, a department's push, a county's monthly report) — its subject, a reference to find it by and the department
whose officer acts in it; each warning points at the case whose step it waits in; a department officer belongs to
one department

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("case") as table:
        table.alter_column("household_id", existing_type=sa.Integer(), nullable=True)
        table.add_column(sa.Column("subject", sa.String(200), nullable=True))
        table.add_column(sa.Column("reference", sa.String(80), nullable=True))
        table.add_column(sa.Column("department", sa.String(40), nullable=True))
        table.create_index("ix_case_reference", ["reference"])
    with op.batch_alter_table("user") as table:
        table.add_column(sa.Column("department", sa.String(40), nullable=True))
    with op.batch_alter_table("department_warning") as table:
        table.add_column(sa.Column("step_case_id", sa.Integer(), sa.ForeignKey("case.id", name="fk_department_warning_step_case_id_case"),
                                   nullable=True))
        table.create_index("ix_department_warning_step_case_id", ["step_case_id"])


def downgrade():
    with op.batch_alter_table("department_warning") as table:
        table.drop_index("ix_department_warning_step_case_id")
        table.drop_constraint("fk_department_warning_step_case_id_case", type_="foreignkey")
        table.drop_column("step_case_id")
    with op.batch_alter_table("user") as table:
        table.drop_column("department")
    with op.batch_alter_table("case") as table:
        table.drop_index("ix_case_reference")
        table.drop_column("department")
        table.drop_column("reference")
        table.drop_column("subject")
        table.alter_column("household_id", existing_type=sa.Integer(), nullable=False)
