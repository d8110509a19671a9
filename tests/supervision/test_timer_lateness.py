"""How late timers fire (engine.supervision.timer_lateness): over the last day, for a jurisdiction's cases, the
number fired and their lateness (median, 99 %, longest) from each fired timer's deadline — read through the partial
index of fired timers on a migrated database, shown on the supervisor's overview and in /healthz over real HTTP."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import event, select, text

from engine.app import create_engine_app
from engine.bootstrap import setup_database
from engine.cases.lifecycle import wake_due
from engine.core.db import db
from engine.core.models import Case, CaseDeadline, Jurisdiction
from engine.demo import drive_case
from engine.supervision.timer_lateness import timer_lateness
from tests.factories import open_case
from tests.webclient import HttpBrowser, serve
from timers.scheduler import acquire_lease

POSTED = "张贴村级公示"  # after it the case waits on its village publicity timer
INDEX = "ix_case_deadline_fired"


def _place(code: str) -> Jurisdiction:
    return db.session.scalar(select(Jurisdiction).filter_by(code=code))


def _fired_late(clock, heads: list[str], late: timedelta) -> list[int]:
    """Cases of 沙河村 waiting on their publicity, woken ``late`` after it ended."""
    ids = []
    for head in heads:
        case = open_case(clock, head=head)
        drive_case(case.id, clock, until=POSTED)
        ids.append(case.id)
    due = db.session.get(Case, ids[0]).next_wakeup_at
    clock.set(due + late)
    assert wake_due(clock.now(), clock) == len(ids)
    return ids


def test_the_lateness_of_the_timers_fired_in_the_last_day_of_a_jurisdiction(app, clock):
    ids = _fired_late(clock, ["迟一", "迟二", "迟三"], timedelta(seconds=90))
    fired = db.session.scalar(select(CaseDeadline).where(CaseDeadline.case_id == ids[2], CaseDeadline.subject == "timer",
                                                         CaseDeadline.fired_at.is_not(None)))
    fired.fired_at = fired.due_at + timedelta(minutes=10)  # the third woken ten minutes late
    db.session.commit()
    county = timer_lateness(clock.now(), _place("360702"))
    assert (county.fired, county.median_s, county.p99_s, county.max_s) == (3, 90.0, 600.0, 600.0)
    assert timer_lateness(clock.now()).fired == 3  # every case
    assert timer_lateness(clock.now(), _place("360702102")).fired == 0  # 水西镇: none of its cases
    later = timer_lateness(clock.now() + timedelta(hours=25), _place("360702"))
    assert (later.fired, later.median_s, later.max_s) == (0, None, None)  # fired more than a day before


def test_the_read_is_served_by_the_index_of_fired_timers(tmp_path, clock):
    app = create_engine_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migrated.db'}",
                             "FANGPIN_CLOCK_OBJECT": clock, "TESTING": True})
    with app.app_context():
        setup_database(clock)  # the migrations, as a county's database is made
        assert "fired_at IS NOT NULL" in db.session.scalar(
            text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"), {"name": INDEX})
        county = _place("360702")
        sent: list[tuple[str, object]] = []
        listen = (db.engine, "before_cursor_execute", lambda *args: sent.append((args[2], args[3])))
        event.listen(*listen)
        try:
            timer_lateness(clock.now(), county)
            timer_lateness(clock.now())
        finally:
            event.remove(*listen)
        assert len(sent) == 2
        for statement, parameters in sent:
            plan = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            assert any(f"case_deadline USING INDEX {INDEX}" in row[-1] for row in plan), (statement, plan)


def test_the_supervisor_and_the_health_check_read_it_over_http(web_app, clock):
    with web_app.app_context():
        _fired_late(clock, ["迟四"], timedelta(seconds=42))
        acquire_lease("test-scheduler", timedelta(seconds=90))
    with serve(web_app) as base:
        health = json.loads(HttpBrowser(base).get("/healthz").read().decode())["checks"]["timer_lateness"]
        assert health["ok"] and (health["fired"], health["median_seconds"], health["max_seconds"]) == (1, 42.0, 42.0)
        assert "近 24 小时触发定时器 1 个：晚于到期时刻中位 42.0 秒，99% 不超过 42.0 秒，最长 42.0 秒" == health["message"]
        supervisor = HttpBrowser(base)
        supervisor.login("zhanggong_dudao", "demo")
        page = supervisor.get("/supervisor").read().decode()
        assert "定时器（公示期、回访等到期自动推进）：近 24 小时触发定时器 1 个" in page
        township = supervisor.get("/supervisor?j=360702102").read().decode()  # 水西镇: none of its cases
        assert "近 24 小时没有触发定时器" in township


def test_a_long_lateness_is_said_in_hours_or_days():
    from engine.supervision.health import lateness_text
    from engine.supervision.timer_lateness import TimerLateness

    text = lateness_text(TimerLateness(3, 42.0, 2100.0, 291600.0, False))
    assert text == "近 24 小时触发定时器 3 个：晚于到期时刻中位 42.0 秒，99% 不超过 35 分钟，最长 3 天"
    assert "69 小时" in lateness_text(TimerLateness(1, 248400.0, 248400.0, 248400.0, False))
