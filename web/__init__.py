"""The web UI (Flask + Jinja2) for officials and supervisors: an application factory that builds on the
engine's application and registers one blueprint per area. It holds no procedure logic: every action
calls the engine's service API."""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask_compress import Compress
from flask_wtf.csrf import CSRFProtect

from engine.app import create_engine_app

csrf = CSRFProtect()
compress = Compress()


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
    _register_assets(app)
    app.before_request(auth.load_user)
    for module in (auth, home, tasks):
        app.register_blueprint(module.bp)
    _register_optional(app)
    security.register_errors(app)  # Chinese error pages, JSON under /api/, database down → 503
    return app


def _register_optional(app: Flask) -> None:
    """Blueprints of the other areas (cases, supervisor, publicity, exports, API, self-application, health)."""
    from importlib import import_module

    for name in ("cases", "supervisor", "publicity", "exports", "api", "apply", "diagrams", "warnings", "campaigns",
                 "admin", "health"):
        try:
            module = import_module(f"web.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"web.{name}":
                raise
            continue
        module.register(app)


# -- front-end assets: compressed, cached, versioned -----------------------------------------------------------

VENDOR_PACKAGES = {"bpmn-js": "bpmn-js/dist", "dmn-js": "dmn-js/dist"}  # npm packages installed by `make install`
# Rebuilds that take precedence over a package's own dist file of the same name. dmn-js's
# dmn-*.production.min.js bundle Inferno's *development* build (bpmn-io/dmn-js#965: "Inferno is in development
# mode", slower rendering); web/static/vendor/dmn-js/dmn-modeler.production.min.js is dmn-js's lib/Modeler
# bundled with NODE_ENV=production by tools/build-vendor (run by `make install` after `npm ci`; esbuild from npm).
# (tests/web/test_pages.py checks that the rebuild's version is the installed dmn-js's.)
VENDOR_REBUILDS = "static/vendor"
VENDOR_MAX_AGE = 365 * 24 * 3600  # a versioned URL (?v=<package version>) never changes: cached for a year
UNVERSIONED_MAX_AGE = 3600


def _register_assets(app: Flask) -> None:
    """Compression of every text response (Flask-Compress: zstd, br or gzip as the browser asks), the vendor
    route with versioned URLs, and the favicon. Static files keep Flask's ETag and answer 304 when unchanged."""
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["zstd", "br", "gzip", "deflate"])  # files are streamed
    app.config.setdefault("COMPRESS_STREAMING_ENDPOINT_CONDITIONAL", ["static", "vendor"])  # 304 after compressing
    compress.init_app(app)
    app.add_url_rule("/vendor/<package>/<path:filename>", "vendor", _vendor)
    app.add_url_rule("/favicon.ico", "favicon", _favicon)
    app.url_defaults(_vendor_version)


def vendor_version(package: str) -> str | None:
    """The installed version of an npm package of VENDOR_PACKAGES (its package.json), None if not installed."""
    import json

    from engine.core.config import REPO_ROOT

    path = REPO_ROOT / "node_modules" / package / "package.json"
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None
    cached = _VERSIONS.get(package)
    if cached and cached[0] == stamp:
        return cached[1]
    version = str(json.loads(path.read_text(encoding="utf-8")).get("version") or "") or None
    _VERSIONS[package] = (stamp, version)
    return version


_VERSIONS: dict[str, tuple[int, str | None]] = {}


def _vendor_version(endpoint: str, values: dict[str, Any]) -> None:
    """``url_for('vendor', …)`` adds ``?v=<package version>``: a new version is a new URL, so the old one may
    be cached for good."""
    if endpoint == "vendor" and "v" not in values and values.get("package") in VENDOR_PACKAGES:
        version = vendor_version(values["package"])
        if version:
            values["v"] = version


def _vendor(package: str, filename: str):
    """Front-end files of the npm packages in node_modules (bpmn-js, dmn-js), or their rebuilds
    (VENDOR_REBUILDS); cached for a year under the package's current version, an hour otherwise."""
    from pathlib import Path

    from flask import abort, current_app, request, send_from_directory
    from werkzeug.security import safe_join

    from engine.core.config import REPO_ROOT

    if package not in VENDOR_PACKAGES:
        abort(404)
    version = vendor_version(package)
    current = version is not None and request.args.get("v") == version
    max_age = VENDOR_MAX_AGE if current else UNVERSIONED_MAX_AGE
    rebuilds = Path(current_app.root_path) / VENDOR_REBUILDS / package
    rebuilt = safe_join(str(rebuilds), filename)
    folder = rebuilds if rebuilt and Path(rebuilt).is_file() else REPO_ROOT / "node_modules" / VENDOR_PACKAGES[package]
    response = send_from_directory(folder, filename, max_age=max_age)
    response.cache_control.public = True
    if current:
        response.cache_control.immutable = True
    return response


def _favicon():
    """/favicon.ico, which browsers ask for on every site: the SVG icon of the pages (base.html links it)."""
    from flask import current_app, send_from_directory

    return send_from_directory(current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400)
