"""Checks a diagram must pass before it is deployed (部署前校验), beyond SpiffWorkflow's own parser:
lanes are known roles, user tasks have valid forms, every expression and script compiles under the
restricted script engine, and so does every cell of a decision table (DMN). Messages name the element
(id and name) and the reason. Evaluating the expressions with sample data is engine.bpmn.dry_run."""
from __future__ import annotations

import ast
import re
from collections.abc import Callable

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from engine.bpmn.forms import check_schema, load_form
from engine.bpmn.scripting import compile_diagram_code
from engine.core.errors import NotFound

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}

FORM_PROPERTY = "formJsonSchemaFilename"
DUE_PROPERTY = "dueDate"

_EXPRESSIONS = {  # XPath of expression-bearing elements → compile mode
    ".//bpmn:conditionExpression": "eval",
    ".//bpmn:timeDate": "eval",
    ".//bpmn:timeDuration": "eval",
    ".//bpmn:timeCycle": "eval",
    ".//bpmn:scriptTask/bpmn:script": "exec",
    ".//spiffworkflow:preScript": "exec",
    ".//spiffworkflow:postScript": "exec",
}


def describe(element: etree._Element) -> str:
    """``element 'id'（name）`` for the nearest ancestor-or-self that has an id."""
    node = element
    while node is not None and node.get("id") is None:
        node = node.getparent()
    if node is None:
        return "文件"
    name = node.get("name")
    tag = etree.QName(node).localname
    return f"{tag} '{node.get('id')}'" + (f"（{name}）" if name else "")


def is_dmn(tree: etree._ElementTree) -> bool:
    """A DMN document (any DMN version), not BPMN."""
    return "/DMN/" in (etree.QName(tree.getroot()).namespace or "").upper()


def lint(tree: etree._ElementTree, is_lane: Callable[[str | None], bool]) -> list[str]:
    """Every problem found in one BPMN or DMN document; ``is_lane`` tells which lane names are known roles."""
    if is_dmn(tree):
        return lint_dmn(tree)
    return _lint_lanes(tree, is_lane) + _lint_user_tasks(tree) + _lint_expressions(tree)


def _lint_lanes(tree: etree._ElementTree, is_lane: Callable[[str | None], bool]) -> list[str]:
    return [
        f"{describe(lane)}：泳道名称不是已知角色（见 policy/roles.json）"
        for lane in tree.iterfind(".//bpmn:lane", NS)
        if not is_lane(lane.get("name"))
    ]


def _property(task: etree._Element, name: str) -> str | None:
    node = task.find(f".//spiffworkflow:property[@name='{name}']", NS)
    return node.get("value") if node is not None else None


def _lint_user_tasks(tree: etree._ElementTree) -> list[str]:
    problems = []
    for task in tree.iterfind(".//bpmn:userTask", NS):
        form = _property(task, FORM_PROPERTY)
        if not form:
            problems.append(f"{describe(task)}：人工任务没有表单（属性 {FORM_PROPERTY}）")
            continue
        try:
            reason = check_schema(load_form(form))
        except (NotFound, ValueError) as exc:
            reason = str(exc)
        if reason:
            problems.append(f"{describe(task)}：表单 {form} 无效：{reason}")
        due = _property(task, DUE_PROPERTY)
        if due:
            problems.extend(_compile(task, due, "eval", "期限表达式"))
    return problems


def _lint_expressions(tree: etree._ElementTree) -> list[str]:
    problems = []
    for path, mode in _EXPRESSIONS.items():
        for node in tree.iterfind(path, NS):
            if node.text and node.text.strip():
                problems.extend(_compile(node, node.text.strip(), mode, etree.QName(node).localname))
    return problems


def _compile(node: etree._Element, source: str, mode: str, what: str) -> list[str]:
    try:
        compile_diagram_code(source, mode)
    except SyntaxError as exc:
        shown = source if len(source) <= 60 else source[:57] + "…"
        return [f"{describe(node)}：{what} “{shown}” 不允许或有语法错误：{exc.msg}"]
    return []


# -- decision tables (DMN) ------------------------------------------------------------------------

_QUESTION_MARK = re.compile(r"""(\?)(?=(?:[^'"]|['"][^'"]*['"])*$)""")  # ``?`` outside quotes, as SpiffWorkflow


def dmn_cell_expression(input_expression: str, entry: str) -> str:
    """The expression SpiffWorkflow's DMN engine evaluates for an input entry: ``?`` stands for the input,
    an entry that is an expression of its own is compared with ``==``, else it is appended (``>= 100``)."""
    match = _QUESTION_MARK.sub("dmninputexpr", entry)
    if "dmninputexpr" in match:
        return match
    try:
        ast.parse(match)
    except SyntaxError:
        return input_expression + match
    return f"({input_expression}) == ({match})"


def describe_decision(decision: etree._Element) -> str:
    """``决策表 'id'（name）``."""
    name = decision.get("name")
    return f"决策表 '{decision.get('id')}'" + (f"（{name}）" if name else "")


def describe_rule(rule: etree._Element, number: int) -> str:
    """``规则 'id'（description）``, or its row number when it has no id."""
    note = (rule.findtext("{*}description") or "").strip()
    return (f"规则 '{rule.get('id')}'" if rule.get("id") else f"第 {number} 条规则") + (f"（{note}）" if note else "")


def lint_dmn(tree: etree._ElementTree) -> list[str]:
    """Every input expression, input entry and output entry of every decision table compiles under the
    restricted script engine (cells are Python, as everywhere in a diagram)."""
    problems = []
    for decision in tree.iter("{*}decision"):
        for table in decision.iter("{*}decisionTable"):
            problems += _lint_table(decision, table)
    return problems


def _lint_table(decision: etree._Element, table: etree._Element) -> list[str]:
    problems = []
    inputs: list[tuple[str, str]] = []  # (column label, input expression)
    for column in table.findall("{*}input"):
        text = (column.findtext("{*}inputExpression/{*}text") or "").strip()
        label = column.get("label") or text or column.get("id", "")
        if not text:
            problems.append(f"{describe_decision(decision)} 输入列 “{label}”：没有输入表达式")
        else:
            problems += _compile_cell(decision, text, text, f"输入列 “{label}” 的表达式")
        inputs.append((label, text))
    outputs = [c.get("name") or c.get("label") or c.get("id", "") for c in table.findall("{*}output")]
    for number, rule in enumerate(table.findall("{*}rule"), start=1):
        where = describe_rule(rule, number) + " "
        for (label, expression), entry in zip(inputs, rule.findall("{*}inputEntry"), strict=False):
            text = (entry.findtext("{*}text") or "").strip()
            if text and text != "-" and expression:
                problems += _compile_cell(decision, text, dmn_cell_expression(expression, text),
                                          f"{where}输入列 “{label}” 的条件")
        for label, entry in zip(outputs, rule.findall("{*}outputEntry"), strict=False):
            text = (entry.findtext("{*}text") or "").strip()
            if text:
                problems += _compile_cell(decision, text, text, f"{where}输出列 “{label}” 的取值")
    return problems


def _compile_cell(decision: etree._Element, shown: str, source: str, what: str) -> list[str]:
    try:
        compile_diagram_code(source, "eval")
    except SyntaxError as exc:
        shown = shown if len(shown) <= 60 else shown[:57] + "…"
        return [f"{describe_decision(decision)} {what} “{shown}” 不允许或有语法错误：{exc.msg}"]
    return []


def describe_validation(exc: ValidationException, tree: etree._ElementTree | None) -> str:
    element = f"元素 '{exc.id}'" if exc.id else ""
    if exc.name:
        element += f"（{exc.name}）"
    line = exc.line_number
    if not line and tree is not None and exc.id:
        found = tree.getroot().find(f".//*[@id='{exc.id}']")
        line = found.sourceline if found is not None else ""
    where = f"第 {line} 行 " if line else ""
    message = str(exc).strip().rstrip(".").strip()
    return f"{where}{element}：{message}" if element or where else message
