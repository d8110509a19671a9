"""Where a case stands on its diagram (流程图进度): the steps done and the steps open now, as BPMN
element ids of the case's main diagram (a step inside a called process shows on its call activity)."""
from __future__ import annotations

from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.util.task import TaskState

from engine.cases.runs import viewed_workflow
from engine.core.clock import SystemClock
from engine.core.db import db
from engine.core.models import Case, DiagramFile

OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def diagram_markers(case: Case) -> dict[str, list[str]]:
    """``{"completed": [...], "current": [...]}`` element ids of the main process."""
    completed, current = set(), set()
    with viewed_workflow(case, SystemClock()) as workflow:
        for task in workflow.tasks.values():  # the main process only: call activities stand for their insides
            bpmn_id = task.task_spec.bpmn_id
            if bpmn_id is None:
                continue
            if task.state == TaskState.COMPLETED:
                completed.add(bpmn_id)
            elif task.state & OPEN and not isinstance(task.task_spec, UnstructuredJoin):
                current.add(bpmn_id)  # (a join waiting for the other branches is no step to do)
    return {"completed": sorted(completed - current), "current": sorted(current)}


def main_diagram(case: Case) -> tuple[str, bytes]:
    """The file name and the bytes (exactly as deployed) of the case's main diagram."""
    main = case.process_version.files[0]
    return main["file_name"], db.session.get(DiagramFile, main["sha256"]).content
