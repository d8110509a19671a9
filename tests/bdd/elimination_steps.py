"""Step definitions of the risk elimination features (features/elimination.feature, and 龙口's own procedure in
features/elimination_longkou.feature): eligibility and procedure on the real engine and the real diagrams."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from pytest_bdd import given, parsers, then, when
from sqlalchemy import select

from engine.cases.lifecycle import complete_task, open_correction, open_elimination, open_identification, wake_due
from engine.core.db import db
from engine.core.errors import FangpinError
from engine.core.models import Case, HumanTask
from engine.core.vocabulary import HouseholdCategory
from engine.demo import drive_case, sample_form_data
from engine.elimination.eligibility import assess
from engine.households.register import register_household
from tests.bdd.officials import household_data, household_named
from tests.bdd.steps import *
from tests.bdd.steps import CST, KINDS, _case, _ready, _today, default_form, official


def _monitored(world, clock, head: str, village: str = "沙河村", kind: str = "脱贫户",
               verified: dict | None = None, **extra) -> None:
    """A household of 3 identified with the default materials (``verified``: its 入户核实's income instead)."""
    household = register_household(household_data(village, head, 3, **KINDS[kind], **extra), "system", clock)
    case = open_identification(household.id, "cadre_screening", _today(clock), "system", clock)
    drive_case(case.id, clock, data={"household_verification.json": {"income": verified}} if verified else None)
    assert household_named(head).status == "monitored"


@given(parsers.re(r'(?P<village>沙河村|诸由观村)有一户纳入监测的(?P<kind>脱贫户|脱贫不享受政策户|一般农户) "(?P<head>[^"]+)"$'))
def monitored(world, clock, village: str, kind: str, head: str) -> None:
    _monitored(world, clock, head, village, kind)


@given(parsers.re(r'诸由观村有一户纳入监测的一般农户 "(?P<head>[^"]+)"，入户核实家庭纯收入 (?P<income>\d+) 元'
                  r'(?P<fall>，收入大幅缩减)?$'))
def monitored_with_income(world, clock, head: str, income: str, fall: str | None) -> None:
    verified = {"household_size": 3, "wages": int(income), "business_income": 0, "property_income": 0,
                "transfer_income": 0, "business_expenses": 0, "sharply_reduced": bool(fall)}
    _monitored(world, clock, head, "诸由观村", "一般农户", verified)


@given(parsers.parse('县级从国家系统导入沙河村的监测对象 "{head}"：脱贫不稳定户，{identified} 识别纳入，'
                     '帮扶措施 "{measures}" 自 {started} 起落实'))
def imported_monitored(world, clock, head: str, identified: str, measures: str, started: str) -> None:
    """A monitored household identified outside fangpin (系统外识别（导入）), brought with 农户批量导入 and its
    measures (``measures``: the 产业帮扶 items), as a county starting with fangpin brings it."""
    from engine.cases.household_import import import_households
    from tests.households.import_files import (
        CATEGORY,
        FORMERLY_POOR,
        IDENTIFIED_ON,
        INDUSTRY,
        MEASURES_FROM,
        RESPONSIBLE,
        RISKS,
        as_csv,
        household,
    )

    rows = household(head, 3, **{FORMERLY_POOR: "是", CATEGORY: "脱贫不稳定户", IDENTIFIED_ON: identified,
                                 RISKS: "因病", INDUSTRY: measures, MEASURES_FROM: started, RESPONSIBLE: "帮扶人"})
    import_households("国家系统导出.csv", as_csv(rows), "zhanggong_xian", clock)
    assert household_named(head).status == "monitored"


@given(parsers.parse('沙河村有一户纳入监测的脱贫户 "{head}"，为整户无劳动能力兜底保障户'))
def monitored_guaranteed(world, clock, head: str) -> None:
    _monitored(world, clock, head, social_guarantee=True)


@given(parsers.parse('"{head}" 户此后 {months:d} 个月每月回访，收入稳定'))
def monthly_visits(clock, head: str, months: int) -> None:
    household = household_named(head)
    followup = db.session.scalar(select(Case).filter_by(household_id=household.id, procedure="followup"))
    for _ in range(months):
        row = db.session.scalar(select(HumanTask).filter_by(case_id=followup.id, state="READY"))
        complete_task(row.id, sample_form_data(row.form, _today(clock), row.case), official("村干部", followup).username, clock)
        local = clock.now().astimezone(CST)
        clock.set(datetime(local.year + local.month // 12, local.month % 12 + 1, 1, 8, tzinfo=CST))
        wake_due(clock.now(), clock)


@then(parsers.parse('"{head}" 户的消除研判结果为符合'))
def eligible(clock, head: str) -> None:
    result = assess(household_named(head), _today(clock))
    assert result.eligible, result.explanation


@then(parsers.parse('"{head}" 户的消除研判结果为不符合，说明包含 "{first}" 和 "{second}"'))
def not_eligible_two(clock, head: str, first: str, second: str) -> None:
    result = assess(household_named(head), _today(clock))
    failed = "；".join(f"{c.name}：{c.detail}" for c in result.checks if not c.passed)
    assert not result.eligible and first in failed and second in failed, result.explanation


@then(parsers.re(r'"(?P<head>[^"]+)" 户的消除研判结果为不符合，说明包含 "(?P<text>[^"]+)"$'))
def not_eligible(clock, head: str, text: str) -> None:
    result = assess(household_named(head), _today(clock))
    assert not result.eligible and text in result.explanation, result.explanation


@then(parsers.parse('为 "{head}" 户启动风险消除被拒绝，提示包含 "{text}"'))
def refused_to_start(clock, head: str, text: str) -> None:
    with pytest.raises(FangpinError) as refused:
        open_elimination(household_named(head).id, "assisted", "shahe_zhen", clock)
    assert text in str(refused.value)


@when(parsers.parse('乡镇为 "{head}" 户启动风险消除'))
def start_elimination(world, clock, head: str) -> None:
    world["case_id"] = open_elimination(household_named(head).id, "assisted", "system", clock).id
    world["done"] = []


def _review(income: int) -> dict[str, dict]:
    return {"elimination_review.json": {"income": {"household_size": 3, "wages": income, "business_income": 0,
                                                   "property_income": 0, "transfer_income": 0, "business_expenses": 0}}}


@when(parsers.parse("各级按默认材料办理，直至办结；乡镇核实家庭纯收入 {income:d} 元"))
def run_with_income(world, clock, income: int) -> None:
    world["done"] += drive_case(world["case_id"], clock, data=_review(income))


@when(parsers.parse('各级按默认材料办理，直至 "{step}" 完成；乡镇核实家庭纯收入 {income:d} 元'))
def run_until_with_income(world, clock, step: str, income: int) -> None:
    world["done"] += drive_case(world["case_id"], clock, until=step, data=_review(income))


@then(parsers.parse('"{head}" 户已标注风险消除（帮扶消除），每月回访已结束'))
def eliminated(clock, head: str) -> None:
    household = household_named(head)
    assert (household.status, household.elimination_mode) == ("eliminated", "assisted")
    decision = db.session.scalar(select(HumanTask).join(Case).where(
        Case.household_id == household.id, Case.procedure == "elimination",
        HumanTask.form.in_(["elimination_approval.json", "system_entry.json"])))  # approval, or Longkou's tagging
    assert household.elimination_date.isoformat() in (decision.form_data.get("decided_on"),
                                                      decision.form_data.get("entered_on"))
    followup = db.session.scalar(select(Case).filter_by(household_id=household.id, procedure="followup"))
    assert followup.status == "completed"


@then(parsers.parse('"{head}" 户仍为监测对象，每月回访继续'))
def still_monitored(head: str) -> None:
    household = household_named(head)
    assert (household.status, household.elimination_date) == ("monitored", None)
    followup = db.session.scalar(select(Case).filter_by(household_id=household.id, procedure="followup"))
    assert followup.status == "running"


@then(parsers.parse('"{head}" 户的风险消除日期为 {day}'))
def eliminated_on(head: str, day: str) -> None:
    assert household_named(head).elimination_date == date.fromisoformat(day)


@then(parsers.parse('"{head}" 户的监测对象类别为 "{label}"'))
def category_is(head: str, label: str) -> None:
    assert HouseholdCategory.label_of(household_named(head).category) == label


@then(parsers.parse('"{head}" 户作为脱贫享受政策户继续管理和帮扶'))
def enjoys_policy(head: str) -> None:
    household = household_named(head)
    assert (household.is_formerly_poor, household.enjoys_poverty_policy) == (True, True)


CORRECTIONS = {"风险消除回退": "rollback", "清退": "removal"}


@when(parsers.parse('县级为 "{head}" 户申请 "{kind}"'))
def request_correction(world, clock, head: str, kind: str) -> None:
    world["case_id"] = open_correction(household_named(head).id, CORRECTIONS[kind], "zhanggong_xian", clock).id
    world["done"] = []


@then(parsers.parse('县级为 "{head}" 户申请 "{kind}" 被拒绝，提示包含 "{text}"'))
def correction_refused(clock, head: str, kind: str, text: str) -> None:
    with pytest.raises(FangpinError) as refused:
        open_correction(household_named(head).id, CORRECTIONS[kind], "zhanggong_xian", clock)
    assert text in str(refused.value)


@then(parsers.parse('"{head}" 户恢复为监测对象，每月回访重新开始'))
def rolled_back(head: str) -> None:
    household = household_named(head)
    assert (household.status, household.elimination_date) == ("monitored", None)
    followups = db.session.scalars(select(Case.status).filter_by(household_id=household.id, procedure="followup")
                                   .order_by(Case.id)).all()
    assert followups == ["completed", "running"]


PROVINCES = {"江西省": "36", "山东省": "37"}


@given(parsers.parse("{province} {year:d} 年的监测范围设为 {amount:d} 元"))
@when(parsers.parse("{province} {year:d} 年的监测范围设为 {amount:d} 元"))
def line_set(clock, province: str, year: int, amount: int) -> None:
    """The province's line of ``year``, as its policy editor sets it on 监测范围 (or `fangpin policy load` loads it)."""
    from engine.core.models import Jurisdiction, MonitoringLine
    from engine.core.transaction import transaction

    with transaction():
        place = db.session.scalar(select(Jurisdiction).filter_by(code=PROVINCES[province]))
        db.session.add(MonitoringLine(province_id=place.id, year=year, amount=amount, source=f"示例：{year}年监测范围"))


@then(parsers.parse('{role}办理 "{step}" 被拒绝，提示包含 "{text}"'))
def step_refused(world, clock, role: str, step: str, text: str) -> None:
    """The step, completed with the default materials, is refused in words, and the case stays where it was."""
    case = _case(world)
    (row,) = [r for r in _ready(case) if r.name == step]
    with pytest.raises(FangpinError) as refused:
        complete_task(row.id, default_form(row.form, _today(clock), row.case), official(role, case).username, clock)
    assert text in str(refused.value), str(refused.value)
    assert [r.name for r in _ready(_case(world))] == [step]
