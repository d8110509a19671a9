"""运行状态 ``/healthz``: what a county's monitoring (or its reverse proxy) polls — 200 when the database answers, a
scheduler fires timers and no timer is long overdue; 503 otherwise, each check with its message in Chinese. No login,
and nothing in it names a household or a person (engine.supervision.health)."""
from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Blueprint, Flask, jsonify
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from engine.app import get_clock
from engine.core.db import db
from engine.supervision.health import (
    Check,
    calendar_check,
    database_check,
    lateness_check,
    scheduler_check,
    timers_check,
)
from timers.calendar import default_calendar, to_local_date
from timers.scheduler import lease_expires_at

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


def register(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    now = get_clock().now()
    checks = {"calendar": calendar_check(default_calendar().missing_data_warnings(to_local_date(now)))}
    try:
        checks |= {"database": database_check(),
                   "scheduler": scheduler_check(lease_expires_at(), datetime.now(UTC)),
                   "timers": timers_check(now), "timer_lateness": lateness_check(now)}
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("health check: the database does not answer: %s", exc)
        checks["database"] = Check(False, "数据库不可用：请检查数据库服务器和 DATABASE_URL")
    ok = all(check.ok for check in checks.values()) and "timers" in checks
    body = {"status": "ok" if ok else "error",
            "checks": {name: {"ok": c.ok, "message": c.message, **c.details} for name, c in checks.items()}}
    return jsonify(body), 200 if ok else 503
