"""a case's workflow state stored in lines (状态分行存储): the format line ``fangpin-state/2``, the instance as a JSON
document without its tasks, then one line per task — so that saving an instance again reuses the stored line of
every finished task

Upgrading changes no row: a state stored as one JSON document (the older form) loads as it is and is written in
lines the next time its case is saved. Downgrading writes every state in lines back as one document.

Revision ID: 0011
Revises: 0010
"""
import json
import zlib

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

FORMAT = "fangpin-state/2"
BATCH = 500
case = sa.table("case", sa.column("id", sa.Integer), sa.column("state", sa.LargeBinary))


def upgrade():
    pass


def _as_document(state: bytes) -> bytes | None:
    """The state as one JSON document, or None if it is one already."""
    text = zlib.decompress(state).decode("utf-8")
    if not text.startswith(FORMAT + "\n"):
        return None
    _, document, *lines = text.split("\n")
    dct = json.loads(document)
    maps = {"": dct["tasks"], **{key: sub["tasks"] for key, sub in dct.get("subprocesses", {}).items()}}
    for line in lines:
        owner, task_id, task_text = line.split("\t", 2)
        maps[owner][task_id] = json.loads(task_text)
    return zlib.compress(json.dumps(dct, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 1)


def downgrade():
    connection = op.get_bind()
    ids = [row[0] for row in connection.execute(sa.select(case.c.id).order_by(case.c.id))]
    for start in range(0, len(ids), BATCH):
        rows = connection.execute(sa.select(case.c.id, case.c.state).where(case.c.id.in_(ids[start:start + BATCH])))
        changed = [{"case_id": key, "value": value} for key, value in
                   ((key, _as_document(state)) for key, state in rows if state) if value is not None]
        if changed:
            connection.execute(case.update().where(case.c.id == sa.bindparam("case_id"))
                               .values(state=sa.bindparam("value")), changed)
