"""Moving a running case to another version of its diagram (流程版本迁移).

A case keeps the version it was started on. A policy editor may move a running case to another deployed
version of the same procedure when the case's state fits the target diagram:

* every open step (READY, WAITING or STARTED task of the workflow and of its called processes) exists in
  the target, under the same id, and still behaves the same way (same kind of element, same event, same
  called process; an open join keeps its incoming branches);
* every step already done exists in the target too: the stored instance refers to its steps by id, so a
  case whose history contains a deleted step cannot be restored on the target (refused, not guessed);
* every called process running or run for the case exists in the target's bundle.

SpiffWorkflow 3.2.0 ships diff helpers (``SpiffWorkflow.bpmn.util.diff``) whose ``migrate_workflow`` resets
every READY/WAITING task (new task ids, timers recomputed, the step's data reloaded from its parent). Here
the open steps are kept as they are — same task ids (the task list and deadlines refer to them), same
timer due dates, same data — and only the predicted steps after them are dropped and predicted again from
the target diagram: the instance state (engine.bpmn.runtime's instance-only serialization) is restored with
the target version's specs, then each open step whose children were all predictions re-predicts them.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from uuid import UUID

from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine.bpmn.runtime import INSTANCE_SERIALIZER, dump_state, next_wakeup, state_document
from engine.bpmn.spec_cache import SPEC_SERIALIZER, SPECS
from engine.cases.functions import CaseContext, case_workflow
from engine.cases.tasks import project_task
from engine.core import audit
from engine.core.clock import Clock
from engine.core.db import db, fetch
from engine.core.errors import RuleViolation
from engine.core.models import Case, HumanTask, ProcessVersion
from engine.core.transaction import transaction

log = logging.getLogger(__name__)

OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED
PREDICTED = TaskState.PREDICTED_MASK | TaskState.FUTURE
BEHAVIOUR = ("typename", "event_definition", "spec")  # serialized attributes that change how an open step acts


@dataclass(frozen=True)
class OpenStep:
    """An open step of the case: READY, WAITING or STARTED, in the main process or a called one."""

    process: str
    element: str
    name: str
    state: str


@dataclass
class MigrationCheck:
    """Could the case move to ``target``? ``problems`` says why not (empty: it could)."""

    case: Case
    target: ProcessVersion
    open_steps: list[OpenStep] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def possible(self) -> bool:
        return not self.problems


def _label(task) -> str:
    spec = task.task_spec
    element = spec.bpmn_id or spec.name
    return f"'{element}'" + (f"（{spec.bpmn_name}）" if spec.bpmn_name else "")


def _version(version_id: int) -> ProcessVersion:
    return fetch(ProcessVersion, version_id, "流程版本")


def _case(case_id: int) -> Case:
    return fetch(Case, case_id, "案件")


def _basic_problems(case: Case, target: ProcessVersion) -> list[str]:
    source = case.process_version
    if case.status != "running":
        return [f"案件 {case.number} 已办结，不能迁移"]
    if target.process_key != source.process_key:
        return [f"目标 {target.process_key} v{target.version} 不是案件所用流程 {source.process_key} 的版本"]
    if target.id == source.id:
        return [f"案件 {case.number} 已在使用 {source.process_key} v{source.version}"]
    return []


def _workflows(workflow) -> list:
    return [workflow, *workflow.subprocesses.values()]


def _prunable(wf) -> list:
    """Open tasks whose children are all predictions: those children are predicted again on the target."""
    return [t for t in wf.tasks.values() if t.has_state(OPEN) and all(c.has_state(PREDICTED) for c in t.children)]


def _dropped(wf) -> set:
    """Ids of the predicted tasks below the prunable open tasks (not carried over to the target)."""
    ids = set()
    for task in _prunable(wf):
        for child in task.children:
            ids.update(t.id for t in child)
    return ids


def _changed(old_spec, new_spec) -> list[str]:
    old, new = SPEC_SERIALIZER.registry.convert(old_spec), SPEC_SERIALIZER.registry.convert(new_spec)
    changed = [key for key in BEHAVIOUR if old.get(key) != new.get(key)]
    if isinstance(old_spec, Join) and sorted(old.get("inputs", [])) != sorted(new.get("inputs", [])):
        changed.append("inputs")
    return changed


CHANGE_NAMES = {"typename": "元素类型", "event_definition": "事件定义（定时/消息）", "spec": "调用的流程",
                "inputs": "汇合的分支"}


def _check_workflow(wf, target_spec, check: MigrationCheck) -> None:
    process = wf.spec.name
    dropped = _dropped(wf)
    for task in wf.tasks.values():
        if task.id in dropped:
            continue
        new_spec = target_spec.task_specs.get(task.task_spec.name)
        if task.has_state(OPEN):
            check.open_steps.append(OpenStep(process, task.task_spec.bpmn_id or task.task_spec.name,
                                             task.task_spec.bpmn_name or "", TaskState.get_name(task.state)))
            if new_spec is None:
                check.problems.append(f"流程 {process} 当前步骤 {_label(task)} 在目标版本中不存在")
            else:
                changes = [CHANGE_NAMES[c] for c in _changed(task.task_spec, new_spec)]
                if changes:
                    check.problems.append(f"流程 {process} 当前步骤 {_label(task)} 在目标版本中改变了"
                                          + "、".join(changes))
        elif new_spec is None:
            kind = "已办步骤" if task.has_state(TaskState.FINISHED_MASK) else "后续步骤"
            check.problems.append(f"流程 {process} {kind} {_label(task)} 在目标版本中不存在（案件记录引用该步骤）")


def _check(case: Case, target: ProcessVersion, workflow) -> MigrationCheck:
    check = MigrationCheck(case, target, problems=_basic_problems(case, target))
    if check.problems:
        return check
    spec, subprocess_specs = SPECS.get(target)
    _check_workflow(workflow, spec, check)
    for sub_id, sub in workflow.subprocesses.items():
        target_sub = subprocess_specs.get(sub.spec.name)
        if target_sub is None:
            check.problems.append(f"案件运行过的被调用流程 {sub.spec.name} 不在目标版本中")
            continue
        _check_caller(workflow.get_task_from_id(sub_id), sub, spec, subprocess_specs, check)
        _check_workflow(sub, target_sub, check)
    return check


def _check_caller(caller, sub, spec, subprocess_specs: dict, check: MigrationCheck) -> None:
    """The call activity that ran ``sub`` must call the same process in the target (the instance is
    restored through it)."""
    owner = spec if caller.workflow.parent_workflow is None else subprocess_specs.get(caller.workflow.spec.name)
    new_caller = owner.task_specs.get(caller.task_spec.name) if owner is not None else None
    if new_caller is not None and getattr(new_caller, "spec", None) != sub.spec.name:
        check.problems.append(f"调用活动 {_label(caller)} 在目标版本中不再调用流程 {sub.spec.name}")


def _engine(case: Case, actor: str, clock: Clock):
    return CaseContext(case, actor, clock).script_engine()


def check_migration(case_id: int, target_version_id: int, clock: Clock) -> MigrationCheck:
    """迁移检查: may the running case move to the target version (of the same procedure)? Changes nothing."""
    case, target = _case(case_id), _version(target_version_id)
    if _basic_problems(case, target):
        return MigrationCheck(case, target, problems=_basic_problems(case, target))
    return _check(case, target, case_workflow(case, _engine(case, "system", clock)))


def _moved(workflow, target: ProcessVersion, engine):
    """The instance restored on the target's specs, open steps kept, predictions made again."""
    for wf in _workflows(workflow):
        for task in _prunable(wf):
            for child in list(task.children):
                wf._remove_task(child.id)
    dct = state_document(dump_state(workflow))
    dct.pop("serializer_version", None)
    spec, subprocess_specs = SPECS.get(target)
    moved = INSTANCE_SERIALIZER.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)
    moved.script_engine = engine
    for wf in _workflows(moved):
        for task in [t for t in wf.tasks.values() if t.has_state(OPEN) and not t.children]:
            task.task_spec._predict(task, mask=PREDICTED | task.state)
        if wf.last_task is not None and wf.last_task.id not in wf.tasks:
            wf.last_task = None
    return moved


def _reproject(case: Case, workflow, engine, clock: Clock) -> None:
    """The open human tasks take the target's step names, forms, roles and marks (publicStage, ledgerStep; ids
    and deadlines stay)."""
    for row in db.session.scalars(select(HumanTask).filter_by(case_id=case.id, state="READY")):
        task = workflow.get_task_from_id(UUID(row.task_uuid))
        if task is None or isinstance(task.task_spec, SubWorkflowTask):
            continue
        fresh = project_task(case, task, engine, clock.now())
        row.bpmn_id, row.name, row.form = fresh.bpmn_id, fresh.name, fresh.form
        row.public_stage, row.ledger_step = fresh.public_stage, fresh.ledger_step
        row.role, row.jurisdiction_id, row.jurisdiction_path = fresh.role, fresh.jurisdiction_id, fresh.jurisdiction_path


def migrate_case(case_id: int, target_version_id: int, actor: str, clock: Clock) -> MigrationCheck:
    """迁移: move the running case to the target version if the check allows it (audited); RuleViolation
    naming every obstacle otherwise. One transaction."""
    with transaction():
        case, target = _case(case_id), _version(target_version_id)
        if case.status != "running":
            raise RuleViolation("；".join(_basic_problems(case, target)))
        engine = _engine(case, actor, clock)
        workflow = case_workflow(case, engine)
        check = _check(case, target, workflow)
        if not check.possible:
            raise RuleViolation(f"案件 {case.number} 不能迁移到 {target.process_key} v{target.version}："
                                + "；".join(check.problems))
        source = case.process_version
        moved = _moved(workflow, target, engine)
        case.process_version = target
        case.state = dump_state(moved)
        case.next_wakeup_at = next_wakeup(moved)
        _reproject(case, moved, engine, clock)
        audit.record(clock.now(), actor, "case_migrated", case_id=case.id, process=target.process_key,
                     from_version=source.version, to_version=target.version,
                     open_steps=[f"{s.process}:{s.element}" for s in check.open_steps])
        log.info("case %s moved from %s v%s to v%s", case.number, source.process_key, source.version, target.version)
    return check
