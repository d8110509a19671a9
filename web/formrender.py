"""Task forms in HTML (表单渲染): turn a task's JSON Schema into fields for the Jinja2 macros, and the
posted HTML form back into the JSON data the engine validates. Validation itself is the engine's."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from engine.bpmn.forms import row_noun
from engine.core.vocabulary import option_labels
from engine.households.measures import categories

EMPTY_TABLE_ROWS = 1  # a table with no row yet shows one to fill; "添加…" adds more (web/static/forms.js)
MAX_ROW_DIGITS = 4  # forms have a few rows; a posted "members-<5000 digits>-name" is ignored, not a crash
CATALOGUE_KEYWORD = "x-catalogue"  # a form's text input whose value is chosen from a catalogue of policy data


def measure_options() -> tuple[str, list[tuple[str, str, list[tuple[str, str]]]]]:
    """The assistance measure catalogue (policy/measures.json, A39–A52) as options grouped by category: (the field
    that picks the group, [(category code, category label, [(value, label)])]). A category listing no items (e.g.
    A44 饮水安全保障) offers its own name. The value is the item's label, as plans and publicity lists show it."""
    groups = []
    for code, category in categories().items():
        items = category.get("items") or [{"label": category["label"]}]
        groups.append((code, category["label"], [(i["label"], i["label"]) for i in items]))
    return "category", groups


CATALOGUES: dict[str, Callable[[], tuple[str, list[tuple[str, str, list[tuple[str, str]]]]]]] = {
    "measures": measure_options,
}
"""The catalogues a form may choose from (``"x-catalogue": "measures"``): where their options come from."""


@dataclass
class Field:
    """One input: ``kind`` picks the macro (text, textarea, number, date, choice, multi, check, table, group)."""

    name: str  # dotted path, e.g. "income.wages" or "measures"
    title: str
    kind: str
    required: bool = False
    choices: list[tuple[Any, str]] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    description: str = ""
    integer: bool = False
    empty_label: str = "请选择"  # a choice's empty option (what leaving it empty means)
    item: str = "一项"  # a table's row, in words ("家庭成员"): its cards' titles and the add button
    row_defaults: dict[str, Any] = field(default_factory=dict)  # a table's new row: its items' schema defaults
    # a choice from a catalogue: its options by group, and the sibling field (in the same card) picking the group
    option_groups: list[tuple[str, str, list[tuple[Any, str]]]] = field(default_factory=list)
    depends_on: str = ""

    @property
    def dom_id(self) -> str:
        """The id of the field's input (its label's ``for``, its hint and error are ``hint-``/``err-`` + name)."""
        return "f-" + self.name


def schema_defaults(schema: dict[str, Any]) -> dict[str, Any]:
    """The ``default`` of each property (and of each property of a nested object), as form values: what a new
    form shows before the official changes it (e.g. a newborn lives with the household)."""
    found: dict[str, Any] = {}
    for name, spec in schema.get("properties", {}).items():
        if "default" in spec:
            found[name] = spec["default"]
        elif spec.get("type") == "object" and (nested := schema_defaults(spec)):
            found[name] = nested
    return found


def with_defaults(defaults: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` over ``defaults``, object by object."""
    merged = dict(defaults)
    for key, value in values.items():
        merged[key] = (with_defaults(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict)
                       else value)
    return merged


def fields_of(schema: dict[str, Any], prefix: str = "") -> list[Field]:
    required = set(schema.get("required", []))
    return [_field(prefix + name, spec, name in required) for name, spec in schema.get("properties", {}).items()]


def _choices(spec: dict[str, Any]) -> list[tuple[Any, str]]:
    return list(option_labels({"enum": spec.get("enum", []), "enumNames": spec.get("enumNames", [])}).items())


def _item_noun(title: str) -> str:
    """What one row of a table is called, from the table's title: "家庭成员（A5–A22）" → "家庭成员"."""
    return row_noun(title) or "一项"


def _field(name: str, spec: dict[str, Any], required: bool) -> Field:
    title = spec.get("title", name.rsplit(".", 1)[-1])
    f = Field(name, title, "text", required, description=spec.get("description", ""))
    types = spec.get("type")
    types = types if isinstance(types, list) else [types]
    if "const" in spec and spec["const"] is True or "boolean" in types:
        f.kind = "check"
    elif spec.get(CATALOGUE_KEYWORD) in CATALOGUES:
        f.depends_on, f.option_groups = CATALOGUES[spec[CATALOGUE_KEYWORD]]()
        f.kind = "choice"
        f.choices = [option for _, _, options in f.option_groups for option in options]
        f.empty_label = "请选择（先选措施类别）" if f.depends_on else "请选择"
    elif "enum" in spec:
        f.kind, f.choices = "choice", _choices(spec)
    elif "array" in types:
        items = spec.get("items", {})
        if items.get("type") == "object":
            f.kind, f.children, f.item = "table", fields_of(items), items.get("title") or _item_noun(title)
            f.row_defaults = schema_defaults(items)
        elif "enum" in items:
            f.kind, f.choices = "multi", _choices({**items, "enumNames": spec.get("enumNames", [])})
        else:
            f.kind = "lines"
    elif "object" in types:
        f.kind, f.children = "group", fields_of(spec, prefix=name + ".")
    elif "number" in types or "integer" in types:
        f.kind, f.integer = "number", "integer" in types
    elif spec.get("format") == "date":
        f.kind = "date"
    return f


def parse(fields: list[Field], form: MultiDict) -> dict[str, Any]:
    """The JSON data of a posted form; empty inputs are left out so that "required" can speak."""
    data: dict[str, Any] = {}
    for f in fields:
        value = _value(f, form)
        if value is not None:
            _put(data, f.name, value)
    return data


def with_posted(shown: list[Field], every: list[Field], form: MultiDict) -> list[Field]:
    """The fields to read a post with: ``shown`` (the form as the case's place offers it) and, in the whole form's
    order (``every``), each field the place does not offer that was posted anyway — so that the engine refuses it
    at its field (and the page shows it there) instead of the post being taken without it."""
    offered = {f.name: f for f in shown}
    posted = {f.name for f in every if f.name not in offered and _was_posted(f, form)}
    if not posted:
        return shown
    return [offered.get(f.name, f) for f in every if f.name in offered or f.name in posted]


def _was_posted(f: Field, form: MultiDict) -> bool:
    """Has ``form`` an input of ``f`` (its own, a part's "f.x" or a table row's "f-0-x")?"""
    return any(key == f.name or key.startswith((f.name + ".", f.name + "-")) for key in form)


def _put(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def _value(f: Field, form: MultiDict) -> Any:
    if f.kind == "check":
        return form.get(f.name) == "on"
    if f.kind == "multi":
        return form.getlist(f.name)
    if f.kind == "lines":
        return [line.strip() for line in form.get(f.name, "").replace("，", "\n").splitlines() if line.strip()]
    if f.kind == "group":
        inner = _get(parse(f.children, form), f.name) or {}
        return inner if f.required or _entered(inner) else None  # an optional part left blank is not sent
    if f.kind == "table":
        return _rows(f, form)
    raw = form.get(f.name, "").strip()
    if raw == "":
        return None
    if f.kind == "number":
        return _number(raw, f.integer)
    if f.kind == "choice" and raw == "__none__":
        return None
    return raw


def _entered(value: Any) -> bool:
    """Was anything entered in this part of a form? An unticked box (False) and an empty list are not; a number,
    0 too, is."""
    if isinstance(value, dict):
        return any(_entered(v) for v in value.values())
    if isinstance(value, bool | list):
        return bool(value)
    return value is not None and value != ""


def _get(data: dict[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node


def _number(raw: str, integer: bool) -> Any:
    try:
        return int(raw) if integer else (int(raw) if raw.lstrip("-").isdigit() else float(raw))
    except ValueError:
        return raw  # the schema check reports "应为数字"


def _rows(f: Field, form: MultiDict) -> list[dict[str, Any]]:
    rows = []
    indexes = sorted({int(k.split("-")[1]) for k in form if k.startswith(f.name + "-") and _row_index(k.split("-")[1])})
    for i in indexes:
        cells = {c.name: form.get(f"{f.name}-{i}-{c.name}", "").strip() for c in f.children}
        if any(cells[c.name] for c in f.children if c.kind != "check") or any(
                (cells[c.name] == "on") != bool(f.row_defaults.get(c.name)) for c in f.children if c.kind == "check"):
            # a row entered: a cell filled in, or a box changed (a new card's ticked defaults alone are no row)
            row = {}
            for c in f.children:
                value = _value(Field(f"{f.name}-{i}-{c.name}", c.title, c.kind, integer=c.integer), form)
                if value not in (None, ""):
                    row[c.name] = value
            rows.append(row)
    return rows


def _row_index(text: str) -> bool:
    """A table row number of a posted input name ("members-3-name"): a few ASCII digits, never a huge number."""
    return text.isascii() and text.isdigit() and len(text) <= MAX_ROW_DIGITS


def inputs_for(fields: list[Field], values: dict[str, Any]) -> list[tuple[str, str]]:
    """The inverse of :func:`parse`: the inputs a browser posts for ``values`` in the form of ``fields`` (for
    clients that fill a task form without a browser: the HTTP tests and benchmarks)."""
    out: list[tuple[str, str]] = []
    for f in fields:
        value: Any = values
        for part in f.name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if f.kind == "group":
            out += inputs_for(f.children, values)
        elif value is None:
            continue
        elif f.kind == "check":
            out += [(f.name, "on")] if value else []
        elif f.kind == "multi":
            out += [(f.name, str(v)) for v in value]
        elif f.kind == "lines":
            out.append((f.name, "\n".join(value)))
        elif f.kind == "table":
            out += [(f"{f.name}-{i}-{c.name}", "on" if c.kind == "check" and row[c.name] else str(row[c.name]))
                    for i, row in enumerate(value) for c in f.children if row.get(c.name) is not None]
        else:
            out.append((f.name, str(value)))
    return out


def errors_by_field(errors: list[tuple[str, str]], fields: list[Field] | None = None) -> dict[str, str]:
    """Engine error paths ("income/wages", "measures/0/item") → input names ("income.wages", "measures"); an error
    in a table's cell is kept under the cell's input ("measures-0-item"), so that the card shows it beside the input,
    and the table's summary says where it is — with ``fields``, by the cell's column alone (第 1 行的“具体措施”有误:
    the reason is said once, beside the input), else with the reason."""
    out: dict[str, str] = {}
    tables = {f.name: {c.name: c.title for c in f.children} for f in fields or [] if f.kind == "table"}

    def add(name: str, reason: str) -> None:
        out[name] = f"{out[name]}；{reason}" if name in out else reason

    for path, reason in errors:
        parts = path.split("/")
        name = parts[0] if len(parts) > 1 and parts[1].isdigit() else ".".join(parts)
        if len(parts) > 2 and parts[1].isdigit():
            column = tables.get(parts[0], {}).get(parts[2])
            named = f"{column}：{reason}" if column and not reason.startswith(column) else reason
            add(f"{parts[0]}-{parts[1]}-{parts[2]}", named)  # beside its input, naming it (read out with it)
            row = f"第 {int(parts[1]) + 1} 行"
            reason = f"{row}的“{column}”有误" if column else f"{row}：{named}"
        add(name, reason)
    return out


def refusal_errors(exc: Exception, inputs: Iterable[str] = ()) -> dict[str, str]:
    """The engine's refusal as a page shows it: beside the input it names (RuleViolation.field) if the page has
    that input (``inputs``), else above the form (``"form"``)."""
    field = getattr(exc, "field", None)
    return {field if field in set(inputs) else "form": str(exc)}


def table_rows(f: Field, values: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The rows to show: what was entered, plus a new row to fill (with its defaults) when none was."""
    rows = list(values or [])
    return rows + [dict(f.row_defaults) for _ in range(EMPTY_TABLE_ROWS if not rows else 0)]
