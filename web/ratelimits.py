"""Rate limits (访问频率限制) on the two forms anyone can post without a login: the login form (password
guessing) and the public self-application (spam). Limits are configuration — ``FANGPIN_LOGIN_RATE_LIMIT`` and
``FANGPIN_APPLY_RATE_LIMIT`` in the limits syntax, e.g. ``10 per minute;50 per hour`` — counted per client
address in ``RATELIMIT_STORAGE_URI``: memory by default, which each web process keeps to itself — so with
``FANGPIN_WORKERS`` processes (2 by default) a client gets that many times the limit, and the application logs a
warning at start outside demo mode — or a store the processes share, ``redis://HOST:PORT`` (tested with two
gunicorn workers: tests/web/test_shared_ratelimits.py). Behind a reverse proxy, ``FANGPIN_TRUSTED_PROXIES`` (how
many) makes the client's own address count, not the proxy's. Flask-Limiter does the counting."""
from __future__ import annotations

import functools
import logging
import os
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from werkzeug.middleware.proxy_fix import ProxyFix

from engine.core.config import env_count
from engine.serving import DEFAULT_WORKERS, WORKERS_SETTING

from .security import error_page

log = logging.getLogger(__name__)

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
    for error in (RedisConnectionError, RedisTimeoutError):
        app.register_error_handler(error, _store_unavailable)
    _warn_if_counted_per_process(app)


def _warn_if_counted_per_process(app: Flask) -> None:
    """Outside demo mode, say loudly that limits counted in memory by several web processes are per process."""
    workers = env_count(WORKERS_SETTING, DEFAULT_WORKERS, minimum=1)
    if (workers > 1 and app.config.get("RATELIMIT_ENABLED", True) and app.config.get("FANGPIN_CLOCK") != "demo"
            and str(app.config["RATELIMIT_STORAGE_URI"]).startswith("memory://")):
        _warn_per_process(workers)


@functools.cache  # once per process: `fangpin run` builds the application once before forking its workers
def _warn_per_process(workers: int) -> None:
    log.warning("RATELIMIT_STORAGE_URI is memory://, and %s web worker processes (%s) each count on their own: "
                "a client gets up to %s times every rate limit (failed logins, self-applications). Set "
                "RATELIMIT_STORAGE_URI=redis://HOST:PORT, a store the processes share.",
                workers, WORKERS_SETTING, workers)


def login_limit() -> str:
    return current_app.config["FANGPIN_LOGIN_RATE_LIMIT"]


def apply_limit() -> str:
    return current_app.config["FANGPIN_APPLY_RATE_LIMIT"]


STORE_UNAVAILABLE = "登录和网上申请的次数计数服务暂不可用，请稍后再试；如持续出现，请联系系统管理员（检查 RATELIMIT_STORAGE_URI 的 Redis）"


def _store_unavailable(error: Exception) -> Any:
    """The shared store of the counts (Redis) does not answer: the login and the application are refused, not let
    through uncounted — with a 503 that says why, not a 500."""
    log.error("rate-limit store unavailable: %s", error)
    if request.path.startswith("/api/"):
        response = jsonify({"error": STORE_UNAVAILABLE, "code": "unavailable"})
    else:
        response = current_app.make_response(error_page(503, STORE_UNAVAILABLE, "暂时无法受理")[0])
    response.status_code = 503
    response.headers["Retry-After"] = "30"
    return response


def _too_many(error: RateLimitExceeded) -> Any:
    message = "尝试过于频繁，请稍后再试。"
    if request.path.startswith("/api/"):
        return jsonify({"error": message}), 429
    return render_template("too_many.html", message=message, limit=str(error.limit.limit)), 429
