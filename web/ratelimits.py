"""Rate limits (访问频率限制) on the two forms anyone can post without a login: the login form (password
guessing) and the public self-application (spam). Limits are configuration — ``FANGPIN_LOGIN_RATE_LIMIT`` and
``FANGPIN_APPLY_RATE_LIMIT`` in the limits syntax, e.g. ``10 per minute;50 per hour`` — counted per client
address in ``RATELIMIT_STORAGE_URI`` (memory by default; a shared store such as ``redis://`` when the web
runs as several processes). Behind a reverse proxy, ``FANGPIN_TRUSTED_PROXIES`` (how many) makes the client's
own address count, not the proxy's. Flask-Limiter does the counting."""
from __future__ import annotations

import os
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

limiter = Limiter(key_func=get_remote_address, default_limits=[])

DEFAULTS = {
    "FANGPIN_LOGIN_RATE_LIMIT": "10 per minute;50 per hour",  # failed logins only
    "FANGPIN_APPLY_RATE_LIMIT": "20 per hour",
}


def register(app: Flask) -> None:
    for key, default in DEFAULTS.items():
        app.config.setdefault(key, os.environ.get(key, default))
    proxies = int(app.config.get("FANGPIN_TRUSTED_PROXIES", os.environ.get("FANGPIN_TRUSTED_PROXIES", "0")))
    if proxies:  # behind nginx & co. the client's address is in X-Forwarded-For, set by that many proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.config.setdefault("RATELIMIT_STORAGE_URI", os.environ.get("RATELIMIT_STORAGE_URI", "memory://"))
    limiter.init_app(app)
    app.register_error_handler(429, _too_many)


def login_limit() -> str:
    return current_app.config["FANGPIN_LOGIN_RATE_LIMIT"]


def apply_limit() -> str:
    return current_app.config["FANGPIN_APPLY_RATE_LIMIT"]


def _too_many(error: RateLimitExceeded) -> Any:
    message = "尝试过于频繁，请稍后再试。"
    if request.path.startswith("/api/"):
        return jsonify({"error": message}), 429
    return render_template("too_many.html", message=message, limit=str(error.limit.limit)), 429
