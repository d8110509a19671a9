"""Shared fixtures: an application on a fresh SQLite file, the injected clock, demo logins."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from engine.app import create_engine_app
from engine.bootstrap import setup_database
from engine.core.clock import FixedClock
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.transaction import transaction
from engine.demo import create_users
from engine.policy.parameters import load_policy_file
from tests.pg import pg_app, postgres_url  # noqa: F401 - the PostgreSQL fixtures

logging.getLogger("spiff").setLevel(logging.WARNING)


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
    """Jurisdictions, policy, deployed diagrams, demo monitoring lines and logins."""
    setup_database(clock)
    with transaction():
        load_policy_file(project_dir("policy") / "demo_parameters.json")
        create_users()


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
