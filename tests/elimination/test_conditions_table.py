"""The risk elimination conditions are decided by the decision table ``elimination_conditions``
(processes/elimination_conditions.dmn): Python computes the facts, the table decides each condition, and the
explanation names every condition that failed and why."""
from __future__ import annotations

import itertools
import random
import re
from datetime import date

import pytest
from sqlalchemy import select

from engine.bpmn.source import DiagramSource, read_directory
from engine.cases.lifecycle import open_elimination
from engine.core.config import project_dir
from engine.core.db import db
from engine.core.errors import DecisionInvalid
from engine.core.models import Jurisdiction, Measure, User
from engine.core.transaction import transaction
from engine.elimination.eligibility import Eligibility, assess, decide_conditions, deciding_tables
from engine.households.register import register_household
from engine.library.deploying import check_diagram, deploy_files
from engine.policy.check import requirements
from tests.bdd.officials import household_data
from timers.calendar import to_local_date

FILE = "elimination_conditions.dmn"


def _tables(content: bytes | None = None) -> list[DiagramSource]:
    if content is None:
        return [s for s in read_directory(project_dir("processes")) if s.file_name == FILE]
    return [DiagramSource(FILE, content)]


def _original() -> str:
    return (project_dir("processes") / FILE).read_text(encoding="utf-8")


def _facts(**changes) -> dict:
    """A household that meets every condition of 帮扶消除 on 2026-09-20, income verified."""
    facts = {
        "mode": "assisted", "social_guarantee": False, "assistance_months": 6, "assistance_text": "半年",
        "has_measures": True, "first_measure": "2026-01-01", "measures_limit": "2026-03-20",
        "recent_revisits": 6, "stable_revisits": 6, "revisits_text": "最近 6 次每月回访中收入稳定 6 次",
        "identified": True, "months_since_identification": 6, "earliest_month": 2, "earliest_text": "不在识别当月或次月",
        "identification_text": "2026-03-01 纳入，距今 6 个月（Q37）", "guarantee_problem": False, "guarantee_text": "",
        "new_risk": False, "income_verified": True, "net_income_per_capita": 9000.0,
        "income_reference_per_capita": 9000.0, "monitoring_line": 7800.0,
        "income_text": "人均纯收入 9000，人均收入参考范围 9000，2026 年监测范围 7800",
    }
    return {**facts, **changes}


def _decide(facts: dict, tables=None) -> Eligibility:
    return Eligibility(None, decide_conditions(facts, tables or _tables()), facts)  # type: ignore[arg-type]


def test_a_household_meeting_every_condition_is_eligible_and_every_condition_is_listed():
    result = _decide(_facts())
    assert result.eligible
    assert [c.name for c in result.checks] == [
        "非整户无劳动能力兜底保障户", "帮扶措施落实半年以上", "收入持续稳定半年以上", "不在识别当月或次月消除",
        "“三保障”和饮水安全有保障", "无新的返贫致贫风险", "收入高于当年监测范围且刚性支出问题已解决"]
    assert result.explanation.startswith("✓ 非整户无劳动能力兜底保障户：不是兜底保障户；✓ 帮扶措施落实半年以上：措施自 2026-01-01 起落实（须早于 2026-03-20）")


@pytest.mark.parametrize(("changes", "name", "detail"), [
    ({"social_guarantee": True}, "非整户无劳动能力兜底保障户", "兜底保障户不标注风险消除，持续跟踪"),
    ({"has_measures": False, "first_measure": None}, "帮扶措施落实半年以上", "没有登记帮扶措施"),
    ({"first_measure": "2026-03-20"}, "帮扶措施落实半年以上", "措施自 2026-03-20 起落实（须早于 2026-03-20）"),
    ({"stable_revisits": 5, "revisits_text": "最近 6 次每月回访中收入稳定 5 次"}, "收入持续稳定半年以上",
     "最近 6 次每月回访中收入稳定 5 次"),
    ({"identified": False, "identification_text": ""}, "不在识别当月或次月消除", "没有识别日期"),
    ({"months_since_identification": 1, "identification_text": "2026-08-01 纳入，距今 1 个月（Q37）"},
     "不在识别当月或次月消除", "2026-08-01 纳入，距今 1 个月（Q37）"),
    ({"guarantee_problem": True, "guarantee_text": "住房安全、饮水安全"}, "“三保障”和饮水安全有保障",
     "住房安全、饮水安全未保障"),
    ({"new_risk": True}, "无新的返贫致贫风险", "最近一次回访发现新风险"),
    ({"net_income_per_capita": 7800.0}, "收入高于当年监测范围且刚性支出问题已解决",
     "人均纯收入 9000，人均收入参考范围 9000，2026 年监测范围 7800"),
    ({"income_reference_per_capita": 7000.0}, "收入高于当年监测范围且刚性支出问题已解决",
     "人均纯收入 9000，人均收入参考范围 9000，2026 年监测范围 7800"),
])
def test_each_failing_condition_is_explained(changes, name, detail):
    result = _decide(_facts(**changes))
    assert not result.eligible
    (failed,) = [c for c in result.checks if not c.passed]
    assert (failed.name, failed.detail) == (name, detail)
    assert f"✗ {name}：{detail}" in result.explanation
    assert len(result.checks) == 7  # every condition is still listed, the others passed
    told = result.household_reason  # the household's notice: the reason in words, no marks, figures or citations
    assert told == failed.told and len(told) >= 6 and not re.search(r"[✓✗0-9]|Q\d|（Q", told), told


def test_a_table_without_the_households_words_names_the_condition_still_to_be_met():
    table = re.sub(r'\s*<outputEntry id="rule_\d+_told">.*?</outputEntry>', "", _original())
    table = table.replace('<output id="output_told" label="告知农户的理由（不符合时）" name="household_reason" '
                          'typeRef="string" />', "")
    assert "rule_14_told" not in table and 'name="household_reason"' not in table
    result = _decide(_facts(new_risk=True), _tables(table.encode()))
    assert result.household_reason == "尚未符合风险消除条件：无新的返贫致贫风险"


def test_natural_elimination_is_exempt_from_the_half_year_rules_and_income_waits_for_the_home_visit():
    result = _decide(_facts(mode="natural", has_measures=False, first_measure=None, stable_revisits=0,
                            income_verified=False, net_income_per_capita=None, income_reference_per_capita=None,
                            monitoring_line=None))
    assert result.eligible and [c.name for c in result.checks] == [
        "非整户无劳动能力兜底保障户", "不在识别当月或次月消除", "“三保障”和饮水安全有保障", "无新的返贫致贫风险"]
    assert result.explanation.endswith("；收入是否高于当年监测范围、刚性支出问题是否解决，由乡镇入户核实")


def _former_rules(f: dict) -> list[tuple[str, bool, str]]:
    """The conditions as engine/elimination/eligibility.py hard-coded them before the table (the oracle)."""
    checks = [("非整户无劳动能力兜底保障户", not f["social_guarantee"],
               "兜底保障户不标注风险消除，持续跟踪" if f["social_guarantee"] else "不是兜底保障户")]
    name = "不在识别当月或次月消除" if f["earliest_month"] == 2 else f"识别后第 {f['earliest_month']} 个月起消除"
    checks.append((name, False, "没有识别日期") if not f["identified"] else
                  (name, f["months_since_identification"] >= f["earliest_month"], f["identification_text"]))
    checks.append(("“三保障”和饮水安全有保障", not f["guarantee_problem"],
                   f["guarantee_text"] + "未保障" if f["guarantee_problem"] else "有保障"))
    checks.append(("无新的返贫致贫风险", not f["new_risk"], "最近一次回访发现新风险" if f["new_risk"] else "无"))
    if f["income_verified"]:
        line = f["monitoring_line"]
        checks.append(("收入高于当年监测范围且刚性支出问题已解决",
                       f["net_income_per_capita"] > line and f["income_reference_per_capita"] > line, f["income_text"]))
    if f["mode"] != "natural":
        text = f["assistance_text"]
        measures = (f"帮扶措施落实{text}以上", False, "没有登记帮扶措施") if not f["has_measures"] else (
            f"帮扶措施落实{text}以上", f["first_measure"] < f["measures_limit"],
            f"措施自 {f['first_measure']} 起落实（须早于 {f['measures_limit']}）")
        stable = (f"收入持续稳定{text}以上", f["stable_revisits"] >= f["assistance_months"], f["revisits_text"])
        checks[1:1] = [measures, stable]
    return checks


@pytest.mark.slow
def test_the_table_decides_as_the_former_hard_coded_rules_did():
    every = list(itertools.product(("assisted", "natural"), (False, True), (None, "2026-03-19", "2026-03-20", "2026-04-01"),
                                   (5, 6), (False, True), (1, 2), (False, True), (False, True),
                                   (None, (7800.0, 9000.0), (7800.01, 7800.0), (7800.01, 7800.01)), (2, 3)))
    grid = random.Random(25).sample(every, 1500)  # of 8192: each value of each fact many times, in CI's time
    for mode, social, first, stable, identified, months, guarantee, risk, income, earliest in grid:
        facts = _facts(mode=mode, social_guarantee=social, has_measures=first is not None, first_measure=first,
                       stable_revisits=stable, identified=identified, months_since_identification=months,
                       earliest_month=earliest,
                       earliest_text="不在识别当月或次月" if earliest == 2 else f"识别后第 {earliest} 个月起",
                       guarantee_problem=guarantee, guarantee_text="住房安全" if guarantee else "", new_risk=risk,
                       income_verified=income is not None,
                       net_income_per_capita=income[0] if income else None,
                       income_reference_per_capita=income[1] if income else None,
                       monitoring_line=7800.0 if income else None)
        assert [(c.name, c.passed, c.detail) for c in decide_conditions(facts, _tables())] == _former_rules(facts), facts


def test_editing_a_rule_of_the_table_changes_the_outcome():
    at_the_line = _facts(net_income_per_capita=7800.0, income_reference_per_capita=7800.0)
    assert not _decide(at_the_line).eligible  # 超过当年监测范围: strictly above
    text = _original()
    edited = (text.replace('<text>&gt; facts["monitoring_line"]</text>', '<text>&gt;= facts["monitoring_line"]</text>')
              .replace('<text>&lt;= facts["monitoring_line"]</text>', '<text>&lt; facts["monitoring_line"]</text>'))
    assert edited != text
    assert _decide(at_the_line, _tables(edited.encode())).eligible  # a county reading 不低于 (≥)

    natural = _facts(mode="natural", stable_revisits=0, revisits_text="最近 6 次每月回访中收入稳定 0 次")
    assert _decide(natural).eligible
    no_exemption = text.replace('<text>!= "natural"</text>', "<text></text>").encode()
    result = _decide(natural, _tables(no_exemption))
    assert not result.eligible and "✗ 收入持续稳定半年以上：最近 6 次每月回访中收入稳定 0 次" in result.explanation


def test_a_table_that_answers_nothing_or_not_true_or_false_is_refused():
    text = _original()
    nothing = re.sub(r"<rule id=.*?</rule>\s*", "", text, flags=re.DOTALL)  # every rule deleted
    with pytest.raises(DecisionInvalid, match="没有符合的规则"):
        decide_conditions(_facts(), _tables(nothing.encode()))
    maybe = text.replace('<outputEntry id="rule_2_met"><text>True</text>', '<outputEntry id="rule_2_met"><text>"yes"</text>')
    with pytest.raises(DecisionInvalid, match="应为 True 或 False"):
        decide_conditions(_facts(), _tables(maybe.encode()))


# -- deployed with the elimination diagrams, like the other tables ----------------------------------------


def _monitored(clock, head: str):
    household = register_household(household_data("沙河村", head, 2), "shahe_cun", clock)
    with transaction():
        household.status, household.identified_on = "monitored", date(2026, 3, 1)
        db.session.add(Measure(household_id=household.id, code="A39", item="种植业", started_on=date(2026, 1, 1)))
    return household


def test_the_table_is_deployed_with_every_elimination_diagram_and_passes_the_checks(app, clock):
    assert set(check_diagram(_tables()[0])) >= {"elimination", "elimination_longkou", "elimination_zhanggong_2021"}
    today = to_local_date(clock.now())
    township = db.session.scalar(select(Jurisdiction).filter_by(code="360702101"))
    household = _monitored(clock, "部署甲")
    (tables,) = deciding_tables([household], today).values()
    assert FILE in {t.file_name for t in tables}
    found = requirements("elimination", township, today)
    assert found.ok, found.missing


def test_an_edited_table_deployed_by_a_policy_editor_decides_new_eliminations(app, clock):
    today = to_local_date(clock.now())
    household = _monitored(clock, "部署乙")  # no monthly revisits: 收入持续稳定 fails unless natural
    running = _monitored(clock, "部署丙")
    assert assess(household, today, "natural").eligible
    open_elimination(running.id, "natural", "shahe_zhen", clock)  # its case keeps the table it started with
    editor = db.session.scalar(select(User).filter_by(username="jiangxi_zhengce"))
    no_exemption = _original().replace('<text>!= "natural"</text>', "<text></text>").encode()
    versions, _ = deploy_files(editor, [DiagramSource(FILE, no_exemption)], clock)
    assert {"elimination", "elimination_longkou", "elimination_zhanggong_2021"} <= {v.process_key for v in versions}
    result = assess(household, today, "natural")
    assert not result.eligible and "✗ 收入持续稳定半年以上" in result.explanation
    assert assess(running, today, "natural").eligible
