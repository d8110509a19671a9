"""Direct reads (直接读取): the objects of one row of plain columns, put into the session exactly as a query through
the ORM would have loaded them — the counterpart of :mod:`engine.core.writes`.

For a statement run on every request whose row holds many joined objects (a task with its case, household, places
and official). Through the ORM, each execution sets up anew the loading of every entity in it (row processors,
loader strategies, paths and adapters are built per execution; only the statement is cached): for ten entities
that cost several times reading the row. Read as columns (a Core statement on the mapped tables) and attached here,
the same objects cost a fraction of it.

What loading does (``sqlalchemy.orm.loading._instance``) is done the same way: an object the session already holds
is the one returned, only its unloaded (expired) attributes taken from the row and nothing else changed; a new one
is made as loading makes it — no ``__init__``, its column values in its ``__dict__``, its identity key set, put into
the session's identity map and attached — so it is persistent and clean (nothing for a flush), every column
attribute loaded but a deferred one (left to load when first read, as loading leaves it), every relationship
unloaded (lazy) unless :func:`set_loaded` sets it. ``Session.add`` would give the same object for several times
the cost (its cascade and events), which is why this goes as loading does. No
``load`` or ``loaded_as_persistent`` event is sent: nothing in this project listens to one. Only a plain column
attribute can be read so: a mapper with another (a SQL expression) is refused by :func:`entity`.

What it sets as loading sets it — ``ClassManager.new_instance``, ``InstanceState.key`` and ``.session_id``,
``IdentityMap.add`` — is SQLAlchemy's own but not its documented API: the version is pinned (setup.cfg), and
``tests/core/test_reads.py`` holds this to what loading gives, so that an upgrade that changes them fails there.

Such a statement joins many tables, and PostgreSQL plans a statement anew each time it is sent: for the task read
(ten tables) planning took 0.6 ms against 0.05 ms executing it. :func:`first` prepares it once per database
connection instead (PostgreSQL's own PREPARE / EXECUTE), so that it is planned once.

For the same reason a statement run on every request is built once, at import, with bound parameters (marked
"built once" where it is): building a small select and its cache key costs as much as SQLite running it."""
from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Row, Select, TextClause, inspect, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.sql import FromClause


@dataclass(frozen=True)
class Entity:
    """A mapped class as read from one table of a statement (its own, or an alias of it): ``columns`` are to be
    selected in this order, and the row's values of them give the object (:func:`loaded`)."""

    mapper: Mapper
    keys: tuple[str, ...]  # the column attributes, in the order of ``columns``
    columns: tuple[Any, ...]
    primary_key: tuple[int, ...]  # positions, in ``columns``, of the primary key


def entity(cls: type, table: FromClause | None = None) -> Entity:
    """``cls`` as read from ``table`` (an alias of its table; by default the table itself)."""
    mapper: Mapper = inspect(cls)
    own = mapper.local_table
    table = own if table is None else table
    keys, columns = [], []
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if len(prop.columns) != 1 or not isinstance(column, Column) or column.table is not own:
            raise TypeError(f"{cls.__name__}.{prop.key}: 只能直接读取映射到本表的普通列")
        if prop.deferred:  # not read: loaded when first asked for, as the ORM's loading leaves it
            continue
        keys.append(prop.key)
        columns.append(table.c[column.key])
    primary_key = tuple(keys.index(mapper.get_property_by_column(c).key) for c in mapper.primary_key)
    return Entity(mapper, tuple(keys), tuple(columns), primary_key)


def loaded(session: Session, entity: Entity, values: Sequence[Any]) -> Any | None:
    """The object of ``entity`` whose columns have ``values`` (the row's, in ``entity.columns`` order), as loading
    through the ORM gives it: None if its primary key is NULL (an outer join found no row); the session's own object
    of that identity if it holds one, its unloaded attributes taken from ``values``; else a new persistent one."""
    primary_key = tuple(values[i] for i in entity.primary_key)
    if all(v is None for v in primary_key):
        return None
    key = entity.mapper.identity_key_from_primary_key(primary_key)
    obj = session.identity_map.get(key)
    if obj is not None:
        expired = instance_state(obj).unloaded.intersection(entity.keys)
        if expired:
            for name, value in zip(entity.keys, values, strict=True):
                if name in expired:
                    set_committed_value(obj, name, value)
        return obj
    obj = entity.mapper.class_manager.new_instance()
    state = instance_state(obj)
    state.dict.update(zip(entity.keys, values, strict=True))
    state.key = key
    state.session_id = session.hash_key
    session.identity_map.add(state)
    return obj


def objects(session: Session, entities: Sequence[Entity], row: Sequence[Any]) -> list[Any | None]:
    """The object (or None) of each of ``entities`` in ``row``, which holds their columns one after the other."""
    found, start = [], 0
    for one in entities:
        end = start + len(one.columns)
        found.append(loaded(session, one, row[start:end]))
        start = end
    return found


def collection(session: Session, entity: Entity, rows: Iterable[Sequence[Any]]) -> list[Any]:
    """The objects of ``entity`` in ``rows`` (each row its columns), as :func:`loaded` gives each: the items of a
    collection to :func:`set_loaded` on the object they belong to."""
    return [loaded(session, entity, row) for row in rows]


def held(session: Session, obj: Any) -> bool:
    """Whether ``session`` still holds ``obj`` with every attribute loaded (not expired by a commit, a rollback or
    ``expire``, not expunged): reading its row again would give it as it is."""
    state = instance_state(obj)
    return state.session_id == session.hash_key and not state.expired_attributes and not state.expired


def set_loaded(obj: Any, key: str, value: Any) -> None:
    """Relationship ``key`` of ``obj`` loaded as ``value`` (another object of the row, None, or a collection's list
    of objects), unless it is loaded already — as a joined eager load leaves an object the session held."""
    if key not in obj.__dict__:
        set_committed_value(obj, key, value)


# -- statements planned once per connection (PostgreSQL) ---------------------------------------------------------

_PREPARED = "fangpin.prepared"  # the DBAPI connection's info: names of the statements prepared on it
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class Prepared:
    """A statement as PostgreSQL keeps it for a connection: ``create`` makes it (PREPARE), ``execute`` runs it with
    the statement's own parameters and gives its columns with their types, as the statement itself would."""

    name: str
    create: str
    execute: TextClause


@functools.cache
def prepared(statement: Select, dialect: Dialect) -> Prepared:
    """``statement`` (built once per process) as a prepared statement for ``dialect`` (psycopg2's placeholders)."""
    sql = str(statement.compile(dialect=dialect))
    names: list[str] = []
    for name in _PLACEHOLDER.findall(sql):
        if name not in names:
            names.append(name)
    body = _PLACEHOLDER.sub(lambda m: f"${names.index(m.group(1)) + 1}", sql).replace("%%", "%")
    name = "fangpin_" + hashlib.sha1(body.encode("utf-8")).hexdigest()[:16]
    run = text(f"EXECUTE {name}({', '.join(f':{n}' for n in names)})" if names else f"EXECUTE {name}")
    return Prepared(name, f"PREPARE {name} AS {body}", run.columns(*statement.selected_columns))


def first(session: Session, statement: Select, params: Mapping[str, Any]) -> Row | None:
    """The first row of ``statement`` (autoflushed first, as any query of the session). On PostgreSQL the statement
    is prepared on the connection the first time it runs there and executed as prepared after that: planned once
    per connection, not on every request. A prepared statement lasts as long as the connection, whatever becomes of
    the transaction that made it (a rollback keeps it); a new connection prepares it again."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return session.execute(statement, params).first()
    statement_prepared = prepared(statement, connection.dialect)
    made = connection.connection.info.setdefault(_PREPARED, set())
    if statement_prepared.name not in made:
        connection.exec_driver_sql(statement_prepared.create)
        made.add(statement_prepared.name)
    return session.execute(statement_prepared.execute, dict(params)).first()
