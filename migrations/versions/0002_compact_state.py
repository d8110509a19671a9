"""compact workflow state, task of an audit event, when a timer fired

The instance state of a case moves from ``case.state_json`` (SpiffWorkflow's JSON, ``\\u``-escaped) to
``case.state``: the same document as compact UTF-8 JSON, zlib-compressed (the encoding of
engine.bpmn.runtime.dump_state, written out here so that this migration stays as it is when that changes).
Rows are converted in batches. An audit event gets the human task it is about as a column (filled from the
``task_id`` its detail held until now); a timer's deadline gets the moment it fired.

Revision ID: 0002
Revises: 0001
"""
import json
import zlib

import sqlalchemy as sa
from alembic import op

import engine.core.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BATCH = 500
case = sa.table("case", sa.column("id", sa.Integer), sa.column("state_json", sa.Text),
                sa.column("state", sa.LargeBinary))


def _convert(read: str, write: str, encode) -> None:
    connection = op.get_bind()
    ids = [row[0] for row in connection.execute(sa.select(case.c.id).order_by(case.c.id))]
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        rows = connection.execute(sa.select(case.c.id, case.c[read]).where(case.c.id.in_(chunk))).all()
        connection.execute(case.update().where(case.c.id == sa.bindparam("case_id")).values({write: sa.bindparam("value")}),
                           [{"case_id": key, "value": encode(value)} for key, value in rows])


def _compact(text: str) -> bytes:
    document = json.loads(text or "{}")
    return zlib.compress(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 1)


def _expand(state: bytes) -> str:
    return json.dumps(json.loads(zlib.decompress(state))) if state else "{}"


def upgrade():
    with op.batch_alter_table("case") as batch:
        batch.add_column(sa.Column("state", sa.LargeBinary(), nullable=True))
    _convert("state_json", "state", _compact)
    with op.batch_alter_table("case") as batch:
        batch.alter_column("state", existing_type=sa.LargeBinary(), nullable=False)
        batch.drop_column("state_json")

    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("task_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_audit_event_task_id"), ["task_id"], unique=False)
        batch.create_foreign_key(batch.f("fk_audit_event_task_id_human_task"), "human_task", ["task_id"], ["id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE audit_event SET task_id = (detail->>'task_id')::integer "
                   "WHERE detail->>'task_id' IS NOT NULL")
    else:
        op.execute("UPDATE audit_event SET task_id = CAST(json_extract(detail, '$.task_id') AS INTEGER) "
                   "WHERE json_extract(detail, '$.task_id') IS NOT NULL")

    with op.batch_alter_table("case_deadline") as batch:
        batch.add_column(sa.Column("fired_at", engine.core.db.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("case_deadline") as batch:
        batch.drop_column("fired_at")
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_constraint(batch.f("fk_audit_event_task_id_human_task"), type_="foreignkey")
        batch.drop_index(batch.f("ix_audit_event_task_id"))
        batch.drop_column("task_id")
    with op.batch_alter_table("case") as batch:
        batch.add_column(sa.Column("state_json", sa.Text(), nullable=True))
    _convert("state", "state_json", _expand)
    with op.batch_alter_table("case") as batch:
        batch.alter_column("state_json", existing_type=sa.Text(), nullable=False)
        batch.drop_column("state")
