"""Direct writes (直接写入): the rows a task completion or a timer writes, each in one statement of its own, without
the ORM's unit of work — which costs several times the statements it emits when a flush has only a handful of rows.

The objects stay in the session exactly as if the unit of work had written them: persistent, their values the
committed ones, nothing left for a flush to do. A versioned row (a case's ``lock_version``) is updated only if
its version is still the one read, as the unit of work would; otherwise :class:`StaleDataError`, which
:func:`engine.core.transaction.transaction` turns into a conflict.

Inside :func:`deferred` (the scheduler waking many cases in one transaction) the rows are queued instead and
written together by :func:`write_deferred` — each kind of row of all the cases in one statement — so that the
transaction holds the database's write lock only for that moment; a row another wrote first then fails the
whole batch (StaleDataError), as it would have failed its case."""
from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, inspect, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.exc import StaleDataError

from engine.core.db import db, forget_when_the_transaction_ends, undo_unless_committed

_DEFERRED = "fangpin.deferred_writes"  # session.info: the _Queue of the deferred() block under way


@dataclass
class _Queue:
    inserts: dict[Any, list[Any]] = field(default_factory=dict)  # mapper → new objects, in the order queued
    updates: dict[Any, list[dict[str, Any]]] = field(default_factory=dict)  # statement → parameters


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Queue the direct writes made inside the block; write them when it ends (or earlier, by write_deferred)."""
    db.session.info[_DEFERRED] = _Queue()
    try:
        yield
        write_deferred()
    finally:
        db.session.info.pop(_DEFERRED, None)


def write_deferred() -> None:
    """Write what :func:`deferred` queued: each kind of new row in one INSERT (rows first whose keys others refer
    to), each shape of update in one statement; StaleDataError if a row was not where it was read."""
    queue: _Queue | None = db.session.info.get(_DEFERRED)
    if queue is None:
        return
    inserts, updates = queue.inserts, queue.updates
    queue.inserts, queue.updates = {}, {}
    for objs in inserts.values():
        _insert_now(objs)
    connection = db.session.connection()
    for statement, params in updates.items():
        if connection.dialect.supports_sane_multi_rowcount:
            found = connection.execute(statement, params).rowcount == len(params)
        else:  # a driver that batches cannot say how many rows each update found: one statement each
            found = all(connection.execute(statement, one).rowcount == 1 for one in params)
        if not found:
            raise StaleDataError(f"{len(params)} 行中有的已被其他事务更新")


forget_when_the_transaction_ends(_DEFERRED)


def update_row(obj: Any, values: dict[str, Any], *, only_if: dict[str, Any] | None = None) -> bool:
    """Write ``values`` and every other unflushed column change of ``obj`` into its row, in one UPDATE, and leave
    the object clean. ``only_if``: column values the row must still have (otherwise nothing is written and the
    result is False). A versioned object gets its next version, or StaleDataError if another wrote it first."""
    state = inspect(obj)
    mapper = state.mapper
    columns = _columns(mapper)
    values = {**{key: state.dict[key] for key in state.committed_state if key in columns and key in state.dict},
              **values}
    params = {f"k_{i}": value for i, value in enumerate(state.identity)}
    params |= {f"if_{key}": value for key, value in (only_if or {}).items()}
    version_key = _version_key(mapper)
    if version_key is not None:
        current = state.committed_state[version_key] if version_key in state.committed_state else getattr(
            obj, version_key)
        values[version_key] = current + 1
        params["if_version"] = current
    params |= {f"v_{key}": value for key, value in values.items()}
    statement = _update_statement(mapper, tuple(values), tuple(only_if or ()))
    queue: _Queue | None = db.session.info.get(_DEFERRED)
    if queue is not None:
        queue.updates.setdefault(statement, []).append(params)
    elif db.session.connection().execute(statement, params).rowcount != 1:
        if version_key is not None:
            raise StaleDataError(f"{mapper.class_.__name__} {state.identity} 已被其他事务更新")
        return False
    for key, value in values.items():
        state.dict[key] = value
    if all(key in columns for key in state.committed_state):
        state._commit_all(state.dict, db.session.identity_map)  # as the unit of work leaves a row it wrote
    else:
        for key in values:
            state.committed_state.pop(key, None)
    return True


@functools.cache
def _columns(mapper) -> dict[str, Any]:
    """attribute → column of a mapped class's own columns."""
    return {prop.key: prop.columns[0] for prop in mapper.column_attrs}


@functools.cache
def _version_key(mapper) -> str | None:
    version = mapper.version_id_col
    return mapper.get_property_by_column(version).key if version is not None else None


@functools.cache
def _update_statement(mapper, keys: tuple[str, ...], conditions: tuple[str, ...]):
    """The UPDATE of ``keys`` (attributes) with bound parameters, built once per shape (building a statement and its
    cache key costs more than SQLite running it)."""
    columns, table = _columns(mapper), mapper.local_table
    where = [column == bindparam(f"k_{i}") for i, column in enumerate(mapper.primary_key)]
    where += [columns[key] == bindparam(f"if_{key}") for key in conditions]
    if (version_key := _version_key(mapper)) is not None:
        where.append(columns[version_key] == bindparam("if_version"))
    return (update(table).where(*where).values({columns[key].key: bindparam(f"v_{key}") for key in keys})
            .execution_options(synchronize_session=False))


def insert_rows(objs: list[Any], *, now: bool = False) -> None:
    """INSERT new objects of one class in one statement, their keys returned into them, and add them to the session
    as persistent (as if loaded). Their column values must be set, or a many-to-one relationship to an object whose
    key is known by then (queued inside :func:`deferred`: the key is returned when the queue is written).
    ``now``: written at once even inside :func:`deferred` (the caller needs the keys)."""
    if not objs:
        return
    queue: _Queue | None = db.session.info.get(_DEFERRED)
    if queue is not None and not now:
        queue.inserts.setdefault(inspect(objs[0]).mapper, []).extend(objs)
    else:
        _insert_now(objs)


def _insert_now(objs: list[Any]) -> None:
    mapper = inspect(objs[0]).mapper
    for relationship in _many_to_one(mapper):  # the keys of the rows they refer to, known now
        for obj in objs:
            target = obj.__dict__.get(relationship.key)
            if target is not None and inspect(target).pending:  # a row of this transaction not written yet
                db.session.flush([target])
            if target is not None:
                for local, remote in relationship.local_remote_pairs:
                    setattr(obj, mapper.get_property_by_column(local).key,
                            getattr(target, inspect(target).mapper.get_property_by_column(remote).key))
    key = mapper.primary_key[0]
    columns = [(attr, column) for attr, column in _columns(mapper).items() if column is not key]
    for obj in objs:  # the scalar defaults the unit of work would apply, kept on the objects as it would
        for attr, column in columns:
            if obj.__dict__.get(attr) is None and column.default is not None and column.default.is_scalar:
                obj.__dict__[attr] = column.default.arg
    written = [(attr, column) for attr, column in columns  # a server default applies where every row leaves it out
               if column.server_default is None or any(obj.__dict__.get(attr) is not None for obj in objs)]
    fetched = tuple(attr for attr, column in columns if (attr, column) not in written)
    rows = [{column.key: obj.__dict__.get(attr) for attr, column in written} for obj in objs]
    connection = db.session.connection()
    in_order = connection.dialect.name != "sqlite"
    returned = connection.execute(_insert_statement(mapper, fetched, in_order), rows).all()
    if not in_order:  # one INSERT … VALUES (…), (…): SQLite numbers its rows in order, RETURNING may list them in any
        returned.sort(key=lambda found: found[0])
    key_attr = mapper.get_property_by_column(key).key
    for obj, (new_id, *defaults) in zip(objs, returned, strict=True):
        obj.__dict__[key_attr] = new_id
        obj.__dict__.update(zip(fetched, defaults, strict=True))  # the server defaults, as the unit of work fetches them
        make_transient_to_detached(obj)
        db.session.add(obj)
    undo_unless_committed(functools.partial(_forget, db.session(), objs))


def _forget(session: Any, objs: list[Any]) -> None:
    """Rows written directly in a transaction that was not committed are gone: their objects leave the session, as
    the unit of work's own new objects do on a rollback (else the session would go on holding them, expired, and
    give them by key)."""
    for obj in objs:
        if obj in session:
            session.expunge(obj)


@functools.cache
def _insert_statement(mapper, fetched: tuple[str, ...] = (), in_order: bool = True):
    """The INSERT of ``mapper``'s rows, returning their keys and the server defaults of the attributes ``fetched``;
    ``in_order``: the returned rows in the order of the parameters (SQLAlchemy then writes the rows one statement
    each on SQLite, where RETURNING has no defined order — there the caller sorts them by key instead: a single
    INSERT numbers its rows in the order it is given them, under the database's write lock)."""
    key, columns = mapper.primary_key[0], _columns(mapper)
    return insert(mapper.local_table).returning(key, *(columns[attr] for attr in fetched),
                                                sort_by_parameter_order=in_order)


def insert_values(table: Any, rows: list[dict[str, Any]], *, keys: bool = False) -> list[int]:
    """INSERT plain rows of ``table`` (column name → value, every row the same columns) without objects — for many
    thousands at once (an import), where building and tracking an object per row would cost more than the INSERT:
    one statement, sent as the driver batches it (SQLite's parameter limit splits it into pages). ``keys``: the rows'
    new keys are returned, in the order of ``rows`` (sorted on SQLite, which numbers one INSERT's rows in order under
    its write lock, as :func:`insert_rows` relies on); else []."""
    if not rows:
        return []
    connection = db.session.connection()
    if not keys:
        connection.execute(insert(table), rows)
        return []
    in_order = connection.dialect.name != "sqlite"
    [key] = table.primary_key.columns
    returned = [found for (found,) in connection.execute(
        insert(table).returning(key, sort_by_parameter_order=in_order), rows)]
    return returned if in_order else sorted(returned)


def lock_rows(table: Any, ids: list[int]) -> None:
    """Take the rows of ``table`` with these keys for the rest of the caller's transaction, as :func:`lock_row` takes
    one: in one statement per 500 keys, in key order (two transactions locking overlapping sets never deadlock)."""
    [key] = table.primary_key.columns
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), 500):
        db.session.execute(update(table).where(key.in_(ordered[start:start + 500])).values({key.name: key}))


@functools.cache
def _many_to_one(mapper) -> tuple:
    return tuple(r for r in mapper.relationships if r.direction.name == "MANYTOONE")


def lock_row(obj: Any) -> Any:
    """Take the row of ``obj`` for the rest of the caller's transaction, before checking what may be written beside
    it: a request doing the same at the same moment waits until this transaction ends, then reads what it wrote.
    PostgreSQL locks the row (an UPDATE that changes nothing), SQLite takes its write lock. Returns ``obj`` as
    stored now (its attributes are read again: call it before changing it)."""
    state = inspect(obj)
    [key] = state.mapper.primary_key
    db.session.execute(update(state.mapper.local_table).where(key == state.identity[0]).values({key.name: key}))
    db.session.refresh(obj)
    return obj
