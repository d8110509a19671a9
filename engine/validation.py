"""Checks a diagram must pass before it is deployed (部署前校验), beyond SpiffWorkflow's own parser:
lanes are known roles, user tasks have valid forms, every expression and script compiles under the
restricted script engine. Messages name the element (id and name) and the reason."""
from __future__ import annotations

from lxml import etree

from .errors import NotFound
from .forms import check_schema, load_form
from .roles import role_for_lane
from .scripting import compile_diagram_code

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


def lint(tree: etree._ElementTree) -> list[str]:
    """Every problem found in one BPMN document."""
    return _lint_lanes(tree) + _lint_user_tasks(tree) + _lint_expressions(tree)


def _lint_lanes(tree: etree._ElementTree) -> list[str]:
    return [
        f"{describe(lane)}：泳道名称不是已知角色（见 policy/roles.json）"
        for lane in tree.iterfind(".//bpmn:lane", NS)
        if role_for_lane(lane.get("name")) is None
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
