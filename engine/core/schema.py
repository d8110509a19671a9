"""The database schema (数据库结构) and its upgrades: Alembic migrations in ``migrations/`` (Flask-Migrate), so
that a county's database is upgraded in place when a new release changes the tables, never recreated."""
from __future__ import annotations

import logging

from flask import current_app
from flask_migrate import stamp, upgrade
from sqlalchemy import inspect

from engine.core.db import db

log = logging.getLogger(__name__)

BASE_REVISION = "0001"  # the initial schema, as `db.create_all()` made it before migrations existed
CREATE_ALL = "create_all"


def upgrade_schema() -> None:
    """Bring the database to the newest schema. A database made before migrations existed (tables but no
    ``alembic_version``) is first recorded as being at the initial schema. With the setting
    ``FANGPIN_SCHEMA=create_all`` (the test suite's throwaway databases) the tables are created directly."""
    if current_app.config.get("FANGPIN_SCHEMA") == CREATE_ALL:
        db.create_all()
        return
    tables = set(inspect(db.engine).get_table_names())
    if tables and "alembic_version" not in tables:
        log.warning("database without migration history: recorded at the initial schema %s", BASE_REVISION)
        stamp(revision=BASE_REVISION)
    upgrade()
