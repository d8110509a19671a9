"""Trial-run scenarios kept in the library per process (engine.library.scenarios), and the trial output as
officials read it (engine.library.trial.readable)."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from engine.bootstrap import setup_database
from engine.bpmn.source import read_directory
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.errors import PermissionDenied
from engine.core.models import AuditEvent, TrialScenario, User
from engine.library.scenarios import draft_processes, parse_scenario, save_scenario, scenario_process, scenarios_for
from engine.library.stand_ins import FUNCTION_LABELS, ScenarioError
from engine.library.trial import day_text, due_text, readable, run_scenario

SHIPPED = project_dir("processes") / "scenarios" / "identification.json"
SHIPPED_NAME = "示例：村级受理至县级信息比对"
SHIPPED_COUNT = len(list(SHIPPED.parent.glob("*.json")))  # one or more per process


def _user(name: str) -> User:
    return db.session.scalar(select(User).filter_by(username=name))


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(TrialScenario))


def test_init_keeps_the_shipped_scenarios_once(app, clock):
    kept = scenarios_for(["identification"])
    assert [(s.name, s.saved_by, s.process_key) for s in kept] == [(SHIPPED_NAME, "system", "identification")]
    assert kept[0].content == SHIPPED.read_text(encoding="utf-8") and kept[0].saved_at == clock.now()
    (anshan,) = scenarios_for(["identification_anshan"])  # processes/scenarios/identification_anshan.json
    assert (anshan.name, anshan.saved_by) == ("示例（鞍山市）：村级受理至县级信息比对", "system")
    setup_database(clock)  # fangpin init again: nothing added twice
    assert _count() == SHIPPED_COUNT


def test_an_editor_saves_a_scenario_under_a_name_and_saving_it_again_replaces_it(app, clock):
    editor = _user("jiangxi_zhengce")
    text = SHIPPED.read_text(encoding="utf-8")
    row, replaced = save_scenario(editor, "identification", "  高收入户被驳回 ", text, clock)
    assert not replaced and row.name == "高收入户被驳回" and row.saved_by == "jiangxi_zhengce"
    clock.advance(timedelta(hours=1))
    again, replaced = save_scenario(editor, "identification", "高收入户被驳回", text.replace("7800", "8000"), clock)
    assert replaced and again.id == row.id and "8000" in again.content and _count() == SHIPPED_COUNT + 1
    assert again.saved_at == clock.now()
    assert [s.name for s in scenarios_for(["identification"])] == ["示例：村级受理至县级信息比对", "高收入户被驳回"]
    events = db.session.scalars(select(AuditEvent).filter_by(action="scenario_saved")).all()
    assert [e.detail["replaced"] for e in events] == [False, True]


@pytest.mark.parametrize(("text", "message"), [
    ("{", "场景不是有效的 JSON：第 1 行第 2 列附近格式有误"),
    ("[1, 2]", "场景应为一个 JSON 对象"),
    ('{"steps": []}', "start（开始时刻）未填写；应为如 2026-09-20T09:00:00+08:00 的时刻"),
    ('{"start": "2026-09-20T09:00:00"}', "“2026-09-20T09:00:00”不是带时区的时刻"),
    ('{"start": "2026-09-20T09:00:00+08:00", "monitoring_line": "七千"}', "monitoring_line（监测范围，元/人·年）应为数字"),
    ('{"start": "2026-09-20T09:00:00+08:00", "steps": [{"complete": "入户核实"}, {"wait": 1}]}', "steps 第 2 步：应为"),
    ('{"start": "2026-09-20T09:00:00+08:00", "steps": [{"advance_to": "明天"}]}', "steps 第 1 步的 advance_to"),
    ('{"start": "2026-09-20T09:00:00+08:00", "steps": [{"complete": "入户核实", "data": []}]}', "data（表单数据）应为 JSON 对象"),
])
def test_a_scenario_that_could_not_run_is_refused_in_chinese_and_nothing_is_saved(app, clock, text, message):
    with pytest.raises(ScenarioError, match=re.escape(message)):
        parse_scenario(text)
    with pytest.raises(ScenarioError):
        save_scenario(_user("jiangxi_zhengce"), "identification", "坏场景", text, clock)
    assert _count() == SHIPPED_COUNT


def test_only_policy_editors_save_scenarios_and_a_name_is_required(app, clock):
    text = SHIPPED.read_text(encoding="utf-8")
    with pytest.raises(PermissionDenied):
        save_scenario(_user("shahe_cun"), "identification", "村里的", text, clock)
    with pytest.raises(ScenarioError, match="请填写场景名称"):
        save_scenario(_user("jiangxi_zhengce"), "identification", "  ", text, clock)
    assert _count() == SHIPPED_COUNT


def test_a_draft_lists_the_scenarios_of_its_process_or_of_the_processes_calling_its_table(app):
    processes = project_dir("processes")
    bpmn = (processes / "identification.bpmn").read_bytes()
    table = (processes / "household_category.dmn").read_bytes()
    assert draft_processes("identification.bpmn", bpmn) == ["identification"]
    assert "identification" in draft_processes("household_category.dmn", table)
    assert draft_processes("broken.bpmn", b"<not xml") == []
    scenario = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert scenario_process("household_category.dmn", table, scenario) == "identification"  # its process_file
    with pytest.raises(ScenarioError, match="process_file"):
        scenario_process("household_category.dmn", table, {**scenario, "process_file": "nowhere.bpmn"})


def test_the_anshan_scenario_runs_its_steps_in_the_order_of_000(app):
    """000 三(二): 民主评议, then the village committee's 入户核实, the village publicity, the township's 入户核查,
    then the county's comparison (where the example stops)."""
    scenario = parse_scenario((SHIPPED.parent / "identification_anshan.json").read_text(encoding="utf-8"))
    trace = run_scenario(read_directory(project_dir("processes")), "identification_anshan.bpmn",
                         "identification_anshan", scenario)
    ready = [(r.step, r.lane) for r in readable(trace) if r.kind == "待办"]
    assert ready == [("受理申请并签署承诺授权书", "村级"), ("民主评议", "村级"), ("入户核实", "村级"),
                     ("张贴村级公示", "村级"), ("乡镇审核（入户核查）", "乡镇"), ("信息比对", "县级")]
    assert trace.events[-1]["kind"] == "waiting"


def test_the_trial_output_reads_dates_and_step_names_as_officials_do(app):
    assert day_text(date(2026, 10, 9)) == "2026-10-09（周五）"
    assert due_text("2026-10-06T00:00:00+08:00") == "2026-10-05（周一）"  # a deadline at 24:00 of the 5th
    assert due_text("2026-10-09T09:00:00+08:00") == "2026-10-09 09:00"
    assert due_text("2026-10-09") == "2026-10-09（周五）" and due_text(None) == ""
    trace = run_scenario(read_directory(project_dir("processes")), "identification.bpmn", "identification",
                         parse_scenario(SHIPPED.read_text(encoding="utf-8")))
    rows = readable(trace)
    assert rows[0].at == "2026-09-20 09:00" and rows[0].at_iso == "2026-09-20T09:00:00+08:00"
    publicity = next(r for r in rows if r.kind == "定时" and r.step == "公示期满")
    assert publicity.due == "2026-10-03（周六）" and publicity.due_iso == "2026-10-04T00:00:00+08:00"
    applied = next(r for r in rows if r.kind == "待办" and r.step == "受理申请并签署承诺授权书")
    assert applied.due == "2026-10-05（周一）" and applied.lane == "村级"
    calls = [r for r in rows if r.kind == "调用"]
    assert calls and all(r.step == FUNCTION_LABELS[r.function] for r in calls)
    assert any(r.step == "测算收入并比对监测范围" and r.function == "assess_household" for r in calls)
    assert not any("T" in r.at or "+08:00" in r.due for r in rows)
