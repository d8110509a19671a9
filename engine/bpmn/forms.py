"""Task forms (表单): one JSON Schema per human task in ``forms/``, validated with ``jsonschema``.

Beside JSON Schema a form may say, at the top of its schema, what it is for the steps after it (表单关键字):
``x-rules`` (the rules its data must meet beyond the schema, engine.cases.form_rules), ``x-verdict`` (it concludes
a step: which field holds the conclusion, which values of it reject, which field the reason) and ``x-records``
(what it records that a later step shows or is prefilled with: :class:`~engine.core.vocabulary.FormRecord`). The
engine reads what a form does from these, never from its file name; a wrong declaration refuses the form when it
is loaded (FormKeywordInvalid, naming the form and what to change), and so a diagram using it is not deployed."""
from __future__ import annotations

import copy
import functools
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError

from engine.core import id_numbers
from engine.core.config import project_dir
from engine.core.errors import FormInvalid, FormKeywordInvalid, NotFound
from engine.core.json_values import FiniteValidator
from engine.core.vocabulary import FormRecord
from timers.calendar import DATE_FORMAT

_TYPE_NAMES = {
    "string": "文本", "integer": "整数", "number": "数字", "boolean": "是/否", "array": "列表", "object": "对象",
}  # fmt: skip


RULES_KEYWORD = "x-rules"
VERDICT_KEYWORD = "x-verdict"
RECORDS_KEYWORD = "x-records"
FORM_KEYWORDS = {  # a form's own keywords (at the top of its schema) → what they say, as a refusal lists them
    RULES_KEYWORD: "领域校验规则",
    VERDICT_KEYWORD: "结论字段",
    RECORDS_KEYWORD: "本表记录的内容",
}
VERDICT_ITEMS = {  # the items of x-verdict → what each names
    "field": "结论所在的字段，必填",
    "rejecting": "否决取值：结论为其中之一时程序终止或转向，如不通过、不符合、异议成立",
    "reason": "填写理由的字段",
    "labels": "结论取值的显示文字，表单未给出 enumNames 时用，如是/否字段",
}
VERDICT_EXAMPLE = '{"field": "decision", "rejecting": ["reject"], "reason": "reason"}'
RECORD_FIELDS: dict[FormRecord, tuple[str, ...]] = {  # the fields (dotted) a form recording it must have
    FormRecord.APPLICATION: ("applied_on", "risk_description", "risk_types"),
    FormRecord.RISK_TYPES: ("risk_types",),
    FormRecord.HOUSEHOLD_SIZE: ("income.household_size",),
    FormRecord.PUBLICITY_POSTING: ("posted_on",),
    FormRecord.OBJECTION_FINDING: (),  # its finding is its x-verdict
    FormRecord.HARDSHIP: ("hardship",),
}


@dataclass(frozen=True)
class Verdict:
    """What a deciding form concludes with (``x-verdict``): its field, the values of it that reject, the field
    holding the reason, and the words of values the schema gives none for."""

    field: str
    rejecting: tuple[Any, ...] = ()
    reason: str | None = None
    labels: dict[str, str] = field(default_factory=dict)  # a value as text (true, false, reject) → its words

    def rejects(self, value: Any) -> bool:
        """Whether ``value`` is one of the rejecting values (True is not 1, False is not 0)."""
        return any(type(value) is type(known) and value == known for known in self.rejecting)

    def label(self, value: Any) -> str | None:
        """The words ``labels`` gives ``value``, if any."""
        return self.labels.get(_value_text(value))


@functools.lru_cache(maxsize=256)
def load_form(name: str) -> dict[str, Any]:
    """The JSON Schema of form ``name`` (a file name in ``forms/``); FormKeywordInvalid if it declares one of the
    form keywords wrongly."""
    path = project_dir("forms") / name
    if not path.is_file() or path.parent != project_dir("forms"):
        raise NotFound(f"表单 {name} 不存在（forms/ 中没有该文件）")
    schema = json.loads(path.read_text(encoding="utf-8"))
    problems = keyword_problems(schema)
    if problems:
        raise FormKeywordInvalid(name, problems)
    return schema


def verdict_of(schema: dict[str, Any]) -> Verdict | None:
    """The form's ``x-verdict`` (checked when it was loaded), or None: it concludes nothing."""
    declared = schema.get(VERDICT_KEYWORD)
    if not isinstance(declared, dict):
        return None
    return Verdict(declared["field"], tuple(declared.get("rejecting", ())), declared.get("reason"),
                   dict(declared.get("labels", {})))


def records_of(schema: dict[str, Any]) -> frozenset[FormRecord]:
    """What the form records (``x-records``, checked when it was loaded)."""
    return frozenset(FormRecord(value) for value in schema.get(RECORDS_KEYWORD, ()) if value in FormRecord.labels())


def keyword_problems(schema: Any) -> list[str]:
    """What is wrong with the form keywords ``schema`` declares, each saying what to change (none: [])."""
    if not isinstance(schema, dict):
        return []
    known = "、".join(f"{name}（{what}）" for name, what in FORM_KEYWORDS.items())
    problems = [f"关键字 {key} 不是表单可用的关键字；可用的关键字为 {known}，请改正拼写或删除它"
                for key in schema if isinstance(key, str) and key.startswith("x-") and key not in FORM_KEYWORDS]
    rules = schema.get(RULES_KEYWORD, [])
    if not isinstance(rules, list) or not all(isinstance(name, str) for name in rules):
        problems.append(f"{RULES_KEYWORD}（{FORM_KEYWORDS[RULES_KEYWORD]}）应为规则名称的列表，"
                        '例如 ["measures_cover_risks"]')
    if VERDICT_KEYWORD in schema:
        problems += _verdict_problems(schema, schema[VERDICT_KEYWORD])
    if RECORDS_KEYWORD in schema:
        problems += _records_problems(schema, schema[RECORDS_KEYWORD])
    return problems


def _verdict_problems(schema: dict[str, Any], declared: Any) -> list[str]:
    what = f"{VERDICT_KEYWORD}（{FORM_KEYWORDS[VERDICT_KEYWORD]}）"
    if not isinstance(declared, dict):
        return [f"{what}应为对象，例如 {VERDICT_EXAMPLE}"]
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    fields = "、".join(properties) or "（表单没有字段）"
    items = "、".join(f"{name}（{words}）" for name, words in VERDICT_ITEMS.items())
    problems = [f"{what}中的 {key} 不是可用的项；可用的项为 {items}，请改正拼写或删除它"
                for key in declared if key not in VERDICT_ITEMS]
    name = declared.get("field")
    if not isinstance(name, str) or name not in properties:
        shown = f"“{name}”不是表单的字段" if isinstance(name, str) else "缺少 field"
        return [*problems, f"{what}的 field {shown}；请写明结论所在的字段，可选：{fields}，例如 {VERDICT_EXAMPLE}"]
    allowed = _allowed_values(properties[name])
    if allowed is None:
        problems.append(f"{what}的结论字段 {name} 没有固定的取值；结论字段须列出取值（enum）、只有一个取值（const）或为是/否"
                        "（boolean），请为该字段写明取值，或改用其他字段")
        allowed = []
    choices = "、".join(_value_text(value) for value in allowed)
    rejecting = declared.get("rejecting", [])
    if not isinstance(rejecting, list):
        problems.append(f"{what}的 rejecting 应为列表，列出结论字段 {name} 的否决取值，例如 [\"reject\"]")
    elif allowed:
        problems += [f"{what}的 rejecting 中的“{_value_text(value)}”不是结论字段 {name} 的取值；可选：{choices}"
                     for value in rejecting if not _among(value, allowed)]
    reason = declared.get("reason")
    if reason is not None and (not isinstance(reason, str) or reason not in properties or reason == name):
        problems.append(f"{what}的 reason “{reason}”不是表单中结论以外的字段；请写明填写理由的字段（可选：{fields}），"
                        "表单没有理由字段时删除 reason")
    labels = declared.get("labels", {})
    if not isinstance(labels, dict) or not all(isinstance(text, str) and text.strip() for text in labels.values()):
        problems.append(f"{what}的 labels 应为对象，把结论的取值对应到显示文字，例如 {{\"true\": \"认可\"}}")
    elif allowed:
        problems += [f"{what}的 labels 中的“{key}”不是结论字段 {name} 的取值；可选：{choices}"
                     for key in labels if key not in {_value_text(value) for value in allowed}]
    return problems


def _records_problems(schema: dict[str, Any], declared: Any) -> list[str]:
    what = f"{RECORDS_KEYWORD}（{FORM_KEYWORDS[RECORDS_KEYWORD]}）"
    known = "、".join(f"{code.value}（{code.label}）" for code in FormRecord)
    if not isinstance(declared, list) or not all(isinstance(value, str) for value in declared):
        return [f"{what}应为列表，例如 [\"{FormRecord.HOUSEHOLD_SIZE.value}\"]；可用的取值为 {known}"]
    problems = []
    for value in declared:
        if value not in FormRecord.labels():
            problems.append(f"{what}中的“{value}”不是可用的取值；可用的取值为 {known}，请改为其中之一或删除它")
            continue
        record = FormRecord(value)
        missing = [path for path in RECORD_FIELDS[record] if _field_spec(schema, path) is None]
        if missing:
            problems.append(f"{what}中的 {value}（{record.label}）要求表单有字段 {'、'.join(missing)}；"
                            f"请添加该字段，或从 {RECORDS_KEYWORD} 中删除 {value}")
        if record == FormRecord.OBJECTION_FINDING and VERDICT_KEYWORD not in schema:
            problems.append(f"{what}中的 {value}（{record.label}）须同时用 {VERDICT_KEYWORD} 写明核实结论所在的字段，"
                            f"例如 {{\"field\": \"objection_finding\", \"rejecting\": [\"upheld\"], \"reason\": \"reason\"}}")
    return problems


def _field_spec(schema: dict[str, Any], path: str) -> dict[str, Any] | None:
    node: Any = schema
    for part in path.split("."):
        properties = node.get("properties") if isinstance(node, dict) else None
        node = properties.get(part) if isinstance(properties, dict) else None
        if not isinstance(node, dict):
            return None
    return node


def _allowed_values(spec: Any) -> list[Any] | None:
    """The values a field may take, if it has a fixed set (enum, const, or a boolean's two)."""
    if not isinstance(spec, dict):
        return None
    if isinstance(spec.get("enum"), list):
        return list(spec["enum"])
    if "const" in spec:
        return [spec["const"]]
    kinds = spec.get("type")
    if kinds == "boolean" or (isinstance(kinds, list) and "boolean" in kinds):
        return [True, False]
    return None


def _among(value: Any, allowed: list[Any]) -> bool:
    return any(type(value) is type(known) and value == known for known in allowed)


def _value_text(value: Any) -> str:
    """A value as a form's keywords write it: true/false for a boolean, else its text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def form_names() -> list[str]:
    """The file names of every form in ``forms/``, sorted."""
    return sorted(p.name for p in project_dir("forms").glob("*.json"))


def forms_recording(record: FormRecord) -> list[str]:
    """The forms of ``forms/`` that declare they record ``record`` (``x-records``), sorted."""
    return [name for name in form_names() if record in records_of(load_form(name))]


def without_fields(schema: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """A copy of ``schema`` without its top-level fields ``names``: their properties, their place in ``required``
    and each part of ``allOf`` whose condition or consequence names one of them (a form as a place that does not
    offer those fields shows it: engine.cases.form_rules.narrowed)."""
    gone = set(names)
    form = copy.deepcopy(schema)
    form["properties"] = {name: spec for name, spec in (form.get("properties") or {}).items() if name not in gone}
    if "required" in form:
        form["required"] = [name for name in form["required"] if name not in gone]
    if "allOf" in form:
        form["allOf"] = [part for part in form["allOf"] if not gone & _fields_named(part)]
        if not form["allOf"]:
            del form["allOf"]
    return form


def _fields_named(part: Any) -> set[str]:
    """The fields a conditional part of a form (``{"if": …, "then": …}``) reads or asks for."""
    named: set[str] = set()
    for key in ("if", "then", "else"):
        node = part.get(key) if isinstance(part, dict) else None
        if isinstance(node, dict):
            named |= set(node.get("properties") or {}) | set(node.get("required") or [])
    return named


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
    problems = schema_problems(schema, data, _validator(name, schema))
    if problems:
        raise FormInvalid(name, problems, schema.get("title"))
    return data


def schema_problems(schema: dict[str, Any], data: Any, validator: Draft202012Validator) -> list[tuple[str, str]]:
    """Every problem of ``data`` by ``validator`` (of ``schema``): (field path, reason in words naming the field's
    title), in the order of the fields."""
    return sorted({(_field_of(err), _reason(err, schema)) for err in validator.iter_errors(data)}, key=lambda p: p[0])


_CONTAINER_KEYWORDS = {  # what FormChecker checks itself of an object or a list of objects; any other: whole documents
    "object": frozenset({"$schema", "title", "description", "type", "properties", "required", "additionalProperties"}),
    "array": frozenset({"title", "description", "type", "items", "minItems", "maxItems", "x-unit"}),
}
UNIT_KEYWORD = "x-unit"  # a list of rows (家庭成员): the word its rows are counted with (名); 项 where not given


def row_noun(title: str) -> str:
    """What one row of a list of rows is called, from the list's title: "家庭成员（A5–A22）" → "家庭成员"."""
    return title.split("（", 1)[0].split("(", 1)[0].strip()


def _too_few(node: dict[str, Any]) -> str:
    """Why a list has fewer items than its ``minItems``: rows to fill in (至少填写 1 名家庭成员) or choices to make."""
    if _is_object_list(node):
        return f"至少填写 {node['minItems']} {node.get(UNIT_KEYWORD, '项')}{row_noun(node.get('title', ''))}"
    return f"至少选择 {node['minItems']} 项"


class FormChecker:
    """The problems of many documents of one form (a county's households, each with its members), exactly as
    :func:`schema_problems` words them, at a fraction of its cost: an object's required and unknown fields and a
    list's length are checked here, each field's value against the field's own schema by the validator, and each
    distinct value of a field only once (most repeat: 男, 户主, 是). A form this cannot take apart so (a keyword
    beyond those of :data:`_CONTAINER_KEYWORDS` on an object or a list of objects: ``if``, ``allOf`` …) is
    validated document by document. Keep one for a batch of documents: it remembers the values it checked."""

    def __init__(self, name: str) -> None:
        self.schema = load_form(name)
        self._whole = _validator(name, self.schema)
        self.field_by_field = _decomposable(self.schema)
        self._kinds: dict[int, dict[str, tuple[str, dict[str, Any]]]] = {}  # id(object node) → field → (kind, node)
        self._seen: dict[int, dict[Any, tuple[tuple[tuple[str, ...], str], ...]]] = {}  # id(field node) → value → …
        self._validators: dict[int, Draft202012Validator] = {}  # id(field node) → its validator
        self._quick: dict[int, Any] = {}  # id(field node) → _plain_text_check(node)

    def problems(self, data: Any) -> list[tuple[str, str]]:
        """Every problem of ``data``: (field path, reason naming the field's title), as :func:`schema_problems`."""
        if not self.field_by_field:
            return schema_problems(self.schema, data, self._whole)
        found: set[tuple[str, str]] = set()
        self._object(self.schema, data, (), found)
        return sorted(found, key=lambda p: p[0])

    def _object(self, node: dict[str, Any], data: Any, path: tuple[str, ...], found: set[tuple[str, str]]) -> None:
        if not isinstance(data, dict):
            self._value(node, data, path, found)
            return
        kinds = self._kinds.get(id(node))
        if kinds is None:
            kinds = self._kinds[id(node)] = {key: (_kind(sub), sub) for key, sub in node["properties"].items()}
        for key in node.get("required", ()):
            if key not in data:
                found.add(("/".join((*path, key)), self._worded_title((*path, key), "必填")))
        if node.get("additionalProperties") is False and (extra := data.keys() - kinds.keys()):
            found.add(("/".join((*path, ",".join(sorted(extra)))), "不是该表单的字段"))
        for key, value in data.items():
            entry = kinds.get(key)
            if entry is None:
                continue
            kind, sub = entry
            if kind == "value":
                self._value(sub, value, path, found, key)
            elif kind == "object":
                self._object(sub, value, (*path, key), found)
            else:
                self._list(sub, value, (*path, key), found)

    def _list(self, node: dict[str, Any], data: Any, path: tuple[str, ...], found: set[tuple[str, str]]) -> None:
        if not isinstance(data, list):
            self._value(node, data, path, found)
            return
        where = "/".join(path)
        if len(data) < node.get("minItems", 0):
            found.add((where, self._worded_title(path, _too_few(node))))
        if "maxItems" in node and len(data) > node["maxItems"]:
            found.add((where, self._worded_title(path, f"最多 {node['maxItems']} 项")))
        for index, item in enumerate(data):
            self._object(node["items"], item, (*path, str(index)), found)

    def _value(self, node: dict[str, Any], value: Any, path: tuple[str, ...], found: set[tuple[str, str]],
               key: str | None = None) -> None:
        """The problems of one value of the field ``node`` (at ``path``, then ``key``), validated once per distinct
        value of the field."""
        quick = self._quick.get(id(node))
        if quick is None:
            quick = self._quick[id(node)] = _plain_text_check(node)
        if quick is not False and quick(value):
            return  # a plain text field's value it passes is valid (one it does not is worded by the validator)
        seen = self._seen.get(id(node))
        if seen is None:
            seen = self._seen[id(node)] = {}
        memo = (value.__class__, value) if value.__class__ in _SCALARS else (value.__class__, repr(value))
        relative = seen.get(memo)
        if relative is None:
            where = (*path, key) if key is not None else path
            validator = self._validators.get(id(node))
            if validator is None:
                validator = self._validators[id(node)] = self._whole.evolve(schema=node)
            relative = seen[memo] = tuple(
                (tuple(p for p in _field_of(err).split("/") if p), _reason(err, self.schema, where))
                for err in validator.iter_errors(value))
        if relative:
            where = (*path, key) if key is not None else path
            found.update(("/".join((*where, *inner)), reason) for inner, reason in relative)

    def _worded_title(self, path: tuple[str, ...], reason: str) -> str:
        title = _title(self.schema, "/".join(path))
        return f"{title}：{reason}" if title else reason


_SCALARS = frozenset({str, int, float, bool, type(None)})
_PLAIN_TEXT = frozenset({"type", "title", "description", "minLength", "maxLength", "pattern"})


def _plain_text_check(node: dict[str, Any]) -> Any:
    """For a text field with no keywords but a length and a pattern (a name, an ID number): a quick test that a value
    is valid — a text of that length matching the pattern (as the validator tests them: in characters, by
    ``re.search``) — so that the many distinct values of such a field need not each go through the validator;
    False for any other field."""
    if node.get("type") != "string" or not set(node) <= _PLAIN_TEXT:
        return False
    low, high = node.get("minLength", 0), node.get("maxLength", math.inf)
    search = re.compile(node["pattern"]).search if "pattern" in node else None
    return lambda value: (value.__class__ is str and low <= len(value) <= high
                          and (search is None or search(value) is not None))


def _kind(node: Any) -> str:
    """How :class:`FormChecker` checks a field: an ``object`` or a ``list`` of objects it takes apart, or a
    ``value`` it validates whole."""
    return "object" if _is_object(node) else "list" if _is_object_list(node) else "value"


def _is_object(node: Any) -> bool:
    return isinstance(node, dict) and node.get("type") == "object" and "properties" in node


def _is_object_list(node: Any) -> bool:
    return isinstance(node, dict) and node.get("type") == "array" and _is_object(node.get("items"))


def _decomposable(node: dict[str, Any]) -> bool:
    """Can :class:`FormChecker` check ``node`` (an object) field by field, and every object and list of objects in
    it?"""
    if not _is_object(node) or not set(node) - _CONTAINER_KEYWORDS["object"] <= {k for k in node if k.startswith("x-")}:
        return False
    if node.get("additionalProperties", False) is not False and "additionalProperties" in node:
        return False
    for sub in node["properties"].values():
        if _is_object(sub) and not _decomposable(sub):
            return False
        if _is_object_list(sub) and not (set(sub) <= _CONTAINER_KEYWORDS["array"] and _decomposable(sub["items"])):
            return False
    return True


_VALIDATORS: dict[str, tuple[dict[str, Any], Draft202012Validator]] = {}


def _validator(name: str, schema: dict[str, Any]) -> Draft202012Validator:
    """The validator of form ``name``, built once per loaded schema (building one, with its format checker, costs
    more than checking a form; a schema loaded again gets a new one)."""
    kept = _VALIDATORS.get(name)
    if kept is None or kept[0] is not schema:
        kept = _VALIDATORS[name] = (schema, FiniteValidator(schema, format_checker=_format_checker()))
    return kept[1]


def _format_checker() -> FormatChecker:
    """JSON Schema's formats (date, …) and fangpin's own: ``id-number``, a resident ID number with its check
    character (engine.core.id_numbers)."""
    checker = FormatChecker()
    checker.checks(id_numbers.FORMAT)(id_numbers.is_id_number)
    return checker


def _field_of(err: ValidationError, prefix: tuple[str, ...] = ()) -> str:
    """The field path of ``err`` (``members/2/name``); ``prefix``: the path of the value validated, when a field was
    validated on its own (:class:`FormChecker`)."""
    path = [*prefix, *(str(p) for p in err.absolute_path)]
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else ""
        path.append(missing)
    if err.validator == "additionalProperties":
        path.append(",".join(sorted(set(err.instance) - set(err.schema.get("properties", {})))))
    return "/".join(path)


def _nodes(schema: dict[str, Any], field: str) -> list[dict[str, Any]]:
    """The schemas along ``field`` (``members/0/name``: the list, its item, the item's property); [] if the path
    leaves the form."""
    node: Any = schema
    found = []
    for part in field.split("/"):
        if not isinstance(node, dict):
            return []
        if part.isdigit() and isinstance(node.get("items"), dict):
            node = node["items"]
        else:
            node = node.get("properties", {}).get(part) or node.get("items", {}).get("properties", {}).get(part)
        found.append(node)
    return found if isinstance(node, dict) else []


def _title(schema: dict[str, Any], field: str) -> str:
    """The title of the field at ``field``; an item of a list without its own title (a risk type of
    ``risk_types/1``) is named by its list's."""
    return next((n["title"] for n in reversed(_nodes(schema, field)) if "title" in n), "")


def _choices(schema: dict[str, Any], field: str, node: dict[str, Any]) -> str:
    """The values the ``enum`` of ``node`` allows, by their labels (``enumNames``, which a list of choices gives
    for its items) where the form has them."""
    values = node.get("enum") or []
    for holder in reversed([node, *_nodes(schema, field)[-2:]]):
        names = holder.get("enumNames") or []
        if len(names) == len(values):
            return "、".join(str(n) for n in names)
    return "、".join(str(v) for v in values)


def _type_reason(value: Any, expected: Any) -> str:
    """What a value of the wrong type should be (``expected``: the schema's ``type``, one or a list)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "应为有限的数字（不能是 NaN 或无穷大）"
    kinds = expected if isinstance(expected, list) else [expected]
    return "应为" + "或".join(dict.fromkeys(str(_TYPE_NAMES.get(k, k)) for k in kinds if k != "null"))


def _format_reason(value: Any, expected: Any) -> str:
    """What a value not of its field's ``format`` should be; an ID number's says what is wrong with it (its form or
    its check character), without repeating it."""
    if expected == id_numbers.FORMAT:
        return id_numbers.id_number_problem(str(value)) or id_numbers.FORM_PROBLEM
    return DATE_FORMAT if expected == "date" else f"格式应为 {expected}"


def _reason(err: ValidationError, schema: dict[str, Any], prefix: tuple[str, ...] = ()) -> str:
    kind, expected = err.validator, err.validator_value
    field = _field_of(err, prefix)
    reasons = {
        "required": "必填",
        "type": _type_reason(err.instance, expected),
        "enum": f"取值应为 {_choices(schema, field, err.schema)} 之一" if kind == "enum" else "",
        "const": "必须确认" if expected is True else f"取值应为 {expected}",
        "format": _format_reason(err.instance, expected),
        "minimum": f"不能小于 {expected}",
        "maximum": f"不能大于 {expected}",
        "exclusiveMinimum": f"应大于 {expected}",
        "minLength": "不能为空" if expected == 1 else f"至少 {expected} 个字符",
        "maxLength": f"最多 {expected} 个字符",
        "minItems": _too_few(err.schema) if kind == "minItems" else "",
        "maxItems": f"最多 {expected} 项",
        "exclusiveMaximum": f"应小于 {expected}",
        "additionalProperties": "不是该表单的字段",
        "pattern": "格式不正确",
        "uniqueItems": "有重复项",
    }
    reason = reasons.get(kind, err.message)
    title = _title(schema, field)
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
