"""A case being run (办理中的案件): its workflow instance — the live one kept by this process, or rebuilt from the
stored state — with the diagram functions bound to the acting official and the clock, and what the instance
looked like before this run (its ready human tasks and waiting timers, which the stored projection and
deadlines already show), so that saving writes only what changed, without reading the projection back."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from SpiffWorkflow.bpmn import BpmnWorkflow

from engine.bpmn.runtime import advance, load_workflow, new_workflow, ready_human_tasks, waiting_timers
from engine.bpmn.scripting import DiagramScriptEngine
from engine.cases.functions import CaseContext
from engine.cases.live import live_instances
from engine.core.clock import Clock
from engine.core.models import Case, HumanTask, ProcessVersion

START_POLICY = "policy"  # start data: the procedure's parameters in force when the case opened (engine.cases.lifecycle)


@dataclass
class CaseRun:
    ctx: CaseContext
    engine: DiagramScriptEngine
    workflow: BpmnWorkflow
    ready_before: frozenset[str] = field(default_factory=frozenset)  # task ids with a READY projection row
    timers_before: frozenset[str] = field(default_factory=frozenset)  # timer task ids with a recorded deadline
    settled: set[str] = field(default_factory=set)  # task ids whose projection row the caller updated itself
    timers: list | None = None  # the waiting timers as the last advance left them (None: not advanced since)
    done: list[tuple[HumanTask, dict]] = field(default_factory=list)  # tasks completed by this run, and their values

    def advance(self, clock: Clock) -> None:
        """Run the instance on (:func:`engine.bpmn.runtime.advance`), keeping the waiting timers it leaves."""
        self.timers = advance(self.workflow, clock)

    @property
    def case(self) -> Case:
        return self.ctx.case


def run_case(case: Case, actor: str, clock: Clock) -> CaseRun:
    """Take up ``case`` to run it in this transaction."""
    ctx = CaseContext(case, actor, clock)
    engine = ctx.script_engine()
    workflow = live_instances().take(case)
    if workflow is None:
        workflow = load_workflow(case.process_version, case.state, engine)
    else:
        workflow.script_engine = engine
    ctx.start_policy = workflow.data.get(START_POLICY) or {}
    return CaseRun(ctx, engine, workflow, frozenset(str(t.id) for t in ready_human_tasks(workflow)),
                   frozenset(str(t.id) for t, _ in waiting_timers(workflow)))


@contextlib.contextmanager
def viewed_workflow(case: Case, clock: Clock) -> Iterator[BpmnWorkflow]:
    """The case's instance to read, not to run (a task page, the case page): the live one this process keeps, or
    rebuilt from the stored state; kept afterwards, so that the step whose page an official reads is then done
    on it instead of being rebuilt again. Nothing read from it may be changed: copy what is kept."""
    cache = live_instances()
    engine = CaseContext(case, "system", clock).script_engine()
    workflow = cache.take(case)
    if workflow is None:
        workflow = load_workflow(case.process_version, case.state, engine)
    else:
        workflow.script_engine = engine
    yield workflow
    cache.keep_unless_newer(case, workflow)


def start_run(case: Case, version: ProcessVersion, actor: str, clock: Clock, data: dict) -> CaseRun:
    """A new instance of ``version`` for a case being opened."""
    ctx = CaseContext(case, actor, clock, start_policy=data.get(START_POLICY) or {})
    engine = ctx.script_engine()
    return CaseRun(ctx, engine, new_workflow(version, engine, data))
