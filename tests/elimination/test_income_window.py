"""The income a risk elimination measures (engine.elimination.income): the 12 months before the month of elimination
(002 收入指标说明: 消除风险的上一月份倒推上一年), the township's home verification standing for that month until the
elimination date is set, and the monitoring line of the year of elimination (000 四（一）, 001 Q30 当年监测范围)."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from engine.cases.functions import CaseContext
from engine.cases.lifecycle import start_case
from engine.cases.views import timeline
from engine.core import audit
from engine.core.db import db
from engine.core.errors import PolicyMissing
from engine.core.models import IncomeRecord, User
from engine.core.transaction import transaction
from engine.households.register import register_household
from engine.policy.monitoring_lines import set_monitoring_line
from tests.bdd.officials import household_data

INCOME = {"household_size": 2, "wages": 20000, "business_income": 0, "property_income": 0, "transfer_income": 0,
          "business_expenses": 0}  # 10 000 a person


def _at(clock, utc: datetime) -> None:
    clock.set(utc.replace(tzinfo=UTC))


def _elimination(clock, head: str = "消除期"):
    """A monitored household of 沙河村 (章贡区, 江西) with its elimination case (its conditions are not the point here)."""
    household = register_household(household_data("沙河村", head, 2), "shahe_cun", clock)
    with transaction():
        household.status, household.identified_on = "monitored", date(2026, 1, 5)
        case = start_case(household, "elimination", "township_evaluation", date(2026, 6, 1), "shahe_zhen", clock,
                          {"mode": "assisted", "eligibility": ""})
    return case


def _window(case) -> tuple[date, date]:
    record = db.session.scalar(select(IncomeRecord).filter_by(case_id=case.id))
    db.session.refresh(record)
    return record.window_start, record.window_end


@pytest.mark.parametrize(("verified_at", "window"), [
    (datetime(2026, 6, 30, 16, 0), (date(2025, 7, 1), date(2026, 6, 30))),  # 1 July 00:00 in China
    (datetime(2026, 7, 31, 15, 59), (date(2025, 7, 1), date(2026, 6, 30))),  # 31 July 23:59
    (datetime(2026, 7, 31, 16, 0), (date(2025, 8, 1), date(2026, 7, 31))),  # 1 August 00:00
    (datetime(2026, 6, 30, 15, 59), (date(2025, 6, 1), date(2026, 5, 31))),  # 30 June 23:59
])
def test_the_verification_counts_the_twelve_months_before_its_own_month_in_china(app, clock, verified_at, window):
    _at(clock, datetime(2026, 6, 20, 1, 0))
    case = _elimination(clock)
    _at(clock, verified_at)
    check = CaseContext(case, "shahe_zhen", clock).check_elimination(INCOME)
    assert _window(case) == window
    assert check["income_window"] == [d.isoformat() for d in window]


def test_the_window_is_settled_on_the_elimination_date_and_shown_on_the_case_page(app, clock):
    _at(clock, datetime(2026, 7, 15, 2, 0))
    case = _elimination(clock)
    _at(clock, datetime(2026, 7, 31, 8, 0))  # verified on 31 July
    context = CaseContext(case, "shahe_zhen", clock)
    context.check_elimination(INCOME)
    _at(clock, datetime(2026, 8, 3, 2, 0))
    CaseContext(case, "zhanggong_xian", clock).mark_eliminated("assisted", "2026-08-03")  # approved on 3 August
    assert _window(case) == (date(2025, 8, 1), date(2026, 7, 31))
    (settled,) = [e for e in audit.for_case(case.id) if e.action == "income_window_settled"]
    assert settled.detail == {"anchor": "elimination_month", "eliminated_on": "2026-08-03",
                              "before": ["2025-07-01", "2026-06-30"], "window": ["2025-08-01", "2026-07-31"]}
    assert ("收入计算时间", "按风险消除月份确定为 2025-08-01 至 2026-07-31（入户核实时暂按 2025-07-01 至 2026-06-30）") in \
        [(e.title, e.text) for e in timeline([settled])]


def test_an_elimination_in_the_month_of_the_verification_keeps_its_window_without_a_record(app, clock):
    _at(clock, datetime(2026, 7, 1, 2, 0))
    case = _elimination(clock)
    CaseContext(case, "shahe_zhen", clock).check_elimination(INCOME)
    _at(clock, datetime(2026, 7, 31, 2, 0))
    CaseContext(case, "zhanggong_xian", clock).mark_eliminated("assisted", "2026-07-31")
    assert _window(case) == (date(2025, 7, 1), date(2026, 6, 30))
    assert not [e for e in audit.for_case(case.id) if e.action == "income_window_settled"]


def test_an_elimination_without_a_verification_of_its_own_settles_nothing(app, clock):
    """龙口's 脱贫不稳定户 are tagged by the city office without a home verification (003 六（二）)."""
    case = _elimination(clock)
    CaseContext(case, "longkou_fupin", clock).mark_eliminated("assisted", "2026-09-20")
    assert db.session.scalar(select(IncomeRecord).filter_by(case_id=case.id)) is None
    assert not [e for e in audit.for_case(case.id) if e.action == "income_window_settled"]


def test_the_income_is_measured_against_the_line_of_the_year_of_elimination(app, clock):
    _at(clock, datetime(2026, 12, 20, 2, 0))
    case = _elimination(clock)
    _at(clock, datetime(2026, 12, 31, 15, 59))  # 31 December 23:59 in China: 江西's 2026 line
    context = CaseContext(case, "shahe_zhen", clock)
    assert context.check_elimination(INCOME)["monitoring_line"] == 7800.0
    _at(clock, datetime(2026, 12, 31, 16, 0))  # 1 January 2027: that year's line, never the year before's
    with pytest.raises(PolicyMissing, match="江西省 没有 2027 年的监测范围"):
        context.check_elimination(INCOME)
    editor = db.session.scalar(select(User).filter_by(username="jiangxi_zhengce"))
    set_monitoring_line(editor, "36", 2027, "10500", "示例：2027年监测范围", clock)
    check = context.check_elimination(INCOME)
    assert check["monitoring_line"] == 10500.0 and not check["eligible"]
    assert "人均纯收入 10000.00，人均收入参考范围 10000.00，2027 年监测范围 10500" in check["explanation"]
