"""The category the county decides at 县级审定 (engine.identification.county_decision): only one the household may
be given — 脱贫不稳定户 only for a 脱贫户, 边缘易致贫户 only for a 一般农户, as the household import — and, when it is
not the decision table's, only with the reason written in 理由, the error naming the computed category. A refused
approval changes nothing; an accepted one makes the household the county's category."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.cases.lifecycle import complete_task, open_identification
from engine.core.db import db
from engine.core.errors import FormInvalid
from engine.core.models import Household, HumanTask
from engine.demo import drive_case, official_for, sample_form_data
from engine.households.register import register_household
from engine.identification.county_decision import computed_category, county_category_problems
from tests.bdd.officials import household_data
from timers.calendar import to_local_date

ORDINARY = Household(number="3607021012010001", is_formerly_poor=False)
FORMERLY_POOR = Household(number="3607021012010002", is_formerly_poor=True, enjoys_poverty_policy=True)
NOT_POOR = "脱贫不稳定户须为脱贫户：本户是一般农户，可认定为边缘易致贫户、突发严重困难户，或留空采用测算结果"
POOR = ("边缘易致贫户是一般农户，脱贫户应为脱贫不稳定户（或突发严重困难户）：本户是脱贫户（享受政策），"
        "可认定为脱贫不稳定户、突发严重困难户，或留空采用测算结果")


def _changed(chosen: str, computed: str) -> str:
    return f"认定类别{chosen}与决策表测算结果{computed}不同：请在理由中写明改定类别的依据"


@pytest.mark.parametrize(("household", "data", "computed", "problems"), [
    (ORDINARY, {}, "marginal", []),  # nothing chosen: the computed category is adopted
    (ORDINARY, {"county_category": None}, "marginal", []),
    (ORDINARY, {"county_category": "marginal"}, "marginal", []),  # the computed one: no reason needed
    (ORDINARY, {"county_category": "unstable", "reason": "县里认为应为脱贫不稳定户"}, "marginal",
     [("county_category", NOT_POOR)]),
    (ORDINARY, {"county_category": "unstable"}, "marginal",
     [("county_category", NOT_POOR), ("reason", _changed("脱贫不稳定户", "边缘易致贫户"))]),
    (FORMERLY_POOR, {"county_category": "marginal", "reason": "  "}, "unstable",
     [("county_category", POOR), ("reason", _changed("边缘易致贫户", "脱贫不稳定户"))]),
    (ORDINARY, {"county_category": "sudden"}, "marginal", [("reason", _changed("突发严重困难户", "边缘易致贫户"))]),
    (ORDINARY, {"county_category": "sudden", "reason": "户主突发重病，医疗支出大"}, "marginal", []),
    (FORMERLY_POOR, {"county_category": "sudden"}, None, []),  # no computed category held: nothing to differ from
])
def test_the_county_gives_a_category_the_household_may_have_and_says_why_it_changed_it(household, data, computed,
                                                                                       problems):
    assert county_category_problems(data, household, computed) == problems


def test_the_computed_category_is_the_assessment_the_diagram_keeps():
    assert computed_category({"assessment": {"category": "marginal", "include": True}}) == "marginal"
    assert computed_category({"assessment": None}) is computed_category({}) is None


@pytest.fixture
def at_county_approval(app, clock) -> int:
    """A 一般农户 of 沙河村 at 县级审定, the decision table having computed 边缘易致贫户 (sample income, 因病)."""
    household = register_household(household_data("沙河村", "审定乙", 3), "shahe_cun", clock)
    case = open_identification(household.id, "cadre_screening", date(2026, 9, 20), "shahe_cun", clock)
    drive_case(case.id, clock, until="乡镇审核（入户抽查）")
    row = db.session.scalar(select(HumanTask).filter_by(case_id=case.id, state="READY"))
    assert row.form == "county_approval.json"
    return row.id


def _approve(task_id: int, clock, **fields) -> None:
    row = db.session.get(HumanTask, task_id)
    data = {**sample_form_data(row.form, to_local_date(clock.now()), row.case), **fields}
    complete_task(task_id, data, official_for(row.role, row.case).username, clock)


def test_a_refused_category_changes_nothing(at_county_approval, clock):
    with pytest.raises(FormInvalid) as refused:
        _approve(at_county_approval, clock, county_category="unstable")
    db.session.rollback()
    assert refused.value.errors == [("county_category", NOT_POOR), ("reason", _changed("脱贫不稳定户", "边缘易致贫户"))]
    row = db.session.get(HumanTask, at_county_approval)
    assert row.state == "READY" and row.case.household.category is None
    with pytest.raises(FormInvalid, match="与决策表测算结果边缘易致贫户不同"):
        _approve(at_county_approval, clock, county_category="sudden")
    db.session.rollback()
    assert db.session.get(HumanTask, at_county_approval).state == "READY"


def test_a_changed_category_with_its_reason_is_the_households(at_county_approval, clock):
    _approve(at_county_approval, clock, county_category="sudden", reason="户主突发重病，医疗支出大")
    row = db.session.get(HumanTask, at_county_approval)
    assert row.state == "COMPLETED" and row.form_data["reason"] == "户主突发重病，医疗支出大"
    drive_case(row.case_id, clock)
    assert db.session.get(HumanTask, at_county_approval).case.household.category == "sudden"
