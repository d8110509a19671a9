"""features/deadlines.feature: deadlines, overdue lists and the timer scheduler against the real engine."""
from __future__ import annotations

import json

import pytest
from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import select

from engine.bpmn.runtime import waiting_timers
from engine.cases.deadlines import deadlines_of_case
from engine.cases.functions import CaseContext, case_workflow
from engine.cases.lifecycle import complete_task, open_identification
from engine.core.db import db
from engine.core.errors import FangpinError
from engine.core.models import AuditEvent, Case, Jurisdiction
from engine.demo import drive_case
from engine.households.register import register_household
from engine.supervision.overdue import overdue_cases, overdue_tasks
from tests.bdd.officials import household_data
from tests.bdd.steps import *
from tests.bdd.steps import _at, _case, _task, _today, end_of, official
from tests.bdd.test_calendar_features import FICTITIOUS_2027
from timers.calendar import OVERRIDE_ENV_VAR, reset_default_calendar
from timers.scheduler import TimerScheduler

scenarios("deadlines.feature")

PLACES = {"章贡区": "360702", "江西省": "36", "水西镇": "360702102", "沙河镇": "360702101"}


@pytest.fixture(autouse=True)
def _fresh_calendar():
    reset_default_calendar()
    yield
    reset_default_calendar()


def _place(name: str) -> Jurisdiction:
    return db.session.scalar(select(Jurisdiction).filter_by(code=PLACES[name]))


@then(parsers.parse('案件的识别时限截止于 {day} 24:00，说明包含 "{text}"'))
def case_limit(world, day: str, text: str) -> None:
    case = _case(world)
    assert case.due_at == end_of(day)
    (row,) = [d for d in deadlines_of_case(case.id) if d.subject == "case"]
    assert text in row.explanation and row.data_version.startswith("chinesecalendar"), row.explanation


@then(parsers.parse("{place}的逾期清单中有该案件，逾期 {days:d} 天"))
def in_overdue_list(world, clock, place: str, days: int) -> None:
    items = [i for i in overdue_cases(_place(place), clock.now()) if i.case_id == world["case_id"]]
    assert [i.days_overdue for i in items] == [days]


@then(parsers.parse("{place}的逾期清单中没有该案件"))
def not_in_overdue_list(world, clock, place: str) -> None:
    assert world["case_id"] not in [i.case_id for i in overdue_cases(_place(place), clock.now())]


@then(parsers.parse('逾期任务中有 "{step}"，逾期 {days:d} 天'))
def overdue_task(world, clock, step: str, days: int) -> None:
    items = overdue_tasks(_place("章贡区"), clock.now(), procedure="identification", step=step)
    assert [(i.case_id, i.days_overdue) for i in items] == [(world["case_id"], days)]


@when("调度程序扫描一次")
@when("调度程序启动")
def scheduler_sweeps(app) -> None:
    TimerScheduler(app, owner="main").tick()


@when(parsers.parse("调度程序{name}启动"))
@when(parsers.parse("调度程序{name}扫描一次"))
def named_scheduler_sweeps(app, world, name: str) -> None:
    scheduler = world.setdefault("schedulers", {}).setdefault(name, TimerScheduler(app, owner=name))
    scheduler.tick()


@when(parsers.parse("调度程序{name}停止"))
def scheduler_stops(world, name: str) -> None:
    world["schedulers"][name].stop()


@then(parsers.parse("调度程序{first}在工作，调度程序{second}在等待"))
def one_works(world, first: str, second: str) -> None:
    assert world["schedulers"][first].leader and not world["schedulers"][second].leader


@then(parsers.parse("调度程序{name}在工作"))
def works(world, name: str) -> None:
    assert world["schedulers"][name].leader


@then(parsers.parse('案件的历史中记录了一次 "{action}"'))
def recorded_once(world, action: str) -> None:
    events = db.session.scalars(select(AuditEvent).filter_by(case_id=world["case_id"], action=action)).all()
    assert len(events) == 1


@given(parsers.parse("{village}有 {n:d} 户正在村级公示的案件"))
def publicity_cases(world, clock, village: str, n: int) -> None:
    world["case_ids"] = []
    for i in range(n):
        household = register_household(household_data(village, f"公示户{i}", 2), "shahe_cun", clock)
        case = open_identification(household.id, "self_application", _today(clock), "system", clock)
        drive_case(case.id, clock, until="张贴村级公示")
        world["case_ids"].append(case.id)


@when(parsers.parse("调度程序停机期间时间来到 {moment}"))
def time_passes_while_down(clock, moment: str) -> None:
    clock.set(_at(moment))


@then(parsers.parse("{n:d} 个案件都在等待已到期的公示定时器"))
def all_waiting(world, clock, n: int) -> None:
    db.session.expire_all()
    cases = [db.session.get(Case, i) for i in world["case_ids"]]
    assert len(cases) == n
    for case in cases:
        timers = waiting_timers(case_workflow(case, CaseContext(case, "t", clock).script_engine()))
        assert len(timers) == 1 and timers[0][1] <= clock.now()


@then("每个案件的公示期满定时器各触发了一次")
def each_fired_once(world) -> None:
    for case_id in world["case_ids"]:
        fired = db.session.scalars(select(AuditEvent).filter_by(case_id=case_id, action="timers_fired")).all()
        assert [[t["timer"] for t in e.detail["timers"]] for e in fired] == [["公示期满"]]


@then(parsers.parse('每个案件都有待办任务 "{step}"'))
def each_has_task(world, step: str) -> None:
    for case_id in world["case_ids"]:
        assert _task(db.session.get(Case, case_id), step) is not None


@when(parsers.parse('村干部尝试办理 "{step}"'))
def try_step(world, clock, step: str) -> None:
    from engine.demo import sample_form_data

    row = _task(_case(world), step)
    try:
        complete_task(row.id, sample_form_data(row.form, _today(clock), row.case), official("村干部", row.case).username, clock)
    except FangpinError as exc:
        world["refused"] = str(exc)


@then(parsers.parse('村干部仍有待办任务 "{step}"'))
def still_has(world, step: str) -> None:
    db.session.expire_all()
    assert _task(_case(world), step) is not None


@when(parsers.parse("管理员在覆盖文件中加入 {year:d} 年的节假日安排"))
def add_override(tmp_path, monkeypatch, year: int) -> None:
    assert str(year) in FICTITIOUS_2027["years"]
    path = tmp_path / "override.json"
    path.write_text(json.dumps(FICTITIOUS_2027, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv(OVERRIDE_ENV_VAR, str(path))
    reset_default_calendar()


@then(parsers.parse('该期限的说明包含 "{text}"'))
def deadline_explained(world, text: str) -> None:
    rows = [d for d in deadlines_of_case(world["case_id"]) if d.subject == "task"]
    assert text in rows[-1].explanation, rows[-1].explanation

