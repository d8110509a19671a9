"""Direct writes (engine.core.writes): rows written without the unit of work, the objects left as it leaves them."""
from __future__ import annotations

import pytest
from sqlalchemy import event, inspect, select, text

from engine.core.db import db
from engine.core.models import Case, HumanTask
from engine.core.transaction import transaction
from engine.core.writes import insert_rows
from tests.factories import open_case, ready_row


def _columns(row, *leave_out: str) -> dict:
    return {c.key: getattr(row, c.key) for c in inspect(row).mapper.column_attrs if c.key not in leave_out}


def _tasks_leaving_procedure_to_its_server_default(case: Case) -> list[HumanTask]:
    """A ready task's copies: the first and the last leave ``procedure`` to the database's default ("")."""
    db.session.expire_all()
    row = ready_row(db.session.get(Case, case.id))
    values = _columns(row, "id", "procedure", "task_uuid")
    return [HumanTask(**values, task_uuid=f"copy-{i}", **procedure)
            for i, procedure in enumerate(({}, {"procedure": "other"}, {"procedure": None}))]


def test_inserted_rows_have_the_server_defaults_the_database_gave_them_without_reading_them_again(app, clock):
    case = open_case(clock)
    statements: list[str] = []
    listener = (db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with transaction():
        rows = _tasks_leaving_procedure_to_its_server_default(case)[::2]  # procedure not set, set to None
        event.listen(*listener)
        insert_rows(rows)
        assert [inspect(row).dict.get("procedure") for row in rows] == ["", ""]
        assert [row.procedure for row in rows] == ["", ""]
        assert not [s for s in statements if not s.startswith("INSERT")]  # nothing read again
        event.remove(*listener)
    assert list(db.session.execute(select(HumanTask.procedure).where(HumanTask.task_uuid.like("copy-%"))).scalars()) \
        == ["", ""]
    assert db.session.execute(text("SELECT count(*) FROM human_task WHERE procedure = ''")).scalar_one() == 2


def test_rows_written_directly_in_a_transaction_that_is_rolled_back_leave_the_session(app, clock):
    """As the unit of work's own new objects do: after the rollback the rows are gone, so are their objects (the
    session does not give them by key); committed, they stay."""
    case = open_case(clock)
    rows = _tasks_leaving_procedure_to_its_server_default(case)[::2]
    insert_rows(rows)
    ids = [row.id for row in rows]
    assert all(row in db.session for row in rows)
    db.session.rollback()
    assert not any(row in db.session for row in rows)
    assert [db.session.get(HumanTask, i) for i in ids] == [None, None]

    rows = _tasks_leaving_procedure_to_its_server_default(case)[::2]
    with transaction():
        insert_rows(rows)
    assert all(row in db.session for row in rows) and [r.task_uuid for r in rows] == ["copy-0", "copy-2"]
    assert db.session.get(HumanTask, rows[0].id) is rows[0]


@pytest.mark.parametrize("database", ["app", "pg_app"])
def test_several_rows_are_written_in_one_statement_each_object_given_its_own_key(database, request, clock):
    """On SQLite RETURNING lists the rows in no defined order (SQLAlchemy would then write them one statement each):
    the keys are matched to the objects by the order the database numbered them in."""
    request.getfixturevalue(database)
    case = open_case(clock)
    statements: list[str] = []
    listener = (db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with transaction():
        rows = [copy for _ in range(6) for copy in _tasks_leaving_procedure_to_its_server_default(case)[::2]]
        for i, row in enumerate(rows):
            row.task_uuid = f"copy-{i}"
        event.listen(*listener)
        insert_rows(rows)
        event.remove(*listener)
        given = {row.id: row.task_uuid for row in rows}
    assert len(statements) == 1
    db.session.expunge_all()
    stored = dict(db.session.execute(select(HumanTask.id, HumanTask.task_uuid)
                                     .where(HumanTask.task_uuid.like("copy-%"))).all())
    assert given == stored and len(stored) == 12
