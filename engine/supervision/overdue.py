"""Overdue tasks and cases (逾期): what passed its deadline, by jurisdiction (and everything below it),
procedure and step, with days overdue. Marking (with an audit entry) is done once per item by the sweep."""
from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, literal_column, null, select, union_all, update

from engine.core import audit
from engine.core.db import db, fixed
from engine.core.models import Case, Household, HumanTask, Jurisdiction, Member
from engine.core.vocabulary import OverdueKind
from timers.calendar import to_local_date


def days_overdue(due_at: datetime, now: datetime) -> int:
    """Whole days past the deadline, counted in China Standard Time: due at 24:00 of 10-05 → 1 on 10-06."""
    return (to_local_date(now) - to_local_date(due_at)).days + 1 if now >= due_at else 0


@dataclass(frozen=True)
class OverdueItem:
    kind: str  # OverdueKind: a task past its due date, or a case past its overall limit
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
READY_MARKED = "INDEXED BY ix_task_overdue"
LIMIT = 50  # items in one list: the most overdue first; the rest is reached by drilling down or filtering


def _bounds(path: str) -> dict[str, str]:
    """The parameters of :func:`_within`: the place paths at or below ``path``, as engine.core.db.within compares
    them (a range, which an index serves on both databases)."""
    return {"place_lo": path, "place_hi": path[:-1] + chr(ord(path[-1]) + 1)}


def _within(column):
    return and_(column >= bindparam("place_lo"), column < bindparam("place_hi"))


# The statements below are built once per process for each combination of filters, their values sent as parameters
# (building a statement and its cache key costs more than running it on its index); each reads its partial index,
# ordered by due date and id, so that a first page stops after its LIMIT entries however much is overdue.

@functools.cache
def _task_page(procedure: bool, step: bool):
    """The first ``limit`` overdue ready tasks, most overdue first, with what a line shows (one statement: the
    page of ids from the index, then its cases, households and heads)."""
    page = (select(HumanTask.id).with_hint(HumanTask, READY_DUE, "sqlite")
            .where(HumanTask.state == READY, HumanTask.due_at < bindparam("now"), _within(HumanTask.jurisdiction_path)))
    if procedure:
        page = page.where(HumanTask.procedure == bindparam("procedure"))
    if step:
        page = page.where(HumanTask.name == bindparam("step"))
    page = page.order_by(HumanTask.due_at, HumanTask.id).limit(bindparam("limit")).subquery("page")
    return (select(literal_column(f"'{OverdueKind.TASK}'"), HumanTask.id, HumanTask.case_id, Case.number, Case.procedure,
                   HumanTask.name, Household.number, _head(), Case.subject, HumanTask.jurisdiction_path,
                   HumanTask.role, HumanTask.due_at)
            .select_from(page).join(HumanTask, HumanTask.id == page.c.id).join(Case, Case.id == HumanTask.case_id)
            .outerjoin(Household, Household.id == Case.household_id))


@functools.cache
def _case_page(procedure: bool, label: bool):
    """The first ``limit`` running cases past their overall limit, as :func:`_task_page` (the same columns)."""
    page = (select(Case.id).with_hint(Case, RUNNING_DUE, "sqlite")
            .where(Case.status == RUNNING, Case.due_at < bindparam("now"), Case.deadline_met_at.is_(None),
                   _within(Case.jurisdiction_path)))
    if procedure:
        page = page.where(Case.procedure == bindparam("procedure"))
    if label:
        page = page.where(Case.deadline_label == bindparam("label"))
    page = page.order_by(Case.due_at, Case.id).limit(bindparam("limit")).subquery("page")
    return (select(literal_column(f"'{OverdueKind.CASE}'"), Case.id, Case.id.label("case_id"), Case.number, Case.procedure,
                   Case.deadline_label, Household.number, _head(), Case.subject, Case.jurisdiction_path, null(),
                   Case.due_at)
            .select_from(page).join(Case, Case.id == page.c.id)
            .outerjoin(Household, Household.id == Case.household_id))


def _head():
    """The name of the household's head (or its first member): None for a case about a place."""
    return (select(Member.name).where(Member.household_id == Household.id)
            .order_by(Member.relation_to_head != "户主", Member.position, Member.id).limit(1).scalar_subquery())


@functools.cache
def _both_pages(procedure: bool, step: bool, label: bool):
    """The tasks' page and the cases' page in one statement."""
    return union_all(_task_page(procedure, step), _case_page(procedure, label))


def _items(statement, values: dict[str, Any], now: datetime) -> list[OverdueItem]:
    """The lines the page statement(s) give, each kind most overdue first (then by id), with their places' full
    names (read in one more statement)."""
    rows = db.session.execute(statement, values).all()
    names = place_names(row[9] for row in rows)
    items = [OverdueItem(kind, item_id, case_id, number or "", procedure, step or "",
                         (f"{household} {head or ''}".strip() if household else (subject or "")), names[path], path,
                         role, _utc(due), days_overdue(_utc(due), now))
             for kind, item_id, case_id, number, procedure, step, household, head, subject, path, role, due in rows]
    return sorted(items, key=lambda i: (i.kind, i.due_at, i.id))


def _values(jurisdiction: Jurisdiction, now: datetime, limit: int, **filters: str | None) -> dict[str, Any]:
    return {**_bounds(jurisdiction.path), "now": now, "limit": limit, **{k: v for k, v in filters.items() if v}}


def overdue_tasks(jurisdiction: Jurisdiction, now: datetime, procedure: str | None = None,
                  step: str | None = None, limit: int = LIMIT) -> list[OverdueItem]:
    """Ready tasks past their due date in ``jurisdiction`` and below, most overdue first (at most ``limit``)."""
    return _items(_task_page(bool(procedure), bool(step)),
                  _values(jurisdiction, now, limit, procedure=procedure, step=step), now)


def overdue_cases(jurisdiction: Jurisdiction, now: datetime, procedure: str | None = None,
                  label: str | None = None, limit: int = LIMIT) -> list[OverdueItem]:
    """Running cases past their overall limit (e.g. 15 days, named ``label``) that have not met it, most overdue
    first."""
    return _items(_case_page(bool(procedure), bool(label)),
                  _values(jurisdiction, now, limit, procedure=procedure, label=label), now)


def overdue_items(jurisdiction: Jurisdiction, now: datetime, procedure: str | None = None, step: str | None = None,
                  label: str | None = None, limit: int = LIMIT) -> tuple[list[OverdueItem], list[OverdueItem]]:
    """(:func:`overdue_tasks` of ``step``, :func:`overdue_cases` of ``label``) in one statement."""
    items = _items(_both_pages(bool(procedure), bool(step), bool(label)),
                   _values(jurisdiction, now, limit, procedure=procedure, step=step, label=label), now)
    return [i for i in items if i.kind == OverdueKind.TASK], [i for i in items if i.kind == OverdueKind.CASE]


@dataclass(frozen=True)
class OverdueGroup:
    """How many items of one kind, procedure and step are overdue in one place (the place holding them)."""

    kind: str
    jurisdiction_path: str
    procedure: str
    step: str
    count: int
    earliest_due: datetime


UNMARKED_CAP = 1000  # overdue tasks not yet marked by the sweep, counted in the overview's statement (else again)


@functools.cache
def _groups_statement(unmarked_capped: bool = True):
    """Overdue tasks and cases counted by place, procedure and step, each part read from an index alone, as rows
    (part, place path, procedure, step, count, earliest due date):

    - "marked": the tasks the sweep has marked (almost all of them: a sweep every 30 s), from an index in the order
      of the groups: counted as they are read, with no hashing or sorting of every row;
    - "unmarked": those it has not marked yet (fallen due since its last run), the first UNMARKED_CAP of them by due
      date (``unmarked_capped``; else all): read in due order (SQLite: from the sweep's own index; PostgreSQL, which
      takes every task due long ago for one not yet marked, cannot mistake them for many and plan for that), to be
      counted again, uncapped, when there are more (before the sweep's first run, or after the scheduler was down);
    - OverdueKind.CASE: running cases past their overall limit, from their index.

    The same group may come from both parts of the tasks (:func:`overdue_groups` adds them up)."""
    def grouped(part: str, rows):
        return (select(literal_column(f"'{part}'"), rows.c.jurisdiction_path, rows.c.procedure, rows.c.name,
                       func.count(), func.min(rows.c.due_at))
                .group_by(rows.c.jurisdiction_path, rows.c.procedure, rows.c.name))
    marked = (select(literal_column("'marked'"), HumanTask.jurisdiction_path, HumanTask.procedure, HumanTask.name,
                     func.count(), func.min(HumanTask.due_at))
              .with_hint(HumanTask, READY_MARKED, "sqlite")
              .where(HumanTask.state == READY, HumanTask.overdue_since.is_not(None),
                     HumanTask.due_at < bindparam("now"), _within(HumanTask.jurisdiction_path))
              .group_by(HumanTask.jurisdiction_path, HumanTask.procedure, HumanTask.name))
    unmarked = (select(HumanTask.jurisdiction_path, HumanTask.procedure, HumanTask.name, HumanTask.due_at)
                .with_hint(HumanTask, READY_NEWLY_DUE, "sqlite")
                .where(HumanTask.state == READY, HumanTask.overdue_since.is_(None),
                       HumanTask.due_at < bindparam("now"), _within(HumanTask.jurisdiction_path)))
    if unmarked_capped:
        unmarked = unmarked.order_by(HumanTask.due_at).limit(bindparam("cap"))
    unmarked = unmarked.subquery("unmarked")
    if not unmarked_capped:
        return grouped("unmarked", unmarked)
    cases = (select(literal_column(f"'{OverdueKind.CASE}'"), Case.jurisdiction_path, Case.procedure, Case.deadline_label, func.count(),
                    func.min(Case.due_at))
             .with_hint(Case, RUNNING_DUE, "sqlite")
             .where(Case.status == RUNNING, Case.due_at < bindparam("now"), Case.deadline_met_at.is_(None),
                    _within(Case.jurisdiction_path))
             .group_by(Case.jurisdiction_path, Case.procedure, Case.deadline_label))
    return union_all(marked, grouped("unmarked", unmarked), cases)


def overdue_groups(jurisdiction: Jurisdiction, now: datetime) -> list[OverdueGroup]:
    """Everything overdue at or below ``jurisdiction``, counted by place, procedure and step, in one statement
    whatever the number of items (:func:`_groups_statement`; two when the sweep has not marked more than
    UNMARKED_CAP of them): the counts, per-place totals and worst item of an overview come from them."""
    values = {**_bounds(jurisdiction.path), "now": now, "cap": UNMARKED_CAP}
    rows = db.session.execute(_groups_statement(), values).all()
    if sum(n for part, *_, n, _ in rows if part == "unmarked") >= UNMARKED_CAP:  # perhaps more: all of them
        rows = [row for row in rows if row[0] != "unmarked"]
        rows += db.session.execute(_groups_statement(unmarked_capped=False), values).all()
    groups: dict[tuple[str, str, str, str], tuple[int, datetime]] = {}
    for part, path, procedure, step, n, due in rows:
        key, due = (OverdueKind.CASE if part == OverdueKind.CASE else OverdueKind.TASK, path, procedure, step or ""), _utc(due)
        if key in groups:
            n, due = n + groups[key][0], min(due, groups[key][1])
        groups[key] = n, due
    return [OverdueGroup(*key, n, due) for key, (n, due) in groups.items()]


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
              and (g.kind == OverdueKind.CASE or not step or g.step == step)]
    tasks, cases = overdue_items(jurisdiction, now, procedure, step, limit=limit)
    return OverdueListing(cases, tasks, sum(g.count for g in groups if g.kind == OverdueKind.CASE),
                          sum(g.count for g in groups if g.kind == OverdueKind.TASK), counts_by_child(jurisdiction, groups))


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
