"""Trying a diagram against a scenario before deploying it: the path taken and the dates computed."""
from __future__ import annotations

import pytest

from engine.bpmn.source import read_directory
from engine.core.config import project_dir
from engine.library.stand_ins import ScenarioError
from engine.library.trial import run_scenario

D = "2026-09-20"
POLICY = {"village_publicity_days": 5, "limit_days": 15, "system_entry_days": 10, "assistance_plan_days": 10}
START = {"policy": POLICY, "lead_date": D, "application": {}, "household": {"enjoys_poverty_policy": False}}
INCOME = {"household_size": 2, "wages": 9000, "business_income": 0, "property_income": 0, "transfer_income": 0,
          "business_expenses": 0}


def _scenario(*steps: dict) -> dict:
    return {"start": f"{D}T09:00:00+08:00", "monitoring_line": 7800, "data": START, "steps": list(steps)}


def _run(*steps: dict):
    return run_scenario(read_directory(project_dir("processes")), "identification.bpmn", "identification",
                        _scenario(*steps))


def test_a_scenario_shows_the_path_and_the_dates(app):
    trace = _run(
        {"complete": "受理申请并签署承诺授权书", "data": {"applied_on": D, "all_members_signed": True,
                                                      "risk_description": "因病"}},
        {"complete": "入户核实", "data": {"verified_on": D, "income": INCOME, "risk_types": ["illness"],
                                         "exclusions": [], "guarantees": {}}},
        {"complete": "民主评议", "data": {"appraised_on": D, "participants": 9, "decision": "approve"}},
        {"complete": "张贴村级公示", "data": {"posted_on": "2026-09-28"}},
        {"advance_to": "2026-10-03T23:00:00+08:00"},
        {"advance_to": "2026-10-04T00:00:00+08:00"},
    )
    events = [(e["kind"], e["name"]) for e in trace.events]
    assert ("timer_set", "公示期满") in events
    publicity = next(e for e in trace.events if e["kind"] == "timer_set")
    assert publicity["due"] == "2026-10-04T00:00:00+08:00"  # 5 days from 09-28
    fired = events.index(("timer", "公示期满"))
    assert trace.events[fired]["at"].startswith("2026-10-04")  # not at 10-03 23:00
    assert events[-2] == ("ready", "乡镇审核（入户抽查）") and events[-1][0] == "waiting"
    apply = next(e for e in trace.events if e["name"] == "受理申请并签署承诺授权书" and e["kind"] == "ready")
    assert apply["due"] == "2026-10-06T00:00:00+08:00" and apply["lane"] == "村级"
    assert ("call", "assess_household") in events  # the stand-in was called, nothing stored


def test_a_step_that_is_not_ready_is_named(app):
    with pytest.raises(ScenarioError, match="第 1 步：“民主评议”现在不可办理；可办理的是：受理申请并签署承诺授权书"):
        _run({"complete": "民主评议", "data": {}})


def test_form_errors_in_a_scenario_name_the_field(app):
    from engine.core.errors import FormInvalid

    with pytest.raises(FormInvalid, match="all_members_signed"):
        _run({"complete": "受理申请并签署承诺授权书", "data": {"applied_on": D, "risk_description": "x"}})


def test_the_example_scenario_runs_from_the_command_line(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from engine.cli import main

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'try.db'}")
    processes = project_dir("processes")
    assert CliRunner().invoke(main, ["init"]).exit_code == 0  # the called diagrams come as last deployed
    result = CliRunner().invoke(main, ["process", "try", str(processes / "identification.bpmn"), "--scenario",
                                       str(processes / "scenarios" / "identification.json")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "时间  事件  步骤  期限（截止当日24时）"
    assert any("定时  公示期满  期限 2026-10-03（周六）" in line for line in lines), lines  # 10-04 00:00: the 3rd's 24:00
    assert not any("T00:00" in line or "assess_household" in line for line in lines)  # no ISO, no function names
    assert any("调用  测算收入并比对监测范围" in line for line in lines), lines
    assert lines[-1].endswith("停在  未办结") and any("待办  信息比对" in line for line in lines)


def test_the_decision_table_decides_the_path_in_a_trial_run(app):
    rich = {**INCOME, "wages": 40000}  # 20 000 yuan per person, above the 7 800 line, no hardship
    trace = _run(
        {"complete": "受理申请并签署承诺授权书", "data": {"applied_on": D, "all_members_signed": True,
                                                      "risk_description": "因病"}},
        {"complete": "入户核实", "data": {"verified_on": D, "income": rich, "risk_types": ["illness"],
                                         "exclusions": [], "guarantees": {}}},
    )
    events = [(e["kind"], e["name"]) for e in trace.events]
    rejected = next(e for e in trace.events if e["kind"] == "call" and e["name"] == "record_outcome")
    assert rejected["args"][0] == "rejected" and "均高于监测范围" in rejected["args"][1]
    assert events[-1] == ("end", "办结")


def test_a_trial_run_without_a_monitoring_line_says_so(app):
    scenario = _scenario(
        {"complete": "受理申请并签署承诺授权书", "data": {"applied_on": D, "all_members_signed": True,
                                                      "risk_description": "因病"}},
        {"complete": "入户核实", "data": {"verified_on": D, "income": INCOME, "risk_types": ["illness"],
                                         "exclusions": [], "guarantees": {}}},
    )
    del scenario["monitoring_line"]
    with pytest.raises(ScenarioError, match="第 2 步之后：.*monitoring_line"):
        run_scenario(read_directory(project_dir("processes")), "identification.bpmn", "identification", scenario)


@pytest.mark.parametrize(("data", "said"), [
    ({}, "场景数据中没有 policy"),
    ({"policy": {"limit_months": 3}}, "场景数据中没有 lead_date"),
    ({"lead_date": D, "policy": {"limit_months": "x"}}, "无法计算"),
    ({"lead_date": D, "policy": {"limit_months": 10**12}}, "无法计算"),
])
def test_a_scenario_whose_data_a_due_date_cannot_use_is_refused_naming_the_step(app, data, said):
    """成员自然变更's first step is due months_from(lead_date, policy["limit_months"]): without them, or with values
    it cannot use, the trial said so with a 500 (NameError, TypeError, OverflowError)."""
    scenario = {"start": f"{D}T09:00:00+08:00", "data": data, "steps": []}
    with pytest.raises(ScenarioError, match=said) as refused:
        run_scenario(read_directory(project_dir("processes")), "member_change.bpmn", "member_change", scenario)
    assert str(refused.value).startswith("“登记家庭成员自然变更”（m_record）的期限 months_from(lead_date")


def test_a_timer_date_without_a_zone_falls_due_at_that_moment_in_beijing(app):
    """(The trial showed 期限 2026-10-01 08:00 for timeDate "2026-10-01T00:00:00": read as UTC.)"""
    from engine.bpmn.source import DiagramSource
    from tests.bpmn.test_refusals import process

    content = process('<bpmn:intermediateCatchEvent id="x" name="国庆">{io}<bpmn:timerEventDefinition id="td">'
                      '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">"2026-10-01T00:00:00"</bpmn:timeDate>'
                      "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>")
    trace = run_scenario([DiagramSource("naive.bpmn", content)], "naive.bpmn", "refusal_test",
                         {"start": f"{D}T09:00:00+08:00", "data": {}, "steps": []})
    [timer] = [e for e in trace.events if e["kind"] == "timer_set"]
    assert timer["due"] == "2026-10-01T00:00:00+08:00"


def test_a_trial_run_reaching_a_gateway_none_of_whose_conditions_hold_names_it_and_the_step(app):
    from engine.bpmn.source import DiagramSource
    from tests.bpmn.test_gateways import slip as slipped_identification

    library = read_directory(project_dir("processes"))
    main = next(s for s in library if s.file_name == "identification.bpmn")
    slip = slipped_identification()
    library = [DiagramSource(main.file_name, slip) if s is main else s for s in library]
    scenario = _scenario(
        {"complete": "受理申请并签署承诺授权书", "data": {"applied_on": D, "all_members_signed": True,
                                                      "risk_description": "因病"}},
        {"complete": "入户核实", "data": {"verified_on": D, "income": INCOME, "risk_types": ["illness"],
                                         "exclusions": [], "guarantees": {}}},
    )
    with pytest.raises(ScenarioError) as refused:
        run_scenario(library, "identification.bpmn", "identification", scenario)
    assert str(refused.value).startswith("第 2 步之后：流程图中的排他网关 'eligible'（符合纳入条件？）的条件都不成立")
