"""The elimination's 乡镇审核（入户核实） is held to the register's 家庭人口数 as the identification's 入户核实 is
(engine.households.household_size; tests/identification/test_household_size.py): a size too small would lift the
income per head above the line."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.cases.lifecycle import open_elimination
from engine.core.db import db
from engine.core.errors import FormInvalid
from engine.core.models import HumanTask
from engine.core.transaction import transaction
from engine.demo import drive_case, sample_form_data
from engine.households.household_size import FIELD
from engine.households.register import register_household
from tests.bdd.officials import household_data
from timers.calendar import to_local_date

pytestmark = pytest.mark.usefixtures("app")
REVIEW = "elimination_review.json"


def test_the_eliminations_verification_is_held_to_the_registers_size(clock, assisted):
    household = register_household(household_data("沙河村", "消除户", 2), "system", clock)
    with transaction():
        household.status, household.category, household.identified_on = "monitored", "marginal", date(2026, 3, 1)
    case = open_elimination(household.id, "assisted", "system", clock)
    sample = sample_form_data(REVIEW, to_local_date(clock.now()), case)
    assert sample["income"]["household_size"] == 2
    one = {"income": {**sample["income"], "household_size": 1}}  # 24 000 a head instead of 12 000
    with pytest.raises(FormInvalid) as refused:
        drive_case(case.id, clock, until="乡镇审核（入户核实收入）", data={REVIEW: one})
    (field, reason), = refused.value.errors
    assert field == FIELD and reason.startswith("家庭人口数 1 人与农户登记中实际共同生活的成员 2 人不同：请先办理家庭成员变更")
    db.session.rollback()
    row = db.session.scalar(select(HumanTask).filter_by(case_id=case.id, state="READY"))
    assert row.form == REVIEW
    drive_case(case.id, clock, until=row.name, data={REVIEW: {**one, "notes": "长子已分户另居，成员变更在办"}})
    assert db.session.get(HumanTask, row.id).state == "COMPLETED"
