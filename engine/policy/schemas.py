"""Checks on structured policy values (政策数据校验): a value such as a department's warning thresholds is
policy data that policy staff edit and set from a date, so it is checked against a JSON Schema in
``policy/schemas/`` before it is saved — which field is wrong and why — exactly like a task form."""
from __future__ import annotations

import fnmatch
import functools
import json
from typing import Any

from referencing import Registry, Resource

from engine.bpmn.forms import schema_problems
from engine.core.config import project_dir
from engine.core.json_values import FiniteValidator, json_depth

SCHEMAS = {  # parameter key pattern → schema file in policy/schemas/ (the first pattern that matches)
    "warning.department.*": "warning_department.json",
    "warning.push_override": "warning_push_override.json",
    "*.opener_may_not_complete": "opener_may_not_complete.json",
    "dates.backdating_tolerance_days": "tolerance_days.json",
    "*_days": "day_count.json",
    "*.earliest_month_after_identification": "month_offset.json",
    "*_months": "month_count.json",
    "*_percent": "percent.json",
    "*.issuer": "issuer.json",
    "*.income_window_anchor": "income_window_anchor.json",
    "*.window": "year_window.json",
    "*.entry_by": "month_day.json",
    "*.report_by": "month_day.json",
    "*.moment": "month_day.json",
    "*.system_closes": "month_day.json",
}
MAX_DEPTH = 12  # the deepest shipped value (a priority group's member conditions) has 5 levels
ANY_VALUE = {  # what every value is, whatever its key: JSON with finite numbers and bounded texts and lists
    "$defs": {"value": {"type": ["boolean", "integer", "number", "string", "array", "object", "null"],
                        "maxLength": 2000, "maxItems": 500, "items": {"$ref": "#/$defs/value"},
                        "additionalProperties": {"$ref": "#/$defs/value"}}},
    "$ref": "#/$defs/value",
}


@functools.cache
def _registry() -> Registry:
    folder = project_dir("policy") / "schemas"
    resources = [(p.name, Resource.from_contents(json.loads(p.read_text(encoding="utf-8"))))
                 for p in sorted(folder.glob("*.json"))]
    return Registry().with_resources(resources)


def field_titles() -> dict[str, str]:
    """Property name → its title, from every level of every schema in ``policy/schemas/`` (how the parameters
    page labels the parts of a structured value)."""
    titles: dict[str, str] = {}

    def collect(schema: Any) -> None:
        if isinstance(schema, dict):
            for name, spec in (schema.get("properties") or {}).items():
                if isinstance(spec, dict) and spec.get("title"):
                    titles.setdefault(name, str(spec["title"]))
            for part in schema.values():
                collect(part)
        elif isinstance(schema, list):
            for part in schema:
                collect(part)

    registry = _registry()
    for name in sorted(_schema_files()):
        collect(registry.contents(name))
    return titles


def _schema_files() -> list[str]:
    return [p.name for p in (project_dir("policy") / "schemas").glob("*.json")]


def schema_for(key: str) -> str | None:
    """The schema file that governs ``key``, if any."""
    return next((name for pattern, name in SCHEMAS.items() if fnmatch.fnmatchcase(key, pattern)), None)


def check_policy_value(key: str, value: Any) -> list[str]:
    """Every problem of ``value`` for ``key`` as ``位置：原因`` (the reason alone for the value as a whole) in words (empty if it is fine): against the schema of
    ``key`` if it has one, else against :data:`ANY_VALUE` (no NaN, no endless text); never deeper than MAX_DEPTH."""
    if not json_depth(value, MAX_DEPTH):
        return [f"嵌套层数过多（最多 {MAX_DEPTH} 层）"]
    registry = _registry()
    name = schema_for(key)
    schema = registry.contents(name) if name else ANY_VALUE
    return [f"{where}：{reason}" if where else reason
            for where, reason in schema_problems(schema, value, FiniteValidator(schema, registry=registry))]
