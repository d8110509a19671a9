"""The database schema (数据库结构) and its upgrades: Alembic migrations in ``migrations/`` (Flask-Migrate), so
that a county's database is upgraded in place when a new release changes the tables, never recreated."""
from __future__ import annotations

import logging

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
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


def schema_problem() -> str | None:
    """Why a server must not start on this database — it was never initialised, or its schema is not this
    release's (each: run ``fangpin init``) — or None. Tables without a migration history (made by the models
    directly: the test suite's databases) are taken as they are."""
    if current_app.config.get("FANGPIN_SCHEMA") == CREATE_ALL:
        return None
    tables = set(inspect(db.engine).get_table_names())
    if "user" not in tables:
        return "数据库尚未初始化：请先运行 fangpin init（建立数据表，加载政策数据和流程）"
    if "alembic_version" not in tables:
        return None
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    expected = set(ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config()).get_heads())
    if current != expected:
        return (f"数据库结构版本（{'、'.join(sorted(current))}）不是本版本的（{'、'.join(sorted(expected))}）："
                "请先运行 fangpin init（就地升级，数据不变）")
    return None
