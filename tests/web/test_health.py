"""运行状态 /healthz over a real HTTP server, without a login: 200 only while a scheduler holds the lease and no
timer is long overdue; 503 naming what is wrong, in Chinese; nothing in it names a household or a person."""
from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from engine.core.db import db
from engine.core.models import Case
from engine.supervision.health import LATE_AFTER
from tests.factories import open_case
from tests.webclient import serve
from timers.scheduler import acquire_lease, release_lease


def _health(base: str) -> tuple[int, dict]:
    try:
        answer = urllib.request.urlopen(f"{base}/healthz")
    except urllib.error.HTTPError as exc:
        answer = exc
    assert answer.headers["Content-Type"].startswith("application/json")
    return answer.status, json.loads(answer.read().decode())


def test_health_says_whether_a_scheduler_fires_the_timers_and_none_is_long_overdue(web_app, clock) -> None:
    with web_app.app_context():
        case = open_case(clock, head="李四")
        number = case.number
    with serve(web_app) as base:
        status, body = _health(base)
        assert status == 503 and body["status"] == "error"
        assert body["checks"]["database"]["ok"] and not body["checks"]["scheduler"]["ok"]
        assert "从未启动" in body["checks"]["scheduler"]["message"]

        with web_app.app_context():
            assert acquire_lease("test-scheduler", timedelta(seconds=90))
        status, body = _health(base)
        assert (status, body["status"]) == (200, "ok"), body
        assert body["checks"]["timers"]["late"] == 0

        with web_app.app_context():  # the case's timer due long ago and not fired: its wake-up keeps failing
            due = clock.now() - LATE_AFTER - timedelta(minutes=1)
            db.session.execute(update(Case).where(Case.id == case.id).values(next_wakeup_at=due))
            db.session.commit()
        status, body = _health(base)
        timers = body["checks"]["timers"]
        assert status == 503 and not timers["ok"] and timers["late"] == 1
        assert datetime.fromisoformat(timers["oldest_due_at"]) == due
        assert "1 个案件的定时器到期超过 5 分钟仍未触发" in timers["message"]
        text = json.dumps(body, ensure_ascii=False)
        assert number not in text and "李四" not in text  # no case, household or person named

        with web_app.app_context():
            db.session.execute(update(Case).where(Case.id == case.id).values(next_wakeup_at=clock.now()))
            db.session.commit()
            release_lease("test-scheduler")  # stopped: the lease ends at once
        status, body = _health(base)
        assert status == 503 and "过期" in body["checks"]["scheduler"]["message"]
        assert body["checks"]["timers"]["ok"]


def test_health_passes_on_the_calendars_warning_of_a_missing_year(web_app, clock) -> None:
    clock.set(datetime(2026, 12, 4, 2, 0, tzinfo=UTC))
    with web_app.app_context():
        acquire_lease("test-scheduler", timedelta(seconds=90))
    with serve(web_app) as base:
        status, body = _health(base)
    calendar = body["checks"]["calendar"]
    assert status == 200 and calendar["ok"]  # a warning: deadlines within the data still compute
    assert [w for w in calendar["warnings"] if "还没有 2027 年的节假日/调休数据" in w] and "2027" in calendar["message"]
