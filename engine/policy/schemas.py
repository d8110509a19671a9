"""Checks on structured policy values (政策数据校验): a value such as a department's warning thresholds is
policy data that policy staff edit and set from a date, so it is checked against a JSON Schema in
``policy/schemas/`` before it is saved — which field is wrong and why — exactly like a task form."""
from __future__ import annotations

import fnmatch
import functools
import json
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from engine.core.config import project_dir

SCHEMAS = {  # parameter key pattern → schema file in policy/schemas/
    "warning.department.*": "warning_department.json",
    "warning.push_override": "warning_push_override.json",
    "*.opener_may_not_complete": "opener_may_not_complete.json",
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
    """Every problem of ``value`` for ``key`` as ``位置：原因`` (empty if it is fine or ``key`` has no schema)."""
    name = schema_for(key)
    if name is None:
        return []
    registry = _registry()
    validator = Draft202012Validator(registry.contents(name), registry=registry)
    problems = []
    for error in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "（整体）"
        problems.append(f"{where}：{error.message}")
    return problems
