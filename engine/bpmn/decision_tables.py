"""Decision tables (决策表, DMN) evaluated outside a running case — for example the category a publicity
list shows before the county has decided. Inside a case the diagram's business rule task evaluates the
same table with SpiffWorkflow; here SpiffWorkflow's DMN engine is driven directly, with the same
restricted expression environment and the same table version the case was deployed with."""
from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine

from engine.bpmn.scripting import RestrictedEnvironment
from engine.bpmn.source import DiagramSource
from engine.bpmn.validation import add_dmn, new_parser
from engine.core.db import db
from engine.core.errors import NotFound
from engine.core.models import DiagramFile, ProcessVersion

_ENGINES: dict[tuple[str, str], DMNEngine] = {}  # (decision id, file sha256) → parsed table


class _TableScripts:
    """What SpiffWorkflow's DMN engine needs of a script engine: restricted evaluation against plain data."""

    def __init__(self) -> None:
        self.environment = RestrictedEnvironment({})

    def validate(self, expression: str) -> None:
        ast.parse(expression)

    def evaluate(self, task: Any, expression: str, external_context: dict | None = None) -> Any:
        return self.environment.evaluate(expression, dict(task.data), external_context)


def table_engine(decision_id: str, tables: Sequence[DiagramSource]) -> DMNEngine:
    """The parsed decision ``decision_id`` from the first DMN file of ``tables`` that defines it."""
    source = next((t for t in tables if t.is_dmn and decision_id in t.decision_ids()), None)
    if source is None:
        raise NotFound(f"决策表 {decision_id} 不存在")
    key = (decision_id, source.sha256)
    if key not in _ENGINES:
        parser = new_parser()
        add_dmn(parser, source.file_name, source.parse_xml())  # DiagramInvalid naming the element
        _ENGINES[key] = parser.get_engine(decision_id, None)
    return _ENGINES[key]


def decision_with_output(tables: Sequence[DiagramSource], output: str) -> str:
    """The id of the first decision among ``tables`` that has an output column named ``output``."""
    for source in tables:
        for decision in source.parse_xml().iter("{*}decision"):
            if any(o.get("name") == output for o in decision.iter("{*}output")):
                return decision.get("id")
    raise NotFound(f"没有输出 {output} 的决策表")


def decide(decision_id: str, data: Mapping[str, Any], tables: Sequence[DiagramSource]) -> dict[str, Any]:
    """The outputs of the table for ``data`` (``{}`` when no rule matches), like a business rule task."""
    engine = table_engine(decision_id, tables)
    task = SimpleNamespace(data=dict(data), task_spec=None, workflow=SimpleNamespace(script_engine=_TableScripts()))
    return dict(engine.result(task))


def tables_of(version: ProcessVersion) -> list[DiagramSource]:
    """The decision tables deployed with a process version (the ones its cases run with)."""
    files = [db.session.get(DiagramFile, f["sha256"]) for f in version.files if f["file_name"].lower().endswith(".dmn")]
    return [DiagramSource(f.file_name, f.content) for f in files if f is not None]


LITERAL_TYPES = {"boolean": (bool,), "string": (str,), "number": (int, float), "integer": (int,),
                 "long": (int,), "double": (int, float)}


def check_outputs(source: DiagramSource) -> list[str]:
    """Literal output cells must fit their column: the column's type (typeRef) and, when the column lists
    its allowed values (outputValues), one of them. ``None`` (no value) always fits; expressions are left
    to the trial evaluation."""
    problems = []
    for table in source.parse_xml().iter("{*}decisionTable"):
        columns = [_column(output) for output in table.findall("{*}output")]
        for rule in table.findall("{*}rule"):
            where = _rule_name(table, rule)
            for (name, kinds, allowed), entry in zip(columns, rule.findall("{*}outputEntry"), strict=False):
                value = _literal(entry.findtext("{*}text") or "")
                if value is _NOT_LITERAL or value is None:
                    continue
                if kinds and (not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool))):
                    problems.append(f"{where}：输出 {name} 的值 {value!r} 类型不符（应为 {kinds[0].__name__}）")
                elif allowed is not None and value not in allowed:
                    problems.append(f"{where}：输出 {name} 的值 {value!r} 不在允许的取值中（{'、'.join(map(repr, allowed))}）")
    return problems


def _rule_name(table: Any, rule: Any) -> str:
    decision = table.getparent()
    name = f"（{decision.get('name')}）" if decision.get("name") else ""
    note = (rule.findtext("{*}description") or "").strip()
    return f"决策表 '{decision.get('id')}'{name} 规则 '{rule.get('id')}'" + (f"（{note}）" if note else "")


_NOT_LITERAL = object()


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text.strip()) if text.strip() else None
    except (ValueError, SyntaxError):
        return _NOT_LITERAL


def _column(output: Any) -> tuple[str, tuple[type, ...], tuple | None]:
    allowed_text = output.findtext("{*}outputValues/{*}text")
    allowed = _literal(f"({allowed_text},)") if allowed_text and allowed_text.strip() else None
    if allowed is _NOT_LITERAL:
        allowed = None
    name = output.get("name") or output.get("label") or output.get("id")
    return name, LITERAL_TYPES.get(output.get("typeRef", ""), ()), allowed
