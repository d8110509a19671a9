"""Shared fixtures: an application on a fresh SQLite file, the injected clock, demo logins."""
from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, current_app
from sqlalchemy import inspect, update

from engine.app import create_engine_app
from engine.bootstrap import setup_database
from engine.core.clock import FixedClock
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.models import User
from engine.core.schema import CREATE_ALL
from engine.core.transaction import transaction
from engine.demo import DEMO_PASSWORD, create_users
from engine.policy.parameters import load_policy_file
from tests.factories import password_hash
from tests.pg import pg_app, postgres_url  # noqa: F401 - the PostgreSQL fixtures

logging.getLogger("spiff").setLevel(logging.WARNING)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long tests first: those marked ``slow`` (servers, subprocesses, whole walkthroughs), then the browser and
    PostgreSQL ones, then the rest, each group in its collected order. With ``pytest -n auto --maxschedchunk 1``
    (``make test``) a worker takes the next test whenever it is free, so the long ones are spread over the workers
    from the start and the last to finish are short ones, not a walkthrough that one worker started at the end."""

    def rank(item: pytest.Item) -> int:
        if item.get_closest_marker("slow"):
            return 0
        return 1 if item.get_closest_marker("browser") or item.get_closest_marker("postgres") else 2

    items.sort(key=rank)  # stable: the same order on every xdist worker


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 9, 20, 1, 0, tzinfo=UTC))


def make_app(db_path: Path, clock: FixedClock, factory=create_engine_app, **config: Any) -> Flask:
    return factory({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "FANGPIN_CLOCK_OBJECT": clock,
                    "TESTING": True, "SECRET_KEY": "test", "RATELIMIT_ENABLED": False,  # tests/web/test_ratelimits.py
                    "FANGPIN_SCHEMA": "create_all",  # throwaway databases; tests/core/test_schema.py runs the migrations
                    **config})


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "fangpin.db"


def prepare_database(clock: FixedClock) -> None:
    """Jurisdictions, policy, deployed diagrams, demo monitoring lines and logins.

    Built for real once per test process for each clock time and setting (:func:`_template_key`), then copied:
    every later test on a fresh SQLite file gets a byte-for-byte copy of that database (SQLite's backup API), its
    own to change. Building it takes most of a second (diagrams parsed, deployed and dry-run); a copy, milliseconds.
    """
    key = _template_key(clock)
    if key is not None and key in _TEMPLATES:
        template, after = _TEMPLATES[key]
        _copy_database(template, _database_file())
        if clock.now() != after:
            clock.set(after)
        return
    setup_database(clock)
    with transaction():
        load_policy_file(project_dir("policy") / "demo_parameters.json")
        create_users()
        db.session.execute(update(User).values(password_hash=password_hash(DEMO_PASSWORD)))  # tests/factories.py
    if key is not None:
        template = Path(tempfile.mkdtemp(prefix="fangpin-template-")) / "template.db"
        atexit.register(shutil.rmtree, template.parent, True)
        _copy_database(_database_file(), template)
        _TEMPLATES[key] = (template, clock.now())


_TEMPLATES: dict[tuple, tuple[Path, datetime]] = {}  # this process's prepared databases, by _template_key


def _database_file() -> Path | None:
    """The current application's SQLite file (None for another database or an in-memory one)."""
    url = db.engine.url
    return Path(url.database) if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
        else None


def _template_key(clock: FixedClock) -> tuple | None:
    """What the prepared database depends on: the clock's time, the ``FANGPIN_*`` settings (folders of the policy,
    diagrams and forms, the holiday calendar's override) and those folders' files. None — build it, copy nothing —
    unless the database is a fresh SQLite file (no table yet) whose tables are created directly (not migrated)."""
    if current_app.config.get("FANGPIN_SCHEMA") != CREATE_ALL or _database_file() is None:
        return None
    if inspect(db.engine).get_table_names():
        return None
    db.engine.dispose()
    settings = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("FANGPIN_")))
    files = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for name in ("policy", "processes", "forms")
                  for f in sorted(project_dir(name).rglob("*")) if f.is_file())
    return clock.now(), settings, files


def _copy_database(source: Path, target: Path) -> None:
    """``source`` into ``target``, every page (committed data only, whatever is still in its write-ahead log)."""
    db.session.remove()
    db.engine.dispose()  # no pooled connection of the application keeps the target open meanwhile
    with contextlib.closing(sqlite3.connect(source)) as reading, contextlib.closing(sqlite3.connect(target)) as writing:
        reading.backup(writing)


@pytest.fixture
def app(db_path: Path, clock: FixedClock) -> Iterator[Flask]:
    """The engine application on a set-up database, with its application context pushed."""
    app = make_app(db_path, clock)
    with app.app_context():
        prepare_database(clock)
        yield app
        db.session.remove()


@pytest.fixture
def web_app(db_path: Path, clock: FixedClock) -> Flask:
    """The web application (CSRF on) on a set-up database. No application context stays pushed: each
    request gets its own, as in production (tests use ``with web_app.app_context()`` to look inside)."""
    from web import create_app

    app = make_app(db_path, clock, create_app)
    with app.app_context():
        prepare_database(clock)
    return app


@pytest.fixture
def client(web_app: Flask):
    """A browser without a login, on the web app."""
    return web_app.test_client()


@pytest.fixture
def editor(client):
    """The demo policy editor (江西省政策管理员), logged in."""
    from tests.webclient import login

    return login(client, "jiangxi_zhengce")
