"""Deadlines of a case (期限): kept with the explanation and calendar data version they were computed with."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from engine.core import audit
from engine.core.db import db, within
from engine.core.models import Case, CaseDeadline, HumanTask
from timers.calendar import Deadline
from timers.functions import explain


def new_deadline(case_id: int, subject: str, label: str, due_at: datetime, computed: list[Deadline],
                 now: datetime, task: HumanTask | None = None, timer_uuid: str | None = None) -> CaseDeadline:
    """A deadline row, not yet written (:func:`engine.core.writes.insert_rows`), of ``task`` if it is a task's (a
    row perhaps not written yet either); its explanation comes from the computation that produced ``due_at``."""
    match = next((d for d in reversed(computed) if d.due_at == due_at), None)
    return CaseDeadline(
        case_id=case_id, subject=subject, label=label, due_at=due_at, task=task, timer_uuid=timer_uuid,
        explanation=match.explanation if match else "",
        data_version=match.data_version if match else "", provisional=bool(match and match.provisional),
        created_at=now, kind=match.kind if match else None, start_on=match.start if match else None,
        amount=match.amount if match else None, extended=bool(match and match.extended),
    )


def deadlines_of_case(case_id: int) -> list[CaseDeadline]:
    return list(db.session.scalars(select(CaseDeadline).filter_by(case_id=case_id).order_by(CaseDeadline.id)))


_TASK_DEADLINE = (select(CaseDeadline).where(CaseDeadline.subject == "task", CaseDeadline.task_id == bindparam("task_id"))
                  .order_by(CaseDeadline.id.desc()).limit(1))  # built once (engine.core.reads)


def task_deadline(task_id: int) -> CaseDeadline | None:
    """The deadline computed for a task (the latest, with its explanation), if it has one."""
    return db.session.scalar(_TASK_DEADLINE, {"task_id": task_id})


def mark_fired(fired: list[tuple[int, str, datetime]]) -> None:
    """Timers fired: ``(case id, timer task id, when)``; their deadlines keep the moment, so that how late each
    fired can be read. One statement for them all."""
    if fired:
        table = CaseDeadline.__table__
        db.session.execute(update(table).where(
            table.c.case_id == bindparam("fired_case"), table.c.timer_uuid == bindparam("fired_timer"),
            table.c.fired_at.is_(None)).values(fired_at=bindparam("fired_on")),
            [{"fired_case": case_id, "fired_timer": uuid, "fired_on": at} for case_id, uuid, at in fired])


# -- provisional deadlines (暂定期限): computed again once next year's holiday arrangement is loaded ---------------


@dataclass(frozen=True)
class ProvisionalDeadline:
    """A provisional deadline still running: of a ready task, of a case whose overall limit is not met yet, or of a
    timer waiting. A timer's moment is kept in its case's workflow and is not computed again here (``by_hand``)."""

    deadline: CaseDeadline
    case_number: str
    place: str
    by_hand: bool


def _running_provisional(path: str):
    """The provisional deadlines still running in the cases at or below ``path`` (the latest of each task)."""
    later = aliased(CaseDeadline)
    superseded = exists().where(later.task_id == CaseDeadline.task_id, later.id > CaseDeadline.id)
    running_task = and_(CaseDeadline.subject == "task", HumanTask.state == "READY", ~superseded)
    running_case = and_(CaseDeadline.subject == "case", Case.deadline_met_at.is_(None),
                        Case.due_at == CaseDeadline.due_at)
    waiting_timer = and_(CaseDeadline.subject == "timer", CaseDeadline.fired_at.is_(None))
    return (select(CaseDeadline, Case.number, Case.jurisdiction_path, HumanTask.overdue_since, Case.overdue_since)
            .join(Case, Case.id == CaseDeadline.case_id)
            .outerjoin(HumanTask, HumanTask.id == CaseDeadline.task_id)
            .where(CaseDeadline.provisional.is_(True), Case.status == "running", within(Case.jurisdiction_path, path),
                   or_(running_task, running_case, waiting_timer))
            .order_by(CaseDeadline.due_at, CaseDeadline.id))


def provisional_deadlines(path: str, limit: int = 200) -> tuple[int, list[ProvisionalDeadline]]:
    """How many provisional deadlines are running at or below ``path``, and the first ``limit`` of them (soonest
    first), with their case numbers; two statements."""
    query = _running_provisional(path)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.execute(query.limit(limit)).all()
    return total, [ProvisionalDeadline(row[0], row[1], row[2], _by_hand(row[0])) for row in rows]


def _by_hand(deadline: CaseDeadline) -> bool:
    return deadline.subject == "timer" or deadline.kind is None or deadline.start_on is None


@dataclass(frozen=True)
class Recomputed:
    """What :func:`recompute_provisional` did."""

    moved: int  # a different last day
    settled: int  # the same day, no longer provisional
    still_provisional: int  # the data it needs is still missing
    by_hand: int  # a timer's, or computed before the calendar kept how: to check by hand

    def summary(self) -> str:
        return (f"重新计算暂定期限：{self.moved} 个期限改变了截止日，{self.settled} 个截止日不变、不再暂定，"
                f"{self.still_provisional} 个仍为暂定（所需年份的节假日数据仍未加载），"
                f"{self.by_hand} 个（计时器或早期计算的期限）需人工核对")


def recompute_provisional(path: str, actor: str, now: datetime) -> Recomputed:
    """Compute again, with the calendar as it is now, every provisional deadline running at or below ``path``: the
    deadline row, and the ready task's or the case's due moment with it (an overdue mark is lifted when the new
    moment is still ahead). Each change is audited with both moments. Inside the caller's transaction."""
    moved = settled = still = by_hand = 0
    deadline_rows, task_rows, case_rows = [], [], []
    for deadline, _, _, task_overdue, case_overdue in db.session.execute(_running_provisional(path)).all():
        if _by_hand(deadline):
            by_hand += 1
            continue
        new = explain(deadline.kind, deadline.start_on, deadline.amount, extend_over_holidays=deadline.extended)
        if new.provisional:
            still += 1
        elif new.due_at == deadline.due_at:
            settled += 1
        else:
            moved += 1
        if (new.due_at, new.provisional, new.data_version) == (deadline.due_at, deadline.provisional,
                                                                deadline.data_version):
            continue
        deadline_rows.append({"row_id": deadline.id, "due": new.due_at, "text": new.explanation,
                              "version": new.data_version, "provisional": new.provisional})
        if new.due_at != deadline.due_at:  # the task's or the case's own moment moves with it
            overdue = task_overdue if deadline.subject == "task" else case_overdue
            due = {"row_id": deadline.task_id if deadline.subject == "task" else deadline.case_id, "due": new.due_at,
                   "overdue": None if new.due_at > now or overdue is None else new.due_at}
            (task_rows if deadline.subject == "task" else case_rows).append(due)
            audit.record(now, actor, "deadline_recomputed", case_id=deadline.case_id, task_id=deadline.task_id,
                         label=deadline.label, before=deadline.due_at, after=new.due_at,
                         data_version=new.data_version)
    _write_recomputed(deadline_rows, task_rows, case_rows)
    return Recomputed(moved, settled, still, by_hand)


def _write_recomputed(deadline_rows: list[dict], task_rows: list[dict], case_rows: list[dict]) -> None:
    """One statement per kind of row."""
    key = bindparam("row_id")
    if deadline_rows:
        db.session.execute(update(CaseDeadline.__table__).where(CaseDeadline.__table__.c.id == key).values(
            due_at=bindparam("due"), explanation=bindparam("text"), data_version=bindparam("version"),
            provisional=bindparam("provisional")), deadline_rows)
    if task_rows:
        table = HumanTask.__table__
        db.session.execute(update(table).where(table.c.id == key).values(
            due_at=bindparam("due"), sort_due=bindparam("due"), overdue_since=bindparam("overdue")), task_rows)
    if case_rows:
        table = Case.__table__
        db.session.execute(update(table).where(table.c.id == key).values(
            due_at=bindparam("due"), overdue_since=bindparam("overdue")), case_rows)
