"""features/green_channel.feature: the green channel (绿色通道) on the real engine."""
from __future__ import annotations

from datetime import date, datetime

from pytest_bdd import parsers, scenarios, then, when
from sqlalchemy import select

from engine.cases.lifecycle import complete_task, open_green_channel
from engine.core.db import db
from engine.core.models import Case, HumanTask, Measure, Notice
from engine.demo import drive_case, sample_form_data
from tests.bdd.officials import household_named
from tests.bdd.steps import *
from tests.bdd.steps import _case, _task, _today, end_of, official
from timers.functions import days_from

scenarios("green_channel.feature")


@when(parsers.parse('村干部为 "{head}" 户启动绿色通道'))
def start(world, clock, head: str) -> None:
    world["case_id"] = open_green_channel(household_named(head).id, "shahe_cun", clock).id
    world["head"] = head


@then(parsers.parse('"{head}" 户在绿色通道中，帮扶措施已落实'))
def in_channel(head: str) -> None:
    household = household_named(head)
    assert household.status == "green_channel"
    measures = db.session.scalars(select(Measure).filter_by(household_id=household.id)).all()
    assert measures and all(m.ended_on is None for m in measures)


@then(parsers.parse('县级干部有待办任务 "{step}"，期限为 {day} 24:00'))
def county_task_due(world, step: str, day: str) -> None:
    row = _task(_case(world), step)
    assert row is not None and row.role == "county_officer" and row.due_at == end_of(day)


def _follow_up(head: str) -> Case:
    return db.session.scalar(select(Case).filter_by(household_id=household_named(head).id, procedure="identification"))


@when(parsers.parse('"{head}" 户补充履行的识别程序按默认材料办理，直至办结'))
def identification_after(world, clock, head: str) -> None:
    case = _follow_up(head)
    assert case.channel == "green_channel"
    drive_case(case.id, clock)


@then(parsers.parse('"{head}" 户补充履行的识别程序发现日期为 {day}，识别时限为 {limit} 24:00'))
def follow_up_limit(head: str, day: str, limit: str) -> None:
    case = _follow_up(head)
    assert case.lead_date == date.fromisoformat(day) and case.due_at == end_of(limit)
    first = db.session.scalar(select(HumanTask).filter_by(case_id=case.id).order_by(HumanTask.id))
    assert first.due_at == end_of(limit) and first.due_at > first.created_at  # not overdue when it appears


@then(parsers.parse('"{head}" 户帮扶计划和录入系统的期限自县级审定之日起算'))
def plan_due_from_approval(head: str) -> None:
    tasks = {t.form: t for t in db.session.scalars(select(HumanTask).filter_by(case_id=_follow_up(head).id))}
    decided = tasks["county_approval.json"].form_data["decided_on"]
    for form in ("assistance_plan.json", "system_entry.json"):
        row = tasks[form]
        assert row.due_at == datetime.fromisoformat(days_from(decided, 10))  # 10 days after the approval (Q27, Q45)
        assert row.due_at > row.created_at


@then(parsers.parse('"{head}" 户成为监测对象，识别日期为 {day}'))
def monitored_on(head: str, day: str) -> None:
    household = household_named(head)
    assert (household.status, household.identified_on) == ("monitored", date.fromisoformat(day))


@then(parsers.parse('农户依次收到告知 "{titles}"'))
def notices_in_order(world, titles: str) -> None:
    got = db.session.scalars(select(Notice.title).filter_by(case_id=world["case_id"]).order_by(Notice.id)).all()
    assert "、".join(got) == titles


@when(parsers.parse('县级干部核实 "{head}" 户不符合条件，理由 "{reason}"'))
def not_qualifying(world, clock, head: str, reason: str) -> None:
    row = _task(_case(world), "一个月内核实是否符合监测对象条件")
    data = {**sample_form_data(row.form, _today(clock), row.case), "qualifies": "no", "reason": reason}
    complete_task(row.id, data, official("县级干部", row.case).username, clock)


@then(parsers.parse('"{head}" 户已退出绿色通道，帮扶措施于 {day} 停止'))
def left(head: str, day: str) -> None:
    household = household_named(head)
    assert household.status == "key_attention"
    measures = db.session.scalars(select(Measure).filter_by(household_id=household.id)).all()
    assert measures and all(m.ended_on == date.fromisoformat(day) for m in measures)
