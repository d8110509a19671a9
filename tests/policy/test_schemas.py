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


@pytest.mark.parametrize(("change", "expected"), [
    (lambda v: v["indicators"]["out_of_pocket"]["thresholds"][0].update(amount=-5), "indicators/out_of_pocket/thresholds/0/amount"),
    (lambda v: v["indicators"]["out_of_pocket"]["thresholds"][0].pop("inclusive"),
     "indicators/out_of_pocket/thresholds/0/inclusive："),
    (lambda v: v["push"].pop("day"), "push/day："),
    (lambda v: v["push"].update(kind="weekly"), "push/kind"),
    (lambda v: v.update(indicators={}), "indicators"),
])
def test_a_wrong_threshold_is_named(change, expected):
    value = _medical()
    change(value)
    problems = check_policy_value("warning.department.medical", value)
    assert problems and any(expected in p for p in problems), problems


def test_a_key_without_a_schema_of_its_own_is_any_bounded_json():
    assert schema_for("identification.exclusion_set") is None
    assert check_policy_value("identification.exclusion_set", "anshan") == []
    assert check_policy_value("identification.exclusion_set", "很" * 2001) == ["最多 2000 个字符"]
    assert check_policy_value("identification.exclusion_set", [float("nan")]) == ["0：应为有限的数字（不能是 NaN 或无穷大）"]
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
    ("identification.income_window_anchor", "verification_month", "取值应为 identification_month、discovery_month 之一"),
])
def test_a_value_that_would_stop_the_procedures_is_refused_in_words(key, value, reason):
    """A day count of -5 or NaN made every new identification of the place fail in its diagram; 500 % or an
    announcement signed with 100 000 characters are no policy either."""
    assert check_policy_value(key, value) == [reason]


def test_every_scalar_parameter_shipped_has_a_schema_or_is_a_name():
    """Counts, shares and days of the year are checked; what is left is a name (a diagram, a checklist, an
    issuer) or a yes/no."""
    unchecked = {r["key"] for r in _shipped_rows() if not schema_for(r["key"]) and not isinstance(r["value"], bool)}
    assert all(k.endswith((".process", ".exclusion_set", ".priority_groups")) for k in unchecked), sorted(unchecked)


def test_the_income_window_rules_are_the_vocabulary_s():
    schema = json.loads((project_dir("policy") / "schemas" / "income_window_anchor.json").read_text(encoding="utf-8"))
    assert schema["enum"] == list(IncomeWindowAnchor.labels())
