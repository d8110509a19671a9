"""self-applications made on the public page (农户自主申报): the household's statement, phone and risk types, the
application number with which the applicant follows or cancels it, and its status, with the case it opened

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

from engine.core.db import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "self_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("applicant_digest", sa.String(length=64), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=False),
        sa.Column("risk_types", sa.JSON(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("household_status_before", sa.String(length=20), nullable=False),
        sa.Column("cancelled_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_self_application_case_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_application")),
        sa.UniqueConstraint("case_id", name=op.f("uq_self_application_case_id")),
        sa.UniqueConstraint("number", name=op.f("uq_self_application_number")),
    )


def downgrade():
    op.drop_table("self_application")
