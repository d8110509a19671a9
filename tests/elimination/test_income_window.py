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
from tests.bdd.officials import VILLAGES, household_data

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


def _verified_in_december(clock):
    """An elimination whose township verified 10 000 a person on 2026-12-20 (江西's 2026 line: 7800): eligible."""
    _at(clock, datetime(2026, 12, 20, 2, 0))
    case = _elimination(clock)
    check = CaseContext(case, "shahe_zhen", clock).check_elimination(INCOME)
    assert check["eligible"] and check["monitoring_line"] == 7800.0, check["explanation"]
    return case


def _set_line(clock, year: int, amount: str) -> None:
    editor = db.session.scalar(select(User).filter_by(username="jiangxi_zhengce"))
    set_monitoring_line(editor, "36", year, amount, f"示例：{year}年监测范围", clock)




def test_an_approval_in_the_year_of_the_verification_is_not_measured_again(app, clock, assisted):
    case = _verified_in_december(clock)
    _at(clock, datetime(2026, 12, 31, 2, 0))
    check = CaseContext(case, "zhanggong_xian", clock).check_elimination_line("2026-12-31", "assisted")
    assert check == {"eligible": True, "explanation": "", "told": "", "monitoring_line": None}
    db.session.commit()
    assert not [e for e in audit.for_case(case.id) if e.action == "elimination_line_settled"]


def test_an_approval_in_the_next_year_waits_for_that_years_line(app, clock, assisted):
    case = _verified_in_december(clock)
    _at(clock, datetime(2027, 1, 5, 2, 0))
    with pytest.raises(PolicyMissing, match="江西省 没有 2027 年的监测范围"):
        CaseContext(case, "zhanggong_xian", clock).check_elimination_line("2027-01-05", "assisted")


@pytest.mark.parametrize(("line", "eligible"), [("10500", False), ("9000", True)])
def test_an_approval_in_the_next_year_measures_the_verified_income_against_that_years_line(app, clock, assisted,
                                                                                             line, eligible):
    """000 四（一） 当地当年度监测范围, 001 Q30 当年监测范围: the year of elimination (the approval), not the year of the
    township's verification; the 10 000 a person verified in December 2026 is above 2026's 7800, and above or not
    above 2027's line."""
    case = _verified_in_december(clock)
    _at(clock, datetime(2027, 1, 5, 2, 0))
    _set_line(clock, 2027, line)
    check = CaseContext(case, "zhanggong_xian", clock).check_elimination_line("2027-01-05", "assisted")
    assert (check["eligible"], check["monitoring_line"]) == (eligible, float(line))
    db.session.commit()
    (settled,) = [e for e in audit.for_case(case.id) if e.action == "elimination_line_settled"]
    assert settled.detail == {"eliminated_on": "2027-01-05", "year": 2027, "line": float(line),
                              "verified_on": "2026-12-20", "verified_line": 7800.0, "eligible": eligible}
    (title, text), = [(e.title, e.text) for e in timeline([settled])]
    assert title == "监测范围" and text.startswith(
        f"风险消除日期 2027-01-05 在 2027 年：收入按 2027 年监测范围 {line} 元复核（入户核实时按 2026 年 7800 元），")
    if eligible:
        assert check["explanation"] == "" and text.endswith("符合风险消除条件")
    else:
        assert check["explanation"] == (
            "风险消除日期 2027-01-05 在 2027 年，收入须超过 2027 年的监测范围（入户核实时按 2026 年的复核）；按 2027 年复核："
            "✗ 收入高于当年监测范围且刚性支出问题已解决：人均纯收入 10000.00，人均收入参考范围 10000.00，2027 年监测范围 10500.00")
        assert text.endswith("不符合，暂缓消除")


@pytest.mark.parametrize(("village", "verified", "decided", "process", "people", "income", "next_line"), [
    # 章贡区's 2021 procedure (区级审定, then 镇级公示 and 区级公告), in force there until 2023-05-01: 江西 6600 in 2022,
    # 7800 in 2023
    ("沙河村", datetime(2022, 12, 1, 1, 0), date(2023, 1, 5), "elimination_zhanggong_2021", 3, 21000, None),
    # 龙口's (the city office's tagging is the day of elimination): 山东 7500 in 2026, 2027 not set yet
    ("诸由观村", datetime(2026, 12, 1, 1, 0), date(2027, 1, 5), "elimination_longkou", 3, 24000, "9000"),
])
def test_every_elimination_diagram_measures_the_income_against_the_line_of_the_year_it_is_decided_in(
        app, clock, assisted, village, verified, decided, process, people, income, next_line):
    """The income verified in December is above that year's line (the recheck passes) and not above the line of the
    year of elimination: decided in January, the case is postponed, and the household told why; 龙口's tagging waits
    for the year's line, refused in words until the province sets it."""
    from engine.cases.lifecycle import open_elimination, wake_due
    from engine.core.models import Case, Jurisdiction, MonitoringLine, Notice
    from engine.demo import drive_case
    from timers.calendar import CHINA_TZ

    _at(clock, verified)
    household = register_household(household_data(village, f"跨年{process[-4:]}", people), "shahe_cun", clock)
    with transaction():
        household.status, household.category, household.identified_on = "monitored", "marginal", date(2022, 3, 1)
    case = open_elimination(household.id, "assisted", "system", clock)
    assert case.process_version.process_key == process
    review = {"elimination_review.json": {"income": {**INCOME, "household_size": people, "wages": income}}}
    drive_case(case.id, clock, until="乡镇审核（入户核实收入）", data=review)
    clock.set(datetime.combine(decided, datetime.min.time().replace(hour=9), CHINA_TZ))
    wake_due(clock.now(), clock)
    if next_line is not None:
        with pytest.raises(PolicyMissing, match=f"没有 {decided.year} 年的监测范围"):
            drive_case(case.id, clock, data=review)
        with transaction():
            province = db.session.scalar(select(Jurisdiction).filter_by(code=VILLAGES[village][:2]))
            db.session.add(MonitoringLine(province_id=province.id, year=decided.year, amount=next_line, source="示例"))
    drive_case(case.id, clock, data=review)
    case = db.session.get(Case, case.id)
    assert (case.status, case.outcome) == ("completed", "postponed")
    (notice,) = db.session.scalars(select(Notice).filter_by(case_id=case.id, title="风险消除结果告知"))
    assert (f"在 {decided.year} 年，收入须超过 {decided.year} 年的监测范围，按 {decided.year} 年复核："
            "家庭人均纯收入尚未超过当年监测范围。") in notice.body  # the household's words: no ✗, no figures
    assert "✗" not in notice.body and "10000.00" not in notice.body
    assert household.elimination_date is None and household.status == "monitored"
