"""Each place's own exclusion criteria (engine.identification.exclusions): the 入户核实 form offers, and a completion
accepts, only the list its policy names — 鞍山's (000 二（一）), 龙口's (003 二（二）), 江西's cases of 可不纳入、持续跟踪
(001 Q10, Q12, Q16), where high-value property is weighed, not a ground for exclusion by itself (Q14)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.bpmn.forms import load_form
from engine.cases.lifecycle import complete_task, open_identification
from engine.core.db import db
from engine.core.errors import FormInvalid
from engine.core.models import Case, HumanTask
from engine.demo import drive_case, official_for, sample_form_data
from engine.households.register import register_household
from engine.identification.exclusions import narrowed, of_case
from tests.bdd.officials import household_data
from timers.calendar import to_local_date

pytestmark = pytest.mark.usefixtures("app")
VERIFICATION = "household_verification.json"


def _at_verification(clock, village: str) -> HumanTask:
    """A new household's identification driven up to its 入户核实 (鞍山 appraises first: 000 三(二)2)."""
    household = register_household(household_data(village, "核实户", 2), "system", clock)
    case = open_identification(household.id, "cadre_screening", date(2026, 9, 20), "system", clock)
    for _ in range(5):
        ready = db.session.scalars(select(HumanTask).filter_by(case_id=case.id, state="READY")).all()
        found = next((row for row in ready if row.form == VERIFICATION), None)
        if found is not None:
            return found
        drive_case(case.id, clock, until=ready[0].name)
    raise AssertionError("no 入户核实 reached")


def _verify(clock, row: HumanTask, exclusions: list[str]) -> None:
    data = {**sample_form_data(VERIFICATION, to_local_date(clock.now()), row.case), "exclusions": exclusions}
    complete_task(row.id, data, official_for(row.role, row.case).username, clock)


@pytest.mark.parametrize(("village", "foreign", "own"), [
    ("沙河村", "high_value_housing", "below_line_no_risk"),  # 江西 2023: 鞍山's high-value housing is not its ground
    ("诸由观村", "high_value_housing", "high_end_car"),  # 龙口
    ("新华村", "high_end_car", "high_value_housing"),  # 鞍山 (台安县)
])
def test_a_criterion_of_another_places_list_is_refused_naming_the_field_and_nothing_is_saved(clock, village,
                                                                                            foreign, own):
    row = _at_verification(clock, village)
    assert row is not None
    with pytest.raises(FormInvalid) as refused:
        _verify(clock, row, [foreign])
    (field, reason), = refused.value.errors
    assert field == "exclusions" and foreign in reason and "不在" in reason and "可选" in reason
    db.session.rollback()
    assert db.session.get(HumanTask, row.id).state == "READY"
    _verify(clock, row, [own])  # its own list's criterion: accepted, and it excludes as the table says
    case = db.session.get(Case, row.case_id)
    assert case.status == "completed" and case.outcome == "rejected"


def test_the_form_offers_the_places_list_with_its_heading(clock):
    jiangxi = narrowed(load_form(VERIFICATION), _at_verification(clock, "沙河村").case)
    field = jiangxi["properties"]["exclusions"]
    assert field["items"]["enum"] == ["stable_no_risk", "below_line_no_risk", "high_income_self_solvable"]
    assert len(field["enumNames"]) == 3 and "无“原则上不纳入”清单" in field["description"]
    anshan = narrowed(load_form(VERIFICATION), _at_verification(clock, "新华村").case)
    assert "high_value_housing" in anshan["properties"]["exclusions"]["items"]["enum"]
    assert "high_end_car" not in anshan["properties"]["exclusions"]["items"]["enum"]
    assert of_case(_at_verification(clock, "诸由观村").case).key == "longkou"
