"""Overdue tasks and cases (逾期): what passed its deadline, by jurisdiction (and everything below it),
procedure and step, with days overdue. Marking (with an audit entry) is done once per item by the sweep."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from engine.core import audit
from engine.core.db import db, fixed, within
from engine.core.models import Case, Household, HumanTask, Jurisdiction
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


READY, RUNNING = fixed("READY"), fixed("running")  # the conditions of the partial indexes on due dates
READY_DUE, RUNNING_DUE = "INDEXED BY ix_task_ready_due", "INDEXED BY ix_case_running_due"  # (engine.core.db)
READY_NEWLY_DUE, RUNNING_NEWLY_DUE = "INDEXED BY ix_task_newly_due", "INDEXED BY ix_case_newly_due"
LIMIT = 50  # items in one list: the most overdue first; the rest is reached by drilling down or filtering


def overdue_tasks(jurisdiction: Jurisdiction, now: datetime, procedure: str | None = None,
                  step: str | None = None, limit: int = LIMIT) -> list[OverdueItem]:
    """Ready tasks past their due date in ``jurisdiction`` and below, most overdue first (at most ``limit``)."""
    query = _overdue_task_rows(jurisdiction, now, procedure, step).order_by(HumanTask.due_at, HumanTask.id)
    rows = list(db.session.scalars(query.limit(limit).options(
        joinedload(HumanTask.case).joinedload(Case.household).selectinload(Household.members))))
    names = place_names(row.jurisdiction_path for row in rows)
    return [_task_item(row, names, now) for row in rows]


def overdue_cases(jurisdiction: Jurisdiction, now: datetime, procedure: str | None = None,
                  label: str | None = None, limit: int = LIMIT) -> list[OverdueItem]:
    """Running cases past their overall limit (e.g. 15 days, named ``label``) that have not met it, most overdue
    first."""
    query = _overdue_case_rows(jurisdiction, now, procedure).order_by(Case.due_at, Case.id)
    if label:
        query = query.where(Case.deadline_label == label)
    cases = list(db.session.scalars(query.limit(limit).options(
        joinedload(Case.household).selectinload(Household.members))))
    names = place_names(case.jurisdiction_path for case in cases)
    return [_case_item(case, names, now) for case in cases]


def _overdue_task_rows(jurisdiction: Jurisdiction, now: datetime, procedure: str | None, step: str | None):
    query = select(HumanTask).with_hint(HumanTask, READY_DUE, "sqlite").where(
        HumanTask.state == READY, HumanTask.due_at < now, within(HumanTask.jurisdiction_path, jurisdiction.path))
    if procedure:
        query = query.where(HumanTask.procedure == procedure)
    if step:
        query = query.where(HumanTask.name == step)
    return query


def _overdue_case_rows(jurisdiction: Jurisdiction, now: datetime, procedure: str | None):
    query = select(Case).with_hint(Case, RUNNING_DUE, "sqlite").where(
        Case.status == RUNNING, Case.due_at < now, Case.deadline_met_at.is_(None),
        within(Case.jurisdiction_path, jurisdiction.path))
    return query.where(Case.procedure == procedure) if procedure else query


@dataclass(frozen=True)
class OverdueGroup:
    """How many items of one kind, procedure and step are overdue in one place (the place holding them)."""

    kind: str
    jurisdiction_path: str
    procedure: str
    step: str
    count: int
    earliest_due: datetime


def overdue_groups(jurisdiction: Jurisdiction, now: datetime) -> list[OverdueGroup]:
    """Everything overdue at or below ``jurisdiction``, counted by place, procedure and step: two grouped queries,
    whatever the number of items (the counts, per-place totals and worst item of an overview come from them); the
    tasks' one is answered from an index alone."""
    tasks = (select(HumanTask.jurisdiction_path, HumanTask.procedure, HumanTask.name, func.count(),
                    func.min(HumanTask.due_at))
             .with_hint(HumanTask, READY_DUE, "sqlite")  # covers every column read: no row is fetched
             .where(HumanTask.state == READY, HumanTask.due_at < now,
                    within(HumanTask.jurisdiction_path, jurisdiction.path))
             .group_by(HumanTask.jurisdiction_path, HumanTask.procedure, HumanTask.name))
    cases = (select(Case.jurisdiction_path, Case.procedure, Case.deadline_label, func.count(), func.min(Case.due_at))
             .with_hint(Case, RUNNING_DUE, "sqlite").where(Case.status == RUNNING, Case.due_at < now, Case.deadline_met_at.is_(None),
                    within(Case.jurisdiction_path, jurisdiction.path))
             .group_by(Case.jurisdiction_path, Case.procedure, Case.deadline_label))
    return [OverdueGroup(kind, path, procedure, step or "", n, _utc(due))
            for kind, query in (("task", tasks), ("case", cases))
            for path, procedure, step, n, due in db.session.execute(query)]


def _utc(value) -> datetime:
    """min() of a date-time column comes back as text on SQLite: read it as the column would."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def place_names(paths) -> dict[str, str]:
    """The full name of each place path ("/36/3607/…/"), reading every place they pass through in one query."""
    paths = set(paths)
    codes = {code for path in paths for code in path.strip("/").split("/")}
    query = select(Jurisdiction.code, Jurisdiction.name).where(Jurisdiction.code.in_(codes))
    names = {code: name for code, name in db.session.execute(query)} if codes else {}
    return {path: "".join(names.get(code, code) for code in path.strip("/").split("/")) for path in paths}


def _household(case: Case) -> str:
    """The household's number and head, or what a case about a place is about (a warning batch)."""
    if case.household is None:
        return case.subject or ""
    head = case.household.head
    return f"{case.household.number} {head.name if head else ''}".strip()


def _task_item(row: HumanTask, names: dict[str, str], now: datetime) -> OverdueItem:
    case = row.case
    return OverdueItem("task", row.id, case.id, case.number or "", case.procedure, row.name, _household(case),
                       names[row.jurisdiction_path], row.jurisdiction_path, row.role, row.due_at,
                       days_overdue(row.due_at, now))


def _case_item(case: Case, names: dict[str, str], now: datetime) -> OverdueItem:
    return OverdueItem("case", case.id, case.id, case.number or "", case.procedure, case.deadline_label or "",
                       _household(case), names[case.jurisdiction_path], case.jurisdiction_path, None, case.due_at,
                       days_overdue(case.due_at, now))


def counts_by_child(jurisdiction: Jurisdiction, groups: list[OverdueGroup]) -> dict[str, int]:
    """How many overdue items lie in each jurisdiction directly below ``jurisdiction`` (drill-down), by name."""
    depth = jurisdiction.path.count("/")
    counter: Counter[str] = Counter()
    for group in groups:
        parts = group.jurisdiction_path.strip("/").split("/")
        counter[parts[depth - 1] if len(parts) >= depth else parts[-1]] += group.count
    codes = db.session.scalars(select(Jurisdiction).where(Jurisdiction.code.in_(list(counter))))
    names = {j.code: j.name for j in codes}
    return {names.get(code, code): n for code, n in counter.most_common()}


@dataclass(frozen=True)
class OverdueListing:
    """What the API and the command line show: the most overdue cases and tasks (a case's overall limit is not a
    step: listed whatever the step), how many there are in all, and how many in each place below."""

    cases: list[OverdueItem]
    tasks: list[OverdueItem]
    total_cases: int
    total_tasks: int
    by_child: dict[str, int]


def overdue_listing(jurisdiction: Jurisdiction, now: datetime, procedure: str | None = None,
                    step: str | None = None, limit: int = LIMIT) -> OverdueListing:
    groups = [g for g in overdue_groups(jurisdiction, now) if (not procedure or g.procedure == procedure)
              and (g.kind == "case" or not step or g.step == step)]
    return OverdueListing(
        overdue_cases(jurisdiction, now, procedure, limit=limit), overdue_tasks(jurisdiction, now, procedure, step, limit),
        sum(g.count for g in groups if g.kind == "case"), sum(g.count for g in groups if g.kind == "task"),
        counts_by_child(jurisdiction, groups))


def mark_overdue(now: datetime, actor: str = "system") -> int:
    """Stamp tasks and cases that became overdue (once each) and write the audit entries."""
    tasks = db.session.execute(
        update(HumanTask).with_hint(READY_NEWLY_DUE, dialect_name="sqlite").where(HumanTask.state == READY, HumanTask.due_at < now, HumanTask.overdue_since.is_(None))
        .values(overdue_since=HumanTask.due_at).returning(HumanTask.id, HumanTask.case_id, HumanTask.name)
        .execution_options(synchronize_session=False)
    ).all()
    cases = db.session.execute(
        update(Case).with_hint(RUNNING_NEWLY_DUE, dialect_name="sqlite").where(Case.status == RUNNING, Case.due_at < now, Case.deadline_met_at.is_(None),
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
