"""Assistance measures (帮扶措施, A39–A52): the catalogue and its rules are policy data
(``policy/measures.json``); a plan is checked against them before it is accepted, with a clear error."""
from __future__ import annotations

import functools
import json
from datetime import date
from typing import Any

from engine.core.config import project_dir
from engine.core.models import Case, Measure
from engine.core.writes import insert_rows


@functools.lru_cache(maxsize=4)
def _catalogue(path: str) -> dict[str, Any]:
    return json.loads((project_dir("policy") / "measures.json").read_text(encoding="utf-8"))


def catalogue() -> dict[str, Any]:
    return _catalogue(str(project_dir("policy")))


def categories() -> dict[str, dict[str, Any]]:
    """code (A39 …) → category with its items."""
    return {m["code"]: m for m in catalogue()["measures"]}


def _item_ok(category: dict[str, Any], item: str) -> bool:
    return any(item in (i["key"], i["label"]) for i in category.get("items", [])) or not category.get("items")


def check_plan(data: dict[str, Any], risk_types: list[str]) -> list[tuple[str, str]]:
    """Problems of an assistance plan as ``(field, reason)``; empty when it may be accepted."""
    cats = categories()
    problems = [
        (f"measures/{i}/item", f"“{m['item']}”不是{cats[m['category']]['label']}的措施，应为："
                               + "、".join(x["label"] for x in cats[m["category"]]["items"]))
        for i, m in enumerate(data.get("measures", []))
        if m.get("category") in cats and not _item_ok(cats[m["category"]], m.get("item", ""))
    ]
    codes = {m.get("category") for m in data.get("measures", [])}
    if data.get("able_and_willing") and not any(cats.get(c, {}).get("developmental") for c in codes):
        developmental = "、".join(c["label"] for c in cats.values() if c.get("developmental"))
        problems.append(("measures", f"有劳动能力、有意愿的监测户至少落实一项开发式帮扶措施（{developmental}）"))
    problems += _risk_rules(codes, risk_types, cats)
    return problems


def _risk_rules(codes: set, risk_types: list[str], cats: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    problems = []
    for rule in catalogue()["required_forbidden_by_risk_type"].get("rules", []):
        if rule["risk_type"] not in risk_types:
            continue
        needed = rule.get("requires_any", [])
        if needed and not codes & set(needed):
            names = "、".join(cats[c]["label"] for c in needed if c in cats)
            problems.append(("measures", f"风险类型 {rule['risk_type']} 必须包含以下措施之一：{names}"))
        for code in codes & set(rule.get("forbids", [])):
            problems.append(("measures", f"风险类型 {rule['risk_type']} 不得使用{cats[code]['label']}"))
    return problems


def record_measures(case: Case, measures: list[dict[str, Any]], started_on: date) -> list[Measure]:
    """Store the plan's measures as the household's measures in force from ``started_on`` (in one statement)."""
    rows = [Measure(**values) for values in measure_values(case.household_id, case.id, measures, started_on)]
    insert_rows(rows)
    return rows


def measure_values(household_id: int, case_id: int | None, measures: list[dict[str, Any]], started_on: date,
                   ) -> list[dict[str, Any]]:
    """The rows of a household's measures (a plan's ``category`` and ``item``) in force from ``started_on``: those of
    a case's plan, or (``case_id`` None) those a household was imported with (engine.households.importing)."""
    cats = categories()
    return [{"household_id": household_id, "case_id": case_id, "code": m["category"], "item": m["item"],
             "description": m.get("description", ""), "started_on": started_on, "ended_on": None,
             "developmental": bool(cats.get(m["category"], {}).get("developmental"))} for m in measures]
