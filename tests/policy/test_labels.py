"""What policy parameters are called (policy/parameter_labels.json, engine.policy.labels): every parameter shipped
has a Chinese name, a department's thresholds go by the department's name, and a saved value reads as words or
JSON, never as a Python dump."""
from __future__ import annotations

import json
import re

import pytest

from engine.core.config import project_dir
from engine.policy.labels import named, parameter_label, parameter_labels, value_text, value_words

ASCII_WORD = re.compile(r"[A-Za-z_]{2,}")


def _shipped_keys() -> set[str]:
    keys: set[str] = set()
    for path in sorted(project_dir("policy").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            keys |= {row["key"] for row in data.get("parameters", [])}
    return keys


def test_every_shipped_parameter_has_a_chinese_name():
    """annual_campaign.window, area_visit.visit_days … read as their key on the parameters page (finding 13)."""
    keys = _shipped_keys()
    assert len(keys) > 50
    assert [k for k in sorted(keys) if not named(k)] == []
    for key in keys - {k for k in keys if k.startswith("warning.department.")}:
        assert not ASCII_WORD.search(parameter_label(key)), (key, parameter_label(key))


@pytest.mark.parametrize(("key", "label"), [
    ("identification.village_publicity_days", "识别纳入 · 村级公示天数"),
    ("annual_campaign.window", "年度信息采集和集中排查 · 收入和务工时间的统计期间（起止月-日）"),
    ("annual_campaign.priority_groups", "年度信息采集和集中排查 · 重点排查对象（优先走访的农户群体）"),
    ("area_screening.assessment_days", "区域性、规模性返贫风险排查 · 规模性返贫风险研判时限（天）"),
    ("area_visit.visit_days", "灾后入户排查 · 入户排查时限（天）"),
    ("warning.push_override", "行业预警 · 统一推送时间"),
    ("monitoring.alert_percent", "监测 · 监测对象占比预警线（%）"),
])
def test_a_parameter_reads_as_its_procedure_and_its_name(key, label):
    assert parameter_label(key) == label


def test_a_department_goes_by_the_name_its_values_give_anywhere(app):
    """Housing and public security are set in Longkou only: a Jiangxi editor's list named them by their code."""
    labels = parameter_labels(["warning.department.housing", "warning.department.public_security",
                               "warning.department.medical"])
    assert labels == {"warning.department.housing": "行业预警标准：住建局",
                      "warning.department.public_security": "行业预警标准：公安局",
                      "warning.department.medical": "行业预警标准：医保部门"}
    assert parameter_label("warning.department.medical", {"name": "医保局"}) == "行业预警标准：医保局"


@pytest.mark.parametrize(("value", "text"), [
    (True, "是"), (False, "否"), (6, "6"), ("台安县乡村振兴局", "台安县乡村振兴局"),
    (["county_approval.json"], "county_approval.json"), ([], "（空）"),
    ([{"label": "低保", "equals": True}], '[{"label": "低保", "equals": true}]'),
    ({"start": "10-01", "end": "09-30"}, '{"start": "10-01", "end": "09-30"}'),
])
def test_a_saved_value_reads_as_words_or_json(value, text):
    """The confirmation printed [{'label': …, 'equals': True}] (finding 13)."""
    assert value_text(value) == text


def test_a_long_value_is_shortened():
    assert value_text("很" * 500) == "很" * 200 + "…"


def test_codes_in_values_read_as_what_they_name(app):
    words = value_words()
    assert words["formerly_poor"] == "脱贫人口" and words["monthly"] == "按月"
    assert words["county_approval.json"] == "县级审定" and words["jiangxi"] == "江西省的清单"
    assert words["identification_zhanggong_2021"].startswith("识别纳入（章贡区")
