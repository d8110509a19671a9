"""The web UI (Flask + Jinja2): an application factory that builds on the engine's application."""
from __future__ import annotations

from typing import Any

from flask import Flask

from engine.app import create_engine_app


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Application factory: the engine app plus the web blueprints."""
    app = create_engine_app(config)
    from . import home

    app.register_blueprint(home.bp)
    return app
