"""The web UI (Flask + Jinja2) for officials and supervisors: an application factory that builds on the
engine's application and registers one blueprint per area. It holds no procedure logic: every action
calls the engine's service API."""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from engine.app import create_engine_app

csrf = CSRFProtect()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Application factory: the engine app plus CSRF protection, the login and the blueprints.

    Refuses to build (``web.security.ConfigurationError``) without a real ``SECRET_KEY`` outside demo mode and
    testing; sets the security headers, cookie flags, body limit and bounded ids of :mod:`web.security`."""
    from . import security

    app = create_engine_app(config)
    security.configure(app)
    csrf.init_app(app)
    from . import auth, filters, home, ratelimits, tasks

    ratelimits.register(app)

    filters.register(app)
    app.add_url_rule("/vendor/<package>/<path:filename>", "vendor", _vendor)
    app.before_request(auth.load_user)
    for module in (auth, home, tasks):
        app.register_blueprint(module.bp)
    _register_optional(app)
    security.register_errors(app)  # Chinese error pages, JSON under /api/, database down → 503
    return app


def _register_optional(app: Flask) -> None:
    """Blueprints of the other areas (cases, supervisor, publicity, exports, API, self-application)."""
    from importlib import import_module

    for name in ("cases", "supervisor", "publicity", "exports", "api", "apply", "diagrams", "warnings", "admin"):
        try:
            module = import_module(f"web.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"web.{name}":
                raise
            continue
        module.register(app)


VENDOR_PACKAGES = {"bpmn-js": "bpmn-js/dist", "dmn-js": "dmn-js/dist"}  # npm packages installed by `make install`


def _vendor(package: str, filename: str):
    """Front-end files of the npm packages in node_modules (bpmn-js, dmn-js)."""
    from flask import abort, send_from_directory

    from engine.core.config import REPO_ROOT

    if package not in VENDOR_PACKAGES:
        abort(404)
    return send_from_directory(REPO_ROOT / "node_modules" / VENDOR_PACKAGES[package], filename, max_age=86400)
