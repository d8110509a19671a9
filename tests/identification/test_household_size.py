"""入户核实's 家庭人口数 is the household's (engine.households.household_size): the members who actually live together
and share income and expenses (001 Q16: 不能简单以户籍人口为准), as the register counts them (``Household.size``)
and the task page prefills. Another number is refused at the field naming both, unless 核实情况说明 explains it;
the demo's sample verification follows the household's size, at the same income a head."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from engine.cases.lifecycle import complete_task, open_identification
from engine.core.db import db
from engine.core.errors import FormInvalid
from engine.core.models import Household, HumanTask
from engine.demo import drive_case, official_for, sample_form_data
from engine.households.household_size import FIELD, household_size_problems
from engine.households.records import case_incomes, figures
from engine.households.register import register_household
from tests.bdd.officials import household_data
from timers.calendar import to_local_date

pytestmark = pytest.mark.usefixtures("app")
VERIFICATION = "household_verification.json"


def _household(clock, members: int, away: int = 0) -> Household:
    """A household of 沙河村 of ``members`` registered, the last ``away`` of them not living with it."""
    return register_household(household_data("沙河村", "人口户", members, away), "system", clock)


def _at_verification(clock, household: Household) -> HumanTask:
    case = open_identification(household.id, "cadre_screening", date(2026, 9, 20), "system", clock)
    drive_case(case.id, clock, until="受理申请并签署承诺授权书")
    return db.session.scalar(select(HumanTask).filter_by(case_id=case.id, state="READY", form=VERIFICATION))


def _verify(clock, row: HumanTask, size: int, notes: str | None = None) -> None:
    data = sample_form_data(VERIFICATION, to_local_date(clock.now()), row.case)
    data["income"] = {**data["income"], "household_size": size}
    if notes is not None:
        data["notes"] = notes
    complete_task(row.id, data, official_for(row.role, row.case).username, clock)


def test_a_size_other_than_the_members_living_together_is_refused_at_the_field_and_nothing_is_saved(clock):
    row = _at_verification(clock, _household(clock, 3, away=1))  # 户籍 3, 共同生活 2
    for size, notes in ((3, None), (1, None), (3, " \n ")):  # the 户籍 count, fewer, a blank explanation
        with pytest.raises(FormInvalid) as refused:
            _verify(clock, row, size, notes)
        (field, reason), = refused.value.errors
        assert field == "income.household_size"
        assert reason.startswith(f"家庭人口数 {size} 人与农户登记中实际共同生活的成员 2 人不同")
        assert "家庭成员变更" in reason and "核实情况说明" in reason
        db.session.rollback()
        assert db.session.get(HumanTask, row.id).state == "READY"
        assert case_incomes([row.case_id]) == {}


def test_the_registers_size_or_an_explained_difference_is_accepted_and_divides_the_income(clock):
    row = _at_verification(clock, _household(clock, 3, away=1))
    _verify(clock, row, 2)
    assert figures(case_incomes([row.case_id])[row.case_id]).household_size == 2
    explained = _at_verification(clock, _household(clock, 2))
    _verify(clock, explained, 3, notes="户主岳母常年随户生活、共享收支，户籍在外村，尚未迁入")
    recorded = figures(case_incomes([explained.case_id])[explained.case_id])
    assert recorded.household_size == 3 and recorded.net_income_per_capita == Decimal("3333.33")  # the sample's 10 000 ÷ 3


@pytest.mark.parametrize("members", [1, 2, 5])
def test_the_sample_verification_follows_the_household_at_five_thousand_a_head(clock, members):
    row = _at_verification(clock, _household(clock, members))
    income = sample_form_data(VERIFICATION, to_local_date(clock.now()), row.case)["income"]
    assert income["household_size"] == members
    _verify(clock, row, members)
    assert figures(case_incomes([row.case_id])[row.case_id]).net_income_per_capita == 5000
    assert sample_form_data(VERIFICATION, date(2026, 9, 20))["income"]["household_size"] == 3  # for no case


def test_the_rule_reads_only_the_size_it_is_given():
    household = Household(members=[])
    assert household_size_problems({"income": {}}, household) == []  # no size: the schema's to refuse
    assert household_size_problems({"income": {"household_size": 2}}, None) == []  # no household: nothing to compare
    (field, _), = household_size_problems({"income": {"household_size": 2}}, household)
    assert field == FIELD
