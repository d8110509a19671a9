"""Direct writes (直接写入): the rows a task completion or a timer writes, each in one statement of its own, without
the ORM's unit of work — which costs several times the statements it emits when a flush has only a handful of rows.

The objects stay in the session exactly as if the unit of work had written them: persistent, their values the
committed ones, nothing left for a flush to do. A versioned row (a case's ``lock_version``) is updated only if
its version is still the one read, as the unit of work would; otherwise :class:`StaleDataError`, which
:func:`engine.core.transaction.transaction` turns into a conflict."""
from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam, insert, inspect, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.exc import StaleDataError

from engine.core.db import db


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
    if db.session.execute(statement, params).rowcount != 1:
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


def insert_rows(objs: list[Any]) -> None:
    """INSERT new objects of one class in one statement, their keys returned into them, and add them to the session
    as persistent (as if loaded). Their column values must be set; relationships are not written."""
    if not objs:
        return
    mapper = inspect(objs[0]).mapper
    key = mapper.primary_key[0]
    columns = [(prop.key, prop.columns[0]) for prop in mapper.column_attrs if prop.columns[0] is not key]
    for obj in objs:  # the scalar defaults the unit of work would apply, kept on the objects as it would
        for attr, column in columns:
            if obj.__dict__.get(attr) is None and column.default is not None and column.default.is_scalar:
                setattr(obj, attr, column.default.arg)
    written = [(attr, column) for attr, column in columns  # a server default applies where every row leaves it out
               if column.server_default is None or any(obj.__dict__.get(attr) is not None for obj in objs)]
    rows = [{column.key: obj.__dict__.get(attr) for attr, column in written} for obj in objs]
    result = db.session.execute(_insert_statement(mapper), rows)
    key_attr = mapper.get_property_by_column(key).key
    for obj, (new_id,) in zip(objs, result.all(), strict=True):
        setattr(obj, key_attr, new_id)
        make_transient_to_detached(obj)
        db.session.add(obj)


@functools.cache
def _insert_statement(mapper):
    key = mapper.primary_key[0]
    return insert(mapper.local_table).returning(key, sort_by_parameter_order=True)
