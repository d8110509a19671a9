"""Checks on structured policy values (政策数据校验): a value such as a department's warning thresholds is
policy data that policy staff edit and set from a date, so it is checked against a JSON Schema in
``policy/schemas/`` before it is saved — which field is wrong and why — exactly like a task form."""
from __future__ import annotations

import fnmatch
import functools
import json
from collections.abc import Iterator
from typing import Any

from jsonschema import ValidationError, validators
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
    "*_supervision_phone": "supervision_phone.json",
    "*_basis": "basis.json",
    "*.income_window_anchor": "income_window_anchor.json",
    "*.window": "year_window.json",
    "*.entry_by": "month_day.json",
    "*.report_by": "month_day.json",
    "*.moment": "month_day.json",
    "*.system_closes": "month_day.json",
    "*.priority_groups": "priority_groups.json",
}
MAX_DEPTH = 12  # the deepest shipped value (a priority group's member conditions) has 5 levels
ANY_VALUE = {  # what every value is, whatever its key: JSON with finite numbers and bounded texts and lists
    "$defs": {"value": {"type": ["boolean", "integer", "number", "string", "array", "object", "null"],
                        "maxLength": 2000, "maxItems": 500, "items": {"$ref": "#/$defs/value"},
                        "additionalProperties": {"$ref": "#/$defs/value"}}},
    "$ref": "#/$defs/value",
}


def _titled(schema: dict[str, Any], names: list[str]) -> str:
    """The fields ``names`` of an object's schema as an editor reads them: 成员条件（members）."""
    properties = schema.get("properties") or {}
    return "、".join(f"{(properties.get(n) or {}).get('title', n)}（{n}）" for n in names)


def _exactly_one_of(validator: Any, names: list[str], instance: Any, schema: dict[str, Any]) -> Any:
    """``x-exactly-one-of``: an object has exactly one of the fields ``names`` (a priority group's condition:
    equals, contains or below)."""
    if isinstance(instance, dict) and sum(n in instance for n in names) != 1:
        yield ValidationError(f"应有且只有以下一项：{_titled(schema, names)}")


def _at_least_one_of(validator: Any, names: list[str], instance: Any, schema: dict[str, Any]) -> Any:
    """``x-at-least-one-of``: an object has one or more of the fields ``names``."""
    if isinstance(instance, dict) and not any(n in instance for n in names):
        yield ValidationError(f"至少应有以下一项：{_titled(schema, names)}")


def _min_properties(validator: Any, least: int, instance: Any, schema: dict[str, Any]) -> Any:
    """``minProperties`` in words (the validator's own message is English)."""
    if isinstance(instance, dict) and len(instance) < least:
        yield ValidationError("不能为空" if least == 1 else f"至少应有 {least} 项")


PolicyValidator = validators.extend(FiniteValidator, {"x-exactly-one-of": _exactly_one_of,
                                                      "x-at-least-one-of": _at_least_one_of,
                                                      "minProperties": _min_properties})
"""What policy values are checked with: finite numbers, the two keywords of policy/schemas/ on which fields of an
object must be present, and an object's least number of entries in words."""


@functools.cache
def _registry() -> Registry:
    folder = project_dir("policy") / "schemas"
    resources = [(p.name, Resource.from_contents(json.loads(p.read_text(encoding="utf-8"))))
                 for p in sorted(folder.glob("*.json"))]
    return Registry().with_resources(resources)


def _nodes_of_every_schema() -> Iterator[dict[str, Any]]:
    """Every object at every level of every schema in ``policy/schemas/``, file by file in name order."""
    registry = _registry()
    stack: list[Any] = [registry.contents(name) for name in sorted(_schema_files(), reverse=True)]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))


def field_titles() -> dict[str, str]:
    """Property name → its title, from every level of every schema in ``policy/schemas/`` (how the parameters
    page labels the parts of a structured value)."""
    titles: dict[str, str] = {}
    for node in _nodes_of_every_schema():
        for name, spec in (node.get("properties") or {}).items():
            if isinstance(spec, dict) and spec.get("title"):
                titles.setdefault(name, str(spec["title"]))
    return titles


def value_names() -> dict[str, str]:
    """A fixed value → what it means (``enum`` and its ``enumNames``), from every schema in ``policy/schemas/``
    (how the parameters page shows ``formerly_poor``: 脱贫人口)."""
    names: dict[str, str] = {}
    for node in _nodes_of_every_schema():
        values, words = node.get("enum"), node.get("enumNames")
        if isinstance(values, list) and isinstance(words, list) and len(values) == len(words):
            for value, word in zip(values, words, strict=True):
                if isinstance(value, str):
                    names.setdefault(value, str(word))
    return names


def _schema_files() -> list[str]:
    return [p.name for p in (project_dir("policy") / "schemas").glob("*.json")]


def schema_for(key: str) -> str | None:
    """The schema file that governs ``key``, if any."""
    return next((name for pattern, name in SCHEMAS.items() if fnmatch.fnmatchcase(key, pattern)), None)


def check_policy_value(key: str, value: Any) -> list[str]:
    """Every problem of ``value`` for ``key`` as ``位置：原因`` in words (the reason alone for the value as a
    whole; empty if it is fine), the place named by the titles of the schema and the names in the value (第 1 个群体 ·
    成员条件 · …): against the schema of ``key`` if it has one, else against :data:`ANY_VALUE` (no NaN, no endless
    text); never deeper than MAX_DEPTH."""
    if not json_depth(value, MAX_DEPTH):
        return [f"嵌套层数过多（最多 {MAX_DEPTH} 层）"]
    registry = _registry()
    name = schema_for(key)
    schema = registry.contents(name) if name else ANY_VALUE
    problems = schema_problems(schema, value, PolicyValidator(schema, registry=registry))
    return [_worded(schema, value, where, reason, registry) for where, reason in problems]


def shape_of(key: str) -> str:
    """What a structured value of ``key`` consists of, in words (its schema's description), for an editor whose
    value was refused; "" for a key without a schema of its own or a plain one."""
    name = schema_for(key)
    schema = _registry().contents(name) if name else {}
    return str(schema.get("description", "")) if schema.get("type") in ("array", "object") else ""


def _resolved(node: Any, registry: Registry, root: dict[str, Any]) -> dict[str, Any]:
    """``node`` with its ``$ref`` followed (within its file or to another file of policy/schemas/)."""
    for _ in range(10):
        if not isinstance(node, dict) or "$ref" not in node:
            break
        target, _, pointer = str(node["$ref"]).partition("#")
        base = registry.contents(target) if target else root
        found: Any = base
        for part in (p for p in pointer.split("/") if p):
            found = found.get(part, {}) if isinstance(found, dict) else {}
        node = {**found, **{k: v for k, v in node.items() if k != "$ref"}}
    return node if isinstance(node, dict) else {}


def _worded(schema: dict[str, Any], value: Any, where: str, reason: str, registry: Registry) -> str:
    """``where`` (``0/members/1/0/field``) in the words of the schema's titles — an item of a list by its number
    (第 2 个群体), an entry of a named object by its name (an indicator's 指标名称) — then the reason, without the
    title it starts with when the place already says it."""
    words: list[str] = []
    titles: set[str] = set()
    node, data = _resolved(schema, registry, schema), value
    for part in where.split("/") if where else ():
        if isinstance(data, list) and part.isdigit():
            node = _resolved(node.get("items"), registry, schema)
            data = data[int(part)] if int(part) < len(data) else None
            number = f"第 {int(part) + 1} 个{node['title']}" if node.get("title") else f"第 {int(part) + 1} 项"
            named = _name_in(data, "label")
            words.append(f"{number}（{named}）" if named else number)
        else:
            properties = node.get("properties") or {}
            extra = node.get("additionalProperties")
            node = _resolved(properties.get(part, extra if isinstance(extra, dict) else {}), registry, schema)
            data = data.get(part) if isinstance(data, dict) else None
            words.append(_name_in(data, "name") or str(node.get("title") or part))
        titles.add(str(node.get("title", "")))
    head, sep, rest = reason.partition("：")
    reason = rest if sep and head in titles else reason
    if reason.startswith("取值应为") and len(node.get("enumNames") or ()) == len(node.get("enum") or [None]):
        # the editor types the value itself in the JSON: each with what it means
        reason = f"取值应为 {'、'.join(f'{v}（{n}）' for v, n in zip(node['enum'], node['enumNames']))} 之一"
    reason = FORM_WORDS.get(reason, reason)
    return f"{' · '.join(words)}：{reason}" if words else reason


FORM_WORDS = {"不是该表单的字段": "不是可以设置的项（请核对名称）"}  # a task form's words, as a policy value reads them


def _name_in(data: Any, field: str) -> str:
    """What an entry of a value calls itself (an indicator's name, a group's label), shortened; "" if nothing."""
    named = data.get(field) if isinstance(data, dict) else None
    return (named if len(named) <= 30 else named[:30] + "…") if isinstance(named, str) else ""
