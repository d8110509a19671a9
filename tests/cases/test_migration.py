"""Moving a running case to another version of its diagram (engine.cases.migration): the check names every
obstacle; a move keeps the open steps (task ids, deadlines, publicity timers) and the rest of the case runs
on the target diagram."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.bpmn.deployment import latest_version
from engine.cases.deadlines import deadlines_of_case
from engine.cases.lifecycle import open_identification, wake_due
from engine.cases.migration import check_migration, migrate_case
from engine.core.db import db
from engine.core.errors import RuleViolation
from engine.core.models import AuditEvent, Case, HumanTask, User
from engine.demo import drive_case
from engine.households.register import register_household
from engine.library.deploying import deploy_diagram, diagram_source
from tests.bdd.officials import household_data
from tests.diagram_variants import ZHANGGONG_2021, renamed_step, without_town_publicity, zhanggong_2021

CST = ZoneInfo("Asia/Shanghai")
TOWN = ("在镇、村张贴公示", "township_officer")


@pytest.fixture
def editor(app) -> User:
    return db.session.scalar(select(User).filter_by(username="jiangxi_zhengce"))


def _case_at(clock, head: str, until: str | None) -> Case:
    """A 章贡区 case opened in 2022 (the 2021 diagram), driven until ``until`` is done."""
    clock.set(datetime(2022, 3, 1, 9, tzinfo=CST))
    household = register_household(household_data("沙河村", head, 2), "shahe_cun", clock)
    case = open_identification(household.id, "self_application", date(2022, 3, 1), "shahe_cun", clock)
    if until:
        drive_case(case.id, clock, until=until)
    return case


def _deploy(editor: User, clock, name: str, content: bytes):
    versions = deploy_diagram(editor, diagram_source(name, content), clock)
    return next(v for v in versions if v.process_key == "identification_zhanggong_2021")


def _ready(case: Case) -> list[HumanTask]:
    return list(db.session.scalars(select(HumanTask).filter_by(case_id=case.id, state="READY").order_by(HumanTask.id)))


def test_a_case_before_the_removed_steps_moves_and_skips_them(app, clock, editor):
    case = _case_at(clock, "甲", "区级部门信息比对")
    target = _deploy(editor, clock, ZHANGGONG_2021, without_town_publicity())
    (row,) = _ready(case)
    check = check_migration(case.id, target.id, clock)
    assert check.possible and [s.element for s in check.open_steps] == ["township_review"]
    migrate_case(case.id, target.id, "jiangxi_zhengce", clock)
    db.session.expire_all()
    assert case.process_version_id == target.id
    assert [r.id for r in _ready(case)] == [row.id]  # the same task, still open
    done = drive_case(case.id, clock)
    assert TOWN not in done and done[0] == ("镇级审核", "township_officer")
    assert (case.status, case.outcome) == ("completed", "identified")
    event = db.session.scalar(select(AuditEvent).filter_by(case_id=case.id, action="case_migrated"))
    assert event.detail["open_steps"] == ["identification_zhanggong_2021:township_review"]


def test_a_case_in_its_publicity_moves_and_keeps_the_publicity_timer(app, clock, editor):
    case = _case_at(clock, "乙", "张贴村级公示")
    due = case.next_wakeup_at
    timers = [(d.timer_uuid, d.due_at) for d in deadlines_of_case(case.id) if d.subject == "timer"]
    target = _deploy(editor, clock, ZHANGGONG_2021, without_town_publicity())
    check = check_migration(case.id, target.id, clock)
    assert check.possible
    assert {(s.process, s.element, s.state) for s in check.open_steps} == {
        ("identification_zhanggong_2021", "village_publicity", "STARTED"), ("publicity_period", "p_wait", "WAITING")}
    migrate_case(case.id, target.id, "jiangxi_zhengce", clock)
    db.session.expire_all()
    assert case.next_wakeup_at == due
    done = drive_case(case.id, clock)
    after = [(d.timer_uuid, d.due_at) for d in deadlines_of_case(case.id) if d.subject == "timer"]
    assert after[:1] == timers and len(after) == 3  # the same village timer, once; then the announcement, the measures
    assert TOWN not in done and case.outcome == "identified"
    fired = db.session.scalars(select(AuditEvent).filter_by(case_id=case.id, action="timers_fired")).all()
    assert [t["publicity"]["level"] for e in fired for t in e.detail["timers"]] == ["村级", "镇村两级公告", "帮扶措施村级"]


def test_open_steps_take_the_new_names_in_parallel_branches(app, clock, editor):
    case = _case_at(clock, "丙", "在镇、村张贴公告")
    clock.set(case.next_wakeup_at)
    wake_due(clock.now(), clock)  # the announcement (公告) ends: the measures and the system entry are both open
    assert sorted(r.name for r in _ready(case)) == ["制定帮扶计划并在村内公示", "录入全国防返贫监测信息系统"]
    target = _deploy(editor, clock, ZHANGGONG_2021, renamed_step(zhanggong_2021(), "assistance_plan", "制定帮扶计划"))
    assert check_migration(case.id, target.id, clock).possible
    migrate_case(case.id, target.id, "jiangxi_zhengce", clock)
    db.session.expire_all()
    assert sorted(r.name for r in _ready(case)) == ["制定帮扶计划", "录入全国防返贫监测信息系统"]
    done = drive_case(case.id, clock)
    assert [step for step, _ in done] == ["制定帮扶计划", "录入全国防返贫监测信息系统"]
    assert case.outcome == "identified"


def test_the_check_names_every_obstacle_and_the_move_is_refused(app, clock, editor):
    at_town = _case_at(clock, "丁", "镇级审核")
    past_town = _case_at(clock, "戊", "在镇、村张贴公示")
    drive_case(past_town.id, clock, until="区级审定")
    target = _deploy(editor, clock, ZHANGGONG_2021, without_town_publicity())
    open_problem = check_migration(at_town.id, target.id, clock).problems
    assert open_problem == ["流程 identification_zhanggong_2021 当前步骤 'town_post'（在镇、村张贴公示） 在目标版本中不存在"]
    history = check_migration(past_town.id, target.id, clock).problems
    assert any("已办步骤 'town_publicity'（镇村两级公示）" in p for p in history)
    with pytest.raises(RuleViolation, match="town_post"):
        migrate_case(at_town.id, target.id, "jiangxi_zhengce", clock)
    db.session.expire_all()
    assert at_town.process_version.version == 1
    assert db.session.scalar(select(AuditEvent).filter_by(action="case_migrated")) is None


def test_an_open_step_whose_event_changed_is_not_moved(app, clock, editor):
    from engine.core.config import project_dir

    case = _case_at(clock, "己", "张贴村级公示")
    publicity = (project_dir("processes") / "publicity.bpmn").read_bytes().replace(
        b'publicity["days"])</bpmn:timeDate>', b'publicity["days"] + 1)</bpmn:timeDate>')
    target = _deploy(editor, clock, "publicity.bpmn", publicity)
    (problem,) = check_migration(case.id, target.id, clock).problems
    assert "'p_wait'" in problem and "事件定义" in problem


def test_only_running_cases_and_versions_of_the_same_process(app, clock, editor):
    case = _case_at(clock, "庚", None)
    same = check_migration(case.id, case.process_version_id, clock)
    assert same.problems == [f"案件 {case.number} 已在使用 identification_zhanggong_2021 v1"]
    assert "不是案件所用流程" in check_migration(case.id, latest_version("identification").id, clock).problems[0]
    target = _deploy(editor, clock, ZHANGGONG_2021, without_town_publicity())
    drive_case(case.id, clock)
    assert check_migration(case.id, target.id, clock).problems == [f"案件 {case.number} 已办结，不能迁移"]


def test_a_done_call_activity_that_calls_another_process_in_the_target_is_not_moved(app, clock):
    from engine.bpmn.source import DiagramSource
    from engine.core.config import project_dir
    from engine.core.transaction import transaction
    from engine.library.rules import deploy

    case = _case_at(clock, "辛", "区级部门信息比对")  # the village publicity (publicity_period) is done
    publicity_b = (project_dir("processes") / "publicity.bpmn").read_bytes().replace(
        b'"publicity_period"', b'"publicity_period_b"')
    call = 'id="village_publicity" name="村级公示" calledElement="publicity_period'
    caller = zhanggong_2021().decode().replace(call + '"', call + '_b"').encode()
    assert caller != zhanggong_2021()
    with transaction():
        (target,) = [v for v in deploy([DiagramSource(ZHANGGONG_2021, caller),
                                        DiagramSource("publicity.bpmn", (project_dir("processes") / "publicity.bpmn")
                                                      .read_bytes()),
                                        DiagramSource("publicity_b.bpmn", publicity_b),
                                        DiagramSource("household_category.dmn", (project_dir("processes")
                                                                                  / "household_category.dmn")
                                                      .read_bytes())], "t", clock.now())
                     if v.process_key == "identification_zhanggong_2021"]
    problems = check_migration(case.id, target.id, clock).problems
    assert problems == ["调用活动 'village_publicity'（村级公示） 在目标版本中不再调用流程 publicity_period"]
