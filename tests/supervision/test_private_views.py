"""Who saw private data (敏感信息查看记录) reads the audit log through its partial index of the views and refusals,
on a database made by the migrations as a county's is, so that the list costs the same however long the log."""
from __future__ import annotations

from sqlalchemy import event, text

from engine.app import create_engine_app
from engine.bootstrap import setup_database
from engine.core.db import db
from engine.core.models import Jurisdiction
from engine.supervision.private_views import private_views

INDEX = "ix_audit_private_access"


def test_the_list_and_its_count_read_the_partial_index_of_views_and_refusals(tmp_path, clock):
    app = create_engine_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migrated.db'}",
                             "FANGPIN_CLOCK_OBJECT": clock, "TESTING": True})
    with app.app_context():
        setup_database(clock)  # the migrations, not create_all
        assert "'private_data_refused'" in db.session.scalar(
            text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"), {"name": INDEX})
        county = db.session.query(Jurisdiction).filter_by(code="360702").one()
        sent: list[tuple[str, object]] = []
        listen = (db.engine, "before_cursor_execute", lambda *args: sent.append((args[2], args[3])))
        event.listen(*listen)
        try:
            private_views(county)
        finally:
            event.remove(*listen)
        assert len(sent) == 2  # the count and the list
        for statement, parameters in sent:
            plan = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            assert any(f"audit_event USING INDEX {INDEX}" in row[-1] for row in plan), (statement, plan)
