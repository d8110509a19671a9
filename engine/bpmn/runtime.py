"""Running workflows (流程运行): create, load and save a case's SpiffWorkflow instance (instance
state only; the spec is stored once per process version), run engine steps on the injected clock,
and find the timers a case waits for.

The stored state is compact: UTF-8 JSON without ``\\u`` escapes or spaces, a line per task (:func:`dump_state`),
compressed with zlib (the task tree of a finished identification repeats the same household data in every step;
compressed it is about an eighth). A finished task's stored line is kept with the task, so saving an instance
again encodes only the tasks that changed."""
from __future__ import annotations

import ast
import json
import threading
import time
import zlib
from collections.abc import Callable
from copy import copy
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.specs.defaults import InclusiveGateway
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent as _Catching
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.scripting import DiagramScriptEngine
from engine.bpmn.spec_cache import SPECS
from engine.core.clock import Clock, install_spiff_clock, using_clock
from engine.core.errors import FangpinError
from engine.core.models import ProcessVersion

install_spiff_clock()


_MEMO = "_fangpin_serialized"  # ((state, last change, children), dict, stored line) of a finished task, on the task
_MUTABLE = (dict, list, set)
STATE_FORMAT = "fangpin-state/2"  # the first line of a stored state in lines (a JSON document is the older form)


@dataclass(frozen=True)
class _StoredTask:
    """A task as its stored line holds it: the line, and the task's JSON in it (parsed when the task is restored)."""

    line: str
    text: str


class _TaskMaps:
    """The task maps of one :func:`dump_state`: each workflow's tasks are left out of the document (an empty map
    stands for them) and written one line per task, ``<workflow>\t<task id>\t<task JSON>`` (the workflow: empty
    for the main process, else the id of the task that called the subprocess); a finished task's line is made once
    and kept with the task. JSON never holds a raw tab or newline, so the lines split back exactly."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def mark(self, tasks: dict) -> dict:
        self.lines += [_task_line(task) for task in tasks.values()]
        return {}


_DUMPING = threading.local()  # .maps: the task maps of this thread's dump in progress


def _encode(value) -> str:
    return json.dumps(value, cls=INSTANCE_SERIALIZER._encoder_cls, ensure_ascii=False, separators=(",", ":"))


def _task_line(task) -> str:
    """A task's stored line: a finished task's made once and kept in :class:`HistoryTaskConverter`'s memo (its
    dict with the type name SpiffWorkflow's registry adds)."""
    finished = task.state & TaskState.FINISHED_MASK
    if finished:
        memo = getattr(task, _MEMO, None)
        if memo is not None and memo[2] is not None and memo[0] == _memo_key(task):
            return memo[2]
    dct = INSTANCE_SERIALIZER.registry.convert(task)
    owner = task.workflow.parent_task_id if task.workflow is not task.workflow.top_workflow else ""
    line = f"{owner or ''}\t{task.id}\t{_encode(dct)}"
    memo = getattr(task, _MEMO, None) if finished else None
    if memo is not None and memo[1] is dct:
        setattr(task, _MEMO, (memo[0], dct, line))
    return line


def _memo_key(task) -> tuple:
    return task.state, task.last_state_change, tuple(task._children)


class _TaskMapsOut:
    """Mixin of the workflow converters: while a dump is in progress, a workflow's task map is left out of the
    document and its tasks become lines (:class:`_TaskMaps`); a task map is restored task by task by :meth:`HistoryTaskConverter.restore_task` (no copy of each task's dict
    and no lookup of its type on the way)."""

    def mapping_to_dict(self, mapping, **kwargs):
        maps = getattr(_DUMPING, "maps", None)
        if maps is not None and mapping and isinstance(next(iter(mapping.values())), Task):
            return maps.mark(mapping)
        return super().mapping_to_dict(mapping, **kwargs)

    def mapping_from_dict(self, mapping, key_class=None, **kwargs):
        workflow = kwargs.get("workflow")
        if workflow is None or key_class is not UUID:
            return super().mapping_from_dict(mapping, key_class, **kwargs)
        ids = {key: UUID(key) for key in mapping}  # each id parsed once, shared by the task, its parent, its children
        restore = _task_converter(self.registry).restore_task
        return {ids[key]: restore(json.loads(dct.text), workflow, ids, dct.line) if isinstance(dct, _StoredTask)
                else restore(dct, workflow, ids) for key, dct in mapping.items()}


def _task_converter(registry) -> HistoryTaskConverter:
    return registry.convert_from_dict[registry.typenames[Task]].args[0].__self__


class InstanceOnlyConverter(_TaskMapsOut, BpmnWorkflowConverter):
    """Serializes a workflow without its spec and subprocess specs (those live in ProcessVersion)."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["spec_name"] = workflow.spec.name
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict, spec=None, subprocess_specs=None) -> BpmnWorkflow:
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class SubWorkflowConverter(_TaskMapsOut, BpmnSubWorkflowConverter):
    """SpiffWorkflow's subprocess converter, its tasks written and read as lines (:class:`_TaskMapsOut`)."""


class HistoryTaskConverter(TaskConverter):
    """SpiffWorkflow's task converter (task data as a delta against the parent's), remembering the form of each
    finished task — a finished task does not change — and restoring without a deep merge (the same copies
    SpiffWorkflow's merge into an empty dict makes, done directly)."""

    def to_dict(self, task) -> dict:
        if task.state & TaskState.FINISHED_MASK:
            memo = getattr(task, _MEMO, None)
            key = _memo_key(task)
            if memo is not None and memo[0] == key:
                return memo[1]
            dct = super().to_dict(task)
            setattr(task, _MEMO, (key, dct, None))
            return dct
        return super().to_dict(task)

    def from_dict(self, dct: dict, workflow) -> Task:
        return self.restore_task(dct, workflow, {})

    def restore_task(self, dct: dict, workflow, ids: dict[str, UUID], line: str | None = None) -> Task:
        """A task from its stored dict (with its ``typename`` or without), ``ids`` the parsed ids of its task map;
        ``line``: the stored line it came from (a finished task's is stored again as it is)."""
        restore = self.registry.restore
        task = self.target_class(workflow, workflow.spec.task_specs.get(dct["task_spec"]), state=dct["state"],
                                 id=ids.get(dct["id"]) or UUID(dct["id"]))
        parent = dct["parent"]
        task._parent = (ids.get(parent) or UUID(parent)) if parent is not None else None
        task._children = [ids.get(child) or UUID(child) for child in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        task.internal_data = _restored(restore, dct["internal_data"])
        if isinstance(task.task_spec, _Catching) and task.has_state(TaskState.WAITING):
            workflow.top_workflow.event_manager.add_task(task)
        delta = dct.get("delta")
        if delta and task.parent is not None:
            data = {k: (copy(v) if isinstance(v, _MUTABLE) else v) for k, v in task.parent.data.items()}
            data.update(_restored(restore, delta.get("updates", {})))
            for key in delta.get("deletions", ()):
                data.pop(key, None)
        else:
            data = _restored(restore, dct["data"])
        task.data = data
        if task.state & TaskState.FINISHED_MASK:  # saved again as it was read
            setattr(task, _MEMO, (_memo_key(task), dct, line))
        return task


_PLAIN = (str, int, float, bool, type(None))


def _restored(restore, value):
    """As SpiffWorkflow's registry restores parsed JSON (a dict with a ``typename`` becomes its object), without a
    call for each plain value."""
    kind = type(value)
    if kind is dict:
        if "typename" in value:
            return restore(value)
        return {k: v if type(v) in _PLAIN else _restored(restore, v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _PLAIN else _restored(restore, v) for v in value]
    return value if kind in _PLAIN else restore(value)


_config = dict(SPIFF_CONFIG)
_config[BpmnWorkflow] = InstanceOnlyConverter
_config[Task] = HistoryTaskConverter
_config[BpmnSubWorkflow] = SubWorkflowConverter
INSTANCE_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config))
STATE_COMPRESSION = 1  # zlib level: 1 is several times faster than 6 and within 10 % of its size here


def new_workflow(version: ProcessVersion, engine: DiagramScriptEngine, data: dict) -> BpmnWorkflow:
    spec, subprocess_specs = SPECS.get(version)
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=engine)
    workflow.data.update(data)
    workflow.task_tree.data.update(data)
    return workflow


def load_workflow(version: ProcessVersion, state: bytes, engine: DiagramScriptEngine) -> BpmnWorkflow:
    """An instance of ``version`` restored from its saved state (:func:`dump_state`, or the older single JSON
    document)."""
    spec, subprocess_specs = SPECS.get(version)
    dct = _stored_document(state, _StoredTask)
    dct.pop("serializer_version", None)
    workflow = INSTANCE_SERIALIZER.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)
    workflow.script_engine = engine
    return workflow


def dump_state(workflow: BpmnWorkflow) -> bytes:
    """The instance state to store, zlib-compressed UTF-8 (no ``\\u`` escapes): the line ``STATE_FORMAT``, the
    instance as a compact JSON document without its tasks, then a line per task (:class:`_TaskMaps`). A finished
    task's line is made once and kept with the task: saving again encodes only what changed."""
    registry = INSTANCE_SERIALIZER.registry
    registry._encoder_mode = True  # as SpiffWorkflow's serialize_json: the JSON encoder converts values
    _DUMPING.maps = maps = _TaskMaps()
    try:
        document = _encode(_document(workflow))
    finally:
        _DUMPING.maps = None
        registry._encoder_mode = False
    text = "\n".join((STATE_FORMAT, document, *maps.lines))
    return zlib.compress(text.encode("utf-8"), STATE_COMPRESSION)


def _document(workflow: BpmnWorkflow) -> dict:
    dct = INSTANCE_SERIALIZER.to_dict(workflow)
    dct[INSTANCE_SERIALIZER.VERSION_KEY] = INSTANCE_SERIALIZER.VERSION
    return dct


def state_document(state: bytes) -> dict:
    """The stored state as one JSON document, every task in its workflow's task map (for reading by people and
    migrations)."""
    return _stored_document(state, lambda line, text: json.loads(text))


def _stored_document(state: bytes, task: Callable[[str, str], object]) -> dict:
    """The document of a stored state, each task map filled with ``task(line, task JSON)`` of its lines."""
    text = zlib.decompress(state).decode("utf-8")
    if not text.startswith(STATE_FORMAT + "\n"):
        return json.loads(text)  # a state saved before states were stored in lines: tasks in the document
    _, document, *lines = text.split("\n")
    dct = json.loads(document)
    maps = {"": dct["tasks"], **{key: sub["tasks"] for key, sub in dct.get("subprocesses", {}).items()}}
    for line in lines:
        owner, task_id, task_text = line.split("\t", 2)
        maps[owner][task_id] = task(line, task_text)
    return dct


MAX_ENGINE_STEPS = 10_000  # automatic steps (scripts, gateways, events) in one advance of one instance
MAX_ENGINE_SECONDS = 10.0  # and their time: each script has its own limit, a loop of scripts has this one


class DiagramLoop(FangpinError):
    """The automatic steps of one advance did not come to a stop: a loop in the diagram without an exit."""


class NoBranchTaken(FangpinError):
    """An exclusive (or inclusive) gateway none of whose conditions held, and no default flow: the case cannot go
    on from it (SpiffWorkflow's "No conditions satisfied for …"). Raised instead, so that the step is refused
    and nothing of it saved."""


_NO_BRANCH = "No conditions satisfied"


def _no_branch_taken(exc: WorkflowException, workflow: BpmnWorkflow) -> NoBranchTaken | None:
    """The Chinese refusal for a gateway none of whose conditions held, naming the gateway (id and name), its
    conditions, the values they read and what to change; None for any other error."""
    if _NO_BRANCH not in str(exc) or getattr(exc, "task_spec", None) is None:
        return None
    spec = exc.task_spec
    task = getattr(exc, "task", None) or next(
        (t for t in workflow.get_tasks(state=TaskState.ERROR) if t.task_spec is spec), None)
    conditions = [condition.args[0] for condition, _ in getattr(spec, "cond_task_specs", ()) if condition is not None]
    kind = "包容网关" if isinstance(spec, InclusiveGateway) else "排他网关"
    name = f"（{spec.bpmn_name}）" if spec.bpmn_name else ""
    values = _values_read(conditions, task.data if task is not None else {})
    now = f"（此时 {values}）" if values else ""
    return NoBranchTaken(f"流程图中的{kind} '{spec.bpmn_id}'{name}的条件都不成立{now}，又没有默认流，案件无法继续，"
                         f"本次办理未保存。请政策管理员修改流程图：把网关的一条流出顺序流设为默认流（default），"
                         f"或修改条件（{'；'.join(conditions)}）使其覆盖这种情况")


_SHOWN = (str, int, float, bool, type(None))


def _values_read(conditions: list[str], data: dict) -> str:
    """``name = value`` for each plain value (text, number, yes/no) of the task data the conditions read by name,
    as the official entered it; records (a household's data) are not shown."""
    names: list[str] = []
    for condition in conditions:
        try:
            tree = ast.parse(condition.strip(), mode="eval")
        except SyntaxError:
            continue
        names += [n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in names
                  and isinstance(data.get(n.id, ()), _SHOWN)]
    return "，".join(f"{n} = {json.dumps(data[n], ensure_ascii=False)[:40]}" for n in names)


def advance(workflow: BpmnWorkflow, clock: Clock) -> list[tuple[object, datetime]]:
    """Fire every due timer and run automatic steps until the case waits for a person or a timer; a diagram
    that keeps running automatic steps is stopped (DiagramLoop, naming the last step) after
    MAX_ENGINE_STEPS steps or MAX_ENGINE_SECONDS, so that one case cannot hold a request or the scheduler; a
    gateway none of whose conditions hold is NoBranchTaken, naming it.
    A timer the steps started that is already due (a date in the past) fires in a second round. Returns the
    waiting timers then (as :func:`waiting_timers`)."""
    budget = _StepBudget()
    try:
        with using_clock(clock):
            workflow.refresh_timers()
            workflow.do_engine_steps(will_complete_task=budget.step)
            timers = waiting_timers(workflow)
            if any(due <= clock.now() for _, due in timers):
                workflow.refresh_timers()
                workflow.do_engine_steps(will_complete_task=budget.step)
                timers = waiting_timers(workflow)
    except WorkflowException as exc:
        refused = _no_branch_taken(exc, workflow)
        if refused is None:
            raise
        raise refused from exc
    return timers


class _StepBudget:
    def __init__(self) -> None:
        self.steps, self.deadline = 0, time.monotonic() + MAX_ENGINE_SECONDS

    def step(self, task) -> None:
        self.steps += 1
        if self.steps > MAX_ENGINE_STEPS or time.monotonic() > self.deadline:
            spec = task.task_spec
            name = getattr(spec, "bpmn_name", None)
            step = f"{getattr(spec, 'bpmn_id', None) or spec.name}" + (f"（{name}）" if name else "")
            raise DiagramLoop(f"流程在一次办理中自动执行了超过 {MAX_ENGINE_STEPS} 个步骤或 {MAX_ENGINE_SECONDS:g} 秒"
                              f"（最后一步：{step}），可能是流程图中的循环没有出口，已停止")


def waiting_timers(workflow: BpmnWorkflow) -> list[tuple[object, datetime]]:
    """``[(task, due_utc)]`` for every WAITING timer, in subprocesses and event gateways too, in the order of the
    task tree. Read from the tasks SpiffWorkflow's event manager keeps for the waiting catching events (a few),
    not by walking the whole task tree (hundreds, most of them finished)."""
    out = []
    for task in _waiting_catchers(workflow):
        definition = getattr(task.task_spec, "event_definition", None)
        if definition is None:
            continue
        defs = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
        for d in defs:
            raw = task.internal_data.get("event_value") if isinstance(d, TimerEventDefinition) else None
            if isinstance(d, CycleTimerEventDefinition) and isinstance(raw, dict):
                raw = raw["next"] if raw.get("cycles") != 0 else None
            if raw:
                out.append((task, TimerEventDefinition.get_datetime(raw)))
    return out


def _waiting_catchers(workflow: BpmnWorkflow) -> list:
    """The WAITING catching-event tasks of the instance, in task-tree order: those the event manager holds that are
    still waiting in a workflow of this instance (a deleted subprocess's are not)."""
    found = [t for t in workflow.event_manager.tasks.values() if t.state == TaskState.WAITING
             and isinstance(t.task_spec, CatchingEvent) and t.workflow.tasks.get(t.id) is t
             and (t.workflow is workflow or workflow.subprocesses.get(t.workflow.parent_task_id) is t.workflow)]
    return found if len(found) < 2 else _in_tree_order(workflow, found)


def _in_tree_order(workflow: BpmnWorkflow, tasks: list) -> list:
    """``tasks`` in the order SpiffWorkflow's task iterator visits them (depth first, subprocesses in place)."""
    wanted = {t.id for t in tasks}
    return [t for t in workflow.get_tasks(state=tasks[0].state) if t.id in wanted]


def ready_human_tasks(workflow: BpmnWorkflow) -> list:
    """The READY human (manual) tasks of the instance, in task-tree order, found in the flat task maps of the
    instance and its subprocesses rather than by walking the tree."""
    found = [t for wf in (workflow, *workflow.subprocesses.values()) for t in wf.tasks.values()
             if t.state == TaskState.READY and t.task_spec.manual]
    return found if len(found) < 2 else _in_tree_order(workflow, found)


def timer_label(task) -> str:
    """The name of the timer a waiting task stands for (for an event-based gateway: its timer branch)."""
    spec = task.task_spec
    definition = getattr(spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        timer = next((d for d in definition.event_definitions if isinstance(d, TimerEventDefinition)), None)
        if timer is not None and timer.name:
            return timer.name
    return spec.bpmn_name or spec.bpmn_id or spec.name


def next_wakeup(workflow: BpmnWorkflow) -> datetime | None:
    dues = [due for _, due in waiting_timers(workflow)]
    return min(dues) if dues else None

