"""Trying a diagram before deploying it (流程试运行): run a draft in memory against a scenario — form inputs
for its steps and moves of the clock — and report the path taken and the dates computed. Nothing is stored;
the diagram calls the stand-ins of engine.library.stand_ins."""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.bpmn.forms import validate_form
from engine.bpmn.runtime import NoBranchTaken, advance, ready_human_tasks, timer_label, waiting_timers
from engine.bpmn.scripting import DiagramScriptEngine
from engine.bpmn.source import DiagramSource, bundle_for
from engine.bpmn.validation import DUE_PROPERTY, FORM_PROPERTY
from engine.core.clock import FixedClock
from engine.core.errors import FormInvalid
from engine.library.catalogue import with_library
from engine.library.rules import parse_bundle
from engine.library.stand_ins import ScenarioError, Trace, stand_ins
from timers.calendar import CHINA_TZ as CST

EVENT_KINDS = {"ready": "待办", "done": "办理", "timer_set": "定时", "timer": "触发", "clock": "时钟", "call": "调用",
               "end": "办结", "waiting": "停在"}
WEEKDAYS = "一二三四五六日"


def run_scenario(sources: list[DiagramSource], main_file: str, process_id: str, scenario: dict[str, Any]) -> Trace:
    """Run ``process_id`` of ``main_file`` (with the other ``sources`` for called processes) through ``scenario``:
    ``{"start": ISO time, "data": {...start data...}, "monitoring_line": yuan, "steps": [{"complete": step name,
    "data": {...}} | {"advance_to": ISO time} | {"message": name, "payload": {...}}]}``."""
    main = next((s for s in sources if s.file_name == main_file), None)
    if main is None:
        raise ScenarioError(f"没有文件 {main_file}")
    spec, subprocess_specs = parse_bundle(bundle_for(main, sources), process_id)
    clock = FixedClock(datetime.fromisoformat(scenario["start"]))
    trace = Trace()
    engine = DiagramScriptEngine(stand_ins(trace, clock, scenario))
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=engine)
    workflow.task_tree.data.update(scenario.get("data", {}))
    seen: set[str] = set()
    _run_step(0, lambda: None, workflow, engine, clock, trace, seen)
    for number, step in enumerate(scenario.get("steps", []), start=1):
        if "complete" in step:
            action = functools.partial(_complete, workflow, step, number, clock, trace)
        elif "advance_to" in step:
            action = functools.partial(_move_clock, clock, trace, step["advance_to"])
        else:
            raise ScenarioError(f"第 {number} 步：应为 complete 或 advance_to")
        _run_step(number, action, workflow, engine, clock, trace, seen)
    trace.add("end" if workflow.is_completed() else "waiting", "办结" if workflow.is_completed() else "未办结",
              clock.now())
    return trace


def _run_step(number: int, action: Callable[[], None], workflow: BpmnWorkflow, engine: DiagramScriptEngine,
              clock: FixedClock, trace: Trace, seen: set) -> None:
    """One step and what the engine does after it; an error in a script, an expression or a decision table
    of the diagram is reported as the step's, naming the element."""
    try:
        action()
        _step(workflow, engine, clock, trace, seen)
    except (SpiffWorkflowException, NoBranchTaken) as exc:
        cause = exc.__cause__ if isinstance(exc.__cause__, ScenarioError) else None
        where = f"第 {number} 步之后" if number else "开始时"
        raise ScenarioError(f"{where}：{cause or exc}") from exc


def _move_clock(clock: FixedClock, trace: Trace, moment: str) -> None:
    clock.set(datetime.fromisoformat(moment))
    trace.add("clock", "时间来到", clock.now())


def _complete(workflow: BpmnWorkflow, step: dict[str, Any], number: int, clock: FixedClock, trace: Trace) -> None:
    ready = {t.task_spec.bpmn_name: t for t in ready_human_tasks(workflow)}
    task = ready.get(step["complete"])
    if task is None:
        raise ScenarioError(f"第 {number} 步：“{step['complete']}”现在不可办理；可办理的是：{'、'.join(ready) or '无'}")
    form = task.task_spec.extensions.get("properties", {}).get(FORM_PROPERTY)
    data = step.get("data", {})
    if form:
        try:
            validate_form(form, data)
        except FormInvalid as exc:  # a scenario's data is written by field name: its editor reads the names too
            raise FormInvalid(exc.form, [(field, f"{field}：{reason}" if field else reason)
                                         for field, reason in exc.errors], exc.title) from exc
    task.set_data(**data)
    task.run()
    trace.add("done", step["complete"], clock.now())


def _step(workflow: BpmnWorkflow, engine: DiagramScriptEngine, clock: FixedClock, trace: Trace, seen: set) -> None:
    before = {str(t.id): timer_label(t) for t, due in waiting_timers(workflow) if due <= clock.now()}
    advance(workflow, clock)
    for uid, name in before.items():
        trace.add("timer", name, clock.now())
        seen.add(uid)
    for task, due in waiting_timers(workflow):
        if str(task.id) not in seen:
            seen.add(str(task.id))
            trace.add("timer_set", timer_label(task), clock.now(), due=due.astimezone(CST).isoformat())
    for task in ready_human_tasks(workflow):
        if str(task.id) not in seen:
            seen.add(str(task.id))
            expression = task.task_spec.extensions.get("properties", {}).get(DUE_PROPERTY)
            due = _due(engine, task, expression) if expression else None
            trace.add("ready", task.task_spec.bpmn_name, clock.now(), lane=task.task_spec.lane, due=due)


def _due(engine: DiagramScriptEngine, task: Any, expression: str) -> Any:
    """The due date of a ready step, computed from the scenario's data; a value the data lacks or cannot give is
    said as the step's (ScenarioError), never a server error."""
    try:
        return engine.evaluate_plain(expression, task.data)
    except NameError as exc:
        problem = f"场景数据中没有 {exc.name}（请在场景的 data 中给出）"
    except Exception as exc:  # noqa: BLE001 - whatever the scenario's values make of the expression
        problem = f"{type(exc).__name__}：{exc}"
    raise ScenarioError(f"“{task.task_spec.bpmn_name}”（{task.task_spec.bpmn_id}）的期限 {expression} 无法计算：{problem}")


def try_draft(draft_content: bytes, file_name: str, scenario: dict[str, Any]) -> Trace:
    """Run a saved draft (with the other files as last deployed, for what it calls) through ``scenario``. A
    decision table draft is tried inside the procedure the scenario names (``process_file``, e.g.
    ``identification.bpmn``), in place of the deployed table."""
    library, main, process_id = tried_in(DiagramSource(file_name, draft_content), scenario)
    return run_scenario(library, main.file_name, process_id, scenario)


def tried_in(draft: DiagramSource, scenario: dict[str, Any]) -> tuple[list[DiagramSource], DiagramSource, str]:
    """Where ``draft`` is tried with ``scenario``: the library with the draft in it, the main file (the draft, or
    for a decision table the ``process_file`` calling it) and its process; ScenarioError when there is none."""
    library = with_library(draft)
    main = draft
    if draft.is_dmn:
        wanted = scenario.get("process_file")
        main = next((s for s in library if s.file_name == wanted), None)
        if main is None:
            raise ScenarioError(f"试运行决策表需要在场景中用 process_file 指明调用它的流程图（如 identification.bpmn），"
                                f"{wanted or '未指明'}不在流程图库中")
        if draft not in bundle_for(main, library):
            raise ScenarioError(f"{wanted} 没有调用决策表 {'、'.join(draft.decision_ids())}")
    ids = main.process_ids()
    if not ids:
        raise ScenarioError(f"{main.file_name} 没有可执行的流程")
    return library, main, ids[0]


# -- the trace as officials read it ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TraceRow:
    """One event of a trial run as shown: its time ("2026-10-09 09:00"), what happened (待办、办理、调用 …), the
    step (a call by the step's name, not the function's), its due date ("2026-10-09（周五）"), the lane; the ISO
    moments kept for machines (``at_iso``, ``due_iso``) and the function called (``function``)."""

    at: str
    at_iso: str
    kind: str
    step: str
    due: str = ""
    due_iso: str = ""
    lane: str = ""
    function: str = ""


def day_text(day: date) -> str:
    """A date as officials read it: 2026-10-09（周五）."""
    return f"{day.isoformat()}（周{WEEKDAYS[day.weekday()]}）"


def moment_text(moment: datetime) -> str:
    """A moment in Beijing time, to the minute: 2026-10-09 09:00."""
    return f"{moment.astimezone(CST):%Y-%m-%d %H:%M}"


def due_text(value: Any) -> str:
    """A due date or deadline as officials read it: a deadline at midnight ends the day before (截止当日24时) and
    reads as that day, 2026-10-09（周五）; one at another time reads to the minute; a date as the date; anything
    else as it is."""
    if value is None or value == "":
        return ""
    text = str(value)
    try:
        if len(text) == 10:
            return day_text(date.fromisoformat(text))
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CST)
    local = moment.astimezone(CST)
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        return day_text((local - timedelta(days=1)).date())
    return moment_text(local)


def readable(trace: Trace) -> list[TraceRow]:
    """The events of ``trace`` as officials read them (:class:`TraceRow`)."""
    rows = []
    for event in trace.events:
        call = event["kind"] == "call"
        due = event.get("due")
        rows.append(TraceRow(
            at=moment_text(datetime.fromisoformat(event["at"])), at_iso=event["at"],
            kind=EVENT_KINDS.get(event["kind"], event["kind"]),
            step=(event.get("label") or event["name"]) if call else event["name"],
            due=due_text(due), due_iso=str(due) if due else "", lane=event.get("lane") or "",
            function=event["name"] if call else ""))
    return rows
