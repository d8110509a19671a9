"""Direct reads (engine.core.reads): an object made from a row of plain columns is what loading through the ORM
gives — persistent and clean, in the identity map, written by the unit of work and by engine.core.writes with its
version checked — and an object the session holds is returned as it is, only its expired attributes read."""
from __future__ import annotations

import pytest
from sqlalchemy import Integer, String, func, inspect, select, text, update
from sqlalchemy.orm import DeclarativeBase, Session, column_property, mapped_column, object_session
from sqlalchemy.orm.exc import StaleDataError

from engine.core import reads
from engine.core.db import db
from engine.core.models import Case, ProcessVersion
from engine.core.writes import update_row
from tests.factories import open_case, statements_of


def _read_case(case_id: int) -> Case:
    case = reads.entity(Case)
    row = db.session.execute(select(*case.columns).where(Case.__table__.c.id == case_id)).one()
    return reads.loaded(db.session(), case, row)


def test_a_case_read_directly_is_what_loading_gives(app, clock):
    case_id = open_case(clock).id
    db.session.remove()
    with Session(db.engine) as other:
        expected = other.get(Case, case_id)
        values = {key: getattr(expected, key) for key in reads.entity(Case).keys}
        unloaded = inspect(expected).unloaded
    case = _read_case(case_id)
    state = inspect(case)
    assert state.persistent and object_session(case) is db.session() and not db.session.dirty and not state.modified
    assert {key: case.__dict__[key] for key in values} == values
    assert state.unloaded == unloaded == {"process_version", "household", "jurisdiction"}
    assert statements_of(lambda: db.session.get(Case, case_id)) == 0 and db.session.get(Case, case_id) is case
    assert statements_of(lambda: case.jurisdiction.code) == 1  # its relationships load as a loaded case's do
    assert _read_case(case_id) is case  # the session's own, read again

    version = case.lock_version
    case.outcome_reason = "测试"
    db.session.flush()  # the unit of work writes it, its version checked and counted on
    assert case.lock_version == version + 1
    db.session.expire(case)
    assert (case.outcome_reason, case.lock_version) == ("测试", version + 1)
    db.session.rollback()


def test_a_case_read_directly_is_refused_once_another_has_written_it(app, clock):
    case_id = open_case(clock).id
    db.session.remove()
    case = _read_case(case_id)
    db.session.execute(update(Case.__table__).where(Case.__table__.c.id == case_id)
                       .values(lock_version=Case.__table__.c.lock_version + 1))
    with pytest.raises(StaleDataError):
        update_row(case, {"outcome_reason": "测试"})
    case.outcome_reason = "测试"
    with pytest.raises(StaleDataError):
        db.session.flush()
    db.session.rollback()


def test_an_object_the_session_holds_keeps_its_changes_and_reads_only_what_has_expired(app, clock):
    case_id = open_case(clock).id
    db.session.remove()
    held = db.session.get(Case, case_id)
    with db.session.no_autoflush:  # (else the change is flushed before the statement, as before any query)
        held.outcome_reason = "未写入的修改"
        db.session.expire(held, ["status", "lock_version"])
        assert _read_case(case_id) is held
        assert held.outcome_reason == "未写入的修改" and "outcome_reason" in inspect(held).committed_state
        assert statements_of(lambda: (held.status, held.lock_version)) == 0
    db.session.rollback()  # everything expired
    assert _read_case(case_id) is held and statements_of(lambda: held.outcome_reason) == 0
    assert held.outcome_reason is None and not inspect(held).modified
    db.session.rollback()


def test_only_plain_columns_are_read_directly():
    class Base(DeclarativeBase):
        pass

    class Note(Base):
        __tablename__ = "note"
        id = mapped_column(Integer, primary_key=True)
        text = mapped_column(String(10))
        length = column_property(func.length(text))

    with pytest.raises(TypeError, match="Note.length"):
        reads.entity(Note)


def test_a_deferred_column_is_left_to_load_when_first_read_as_loading_leaves_it(app, clock):
    version_id = open_case(clock).process_version_id
    db.session.remove()
    with Session(db.engine) as other:
        expected = other.get(ProcessVersion, version_id)
        unloaded, spec_json = inspect(expected).unloaded, expected.spec_json
    version = reads.entity(ProcessVersion)
    assert "spec_json" not in version.keys
    row = db.session.execute(select(*version.columns).where(ProcessVersion.__table__.c.id == version_id)).one()
    read = reads.loaded(db.session(), version, row)
    assert inspect(read).unloaded == unloaded and "spec_json" in unloaded and reads.held(db.session(), read)
    assert statements_of(lambda: read.spec_json) == 1 and read.spec_json == spec_json
    db.session.rollback()


@pytest.mark.postgres
def test_a_read_on_postgresql_is_prepared_once_per_connection_and_gives_what_the_statement_gives(pg_app, clock):
    """reads.first: the first run on a connection prepares the statement (PREPARE), every later one executes it
    (EXECUTE), a rollback keeps it, a new connection prepares it again; the row is the statement's own, its values
    of the same types (time zone, JSON, bytes)."""
    from datetime import datetime

    from sqlalchemy import event

    from engine.cases.tasks import _task_read
    from tests.factories import ready_row

    task_id = ready_row(open_case(clock)).id
    statement = _task_read(True).statement
    params = {"task_id": task_id, "username": "shahe_cun"}
    sent: list[str] = []
    listener = (db.engine, "before_cursor_execute", lambda *args: sent.append(args[2].split(" ", 1)[0]))
    event.listen(*listener)
    db.session.remove()
    expected = tuple(db.session.execute(statement, params).first())
    db.session.remove()
    sent.clear()
    rows = [tuple(reads.first(db.session(), statement, params))]
    rows.append(tuple(reads.first(db.session(), statement, params)))
    db.session.rollback()
    rows.append(tuple(reads.first(db.session(), statement, params)))
    assert sent == ["PREPARE", "EXECUTE", "EXECUTE", "EXECUTE"]
    assert all(row == expected for row in rows)
    assert [type(v) for v in rows[0]] == [type(v) for v in expected]
    columns = [c.table.name + "." + c.key for c in statement.selected_columns]
    created, state = rows[0][columns.index("human_task.created_at")], rows[0][columns.index("case.state")]
    assert isinstance(created, datetime) and created.tzinfo is not None and isinstance(state, bytes)
    assert rows[0][columns.index("user.username")] == "shahe_cun" and rows[0][0] == task_id
    prepared = db.session.execute(text("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'fangpin_%'"))
    assert prepared.scalar() == 1
    db.session.remove()
    db.engine.dispose()  # a new connection: prepared again
    sent.clear()
    assert tuple(reads.first(db.session(), statement, params)) == expected and sent == ["PREPARE", "EXECUTE"]
    missing = reads.first(db.session(), statement, {**params, "task_id": 10_000_000})
    assert missing is None and sent == ["PREPARE", "EXECUTE", "EXECUTE"]
    event.remove(*listener)
