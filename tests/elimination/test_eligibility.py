"""The time limits of the risk elimination conditions are policy data by jurisdiction and date."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from engine.core.db import db
from engine.core.models import Jurisdiction, Measure, User
from engine.core.transaction import transaction
from engine.elimination.eligibility import assess, evaluation_list
from engine.households.register import register_household
from engine.policy.editing import set_parameter
from tests.bdd.officials import household_data
from timers.calendar import to_local_date


def _monitored(clock, head: str, measures_from: date):
    household = register_household(household_data("沙河村", head, 2), "shahe_cun", clock)
    with transaction():
        household.status, household.identified_on = "monitored", date(2026, 3, 1)
        db.session.add(Measure(household_id=household.id, code="A39", item="种植业", started_on=measures_from))
    return household


def _check(result, prefix: str):
    return next(c for c in result.checks if c.name.startswith(prefix))


def test_a_policy_editor_shortens_the_assistance_period_for_a_county(app, clock):
    today = to_local_date(clock.now())  # 2026-09-20
    household = _monitored(clock, "时长甲", measures_from=date(2026, 5, 1))
    half_year = _check(assess(household, today), "帮扶措施落实")
    assert half_year.name == "帮扶措施落实半年以上" and not half_year.passed  # 2026-05-01 is not before 03-20
    editor = db.session.scalar(select(User).filter_by(username="jiangxi_zhengce"))
    set_parameter(editor, "elimination.assistance_months", 4, "360702", today, clock, source="示例")
    shorter = _check(assess(household, today), "帮扶措施落实")
    assert shorter.name == "帮扶措施落实4 个月以上" and shorter.passed  # before 2026-05-20
    township = db.session.scalar(select(Jurisdiction).filter_by(code="360702101"))
    (listed,) = [r for r in evaluation_list(township, today) if r.household.id == household.id]
    assert _check(listed, "帮扶措施落实").passed  # the township's list reads the same policy


def test_the_month_rule_cites_the_places_own_document_or_nothing(app, clock):
    """不得当月进当月出或次月出 is 江西's 问答第37条 (001 Q37): a 江西 household reads that citation, from the policy
    parameter elimination.earliest_month_basis; 辽宁 (000) has no rule of its own and no citation is printed — never
    another province's. The 兜底 condition met reads as what it is, not “否”."""
    today = to_local_date(clock.now())  # 2026-09-20
    jiangxi = _monitored(clock, "依据甲", measures_from=date(2026, 1, 1))
    liaoning = register_household(household_data("新华村", "依据乙", 2), "xinhua_cun", clock)
    with transaction():
        liaoning.status, liaoning.identified_on = "monitored", date(2026, 8, 17)
    month = _check(assess(jiangxi, today), "不在识别当月或次月消除")
    assert month.passed and month.detail == "2026-03-01 纳入，距今 6 个月（江西省问答第37条）"
    month = _check(assess(liaoning, today), "不在识别当月或次月消除")
    assert not month.passed and month.detail == "2026-08-17 纳入，距今 1 个月"
    assert "Q3" not in assess(liaoning, today).explanation and "问答" not in assess(liaoning, today).explanation
    guarantee = _check(assess(jiangxi, today), "非整户无劳动能力兜底保障户")
    assert guarantee.passed and guarantee.detail == "不是兜底保障户"
