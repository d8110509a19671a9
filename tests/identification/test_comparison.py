"""A comparison reusing an earlier one (engine.identification.comparison, 001 Q43): allowed where the place's rule
is in force, for an earlier comparison within its months before the lead date and not after the step's date; where
no rule is in force the form does not offer it, and a completion reusing one is refused at its fields. Where it is,
the tick says the rule's months (the policy value, not a fixed 三个月), and an earlier date without it is refused."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.bpmn.forms import load_form
from engine.core.db import db
from engine.core.models import Jurisdiction, PolicyParameter
from engine.identification.comparison import EARLIER_ON, REUSED, narrowed, reuse_problems

LEAD, OPENED = date(2026, 9, 20), date(2026, 9, 20)
COMPARISON = "information_comparison.json"
TOO_EARLY = "此前比对日期 2026-06-19 早于排查识别时点 2026-09-20 前 3 个月（2026-06-20），不能共用，请重新比对"


def _place(code: str) -> Jurisdiction:
    return db.session.scalar(select(Jurisdiction).filter_by(code=code))


def _reused(earlier: str, compared: str = "2026-09-22") -> dict:
    return {"compared_on": compared, "decision": "approve", "earlier_comparison_reused": True,
            "earlier_compared_on": earlier}


@pytest.mark.usefixtures("app")
@pytest.mark.parametrize(("earlier", "problems"), [
    ("2026-06-20", []),  # three months before the lead date: the first day allowed
    ("2026-09-21", []),  # after the lead date, before this step's: the newer, the better
    ("2026-06-19", [("earlier_compared_on", TOO_EARLY)]),
    ("2026-09-23", [("earlier_compared_on", "此前比对日期 2026-09-23 晚于本次的比对日期 2026-09-22")]),
])
def test_jiangxi_reuses_a_comparison_made_within_three_months(earlier, problems):
    assert reuse_problems(_reused(earlier), _place("360702101201"), LEAD, OPENED) == problems


@pytest.mark.usefixtures("app")
def test_a_comparison_made_now_is_not_checked():
    data = {"compared_on": "2026-09-22", "decision": "approve", "earlier_comparison_reused": False}
    assert reuse_problems(data, _place("210321100201"), LEAD, OPENED) == []
    assert reuse_problems(data, _place("360702101201"), LEAD, OPENED) == []


@pytest.mark.usefixtures("app")
@pytest.mark.parametrize("reused", [False, None])
def test_an_earlier_date_without_the_tick_is_refused_at_the_date(reused):
    data = {"compared_on": "2026-09-22", "decision": "approve", EARLIER_ON: "2026-09-01"}
    if reused is not None:
        data[REUSED] = reused
    assert reuse_problems(data, _place("360702101201"), LEAD, OPENED) == [(EARLIER_ON, (
        "填写了此前比对日期 2026-09-01，但未勾选“3 个月内已比对”：共用此前比对结果的请勾选此项，"
        "本次已开展比对的请清空此前比对日期"))]


@pytest.mark.usefixtures("app")
@pytest.mark.parametrize(("code", "opened", "place"), [
    ("210321100201", OPENED, "辽宁省鞍山市台安县台安镇新华村"),  # 000 has no such rule
    ("360702101201", date(2023, 4, 30), "江西省赣州市章贡区沙河镇沙河村"),  # before the 2023 guide
])
def test_where_no_rule_allows_it_a_reuse_is_refused_naming_the_parameter(code, opened, place):
    rule = f"{place} 在 {opened} 没有“已比对的可不重复比对”的规定（政策参数 identification.comparison_reuse_months）"
    assert reuse_problems(_reused("2026-09-01"), _place(code), LEAD, opened) == [
        (REUSED, f"{rule}，请开展信息比对"), (EARLIER_ON, f"{rule}，不填此前比对日期，请开展信息比对")]
    date_alone = {"compared_on": "2026-09-22", "decision": "approve", EARLIER_ON: "2026-09-01"}
    assert reuse_problems(date_alone, _place(code), LEAD, opened) == [(EARLIER_ON, f"{rule}，不填此前比对日期，请开展信息比对")]


@pytest.mark.usefixtures("app")
@pytest.mark.parametrize(("code", "opened", "offered"), [
    ("360702101201", OPENED, True),  # 江西 2023 (001 Q43)
    ("360702101201", date(2023, 4, 30), False),  # before the 2023 guide
    ("210321100201", OPENED, False),  # 鞍山 (000)
    ("370681104201", OPENED, False),  # 龙口 (003)
])
def test_the_form_offers_the_reuse_only_where_the_rule_is_in_force(code, opened, offered):
    form = load_form(COMPARISON)
    shown = narrowed(form, _place(code), opened)
    assert ({REUSED, EARLIER_ON} <= set(shown["properties"])) is offered
    if offered:  # the tick as 江西's rule has it: three months (001 Q43), from the parameter
        assert shown["properties"][REUSED]["title"].startswith("3 个月内已比对（")
        assert "前 3 个月内已开展过信息比对" in shown["properties"][REUSED]["description"]
        assert "个月" not in form["properties"][REUSED]["title"]  # the shipped form is a copy, no months of its own
    else:  # the rest of the form as it was: its other fields, and the reason a rejection asks for
        assert list(shown["properties"]) == [name for name in form["properties"] if name not in (REUSED, EARLIER_ON)]
        assert shown["required"] == form["required"] and shown["allOf"] == form["allOf"][:1]
        assert REUSED not in str(shown["allOf"]) and REUSED in load_form(COMPARISON)["properties"]  # a copy


@pytest.mark.usefixtures("app")
def test_the_tick_and_its_refusals_say_the_months_the_policy_sets():
    """A county that sets six months (a policy edit): its form and its refusals say six, nowhere 三个月."""
    county = _place("360702")
    db.session.add(PolicyParameter(jurisdiction=county, key="identification.comparison_reuse_months", value=6,
                                   source="test", effective_from=date(2026, 9, 1)))
    db.session.flush()
    village = _place("360702101201")
    tick = narrowed(load_form(COMPARISON), village, OPENED)["properties"][REUSED]
    assert tick["title"].startswith("6 个月内已比对（") and "前 6 个月内" in tick["description"]
    assert "三个月" not in str(tick)
    assert reuse_problems(_reused("2026-03-20"), village, LEAD, OPENED) == []  # six months before the lead
    unticked = {"compared_on": "2026-09-22", "decision": "approve", EARLIER_ON: "2026-09-01"}
    assert "但未勾选“6 个月内已比对”" in reuse_problems(unticked, village, LEAD, OPENED)[0][1]
