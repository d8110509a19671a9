"""The database schema is made and upgraded by the migrations in migrations/ (Flask-Migrate), and they match
the models: a new column without a migration fails here. PostgreSQL: tests/test_postgres.py."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from engine.app import create_engine_app
from engine.bootstrap import setup_database
from engine.core.db import db
from engine.core.schema import BASE_REVISION


def _app(tmp_path, clock, **config):
    return create_engine_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'schema.db'}",
                              "FANGPIN_CLOCK_OBJECT": clock, "TESTING": True, **config})


def schema_differences() -> list:
    """What the models have that the database made by the migrations has not (and the reverse)."""
    with db.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), db.metadata)


def _revision() -> str:
    return db.session.scalar(text("SELECT version_num FROM alembic_version"))


def test_the_migrations_make_the_schema_of_the_models(tmp_path, clock):
    with _app(tmp_path, clock).app_context():
        setup_database(clock)
        assert schema_differences() == []
        assert _revision() == BASE_REVISION  # the newest migration (update when one is added)
        setup_database(clock)  # again: nothing to upgrade, nothing added twice
        assert _revision() == BASE_REVISION


def test_a_database_made_before_migrations_is_taken_over_in_place(tmp_path, clock):
    with _app(tmp_path, clock, FANGPIN_SCHEMA="create_all").app_context():
        setup_database(clock)  # the old way: create_all, no migration history
        assert "alembic_version" not in inspect(db.engine).get_table_names()
        cases_before = db.session.scalar(text("SELECT count(*) FROM process_version"))
    with _app(tmp_path, clock).app_context():
        setup_database(clock)
        assert _revision() == BASE_REVISION and schema_differences() == []
        assert db.session.scalar(text("SELECT count(*) FROM process_version")) == cases_before  # kept, not recreated
