"""features/followup.feature: the assistance plan's rules and the monthly revisit, on the real engine."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from pytest_bdd import parsers, scenarios, then, when
from sqlalchemy import select

from engine.cases.lifecycle import complete_task, wake_due
from engine.core.db import db
from engine.core.errors import FangpinError
from engine.core.models import Case, HumanTask, Measure
from engine.demo import sample_form_data
from engine.supervision.overdue import overdue_tasks
from tests.bdd.officials import household_named
from tests.bdd.steps import *
from tests.bdd.steps import CST, _case, _task, _today, official

scenarios("followup.feature")


@when(parsers.parse('村干部提交帮扶计划：有劳动能力，措施 "{code} {item}"'))
def submit_plan(world, clock, code: str, item: str) -> None:
    row = _task(_case(world), "制定帮扶计划并在村内公示")
    data = {**sample_form_data(row.form, _today(clock), row.case), "measures": [{"category": code, "item": item}]}
    try:
        complete_task(row.id, data, official("村干部", row.case).username, clock)
    except FangpinError as exc:
        world["refused"] = str(exc)


@then(parsers.parse('"{head}" 户的帮扶措施为 "{code} {item}"，帮扶责任人 "{person}"'))
def measures_recorded(head: str, code: str, item: str, person: str) -> None:
    household = household_named(head)
    measures = db.session.scalars(select(Measure).filter_by(household_id=household.id)).all()
    assert [(m.code, m.item, m.developmental) for m in measures] == [(code, item, True)]
    assert household.responsible_person == person


def _followup(head: str) -> Case:
    household = household_named(head)
    return db.session.scalar(select(Case).filter_by(household_id=household.id, procedure="followup"))


def _revisit(head: str) -> HumanTask:
    db.session.expire_all()
    return db.session.scalar(select(HumanTask).filter_by(case_id=_followup(head).id, state="READY"))


def _month_end(moment: datetime) -> datetime:
    """24:00 of the last day of the month of ``moment`` (= the 1st of the next month, 00:00 CST)."""
    local = moment.astimezone(CST)
    return datetime(local.year + local.month // 12, local.month % 12 + 1, 1, tzinfo=CST)


@then(parsers.parse('"{head}" 户有每月回访案件，待办 "每月回访" 期限为本月最后一天 24:00'))
def followup_started(world, clock, head: str) -> None:
    row = _revisit(head)
    assert row.name == "每月回访" and row.role == "village_cadre"
    assert row.due_at == _month_end(clock.now())
    world["followup_head"] = head


@when("村干部完成本月回访")
def revisit_done(world, clock) -> None:
    row = _revisit(world["followup_head"])
    complete_task(row.id, sample_form_data(row.form, _today(clock), row.case), official("村干部", row.case).username, clock)


@when(parsers.parse("时间来到下月 1 日 08:00"))
def next_month_begins(world, clock) -> None:
    world["month"] = _month_end(clock.now()) + timedelta(hours=8)
    clock.set(world["month"])
    wake_due(clock.now(), clock)


@when(parsers.parse("时间来到再下月 1 日 08:00"))
def month_after(world, clock) -> None:
    next_month_begins(world, clock)


@then(parsers.parse('"{head}" 户有待办 "每月回访"，期限为该月最后一天 24:00'))
def new_revisit(world, clock, head: str) -> None:
    row = _revisit(head)
    assert row is not None and row.due_at == _month_end(clock.now())
    assert row.created_at.astimezone(CST).date() == date(world["month"].year, world["month"].month, 1)


@then(parsers.parse('"{head}" 户的每月回访逾期 {days:d} 天'))
def revisit_overdue(world, clock, head: str, days: int) -> None:
    items = overdue_tasks(_followup(head).jurisdiction, clock.now(), procedure="followup")
    assert [(i.step, i.days_overdue) for i in items] == [("每月回访", days)]
