"""Task forms (表单): one JSON Schema per human task in ``forms/``, validated with ``jsonschema``."""
from __future__ import annotations

import functools
import json
from datetime import date
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError

from engine.core.config import project_dir
from engine.core.errors import FormInvalid, NotFound

_TYPE_NAMES = {
    "string": "文本", "integer": "整数", "number": "数字", "boolean": "是/否", "array": "列表", "object": "对象",
}  # fmt: skip


@functools.lru_cache(maxsize=256)
def load_form(name: str) -> dict[str, Any]:
    """The JSON Schema of form ``name`` (a file name in ``forms/``)."""
    path = project_dir("forms") / name
    if not path.is_file() or path.parent != project_dir("forms"):
        raise NotFound(f"表单 {name} 不存在（forms/ 中没有该文件）")
    return json.loads(path.read_text(encoding="utf-8"))


def form_names() -> list[str]:
    """The file names of every form in ``forms/``, sorted."""
    return sorted(p.name for p in project_dir("forms").glob("*.json"))


def check_schema(schema: dict[str, Any]) -> str | None:
    """None if ``schema`` is a valid JSON Schema, else the reason."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return exc.message
    return None


def validate_form(name: str, data: Any) -> dict[str, Any]:
    """Validate ``data`` against form ``name``; raise FormInvalid naming every wrong field."""
    schema = load_form(name)
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    problems = sorted(
        {(_field_of(err), _reason(err, schema)) for err in validator.iter_errors(data)}, key=lambda p: p[0]
    )
    if problems:
        raise FormInvalid(name, problems)
    return data


def _field_of(err: ValidationError) -> str:
    path = [str(p) for p in err.absolute_path]
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else ""
        path.append(missing)
    if err.validator == "additionalProperties":
        path.append(",".join(sorted(set(err.instance) - set(err.schema.get("properties", {})))))
    return "/".join(path)


def _title(schema: dict[str, Any], field: str) -> str:
    node: Any = schema
    for part in field.split("/"):
        if not isinstance(node, dict):
            return ""
        node = node.get("properties", {}).get(part) or node.get("items", {}).get("properties", {}).get(part)
    return node.get("title", "") if isinstance(node, dict) else ""


def _reason(err: ValidationError, schema: dict[str, Any]) -> str:
    kind, expected = err.validator, err.validator_value
    reasons = {
        "required": "必填",
        "type": f"应为{_TYPE_NAMES.get(expected, expected) if isinstance(expected, str) else expected}",
        "enum": f"取值应为 {expected} 之一",
        "const": "必须确认" if expected is True else f"取值应为 {expected}",
        "format": f"格式应为 {'YYYY-MM-DD' if expected == 'date' else expected}",
        "minimum": f"不能小于 {expected}",
        "maximum": f"不能大于 {expected}",
        "exclusiveMinimum": f"应大于 {expected}",
        "minLength": "不能为空" if expected == 1 else f"至少 {expected} 个字符",
        "maxLength": f"最多 {expected} 个字符",
        "minItems": f"至少选择 {expected} 项",
        "additionalProperties": "不是该表单的字段",
        "pattern": "格式不正确",
        "uniqueItems": "有重复项",
    }
    reason = reasons.get(kind, err.message)
    title = _title(schema, _field_of(err))
    return f"{title}：{reason}" if title else reason


def sample_instance(schema: dict[str, Any], today: date) -> Any:
    """A plausible instance of ``schema`` for trying expressions with sample data (部署前试算): every property
    (optional ones too), ``const``/``default``/``examples``/the first ``enum`` value where given, else a value
    of the type (dates are ``today``), arrays with one item. Not guaranteed to pass ``pattern``s or
    conditional (``if``/``then``) rules."""
    return _sample(schema, schema, today, depth=0)


def _sample(node: Any, root: dict[str, Any], today: date, depth: int) -> Any:
    if not isinstance(node, dict) or depth > 12:
        return None
    node = _resolved(node, root)
    for key in ("const", "default"):
        if key in node:
            return node[key]
    if isinstance(node.get("examples"), list) and node["examples"]:
        return node["examples"][0]
    if node.get("enum"):
        return next((v for v in node["enum"] if v is not None), node["enum"][0])
    for key in ("oneOf", "anyOf"):
        if node.get(key):
            return _sample(node[key][0], root, today, depth + 1)
    properties = dict(node.get("properties", {}))
    for part in node.get("allOf", []):
        properties.update(_resolved(part, root).get("properties", {}) if isinstance(part, dict) else {})
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if properties else "array" if "items" in node else "string"
    if kind == "object":
        return {name: _sample(sub, root, today, depth + 1) for name, sub in properties.items()}
    if kind == "array":
        return [_sample(node.get("items", {}), root, today, depth + 1)]
    return _scalar(kind, node, today)


def _resolved(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """``node`` with a local ``$ref`` (``#/$defs/...``) followed."""
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return node
    target: Any = root
    for part in ref[2:].split("/"):
        target = target.get(part, {}) if isinstance(target, dict) else {}
    return {**target, **{k: v for k, v in node.items() if k != "$ref"}} if isinstance(target, dict) else node


def _scalar(kind: str, node: dict[str, Any], today: date) -> Any:
    if kind in ("integer", "number"):
        low, high = node.get("minimum", node.get("exclusiveMinimum", 0)), node.get("maximum")
        value = max(1, low + (1 if "exclusiveMinimum" in node else 0))
        value = min(value, high) if high is not None else value
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    fmt = node.get("format")
    if fmt == "date":
        return today.isoformat()
    if fmt == "date-time":
        return f"{today.isoformat()}T09:00:00+08:00"
    return "示例"
