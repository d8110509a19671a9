"""Hardening of the web UI and the API (安全加固), in one place:

* the session key: outside demo mode (``FANGPIN_CLOCK=demo``) and testing the app refuses to start without a
  real ``SECRET_KEY`` (:func:`check_secret_key`);
* headers on every response: a Content-Security-Policy the pages work under (no inline scripts; bpmn-js and
  dmn-js inject inline styles, so styles may be inline), ``X-Frame-Options``, ``X-Content-Type-Options``,
  ``Referrer-Policy``; the session cookie ``SameSite=Lax`` and ``Secure`` with ``FANGPIN_HTTPS=1``;
* the request body limit (``MAX_CONTENT_LENGTH``, ``FANGPIN_MAX_CONTENT_LENGTH`` in bytes);
* ids in URLs: the ``int`` converter accepts at most 19 digits and 2^63 − 1 (a larger id is “不存在”, not an
  overflow in the database); :func:`parse_id` is the same rule for ids in forms and query strings;
* downloads as attachments whose file name survives the latin-1 header (:func:`attachment`, RFC 5987/6266);
* ``next`` after logging in only as a path of this site (:func:`safe_next`);
* error pages and JSON errors in Chinese, and a database that does not answer → 503 (:func:`register_errors`).
"""
from __future__ import annotations

import logging
import os
import re
import secrets
import unicodedata
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from engine.core.db import MAX_ID, db

log = logging.getLogger(__name__)

# -- the session key --------------------------------------------------------------------------------

PLACEHOLDER_KEYS = frozenset({"dev-only-change-me", "change-me", "changeme", "secret", "dev", "test", "please-change"})
MIN_KEY_LENGTH = 32
KEY_HOWTO = 'python -c "import secrets; print(secrets.token_hex(32))"'
SECRET_KEY_MESSAGE = (
    "拒绝启动：未设置安全的 SECRET_KEY（网页登录会话的签名密钥）。没有它，任何人都能伪造登录会话。"
    f"请生成一个随机密钥（至少 {MIN_KEY_LENGTH} 个字符）并设为环境变量 SECRET_KEY，例如：\n"
    f"  export SECRET_KEY=$({KEY_HOWTO})\n"
    "多个网页进程须使用同一个密钥；只有演示模式（FANGPIN_CLOCK=demo）可以不设置。"
)


class ConfigurationError(RuntimeError):
    """The configuration is unsafe or invalid: the web app does not start (the message says what to do)."""


def weak_key(key: object) -> bool:
    """No key, a well-known placeholder, or too short to resist guessing."""
    if not key:
        return True
    text = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
    return text.strip().lower() in PLACEHOLDER_KEYS or len(text) < MIN_KEY_LENGTH


def check_secret_key(app: Flask) -> None:
    """Testing and demo mode may run without a key (a random one per process is used); otherwise refuse."""
    key = app.config.get("SECRET_KEY")
    if not weak_key(key):
        return
    if app.testing and key:
        return  # the test suite's fixed key
    if app.testing or app.config.get("FANGPIN_CLOCK") == "demo":
        app.config["SECRET_KEY"] = secrets.token_hex(32)  # demo: sessions end when the process restarts
        if not app.testing:
            log.warning("演示模式：未设置 SECRET_KEY，本进程使用随机密钥（重启后需重新登录）")
        return
    raise ConfigurationError(SECRET_KEY_MESSAGE)


# -- configuration ----------------------------------------------------------------------------------

DEFAULT_MAX_CONTENT_LENGTH = 8 * 1024 * 1024  # a 5 MB warning batch file or a 2 MB diagram, with the form around it
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in TRUE_WORDS


def configure(app: Flask) -> None:
    """The session key check, the cookie flags, the body limit and the bounded id converter (before any route)."""
    check_secret_key(app)
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    https = app.config.get("FANGPIN_HTTPS")
    if https is None:
        https = _env_flag("FANGPIN_HTTPS")
    app.config["FANGPIN_HTTPS"] = bool(https)
    app.config["SESSION_COOKIE_SECURE"] = bool(https)
    if https:
        app.config["PREFERRED_URL_SCHEME"] = "https"
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        raw = os.environ.get("FANGPIN_MAX_CONTENT_LENGTH", "").strip()
        if raw and not (raw.isascii() and raw.isdigit() and int(raw) > 0):
            raise ConfigurationError(f"FANGPIN_MAX_CONTENT_LENGTH 应为正整数（字节数），不是 {raw!r}")
        app.config["MAX_CONTENT_LENGTH"] = int(raw) if raw else DEFAULT_MAX_CONTENT_LENGTH
    app.url_map.converters["int"] = IdConverter
    app.after_request(security_headers)


# -- ids ----------------------------------------------------------------------------------------------

ID_DIGITS = 19
_ID = re.compile(r"[0-9]{1,19}")


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: ASCII digits only, at most 2^63 − 1 (larger ids simply do not exist)."""

    regex = r"[0-9]{1,19}"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max, signed=signed)


def parse_id(text: object) -> int | None:
    """An id typed in a form or a query string, or None if it cannot be one (not digits, or above 2^63 − 1)."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not _ID.fullmatch(text):
        return None
    value = int(text)
    return value if value <= MAX_ID else None


# -- redirects ----------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path of this site (one leading ``/``, no scheme, no host, once browsers have dropped
    tabs and newlines and read backslashes as slashes); None otherwise."""
    if not target:
        return None
    cleaned = _CONTROL.sub("", target).replace("\\", "/")
    if not cleaned.startswith("/") or cleaned.startswith("//"):
        return None
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc:
        return None
    return cleaned


def same_site_referrer() -> str | None:
    """The path of the Referer header when it is a page of this site (to go back to after a form)."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))


# -- downloads ----------------------------------------------------------------------------------------

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _UNSAFE_NAME.sub("_", plain).strip("._")


def content_disposition(file_name: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the UTF-8 ``filename*`` (RFC 6266 / RFC 5987): the header
    stays latin-1, and the browser saves the Chinese name."""
    stem, dot, suffix = file_name.rpartition(".")
    if not dot:
        stem, suffix = file_name, ""
    ascii_stem, ascii_suffix = _ascii(stem) or "download", _ascii(suffix)
    ascii_name = f"{ascii_stem}.{ascii_suffix}" if ascii_suffix else ascii_stem
    quoted = quote(file_name, safe="")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quoted}"


def attachment(content: bytes, mimetype: str, file_name: str) -> Response:
    """A download (never shown inline, never sniffed as something else)."""
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(file_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


# -- headers --------------------------------------------------------------------------------------------

CSP_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",  # no inline scripts or event handlers anywhere (web/templates, web/static)
    "style-src": "'self' 'unsafe-inline'",  # bpmn-js and dmn-js set inline styles on the diagrams they draw
    "img-src": "'self' data:",  # bpmn-js's and dmn-js's icons are data: URIs
    "font-src": "'self' data:",  # the embedded bpmn/dmn icon fonts
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
CONTENT_SECURITY_POLICY = "; ".join(f"{name} {value}" for name, value in CSP_DIRECTIVES.items())
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


# -- errors ---------------------------------------------------------------------------------------------

DB_UNAVAILABLE = "数据库暂不可用，请稍后再试"
TITLES = {
    400: "请求有误", 401: "请先登录", 403: "无权访问", 404: "页面不存在", 405: "不支持该请求方法", 409: "与当前状态冲突",
    413: "提交的内容过大", 415: "不支持的内容类型", 422: "请求数据有误", 500: "系统出错", 503: DB_UNAVAILABLE,
}
DETAILS = {
    400: "请求的格式或内容不正确，请返回上一页检查后重试。",
    401: "请先登录。",
    403: "您没有访问该页面或记录的权限（角色或辖区不符）。",
    404: "要访问的页面或记录不存在，请检查地址。",
    405: "该地址不支持这种请求方法。",
    500: "系统处理请求时出错，已记录，请稍后再试或联系系统管理员。",
    503: "数据库暂时无法连接，请稍后再试；如持续出现，请联系系统管理员。",
}


def _size(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"{limit / 1024 / 1024:.0f} MB"
    return f"{limit / 1024:.0f} KB" if limit >= 1024 else f"{limit} 字节"


def http_message(exc: HTTPException) -> str:
    """The Chinese message of an HTTP error: the view's own description if it gave one, else the status's."""
    status = exc.code or 500
    if isinstance(exc, CSRFError):
        return "页面已过期或缺少安全令牌（CSRF），请刷新页面后重试。"
    if status == 413:  # the whole body (MAX_CONTENT_LENGTH), or the text fields of a form (MAX_FORM_MEMORY_SIZE)
        body = current_app.config.get("MAX_CONTENT_LENGTH") or DEFAULT_MAX_CONTENT_LENGTH
        text = current_app.config.get("MAX_FORM_MEMORY_SIZE")
        fields = f"，表单中的文字不超过 {_size(text)}" if text else ""
        return f"提交的内容过大：请求（文件连同表单）不超过 {_size(body)} 的上限{fields}。请缩小文件或分批提交。"
    own = exc.description if exc.description != type(exc).description else None
    if own and not own.isascii():
        return own
    return DETAILS.get(status) or TITLES.get(status) or "请求无法处理"


def wants_json() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def json_error(status: int, message: str, code: str | None = None) -> Response:
    """The API's error format (see web/api.py)."""
    response = jsonify({"error": message, "code": code or str(status), "fields": []})
    response.status_code = status
    return response


def error_page(status: int, message: str, title: str | None = None) -> Any:
    """The Chinese error page, inside the site's header and navigation, with the ways back: the page the user
    came from (a page of this site, not the failing one), the home page, and the inbox when logged in."""
    back = same_site_referrer()
    here = request.full_path.rstrip("?")
    return render_template("error.html", status=status, title=title or TITLES.get(status, "出错了"),
                           message=message, back=back if back and back != here else None), status


def handle_http_error(exc: HTTPException) -> Any:
    status = exc.code or 500
    message = http_message(exc)
    response = json_error(status, message) if wants_json() else error_page(status, message)
    if isinstance(response, tuple):
        response = current_app.make_response(response)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def handle_database_error(exc: Exception) -> Any:
    """The database does not answer (down, restarting, connection lost) → 503; a value the database cannot
    store (an id or number out of its range) → 400; anything else is a 500, logged."""
    try:
        db.session.rollback()
    except Exception:  # the connection may be gone; the session is removed at teardown anyway
        log.debug("rollback after a database error failed", exc_info=True)
    g.user = None  # the error page must not touch the database again (the navigation bar reads the user)
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError) or getattr(
            exc, "connection_invalidated", False):
        log.error("database unavailable: %s", exc)
        status, message = 503, DB_UNAVAILABLE
    elif isinstance(exc, sa_exc.DataError):
        log.warning("value refused by the database: %s", exc)
        status, message = 400, "请求数据超出允许的范围"
    else:
        log.exception("database error")
        status, message = 500, DETAILS[500]
    if wants_json():
        response = json_error(status, message, "unavailable" if status == 503 else None)
    else:
        response = current_app.make_response(error_page(status, message if status != 503 else DETAILS[503],
                                                        TITLES[status]))
    if status == 503:
        response.headers["Retry-After"] = "30"
    return response


def register_errors(app: Flask) -> None:
    """Chinese error pages (JSON under /api/) for every HTTP error, and the database handlers."""
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(sa_exc.DBAPIError, handle_database_error)
    app.register_error_handler(sa_exc.TimeoutError, handle_database_error)
