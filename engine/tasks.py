"""Human tasks (人工任务): the projection table kept in step with each case's workflow, and task lists
that read only that table."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from .case_functions import CaseContext
from .db import db
from .deadlines import record_deadline
from .models import Case, HumanTask, Jurisdiction
from .roles import role_for_lane
from .runtime import ready_human_tasks
from .scripting import DiagramScriptEngine
from .validation import DUE_PROPERTY, FORM_PROPERTY


def sync_tasks(ctx: CaseContext, workflow, engine: DiagramScriptEngine, now: datetime) -> list[HumanTask]:
    """Bring the projection of the case in line with its workflow; return the newly ready tasks."""
    case = ctx.case
    rows = {r.task_uuid: r for r in db.session.scalars(select(HumanTask).filter_by(case_id=case.id, state="READY"))}
    ready = {str(t.id): t for t in ready_human_tasks(workflow)}
    for uid, row in rows.items():
        if uid not in ready:
            task = workflow.get_task_from_id(_uuid(uid))
            row.state = TaskState.get_name(task.state) if task is not None else "CANCELLED"
    created = []
    for uid, task in ready.items():
        if uid not in rows:
            ctx.deadlines.clear()
            row = _project(case, task, engine, now)
            db.session.add(row)
            if row.due_at is not None:
                db.session.flush()
                record_deadline(case.id, "task", row.name, row.due_at, ctx.deadlines, now, task_id=row.id)
            created.append(row)
    return created


def _uuid(value: str):
    from uuid import UUID

    return UUID(value)


def _project(case: Case, task, engine: DiagramScriptEngine, now: datetime) -> HumanTask:
    spec = task.task_spec
    properties = spec.extensions.get("properties", {})
    role = role_for_lane(spec.lane)
    jurisdiction = (role and case.jurisdiction.ancestor_at(role.level)) or case.jurisdiction
    due = properties.get(DUE_PROPERTY)
    due_at = datetime.fromisoformat(engine.evaluate_plain(due, task.data)) if due else None
    return HumanTask(
        case_id=case.id, task_uuid=str(task.id), bpmn_id=spec.bpmn_id, name=spec.bpmn_name or spec.bpmn_id,
        role=role.key if role else None, jurisdiction_id=jurisdiction.id, jurisdiction_path=jurisdiction.path,
        state="READY", form=properties.get(FORM_PROPERTY), created_at=now, due_at=due_at,
    )


@dataclass(frozen=True)
class TaskView:
    """A line of a task list."""

    id: int
    case_id: int
    case_number: str
    household: str
    village: str
    step: str
    role: str | None
    form: str | None
    created_at: datetime
    due_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()}


def list_ready(role: str | None, jurisdiction: Jurisdiction, limit: int = 100, offset: int = 0) -> list[TaskView]:
    """Ready tasks of ``role`` (all roles if None) in ``jurisdiction`` and below, most urgent first."""
    query = (
        select(HumanTask)
        .where(HumanTask.state == "READY", HumanTask.jurisdiction_path.startswith(jurisdiction.path))
        .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at, HumanTask.id)
        .limit(limit)
        .offset(offset)
    )
    if role is not None:
        query = query.where(HumanTask.role == role)
    return [_view(row) for row in db.session.scalars(query)]


def _view(row: HumanTask) -> TaskView:
    case = row.case
    head = case.household.head
    return TaskView(
        id=row.id, case_id=case.id, case_number=case.number or str(case.id),
        household=f"{case.household.number} {head.name if head else ''}".strip(),
        village=case.jurisdiction.name, step=row.name, role=row.role, form=row.form,
        created_at=row.created_at, due_at=row.due_at,
    )


def tasks_of_case(case_id: int) -> list[HumanTask]:
    return list(db.session.scalars(select(HumanTask).filter_by(case_id=case_id).order_by(HumanTask.id)))
