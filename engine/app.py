"""The engine's Flask application: configuration from the environment, the database and the clock,
initialised in one place. ``web.create_app`` builds on it; the CLI and the scheduler use it alone."""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_migrate import Migrate

from engine.campaigns.functions import install as install_campaign_functions
from engine.cases.live import DEFAULT_SIZE
from engine.core.clock import Clock, ClockFileError, FileClock, SystemClock
from engine.core.config import REPO_ROOT, database_url, env_count
from engine.core.db import db
from engine.core.models import AppSetting
from engine.warnings.functions import install as install_warning_functions

CLOCK_KEY = "fangpin.clock"
MIGRATIONS_DIR = REPO_ROOT / "migrations"
migrate = Migrate(directory=str(MIGRATIONS_DIR), compare_type=True, render_as_batch=True)
DEMO_CLOCK_SETTING = "demo_clock"
FILE_CLOCK_PREFIX = "file:"  # FANGPIN_CLOCK=file:/path/to/clock — the time written in that file (FileClock)


class DemoClock:
    """A clock whose time is stored in the database, so that a demo can move it forward for every
    process (web, scheduler, CLI) at once. Falls back to the real time until it is first set."""

    def now(self) -> datetime:
        setting = db.session.get(AppSetting, DEMO_CLOCK_SETTING)
        return datetime.fromisoformat(setting.value) if setting else SystemClock().now()

    def is_set(self) -> bool:
        return db.session.get(AppSetting, DEMO_CLOCK_SETTING) is not None

    def set(self, at: datetime) -> None:
        setting = db.session.get(AppSetting, DEMO_CLOCK_SETTING) or AppSetting(key=DEMO_CLOCK_SETTING)
        setting.value = at.isoformat()
        db.session.add(setting)


def create_engine_app(config: dict[str, Any] | None = None) -> Flask:
    """Application factory for the engine (no web blueprints)."""
    instance = Path(os.environ.get("FANGPIN_INSTANCE", REPO_ROOT / "instance"))
    app = Flask("fangpin", instance_path=str(instance), root_path=str(REPO_ROOT / "web"))
    app.config.from_mapping(
        # No default key: the web app (web.create_app) refuses to start without a real one outside demo mode.
        SECRET_KEY=os.environ.get("SECRET_KEY") or None,
        SQLALCHEMY_DATABASE_URI=database_url(instance),
        FANGPIN_CLOCK=os.environ.get("FANGPIN_CLOCK", "system"),
        FANGPIN_LIVE_INSTANCES=env_count("FANGPIN_LIVE_INSTANCES", DEFAULT_SIZE),
    )
    app.config.update(config or {})
    install_warning_functions()  # the department-warning diagrams' functions and form rule (engine.warnings)
    install_campaign_functions()  # the yearly campaign's (engine.campaigns)
    db.init_app(app)
    migrate.init_app(app, db)
    app.extensions[CLOCK_KEY] = app.config.get("FANGPIN_CLOCK_OBJECT") or _configured_clock(app.config["FANGPIN_CLOCK"])
    return app


def _configured_clock(setting: str) -> Clock:
    """``FANGPIN_CLOCK``: ``system`` (the default), ``demo`` (:class:`DemoClock`) or ``file:PATH``
    (:class:`engine.core.clock.FileClock`, e.g. to rehearse a date — 演练). A file clock is read once here,
    so that a missing or unreadable file stops the process as it starts (``ClockFileError``), not a request."""
    if setting == "demo":
        return DemoClock()
    if setting.startswith(FILE_CLOCK_PREFIX):
        path = setting.removeprefix(FILE_CLOCK_PREFIX).strip()
        if not path:
            raise ClockFileError("FANGPIN_CLOCK=file: 之后须写时钟文件的路径，例如 FANGPIN_CLOCK=file:/srv/演练/clock")
        clock = FileClock(path)
        clock.now()
        return clock
    return SystemClock()


def get_clock() -> Clock:
    """The clock of the current application."""
    return current_app.extensions[CLOCK_KEY]
