"""Cases: a form is checked before anything is saved, decisions need reasons, only the task's role in its
jurisdiction completes it, a timer fires once."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.cases.lifecycle import complete_task, raise_objection, wake_due
from engine.core.db import db
from engine.core.errors import FormInvalid, PermissionDenied, RuleViolation
from engine.core.models import AuditEvent, Case
from tests.factories import count_rows, open_case, ready_row


def test_wrong_form_field_is_named_and_nothing_is_saved(app, clock):
    case = open_case(clock)
    task, version, events = ready_row(case), case.lock_version, count_rows(AuditEvent)
    with pytest.raises(FormInvalid) as refused:
        complete_task(task.id, {"applied_on": "20.9.2026", "all_members_signed": False}, "shahe_cun", clock)
    fields = dict(refused.value.errors)
    assert set(fields) == {"applied_on", "all_members_signed", "risk_description"}
    assert fields["applied_on"].endswith("日期格式应为 年-月-日，如 2026-09-10") and "必须确认" in fields["all_members_signed"]
    assert str(refused.value).startswith(f"{task.name}填写有误：") and ".json" not in str(refused.value)
    db.session.expire_all()
    assert (task.state, case.lock_version, count_rows(AuditEvent)) == ("READY", version, events)


def test_reject_decision_needs_a_reason(app, clock):
    from engine.bpmn.forms import validate_form

    with pytest.raises(FormInvalid) as refused:
        validate_form("review_decision.json", {"reviewed_on": "2026-09-20", "decision": "reject"})
    assert [f for f, _ in refused.value.errors] == ["reason"]
    validate_form("review_decision.json", {"reviewed_on": "2026-09-20", "decision": "approve"})


def test_only_the_tasks_role_in_its_jurisdiction_may_complete_it(app, clock):
    case = open_case(clock)
    task = ready_row(case)
    data = {"applied_on": "2026-09-20", "all_members_signed": True, "risk_description": "因病"}
    with pytest.raises(PermissionDenied, match="角色"):
        complete_task(task.id, data, "shahe_zhen", clock)
    with pytest.raises(PermissionDenied, match="辖区"):
        complete_task(task.id, data, "huaping_cun", clock)
    complete_task(task.id, data, "shahe_cun", clock)


def test_a_timer_fires_once_when_due(app, clock):
    from tests.bdd.steps import _run  # the default-data driver of the features

    world = {"done": [], "case_id": open_case(clock).id}
    _run(world, clock, until="张贴村级公示")
    case = db.session.get(Case, world["case_id"])
    due = case.next_wakeup_at
    assert due == datetime(2026, 9, 25, 16, 0, tzinfo=UTC)  # 5 days from 09-20, 24:00 CST
    clock.set(due - timedelta(seconds=1))
    assert wake_due(clock.now(), clock) == 0
    clock.set(due)
    assert wake_due(clock.now(), clock) == 1
    assert wake_due(clock.now(), clock) == 0
    fired = db.session.scalars(select(AuditEvent).filter_by(case_id=case.id, action="timers_fired")).all()
    assert len(fired) == 1 and ready_row(case).name == "乡镇审核（入户抽查）"


def test_an_objection_is_bounded_and_refused_before_anything_is_stored(app, clock):
    case = open_case(clock, "异议户")
    events = count_rows(AuditEvent)
    for text, by, field in (("", "村民", "text"), ("很" * 2001, "村民", "text"), ("有车", "某" * 101, "raised_by")):
        with pytest.raises(RuleViolation) as refused:
            raise_objection(case.id, text, by, "shahe_cun", clock)
        assert refused.value.field == field and not str(refused.value).startswith(field)  # the input, and words
    assert count_rows(AuditEvent) == events


def test_a_household_in_the_green_channel_is_not_identified_a_second_way(app, clock):
    """The green channel's verification goes on to the identification itself: while it runs, an official's
    identification and the household's own application are refused, and nothing is opened."""
    from engine.cases.lifecycle import open_green_channel, open_identification
    from engine.cases.self_application import Application, ApplicationRefused, submit_application
    from engine.households.register import register_household
    from tests.bdd.officials import household_data

    household = register_household(household_data("沙河村", "急难户", 2), "shahe_cun", clock)
    green = open_green_channel(household.id, "shahe_cun", clock, {"hardship": "房屋遭洪水冲毁"})
    before = count_rows(Case)
    with pytest.raises(RuleViolation, match=f"正在绿色通道中（{green.number}），核实后由绿色通道转入识别"):
        open_identification(household.id, "cadre_screening", green.lead_date, "shahe_cun", clock)
    head = household.head
    with pytest.raises(ApplicationRefused) as refused:
        submit_application(Application(household.village.code, head.name, head.id_number, "13900000001",
                                       "洪水冲毁房屋", ["natural_disaster"], agreed=True), clock)
    assert "绿色通道" in refused.value.reason
    assert count_rows(Case) == before


def test_a_whole_identification_completes_each_task_without_an_orm_flush_and_keeps_what_its_steps_recorded(
        app, clock, monkeypatch):
    """The income record, the measures, the notice and the household's changed columns that the diagram's functions
    make go out by direct writes (engine.core.writes), not by the unit of work at commit: no completion flushes."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    import engine.demo
    from engine.core.models import Household, IncomeRecord, Measure, Notice

    flushed: list[str] = []
    listener = (Session, "after_flush", lambda session, context: flushed.append("flush"))

    def counted(*args, **kwargs):
        event.listen(*listener)
        try:
            return complete_task(*args, **kwargs)
        finally:
            event.remove(*listener)

    monkeypatch.setattr(engine.demo, "complete_task", counted)
    case = open_case(clock)
    done = engine.demo.drive_case(case.id, clock)
    assert len(done) >= 10 and flushed == []
    db.session.remove()
    household = db.session.get(Household, db.session.get(Case, case.id).household_id)
    assert (household.status, household.category, household.risk_types) == ("monitored", "marginal", ["illness"])
    assert household.identified_on is not None and household.responsible_person
    assert db.session.scalars(select(IncomeRecord.case_id).filter_by(household_id=household.id)).all() == [case.id]
    assert set(db.session.scalars(select(Measure.case_id).filter_by(household_id=household.id))) == {case.id}
    assert db.session.scalars(select(Notice.case_id).filter_by(household_id=household.id)).all() == [case.id]


def test_a_gateway_none_of_whose_conditions_hold_refuses_the_step_in_chinese_and_saves_nothing(app, clock):
    """An editor's slip the deploy cannot see (a condition that reads "approved", never a value of the form):
    the case used to stop with SpiffWorkflow's "No conditions satisfied for eligible"."""
    from engine.bpmn.source import DiagramSource
    from engine.core.errors import FangpinError
    from engine.core.models import HumanTask, User
    from engine.demo import drive_case, official_for, sample_form_data
    from engine.library.deploying import deploy_diagram
    from tests.bpmn.test_gateways import slip as slipped_identification
    from timers.calendar import to_local_date

    slip = slipped_identification()
    editor = db.session.scalar(select(User).filter_by(username="jiangxi_zhengce"))
    deploy_diagram(editor, DiagramSource("identification.bpmn", slip), clock)
    case = open_case(clock)
    assert case.process_version.version == 2
    with pytest.raises(FangpinError) as refused:
        drive_case(case.id, clock, max_steps=5)
    message = str(refused.value)
    assert message.startswith("流程图中的排他网关 'eligible'（符合纳入条件？）的条件都不成立（此时 decision = \"approve\"），"
                              "又没有默认流，案件无法继续，本次办理未保存")
    assert "把网关的一条流出顺序流设为默认流（default）" in message and 'decision == "approved"' in message
    assert "No conditions" not in message
    db.session.expire_all()
    stuck = db.session.scalar(select(HumanTask).filter_by(case_id=case.id, state="READY"))
    state, version = case.state, case.lock_version
    with pytest.raises(FangpinError, match="eligible"):  # the same step again: refused again, still nothing saved
        complete_task(stuck.id, sample_form_data(stuck.form, to_local_date(clock.now()), stuck.case),
                      official_for(stuck.role, case).username, clock)
    db.session.expire_all()
    assert (case.state, case.lock_version, case.status) == (state, version, "running")
    assert db.session.get(HumanTask, stuck.id).state == "READY"
