"""Trying every expression with sample data before deploying (部署前试算).

Compiling (engine.bpmn.validation) only proves that an expression is allowed Python. Here every sequence-flow
condition, every timer (``timeDate``, ``timeDuration``, ``timeCycle``), every user task due date (``dueDate``)
and the input expressions of the decision tables a bundle calls are evaluated by the real restricted script
engine against **sample data**, so that a misspelled variable, a timer whose value is not a date or duration,
an unknown function or a missing policy parameter is refused at upload, naming the element and the reason,
instead of failing the first case that reaches it.

Sample data, in this order (later wins, as in a running case):

* the start data a new instance would get, one trial for each kind the caller's rules give
  (engine.bpmn.rules.DiagramRules.samples; the domain's are built in engine.library.rules from the policy
  parameters of each jurisdiction and date that binds the procedure to this process);
* an instance of every user task's form (its JSON Schema, engine.bpmn.forms.sample_instance);
* a payload for every message or signal variable;
* what the bundle's scripts (script tasks, pre- and post-scripts) set when run once, in document order, in a
  sandbox with the functions the rules give (stand-ins that change nothing, real deadlines), and the outputs
  of each called decision table (per column the first value of its rules that is not None, False or empty).
  A script that fails is tried again after the others ran; one that still fails is reported.

What it cannot see: the order in which a token meets the expressions (a variable read before the step that
sets it, a boundary timer reading its task's pre-script), values only some paths produce, and results that
depend on real records. A deadline that needs holiday data not loaded yet is not counted against the diagram.
"""
from __future__ import annotations

import copy
import difflib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.bpmn.forms import load_form, sample_instance
from engine.bpmn.rules import DiagramRules, TrialSample
from engine.bpmn.scripting import DiagramScriptEngine, time_limit
from engine.bpmn.source import DiagramSource
from engine.bpmn.validation import DUE_PROPERTY, FORM_PROPERTY, NS, describe, describe_decision, describe_rule, is_dmn
from engine.core.clock import FixedClock
from engine.core.errors import CalendarRefused, NotFound
from timers.calendar import CHINA_TZ as CST
from timers.calendar import CalendarDataMissing

log = logging.getLogger(__name__)

SAMPLE_DAY = date(2026, 9, 25)
SAMPLE_NOW = datetime(2026, 9, 25, 9, 0, tzinfo=CST)
MESSAGE_PAYLOAD = {"text": "示例", "raised_by": "示例", "raised_on": SAMPLE_DAY.isoformat(), "by": "示例"}
TIMER_KINDS = ("timeDate", "timeDuration", "timeCycle")
_NOT_THE_DIAGRAM = (CalendarDataMissing, CalendarRefused)  # holiday data missing: a data problem, not the diagram's
_SHOW = 60


def dry_run(bundle: Sequence[DiagramSource], process_id: str, rules: DiagramRules) -> list[str]:
    """Every problem found by evaluating the bundle's expressions against sample data (empty: none): once for
    each kind of start data ``rules`` gives, with the functions ``rules`` gives.

    ``bundle[0]`` is the main file; elements of other files are named with their file. Never raises for a
    problem of the diagram: each one is a message naming the element (id and name) and the reason.
    """
    documents = [(s.file_name, s.parse_xml()) for s in bundle]
    samples = rules.samples(process_id)
    functions = rules.functions(FixedClock(SAMPLE_NOW))
    found = [_Trial(documents, sample.start, functions).problems() for sample in samples]
    return _merge(found, samples)


def _merge(found: list[list[str]], samples: list[TrialSample]) -> list[str]:
    """Problems of all trials; one that only some start data cause says which."""
    merged: dict[str, str] = {}
    for problems in found:
        for problem in problems:
            if problem not in merged:
                where = [s.label for s, ps in zip(samples, found, strict=True) if problem in ps]
                some = len(where) < len(samples)
                merged[problem] = problem + (f"（按 {'、'.join(where)} 的政策参数试算）" if some else "")
    return list(merged.values())


# -- one trial ----------------------------------------------------------------------------------------


@dataclass
class _Step:
    """A script or a business rule task, run in document order to fill the sample data."""

    file_name: str
    element: etree._Element
    kind: str  # script | preScript | postScript | decision
    text: str


class _Trial:
    """The bundle's expressions evaluated against one kind of start data."""

    def __init__(self, documents: list[tuple[str, etree._ElementTree]], start: dict[str, Any],
                 functions: dict[str, Callable[..., Any]]) -> None:
        self.main = documents[0][0]
        self.bpmn = [(name, tree) for name, tree in documents if not is_dmn(tree)]
        self.decisions = {d.get("id"): d for _, tree in documents if is_dmn(tree) for d in tree.iter("{*}decision")}
        self.engine = DiagramScriptEngine(functions)
        self.data = copy.deepcopy(start)
        self._fill_forms_and_messages()

    def problems(self) -> list[str]:
        problems = self._run_steps()
        for file_name, tree in self.bpmn:
            problems += self._conditions(file_name, tree) + self._timers(file_name, tree)
            problems += self._due_dates(file_name, tree)
        return problems

    # sample data

    def _fill_forms_and_messages(self) -> None:
        for _, tree in self.bpmn:
            for task in tree.iterfind(".//bpmn:userTask", NS):
                form = _property(task, FORM_PROPERTY)
                try:
                    sample = sample_instance(load_form(form), SAMPLE_DAY) if form else None
                except (NotFound, ValueError):
                    sample = None  # the lint reports the form
                if isinstance(sample, dict):
                    self.data.update(sample)
        for _, tree in self.bpmn:
            for variable in tree.iterfind(".//spiffworkflow:messageVariable", NS):
                if (variable.text or "").strip():
                    self.data[variable.text.strip()] = dict(MESSAGE_PAYLOAD)
            for variable in tree.iterfind(".//spiffworkflow:variableName", NS):
                if (variable.text or "").strip():
                    self.data[variable.text.strip()] = dict(MESSAGE_PAYLOAD)

    def _steps(self) -> Iterator[_Step]:
        for file_name, tree in self.bpmn:
            for node in tree.iter():
                if not isinstance(node.tag, str):
                    continue
                tag = etree.QName(node).localname
                text = (node.text or "").strip()
                if tag == "script" and etree.QName(node.getparent()).localname == "scriptTask" and text:
                    yield _Step(file_name, node.getparent(), "script", text)
                elif tag in ("preScript", "postScript") and text:
                    yield _Step(file_name, node, tag, text)
                elif tag == "businessRuleTask":
                    called = node.find(".//spiffworkflow:calledDecisionId", NS)
                    if called is not None and (called.text or "").strip():
                        yield _Step(file_name, node, "decision", called.text.strip())

    def _run_steps(self) -> list[str]:
        failed = [step for step in self._steps() if self._run(step)]
        return [problem for step in failed for problem in self._run(step)]  # tried again after the others

    def _run(self, step: _Step) -> list[str]:
        if step.kind == "decision":
            return self._decide(step)
        what = {"script": "脚本", "preScript": "前置脚本", "postScript": "后置脚本"}[step.kind]
        try:
            self.engine.environment.execute(step.text, self.data)
        except _NOT_THE_DIAGRAM as exc:
            log.info("dry run: %s not tried: %s", describe(step.element), exc)
        except Exception as exc:  # noqa: BLE001 - any failure of the diagram's code is reported
            return [f"{self._where(step.file_name, step.element)}：{what}用示例数据试运行失败：{self._reason(exc)}"]
        return []

    def _decide(self, step: _Step) -> list[str]:
        """A business rule task: its table's input expressions and every output entry must evaluate; each
        output joins the sample data with the first value that says something (not None, empty or False:
        later steps usually need the "included" answer), else the first rule's. A cell that fails does not
        keep the other outputs from the sample data (no follow-on failures)."""
        decision = self.decisions.get(step.text)
        table = decision.find("{*}decisionTable") if decision is not None else None
        if table is None:
            return []  # SpiffWorkflow's parser reports a missing decision
        where = f"{self._where(step.file_name, step.element)}：{describe_decision(decision)} "
        problems = []
        for column in table.findall("{*}input"):
            text = (column.findtext("{*}inputExpression/{*}text") or "").strip()
            failed = self._evaluate(text) if text else None
            if isinstance(failed, Exception):
                label = column.get("label") or text
                problems.append(f"{where}输入列 “{label}” 的表达式 “{_shown(text)}” 用示例数据求值失败："
                                f"{self._reason(failed)}")
        rules = table.findall("{*}rule")
        collect = (table.get("hitPolicy") or "UNIQUE").upper() == "COLLECT"
        for index, column in enumerate(table.findall("{*}output")):
            key = column.get("name") or column.get("label")
            values = []
            for number, rule in enumerate(rules, start=1):
                entries = rule.findall("{*}outputEntry")
                text = (entries[index].findtext("{*}text") or "").strip() if index < len(entries) else ""
                value = self._evaluate(text) if text else ""
                if isinstance(value, Exception):
                    problems.append(f"{where}{describe_rule(rule, number)} 输出列 “{key}” 的取值 "
                                    f"“{_shown(text)}” 用示例数据求值失败：{self._reason(value)}")
                elif value is not _SKIPPED:
                    values.append(value)
            if key:
                sample = next((v for v in values if v is not None and v is not False and v != ""),
                              values[0] if values else None)
                self.data[key] = [sample] if collect else sample
        return problems

    # checks

    def _conditions(self, file_name: str, tree: etree._ElementTree) -> list[str]:
        problems = []
        for node in tree.iterfind(".//bpmn:conditionExpression", NS):
            text = (node.text or "").strip()
            result = self._evaluate(text) if text else None
            if isinstance(result, Exception):
                problems.append(f"{self._where(file_name, node.getparent())}：条件 “{_shown(text)}” 用示例数据求值失败："
                                f"{self._reason(result)}")
        return problems

    def _timers(self, file_name: str, tree: etree._ElementTree) -> list[str]:
        problems = []
        for definition in tree.iterfind(".//bpmn:timerEventDefinition", NS):
            event = definition.getparent()
            for node in definition:
                kind = etree.QName(node).localname if isinstance(node.tag, str) else ""
                text = (node.text or "").strip()
                if kind not in TIMER_KINDS or not text:
                    continue
                result = self._evaluate(text)
                head = f"{self._where(file_name, event)}：定时器 {kind} “{_shown(text)}” "
                if isinstance(result, Exception):
                    problems.append(f"{head}用示例数据求值失败：{self._reason(result)}")
                elif result is not _SKIPPED and (reason := timer_value_problem(kind, result)):
                    problems.append(head + reason)
        return problems

    def _due_dates(self, file_name: str, tree: etree._ElementTree) -> list[str]:
        problems = []
        for task in tree.iterfind(".//bpmn:userTask", NS):
            text = (_property(task, DUE_PROPERTY) or "").strip()
            if not text:
                continue
            result = self._evaluate(text)
            head = f"{self._where(file_name, task)}：期限表达式（{DUE_PROPERTY}）“{_shown(text)}” "
            if isinstance(result, Exception):
                problems.append(f"{head}用示例数据求值失败：{self._reason(result)}")
            elif result is not _SKIPPED and (reason := due_value_problem(result)):
                problems.append(head + reason)
        return problems

    # helpers

    def _evaluate(self, expression: str) -> Any:
        """The value, the exception it raised, or _SKIPPED (holiday data missing)."""
        try:
            with time_limit():
                return self.engine.evaluate_plain(expression, self.data)
        except _NOT_THE_DIAGRAM as exc:
            log.info("dry run: %r not tried: %s", expression, exc)
            return _SKIPPED
        except Exception as exc:  # noqa: BLE001 - reported as a problem of the diagram
            return exc

    def _where(self, file_name: str, element: etree._Element) -> str:
        return describe(element) if file_name == self.main else f"{file_name} 中 {describe(element)}"

    def _reason(self, exc: BaseException) -> str:
        if isinstance(exc, NameError):
            missing = getattr(exc, "name", None)
            known = [*self.data, *self.engine.environment.globals]
            close = difflib.get_close_matches(missing, [k for k in known if not k.startswith("_")], n=1) \
                if missing else []
            said = f"名称“{missing}”未定义：流程数据中没有它，也不是可调用的函数" if missing else str(exc)
            return said + (f"（是否应为“{close[0]}”？）" if close else "")
        if isinstance(exc, KeyError):
            return f"没有键 {exc}"
        kind = ERROR_KINDS.get(type(exc).__name__, type(exc).__name__)
        return f"{kind}：{exc}"


ERROR_KINDS = {"TypeError": "类型不符", "ValueError": "取值无效", "ZeroDivisionError": "除数为零",
               "AttributeError": "没有该属性", "IndexError": "下标超出范围", "SyntaxError": "语法错误"}
"""How a diagram's code failing in a trial run is named to a policy editor (else by Python's own name)."""


_SKIPPED = object()


def timer_value_problem(kind: str, value: Any) -> str | None:
    """None if ``value`` is what a timer of ``kind`` (timeDate | timeDuration | timeCycle) needs, as
    SpiffWorkflow reads it; else the reason. Dates and datetimes count as their ISO text (the engine converts
    them)."""
    if isinstance(value, date | datetime):
        value = value.isoformat()
    expected = {
        "timeDate": "ISO 日期时间（如 “2026-10-01T00:00:00+08:00”）",
        "timeDuration": "ISO 8601 时长（如 “P5D”）",
        "timeCycle": "ISO 8601 重复周期（如 “R3/P1D”）",
    }[kind]
    wrong = f"的结果 {value!r} 不是 {expected}"
    if not isinstance(value, str) or not value.strip():
        return wrong
    text = value.strip()
    try:
        if kind == "timeDate":
            ok = isinstance(TimerEventDefinition.parse_time_or_duration(text), datetime)
        elif kind == "timeDuration":
            parsed = TimerEventDefinition.parse_iso_duration(text) if text.upper().startswith("P") else {}
            ok = bool(parsed) and TimerEventDefinition.get_timedelta_from_start(dict(parsed), SAMPLE_NOW) is not None
        else:
            ok = text.upper().startswith("R") and TimerEventDefinition.parse_iso_recurring_interval(text) is not None
    except Exception:  # noqa: BLE001 - SpiffWorkflow's parsers raise plain exceptions
        ok = False
    return None if ok else wrong


def due_value_problem(value: Any) -> str | None:
    """None if ``value`` is a usable due date (None, a date or datetime, ISO text), else the reason."""
    if value is None or isinstance(value, date | datetime):
        return None
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value.strip())
            return None
        except ValueError:
            pass
    return f"的结果 {value!r} 不是日期（应为 ISO 日期或日期时间，如 “2026-10-01T00:00:00+08:00”，或 None）"


def _property(task: etree._Element, name: str) -> str | None:
    node = task.find(f".//spiffworkflow:property[@name='{name}']", NS)
    return node.get("value") if node is not None else None


def _shown(source: str) -> str:
    return source if len(source) <= _SHOW else source[: _SHOW - 3] + "…"
