"""A26 as the latest verification found it is a column of the household (``no_medical_insurance_found``): the
household verification, the ledger and the elimination conditions read it with the household instead of reading
the household's audit entries ``guarantees_verified`` each time.

Upgrading fills it from those entries: for each household, the value of ``no_basic_medical_insurance`` in the
newest entry that changed it (False where none did) — one read of the entries, one UPDATE of the households found.

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

FINDING = "no_basic_medical_insurance"  # the A26 field of the verification form, as audited
audit_event = sa.table("audit_event", sa.column("id", sa.Integer), sa.column("action", sa.String),
                       sa.column("household_id", sa.Integer), sa.column("detail", sa.JSON))
household = sa.table("household", sa.column("id", sa.Integer), sa.column("no_medical_insurance_found", sa.Boolean))


def upgrade():
    op.add_column("household", sa.Column("no_medical_insurance_found", sa.Boolean(), nullable=False,
                                         server_default=sa.false()))
    found: dict[int, bool] = {}
    rows = op.get_bind().execute(sa.select(audit_event.c.household_id, audit_event.c.detail)
                                 .where(audit_event.c.action == "guarantees_verified",
                                        audit_event.c.household_id.is_not(None))
                                 .order_by(audit_event.c.id))
    for household_id, detail in rows:
        changed = (detail or {}).get("changed") or {}
        if FINDING in changed:
            found[household_id] = bool(changed[FINDING])
    lapsed = [{"hid": household_id} for household_id, value in found.items() if value]
    if lapsed:
        op.get_bind().execute(household.update().where(household.c.id == sa.bindparam("hid"))
                              .values(no_medical_insurance_found=True), lapsed)


def downgrade():
    with op.batch_alter_table("household") as batch:
        batch.drop_column("no_medical_insurance_found")
