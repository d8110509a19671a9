"""Structured policy values (warning thresholds) are checked against policy/schemas/ before they are saved."""
from __future__ import annotations

import copy
import json

import pytest

from engine.core.config import project_dir
from engine.core.vocabulary import IncomeWindowAnchor
from engine.policy.schemas import check_policy_value, schema_for


def _shipped_rows() -> list[dict]:
    rows = []
    for path in sorted(project_dir("policy").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            rows += data.get("parameters", [])
    return rows


def test_every_shipped_structured_value_satisfies_its_schema():
    checked = [r for r in _shipped_rows() if schema_for(r["key"])]
    assert len(checked) >= 15  # every department of 000 and 003, and the push override
    for row in checked:
        assert check_policy_value(row["key"], row["value"]) == [], (row["key"], row["jurisdiction"])


def _medical() -> dict:
    return copy.deepcopy(next(r["value"] for r in _shipped_rows() if r["key"] == "warning.department.medical"))


OUT_OF_POCKET = "预警指标 · 年度累计自付医疗费用（经基本医保、大病保险、医疗救助三重保障… · 金额标准 · 第 1 个标准"


@pytest.mark.parametrize(("change", "expected"), [
    (lambda v: v["indicators"]["out_of_pocket"]["thresholds"][0].update(amount=-5), f"{OUT_OF_POCKET} · 金额（元）：应大于 0"),
    (lambda v: v["indicators"]["out_of_pocket"]["thresholds"][0].pop("inclusive"), f"{OUT_OF_POCKET} · 含本数：必填"),
    (lambda v: v["push"].pop("day"), "推送时间 · 日：必填"),
    (lambda v: v["push"].update(kind="weekly"), ("推送时间 · 推送方式：取值应为 monthly（按月）、quarterly（按季度）、"
                                                 "after_event（事件发生后）、as_found（随时发现随时推送） 之一")),
    (lambda v: v.update(indicators={}), "预警指标：不能为空"),
])
def test_a_wrong_threshold_is_named_in_words(change, expected):
    """The place of a problem by the schema's titles and the indicator's own name, never a path of codes
    (indicators/out_of_pocket/thresholds/0/amount), and never the validator's English ({} should be non-empty)."""
    value = _medical()
    change(value)
    assert check_policy_value("warning.department.medical", value) == [expected]


@pytest.mark.parametrize(("value", "expected"), [
    ([1, 2], ["第 1 个群体：应为对象", "第 2 个群体：应为对象"]),  # was saved, then the campaign page was a 500
    ({"label": "x"}, ["应为列表"]),
    ([{"label": "务工不稳定"}], ["第 1 个群体（务工不稳定）：至少应有以下一项：成员条件（members）、农户条件（household）"]),
    ([{"label": "", "members": [[{"field": "work_months", "below": 6}]]}], ["第 1 个群体 · 群体名称：不能为空"]),
    ([{"label": "低保", "members": [{"field": "dibao", "equals": True}]}],
     ["第 1 个群体（低保） · 成员条件 · 第 1 个条件组：应为列表"]),
    ([{"label": "低保", "members": [[{"field": "dibao"}]]}],
     [("第 1 个群体（低保） · 成员条件 · 第 1 个条件组 · 第 1 个情形：应有且只有以下一项：等于（equals）、包含文字（contains）、"
      "小于（below）")]),
    ([{"label": "低保", "members": [[{"field": "dibao", "equals": True, "below": 1}]]}],
     [("第 1 个群体（低保） · 成员条件 · 第 1 个条件组 · 第 1 个情形：应有且只有以下一项：等于（equals）、包含文字（contains）、"
      "小于（below）")]),
    ([{"label": "务工", "members": [[{"field": "work_months", "below": "六"}]]}],
     ["第 1 个群体（务工） · 成员条件 · 第 1 个条件组 · 第 1 个情形 · 小于：应为数字"]),
    ([{"label": "脱贫户", "household": {"formerly_poor": True}}],
     ["第 1 个群体（脱贫户） · 农户条件 · formerly_poor：不是可以设置的项（请核对名称）"]),
    ([{"label": "脱贫户", "household": {}}], ["第 1 个群体（脱贫户） · 农户条件：不能为空"]),
])
def test_a_badly_shaped_priority_group_is_named(value, expected):
    assert check_policy_value("annual_campaign.priority_groups", value) == expected


def test_a_priority_condition_names_the_member_fields_it_may_test():
    (problem,) = check_policy_value("annual_campaign.priority_groups",
                                    [{"label": "病", "members": [[{"field": "health", "contains": "大病"}]]}])
    assert problem.startswith("第 1 个群体（病） · 成员条件 · 第 1 个条件组 · 第 1 个情形 · 成员信息项：取值应为 sex（A6 性别）、")
    assert "health_status（A13 健康状况）" in problem and "dibao（A20 享受最低生活保障）" in problem


def test_the_priority_groups_schema_names_what_the_campaign_reads():
    """Every field a condition may test is a member's, every household condition a household's
    (engine.campaigns.priority reads them with getattr: a wrong name would match nobody, silently)."""
    from engine.core.models import Household, Member
    from engine.core.vocabulary import HouseholdCategory

    schema = json.loads((project_dir("policy") / "schemas" / "priority_groups.json").read_text(encoding="utf-8"))
    group = schema["items"]["properties"]
    field = group["members"]["items"]["items"]["properties"]["field"]
    assert set(field["enum"]) <= set(Member.__table__.columns.keys()) and len(field["enumNames"]) == len(field["enum"])
    assert set(group["household"]["properties"]) <= set(Household.__table__.columns.keys())
    assert group["household"]["properties"]["category"]["enum"] == list(HouseholdCategory.labels())


def test_a_key_without_a_schema_of_its_own_is_any_bounded_json():
    assert schema_for("identification.exclusion_set") is None
    assert check_policy_value("identification.exclusion_set", "anshan") == []
    assert check_policy_value("identification.exclusion_set", "很" * 2001) == ["最多 2000 个字符"]
    assert check_policy_value("identification.exclusion_set", [float("nan")]) == ["第 1 项：应为有限的数字（不能是 NaN 或无穷大）"]
    deep: list = []
    for _ in range(20):
        deep = [deep]
    assert check_policy_value("identification.exclusion_set", deep) == ["嵌套层数过多（最多 12 层）"]


@pytest.mark.parametrize(("key", "value", "reason"), [
    ("identification.limit_days", -5, "不能小于 1"),
    ("identification.limit_days", 0, "不能小于 1"),
    ("identification.limit_days", 10**23, "不能大于 366"),
    ("identification.limit_days", float("nan"), "应为有限的数字（不能是 NaN 或无穷大）"),
    ("identification.verification_working_days", 2.5, "应为整数"),
    ("dates.backdating_tolerance_days", -1, "不能小于 0"),
    ("member_change.limit_months", 0, "不能小于 1"),
    ("monitoring.alert_percent", 500, "不能大于 100"),
    ("publicity.issuer", "县" * 100_000, "最多 100 个字符"),
    ("poverty_policy.report_by", "12-32", "格式不正确"),
    ("identification.income_window_anchor", "verification_month", "取值应为 identification_month（识别纳入月份）、discovery_month（发现月份） 之一"),
])
def test_a_value_that_would_stop_the_procedures_is_refused_in_words(key, value, reason):
    """A day count of -5 or NaN made every new identification of the place fail in its diagram; 500 % or an
    announcement signed with 100 000 characters are no policy either."""
    assert check_policy_value(key, value) == [reason]


def test_every_scalar_parameter_shipped_has_a_schema_or_is_a_name():
    """Counts, shares and days of the year are checked; what is left is a name (a diagram, a checklist, an
    issuer) or a yes/no."""
    unchecked = {r["key"] for r in _shipped_rows() if not schema_for(r["key"]) and not isinstance(r["value"], bool)}
    assert all(k.endswith((".process", ".exclusion_set")) for k in unchecked), sorted(unchecked)


def test_the_income_window_rules_are_the_vocabulary_s():
    schema = json.loads((project_dir("policy") / "schemas" / "income_window_anchor.json").read_text(encoding="utf-8"))
    assert schema["enum"] == list(IncomeWindowAnchor.labels())
    assert schema["enumNames"] == list(IncomeWindowAnchor.labels().values())
