"""Checks a diagram must pass before it is deployed (部署前校验), beyond SpiffWorkflow's own parser:
lanes are known roles, user tasks have valid forms, every expression and script compiles under the
restricted script engine, and so does every cell of a decision table (DMN). Messages name the element
(id and name) and the reason. Evaluating the expressions with sample data is engine.bpmn.dry_run."""
from __future__ import annotations

import ast
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS, XSD_DIR
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from engine.bpmn import conventions, instructions, procedures
from engine.bpmn.forms import check_schema, load_form
from engine.bpmn.rules import DiagramRules
from engine.bpmn.scripting import compile_diagram_code
from engine.bpmn.xml_errors import schema_problems
from engine.core.config import project_dir
from engine.core.errors import DiagramInvalid, FormKeywordInvalid, NotFound
from engine.core.vocabulary import Code, LedgerStep, PublicStage

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}

FORM_PROPERTY = "formJsonSchemaFilename"
DUE_PROPERTY = "dueDate"
PUBLIC_STAGE_PROPERTY = "publicStage"  # the applicant's progress stage of an identification step (PublicStage)
LEDGER_STEP_PROPERTY = "ledgerStep"  # what a step is for in the warning and campaign ledgers (LedgerStep)
STEP_MARKS: dict[str, tuple[type[Code], str]] = {  # a user task's property → its codes, and what they are called
    PUBLIC_STAGE_PROPERTY: (PublicStage, "申报进度阶段（农户查询进度时看到的阶段）"),
    LEDGER_STEP_PROPERTY: (LedgerStep, "台账环节（预警台账、年度排查进度统计的环节）"),
}

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


def lint(tree: etree._ElementTree, rules: DiagramRules) -> list[str]:
    """Every problem found in one BPMN or DMN document; ``rules`` tells which lane names are known roles (and
    lists them, named in the refusal of an unknown lane)."""
    if is_dmn(tree):
        return lint_dmn(tree)
    lane_names = getattr(rules, "lane_names", None)
    return (_lint_lanes(tree, rules.is_lane, lane_names) + _lint_user_tasks(tree) + _lint_step_marks(tree)
            + _lint_timers(tree) + _lint_expressions(tree) + _lint_conventions(tree, rules)
            + procedures.problems(tree, describe))


def form_files() -> list[str]:
    """The forms there are (``forms/*.json``), by file name."""
    return sorted(p.name for p in project_dir("forms").glob("*.json"))


def _lint_conventions(tree: etree._ElementTree, rules: DiagramRules) -> list[str]:
    """Other modelers' attributes that are not taken (:mod:`engine.bpmn.conventions`)."""
    role_of = getattr(rules, "role_of", None) or (lambda name: name if rules.is_lane(name) else None)
    role_lanes = getattr(rules, "role_lanes", None) or (lambda role: [role])
    return conventions.problems(tree, describe, form_files(), role_of, role_lanes)


def _lint_lanes(tree: etree._ElementTree, is_lane: Callable[[str | None], bool],
                lane_names: Callable[[], list[str]] | None) -> list[str]:
    unknown = [lane for lane in tree.iterfind(".//bpmn:lane", NS) if not is_lane(lane.get("name"))]
    if not unknown:
        return []
    names = lane_names() if lane_names is not None else []
    known = f"可用的泳道名称：{'、'.join(names)}" if names else "泳道名称须为已知角色"
    return [f"{describe(lane)}：泳道名称“{lane.get('name') or ''}”不是已知角色；{known}，请把泳道改为其中之一"
            for lane in unknown]


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
        if conventions.form_taken(task) and form not in form_files():
            continue  # refused, naming the attribute it was taken from, by _lint_conventions
        try:
            reason = check_schema(load_form(form))
        except NotFound as exc:
            forms = form_files()
            reason = f"{exc}；已有的表单：{'、'.join(forms) or '（没有）'}，请改为其中之一或先添加该表单"
        except FormKeywordInvalid as exc:  # its x-verdict, x-records…: what to change in the form
            reason = "；".join(exc.problems)
        except ValueError as exc:
            reason = str(exc)
        if reason:
            problems.append(f"{describe(task)}：表单 {form} 无效：{reason}")
        due = _property(task, DUE_PROPERTY)
        if due:
            problems.extend(_compile(task, due, "eval", "期限表达式"))
        said = task.findtext(f".//spiffworkflow:{instructions.PROPERTY}", "", NS)
        problems += [f"{describe(task)}：{p}" for p in instructions.problems(said)]
    return problems


def _lint_step_marks(tree: etree._ElementTree) -> list[str]:
    """A step's publicStage and ledgerStep name one of their codes, and are on a user task (the engine reads
    them there only)."""
    problems = []
    for name, (codes, what) in STEP_MARKS.items():
        allowed = "、".join(f"{code.value}（{code.label}）" for code in codes)
        for node in tree.iterfind(f".//spiffworkflow:property[@name='{name}']", NS):
            owner = node.getparent().getparent().getparent() if node.getparent() is not None else None
            owner = owner if owner is not None else node
            value = (node.get("value") or "").strip()
            if etree.QName(owner).localname != "userTask":
                problems.append(f"{describe(owner)}：属性 {name}（{what}）只能设在人工任务（userTask）上；"
                                "请删除该属性，或把它设在相应的人工任务上")
            elif value not in codes.labels():
                problems.append(f"{describe(owner)}：属性 {name}（{what}）的取值“{value}”不是已知的取值；"
                                f"请改为其中之一：{allowed}，{conventions.PANEL_HINT}；不需要时删除该属性")
    return problems


_TIMERS = ("timeDate", "timeDuration", "timeCycle")
_ISO_TIME = re.compile(r"(R\d*/)?(P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?"
                       r"|\d{4}-\d\d-\d\d(T[\d:.]+)?(Z|[+-]\d\d:?\d\d)?)", re.IGNORECASE)
_EL = re.compile(r"[$#]\{.*\}", re.DOTALL)
EL_HINT = ("表达式是 Python，不是 JUEL/EL（${…}）：请去掉 ${ }，写成例如 approved 或 approved == True")


def _lint_timers(tree: etree._ElementTree) -> list[str]:
    """A timer says when it fires: one of timeDate, timeDuration or timeCycle, not empty (SpiffWorkflow refuses a
    timer without one in English, and one with an empty expression fails every case that reaches it); a cycle
    is not on an intermediate event (the flow would go on once per repetition)."""
    return [problem for definition in tree.iterfind(".//bpmn:timerEventDefinition", NS)
            if (problem := _timer_problem(definition) or _cycle_problem(definition))]


def _cycle_problem(definition: etree._Element) -> str:
    """A cycle timer (timeCycle) on an intermediate catch event: SpiffWorkflow lets the token through at every
    repetition, so the steps after it are started again each time ("R3/P7D": three times)."""
    event = definition.getparent()
    cycle = definition.find("bpmn:timeCycle", NS)
    if cycle is None or event is None or etree.QName(event).localname != "intermediateCatchEvent":
        return ""
    return (f"{describe(event)}：中间定时事件不能用循环定时器（timeCycle “{(cycle.text or '').strip()}”）：每重复一次，"
            "流程就往下走一次，后面的步骤会重复出现；只等一次请改为 timeDate（到期时间，如 working_days_from(…)）"
            "或 timeDuration（如 \"P7D\"）；要定期提醒，请把循环定时器放在所等待任务的非中断边界事件上"
            "（cancelActivity=\"false\"）")


def _timer_problem(definition: etree._Element) -> str:
    """What is wrong with a timer definition that says no time ("" if it says one)."""
    given = [child for name in _TIMERS for child in definition.iterfind(f"bpmn:{name}", NS)]
    if any((child.text or "").strip() for child in given):
        return ""
    event = definition.getparent()
    what = f"{etree.QName(given[0]).localname} 是空的" if given else "没有设置到期时间"
    return (f"{describe(event if event is not None else definition)}：定时器{what}；请写出到期时间的表达式"
            "（如 days_from(lead_date, 15) 或 \"2026-10-01T00:00:00+08:00\"），或删除该定时器")


def _lint_expressions(tree: etree._ElementTree) -> list[str]:
    problems = []
    for path, mode in _EXPRESSIONS.items():
        for node in tree.iterfind(path, NS):
            if node.text and node.text.strip():
                what = etree.QName(node).localname
                text = node.text.strip()
                if what in _TIMERS and _ISO_TIME.fullmatch(text):
                    event = node.getparent().getparent() if node.getparent() is not None else None
                    problems.append(f"{describe(event if event is not None else node)}：定时器表达式 “{text}” 是没有加引号的 ISO 时间；定时器表达式是 "
                                    f"Python，请写成 \"{text}\"（加引号），或用 days_from / working_days_from 计算期限")
                    continue
                problems.extend(_compile(node, text, mode, what))
    return problems


SCRIPT_KINDS = {"script": "脚本", "preScript": "前置脚本", "postScript": "后置脚本"}


def _imports(source: str) -> list[str]:
    """The modules a script's ``import`` statements name (none may be imported)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [alias.name if isinstance(node, ast.Import) else (node.module or ".")
            for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom) for alias in node.names[:1]]


def _compile(node: etree._Element, source: str, mode: str, what: str) -> list[str]:
    if mode == "exec" and (modules := _imports(source)):
        return [(f"{describe(node)}：{SCRIPT_KINDS.get(what, what)}不能导入模块（import {'、'.join(modules)}）：图中的脚本只能调用 fangpin 提供的函数"
                f"（期限、测算、记录等）和简单的内置函数；请删除 import 语句")]
    try:
        compile_diagram_code(source, mode)
    except SyntaxError as exc:
        shown = source if len(source) <= 60 else source[:57] + "…"
        hint = f"；{EL_HINT}" if _EL.search(source) else ""
        return [f"{describe(node)}：{what} “{shown}” 不允许或有语法错误：{exc.msg}{hint}"]
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


_FEEL_RANGE = re.compile(r"(?P<open>[\[\]\(])\s*(?P<low>[^.\s]+)\s*\.\.\s*(?P<high>[^\s\]\[\)]+)\s*(?P<close>[\]\[\)])")


def _compile_cell(decision: etree._Element, shown: str, source: str, what: str) -> list[str]:
    try:
        compile_diagram_code(source, "eval")
    except SyntaxError as exc:
        hint = ""
        feel = _FEEL_RANGE.fullmatch(shown.strip())
        if feel:
            low = "<=" if feel["open"] == "[" else "<"
            high = "<=" if feel["close"] == "]" else "<"
            hint = (f"；这是 FEEL 的区间写法，本系统的单元格是 Python：请写成 {feel['low']} {low} ? {high} {feel['high']}"
                    "（? 代表该列的输入）")
        elif _EL.search(shown):
            hint = f"；{EL_HINT}"
        shown = shown if len(shown) <= 60 else shown[:57] + "…"
        return [f"{describe_decision(decision)} {what} “{shown}” 不允许或有语法错误：{exc.msg}{hint}"]
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
    return f"{(where + element).strip()}：{message}" if element or where else message


# -- admitting a decision table to SpiffWorkflow's parser ------------------------------------------

DMN11 = "http://www.omg.org/spec/DMN/20151101/dmn.xsd"
DMN12 = "http://www.omg.org/spec/DMN/20180521/MODEL/"
DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"
DMN_VERSIONS = {DMN11: "DMN 1.1", DMN12: "DMN 1.2", DMN13: "DMN 1.3"}
ACCEPTED_DMN = "、".join(DMN_VERSIONS.values())

_NOT_A_TABLE = {"literalExpression": "文字表达式（literal expression）", "context": "上下文（context）",
                "invocation": "调用（invocation）", "relation": "关系（relation）", "list": "列表（list）",
                "functionDefinition": "函数定义（function definition）"}
_XSD = "{http://www.w3.org/2001/XMLSchema}"


class SchemaViolation(ValidationException):
    """A file the BPMN or DMN schema (XSD) refuses, with every problem found, each in words naming its element."""

    def __init__(self, problems: list[str], file_name: str | None = None) -> None:
        super().__init__("；".join(problems), file_name=file_name)
        self.problems = problems


class _BpmnSchema:
    """SpiffWorkflow's BPMN schema check (its VALIDATOR), refusing with every problem in words
    (:class:`SchemaViolation`); SpiffWorkflow's own says only the last one, in the XML library's English."""

    def validate(self, bpmn: etree._Element, filename: str | None = None) -> None:
        VALIDATOR.preprocess(bpmn)
        schema = VALIDATOR.validator
        if not schema.validate(bpmn):
            raise SchemaViolation(_schema_problems(schema, bpmn, "BPMN 2.0"), file_name=filename)


def _schema_problems(schema: etree.XMLSchema, root: etree._Element, standard: str) -> list[str]:
    return schema_problems([(e.message, e.line) for e in schema.error_log], root.getroottree(), standard, describe)


def new_parser() -> SpiffBpmnParser:
    """SpiffWorkflow's spiff parser with the BPMN schema; decision tables are checked against their DMN schema
    by :func:`add_dmn` instead (every problem in words; and the DMN 1.2 schema SpiffWorkflow ships imports a
    DMNDI schema it does not have, so lxml cannot load it)."""
    parser = SpiffBpmnParser(validator=_BpmnSchema())
    parser.dmn_schemas = {}
    return parser


@cache
def _dmn_schema(namespace: str) -> etree.XMLSchema:
    """The schema of a DMN version (:data:`DMN_VERSIONS`), DMN 1.2's by :func:`_dmn12_schema`."""
    return _dmn12_schema() if namespace == DMN12 else etree.XMLSchema(etree.parse(SCHEMAS[namespace]))


@cache
def _dmn12_schema() -> etree.XMLSchema:
    """SpiffWorkflow's DMN 1.2 schema with its diagram part (DMNDI) left unchecked: the layout the modeler
    writes is not what is executed, and the file is stored as uploaded either way."""
    tree = etree.parse(str(Path(XSD_DIR) / "DMN12.xsd"))
    root = tree.getroot()
    for imported in root.findall(f"{_XSD}import"):
        root.remove(imported)
    for ref in root.iter(f"{_XSD}element"):
        if ref.get("ref") == "dmndi:DMNDI":
            any_ = etree.Element(f"{_XSD}any", namespace="http://www.omg.org/spec/DMN/20180521/DMNDI/",
                                 processContents="skip", minOccurs="0", maxOccurs="1")
            ref.getparent().replace(ref, any_)
    return etree.XMLSchema(tree)


def dmn_structure(tree: etree._ElementTree) -> list[str]:
    """What SpiffWorkflow's DMN engine cannot run, named by element: another DMN version, no decision, a
    decision that is not a decision table (a literal expression, a decision service), several decisions."""
    root = tree.getroot()
    namespace = etree.QName(root).namespace or ""
    if etree.QName(root).localname != "definitions" or not is_dmn(tree):
        return [f"文件不是 DMN 决策表（根元素是 {etree.QName(root).localname}）：请上传 {ACCEPTED_DMN} 格式的 .dmn 文件"]
    if namespace not in DMN_VERSIONS:
        return [f"文件的 DMN 命名空间 {namespace} 不受支持：只接受 {ACCEPTED_DMN}，请在编辑器中导出为 DMN 1.3"]
    decisions = root.findall(f"{{{namespace}}}decision")
    problems = []
    for decision in decisions:
        if decision.find(f"{{{namespace}}}decisionTable") is None:
            kinds = [_NOT_A_TABLE.get(etree.QName(c).localname, etree.QName(c).localname) for c in decision
                     if etree.QName(c).localname in _NOT_A_TABLE]
            what = f"（是{kinds[0]}）" if kinds else "（没有 decisionTable）"
            problems.append(f"{_decision(decision)}不是决策表{what}：本系统只执行决策表，"
                            "请在 DMN 编辑器中把它改为决策表（Decision Table）")
    for service in root.findall(f"{{{namespace}}}decisionService"):
        if not decisions:
            problems.append(f"{_decision(service, '决策服务')}不是决策表：本系统不执行决策服务（decision service），"
                            "请改为决策表（Decision Table）")
    if not decisions and not problems:
        problems.append("文件没有决策（decision）：请在 DMN 编辑器中添加一个决策表（Decision Table）")
    if len(decisions) > 1 and not problems:
        named = "、".join(_decision(d).strip() for d in decisions)
        problems.append(f"文件有 {len(decisions)} 个决策（{named}）：每个 DMN 文件只能有一个决策表，请分成多个文件")
    return problems


def _decision(element: etree._Element, kind: str = "决策") -> str:
    name = element.get("name")
    return f"{kind} '{element.get('id')}'" + (f"（{name}）" if name else "") + " "


def add_dmn(parser: SpiffBpmnParser, file_name: str, tree: etree._ElementTree) -> None:
    """Add a decision table to ``parser`` (from :func:`new_parser`) and parse it as a business rule task
    would: DMN 1.1–1.3, with the default namespace or a prefix (``semantic:``). Anything refused — the
    schema, the structure, or whatever else SpiffWorkflow's DMN parser raises — is DiagramInvalid naming
    the element and what to change, never another exception."""
    problems = dmn_structure(tree)
    if problems:
        raise DiagramInvalid(file_name, problems)
    root = tree.getroot()
    namespace = etree.QName(root).namespace
    try:
        schema = _dmn_schema(namespace)
        if not schema.validate(root):
            raise SchemaViolation(_schema_problems(schema, root, DMN_VERSIONS[namespace]), file_name=file_name)
        known = parser.namespaces
        parser.namespaces = {**known, "dmn": namespace}  # SpiffWorkflow finds elements by the prefix dmn:
        try:
            parser.add_dmn_xml(root, filename=file_name)
        finally:
            parser.namespaces = known
        for decision in root.iter(f"{{{namespace}}}decision"):
            parser.get_engine(decision.get("id"), None)  # parsed now, not when a case reaches the task
    except SchemaViolation as exc:
        raise DiagramInvalid(file_name, exc.problems) from exc
    except ValidationException as exc:
        raise DiagramInvalid(file_name, [describe_validation(exc, tree)]) from exc
    except etree.XPathEvalError as exc:
        prefixes = sorted({p for p in re.findall(r"([A-Za-z_][\w.-]*):", _text_of(root))
                           if p not in (root.nsmap or {}) and p not in ("http", "https")})
        named = f"前缀 {'、'.join(p + ':' for p in prefixes)} " if prefixes else "命名空间前缀"
        raise DiagramInvalid(file_name, [(f"文件使用了未定义的{named}（{exc}）：请在 definitions 上声明它"
                                         "（xmlns:前缀=\"…\"），或在编辑器中重新导出")]) from exc
    except Exception as exc:
        raise DiagramInvalid(file_name, [(f"决策表无法解析（{type(exc).__name__}：{exc}）：请用 {ACCEPTED_DMN} "
                                         "的决策表（每个文件一个决策表，单元格为 Python 表达式）重新导出")]) from exc


def _text_of(root: etree._Element) -> str:
    return " ".join(v for e in root.iter() if isinstance(e.tag, str) for v in [*e.attrib.values(), e.text or ""])


# -- SpiffWorkflow's refusals, said in Chinese with the element they are about --------------------

_NOT_FOUND = re.compile(r"The process '(?P<process>[^']*)' was not found")
_DATA_STORE = re.compile(r"Data Store with name (?P<name>.*) has no implementation")
MAX_FLOW_NODES = 300  # elements of one process; SpiffWorkflow's parser recurses along the chain (≈ 550 fail)


def explain_validation(exc: ValidationException, tree: etree._ElementTree | None, trees: list[etree._ElementTree],
                       known_processes: list[str] = ()) -> str:
    """:func:`describe_validation`, except for SpiffWorkflow's refusals that name no element or speak English:
    a call activity to an unknown process, a data store with no implementation, a service task without an
    operator, a sub-process without one start event, a gateway's flow without a condition, a data association
    that names no data object. ``trees``: every BPMN document of the bundle (to find the element); ``known_processes``: the
    process ids there are (the bundle's and the deployed ones)."""
    message = str(exc)
    if "RecursionError" in message or "maximum recursion depth" in message:
        return too_deep(trees)  # SpiffWorkflow wraps it as the error of whichever task it had reached
    found = _NOT_FOUND.search(message)
    if found:
        process = found["process"]
        callers = [c for t in trees for c in t.iterfind(".//bpmn:callActivity", NS) if c.get("calledElement") == process]
        where = "、".join(describe(c) for c in callers) or "调用活动（callActivity）"
        there = "、".join(sorted(set(known_processes))) or "（没有）"
        return (f"{where}：调用的流程 '{process}' 不存在（已部署和本次上传的流程：{there}）；"
                "请把 calledElement 改为其中之一，或先部署流程 " + process)
    found = _DATA_STORE.search(message)
    if found:
        stores = [s for t in trees for s in t.iterfind(".//bpmn:dataStore", NS) if s.get("name") == found["name"]]
        where = "、".join(describe(s) for s in stores) or f"dataStore（{found['name']}）"
        return (f"{where}：数据存储（data store）“{found['name']}”没有实现，本系统不支持数据存储；"
                "请改用数据对象（data object）或任务数据")
    if "Unknown Time Specification" in message:  # the lint says the same of every such timer, in words
        node = _by_id(tree, exc.id)
        definition = node.find(".//bpmn:timerEventDefinition", NS) if node is not None else None
        if definition is not None and (problem := _timer_problem(definition)):
            return problem
    if "Service Task must have an operator" in message:
        return (f"{_where(exc, tree, 'serviceTask')}：服务任务（service task）没有指定操作（spiffworkflow:serviceTaskOperator）；"
                "本系统的服务任务需要指定操作，或请改为脚本任务（script task）")
    if "Multiple outgoing flows are not supported" in message:
        return (f"{_where(exc, tree)}：任务只能有一条流出的顺序流；要分支，请在任务后加一个排他网关（exclusiveGateway），"
                "从网关引出各条带条件的顺序流")
    for phrase, explain in _EXPLAINED:
        if phrase in message:
            return explain(exc, tree)
    return describe_validation(exc, tree)


def _by_id(tree: etree._ElementTree | None, element_id: str | None) -> etree._Element | None:
    if tree is None or not element_id:
        return None
    return next(iter(tree.getroot().iterfind(f".//*[@id='{element_id}']")), None)


def _where(exc: ValidationException, tree: etree._ElementTree | None, tag: str = "元素") -> str:
    """The element a refusal is about, by :func:`describe`; from the exception's id and name if not in the tree."""
    node = _by_id(tree, exc.id)
    return describe(node) if node is not None else f"{tag} '{exc.id}'" + (f"（{exc.name}）" if exc.name else "")


def _subprocess_events(exc: ValidationException, tree: etree._ElementTree | None) -> str:
    """A sub-process without exactly one start event, or without an end event (a collapsed one is often empty)."""
    where = _where(exc, tree, "subProcess")
    if "End event" in str(exc):
        return f"{where}：子流程没有结束事件；请在子流程内加一个结束事件（endEvent），连在它的最后一个步骤之后"
    found = re.search(r"found (\d+)", str(exc))
    count = int(found[1]) if found else 0
    fix = ("请只保留一个开始事件，把其余的删除" if count > 1 else
           "请在子流程内加一个开始事件（startEvent）连到它的第一个步骤（折叠的子流程请在编辑器中展开后添加）；"
           "只作说明、不需执行内部步骤的，请改为任务或调用活动（call activity）")
    return f"{where}：子流程必须恰好有一个开始事件，现在有 {count} 个；{fix}"


_GATEWAYS = {"exclusiveGateway": "排他网关", "inclusiveGateway": "包容网关"}


def _flow_without_condition(exc: ValidationException, tree: etree._ElementTree | None) -> str:
    """A flow out of an exclusive (inclusive) gateway that has no condition and is not the gateway's default."""
    flow = _by_id(tree, exc.id)
    gateway = _by_id(tree, flow.get("sourceRef")) if flow is not None else None
    source = ""
    if gateway is not None:
        kind, name = _GATEWAYS.get(etree.QName(gateway).localname, "网关"), gateway.get("name")
        source = f"从{kind} '{gateway.get('id')}'" + (f"（{name}）" if name else "") + " 流出，"
    return (f"{_where(exc, tree, 'sequenceFlow')}：{source}既没有条件，也不是网关的默认流；请给它写条件（Python 表达式，"
            "如 approved == True），或在网关上把它设为默认流（default，条件都不成立时走这一条）")


_ASSOCIATIONS = {"dataInputAssociation": ("sourceRef", "数据输入关联"), "dataOutputAssociation": ("targetRef", "数据输出关联")}


def _unresolved_data(exc: ValidationException, tree: etree._ElementTree | None) -> str:
    """A data association whose data object cannot be found (a data store, a reference to no data object)."""
    kind = "dataInputAssociation" if "dataInputAssociation" in str(exc) else "dataOutputAssociation"
    ref_tag, label = _ASSOCIATIONS[kind]
    node = _by_id(tree, exc.id)
    refs = [(r.text or "").strip() for r in node.iterfind(f"bpmn:{kind}/bpmn:{ref_tag}", NS)] if node is not None else []
    reasons = [reason for ref in refs if (reason := _data_ref_problem(tree, ref))]
    return (f"{_where(exc, tree)}：{label}（{kind}）{'；'.join(reasons) or '指向的数据无法解析'}；"
            "请删除该关联，或把它连到本流程的数据对象（data object）")


def _data_ref_problem(tree: etree._ElementTree | None, ref: str) -> str:
    """Why a data association's reference does not name a data object ("" if it does)."""
    target = _by_id(tree, ref)
    if target is None:
        return f"指向的元素 '{ref}' 不存在"
    tag = etree.QName(target).localname
    if tag == "dataStoreReference":
        return f"指向数据存储 {describe(target)}，本系统不支持数据存储（data store）"
    if tag != "dataObjectReference":
        return f"指向的 {describe(target)} 不是数据对象引用（dataObjectReference）"
    data_object = _by_id(tree, target.get("dataObjectRef"))
    if data_object is None or etree.QName(data_object).localname != "dataObject":
        return f"指向的 {describe(target)} 没有连到数据对象（dataObjectRef 为空或不存在）"
    return ""


_EXPLAINED: tuple[tuple[str, Callable[[ValidationException, etree._ElementTree | None], str]], ...] = (
    ("start event is required in a SubWorkflow", _subprocess_events),
    ("A SubWorkflow Must contain an End event", _subprocess_events),
    ("Non-default exclusive outgoing sequence flow without condition", _flow_without_condition),
    ("Cannot resolve dataInputAssociation", _unresolved_data),
    ("Cannot resolve dataOutputAssociation", _unresolved_data),
)


def too_deep(trees: list[etree._ElementTree], only_if_deep: bool = False) -> str:
    """The refusal of a diagram too large or too deeply chained for the engine (about the diagram, not one
    step); with ``only_if_deep`` "" unless a process has more than MAX_FLOW_NODES steps."""
    sizes = []
    for tree in trees:
        for process in tree.iterfind(".//bpmn:process", NS):
            steps = sum(1 for node in process.iter() if isinstance(node.tag, str) and node.get("id")
                        and etree.QName(node).localname not in ("sequenceFlow", "lane", "laneSet", "process")
                        and etree.QName(node).namespace == BPMN)
            sizes.append((steps, process))
    steps, process = max(sizes, key=lambda s: s[0], default=(0, None))
    if only_if_deep and steps <= MAX_FLOW_NODES:
        return ""
    where = describe(process) if process is not None else "流程图"
    return (f"{where}：流程图太大或步骤链太长（{steps} 个元素，引擎最多处理约 {MAX_FLOW_NODES} 个），无法校验和执行；"
            "请把它拆分为几个较小的流程，用调用活动（call activity）连接")
