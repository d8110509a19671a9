"""The database extension (Flask-SQLAlchemy), initialised once, and column types shared by the models."""
from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, and_, event, literal
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

from engine.core.errors import NotFound

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",  # every column: PostgreSQL needs unique names
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
log = logging.getLogger(__name__)
MAX_ID = 2**63 - 1  # the largest BIGINT (PostgreSQL) and SQLite INTEGER: a larger id is no record

SQLITE_BUSY_TIMEOUT_MS = 10_000  # a writer waits this long for another process's transaction, then fails
SQLITE_CACHE_KB = 65_536  # pages kept in memory per connection (SQLite's default is 2 MB: a county's indexes are larger)


@event.listens_for(Engine, "connect")
def _sqlite_durable_and_concurrent(dbapi_connection, connection_record) -> None:
    """SQLite (the embedded database): write-ahead log with a full sync on every commit — a committed
    completion survives a crash or power loss, readers never block the writer — and a busy timeout instead of
    an immediate "database is locked". PostgreSQL connections are left as they are."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KB}")
    cursor.close()


def forget_when_the_transaction_ends(key: str) -> None:
    """What a module keeps in ``session.info[key]`` to write at commit belongs to that transaction only: dropped
    when it ends (after the commit has used it, or on a rollback or close)."""

    @event.listens_for(Session, "after_transaction_end")
    def _forget(session: Session, transaction) -> None:
        if transaction.parent is None:
            session.info.pop(key, None)


_UNDO = "fangpin.undo_unless_committed"  # session.info: what to undo if the transaction under way is not committed


def undo_unless_committed(undo: Callable[[], None]) -> None:
    """Run ``undo`` when the session's transaction under way ends without a commit (rolled back, or closed): for
    what is done in step with the transaction but outside its unit of work — a file written beside it, rows
    written directly (engine.core.writes) whose objects would otherwise stay in the session. Nothing is run
    once it commits. Begins the transaction if none is under way yet (so that its end is seen)."""
    if db.session().get_transaction() is None:
        db.session.connection()
    db.session.info.setdefault(_UNDO, []).append(undo)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    session.info.pop(_UNDO, None)


@event.listens_for(Session, "after_transaction_end")
def _not_committed(session: Session, transaction) -> None:
    if transaction.parent is not None:
        return
    for undo in reversed(session.info.pop(_UNDO, [])):
        try:
            undo()
        except Exception:  # the error that ended the transaction is the one to report
            log.exception("undoing %r after a transaction that was not committed failed", undo)


def within(path_column, path: str):
    """The rows whose place path (e.g. "/36/3607/360702/") lies at or below ``path``: a range on the path, which
    an index on the column serves on SQLite and PostgreSQL alike (``LIKE :path || '%'`` is not served)."""
    return and_(path_column >= path, path_column < path[:-1] + chr(ord(path[-1]) + 1))


def _sqlite_table_hints() -> None:
    """SQLAlchemy writes a statement's table hints (``with_hint``) only for the dialects that declare where they go;
    SQLite's is ``INDEXED BY <index>`` right after the table name, in SELECT and UPDATE alike. Without statistics
    (which SQLite 3.40 must not have: with ``sqlite_stat1`` it returns wrong rows for some range lookups) its
    planner prefers any index on ``state`` to a partial index of ready tasks; the overdue queries name theirs."""
    SQLiteCompiler.get_from_hint_text = lambda self, table, text: text
    SQLiteCompiler.get_crud_hint_text = lambda self, table, text: text


_sqlite_table_hints()


def fixed(value: str):
    """A code written into the SQL as it is, not sent as a parameter: a partial index whose condition names the
    code (``state = 'READY'``) can then serve the query — SQLite plans a statement before it sees parameters."""
    return literal(value, literal_execute=True)


def fetch(model: type, key: object, what: str):
    """The row of ``model`` with primary key ``key``; NotFound("<what> <key> 不存在") if there is none."""

    row = db.session.get(model, key)
    if row is None:
        raise NotFound(f"{what} {key} 不存在")
    return row


class UTCDateTime(TypeDecorator):
    """A timezone-aware instant stored as UTC (SQLite drops time zones; PostgreSQL gets timestamptz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def database_unreachable(exc: Exception) -> str:
    """What to say when the database cannot be reached: its address without the password, the driver's first line,
    and what to check."""
    url = db.engine.url.render_as_string(hide_password=True)
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"无法连接数据库 {url}：{lines[0] if lines else type(exc).__name__}（请检查 DATABASE_URL、数据库服务是否在运行、账号和口令）"
