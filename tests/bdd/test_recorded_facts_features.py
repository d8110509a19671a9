"""features/recorded_facts.feature: dates of what happened and 三保障 findings, against the real engine, diagrams
and calendar."""
from __future__ import annotations

from datetime import datetime

from pytest_bdd import parsers, scenarios, then, when
from sqlalchemy import func, select

from engine.cases.deadlines import deadlines_of_case
from engine.core.db import db
from engine.core.errors import FormInvalid
from engine.core.models import Notice
from engine.demo import sample_form_data as default_form
from engine.elimination.eligibility import assess
from engine.households.information_form import information_form
from engine.households.ledger import ledger_rows
from tests.bdd.officials import household_named
from tests.bdd.steps import *
from tests.bdd.steps import CST, _case, _complete, _task, _today

scenarios("recorded_facts.feature")

DATE_FIELDS = {"县级审定": "decided_on", "张贴村级公示": "posted_on"}


def _try(world, clock, step: str, role: str, overrides: dict) -> None:
    row = _task(_case(world), step)
    assert row is not None, f"no ready task {step}"
    try:
        _complete(world, clock, row, overrides, role)
    except FormInvalid as exc:
        db.session.rollback()
        world["refused"] = dict(exc.errors)


@when(parsers.parse('{role}办理 "{step}"，{what}日期为 {day}'))
def do_dated(world, clock, role: str, step: str, what: str, day: str) -> None:
    _try(world, clock, step, role, {DATE_FIELDS[step]: day})


FINDINGS = {"住房不安全": ("housing_unsafe", "housing"), "有成员未参加基本医疗保险": ("no_basic_medical_insurance", "illness")}


@when(parsers.parse('乡镇干部办理 "入户核实"：人均收入高于监测范围，但{finding}'))
def verify_a_guarantee_problem(world, clock, finding: str) -> None:
    problem, risk = FINDINGS[finding]
    row = _task(_case(world), "入户核实")
    data = default_form(row.form, _today(clock), row.case)
    income = {"household_size": 3, "wages": 60000, "business_income": 0, "property_income": 0, "transfer_income": 0,
              "business_expenses": 0}
    _complete(world, clock, row, {**data, "income": income, "risk_types": [risk], "guarantees": {problem: True}},
              "乡镇干部")


@then(parsers.parse('办理被拒绝，"{field}" 的提示包含 "{text}"'))
def refused_naming(world, field: str, text: str) -> None:
    assert text in world["refused"][field], world["refused"]


@then("农户没有收到告知")
def no_notice(world) -> None:
    assert db.session.scalar(select(func.count()).select_from(Notice).filter_by(case_id=world["case_id"])) == 0


@then(parsers.parse("公示期满时间为 {moment}"))
def publicity_ends(world, moment: str) -> None:
    (timer,) = [d for d in deadlines_of_case(world["case_id"]) if d.subject == "timer" and d.fired_at is None]
    assert timer.due_at == datetime.fromisoformat(moment).replace(tzinfo=CST)


@then(parsers.parse('"{head}" 户信息采集表 {code} 为 "{value}"'))
def information_form_field(head: str, code: str, value: str) -> None:
    fields = [f for section in information_form(household_named(head)) for f in section.fields]
    assert next(f.value for f in fields if f.code == code) == value


@then(parsers.parse('"{head}" 户在台账中的三保障和饮水安全问题为 "{text}"'))
def ledger_guarantees(head: str, text: str) -> None:
    household = household_named(head)
    (row,) = [r for r in ledger_rows(household.village) if r.household_id == household.id]
    assert row.guarantee_problems == text


@then(parsers.parse('"{head}" 户的风险消除评估中 "{name}" 不满足，说明 "{detail}"'))
def elimination_check(clock, head: str, name: str, detail: str) -> None:
    check = next(c for c in assess(household_named(head), _today(clock)).checks if c.name == name)
    assert not check.passed and check.detail == detail
