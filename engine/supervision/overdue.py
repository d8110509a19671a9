"""Overdue tasks and cases (逾期): what passed its deadline, by jurisdiction (and everything below it),
procedure and step, with days overdue. Marking (with an audit entry) is done once per item by the sweep."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from engine.core import audit
from engine.core.db import db
from engine.core.models import Case, HumanTask, Jurisdiction
from timers.calendar import to_local_date


def days_overdue(due_at: datetime, now: datetime) -> int:
    """Whole days past the deadline, counted in China Standard Time: due at 24:00 of 10-05 → 1 on 10-06."""
    return (to_local_date(now) - to_local_date(due_at)).days + 1 if now >= due_at else 0


@dataclass(frozen=True)
class OverdueItem:
    kind: str  # "task" | "case"
    id: int
    case_id: int
    case_number: str
    procedure: str
    step: str
    household: str
    jurisdiction: str
    jurisdiction_path: str
    role: str | None
    due_at: datetime
    days_overdue: int

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()}


def overdue_tasks(jurisdiction: Jurisdiction, now: datetime, procedure: str | None = None,
                  step: str | None = None) -> list[OverdueItem]:
    """Ready tasks past their due date in ``jurisdiction`` and below, most overdue first."""
    query = (select(HumanTask).join(HumanTask.case)
             .where(HumanTask.state == "READY", HumanTask.due_at < now,
                    HumanTask.jurisdiction_path.startswith(jurisdiction.path))
             .order_by(HumanTask.due_at))
    if procedure:
        query = query.where(Case.procedure == procedure)
    if step:
        query = query.where(HumanTask.name == step)
    return [_task_item(row, now) for row in db.session.scalars(query)]


def overdue_cases(jurisdiction: Jurisdiction, now: datetime, procedure: str | None = None) -> list[OverdueItem]:
    """Running cases past their overall limit (e.g. 15 days) that have not met it."""
    query = (select(Case).where(Case.status == "running", Case.due_at < now, Case.deadline_met_at.is_(None),
                                Case.jurisdiction_path.startswith(jurisdiction.path))
             .order_by(Case.due_at))
    if procedure:
        query = query.where(Case.procedure == procedure)
    return [_case_item(case, now) for case in db.session.scalars(query)]


def _household(case: Case) -> str:
    head = case.household.head
    return f"{case.household.number} {head.name if head else ''}".strip()


def _task_item(row: HumanTask, now: datetime) -> OverdueItem:
    case = row.case
    return OverdueItem("task", row.id, case.id, case.number or "", case.procedure, row.name, _household(case),
                       row.jurisdiction.full_name, row.jurisdiction_path, row.role, row.due_at,
                       days_overdue(row.due_at, now))


def _case_item(case: Case, now: datetime) -> OverdueItem:
    return OverdueItem("case", case.id, case.id, case.number or "", case.procedure, case.deadline_label or "",
                       _household(case), case.jurisdiction.full_name, case.jurisdiction_path, None, case.due_at,
                       days_overdue(case.due_at, now))


def counts_by_child(jurisdiction: Jurisdiction, items: list[OverdueItem]) -> dict[str, int]:
    """How many overdue items lie in each jurisdiction directly below ``jurisdiction`` (drill-down)."""
    depth = jurisdiction.path.count("/")
    counter: Counter[str] = Counter()
    for item in items:
        parts = item.jurisdiction_path.strip("/").split("/")
        counter[parts[depth - 1] if len(parts) >= depth else parts[-1]] += 1
    codes = db.session.scalars(select(Jurisdiction).where(Jurisdiction.code.in_(list(counter))))
    names = {j.code: j.name for j in codes}
    return {names.get(code, code): n for code, n in counter.most_common()}


def mark_overdue(now: datetime, actor: str = "system") -> int:
    """Stamp tasks and cases that became overdue (once each) and write the audit entries."""
    tasks = db.session.execute(
        update(HumanTask).where(HumanTask.state == "READY", HumanTask.due_at < now, HumanTask.overdue_since.is_(None))
        .values(overdue_since=HumanTask.due_at).returning(HumanTask.id, HumanTask.case_id, HumanTask.name)
        .execution_options(synchronize_session=False)
    ).all()
    cases = db.session.execute(
        update(Case).where(Case.status == "running", Case.due_at < now, Case.deadline_met_at.is_(None),
                           Case.overdue_since.is_(None))
        .values(overdue_since=Case.due_at).returning(Case.id, Case.deadline_label)
        .execution_options(synchronize_session=False)
    ).all()
    for task_id, case_id, name in tasks:
        audit.record(now, actor, "task_overdue", case_id=case_id, task_id=task_id, step=name)
    for case_id, label in cases:
        audit.record(now, actor, "case_overdue", case_id=case_id, deadline=label)
    db.session.commit()
    return len(tasks) + len(cases)
