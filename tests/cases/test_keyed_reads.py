"""A task page's reads by key search an index, on a database made by the migrations as a county's is: the task's
deadline (by task) and the case's income record (by case). Without the index SQLite scans the table, and the deadline
read walked a county's million deadlines backwards until it met the task."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from engine.app import create_engine_app
from engine.bootstrap import setup_database
from engine.cases.deadlines import task_deadline
from engine.core.db import db
from engine.households.records import case_incomes


@pytest.mark.parametrize(("read", "table", "index"), [
    (lambda: task_deadline(1), "case_deadline", "ix_case_deadline_task_id"),
    (lambda: case_incomes([1, 2]), "income_record", "ix_income_record_case_id"),
])
def test_a_task_pages_read_by_key_searches_its_index(tmp_path, clock, read, table, index):
    app = create_engine_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migrated.db'}",
                             "FANGPIN_CLOCK_OBJECT": clock, "TESTING": True})
    with app.app_context():
        setup_database(clock)  # the migrations, not create_all
        sent: list[tuple[str, object]] = []
        listen = (db.engine, "before_cursor_execute", lambda *args: sent.append((args[2], args[3])))
        event.listen(*listen)
        try:
            read()
        finally:
            event.remove(*listen)
        assert len(sent) == 1
        statement, parameters = sent[0]
        plan = [row[-1] for row in db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                                                          parameters)]
        assert any(f"SEARCH {table} USING INDEX {index}" in row for row in plan), plan
