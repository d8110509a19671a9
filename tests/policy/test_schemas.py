"""Structured policy values (warning thresholds) are checked against policy/schemas/ before they are saved."""
from __future__ import annotations

import copy
import json

import pytest

from engine.core.config import project_dir
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
    (lambda v: v["indicators"]["out_of_pocket"]["thresholds"][0].pop("inclusive"), "'inclusive' is a required property"),
    (lambda v: v["push"].pop("day"), "'day' is a required property"),
    (lambda v: v["push"].update(kind="weekly"), "push/kind"),
    (lambda v: v.update(indicators={}), "indicators"),
])
def test_a_wrong_threshold_is_named(change, expected):
    value = _medical()
    change(value)
    problems = check_policy_value("warning.department.medical", value)
    assert problems and any(expected in p for p in problems), problems


def test_keys_without_a_schema_are_not_checked():
    assert schema_for("village_publicity_days") is None
    assert check_policy_value("village_publicity_days", 5) == []
