"""Income formulas A33, A34, A37, A38, the income window and the classification rules (the decision table
processes/household_category.dmn as shipped)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from engine.bpmn.source import read_directory
from engine.core.config import project_dir
from engine.core.errors import DecisionInvalid
from engine.households.income import IncomeFigures, income_window, window_anchor
from engine.identification.classification import classify, household_facts


def test_formulas_of_the_information_form():
    f = IncomeFigures.from_mapping({"wages": 20000, "business_income": 5000, "property_income": 300,
                                    "transfer_income": 1200, "business_expenses": 2500,
                                    "insurance_payouts": 8000, "compliant_out_of_pocket": 15000}, 4)
    assert f.net_income == Decimal("24000.00")  # A33 = A28+A29+A30+A31-A32
    assert f.net_income_per_capita == Decimal("6000.00")  # A34
    assert f.income_reference == Decimal("17000.00")  # A37 = A33+A35-A36
    assert f.income_reference_per_capita == Decimal("4250.00")  # A38


def test_household_size_must_be_positive():
    with pytest.raises(ValueError):
        IncomeFigures.from_mapping({}, 0)


@pytest.mark.parametrize(("identified", "window"), [
    (date(2021, 6, 15), (date(2020, 6, 1), date(2021, 5, 31))),
    (date(2026, 1, 3), (date(2025, 1, 1), date(2025, 12, 31))),
    (date(2024, 3, 1), (date(2023, 3, 1), date(2024, 2, 29))),
])
def test_income_window_is_the_twelve_months_before_the_identification_month(identified, window):
    assert income_window(identified) == window


@pytest.mark.parametrize(("anchor", "window"), [
    ("identification_month", (date(2025, 10, 1), date(2026, 9, 30))),  # 001 Q10: identified in October 2026
    ("discovery_month", (date(2025, 9, 1), date(2026, 8, 31))),  # 003: found in September 2026
])
def test_the_window_is_reckoned_from_the_month_the_place_says(anchor, window):
    day = window_anchor(anchor, discovered_on=date(2026, 9, 28), identified_on=date(2026, 10, 9))
    assert income_window(day) == window


def test_an_unknown_anchor_is_refused_in_words():
    with pytest.raises(ValueError, match="收入计算时间的起算月份 'verification_month' 无效.*identification_month（识别纳入月份）"):
        window_anchor("verification_month", discovered_on=date(2026, 9, 28), identified_on=date(2026, 10, 9))


def _classify(per_capita: int, reference: int | None = None, tables=None, table: str = "household_category.dmn",
              **kw):
    size = 1
    oop = per_capita - (reference if reference is not None else per_capita)
    f = IncomeFigures.from_mapping({"wages": per_capita, "compliant_out_of_pocket": oop}, size)
    args = {"formerly_poor": False, "risk_types": ["illness"], "guarantee_problems": [], "exclusions": []}
    facts = household_facts(f, Decimal(7800), **{**args, **kw})
    return classify(facts, tables or [s for s in read_directory(project_dir("processes")) if s.file_name == table])


def test_the_line_itself_is_within_the_monitoring_range():
    assert _classify(7800).category == "marginal"
    assert _classify(7800, formerly_poor=True).category == "unstable"
    assert _classify(7801).include is False


def test_sudden_hardship_above_the_line():
    assert _classify(12000, reference=5000).category == "sudden"


def test_a_sharp_fall_of_income_above_the_line_is_sudden_hardship_without_large_expenditure():
    # 001 Q10: 推算的收入高于7800元、但因突发事件等各类因素影响导致刚性支出较大或收入大幅缩减 → 突发严重困难户
    result = _classify(12000, income_sharply_reduced=True)
    assert result.category == "sudden" and "收入大幅缩减" in result.explanation
    assert _classify(12000, income_sharply_reduced=True, formerly_poor=True).category == "sudden"
    assert _classify(12000).include is False  # neither large expenditure nor a fall of income
    assert _classify(12000, income_sharply_reduced=True, risk_types=[]).include is False  # no risk, not included
    assert _classify(7000, income_sharply_reduced=True).category == "marginal"  # within the line: Q10's first case


def test_no_risk_means_not_included_but_followed():
    result = _classify(5000, risk_types=[])
    assert not result.include and "持续跟踪关注" in result.explanation


def test_a_guarantee_problem_includes_even_without_income_risk():
    result = _classify(5000, risk_types=[], guarantee_problems=["住房安全"])
    assert result.include and result.category == "marginal"


def test_exclusions_come_first_with_their_reason():
    result = _classify(3000, exclusions=["有登记企业"])
    assert not result.include and "有登记企业" in result.explanation


def test_a_guarantee_problem_above_the_line_is_sudden_hardship():
    result = _classify(12000, guarantee_problems=["饮水安全"], formerly_poor=True)
    assert result.category == "sudden" and "存在饮水安全问题" in result.explanation


def test_income_and_reference_above_the_line_is_not_included():
    result = _classify(12000)
    assert not result.include and result.category is None and "均高于监测范围" in result.explanation


def test_an_edited_table_decides_and_a_table_without_a_matching_rule_is_refused():
    from engine.bpmn.source import DiagramSource

    shipped = (project_dir("processes") / "household_category.dmn").read_bytes()
    # a policy editor turns rule 7 (ordinary household within the line, with risk) into sudden hardship
    start = shipped.index(b'<rule id="rule_7">')
    edited = shipped[:start] + shipped[start:].replace(b"&quot;marginal&quot;", b"&quot;sudden&quot;", 1)
    if edited == shipped:
        edited = shipped[:start] + shipped[start:].replace(b'"marginal"', b'"sudden"', 1)
    assert edited != shipped
    assert _classify(7800, tables=[DiagramSource("household_category.dmn", edited)]).category == "sudden"
    # without the catch-all last rule nothing matches an income above the line
    last = shipped.index(b'<rule id="rule_10">')
    cut = shipped[:last] + shipped[shipped.index(b"</rule>", last) + len(b"</rule>"):]
    with pytest.raises(DecisionInvalid, match="没有符合的规则"):
        _classify(12000, tables=[DiagramSource("household_category.dmn", cut)])


LONGKOU = "household_category_longkou.dmn"


def test_longkou_counts_a_formerly_poor_household_at_risk_as_unstable_whatever_its_income():
    # 003 二：符合条件之一的脱贫户纳入脱贫不稳定户 (no income condition); Jiangxi Q10: above the line → sudden
    assert _classify(12000, reference=5000, formerly_poor=True, table=LONGKOU).category == "unstable"
    assert _classify(12000, reference=5000, formerly_poor=True).category == "sudden"


def test_longkou_counts_a_sudden_fall_of_income_above_the_line_as_serious_hardship():
    # 003 二（二）：高于省定监测线，但因病因残因学因灾因意外事故等刚性支出骤增或收入骤减 → 严重困难户
    result = _classify(12000, income_sharply_reduced=True, table=LONGKOU)
    assert result.category == "sudden" and "收入骤减" in result.explanation
    assert _classify(7800, income_sharply_reduced=True, table=LONGKOU).category == "sudden"  # 不低于 the line
    assert _classify(12000, table=LONGKOU).include is False
    assert _classify(12000, income_sharply_reduced=True, formerly_poor=True, table=LONGKOU).category == "unstable"


def test_longkou_below_the_line_means_strictly_below():
    # 003: 年人均可支配收入低于省定监测线; Jiangxi and Zhanggong count the line itself as within (≤)
    assert _classify(7800, table=LONGKOU).include is False
    assert _classify(7799, table=LONGKOU).category == "marginal"
    assert _classify(7800).category == "marginal"
