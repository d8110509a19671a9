"""Whether an exclusive gateway always has a way out (排他网关的出口). A gateway whose every outgoing flow has a
condition, none of them the default flow, stops a case whenever no condition holds (engine.bpmn.runtime
.NoBranchTaken refuses the step). Whether conditions can all be false is undecidable in general; it is shown
here for the usual shapes, and every other such gateway gets a notice (提示) at deploy, not a refusal — the
shipped diagrams branch on a form's choices without a default flow on purpose:

* two conditions that are each other's negation (``x`` / ``not x``, ``a == v`` / ``a != v``, ``a in s`` /
  ``a not in s``);
* conditions that compare one variable with values (``decision == "approve"``, ``level in ("city", "county")``)
  that include every value the variable can have: the choices of the form fields of that name (their JSON
  Schema ``enum`` or ``oneOf`` constants), the literal values the bundle's scripts assign to it and the
  literal cells of the decision-table output column of that name — when every one of them is a literal.
"""
from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from engine.bpmn.validation import FORM_PROPERTY, NS, describe, is_dmn
from engine.core.errors import FormKeywordInvalid, NotFound

_SCRIPTS = (".//bpmn:scriptTask/bpmn:script", ".//spiffworkflow:preScript", ".//spiffworkflow:postScript")
_OPPOSITE = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot,
             ast.IsNot: ast.Is, ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt}
_UNKNOWN = None  # a variable some script sets to a value that is not a literal


def gateway_notices(trees: list[etree._ElementTree], load_form: Callable[[str], dict]) -> list[list[str]]:
    """For each tree of a bundle (BPMN and DMN), the notices about its exclusive gateways that may find no
    condition true (the values variables can have are read from every tree: a called process or a decision
    table sets what a gateway reads)."""
    values = _possible_values(trees, load_form)
    return [[notice for gateway in tree.iterfind(".//bpmn:exclusiveGateway", NS)
             if (notice := _notice(tree, gateway, values))] if not is_dmn(tree) else [] for tree in trees]


def _notice(tree: etree._ElementTree, gateway: etree._Element, values: dict[str, set | None]) -> str:
    if gateway.get("default"):
        return ""
    flows = [tree.getroot().find(f".//bpmn:sequenceFlow[@id='{(o.text or '').strip()}']", NS)
             for o in gateway.iterfind("bpmn:outgoing", NS)]
    texts = [(f.findtext("bpmn:conditionExpression", namespaces=NS) or "").strip() if f is not None else ""
             for f in flows]
    if not texts or not all(texts):  # a flow without a condition: SpiffWorkflow's parser refuses it, or it is taken
        return ""
    try:
        conditions = [ast.parse(text, mode="eval").body for text in texts]
    except SyntaxError:  # refused by the lint
        return ""
    if _complementary(conditions):
        return ""
    gap = _uncovered(conditions, values)
    if gap is not None and not gap.left:
        return ""
    return (f"{describe(gateway)}：每条流出的顺序流都有条件，但没有默认流；{gap.said() if gap else ''}"
            "条件都不成立时案件会停在这里，该步骤办理不能提交。建议把其中一条顺序流设为默认流（default），"
            "或修改条件使其覆盖所有情况")


@dataclass(frozen=True)
class _Gap:
    """The values of ``name`` no condition names (``left``), and values conditions name that it never has."""

    name: str
    possible: frozenset
    left: frozenset
    foreign: frozenset

    def said(self) -> str:
        foreign = (f"（条件中的 {_values(self.foreign)} 不是它可能的取值：{_values(self.possible)}）"
                   if self.foreign else "")
        return f"{self.name} 为 {_values(self.left)} 时没有条件成立{foreign}。"


def _values(values: Iterable[Any]) -> str:
    return "、".join(f"“{v}”" if isinstance(v, str) else repr(v) for v in sorted(values, key=repr))


def _complementary(conditions: list[ast.expr]) -> bool:
    """Two of the conditions are each other's negation (one of them always holds)."""
    dumps = [ast.dump(c) for c in conditions]
    for condition in conditions:
        if (isinstance(condition, ast.UnaryOp) and isinstance(condition.op, ast.Not)
                and ast.dump(condition.operand) in dumps):
            return True
        negated = _negated(condition)
        if negated is not None and ast.dump(negated) in dumps:
            return True
    return False


def _negated(condition: ast.expr) -> ast.Compare | None:
    if not (isinstance(condition, ast.Compare) and len(condition.ops) == 1):
        return None
    opposite = _OPPOSITE.get(type(condition.ops[0]))
    return ast.Compare(left=condition.left, ops=[opposite()], comparators=condition.comparators) if opposite else None


def _uncovered(conditions: list[ast.expr], values: dict[str, set | None]) -> _Gap | None:
    """What the conditions leave out when they compare one variable with values and what it can have is
    known (no ``left``: they name every value it can have); None when that cannot be told."""
    compared = [_compared(c) for c in conditions]
    if any(c is None for c in compared) or len({name for name, _ in compared}) != 1:
        return None
    name = compared[0][0]
    possible = values.get(name)
    if not possible:
        return None
    named = set().union(*(literals for _, literals in compared))
    return _Gap(name, frozenset(possible), frozenset(possible - named), frozenset(named - possible))


def _compared(condition: ast.expr) -> tuple[str, set] | None:
    """``(variable, literals)`` for ``variable == literal``, ``literal == variable`` or ``variable in (literals)``."""
    if not (isinstance(condition, ast.Compare) and len(condition.ops) == 1):
        return None
    left, op, right = condition.left, condition.ops[0], condition.comparators[0]
    if isinstance(op, ast.Eq) and isinstance(right, ast.Name) and isinstance(left, ast.Constant):
        left, right = right, left
    if not isinstance(left, ast.Name):
        return None
    if isinstance(op, ast.Eq) and isinstance(right, ast.Constant):
        return left.id, {right.value}
    if isinstance(op, ast.In) and isinstance(right, ast.Tuple | ast.List | ast.Set):
        items = [e.value for e in right.elts if isinstance(e, ast.Constant)]
        return (left.id, set(items)) if len(items) == len(right.elts) else None
    return None


# -- the values a variable can have ---------------------------------------------------------------------


def _possible_values(trees: list[etree._ElementTree], load_form: Callable[[str], dict]) -> dict[str, set | None]:
    """variable → every value it can have (form choices and literal assignments), or None when a script sets
    it otherwise; variables neither a form with choices nor a script sets are not listed."""
    values: dict[str, set | None] = {}
    for name, choices in _form_choices(trees, load_form):
        values[name] = _add(values.get(name, set()), choices)
    for name, literal in [*_assignments(trees), *_table_outputs(trees)]:
        values[name] = _add(values.get(name, set()), literal)
    return values


def _add(known: set | None, more: Iterable[Any] | None) -> set | None:
    return None if known is None or more is None else known | set(more)


def _form_choices(trees: list[etree._ElementTree], load_form: Callable[[str], dict]) -> Iterable[tuple[str, list]]:
    forms = {p.get("value") for tree in trees
             for p in tree.iterfind(f".//bpmn:userTask//spiffworkflow:property[@name='{FORM_PROPERTY}']", NS)}
    for form in sorted(f for f in forms if f):
        try:
            schema = load_form(form)
        except (NotFound, FormKeywordInvalid, ValueError):  # refused by the lint, naming the task
            continue
        for name, field in (schema.get("properties") or {}).items():
            choices = _choices(field) if isinstance(field, dict) else None
            if choices:
                yield name, choices


def _choices(field: dict) -> list | None:
    if isinstance(field.get("enum"), list):
        return field["enum"]
    options = field.get("oneOf") or field.get("anyOf")
    if isinstance(options, list) and options and all(isinstance(o, dict) and "const" in o for o in options):
        return [o["const"] for o in options]
    return None


def _table_outputs(trees: list[etree._ElementTree]) -> Iterable[tuple[str, list | None]]:
    """``(output column, [its value])`` for each output cell of the bundle's decision tables (None: an
    expression, not a literal)."""
    for tree in trees:
        if not is_dmn(tree):
            continue
        for table in tree.iter("{*}decisionTable"):
            names = [o.get("name") for o in table.findall("{*}output")]
            for rule in table.findall("{*}rule"):
                for name, entry in zip(names, rule.findall("{*}outputEntry"), strict=False):
                    if name:
                        yield name, _literal_cell(entry.findtext("{*}text") or "")


def _literal_cell(text: str) -> list | None:
    try:
        return [ast.literal_eval(text.strip())] if text.strip() else [None]
    except (ValueError, SyntaxError):
        return _UNKNOWN


def _assignments(trees: list[etree._ElementTree]) -> Iterable[tuple[str, list | None]]:
    """``(variable, [literal values])`` for each assignment in the bundle's scripts (None: not a literal)."""
    for tree in trees:
        for path in _SCRIPTS:
            for node in tree.iterfind(path, NS):
                try:
                    code = ast.parse((node.text or "").strip())
                except SyntaxError:
                    continue
                for statement in ast.walk(code):
                    yield from _assigned(statement)


def _assigned(statement: ast.AST) -> Iterable[tuple[str, list | None]]:
    if isinstance(statement, ast.Assign):
        value = _literals(statement.value)
        for target in statement.targets:
            names = target.elts if isinstance(target, ast.Tuple | ast.List) else [target]
            for name in names:
                if isinstance(name, ast.Name):
                    yield name.id, value if len(names) == 1 else _UNKNOWN
    elif isinstance(statement, ast.AugAssign | ast.AnnAssign) and isinstance(statement.target, ast.Name):
        yield statement.target.id, _UNKNOWN


def _literals(value: ast.expr) -> list | None:
    """The values an assigned expression can take when it is a literal, or a choice between literals."""
    if isinstance(value, ast.Constant):
        return [value.value]
    if isinstance(value, ast.IfExp):
        body, orelse = _literals(value.body), _literals(value.orelse)
        return body + orelse if body is not None and orelse is not None else None
    return None
