"""收入计算时间: the place's rule for the identification's income window is the one the case opened with — a rule
changed while the case runs applies to the cases opened after the change (as the case's other parameters do)."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from engine.cases.lifecycle import open_identification
from engine.core.db import db
from engine.core.models import IncomeRecord, Jurisdiction, PolicyParameter
from engine.demo import drive_case
from engine.households.register import register_household
from tests.bdd.officials import household_data

KEY = "identification.income_window_anchor"


def _window(case_id: int) -> tuple[date, date]:
    record = db.session.scalar(select(IncomeRecord).filter_by(case_id=case_id))
    return record.window_start, record.window_end


def test_the_income_window_follows_the_rule_the_case_opened_with(app, clock) -> None:
    household = register_household(household_data("沙河村", "王五", 2), "shahe_cun", clock)
    late = {"backfill_reason": "8 月 28 日书面申请，9 月才交村委会"}  # found 23 days ago (15 without a reason)
    opened = open_identification(household.id, "self_application", date(2026, 8, 28), "shahe_cun", clock, late)
    county = db.session.scalar(select(Jurisdiction).filter_by(code="360702"))
    db.session.add(PolicyParameter(jurisdiction=county, key=KEY, value="discovery_month", source="test",
                                   effective_from=date(2026, 9, 21)))  # from tomorrow: the lead's month counts
    db.session.commit()
    clock.advance(timedelta(days=1))
    other = register_household(household_data("沙河村", "赵六", 2), "shahe_cun", clock)
    later = open_identification(other.id, "self_application", date(2026, 8, 28), "shahe_cun", clock, late)
    for case in (opened, later):
        drive_case(case.id, clock, until="入户核实")
    # verified in September: the identification month's rule reckons from September (the case opened before the
    # change), the discovery month's from the lead in August
    assert _window(opened.id) == (date(2025, 9, 1), date(2026, 8, 31))
    assert _window(later.id) == (date(2025, 8, 1), date(2026, 7, 31))
